package mongodb

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Privilege is one entry of connectionStatus's authenticatedUserPrivileges:
// actions on a resource.
type Privilege struct {
	// DB and Collection name the resource; DB "" with Collection "" is every
	// database (the server's "any normal resource").
	DB, Collection string
	// AnyResource is {anyResource: true}, which covers everything.
	AnyResource bool
	// Cluster is {cluster: true}, which covers no database.
	Cluster bool
	Actions []string
}

// Privileges are what the server says a session may do.
type Privileges []Privilege

// AllowsOnDatabase reports whether action is granted on the database db
// itself, the resource user-management actions (changeOwnPassword,
// changePassword, viewUser) are checked against: a privilege on {db, ""},
// on every database {"", ""}, or on anyResource. A privilege on one
// collection, or on the cluster, does not count.
func (ps Privileges) AllowsOnDatabase(action, db string) bool {
	for _, p := range ps {
		if !slices.Contains(p.Actions, action) && !slices.Contains(p.Actions, "anyAction") {
			continue
		}
		if p.AnyResource || (!p.Cluster && p.Collection == "" && (p.DB == db || p.DB == "")) {
			return true
		}
	}
	return false
}

// Login performs a fresh login as id on the primary, as VerifyLogin does,
// and returns the session's privileges from connectionStatus with
// showPrivileges: true, a command every authenticated user may run. known
// is false when the server did not list them (FerretDB, which has no
// privileges, and services that leave the field out): callers then cannot
// check, and must not conclude that nothing is granted.
func (p *Pool) Login(ctx context.Context, dep Deployment, id Identity) (privs Privileges, known bool, err error) {
	s, err := p.LoginAndFindUser(ctx, dep, id, "", "")
	return s.Privileges, s.PrivilegesKnown, err
}

// Session is what one fresh login learned.
type Session struct {
	// Privileges are the session's, when PrivilegesKnown (see Login).
	Privileges      Privileges
	PrivilegesKnown bool
	// User is the user LoginAndFindUser looked up, nil when it does not
	// exist or was not asked for; UserErr says why it could not be read
	// (usersInfo needs viewUser unless it is the session's own user).
	User    *User
	UserErr error
}

// LoginAndFindUser is Login, and, when username is not empty, UserInfo of
// username in db on the same connection: one SCRAM conversation instead of
// two. A rotation's preflight needs both from the same identity before
// anything changes, and each login costs a key derivation on both sides and
// three round trips. A failed lookup does not fail the login: it is in
// UserErr.
func (p *Pool) LoginAndFindUser(ctx context.Context, dep Deployment, id Identity, db, username string) (Session, error) {
	c, err := p.connect(dep, &id, false)
	if err != nil {
		return Session{}, err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	var s Session
	if s.Privileges, s.PrivilegesKnown, err = sessionPrivileges(ctx, c, dep, id); err != nil {
		return Session{}, err
	}
	if username != "" {
		s.User, s.UserErr = p.findUser(ctx, c, dep, id, db, username)
	}
	return s, nil
}

// sessionPrivileges runs connectionStatus on c, logged in as id: the first
// command on a fresh client, so it is also the login.
func sessionPrivileges(ctx context.Context, c *mongo.Client, dep Deployment, id Identity) (privs Privileges, known bool, err error) {
	var reply struct {
		AuthInfo struct {
			Privileges *[]struct {
				Resource struct {
					DB          *string `bson:"db"`
					Collection  *string `bson:"collection"`
					AnyResource bool    `bson:"anyResource"`
					Cluster     bool    `bson:"cluster"`
				} `bson:"resource"`
				Actions []string `bson:"actions"`
			} `bson:"authenticatedUserPrivileges"`
		} `bson:"authInfo"`
	}
	cmd := bson.D{{Key: "connectionStatus", Value: 1}, {Key: "showPrivileges", Value: true}}
	if err := c.Database("admin").RunCommand(ctx, cmd).Decode(&reply); err != nil {
		if Classify(err) != KindRefused {
			return nil, false, wrap("log in", dep, id.String(), err)
		}
		// A server without connectionStatus (Azure Cosmos DB for MongoDB RU
		// lists it unsupported) logged us in all the same: prove it with
		// ping, and say the privileges are not known.
		if err := c.Ping(ctx, readpref.Primary()); err != nil {
			return nil, false, wrap("log in", dep, id.String(), err)
		}
		return nil, false, nil
	}
	if reply.AuthInfo.Privileges == nil {
		return nil, false, nil
	}
	for _, e := range *reply.AuthInfo.Privileges {
		pr := Privilege{AnyResource: e.Resource.AnyResource, Cluster: e.Resource.Cluster, Actions: e.Actions}
		if e.Resource.DB != nil {
			pr.DB = *e.Resource.DB
		}
		if e.Resource.Collection != nil {
			pr.Collection = *e.Resource.Collection
		}
		if !pr.AnyResource && !pr.Cluster && e.Resource.DB == nil {
			continue // a resource shape this code does not know covers nothing it checks
		}
		privs = append(privs, pr)
	}
	return privs, true, nil
}
