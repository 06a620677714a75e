package mongosim

import (
	"sort"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Privilege is a set of actions on a resource, as in a MongoDB role
// definition: on one database (DB), on every database (DB "": the server's
// "any normal resource", {db: "", collection: ""}), or on the cluster
// (Cluster: true).
type Privilege struct {
	DB      string   `json:"db"`
	Cluster bool     `json:"cluster,omitempty"`
	Actions []string `json:"actions"`
}

type privilegeTable struct {
	mu     sync.Mutex
	grants map[userKey][]Privilege
}

// Grant adds privileges to the user named user in database db. A user that
// was never granted anything is unrestricted, like the built-in
// administrator; once granted (even nothing), the user may run only what
// its privileges allow of the checks the simulator makes (see doc.go).
func (s *Sim) Grant(user, db string, privileges ...Privilege) {
	t := &s.privs
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.grants == nil {
		t.grants = map[userKey][]Privilege{}
	}
	k := userKey{db: db, user: user}
	t.grants[k] = append(t.grants[k], privileges...)
	if t.grants[k] == nil {
		t.grants[k] = []Privilege{}
	}
}

// Revoke removes the user from the table: unrestricted again.
func (s *Sim) Revoke(user, db string) {
	t := &s.privs
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.grants, userKey{db: db, user: user})
}

// Grants lists the table.
func (s *Sim) Grants() map[string][]Privilege {
	t := &s.privs
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string][]Privilege{}
	for k, v := range t.grants {
		out[k.String()] = append([]Privilege(nil), v...)
	}
	return out
}

func (t *privilegeTable) clear() {
	t.mu.Lock()
	t.grants = nil
	t.mu.Unlock()
}

func (t *privilegeTable) lookup(k userKey) ([]Privilege, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.grants[k]
	return p, ok
}

// onDB is isAuthorizedForActionsOnResource(forDatabaseName(db), action):
// the resource search list of a database is the database itself, any
// normal resource and any resource (AuthorizationSession's
// buildResourceSearchList).
func onDB(privs []Privilege, db, action string) bool {
	for _, p := range privs {
		if !p.Cluster && (p.DB == db || p.DB == "") && hasAction(p, action) {
			return true
		}
	}
	return false
}

// onAnyNormal is the check against forAnyNormalResource itself.
func onAnyNormal(privs []Privilege, action string) bool {
	for _, p := range privs {
		if !p.Cluster && p.DB == "" && hasAction(p, action) {
			return true
		}
	}
	return false
}

func onCluster(privs []Privilege, action string) bool {
	for _, p := range privs {
		if p.Cluster && hasAction(p, action) {
			return true
		}
	}
	return false
}

func hasAction(p Privilege, action string) bool {
	for _, a := range p.Actions {
		if a == action {
			return true
		}
	}
	return false
}

// authorize checks user-management commands of a restricted user the way
// the server's checkAuthForTypedCommand overloads do
// (src/mongo/db/auth/authorization_checks.cpp). It returns the Unauthorized
// reply, or nil.
func (c *conn) authorize(ci *call) bsoncore.Document {
	if c.auth.user == "" {
		return nil // unauthenticated: FerretDB refuses by itself
	}
	privs, restricted := c.m.sim.privs.lookup(c.auth.key())
	if !restricted {
		return nil
	}
	if c.allowed(ci, privs) {
		return nil
	}
	return unauthorized(ci)
}

func (c *conn) allowed(ci *call, privs []Privilege) bool {
	db := ci.db
	name, _ := ci.cmd.Lookup(ci.name).StringValueOK()
	switch ci.lname {
	case "updateuser":
		target := userKey{db: db, user: name}
		self := c.auth.key() == target
		mayChangePassword := (self && onDB(privs, db, "changeOwnPassword")) || onDB(privs, db, "changePassword")
		if hasField(ci.cmd, "pwd") && !mayChangePassword {
			return false
		}
		mayChangeCustomData := (self && onDB(privs, db, "changeOwnCustomData")) || onDB(privs, db, "changeCustomData")
		if hasField(ci.cmd, "customData") && !mayChangeCustomData {
			return false
		}
		if hasField(ci.cmd, "roles") {
			if !onAnyNormal(privs, "revokeRole") || !mayGrantRoles(privs, ci.cmd, db) {
				return false
			}
		}
		return !hasField(ci.cmd, "authenticationRestrictions") || onDB(privs, db, "setAuthenticationRestriction")
	case "createuser":
		if !onDB(privs, db, "createUser") || !mayGrantRoles(privs, ci.cmd, db) {
			return false
		}
		return !hasField(ci.cmd, "authenticationRestrictions") || onDB(privs, db, "setAuthenticationRestriction")
	case "dropuser":
		return onDB(privs, db, "dropUser")
	case "usersinfo":
		return c.mayViewUsers(ci, privs)
	case "invalidateusercache":
		return onCluster(privs, "invalidateUserCache")
	}
	return true
}

// mayGrantRoles is checkAuthorizedToGrantRoles: grantRole on each role's
// database.
func mayGrantRoles(privs []Privilege, cmd bsoncore.Document, db string) bool {
	arr, ok := cmd.Lookup("roles").ArrayOK()
	if !ok {
		return true
	}
	vals, _ := arr.Values()
	for _, v := range vals {
		roleDB := db
		if d, ok := v.DocumentOK(); ok {
			if s := stringField(d, "db"); s != "" {
				roleDB = s
			}
		}
		if !onDB(privs, roleDB, "grantRole") {
			return false
		}
	}
	return true
}

// mayViewUsers is the usersInfo check: all users of the current database
// need viewUser on it; forAllDBs needs viewUser on the cluster; each named
// user is visible to itself, otherwise needs viewUser on its database.
func (c *conn) mayViewUsers(ci *call, privs []Privilege) bool {
	v := ci.cmd.Lookup(ci.name)
	if _, ok := intValue(v); ok {
		return onDB(privs, ci.db, "viewUser")
	}
	if d, ok := v.DocumentOK(); ok && boolField(d, "forAllDBs") {
		return onCluster(privs, "viewUser")
	}
	for _, k := range usersInfoTargets(v, ci.db) {
		if k == c.auth.key() {
			continue // "Can always view users you are logged in as."
		}
		if !onDB(privs, k.db, "viewUser") {
			return false
		}
	}
	return true
}

func usersInfoTargets(v bsoncore.Value, db string) []userKey {
	one := func(v bsoncore.Value) (userKey, bool) {
		if s, ok := v.StringValueOK(); ok {
			return userKey{db: db, user: s}, true
		}
		if d, ok := v.DocumentOK(); ok {
			k := userKey{db: stringField(d, "db"), user: stringField(d, "user")}
			if k.db == "" {
				k.db = db
			}
			return k, k.user != ""
		}
		return userKey{}, false
	}
	if arr, ok := v.ArrayOK(); ok {
		vals, _ := arr.Values()
		var out []userKey
		for _, x := range vals {
			if k, ok := one(x); ok {
				out = append(out, k)
			}
		}
		return out
	}
	if k, ok := one(v); ok {
		return []userKey{k}
	}
	return nil
}

// unauthorized is the server's reply to a command that failed its
// authorization check: CommandInvocation::checkAuthorization replaces the
// check's own message with "not authorized on <db> to execute command
// <command>", the command printed by BSONObj::toString after
// snipForLogging redacted the password (src/mongo/db/commands.cpp).
func unauthorized(ci *call) bsoncore.Document {
	return errorReply(codeUnauthorized, "Unauthorized",
		"not authorized on "+ci.db+" to execute command "+serverString(redactedCommand(ci.cmd)))
}

// unrestrictedActions stand for "everything" in connectionStatus for users
// that were never granted anything: every action the simulator checks.
var unrestrictedActions = []string{
	"changeCustomData", "changeOwnCustomData", "changeOwnPassword", "changePassword",
	"createUser", "dropUser", "grantRole", "revokeRole", "setAuthenticationRestriction",
	"viewRole", "viewUser",
}

// connectionStatus answers from the privilege table, in the server's shape
// (src/mongo/db/commands/connection_status.cpp): authInfo with
// authenticatedUsers [{user, db}], authenticatedUserRoles [{role, db}] and,
// with showPrivileges, authenticatedUserPrivileges [{resource, actions}],
// one entry per resource.
func (c *conn) connectionStatus(ci *call) bsoncore.Document {
	users := bsoncore.NewArrayBuilder()
	if c.auth.user != "" {
		users.AppendDocument(bsoncore.NewDocumentBuilder().
			AppendString("user", c.auth.user).AppendString("db", c.auth.db).Build())
	}
	info := bsoncore.NewDocumentBuilder().
		AppendArray("authenticatedUsers", users.Build()).
		AppendArray("authenticatedUserRoles", bsoncore.NewArrayBuilder().Build())
	if boolField(ci.cmd, "showPrivileges") {
		info.AppendArray("authenticatedUserPrivileges", c.privilegesArray())
	}
	return bsoncore.NewDocumentBuilder().
		AppendDocument("authInfo", info.Build()).
		AppendDouble("ok", 1).Build()
}

func (c *conn) privilegesArray() bsoncore.Array {
	arr := bsoncore.NewArrayBuilder()
	if c.auth.user == "" {
		return arr.Build()
	}
	privs, restricted := c.m.sim.privs.lookup(c.auth.key())
	if !restricted {
		privs = []Privilege{
			{DB: "", Actions: unrestrictedActions},
			{Cluster: true, Actions: []string{"invalidateUserCache", "viewUser"}},
		}
	}
	// The server unifies privileges per resource.
	type resource struct {
		DB      string
		Cluster bool
	}
	byRes := map[resource]map[string]bool{}
	var order []resource
	for _, p := range privs {
		res := resource{DB: p.DB, Cluster: p.Cluster}
		if byRes[res] == nil {
			byRes[res] = map[string]bool{}
			order = append(order, res)
		}
		for _, a := range p.Actions {
			byRes[res][a] = true
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].Cluster != order[j].Cluster {
			return !order[i].Cluster
		}
		return order[i].DB < order[j].DB
	})
	for _, res := range order {
		var actions []string
		for a := range byRes[res] {
			actions = append(actions, a)
		}
		sort.Strings(actions)
		acts := bsoncore.NewArrayBuilder()
		for _, a := range actions {
			acts.AppendString(a)
		}
		resource := bsoncore.NewDocumentBuilder()
		if res.Cluster {
			resource.AppendBoolean("cluster", true)
		} else {
			resource.AppendString("db", res.DB).AppendString("collection", "")
		}
		arr.AppendDocument(bsoncore.NewDocumentBuilder().
			AppendDocument("resource", resource.Build()).
			AppendArray("actions", acts.Build()).Build())
	}
	return arr.Build()
}

// invalidateUserCache refreshes a router's user cache at once; elsewhere
// it has nothing to do (each member's users are its own FerretDB's).
func (c *conn) invalidateUserCache(ci *call) (bsoncore.Document, error) {
	if c.auth.user != "" {
		if privs, restricted := c.m.sim.privs.lookup(c.auth.key()); restricted && !onCluster(privs, "invalidateUserCache") {
			return unauthorized(ci), nil
		}
	}
	if c.m.sim.mode == modeSharded {
		c.m.sim.repl.refreshRouter(c.m)
	}
	return okReply(), nil
}

// --- who is authenticated on a connection -----------------------------------

// authState follows the SCRAM conversation of one connection: the user
// named in the client-first message of saslStart (or of the hello's
// speculativeAuthenticate) and the database it authenticates against,
// authenticated once the conversation ends with ok: 1 and done: true.
type authState struct {
	user, db               string
	pendingUser, pendingDB string
}

func (a *authState) key() userKey { return userKey{db: a.db, user: a.user} }

func (a *authState) speculativeStart(hello bsoncore.Document) {
	sa, ok := hello.Lookup("speculativeAuthenticate").DocumentOK()
	if !ok || !hasField(sa, "saslStart") {
		return
	}
	a.pendingUser, a.pendingDB = scramUser(sa), stringField(sa, "db")
}

func (a *authState) speculativeReply(reply bsoncore.Document) {
	sa, ok := reply.Lookup("speculativeAuthenticate").DocumentOK()
	if !ok {
		a.pendingUser, a.pendingDB = "", ""
		return
	}
	if boolField(sa, "done") {
		a.user, a.db = a.pendingUser, a.pendingDB
	}
}

func (a *authState) saslReply(reply bsoncore.Document) {
	if !okValue(reply) {
		a.pendingUser, a.pendingDB = "", ""
		return
	}
	if boolField(reply, "done") && a.pendingUser != "" {
		a.user, a.db = a.pendingUser, a.pendingDB
		a.pendingUser, a.pendingDB = "", ""
	}
}

func (c *conn) sasl(ci *call) (bsoncore.Document, error) {
	if ci.lname == "saslstart" {
		c.auth.pendingUser, c.auth.pendingDB = scramUser(ci.cmd), ci.db
	}
	reply, err := c.forward(ci, ci.cmd)
	if err != nil || reply == nil {
		return reply, err
	}
	c.auth.saslReply(reply)
	return reply, nil
}

// scramUser reads the user name from a saslStart's SCRAM client-first
// message, "n,,n=<user>,r=<nonce>" (RFC 5802; "=2C" and "=3D" stand for ","
// and "=").
func scramUser(saslStart bsoncore.Document) string {
	var payload string
	v := saslStart.Lookup("payload")
	if _, data, ok := v.BinaryOK(); ok {
		payload = string(data)
	} else if s, ok := v.StringValueOK(); ok {
		payload = s
	}
	parts := strings.SplitN(payload, ",", 3)
	if len(parts) < 3 {
		return ""
	}
	for _, attr := range strings.Split(parts[2], ",") {
		if strings.HasPrefix(attr, "n=") {
			return strings.NewReplacer("=2C", ",", "=3D", "=").Replace(attr[2:])
		}
	}
	return ""
}

// targetUser is the user a command concerns, for matching faults: the
// user a user-management command names, the SCRAM user of an
// authentication, else the connection's authenticated user.
func (c *conn) targetUser(ci *call) string {
	switch ci.lname {
	case "createuser", "updateuser", "dropuser":
		s, _ := ci.cmd.Lookup(ci.name).StringValueOK()
		return s
	case "usersinfo":
		if ks := usersInfoTargets(ci.cmd.Lookup(ci.name), ci.db); len(ks) > 0 {
			return ks[0].user
		}
	case "saslstart":
		return scramUser(ci.cmd)
	case "saslcontinue":
		return c.auth.pendingUser
	case "hello", "ismaster":
		if sa, ok := ci.cmd.Lookup("speculativeAuthenticate").DocumentOK(); ok {
			return scramUser(sa)
		}
	}
	return c.auth.user
}
