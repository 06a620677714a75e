package mongosim

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// TestDiscoveryFromOneSeed: the driver, given one member and the set name,
// discovers the other members from hello and sends writes to the primary.
func TestDiscoveryFromOneSeed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seed := secondaries(rs)[0]
	c := connect(t, "mongodb://"+seed+"/?replicaSet="+rs.SetName(), rs.AdminUsername(), rs.AdminPassword())
	coll := c.Database("discovery").Collection("docs")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatalf("insert through a seed that is a secondary: %v", err)
	}
	var hello bson.M
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		t.Fatal(err)
	}
	if hello["setName"] != rs.SetName() || hello["primary"] != rs.Primary() || hello["isWritablePrimary"] != true {
		t.Errorf("hello from the selected (primary) member: %v", hello)
	}
	if hosts, _ := hello["hosts"].(bson.A); len(hosts) != 3 {
		t.Errorf("hello hosts: %v", hello["hosts"])
	}
	if _, ok := hello["topologyVersion"]; ok {
		t.Error("hello carries topologyVersion: the driver would stream")
	}
	if _, ok := hello["electionId"].(bson.ObjectID); !ok {
		t.Errorf("primary's hello lacks electionId: %v", hello)
	}
	// A read with secondary read preference goes to a secondary, whose
	// hello says so.
	var sec bson.M
	err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}, options.RunCmd().SetReadPreference(readpref.Secondary())).Decode(&sec)
	if err != nil {
		t.Fatal(err)
	}
	if sec["secondary"] != true || sec["isWritablePrimary"] != false || sec["me"] == rs.Primary() {
		t.Errorf("hello from a secondary: %v", sec)
	}
	if _, ok := sec["electionId"]; ok {
		t.Errorf("a secondary reports electionId: %v", sec)
	}
}

// TestSecondaryRefusesWrites: a direct connection to a secondary can read
// but every write answers NotWritablePrimary as the server does.
func TestSecondaryRefusesWrites(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sec := rs.Member(secondaries(rs)[0])
	// Without retryable writes: the driver would retry the labelled
	// RetryableWriteError on the same secondary until the context ends.
	c := connect(t, sec.URI(), rs.AdminUsername(), rs.AdminPassword(), func(o *options.ClientOptions) { o.SetRetryWrites(false) })
	_, err := c.Database("refuse").Collection("docs").InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
	if codeOf(err) != 10107 || !strings.Contains(err.Error(), "not primary") {
		t.Fatalf("insert on a secondary: want 10107 not primary, got %v", err)
	}
	raw, err := run(ctx, c, "admin", bson.D{{Key: "createUser", Value: userName(t)}, {Key: "pwd", Value: "Secr3t-pw"}, {Key: "roles", Value: bson.A{}}})
	var ce mongo.CommandError
	if !asCommandError(err, &ce) || ce.Code != 10107 || ce.Name != "NotWritablePrimary" || ce.Message != "not primary" {
		t.Fatalf("createUser on a secondary: want 10107 NotWritablePrimary \"not primary\", got %v (%s)", err, raw)
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "usersInfo", Value: 1}}).Err(); err != nil {
		t.Errorf("usersInfo (a read) on a secondary: %v", err)
	}
}

func asCommandError(err error, ce *mongo.CommandError) bool {
	if err == nil {
		return false
	}
	e, ok := err.(mongo.CommandError) //nolint:errorlint // the driver returns it unwrapped
	if ok {
		*ce = e
	}
	return ok
}
