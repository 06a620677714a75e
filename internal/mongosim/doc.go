// Package mongosim simulates MongoDB deployments as production runs them —
// a replica set, a standalone server or a sharded cluster's routers, and
// the hosted services Atlas, Azure Cosmos DB (RU and vCore) and Amazon
// DocumentDB — for tests and the local stack. It is never used against a
// real database.
//
// It is a wire-protocol proxy in front of one FerretDB per member (package
// ferretdb: real SCRAM-SHA-1/256 authentication and user store, the SQLite
// backend). The proxy reads and writes the wire protocol with the Go
// driver's own x/mongo/driver/wiremessage and x/bsonx/bsoncore packages and
// adds what FerretDB lacks: replica-set topology in hello, replication of
// user changes with per-member lag, write concern, failover and roll-back,
// routers' user caches, a privilege table answering code 13 as the server
// does, fault injection, and the hosted services' refusals. Every behaviour
// is taken from MongoDB's server source (github.com/mongodb/mongo), the
// driver specifications (github.com/mongodb/specifications) or the
// vendors' documentation, cited below; nothing is shaped to make a
// particular client pass.
//
// # Using it
//
//	sim, err := mongosim.Start(ctx, mongosim.Options{Dir: t.TempDir()}) // 3 members, "rs0"
//	defer sim.Stop()
//	client, _ := mongo.Connect(options.Client().ApplyURI(sim.URI()). // mongodb://h1,h2,h3/?replicaSet=rs0
//		SetAuth(options.Credential{Username: sim.AdminUsername(), Password: sim.AdminPassword()}))
//
//	sec := sim.Member(sim.Hosts()[1])                // a secondary
//	sim.SetUserLag(sec.Host(), "app", 2*time.Second) // it applies changes to "app" 2s late
//	// ... updateUser "app" through client; a login on sec.URI() (a direct
//	// connection) still takes the old password for 2s ...
//	sim.StepDown(sec.Host(), mongosim.StepDownOptions{}) // sec becomes primary
//	sim.InjectFault(mongosim.Fault{Command: "updateUser", User: "app", Count: 1,
//		Action: mongosim.FaultDropReply}) // the next updateUser of "app" applies, its reply is lost
//	sim.Grant("app", "admin", mongosim.Privilege{DB: "admin", Actions: []string{"changeOwnPassword"}})
//
// The Go API:
//
//	func Start(ctx context.Context, opts Options) (*Sim, error)
//	func (s *Sim) Stop() error
//	func (s *Sim) URI() string; SetName() string; Hosts() []string; Primary() string
//	func (s *Sim) AdminUsername() string; AdminPassword() string; AdminURL() string
//	func (s *Sim) Member(host string) *Member   // Host, URI (direct), FerretDB, State, AppliedIndex, CloseConnections
//	func (s *Sim) SetLag(host string, d time.Duration) error
//	func (s *Sim) SetUserLag(host, user string, d time.Duration) error
//	func (s *Sim) AwaitReplication(ctx context.Context) error
//	func (s *Sim) StepDown(newPrimary string, opts StepDownOptions) error // "" = no primary
//	func (s *Sim) Elect(host string) error
//	func (s *Sim) InjectFault(f Fault) (string, error); RemoveFault(id string) bool; ClearFaults(); Faults() []FaultStatus
//	func (s *Sim) Grant(user, db string, privileges ...Privilege); Revoke(user, db string); Grants() map[string][]Privilege
//	func (s *Sim) RefreshUserCache(host string) error // routers
//	func (s *Sim) Reset()                             // clears faults, lags and grants
//	func (s *Sim) Status() Status; UserLog() []LogEntry
//
// Every member's FerretDB starts with the same administrator
// (Options.AdminUsername / AdminPassword, in the admin database).
// Member(h).FerretDB() reaches a member's FerretDB directly, without the
// proxy, to inspect what it holds. A three-member set starts in about a second once
// FerretDB is built (package ferretdb builds it once into the user cache).
//
// # Replica set topology
//
// Each member's proxy answers hello, isMaster and ismaster (OP_QUERY during
// the driver's handshake, answered with OP_REPLY; OP_MSG afterwards) by
// forwarding them to its FerretDB — which answers the wire versions,
// limits, saslSupportedMechs and speculativeAuthenticate — and rewriting
// the topology fields as a member reports them: hosts (the proxies'
// addresses), setName, setVersion (1), isWritablePrimary (hello) or
// ismaster (isMaster), secondary, primary, me, electionId (primary only)
// and lastWrite {opTime {ts, t}, lastWriteDate} (the member's last applied
// user change). electionId is the server's OID::fromTerm(term): 0x7fffffff
// then the term as a big-endian int64, ObjectId("7fffffff0000000000000001")
// in term 1 (src/mongo/bson/oid_test.cpp "FromTerm"; the replication
// coordinator sets electionId = OID::fromTerm(term)); every election bumps
// the term, so (electionId, setVersion) never goes backwards, as SDAM
// requires for a new primary to be believed (server-discovery-and-
// monitoring.md). topologyVersion is removed so that drivers poll hello
// instead of streaming it (a server is streamable only when it reports a
// topologyVersion, server-monitoring.md), and compression so that clients
// never send OP_COMPRESSED.
//
// On a secondary (or on every member while there is no primary), a command
// that is not a read answers {ok: 0, errmsg: "not primary", code: 10107,
// codeName: "NotWritablePrimary"} — "not master" for a client that never
// said hello or helloOk — after the authorization check, as the server's
// command dispatch does (src/mongo/db/service_entry_point_common.cpp; codes
// from src/mongo/base/error_codes.yml). A retryable write (txnNumber
// without autocommit) failing with a code of the RetriableError category
// carries errorLabels ["RetryableWriteError"]
// (src/mongo/db/error_labels.cpp), which the driver needs to retry on wire
// version 9 and later. Reads run on the member's own FerretDB.
//
// Options.Standalone runs one member that reports no setName; Options.Routers
// runs routers (below).
//
// # Replication of user changes
//
// createUser, updateUser and dropUser run on the primary's FerretDB through
// the client's own connection (so FerretDB authenticates and validates
// them). When one succeeds it is appended to an in-memory log (sequence
// number, user, replayable command) and each secondary's applier replays it
// on that member's FerretDB, logged in as the administrator, once the
// member's lag has passed (SetLag; SetUserLag overrides it for one user
// name so parallel tests do not disturb each other). A member with lag 0
// has applied the change before the primary's reply is sent, so a test can
// create a user and log in anywhere at once; a lagging member keeps the
// old password until its lag passes. Changes to one user apply in log
// order; a real member applies its whole oplog in order, whereas with a
// per-user lag one user's change may land before an older change to
// another user. Status() and Member.AppliedIndex() tell what each member
// has applied; AwaitReplication waits for all. The simulator follows the
// administrator's password on each member, so rotating it through the
// simulator does not lock replication out.
//
// # Write concern
//
// writeConcern is removed from every command forwarded to FerretDB. For
// user changes on a replica set the simulator honours it itself, as the
// primary does before replying (src/mongo/db/write_concern_options.cpp,
// ReplicationCoordinatorImpl::awaitReplication):
//
//   - No writeConcern is the implicit default {w: "majority"} (MongoDB 5.0+,
//     "Implicit Default Write Concern" in the manual), waiting without
//     limit; w: "majority" waits for floor(n/2)+1 members, w: N for N.
//   - When wtimeout (ms) passes first, the reply is ok: 1 with
//     writeConcernError {code: 64, codeName: "WriteConcernFailed", errmsg:
//     "waiting for replication timed out", errInfo: {wtimeout: true,
//     writeConcern: {w, [j], wtimeout, provenance}}}
//     (CommandHelpers::appendCommandWCStatus in src/mongo/db/commands.cpp,
//     WriteConcernErrorDetail::toBSON in
//     src/mongo/rpc/write_concern_error_detail.cpp,
//     WriteConcernOptions::toBSON; provenance "clientSupplied", or
//     "implicitDefault" without writeConcern). Code 64 is named
//     WriteConcernFailed up to 7.0, the version FerretDB's maxWireVersion 21
//     claims; 8.x renamed it WriteConcernTimeout.
//   - When the command's maxTimeMS expires first, writeConcernError is
//     {code: 50, codeName: "MaxTimeMSExpired", errmsg: "operation exceeded
//     time limit", errInfo: {writeConcern}} (the server's jstest on write
//     concern timeouts and maxTimeMS: wtimeout < maxTimeMS gives 64,
//     maxTimeMS < wtimeout gives 50). The Go driver sends maxTimeMS for a
//     context deadline.
//   - w greater than the number of members: writeConcernError 100
//     UnsatisfiableWriteConcern "Not enough data-bearing nodes"; an unknown
//     w mode: 79 UnknownReplWriteConcern "No write concern mode named '<w>'
//     found in replica set configuration"; w over 50: 9 FailedToParse.
//   - Without wtimeout or maxTimeMS the wait lasts until the client
//     disconnects (then no reply is sent). The change stays applied on the
//     primary whatever the write concern's outcome.
//
// # Failover
//
// StepDown(newPrimary, opts) first removes the primary (no user change is
// half-way between its primary check and its log entry), closes every
// client connection on every proxy, then makes newPrimary primary in a new
// term. Without LoseUnreplicated the new primary first catches up on every
// logged change (a candidate catches up before it serves writes). With
// LoseUnreplicated the entries the new primary has not applied are dropped
// from the log and every member that had applied one (the old primary) is
// rolled back, as a server rejoining after a failover rolls back its
// unreplicated writes (src/mongo/db/repl/rollback_impl.cpp): for each
// affected user it gets the state the surviving log gives (the baseline
// administrator, then createUser / updateUser → that password and
// mechanisms, dropUser or nothing → no user). StepDown("") leaves the set
// without a primary: every member answers hello as a secondary (no
// primary field) and refuses writes with 10107 until Elect(host), which
// catches host up and makes it primary in a new term.
//
// # Faults
//
// InjectFault makes matching commands misbehave; each Fault matches a
// command name (case-insensitive, "*" for any), optionally a member Host
// and a User — the user a createUser / updateUser / dropUser / usersInfo
// names, the SCRAM user of saslStart / saslContinue / a hello's
// speculativeAuthenticate, else the connection's authenticated user — for
// the next Count matches (0: until removed). Actions: FaultDropReply
// (forward, let it apply and replicate, close the connection without a
// reply), FaultDropConnection (close before forwarding), FaultDelay (wait
// Delay, then run it), FaultError (answer {ok: 0, errmsg, code, codeName}
// instead; codeName defaults to the code's name in error_codes.yml, and a
// retryable write gets the RetryableWriteError label as above), FaultStall
// (hold without forwarding until the client closes the connection or
// Delay passes, then forward it anyway — it applies after the client gave
// up — discard the reply and close). Faults work inside a SCRAM
// conversation (saslStart, saslContinue, the handshake's hello).
// ClearFaults removes all; Reset also clears lags and grants.
//
// # Privileges
//
// FerretDB does not enforce privileges. The simulator keeps a table:
// Grant(user, db, Privilege{DB, Actions}) for the user named user in
// database db; Privilege.DB "" is every database (the server's "any normal
// resource", {db: "", collection: ""}), Cluster: true the cluster. A user
// never granted anything is unrestricted, like the built-in administrator;
// a user granted anything (even nothing) is restricted to its privileges
// for the checks below. The authenticated user of a connection is the user
// of the SCRAM client-first message ("n,,n=<user>,r=...") of saslStart or
// of the hello's speculativeAuthenticate, in the command's database (or
// speculativeAuthenticate.db), once the conversation ended with ok: 1 and
// done: true. The checks are the server's checkAuthForTypedCommand
// (src/mongo/db/auth/authorization_checks.cpp) with its resource search
// (a database, any normal resource; AuthorizationSession::
// isAuthorizedToChangeAsUser):
//
//   - updateUser with pwd: changeOwnPassword on the user's database when the
//     connection is authenticated as that user, else changePassword on the
//     target user's database (the command's database); customData:
//     changeOwnCustomData / changeCustomData; roles: revokeRole on any
//     normal resource and grantRole on each role's database;
//     authenticationRestrictions: setAuthenticationRestriction.
//   - createUser: createUser on the database (and grantRole per role);
//     dropUser: dropUser on the database.
//   - usersInfo: of oneself always allowed; of another user, viewUser on that
//     user's database; usersInfo: 1 viewUser on the database; forAllDBs
//     viewUser on the cluster. invalidateUserCache: invalidateUserCache on
//     the cluster.
//
// A refusal answers {ok: 0, errmsg, code: 13, codeName: "Unauthorized"}
// where errmsg is "not authorized on <db> to execute command <command>":
// CommandInvocation::checkAuthorization replaces the check's message with
// that, printing the whole command body ($db, lsid, maxTimeMS included)
// with BSONObj::toString after Command::snipForLogging replaced every
// top-level "pwd" with "xxx" (src/mongo/db/commands.cpp;
// src/mongo/bson/bsonobj.cpp and bsonelement.cpp for the format: strings
// quoted, doubles printed "%.16g" plus ".0" when integral,
// UUID("..."), ObjectId('...'), Timestamp(s, i), BinData(t, HEX)).
// For example
//
//	not authorized on admin to execute command { updateUser: "app", pwd: "xxx", lsid: { id: UUID("9bf1dae1-...") }, $db: "admin" }
//
// connectionStatus is answered from the same table in the server's shape
// (src/mongo/db/commands/connection_status.cpp): authInfo
// {authenticatedUsers: [{user, db}], authenticatedUserRoles: [] (FerretDB
// has no roles), and with showPrivileges authenticatedUserPrivileges:
// [{resource: {db, collection: ""} or {cluster: true}, actions: [...]}],
// one entry per resource, actions sorted}. An unrestricted user is
// reported with {db: "", collection: ""} and every action the simulator
// checks (changePassword, changeOwnPassword, viewUser, createUser, ...),
// plus invalidateUserCache and viewUser on the cluster.
//
// # Personalities (Options.Personality)
//
//   - PersonalityAtlas, an Atlas dedicated (M10+) cluster. "Atlas rolls back
//     any user modifications not made through the UI or Atlas Administration
//     API. You must use the Atlas UI or Atlas Administration API to add,
//     modify, or delete database users" (Atlas: Configure Database Users);
//     createUser / updateUser / dropUser are listed as not supported on M10+
//     clusters (MongoDB manual pages of the commands, "Unsupported Commands
//     in M10+ Clusters"). On a dedicated cluster the client talks to mongod,
//     whose Atlas roles grant no user-management action, so the user and
//     role management commands fail the server's authorization check: code
//     13 with the server's message, for every user.
//   - PersonalityAtlasShared, an M0 (free) or Flex cluster, whose proxy
//     answers an unsupported command with "<command> is not allowed or the
//     syntax is incorrect, see the Atlas documentation for more
//     information." (Atlas: Unsupported Commands in Atlas) with code 8000
//     and codeName "AtlasError". The code and name are what that proxy
//     answers in user reports (e.g. {ok: 0, code: 8000, codeName:
//     "AtlasError"} in github.com/omarciovsena/abibliadigital issue 417, and
//     "user is not allowed to do action [find] on [share.users]" in
//     github.com/adrianhajdin/project_next_14_ai_prompt_sharing issue 23);
//     the Atlas documentation does not state them.
//   - PersonalityCosmosRU, Azure Cosmos DB for MongoDB (RU). Its feature
//     lists (feature-support-42.md and later) have no user or role
//     management commands and mark connectionStatus unsupported; users are
//     managed with Azure RBAC through the Azure CLI / ARM
//     (how-to-setup-rbac.md); an unsupported request is error 115
//     CommandNotSupported (error-codes-solutions.md). createUser, updateUser,
//     dropUser, the role commands, usersInfo, rolesInfo and connectionStatus
//     answer {code: 115, codeName: "CommandNotSupported", errmsg: "Command
//     <name> not supported."}, the text the service answered in
//     github.com/Azure/azure-service-operator issue 1121 ("couldn't add
//     user: Command createUser not supported."). The replica set is named
//     "globaldb" by default, the replicaSet of the connection strings the
//     Azure portal gives (mongodb://<account>:<key>@<account>.mongo.cosmos.azure.com:10255/?ssl=true&replicaSet=globaldb&...).
//   - PersonalityCosmosVCore, Azure DocumentDB (formerly Cosmos DB for
//     MongoDB vCore): "The built-in administrative account, created during
//     cluster provisioning ... has exclusive user management privileges
//     (userAdmin) on the cluster" (Azure DocumentDB: secondary users). The
//     user and role management commands of any other user fail
//     authorization: code 13 in the MongoDB server's shape (Microsoft does
//     not document the text); the administrator (Options.AdminUsername)
//     runs them.
//   - PersonalityDocumentDB, Amazon DocumentDB. "Admin Database — The
//     database in which users are stored and authorized against"; a user
//     created from another database resides in admin (DocumentDB: Database
//     access using Role-Based Access Control): user management commands,
//     saslStart / saslContinue, speculativeAuthenticate.db and the hello's
//     saslSupportedMechs run against admin whatever database the client
//     named. "SCRAM-SHA-256 authentication is available in Amazon
//     DocumentDB instance-based cluster minor versions 5.0.1+ and 8.0.1+"
//     (DocumentDB: Authentication using SCRAM-SHA-256); below them
//     (Options.EngineVersion, default "5.0.1") hello lists only SCRAM-SHA-1,
//     a speculative SCRAM-SHA-256 authentication is not attempted, saslStart
//     with SCRAM-SHA-256 answers 334 MechanismUnavailable "Received
//     authentication for mechanism SCRAM-SHA-256 which is unknown or not
//     enabled", createUser / updateUser with mechanisms naming it answer 2
//     BadValue "SCRAM-SHA-256 not supported in authMechanisms"
//     (src/mongo/db/commands/user_management_commands.cpp), and without
//     mechanisms only SCRAM-SHA-1 credentials are built. The texts are the
//     MongoDB server's for a mechanism it does not enable; AWS does not
//     document DocumentDB's own.
//
// # Routers (Options.Routers)
//
// Routers answer hello with msg: "isdbgrid" and no setName, and accept
// writes. Each router's FerretDB stands for its user cache: a user change
// through router R applies to R's FerretDB at once and to the other
// routers' at their next user-cache refresh, every Options.UserCacheInterval
// (default 30s, the server's userCacheInvalidationIntervalSecs; ticks at
// Start + k*interval), as a mongos keeps cached users until its
// invalidator sees the cache generation change. invalidateUserCache (or
// RefreshUserCache) refreshes a router at once. Write concern is satisfied
// at once (the config servers' majority write is not simulated).
//
// # Admin endpoint
//
// JSON over plain HTTP on loopback at AdminURL, for tooling that is not Go
// (go run ./internal/devstack --replica-set publishes it as
// mongodb_sim_admin_url):
//
//	GET    {admin}status                 -> Status (members, primary, term, applied index per member, lags)
//	GET    {admin}log                    -> the user-change log (no passwords)
//	POST   {admin}faults                 body: Fault as JSON {"command","host","user","count","action","delay":"2s","code","codeName","errmsg"} -> 201 {"id"}
//	GET    {admin}faults                 -> active faults
//	DELETE {admin}faults                 -> 204
//	DELETE {admin}faults/{id}            -> 204 (404 if unknown)
//	PUT    {admin}lag/{host}             body: {"lag":"2s"} -> 204
//	PUT    {admin}lag/{host}/{user}      body: {"lag":"2s"} -> 204
//	POST   {admin}stepdown               body: {"newPrimary":"host" or "","loseUnreplicated":false} -> 204
//	POST   {admin}elect                  body: {"host":"..."} -> 204
//	GET    {admin}grants                 -> {"user@db": [privileges]}
//	PUT    {admin}grants/{db}/{user}     body: {"privileges":[{"db":"orders","actions":["changeOwnPassword"]}]} -> 204 (replaces)
//	DELETE {admin}grants/{db}/{user}     -> 204 (unrestricted again)
//	POST   {admin}routers/{host}/refresh -> 204
//	POST   {admin}reset                  -> 204
//
// Errors are {"error": "..."} with status 400.
//
// # Passwords
//
// Passwords given to the simulator (in commands or Options) are kept in
// memory to replay and roll back user changes, and never appear in its log
// (Options.Log), its errors, Status, UserLog or the admin endpoint: the
// log names users and sequence numbers, and error texts from FerretDB are
// scrubbed of the password they concern.
//
// # What it does not simulate
//
//   - Replication of data: documents written on the primary stay on the
//     primary's FerretDB; only user changes replicate. Write concern is
//     honoured for user changes only (stripped, and satisfied, for other
//     writes), and never on a standalone server or a router; j is recorded,
//     not enforced.
//   - Elections by themselves: no heartbeats between members, no priorities,
//     votes, arbiters, hidden or delayed members, no automatic failover. A
//     failover happens only through StepDown / Elect.
//   - NotPrimaryNoSecondaryOk (13435): a secondary serves reads whatever the
//     read preference; $readPreference and secondaryOk are not checked.
//   - Roles: FerretDB supports none (pass roles: []); the privilege table
//     grants actions directly; authenticatedUserRoles is always empty.
//   - TLS on the proxies, OP_COMPRESSED, exhaust / streaming hello,
//     $clusterTime and operationTime gossip, causal consistency, retryable
//     write de-duplication (txnNumber reaches FerretDB as sent).
//   - Sharding beyond the routers' user caches (no shards, no config
//     servers); Cosmos DB's and DocumentDB's other restrictions and
//     topology (beyond Cosmos DB's set name), TLS-only endpoints,
//     DocumentDB's serviceadmin user, Atlas's Administration API.
//   - Other user and role commands (grantRolesToUser,
//     dropAllUsersFromDatabase, createRole, ...) are forwarded to the
//     primary's FerretDB (which lacks most of them) and not replicated.
//   - A member whose user store diverged from the log (changed directly on
//     its FerretDB) is converged with updateUser / createUser on the next
//     change to that user, not before.
package mongosim
