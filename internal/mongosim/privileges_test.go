package mongosim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestPrivileges: a user granted changeOwnPassword may change its own
// password and read its own usersInfo, and gets the server's code 13 with
// the server's message for anyone else's; connectionStatus lists its
// privileges.
func TestPrivileges(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := adminClient(t, rs)
	self, other := userName(t)+"_self", userName(t)+"_other"
	selfPw, otherPw := "Self-Passw0rd-1", "Other-Passw0rd-1"
	createUser(t, admin, self, selfPw)
	createUser(t, admin, other, otherPw)
	rs.Grant(self, "admin", Privilege{DB: "admin", Actions: []string{"changeOwnPassword"}})
	t.Cleanup(func() { rs.Revoke(self, "admin") })

	c := connect(t, rs.URI(), self, selfPw)
	if err := updatePassword(ctx, c, self, "Self-Passw0rd-2"); err != nil {
		t.Fatalf("changeOwnPassword on oneself: %v", err)
	}
	err := updatePassword(ctx, c, other, "Stolen-Passw0rd-9")
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != 13 || ce.Name != "Unauthorized" {
		t.Fatalf("updateUser of another user: want 13 Unauthorized, got %v", err)
	}
	t.Logf("server's refusal: %s", ce.Message)
	wantPrefix := `not authorized on admin to execute command { updateUser: "` + other + `", pwd: "xxx", `
	if !strings.HasPrefix(ce.Message, wantPrefix) || !strings.Contains(ce.Message, `$db: "admin"`) ||
		!strings.HasSuffix(ce.Message, " }") || strings.Contains(ce.Message, "Stolen") {
		t.Errorf("errmsg: %q\nwant the server's shape, starting %q", ce.Message, wantPrefix)
	}
	if !strings.Contains(ce.Message, `lsid: { id: UUID("`) {
		t.Errorf("errmsg should print the session id as the server does (UUID(\"...\")): %q", ce.Message)
	}
	if err := login(rs.URI(), other, otherPw); err != nil {
		t.Errorf("the refused change did not run: %v", err)
	}

	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "usersInfo", Value: self}}).Err(); err != nil {
		t.Errorf("usersInfo of oneself: %v", err)
	}
	err = c.Database("admin").RunCommand(ctx, bson.D{{Key: "usersInfo", Value: other}}).Err()
	if !errors.As(err, &ce) || ce.Code != 13 || !strings.HasPrefix(ce.Message, `not authorized on admin to execute command { usersInfo: "`+other+`"`) {
		t.Errorf("usersInfo of another user without viewUser: %v", err)
	}

	var status struct {
		AuthInfo struct {
			Users []struct{ User, DB string } `bson:"authenticatedUsers"`
			Roles []bson.M                    `bson:"authenticatedUserRoles"`
			Privs []struct {
				Resource bson.M   `bson:"resource"`
				Actions  []string `bson:"actions"`
			} `bson:"authenticatedUserPrivileges"`
		} `bson:"authInfo"`
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "connectionStatus", Value: 1}, {Key: "showPrivileges", Value: true}}).Decode(&status); err != nil {
		t.Fatal(err)
	}
	ai := status.AuthInfo
	if len(ai.Users) != 1 || ai.Users[0].User != self || ai.Users[0].DB != "admin" {
		t.Errorf("authenticatedUsers: %+v", ai.Users)
	}
	if len(ai.Privs) != 1 || ai.Privs[0].Resource["db"] != "admin" || ai.Privs[0].Resource["collection"] != "" ||
		len(ai.Privs[0].Actions) != 1 || ai.Privs[0].Actions[0] != "changeOwnPassword" {
		t.Errorf("authenticatedUserPrivileges: %+v", ai.Privs)
	}

	// changePassword on the target's database allows changing anyone's.
	rs.Grant(self, "admin", Privilege{DB: "", Actions: []string{"changePassword", "viewUser"}})
	if err := updatePassword(ctx, c, other, "Other-Passw0rd-2"); err != nil {
		t.Errorf("changePassword on any database: %v", err)
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "usersInfo", Value: other}}).Err(); err != nil {
		t.Errorf("usersInfo with viewUser: %v", err)
	}
}

// TestUnrestrictedConnectionStatus: a user never granted anything (the
// administrator) is reported with privileges covering password changes
// and viewUser on any database.
func TestUnrestrictedConnectionStatus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := adminClient(t, rs)
	raw, err := run(ctx, admin, "admin", bson.D{{Key: "connectionStatus", Value: 1}, {Key: "showPrivileges", Value: true}})
	if err != nil {
		t.Fatal(err)
	}
	s := raw.String()
	for _, want := range []string{`"user": "` + rs.AdminUsername() + `"`, `"db": ""`, `"changePassword"`, `"changeOwnPassword"`, `"viewUser"`} {
		if !strings.Contains(s, want) {
			t.Errorf("connectionStatus lacks %s: %s", want, s)
		}
	}
}
