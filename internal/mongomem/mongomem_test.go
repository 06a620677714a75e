package mongomem_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/mongomem"
)

func start(t *testing.T) *mongomem.Server {
	t.Helper()
	s, err := mongomem.Start(mongomem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect returns a client logged in as user@db with password (mechanism ""
// lets the driver negotiate), or nil credentials when user is "".
func connect(t *testing.T, s *mongomem.Server, db, user, password, mechanism string) *mongo.Client {
	t.Helper()
	opts := options.Client().ApplyURI(s.URI()).SetDirect(true).
		SetServerSelectionTimeout(5 * time.Second).SetConnectTimeout(5 * time.Second)
	if user != "" {
		opts.SetAuth(options.Credential{AuthSource: db, Username: user, Password: password, AuthMechanism: mechanism})
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// login runs ping on a fresh client logged in as user@admin, which
// authenticates first.
func login(t *testing.T, s *mongomem.Server, user, password, mechanism string) error {
	t.Helper()
	c := connect(t, s, "admin", user, password, mechanism)
	return c.Ping(ctxFor(t), nil)
}

func serverCode(err error) int32 {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

func TestLoginWithBothMechanisms(t *testing.T) {
	t.Parallel()
	s := start(t)
	if err := s.CreateUser("admin", "app", "Sekret-1", nil, mongomem.RoleRef{Role: "readWrite", DB: "orders"}); err != nil {
		t.Fatal(err)
	}
	for _, mech := range []string{"", mongomem.ScramSHA256, mongomem.ScramSHA1} {
		if err := login(t, s, "app", "Sekret-1", mech); err != nil {
			t.Errorf("login with mechanism %q: %v", mech, err)
		}
		err := login(t, s, "app", "wrong", mech)
		if code := serverCode(err); code != 18 {
			t.Errorf("wrong password with mechanism %q: %v (code %d), want AuthenticationFailed (18)", mech, err, code)
		}
	}
	if err := login(t, s, "nobody", "Sekret-1", ""); serverCode(err) != 18 {
		t.Errorf("unknown user: %v, want code 18", err)
	}
	// A user with SCRAM-SHA-1 only is negotiated down to it.
	if err := s.CreateUser("admin", "legacy", "Old-Passw0rd", []string{mongomem.ScramSHA1}); err != nil {
		t.Fatal(err)
	}
	if err := login(t, s, "legacy", "Old-Passw0rd", ""); err != nil {
		t.Errorf("negotiated login of a SCRAM-SHA-1 user: %v", err)
	}
	if err := login(t, s, "legacy", "Old-Passw0rd", mongomem.ScramSHA256); serverCode(err) != 18 {
		t.Errorf("SCRAM-SHA-256 login of a SCRAM-SHA-1-only user: %v, want code 18", err)
	}
	counts := s.CommandCounts()
	if counts["saslStart"] == 0 || counts["saslContinue"] == 0 {
		t.Errorf("command counts %v: no SASL conversation outside the handshake", counts)
	}
}

func TestUpdateUserChangesThePassword(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx := ctxFor(t)
	admin := connect(t, s, "admin", "", "", "")
	// The first user needs no authentication (localhost exception).
	if err := admin.Database("admin").RunCommand(ctx, bson.D{
		{Key: "createUser", Value: "root"}, {Key: "pwd", Value: "Root-Passw0rd"}, {Key: "roles", Value: bson.A{"root"}},
	}).Err(); err != nil {
		t.Fatal(err)
	}
	// The next one does.
	err := admin.Database("admin").RunCommand(ctx, bson.D{
		{Key: "createUser", Value: "other"}, {Key: "pwd", Value: "x"}, {Key: "roles", Value: bson.A{}},
	}).Err()
	if serverCode(err) != 13 {
		t.Fatalf("second createUser without authentication: %v, want Unauthorized (13)", err)
	}
	root := connect(t, s, "admin", "root", "Root-Passw0rd", "")
	rootDB := root.Database("admin")
	if err := rootDB.RunCommand(ctx, bson.D{
		{Key: "createRole", Value: "ownPassword"},
		{Key: "privileges", Value: bson.A{bson.D{
			{Key: "resource", Value: bson.D{{Key: "db", Value: "admin"}, {Key: "collection", Value: ""}}},
			{Key: "actions", Value: bson.A{"changeOwnPassword"}},
		}}},
		{Key: "roles", Value: bson.A{}},
	}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rootDB.RunCommand(ctx, bson.D{
		{Key: "createUser", Value: "app"}, {Key: "pwd", Value: "Old-Passw0rd"}, {Key: "roles", Value: bson.A{"ownPassword"}},
		{Key: "mechanisms", Value: bson.A{"SCRAM-SHA-256"}},
	}).Err(); err != nil {
		t.Fatal(err)
	}
	err = rootDB.RunCommand(ctx, bson.D{{Key: "createUser", Value: "app"}, {Key: "pwd", Value: "x"}, {Key: "roles", Value: bson.A{}}}).Err()
	if serverCode(err) != 51003 {
		t.Errorf("createUser of an existing user: %v, want 51003", err)
	}

	// usersInfo, as the rotation reads mechanisms (showCredentials false).
	var info struct {
		Users []struct {
			ID          string   `bson:"_id"`
			User        string   `bson:"user"`
			DB          string   `bson:"db"`
			Mechanisms  []string `bson:"mechanisms"`
			Credentials bson.Raw `bson:"credentials"`
			Roles       []struct {
				Role string `bson:"role"`
				DB   string `bson:"db"`
			} `bson:"roles"`
		} `bson:"users"`
	}
	app := connect(t, s, "admin", "app", "Old-Passw0rd", "")
	if err := app.Database("admin").RunCommand(ctx, bson.D{{Key: "usersInfo", Value: bson.D{{Key: "user", Value: "app"}, {Key: "db", Value: "admin"}}}}).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if len(info.Users) != 1 || info.Users[0].ID != "admin.app" || !slices.Equal(info.Users[0].Mechanisms, []string{"SCRAM-SHA-256"}) ||
		info.Users[0].Credentials != nil || len(info.Users[0].Roles) != 1 || info.Users[0].Roles[0].Role != "ownPassword" {
		t.Errorf("usersInfo = %+v", info)
	}
	// Another user's info needs viewUser.
	if err := app.Database("admin").RunCommand(ctx, bson.D{{Key: "usersInfo", Value: "root"}}).Err(); serverCode(err) != 13 {
		t.Errorf("usersInfo of another user without viewUser: %v, want 13", err)
	}
	if err := rootDB.RunCommand(ctx, bson.D{{Key: "usersInfo", Value: bson.D{{Key: "forAllDBs", Value: true}}}}).Decode(&info); err != nil || len(info.Users) != 2 {
		t.Errorf("usersInfo forAllDBs as root = %+v (%v)", info, err)
	}

	// connectionStatus with showPrivileges, as the rotation's preflight runs it.
	var status struct {
		AuthInfo struct {
			Users []struct {
				User string `bson:"user"`
				DB   string `bson:"db"`
			} `bson:"authenticatedUsers"`
			Privileges []struct {
				Resource bson.M   `bson:"resource"`
				Actions  []string `bson:"actions"`
			} `bson:"authenticatedUserPrivileges"`
		} `bson:"authInfo"`
	}
	if err := app.Database("admin").RunCommand(ctx, bson.D{{Key: "connectionStatus", Value: 1}, {Key: "showPrivileges", Value: true}}).Decode(&status); err != nil {
		t.Fatal(err)
	}
	if len(status.AuthInfo.Users) != 1 || status.AuthInfo.Users[0].User != "app" || len(status.AuthInfo.Privileges) != 1 ||
		!slices.Equal(status.AuthInfo.Privileges[0].Actions, []string{"changeOwnPassword"}) || status.AuthInfo.Privileges[0].Resource["db"] != "admin" {
		t.Errorf("connectionStatus = %+v", status)
	}

	// Self-rotation, with the mechanisms the user has, as the engine sends it.
	if err := app.Database("admin").RunCommand(ctx, bson.D{
		{Key: "updateUser", Value: "app"}, {Key: "pwd", Value: "New-Passw0rd"}, {Key: "mechanisms", Value: bson.A{"SCRAM-SHA-256"}},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: 5000}}}, {Key: "maxTimeMS", Value: 6000},
	}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := login(t, s, "app", "New-Passw0rd", ""); err != nil {
		t.Errorf("new password: %v", err)
	}
	if err := login(t, s, "app", "Old-Passw0rd", ""); serverCode(err) != 18 {
		t.Errorf("old password after updateUser: %v, want code 18", err)
	}
	if got := s.Mechanisms("admin", "app"); !slices.Equal(got, []string{"SCRAM-SHA-256"}) {
		t.Errorf("mechanisms after updateUser = %v", got)
	}
	// Without mechanisms, a new password gets credentials for both.
	if err := rootDB.RunCommand(ctx, bson.D{{Key: "updateUser", Value: "app"}, {Key: "pwd", Value: "Third-Passw0rd"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := login(t, s, "app", "Third-Passw0rd", mongomem.ScramSHA1); err != nil {
		t.Errorf("SCRAM-SHA-1 login after updateUser without mechanisms: %v", err)
	}
	// Changing someone else's password needs changePassword.
	if err := app.Database("admin").RunCommand(ctx, bson.D{{Key: "updateUser", Value: "root"}, {Key: "pwd", Value: "x"}}).Err(); serverCode(err) != 13 {
		t.Errorf("changing another user's password with changeOwnPassword: %v, want 13", err)
	}
	if err := rootDB.RunCommand(ctx, bson.D{{Key: "updateUser", Value: "ghost"}, {Key: "pwd", Value: "x"}}).Err(); serverCode(err) != 11 {
		t.Errorf("updateUser of a missing user: %v, want UserNotFound (11)", err)
	}
}

func TestUnknownCommandsAndUnauthenticatedUse(t *testing.T) {
	t.Parallel()
	s := start(t)
	if err := s.CreateUser("admin", "app", "Sekret-1", nil); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	anon := connect(t, s, "", "", "", "")
	if err := anon.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Errorf("ping without authentication: %v", err)
	}
	err := anon.Database("admin").RunCommand(ctx, bson.D{{Key: "usersInfo", Value: 1}}).Err()
	if serverCode(err) != 13 {
		t.Errorf("usersInfo without authentication: %v, want 13", err)
	}
	app := connect(t, s, "admin", "app", "Sekret-1", "")
	err = app.Database("orders").RunCommand(ctx, bson.D{{Key: "find", Value: "customers"}}).Err()
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != 59 || ce.Name != "CommandNotFound" {
		t.Errorf("find: %v, want CommandNotFound (59)", err)
	}
	var hello bson.M
	if err := anon.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		t.Fatal(err)
	}
	if hello["isWritablePrimary"] != true || hello["setName"] != nil || hello["msg"] != nil {
		t.Errorf("hello = %v, want a standalone", hello)
	}
}
