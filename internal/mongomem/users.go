package mongomem

import (
	"crypto/md5" //nolint:gosec // MongoDB's SCRAM-SHA-1 password digest is MD5 by definition
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"

	"github.com/google/uuid"
	"github.com/xdg-go/scram"
	"github.com/xdg-go/stringprep"
)

// The SCRAM mechanisms the server stores credentials for.
const (
	ScramSHA1   = "SCRAM-SHA-1"
	ScramSHA256 = "SCRAM-SHA-256"
)

var allMechanisms = []string{ScramSHA1, ScramSHA256}

// RoleRef names a role: a built-in one (root, userAdminAnyDatabase,
// userAdmin, read, readWrite) or one made with createRole.
type RoleRef struct {
	Role string
	DB   string
}

// Privilege is actions on a resource, as connectionStatus lists them: DB and
// Collection both "" is every database ("any normal resource"); AnyResource
// and Cluster are the special resources.
type Privilege struct {
	DB, Collection string
	AnyResource    bool
	Cluster        bool
	Actions        []string
}

type user struct {
	id    uuid.UUID
	db    string
	name  string
	creds map[string]scram.StoredCredentials // by mechanism
	roles []RoleRef
}

func (u *user) mechanisms() []string {
	out := make([]string, 0, len(u.creds))
	for _, m := range allMechanisms {
		if _, ok := u.creds[m]; ok {
			out = append(out, m)
		}
	}
	return out
}

type role struct {
	privileges []Privilege
	roles      []RoleRef
}

// userActions are what userAdmin grants on its database (MongoDB manual,
// Built-In Roles: userAdmin).
var userActions = []string{
	"changeCustomData", "changePassword", "createRole", "createUser", "dropRole", "dropUser",
	"grantRole", "revokeRole", "setAuthenticationRestriction", "viewRole", "viewUser",
}

var (
	readActions      = []string{"changeStream", "collStats", "dbHash", "dbStats", "find", "killCursors", "listCollections", "listIndexes", "listSearchIndexes"}
	readWriteActions = append(slices.Clone(readActions), "convertToCapped", "createCollection", "createIndex", "dropCollection", "dropIndex", "insert", "remove", "renameCollectionSameDB", "update")
)

// builtinPrivileges are the privileges of the built-in roles this server
// knows, simplified (see the package documentation).
func builtinPrivileges(r RoleRef) ([]Privilege, bool) {
	switch {
	case r.Role == "root" && r.DB == "admin":
		return []Privilege{{AnyResource: true, Actions: []string{"anyAction"}}}, true
	case r.Role == "userAdminAnyDatabase" && r.DB == "admin":
		return []Privilege{
			{Actions: userActions},
			{Cluster: true, Actions: []string{"authSchemaUpgrade", "invalidateUserCache", "listDatabases"}},
		}, true
	case r.Role == "userAdmin":
		return []Privilege{{DB: r.DB, Actions: userActions}}, true
	case r.Role == "read":
		return []Privilege{{DB: r.DB, Actions: readActions}}, true
	case r.Role == "readWrite":
		return []Privilege{{DB: r.DB, Actions: readWriteActions}}, true
	}
	return nil, false
}

func userKey(db, name string) string { return db + "\x00" + name }

// credentials computes the stored SCRAM credentials of password for each
// mechanism, as a client derives them: SCRAM-SHA-1 over MongoDB's password
// digest hex(md5("user:mongo:password")), SCRAM-SHA-256 over the SASLprepped
// password.
func credentials(name, password string, mechanisms []string, iterations int) (map[string]scram.StoredCredentials, error) {
	out := map[string]scram.StoredCredentials{}
	for _, m := range mechanisms {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, err
		}
		var client *scram.Client
		var err error
		switch m {
		case ScramSHA1:
			sum := md5.Sum([]byte(name + ":mongo:" + password)) //nolint:gosec // see the import
			client, err = scram.SHA1.NewClientUnprepped(name, hex.EncodeToString(sum[:]), "")
		case ScramSHA256:
			prepped, perr := stringprep.SASLprep.Prepare(password)
			if perr != nil {
				return nil, fmt.Errorf("the password cannot be SASLprepped: %w", perr)
			}
			client, err = scram.SHA256.NewClientUnprepped(name, prepped, "")
		default:
			return nil, fmt.Errorf("mechanism %q is not supported; use %s or %s", m, ScramSHA1, ScramSHA256)
		}
		if err != nil {
			return nil, err
		}
		c, err := client.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: iterations})
		if err != nil {
			return nil, err
		}
		out[m] = c
	}
	return out, nil
}

// privilegesOf expands the roles of u, and the roles they inherit, into a
// privilege list with one entry per resource. The caller holds s.mu.
func (s *Server) privilegesOf(u *user) []Privilege {
	type resource struct {
		db, coll       string
		any, isCluster bool
	}
	merged := map[resource][]string{}
	var order []resource
	seen := map[RoleRef]bool{}
	var visit func(r RoleRef)
	visit = func(r RoleRef) {
		if seen[r] {
			return
		}
		seen[r] = true
		privs, ok := builtinPrivileges(r)
		if !ok {
			custom := s.roles[userKey(r.DB, r.Role)]
			if custom == nil {
				return
			}
			privs = custom.privileges
			for _, inherited := range custom.roles {
				visit(inherited)
			}
		}
		for _, p := range privs {
			k := resource{p.DB, p.Collection, p.AnyResource, p.Cluster}
			if _, ok := merged[k]; !ok {
				order = append(order, k)
			}
			for _, a := range p.Actions {
				if !slices.Contains(merged[k], a) {
					merged[k] = append(merged[k], a)
				}
			}
		}
	}
	for _, r := range u.roles {
		visit(r)
	}
	out := make([]Privilege, 0, len(order))
	for _, k := range order {
		actions := slices.Clone(merged[k])
		sort.Strings(actions)
		out = append(out, Privilege{DB: k.db, Collection: k.coll, AnyResource: k.any, Cluster: k.isCluster, Actions: actions})
	}
	return out
}

// allowsOnDatabase reports whether privs grant action on database db itself
// (a privilege on {db, ""}, on every database, or on anyResource).
func allowsOnDatabase(privs []Privilege, action, db string) bool {
	for _, p := range privs {
		if !slices.Contains(p.Actions, action) && !slices.Contains(p.Actions, "anyAction") {
			continue
		}
		if p.AnyResource || (!p.Cluster && p.Collection == "" && (p.DB == db || p.DB == "")) {
			return true
		}
	}
	return false
}
