// Package mongomem is an in-process MongoDB stand-in for tests: a server on
// loopback that speaks the wire protocol to the official Go driver, keeps
// users in memory and authenticates them with real SCRAM, and answers the
// commands the rotation engine (internal/mongodb, internal/rotation) sends,
// nothing else. It exists because FerretDB logins cost tens of milliseconds
// of CPU on the test machines (DESIGN.md §4), too slow for a test that must
// outrun Key Vault's throttling; a mongomem login costs a fraction of one.
// It is not a database: there are no collections and no documents.
//
// # Wire protocol
//
// Messages are read, parsed and built by internal/wiremsg, with the driver's
// own go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage and
// x/bsonx/bsoncore packages: OP_MSG (body section; document sequences are
// read and ignored; a checksum is accepted and not verified; moreToCome
// requests get no reply), and OP_QUERY on "<db>.$cmd" answered with OP_REPLY,
// which the driver still uses for the first hello of every connection's
// handshake. Any other opcode (OP_COMPRESSED among them: hello offers no
// compression) closes the connection.
//
// # Commands
//
//   - hello, isMaster/ismaster: a standalone mongod, as the manual's "hello"
//     page lists the fields (https://www.mongodb.com/docs/manual/reference/command/hello/):
//     isWritablePrimary (ismaster for the legacy name), maxBsonObjectSize
//     16 MiB, maxMessageSizeBytes 48,000,000, maxWriteBatchSize 100,000,
//     localTime, logicalSessionTimeoutMinutes 30, connectionId,
//     minWireVersion 0, maxWireVersion 21 (MongoDB 7.0), readOnly false,
//     helloOk when asked; saslSupportedMechs "<db>.<user>" lists the user's
//     mechanisms; speculativeAuthenticate runs the saslStart it carries and
//     embeds its reply (a failure is silent, as the authentication spec says).
//     No topologyVersion is sent, so the driver polls instead of streaming.
//   - saslStart, saslContinue: SCRAM-SHA-1 and SCRAM-SHA-256 with the server
//     side of github.com/xdg-go/scram (the library the driver's client side
//     uses). Replies are SaslReply {conversationId: 1, done, payload: BinData}
//     as src/mongo/db/auth/sasl_commands.idl in mongodb/mongo declares it;
//     options.skipEmptyExchange ends the conversation with the server's final
//     message, without it one more empty exchange follows. A wrong password
//     or an unknown user is {ok: 0, code: 18, codeName: "AuthenticationFailed",
//     errmsg: "Authentication failed."}; another mechanism is 334
//     MechanismUnavailable. SCRAM-SHA-1 keys derive from MongoDB's password
//     digest hex(md5("<user>:mongo:<password>")), SCRAM-SHA-256 keys from the
//     SASLprepped password. The iteration count is Options.Iterations,
//     4,096 by default: the least the driver accepts (a real server defaults
//     to 10,000 and 15,000 and refuses under 5,000).
//   - connectionStatus: {authInfo: {authenticatedUsers, authenticatedUserRoles,
//     authenticatedUserPrivileges (with showPrivileges)}}, the shape of
//     src/mongo/db/commands/connection_status.cpp; privileges are merged per
//     resource; roles lists the directly granted roles only.
//   - usersInfo: 1, "name", {user, db}, an array of those, or {forAllDBs:
//     true} on admin; the reply is {users: [{_id: "<db>.<user>", userId
//     (UUID), user, db, roles, mechanisms}]} as the manual's usersInfo output
//     shows, with credentials only for showCredentials: true. A user may
//     always look itself up; others need viewUser on the user's database.
//   - createUser (roles required; mechanisms default to both), updateUser
//     (pwd, mechanisms, roles: a new password without mechanisms gets
//     credentials for both, mechanisms alone must be a subset of the user's),
//     createRole (privileges and inherited roles). writeConcern, maxTimeMS,
//     lsid and the other generic arguments are accepted and ignored.
//   - ping, endSessions: ok.
//   - anything else: {ok: 0, code: 59, codeName: "CommandNotFound",
//     errmsg: "no such command: '<name>'"}.
//
// # Authorization
//
// Commands other than hello, SASL, ping, endSessions and connectionStatus
// need an authenticated connection and the privileges the server checks:
// changePassword on the user's database to change a password (or
// changeOwnPassword for one's own), createUser, createRole, viewUser,
// grantRole and revokeRole (roles in updateUser). Failing that the answer is
// code 13 Unauthorized. Until the first user exists, createUser needs no
// authentication (the localhost exception). The built-in roles known are
// root (simplified to anyAction on anyResource), userAdminAnyDatabase,
// userAdmin, read and readWrite, with the user-administration actions the
// manual's "Built-In Roles" page lists; other built-in roles are unknown
// (createUser answers 31 RoleNotFound).
//
// # Not simulated
//
// Replica sets, sharding, write concerns (w: "majority" is accepted on a
// standalone, as mongod does), sessions and transactions beyond accepting
// lsid, cursors, TLS, compression, x.509/LDAP/OIDC/PLAIN, authentication
// restrictions, customData, user caches (a change applies at once), the
// exact error text of every case, and persistence: everything is gone when
// the Server closes. A connection authenticated before a password change
// stays authenticated, as on the real server.
package mongomem
