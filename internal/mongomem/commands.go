package mongomem

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/segura-community/terraform-provider-segura/internal/wiremsg"
)

// Server error codes (src/mongo/base/error_codes.yml).
const (
	codeBadValue             = 2
	codeUserNotFound         = 11
	codeUnauthorized         = 13
	codeProtocolError        = 17
	codeAuthenticationFailed = 18
	codeRoleNotFound         = 31
	codeCommandNotFound      = 59
	codeMechanismUnavailable = 334
)

// Values hello reports, those of a MongoDB 7.0 standalone.
const (
	maxBSONObjectSize     = 16 * 1024 * 1024
	maxWriteBatchSize     = 100_000
	maxWireVersion        = 21 // MongoDB 7.0
	sessionTimeoutMinutes = 30
)

// commandError is a command's error reply.
type commandError struct {
	code     int32
	codeName string
	msg      string
}

func (e *commandError) Error() string {
	return fmt.Sprintf("%s (code %d %s)", e.msg, e.code, e.codeName)
}

func (e *commandError) reply() bsoncore.Document {
	return marshal(bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: e.msg}, {Key: "code", Value: e.code}, {Key: "codeName", Value: e.codeName}})
}

func authenticationFailed() *commandError {
	return &commandError{code: codeAuthenticationFailed, codeName: "AuthenticationFailed", msg: "Authentication failed."}
}

func unauthorized(db, command string) *commandError {
	return &commandError{code: codeUnauthorized, codeName: "Unauthorized", msg: fmt.Sprintf("not authorized on %s to execute command { %s: ... }", db, command)}
}

func badValue(format string, args ...any) *commandError {
	return &commandError{code: codeBadValue, codeName: "BadValue", msg: fmt.Sprintf(format, args...)}
}

func marshal(d bson.D) bsoncore.Document {
	b, err := bson.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("mongomem: marshalling a reply: %v", err))
	}
	return b
}

func ok(fields ...bson.E) bsoncore.Document {
	return marshal(append(bson.D(fields), bson.E{Key: "ok", Value: 1.0}))
}

// request is one command read off a connection.
type request struct {
	db  string            // the database it runs on
	cmd bsoncore.Document // the command document
}

// handle answers one command.
func (cs *connState) handle(req *request) bsoncore.Document {
	name := wiremsg.CommandName(req.cmd)
	cs.s.mu.Lock()
	cs.s.commands[name]++
	cs.s.mu.Unlock()
	var reply bsoncore.Document
	var e *commandError
	switch strings.ToLower(name) {
	case "hello", "ismaster":
		reply = cs.hello(req, name != "hello")
	case "saslstart":
		reply, e = cs.saslStart(req.db, req.cmd)
	case "saslcontinue":
		reply, e = cs.saslContinue(req.cmd)
	case "ping":
		reply = ok()
	case "endsessions":
		reply = ok()
	case "connectionstatus":
		reply = cs.connectionStatus(req.cmd)
	case "usersinfo":
		reply, e = cs.usersInfo(req.db, req.cmd)
	case "createuser":
		reply, e = cs.createUserCommand(req.db, req.cmd)
	case "updateuser":
		reply, e = cs.updateUser(req.db, req.cmd)
	case "createrole":
		reply, e = cs.createRole(req.db, req.cmd)
	default:
		e = &commandError{code: codeCommandNotFound, codeName: "CommandNotFound", msg: fmt.Sprintf("no such command: '%s'", name)}
	}
	if e != nil {
		return e.reply()
	}
	return reply
}

// hello answers hello and the legacy isMaster as a standalone mongod does
// (manual: "hello", output fields for every instance), with
// saslSupportedMechs and speculativeAuthenticate when asked.
func (cs *connState) hello(req *request, legacy bool) bsoncore.Document {
	primaryKey := "isWritablePrimary"
	if legacy {
		primaryKey = "ismaster"
	}
	fields := bson.D{}
	if truthy(req.cmd, "helloOk") {
		fields = append(fields, bson.E{Key: "helloOk", Value: true})
	}
	fields = append(fields,
		bson.E{Key: primaryKey, Value: true},
		bson.E{Key: "maxBsonObjectSize", Value: int32(maxBSONObjectSize)},
		bson.E{Key: "maxMessageSizeBytes", Value: int32(wiremsg.MaxMessageSize)},
		bson.E{Key: "maxWriteBatchSize", Value: int32(maxWriteBatchSize)},
		bson.E{Key: "localTime", Value: bson.NewDateTimeFromTime(time.Now())},
		bson.E{Key: "logicalSessionTimeoutMinutes", Value: int32(sessionTimeoutMinutes)},
		bson.E{Key: "connectionId", Value: cs.id},
		bson.E{Key: "minWireVersion", Value: int32(0)},
		bson.E{Key: "maxWireVersion", Value: int32(maxWireVersion)},
		bson.E{Key: "readOnly", Value: false},
	)
	if v, err := req.cmd.LookupErr("saslSupportedMechs"); err == nil {
		if ns, isString := v.StringValueOK(); isString {
			db, name, _ := strings.Cut(ns, ".")
			if mechs := cs.s.Mechanisms(db, name); mechs != nil {
				fields = append(fields, bson.E{Key: "saslSupportedMechs", Value: mechs})
			}
		}
	}
	if v, err := req.cmd.LookupErr("speculativeAuthenticate"); err == nil {
		if doc, isDoc := v.DocumentOK(); isDoc && wiremsg.CommandName(doc) == "saslStart" {
			db := stringField(doc, "db")
			if db == "" {
				db = req.db
			}
			// A failed speculative attempt is silent: the client then
			// authenticates the ordinary way.
			if sr, e := cs.saslStart(db, doc); e == nil {
				fields = append(fields, bson.E{Key: "speculativeAuthenticate", Value: bson.Raw(withoutOK(sr))})
			}
		}
	}
	return ok(fields...)
}

// saslConversation is one SCRAM conversation on a connection.
type saslConversation struct {
	db        string
	conv      *scram.ServerConversation
	skipEmpty bool
	// awaitingEmpty: the server's final message was sent without done, so
	// the client sends one more, empty, message (no skipEmptyExchange).
	awaitingEmpty bool
}

// saslStart begins a SCRAM conversation (src/mongo/db/auth/sasl_commands.idl:
// the reply is SaslReply {conversationId: 1, done, payload}).
func (cs *connState) saslStart(db string, cmd bsoncore.Document) (bsoncore.Document, *commandError) {
	cs.sasl = nil
	mechanism := stringField(cmd, "mechanism")
	var hash scram.HashGeneratorFcn
	switch mechanism {
	case ScramSHA1:
		hash = scram.SHA1
	case ScramSHA256:
		hash = scram.SHA256
	default:
		return nil, &commandError{code: codeMechanismUnavailable, codeName: "MechanismUnavailable",
			msg: fmt.Sprintf("Received authentication for mechanism %s which is not enabled", mechanism)}
	}
	payload, e := saslPayload(cmd)
	if e != nil {
		return nil, e
	}
	server, err := hash.NewServer(func(username string) (scram.StoredCredentials, error) {
		c, found := cs.s.lookup(db, username, mechanism)
		if !found {
			return scram.StoredCredentials{}, fmt.Errorf("no user %s@%s with %s credentials", username, db, mechanism)
		}
		return c, nil
	})
	if err != nil {
		return nil, authenticationFailed()
	}
	conv := server.NewConversation()
	resp, err := conv.Step(string(payload))
	if err != nil {
		return nil, authenticationFailed()
	}
	skip := false
	if v, err := cmd.LookupErr("options"); err == nil {
		if opts, isDoc := v.DocumentOK(); isDoc {
			skip = truthy(opts, "skipEmptyExchange")
		}
	}
	cs.sasl = &saslConversation{db: db, conv: conv, skipEmpty: skip}
	return saslReply(false, []byte(resp)), nil
}

// saslContinue carries a conversation on; the last step authenticates the
// connection as the user.
func (cs *connState) saslContinue(cmd bsoncore.Document) (bsoncore.Document, *commandError) {
	sc := cs.sasl
	if sc == nil {
		return nil, &commandError{code: codeProtocolError, codeName: "ProtocolError", msg: "No SASL session state found"}
	}
	if id, isInt := intField(cmd, "conversationId"); !isInt || id != 1 {
		cs.sasl = nil
		return nil, &commandError{code: codeProtocolError, codeName: "ProtocolError", msg: "sasl: Mismatched conversation id"}
	}
	payload, e := saslPayload(cmd)
	if e != nil {
		cs.sasl = nil
		return nil, e
	}
	if sc.awaitingEmpty {
		cs.sasl = nil
		if len(payload) != 0 {
			return nil, authenticationFailed()
		}
		if e := cs.authenticated(sc); e != nil {
			return nil, e
		}
		return saslReply(true, nil), nil
	}
	resp, err := sc.conv.Step(string(payload))
	if err != nil || !sc.conv.Valid() {
		cs.sasl = nil
		return nil, authenticationFailed()
	}
	if !sc.skipEmpty {
		sc.awaitingEmpty = true
		return saslReply(false, []byte(resp)), nil
	}
	cs.sasl = nil
	if e := cs.authenticated(sc); e != nil {
		return nil, e
	}
	return saslReply(true, []byte(resp)), nil
}

// authenticated makes the connection's user the one sc proved; the user may
// have gone since (dropped mid-conversation).
func (cs *connState) authenticated(sc *saslConversation) *commandError {
	cs.s.mu.Lock()
	u := cs.s.users[userKey(sc.db, sc.conv.Username())]
	if u != nil {
		cs.s.logins[userKey(sc.db, sc.conv.Username())]++
	}
	cs.s.mu.Unlock()
	if u == nil {
		return authenticationFailed()
	}
	cs.user = u
	return nil
}

func saslReply(done bool, payload []byte) bsoncore.Document {
	return ok(bson.E{Key: "conversationId", Value: int32(1)}, bson.E{Key: "done", Value: done},
		bson.E{Key: "payload", Value: bson.Binary{Subtype: 0, Data: payloadOrEmpty(payload)}})
}

func payloadOrEmpty(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return p
}

// saslPayload reads payload as BinData or, as the server also accepts, a
// base64 string.
func saslPayload(cmd bsoncore.Document) ([]byte, *commandError) {
	v, err := cmd.LookupErr("payload")
	if err != nil {
		return nil, badValue("Missing required field 'payload'")
	}
	if _, data, isBinary := v.BinaryOK(); isBinary {
		return data, nil
	}
	if s, isString := v.StringValueOK(); isString {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, badValue("Invalid base64 in 'payload'")
		}
		return b, nil
	}
	return nil, badValue("'payload' must be BinData or a base64 string")
}

// withoutOK drops the ok field of a reply, for embedding it.
func withoutOK(doc bsoncore.Document) bsoncore.Document {
	elems, _ := doc.Elements()
	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		if e.Key() != "ok" {
			out = append(out, e...)
		}
	}
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return out
}

// connectionStatus answers as src/mongo/db/commands/connection_status.cpp
// does: authInfo {authenticatedUsers, authenticatedUserRoles,
// authenticatedUserPrivileges (with showPrivileges)}.
func (cs *connState) connectionStatus(cmd bsoncore.Document) bsoncore.Document {
	users, roles := bson.A{}, bson.A{}
	var privs []Privilege
	cs.s.mu.Lock()
	if u := cs.user; u != nil {
		users = append(users, bson.D{{Key: "user", Value: u.name}, {Key: "db", Value: u.db}})
		for _, r := range u.roles {
			roles = append(roles, bson.D{{Key: "role", Value: r.Role}, {Key: "db", Value: r.DB}})
		}
		privs = cs.s.privilegesOf(u)
	}
	cs.s.mu.Unlock()
	info := bson.D{{Key: "authenticatedUsers", Value: users}, {Key: "authenticatedUserRoles", Value: roles}}
	if truthy(cmd, "showPrivileges") {
		list := bson.A{}
		for _, p := range privs {
			list = append(list, privilegeDoc(p))
		}
		info = append(info, bson.E{Key: "authenticatedUserPrivileges", Value: list})
	}
	return ok(bson.E{Key: "authInfo", Value: info})
}

func privilegeDoc(p Privilege) bson.D {
	var res bson.D
	switch {
	case p.AnyResource:
		res = bson.D{{Key: "anyResource", Value: true}}
	case p.Cluster:
		res = bson.D{{Key: "cluster", Value: true}}
	default:
		res = bson.D{{Key: "db", Value: p.DB}, {Key: "collection", Value: p.Collection}}
	}
	return bson.D{{Key: "resource", Value: res}, {Key: "actions", Value: p.Actions}}
}

// privileges are the connection's privileges; none when unauthenticated.
func (cs *connState) privileges() []Privilege {
	cs.s.mu.Lock()
	defer cs.s.mu.Unlock()
	if cs.user == nil {
		return nil
	}
	return cs.s.privilegesOf(cs.user)
}

// usersInfo answers {usersInfo: 1 | "name" | {user, db} | [...] |
// {forAllDBs: true}} with {users: [{_id, userId, user, db, roles,
// mechanisms}]}, and credentials with showCredentials: true (manual:
// usersInfo, Output). A user may always see itself; anyone else needs
// viewUser on the user's database.
func (cs *connState) usersInfo(db string, cmd bsoncore.Document) (bsoncore.Document, *commandError) {
	if cs.user == nil {
		return nil, unauthorized(db, "usersInfo")
	}
	privs := cs.privileges()
	arg := cmd.Lookup("usersInfo")
	type target struct{ db, name string } // name "" is every user of db; db "" every database
	var targets []target
	addOne := func(v bsoncore.Value) *commandError {
		if s, isString := v.StringValueOK(); isString {
			targets = append(targets, target{db, s})
			return nil
		}
		if d, isDoc := v.DocumentOK(); isDoc {
			u, udb := stringField(d, "user"), stringField(d, "db")
			if u == "" || udb == "" {
				return badValue("User name must contain a string field \"user\" and \"db\"")
			}
			targets = append(targets, target{udb, u})
			return nil
		}
		return badValue("User name must be either a string or an object")
	}
	switch {
	case isNumber(arg):
		targets = append(targets, target{db, ""})
	case arg.Type == bsoncore.TypeEmbeddedDocument && truthy(arg.Document(), "forAllDBs"):
		if db != "admin" {
			return nil, badValue("forAllDBs may only be used with the admin database")
		}
		targets = append(targets, target{"", ""})
	case arg.Type == bsoncore.TypeArray:
		vals, _ := arg.Array().Values()
		for _, v := range vals {
			if e := addOne(v); e != nil {
				return nil, e
			}
		}
	default:
		if e := addOne(arg); e != nil {
			return nil, e
		}
	}
	for _, t := range targets {
		self := t.name == cs.user.name && t.db == cs.user.db
		if !self && !allowsOnDatabase(privs, "viewUser", t.db) {
			return nil, unauthorized(db, "usersInfo")
		}
	}
	showCredentials := truthy(cmd, "showCredentials")

	cs.s.mu.Lock()
	var found []*user
	for _, u := range cs.s.users {
		for _, t := range targets {
			if (t.db == "" || t.db == u.db) && (t.name == "" || t.name == u.name) {
				found = append(found, u)
				break
			}
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].db+"."+found[i].name < found[j].db+"."+found[j].name })
	list := bson.A{}
	for _, u := range found {
		roles := bson.A{}
		for _, r := range u.roles {
			roles = append(roles, bson.D{{Key: "role", Value: r.Role}, {Key: "db", Value: r.DB}})
		}
		doc := bson.D{
			{Key: "_id", Value: u.db + "." + u.name},
			{Key: "userId", Value: bson.Binary{Subtype: 4, Data: u.id[:]}},
			{Key: "user", Value: u.name},
			{Key: "db", Value: u.db},
		}
		if showCredentials {
			creds := bson.D{}
			for _, m := range u.mechanisms() {
				c := u.creds[m]
				creds = append(creds, bson.E{Key: m, Value: bson.D{
					{Key: "iterationCount", Value: int32(c.Iters)},
					{Key: "salt", Value: base64.StdEncoding.EncodeToString([]byte(c.Salt))},
					{Key: "storedKey", Value: base64.StdEncoding.EncodeToString(c.StoredKey)},
					{Key: "serverKey", Value: base64.StdEncoding.EncodeToString(c.ServerKey)},
				}})
			}
			doc = append(doc, bson.E{Key: "credentials", Value: creds})
		}
		doc = append(doc, bson.E{Key: "roles", Value: roles}, bson.E{Key: "mechanisms", Value: u.mechanisms()})
		list = append(list, doc)
	}
	cs.s.mu.Unlock()
	return ok(bson.E{Key: "users", Value: list}), nil
}

// createUserCommand is {createUser, pwd, roles, mechanisms}. Without any user
// on the server it needs no authentication, as the localhost exception.
func (cs *connState) createUserCommand(db string, cmd bsoncore.Document) (bsoncore.Document, *commandError) {
	name := stringField(cmd, "createUser")
	cs.s.mu.Lock()
	first := len(cs.s.users) == 0
	cs.s.mu.Unlock()
	if !first && (cs.user == nil || !allowsOnDatabase(cs.privileges(), "createUser", db)) {
		return nil, unauthorized(db, "createUser")
	}
	rolesValue, err := cmd.LookupErr("roles")
	if err != nil {
		return nil, &commandError{code: 40414, codeName: "Location40414", msg: "BSON field 'createUser.roles' is missing but a required field"}
	}
	roles, e := parseRoles(db, rolesValue)
	if e != nil {
		return nil, e
	}
	mechs, e := stringArray(cmd, "mechanisms")
	if e != nil {
		return nil, e
	}
	if e := cs.s.createUser(db, name, stringField(cmd, "pwd"), mechs, roles); e != nil {
		return nil, e
	}
	return ok(), nil
}

// updateUser is {updateUser, pwd, mechanisms, roles}: a new password sets
// credentials for mechanisms (both when absent); mechanisms alone must be a
// subset of the user's and drops the others. Changing a password needs
// changePassword on the user's database, or changeOwnPassword for one's own.
func (cs *connState) updateUser(db string, cmd bsoncore.Document) (bsoncore.Document, *commandError) {
	if cs.user == nil {
		return nil, unauthorized(db, "updateUser")
	}
	name := stringField(cmd, "updateUser")
	pwdValue, pwdErr := cmd.LookupErr("pwd")
	hasPwd := pwdErr == nil
	pwd, _ := pwdValue.StringValueOK()
	if hasPwd && pwd == "" {
		return nil, badValue("Password cannot be empty")
	}
	mechs, e := stringArray(cmd, "mechanisms")
	if e != nil {
		return nil, e
	}
	if e := checkMechanisms(mechs); e != nil {
		return nil, e
	}
	var roles []RoleRef
	rolesValue, rolesErr := cmd.LookupErr("roles")
	hasRoles := rolesErr == nil
	if hasRoles {
		if roles, e = parseRoles(db, rolesValue); e != nil {
			return nil, e
		}
	}
	if !hasPwd && !hasRoles && mechs == nil {
		return nil, badValue("Must specify at least one field to update in updateUser")
	}
	privs := cs.privileges()
	self := cs.user.name == name && cs.user.db == db
	mayChange := allowsOnDatabase(privs, "changePassword", db) || (self && allowsOnDatabase(privs, "changeOwnPassword", db))
	if (hasPwd || mechs != nil) && !mayChange {
		return nil, unauthorized(db, "updateUser")
	}
	mayGrant := allowsOnDatabase(privs, "grantRole", db) && allowsOnDatabase(privs, "revokeRole", db)
	if hasRoles && !mayGrant {
		return nil, unauthorized(db, "updateUser")
	}
	var creds map[string]scram.StoredCredentials
	if hasPwd {
		use := mechs
		if len(use) == 0 {
			use = allMechanisms
		}
		var err error
		if creds, err = credentials(name, pwd, use, cs.s.iterations); err != nil {
			return nil, badValue("%v", err)
		}
	}
	cs.s.mu.Lock()
	defer cs.s.mu.Unlock()
	u := cs.s.users[userKey(db, name)]
	if u == nil {
		return nil, &commandError{code: codeUserNotFound, codeName: "UserNotFound", msg: fmt.Sprintf("Could not find user \"%s\" for db \"%s\"", name, db)}
	}
	switch {
	case hasPwd:
		u.creds = creds
	case mechs != nil:
		kept := map[string]scram.StoredCredentials{}
		for _, m := range mechs {
			c, has := u.creds[m]
			if !has {
				return nil, badValue("mechanisms field must be a subset of previously set mechanisms")
			}
			kept[m] = c
		}
		u.creds = kept
	}
	if hasRoles {
		for _, r := range roles {
			if _, builtin := builtinPrivileges(r); !builtin && cs.s.roles[userKey(r.DB, r.Role)] == nil {
				return nil, &commandError{code: codeRoleNotFound, codeName: "RoleNotFound", msg: fmt.Sprintf("Could not find role: %s@%s", r.Role, r.DB)}
			}
		}
		u.roles = roles
	}
	return ok(), nil
}

// createRole is {createRole, privileges: [{resource, actions}], roles}.
func (cs *connState) createRole(db string, cmd bsoncore.Document) (bsoncore.Document, *commandError) {
	if cs.user == nil || !allowsOnDatabase(cs.privileges(), "createRole", db) {
		return nil, unauthorized(db, "createRole")
	}
	name := stringField(cmd, "createRole")
	if name == "" {
		return nil, badValue("Role name must be a non-empty string")
	}
	privsValue, err := cmd.LookupErr("privileges")
	if err != nil || privsValue.Type != bsoncore.TypeArray {
		return nil, &commandError{code: 40414, codeName: "Location40414", msg: "BSON field 'createRole.privileges' is missing but a required field"}
	}
	var privs []Privilege
	vals, _ := privsValue.Array().Values()
	for _, v := range vals {
		d, isDoc := v.DocumentOK()
		if !isDoc {
			return nil, badValue("Privilege must be an object")
		}
		res, hasRes := d.Lookup("resource").DocumentOK()
		if !hasRes {
			return nil, badValue("Privilege must contain a resource document")
		}
		p := Privilege{AnyResource: truthy(res, "anyResource"), Cluster: truthy(res, "cluster"), DB: stringField(res, "db"), Collection: stringField(res, "collection")}
		actions, e := stringArray(d, "actions")
		if e != nil {
			return nil, e
		}
		p.Actions = actions
		privs = append(privs, p)
	}
	var roles []RoleRef
	if rv, err := cmd.LookupErr("roles"); err == nil {
		var e *commandError
		if roles, e = parseRoles(db, rv); e != nil {
			return nil, e
		}
	}
	if err := cs.s.CreateRole(db, name, privs, roles...); err != nil {
		var ce *commandError
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, badValue("%v", err)
	}
	return ok(), nil
}

// parseRoles reads a roles array of "name" (in db) and {role, db} entries.
func parseRoles(db string, v bsoncore.Value) ([]RoleRef, *commandError) {
	if v.Type != bsoncore.TypeArray {
		return nil, badValue("roles must be an array")
	}
	vals, _ := v.Array().Values()
	out := make([]RoleRef, 0, len(vals))
	for _, rv := range vals {
		if s, isString := rv.StringValueOK(); isString {
			out = append(out, RoleRef{Role: s, DB: db})
			continue
		}
		d, isDoc := rv.DocumentOK()
		if !isDoc || stringField(d, "role") == "" || stringField(d, "db") == "" {
			return nil, badValue("Role names must be either strings or objects with \"role\" and \"db\"")
		}
		out = append(out, RoleRef{Role: stringField(d, "role"), DB: stringField(d, "db")})
	}
	return out, nil
}

// stringArray reads an optional array of strings; nil when absent.
func stringArray(doc bsoncore.Document, key string) ([]string, *commandError) {
	v := doc.Lookup(key)
	if v.Type == 0 { // absent
		return nil, nil
	}
	if v.Type != bsoncore.TypeArray {
		return nil, badValue("%s must be an array of strings", key)
	}
	vals, _ := v.Array().Values()
	out := make([]string, 0, len(vals))
	for _, sv := range vals {
		s, isString := sv.StringValueOK()
		if !isString {
			return nil, badValue("%s must be an array of strings", key)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func stringField(doc bsoncore.Document, key string) string {
	v, err := doc.LookupErr(key)
	if err != nil {
		return ""
	}
	s, _ := v.StringValueOK()
	return s
}

func intField(doc bsoncore.Document, key string) (int64, bool) {
	v, err := doc.LookupErr(key)
	if err != nil {
		return 0, false
	}
	return numberValue(v)
}

func numberValue(v bsoncore.Value) (int64, bool) {
	switch v.Type {
	case bsoncore.TypeInt32:
		return int64(v.Int32()), true
	case bsoncore.TypeInt64:
		return v.Int64(), true
	case bsoncore.TypeDouble:
		return int64(v.Double()), true
	}
	return 0, false
}

func isNumber(v bsoncore.Value) bool {
	_, isNum := numberValue(v)
	return isNum
}

// truthy reads an optional flag sent as a boolean or a number.
func truthy(doc bsoncore.Document, key string) bool {
	v, err := doc.LookupErr(key)
	if err != nil {
		return false
	}
	if b, isBool := v.BooleanOK(); isBool {
		return b
	}
	n, isNum := numberValue(v)
	return isNum && n != 0
}
