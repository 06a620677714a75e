package mongosim

import (
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/segura-community/terraform-provider-segura/internal/wiremsg"
)

// Personality makes the deployment answer some commands as a hosted
// service does; see doc.go for each one's sources.
type Personality string

const (
	// PersonalityMongoDB is self-managed MongoDB (the default).
	PersonalityMongoDB Personality = ""
	// PersonalityAtlas is a MongoDB Atlas dedicated (M10+) cluster: database
	// users are managed through the Atlas UI / Administration API only, and
	// the user-management commands fail the server's authorization check.
	PersonalityAtlas Personality = "atlas"
	// PersonalityAtlasShared is an Atlas M0 (free) or Flex cluster, whose
	// proxy refuses unsupported commands with AtlasError (8000).
	PersonalityAtlasShared Personality = "atlas-shared"
	// PersonalityCosmosRU is Azure Cosmos DB for MongoDB (RU): no
	// user-management commands (users are managed with Azure RBAC).
	PersonalityCosmosRU Personality = "cosmos-ru"
	// PersonalityCosmosVCore is Azure DocumentDB (formerly Azure Cosmos DB
	// for MongoDB vCore): only the built-in administrative account manages
	// users.
	PersonalityCosmosVCore Personality = "cosmos-vcore"
	// PersonalityDocumentDB is Amazon DocumentDB: users live in the admin
	// database; SCRAM-SHA-256 needs engine 5.0.1+ (Options.EngineVersion).
	PersonalityDocumentDB Personality = "documentdb"
)

func (p Personality) validate() error {
	switch p {
	case PersonalityMongoDB, PersonalityAtlas, PersonalityAtlasShared, PersonalityCosmosRU,
		PersonalityCosmosVCore, PersonalityDocumentDB:
		return nil
	}
	return fmt.Errorf("mongosim: unknown personality %q (atlas, atlas-shared, cosmos-ru, cosmos-vcore, documentdb)", p)
}

// userAdminCommands are the server's user and role management commands.
var userAdminCommands = map[string]bool{
	"createuser": true, "updateuser": true, "dropuser": true, "dropallusersfromdatabase": true,
	"grantrolestouser": true, "revokerolesfromuser": true, "createrole": true, "updaterole": true,
	"droprole": true, "dropallrolesfromdatabase": true, "grantprivilegestorole": true,
	"revokeprivilegesfromrole": true, "grantrolestorole": true, "revokerolesfromrole": true,
}

// personalityRefusal answers the commands a hosted service refuses, or nil.
func (s *Sim) personalityRefusal(c *conn, ci *call) bsoncore.Document {
	switch s.opts.Personality {
	case PersonalityAtlas:
		if userAdminCommands[ci.lname] {
			return unauthorized(ci)
		}
	case PersonalityAtlasShared:
		if userAdminCommands[ci.lname] {
			return errorReply(codeAtlasError, "AtlasError",
				ci.name+" is not allowed or the syntax is incorrect, see the Atlas documentation for more information.")
		}
	case PersonalityCosmosRU:
		if userAdminCommands[ci.lname] || ci.lname == "usersinfo" || ci.lname == "rolesinfo" || ci.lname == "connectionstatus" {
			return errorReply(codeCommandNotSupported, "CommandNotSupported", "Command "+ci.name+" not supported.")
		}
	case PersonalityCosmosVCore:
		if userAdminCommands[ci.lname] && c.auth.key() != (userKey{db: "admin", user: s.opts.AdminUsername}) {
			return unauthorized(ci)
		}
	case PersonalityDocumentDB:
		if s.documentDBSHA256() {
			return nil
		}
		switch ci.lname {
		case "saslstart":
			if mech := stringField(ci.cmd, "mechanism"); mech == "SCRAM-SHA-256" {
				// src/mongo/db/auth/sasl_commands.cpp: a mechanism the server does not enable.
				return errorReply(codeMechanismUnavailable, "MechanismUnavailable",
					"Received authentication for mechanism "+mech+" which is unknown or not enabled")
			}
		case "createuser", "updateuser":
			for _, mech := range stringArray(ci.cmd, "mechanisms") {
				if mech == "SCRAM-SHA-256" {
					// src/mongo/db/commands/user_management_commands.cpp, buildCredentials.
					return errorReply(codeBadValue, "BadValue", mech+" not supported in authMechanisms")
				}
			}
		}
	}
	return nil
}

// personalityRewrite adjusts a command before it is handled: Amazon
// DocumentDB keeps and authenticates every user in the admin database, and
// before 5.0.1 builds SCRAM-SHA-1 credentials only.
func (s *Sim) personalityRewrite(ci *call) {
	if s.opts.Personality != PersonalityDocumentDB {
		return
	}
	switch ci.lname {
	case "createuser", "updateuser", "dropuser", "usersinfo", "grantrolestouser", "revokerolesfromuser",
		"saslstart", "saslcontinue":
		if ci.db != "admin" && ci.req.OpCode != wiremsg.OpQuery {
			ci.cmd = replaceField(ci.cmd, "$db", bsoncore.Value{Type: bsoncore.TypeString, Data: bsoncore.AppendString(nil, "admin")})
			ci.db = "admin"
		}
	}
	if !s.documentDBSHA256() && (ci.lname == "createuser" || (ci.lname == "updateuser" && hasField(ci.cmd, "pwd"))) &&
		!hasField(ci.cmd, "mechanisms") {
		arr := bsoncore.NewArrayBuilder().AppendString("SCRAM-SHA-1").Build()
		ci.cmd = replaceField(ci.cmd, "mechanisms", bsoncore.Value{Type: bsoncore.TypeArray, Data: arr})
	}
}

// personalityHelloRequest adjusts the hello forwarded to FerretDB.
func (s *Sim) personalityHelloRequest(cmd bsoncore.Document) bsoncore.Document {
	if s.opts.Personality != PersonalityDocumentDB {
		return cmd
	}
	if mechs := stringField(cmd, "saslSupportedMechs"); mechs != "" {
		if _, user, ok := strings.Cut(mechs, "."); ok {
			cmd = replaceField(cmd, "saslSupportedMechs", bsoncore.Value{Type: bsoncore.TypeString, Data: bsoncore.AppendString(nil, "admin."+user)})
		}
	}
	if sa, ok := cmd.Lookup("speculativeAuthenticate").DocumentOK(); ok {
		if !s.documentDBSHA256() && stringField(sa, "mechanism") == "SCRAM-SHA-256" {
			// No speculative authentication with a mechanism the server lacks:
			// the driver then authenticates with saslStart.
			return withoutFields(cmd, "speculativeAuthenticate")
		}
		sa = replaceField(sa, "db", bsoncore.Value{Type: bsoncore.TypeString, Data: bsoncore.AppendString(nil, "admin")})
		cmd = replaceField(cmd, "speculativeAuthenticate", bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: sa})
	}
	return cmd
}

// personalityHelloReply adjusts FerretDB's hello reply.
func (s *Sim) personalityHelloReply(reply bsoncore.Document) bsoncore.Document {
	if s.opts.Personality != PersonalityDocumentDB || s.documentDBSHA256() || !hasField(reply, "saslSupportedMechs") {
		return reply
	}
	arr := bsoncore.NewArrayBuilder()
	for _, m := range stringArray(reply, "saslSupportedMechs") {
		if m != "SCRAM-SHA-256" {
			arr.AppendString(m)
		}
	}
	return replaceField(reply, "saslSupportedMechs", bsoncore.Value{Type: bsoncore.TypeArray, Data: arr.Build()})
}

// documentDBSHA256: "SCRAM-SHA-256 authentication is available in Amazon
// DocumentDB instance-based cluster minor versions 5.0.1+ and 8.0.1+".
func (s *Sim) documentDBSHA256() bool {
	v := parseVersion(s.opts.EngineVersion)
	return compareVersion(v, [3]int{8, 0, 1}) >= 0 ||
		(compareVersion(v, [3]int{5, 0, 1}) >= 0 && compareVersion(v, [3]int{8, 0, 0}) < 0)
}

func parseVersion(s string) [3]int {
	var v [3]int
	for i, p := range strings.SplitN(s, ".", 3) {
		n, _ := strconv.Atoi(p)
		v[i] = n
	}
	return v
}

func compareVersion(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
