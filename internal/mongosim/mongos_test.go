package mongosim

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestRouterUserCaches: a change through one router is seen there at once
// and on the other router only after its next user-cache refresh (or an
// invalidateUserCache on it).
func TestRouterUserCaches(t *testing.T) {
	t.Parallel()
	const interval = 1500 * time.Millisecond
	s := startSim(t, Options{Routers: 2, UserCacheInterval: interval})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := s.Member(s.Hosts()[0]), s.Member(s.Hosts()[1])
	viaA := connect(t, a.URI(), s.AdminUsername(), s.AdminPassword())

	var hello bson.M
	if err := viaA.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		t.Fatal(err)
	}
	if hello["msg"] != "isdbgrid" || hello["setName"] != nil || hello["isWritablePrimary"] != true {
		t.Errorf("router hello: %v", hello)
	}
	// The driver sees routers as mongos.
	if err := login(s.URI(), s.AdminUsername(), s.AdminPassword()); err != nil {
		t.Fatalf("login through the routers: %v", err)
	}

	// Wait for a fresh tick so that the change lands early in an interval.
	time.Sleep(time.Until(s.repl.nextRefresh(time.Now())) + 50*time.Millisecond)
	user, pw := "cached_user", "Router-Passw0rd-1"
	changed := time.Now()
	createUser(t, viaA, user, pw)
	if err := login(a.URI(), user, pw); err != nil {
		t.Errorf("the router that made the change: %v", err)
	}
	err := login(b.URI(), user, pw)
	if time.Now().Before(s.repl.nextRefresh(changed)) && !isAuthFailure(err) {
		t.Errorf("the other router before its refresh: want AuthenticationFailed, got %v", err)
	}
	// Within the next refresh, with an interval's margin for a loaded
	// machine (-race on two cores): the bound is the behaviour, not a timing.
	eventually(t, 2*interval, "the other router after its refresh", func() error { return login(b.URI(), user, pw) })

	// invalidateUserCache refreshes a router at once.
	if _, err := run(ctx, viaA, "admin", bson.D{{Key: "updateUser", Value: user}, {Key: "pwd", Value: "Router-Passw0rd-2"}}); err != nil {
		t.Fatal(err)
	}
	viaB := connect(t, b.URI(), s.AdminUsername(), s.AdminPassword())
	if _, err := run(ctx, viaB, "admin", bson.D{{Key: "invalidateUserCache", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := login(b.URI(), user, "Router-Passw0rd-2"); err != nil {
		t.Errorf("after invalidateUserCache: %v", err)
	}
}
