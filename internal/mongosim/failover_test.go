package mongosim

import (
	"bytes"
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// TestFailover runs on a set of its own, in order: a step-down the driver
// follows, a step-down that loses an unreplicated change (rolled back on
// the old primary), and a period without primary.
func TestFailover(t *testing.T) {
	t.Parallel()
	s := startSim(t, Options{})
	admin := adminClient(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	coll := admin.Database("failover").Collection("docs")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	electionOf := func() bson.ObjectID {
		t.Helper()
		var hello bson.M
		if err := admin.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}, options.RunCmd().SetReadPreference(readpref.Primary())).Decode(&hello); err != nil {
			t.Fatal(err)
		}
		id, _ := hello["electionId"].(bson.ObjectID)
		return id
	}
	firstElection := electionOf()

	t.Run("step-down moves the primary and the driver follows", func(t *testing.T) {
		old := s.Primary()
		next := secondaries(s)[0]
		if err := s.StepDown(next, StepDownOptions{}); err != nil {
			t.Fatal(err)
		}
		if s.Primary() != next || s.Member(old).State() != "SECONDARY" || s.Member(next).State() != "PRIMARY" {
			t.Fatalf("primary %s, states %s/%s", s.Primary(), s.Member(old).State(), s.Member(next).State())
		}
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "n", Value: 2}}); err != nil {
			t.Fatalf("insert after the step-down: %v", err)
		}
		id := electionOf()
		if bytes.Compare(id[:], firstElection[:]) <= 0 {
			t.Errorf("electionId did not grow: %s then %s", firstElection.Hex(), id.Hex())
		}
		if id.Hex() != "7fffffff0000000000000002" {
			t.Errorf("electionId of term 2: %s", id.Hex())
		}
	})

	t.Run("catch-up keeps every change", func(t *testing.T) {
		user, pw := "caught_up", "Caught-Up-Passw0rd"
		next := secondaries(s)[0]
		if err := s.SetUserLag(next, user, time.Hour); err != nil {
			t.Fatal(err)
		}
		createUser(t, admin, user, pw) // the majority is the primary and the other secondary
		if err := s.StepDown(next, StepDownOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := login(s.Member(next).URI(), user, pw); err != nil {
			t.Errorf("the new primary caught up before taking over: %v", err)
		}
		_ = s.SetUserLag(next, user, 0)
	})

	t.Run("LoseUnreplicated rolls back a change", func(t *testing.T) {
		user, oldPw, lostPw := "rolled_back", "Kept-Passw0rd-1", "Lost-Passw0rd-2"
		createUser(t, admin, user, oldPw)
		oldPrimary := s.Primary()
		for _, h := range secondaries(s) {
			if err := s.SetUserLag(h, user, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := run(ctx, admin, "admin", bson.D{{Key: "updateUser", Value: user}, {Key: "pwd", Value: lostPw},
			{Key: "writeConcern", Value: bson.D{{Key: "w", Value: 1}}}}); err != nil {
			t.Fatal(err)
		}
		if err := login(s.Member(oldPrimary).URI(), user, lostPw); err != nil {
			t.Fatalf("the change is on the old primary before the failover: %v", err)
		}
		before := len(s.UserLog())
		next := secondaries(s)[0]
		if err := s.StepDown(next, StepDownOptions{LoseUnreplicated: true}); err != nil {
			t.Fatal(err)
		}
		for _, h := range s.Hosts() {
			_ = s.SetUserLag(h, user, 0)
			if err := login(s.Member(h).URI(), user, oldPw); err != nil {
				t.Errorf("%s after the roll-back, surviving password: %v", h, err)
			}
			if err := login(s.Member(h).URI(), user, lostPw); !isAuthFailure(err) {
				t.Errorf("%s after the roll-back, lost password: want AuthenticationFailed, got %v", h, err)
			}
		}
		if after := len(s.UserLog()); after != before-1 {
			t.Errorf("log: %d entries before, %d after; want the lost change dropped", before, after)
		}
		if err := login(s.URI(), user, oldPw); err != nil {
			t.Errorf("replica-set login after the failover: %v", err)
		}
	})

	t.Run("no primary until Elect", func(t *testing.T) {
		if err := s.StepDown("", StepDownOptions{}); err != nil {
			t.Fatal(err)
		}
		if s.Primary() != "" {
			t.Fatalf("primary %q after stepping down to none", s.Primary())
		}
		direct := connect(t, s.Member(s.Hosts()[0]).URI(), s.AdminUsername(), s.AdminPassword(), func(o *options.ClientOptions) { o.SetRetryWrites(false) })
		short, cancelShort := context.WithTimeout(ctx, 5*time.Second)
		_, err := direct.Database("failover").Collection("docs").InsertOne(short, bson.D{{Key: "n", Value: 3}})
		cancelShort()
		if codeOf(err) != 10107 {
			t.Errorf("write without a primary: want 10107, got %v", err)
		}
		var hello bson.M
		if err := direct.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
			t.Fatal(err)
		}
		if hello["secondary"] != true || hello["primary"] != nil {
			t.Errorf("hello without a primary: %v", hello)
		}
		if err := s.Elect(s.Hosts()[2]); err != nil {
			t.Fatal(err)
		}
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "n", Value: 4}}); err != nil {
			t.Fatalf("insert after Elect: %v", err)
		}
		if s.Primary() != s.Hosts()[2] {
			t.Errorf("primary %s", s.Primary())
		}
	})
}
