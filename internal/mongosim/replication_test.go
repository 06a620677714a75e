package mongosim

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestUserChangeReachesEveryMember: without lag, a created user logs in on
// every member as soon as createUser has answered.
func TestUserChangeReachesEveryMember(t *testing.T) {
	t.Parallel()
	admin := adminClient(t, rs)
	user, pw := userName(t), "Fresh-Passw0rd-1"
	createUser(t, admin, user, pw)
	for _, h := range rs.Hosts() {
		if err := login(rs.Member(h).URI(), user, pw); err != nil {
			t.Errorf("login on %s right after createUser: %v", h, err)
		}
	}
}

// TestLaggingMemberKeepsOldPassword: with a lag on one member, that member
// still accepts the old password (and refuses the new one) until the lag
// has passed; a member without lag has the new one at once.
func TestLaggingMemberKeepsOldPassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := adminClient(t, rs)
	user, oldPw, newPw := userName(t), "Old-Passw0rd-1", "New-Passw0rd-2"
	createUser(t, admin, user, oldPw)
	secs := secondaries(rs)
	lagging, current := rs.Member(secs[0]), rs.Member(secs[1])
	const lag = 5 * time.Second // well above three logins on a loaded machine
	if err := rs.SetUserLag(lagging.Host(), user, lag); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.SetUserLag(lagging.Host(), user, 0) })

	start := time.Now()
	if _, err := run(ctx, admin, "admin", bson.D{{Key: "updateUser", Value: user}, {Key: "pwd", Value: newPw}}); err != nil {
		t.Fatal(err)
	}
	if err := login(current.URI(), user, newPw); err != nil {
		t.Errorf("member without lag, new password: %v", err)
	}
	if err := login(lagging.URI(), user, oldPw); err != nil {
		t.Errorf("lagging member, old password before the lag passed: %v", err)
	}
	if err := login(lagging.URI(), user, newPw); !isAuthFailure(err) {
		t.Errorf("lagging member, new password before the lag passed: want AuthenticationFailed, got %v", err)
	}
	if time.Since(start) >= lag {
		t.Fatalf("the checks took longer than the lag (%s); the test proves nothing", time.Since(start))
	}
	eventually(t, lag+5*time.Second, "new password on the lagging member", func() error {
		return login(lagging.URI(), user, newPw)
	})
	if time.Since(start) < lag {
		t.Errorf("the lagging member applied the change after %s, before its lag of %s", time.Since(start), lag)
	}
	if err := login(lagging.URI(), user, oldPw); !isAuthFailure(err) {
		t.Errorf("lagging member, old password after the lag: want AuthenticationFailed, got %v", err)
	}
}

// TestWriteConcernMajorityWaitsForLag: with both secondaries lagging,
// updateUser with w:"majority" answers only once one of them has applied
// the change.
func TestWriteConcernMajorityWaitsForLag(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := adminClient(t, rs)
	user := userName(t)
	createUser(t, admin, user, "First-Passw0rd-1")
	const lag = 1200 * time.Millisecond
	for _, h := range secondaries(rs) {
		if err := rs.SetUserLag(h, user, lag); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rs.SetUserLag(h, user, 0) })
	}
	start := time.Now()
	raw, err := run(ctx, admin, "admin", bson.D{{Key: "updateUser", Value: user}, {Key: "pwd", Value: "Second-Passw0rd-2"},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}}}})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("updateUser w:majority: %v (%s)", err, raw)
	}
	if took < lag {
		t.Errorf("w:majority answered after %s, before a majority applied the change (lag %s)", took, lag)
	}
	if _, err := raw.LookupErr("writeConcernError"); err == nil {
		t.Errorf("unexpected writeConcernError: %s", raw)
	}
	// w:1 does not wait.
	start = time.Now()
	if _, err := run(ctx, admin, "admin", bson.D{{Key: "updateUser", Value: user}, {Key: "pwd", Value: "Third-Passw0rd-3"},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= lag {
		t.Errorf("w:1 waited %s", took)
	}
}

// TestWriteConcernTimeout: when wtimeout passes before the majority has the
// change, the reply is ok:1 with the server's writeConcernError, and the
// change is applied on the primary.
func TestWriteConcernTimeout(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := adminClient(t, rs)
	user, newPw := userName(t), "Durable-Later-2"
	createUser(t, admin, user, "Before-Passw0rd-1")
	for _, h := range secondaries(rs) {
		if err := rs.SetUserLag(h, user, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, h := range secondaries(rs) {
			_ = rs.SetUserLag(h, user, 0)
		}
	})
	start := time.Now()
	res := admin.Database("admin").RunCommand(ctx, bson.D{{Key: "updateUser", Value: user}, {Key: "pwd", Value: newPw},
		{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: 300}}}})
	raw, err := res.Raw()
	if took := time.Since(start); took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("wtimeout 300 answered after %s", took)
	}
	var wce mongo.WriteConcernError
	if we, ok := err.(mongo.WriteException); ok && we.WriteConcernError != nil { //nolint:errorlint // as the driver returns it
		wce = *we.WriteConcernError
	} else {
		t.Fatalf("want a write exception with a write concern error, got %v (%s)", err, raw)
	}
	if wce.Code != 64 || wce.Name != "WriteConcernFailed" || wce.Message != "waiting for replication timed out" {
		t.Errorf("writeConcernError: %+v", wce)
	}
	want := bson.D{{Key: "wtimeout", Value: true}, {Key: "writeConcern", Value: bson.D{
		{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: int32(300)}, {Key: "provenance", Value: "clientSupplied"}}}}
	var got bson.D
	if err := bson.Unmarshal(wce.Details, &got); err != nil {
		t.Fatal(err)
	}
	if !equalD(got, want) {
		t.Errorf("errInfo: got %v, want %v", got, want)
	}
	if ok, _ := raw.Lookup("ok").AsFloat64OK(); ok != 1 {
		t.Errorf("reply: want ok:1 with the writeConcernError, got %s", raw)
	}
	if err := login(rs.Member(rs.Primary()).URI(), user, newPw); err != nil {
		t.Errorf("the change is on the primary despite the write concern error: %v", err)
	}
}

func equalD(a, b bson.D) bool {
	x, _ := bson.MarshalExtJSON(a, true, false)
	y, _ := bson.MarshalExtJSON(b, true, false)
	return string(x) == string(y)
}

// TestWriteConcernMaxTimeMS: maxTimeMS expiring during the write-concern
// wait gives ok:1 with writeConcernError MaxTimeMSExpired (50).
func TestWriteConcernMaxTimeMS(t *testing.T) {
	t.Parallel()
	admin := adminClient(t, rs)
	user := userName(t)
	createUser(t, admin, user, "MaxTime-Passw0rd-1")
	for _, h := range secondaries(rs) {
		if err := rs.SetUserLag(h, user, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, h := range secondaries(rs) {
			_ = rs.SetUserLag(h, user, 0)
		}
	})
	// No context deadline: the driver would add a maxTimeMS of its own.
	raw, err := admin.Database("admin").RunCommand(context.Background(), bson.D{{Key: "updateUser", Value: user},
		{Key: "pwd", Value: "MaxTime-Passw0rd-2"}, {Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}}},
		{Key: "maxTimeMS", Value: 400}}).Raw()
	we, ok := err.(mongo.WriteException) //nolint:errorlint // as the driver returns it
	if !ok || we.WriteConcernError == nil || we.WriteConcernError.Code != 50 || we.WriteConcernError.Name != "MaxTimeMSExpired" {
		t.Fatalf("want writeConcernError 50 MaxTimeMSExpired, got %v (%s)", err, raw)
	}
	if info := we.WriteConcernError.Details.String(); info != `{"writeConcern": {"w": "majority","wtimeout": {"$numberInt":"0"},"provenance": "clientSupplied"}}` {
		t.Errorf("errInfo: %s", info)
	}
}
