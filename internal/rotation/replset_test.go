package rotation

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/mongosim"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// The protocol on a simulated three-member replica set (internal/mongosim),
// shared by the tests of this file; each test has users of its own, and
// scopes its lags and faults to them.

var (
	simOnce sync.Once
	simSet  *mongosim.Sim
	simErr  error
	// simPool waits 2s for a user change (wtimeout 1s, maxTimeMS 1.3s).
	simPool *mongodb.Pool
)

func replicaSet(t *testing.T) *mongosim.Sim {
	t.Helper()
	simOnce.Do(func() {
		dir, err := tempDir("rotation-replset-")
		if err != nil {
			simErr = err
			return
		}
		simSet, simErr = mongosim.Start(context.Background(), mongosim.Options{Dir: dir})
		simPool = mongodb.NewPool(mongodb.Defaults{ConnectTimeout: 2 * time.Second, ServerSelectionTimeout: 3 * time.Second, WriteTimeout: 2 * time.Second})
		stopAtExit = append(stopAtExit, func() {
			_ = simPool.Close(context.Background())
			_ = simSet.Stop()
		})
	})
	if simErr != nil {
		t.Fatalf("start the simulated replica set: %v", simErr)
	}
	return simSet
}

func simDeployment(s *mongosim.Sim) mongodb.Deployment {
	return mongodb.Deployment{Hosts: s.Hosts(), ReplicaSet: s.SetName()}
}

// newSimFixture is newFixture on the replica set: a user created through
// the primary (on every member once replicated), its password in a
// password-format secret.
func newSimFixture(t *testing.T) *fixture {
	t.Helper()
	s := replicaSet(t)
	ctx := context.Background()
	f := &fixture{t: t, username: strings.ReplaceAll(unique("rs"), "-", "_"), original: "Original-Passw0rd!"}
	c := simAdmin(t, s)
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "createUser", Value: f.username}, {Key: "pwd", Value: f.original}, {Key: "roles", Value: bson.A{}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.AwaitReplication(ctx); err != nil {
		t.Fatal(err)
	}
	v := vault(t, "vault-a")
	b := Binding{Label: "sync0", Vault: v, SecretName: unique("secret"), Format: secretvalue.Password}
	if _, err := v.SetSecretValue(ctx, b.SecretName, keyvault.SecretWrite{Value: f.original}); err != nil {
		t.Fatal(err)
	}
	base := newFixture(t, secretvalue.Password) // for the policy and clock only
	f.req = base.req
	f.req.Bindings = []Binding{b}
	f.req.Mongo = simPool
	f.req.Deployment = simDeployment(s)
	f.req.Account = mongodb.Identity{Username: f.username, AuthSource: "admin"}
	f.req.Escrow = Escrow{Vault: v, SecretName: b.SecretName + "-pending"}
	f.req.MajorityWait = 4 * time.Second
	t.Cleanup(func() {
		for _, h := range s.Hosts() {
			_ = s.SetUserLag(h, f.username, 0)
		}
	})
	return f
}

func simAdmin(t *testing.T, s *mongosim.Sim) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(s.URI()).
		SetAuth(options.Credential{Username: s.AdminUsername(), Password: s.AdminPassword()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// simLogin is a fresh login as the fixture's user on the primary.
func (f *fixture) simLogin(pw string) error {
	return simPool.VerifyLogin(context.Background(), f.req.Deployment, mongodb.Identity{Username: f.username, Password: pw, AuthSource: "admin"})
}

// membersAccepting counts the members on which pw logs in as the fixture's
// user, each reached alone.
func (f *fixture) membersAccepting(s *mongosim.Sim, pw string) int {
	n := 0
	for _, h := range s.Hosts() {
		dep := mongodb.Deployment{Hosts: []string{h}}
		if _, _, err := simPool.Login(context.Background(), dep, mongodb.Identity{Username: f.username, Password: pw, AuthSource: "admin"}); err == nil {
			n++
		}
	}
	return n
}

func (f *fixture) lagSecondaries(s *mongosim.Sim, d time.Duration) {
	f.t.Helper()
	for _, h := range s.Hosts() {
		if h != s.Primary() {
			if err := s.SetUserLag(h, f.username, d); err != nil {
				f.t.Fatal(err)
			}
		}
	}
}

// escrowVersions counts the escrow secret's versions, enabled or not.
func (f *fixture) escrowVersions() (all, enabled int) {
	versions, err := f.req.Escrow.Vault.SecretVersions(context.Background(), f.req.Escrow.SecretName)
	if errors.Is(err, keyvault.ErrSecretNotFound) {
		return 0, 0
	}
	if err != nil {
		f.t.Fatal(err)
	}
	for _, v := range versions {
		all++
		if v.Enabled {
			enabled++
		}
	}
	return all, enabled
}

// Key Vault gets the new password only once a majority of members has it:
// with the secondaries 0.4s late, Rotate returns after they applied it.
func TestReplicaSetKeyVaultWrittenOnlyOnceAMajorityHasThePassword(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	s := replicaSet(t)
	f.lagSecondaries(s, 400*time.Millisecond) // under wtimeout (1s)
	if _, err := Rotate(context.Background(), f.req); err != nil {
		t.Fatal(err)
	}
	pw, _ := f.secretPassword(f.req.Bindings[0])
	if n := f.membersAccepting(s, pw); n < 2 {
		t.Errorf("when Key Vault got the new password, %d of 3 members accepted it; want a majority", n)
	}
}

// A writeConcernError is "applied, durability pending": the rotation asks
// again until a majority confirms (here, once the lag is lifted), and never
// treats the change as not made.
func TestReplicaSetWriteConcernErrorWaitsForTheMajority(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	s := replicaSet(t)
	f.lagSecondaries(s, time.Hour)
	go func() {
		time.Sleep(1500 * time.Millisecond) // past the first wtimeout (1s)
		f.lagSecondaries(s, 0)
	}()
	if _, err := Rotate(context.Background(), f.req); err != nil {
		t.Fatal(err)
	}
	pw, _ := f.secretPassword(f.req.Bindings[0])
	if err := f.simLogin(pw); err != nil {
		t.Fatal(err)
	}
	if n := f.membersAccepting(s, pw); n < 2 {
		t.Errorf("%d of 3 members accept the new password; want a majority", n)
	}
}

// With the majority out of reach for longer than MajorityWait, the primary
// is rolled back to the previous password and nothing is written.
func TestReplicaSetNoMajorityRollsBack(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	s := replicaSet(t)
	f.lagSecondaries(s, time.Hour)
	_, err := Rotate(context.Background(), f.req)
	var re *Error
	if !errors.As(err, &re) || re.Stage != StageChange || !strings.Contains(re.MongoDB, "rolled back and verified") {
		t.Fatalf("Rotate = %v, want a roll-back at the MongoDB change", err)
	}
	if pw, _ := f.secretPassword(f.req.Bindings[0]); pw != f.original {
		t.Error("the bound secret was written")
	}
	if _, enabled := f.escrowVersions(); enabled != 0 {
		t.Errorf("%d escrow versions left enabled after a verified roll-back", enabled)
	}
	f.lagSecondaries(s, 0)
	if err := s.AwaitReplication(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.membersAccepting(s, f.original); n != 3 {
		t.Errorf("after the roll-back replicated, %d of 3 members accept the previous password", n)
	}
}

// A server error that proves updateUser never ran aborts the escrow and
// names the code; nothing else changes.
func TestReplicaSetRefusedUpdateUserChangesNothing(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	s := replicaSet(t)
	id, err := s.InjectFault(mongosim.Fault{Command: "updateUser", User: f.username, Action: mongosim.FaultError, Code: 2, Errmsg: "simulated bad value"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.RemoveFault(id)
	_, err = Rotate(context.Background(), f.req)
	var re *Error
	if !errors.As(err, &re) || !strings.Contains(re.MongoDB, "code 2 BadValue") {
		t.Fatalf("Rotate = %v, want the refusal with its code", err)
	}
	if _, enabled := f.escrowVersions(); enabled != 0 {
		t.Errorf("%d escrow versions left enabled after a refusal that proves nothing changed", enabled)
	}
	if err := f.simLogin(f.original); err != nil {
		t.Errorf("the previous password no longer logs in: %v", err)
	}
}

// A user without changeOwnPassword fails at preflight: no escrow version
// is staged and no secret is written. A parent with changePassword on
// admin only cannot rotate a user of another database, and is told so.
func TestReplicaSetPrivilegesCheckedBeforeStaging(t *testing.T) {
	t.Parallel()
	f := newSimFixture(t)
	s := replicaSet(t)
	s.Grant(f.username, "admin", mongosim.Privilege{DB: "admin", Actions: []string{"find", "insert", "update"}})
	_, err := Rotate(context.Background(), f.req)
	var re *Error
	if !errors.As(err, &re) || re.Stage != StagePreflight || !strings.Contains(err.Error(), "lacks the changeOwnPassword action on the database admin") ||
		!strings.Contains(err.Error(), "createRole") || !strings.Contains(err.Error(), "grantRolesToUser") {
		t.Fatalf("Rotate = %v, want a preflight failure naming changeOwnPassword with the role commands", err)
	}
	if all, _ := f.escrowVersions(); all != 0 {
		t.Errorf("%d escrow versions staged although the privilege check failed first", all)
	}
	if pw, _ := f.secretPassword(f.req.Bindings[0]); pw != f.original {
		t.Error("the bound secret was written")
	}
	s.Grant(f.username, "admin", mongosim.Privilege{DB: "admin", Actions: []string{"changeOwnPassword"}})
	if _, err := Rotate(context.Background(), f.req); err != nil {
		t.Fatalf("with changeOwnPassword granted: %v", err)
	}
}

// A parent whose changePassword is on admin only (what userAdmin on admin
// gives) cannot change a user of orders: the preflight says which action is
// missing on which database, before anything is staged.
func TestReplicaSetParentNeedsChangePasswordOnTheTargetDatabase(t *testing.T) {
	t.Parallel()
	s := replicaSet(t)
	ctx := context.Background()
	c := simAdmin(t, s)
	parent := strings.ReplaceAll(unique("rsadm"), "-", "_")
	child := strings.ReplaceAll(unique("rsapp"), "-", "_")
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "createUser", Value: parent}, {Key: "pwd", Value: "Parent-Passw0rd!"}, {Key: "roles", Value: bson.A{}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Database("orders").RunCommand(ctx, bson.D{{Key: "createUser", Value: child}, {Key: "pwd", Value: "Child-Passw0rd!"}, {Key: "roles", Value: bson.A{}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.AwaitReplication(ctx); err != nil {
		t.Fatal(err)
	}
	s.Grant(parent, "admin", mongosim.Privilege{DB: "admin", Actions: []string{"changePassword", "viewUser", "createUser", "dropUser"}})
	f := newSimFixture(t)
	v := f.req.Bindings[0].Vault
	parentSecret := unique("parent")
	if _, err := v.SetSecretValue(ctx, parentSecret, keyvault.SecretWrite{Value: "Parent-Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.SetSecretValue(ctx, f.req.Bindings[0].SecretName, keyvault.SecretWrite{Value: "Child-Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	f.req.Account = mongodb.Identity{Username: child, AuthSource: "orders"}
	f.req.Parent = &Parent{Account: mongodb.Identity{Username: parent, AuthSource: "admin"}, Source: Binding{Label: "parent", Vault: v, SecretName: parentSecret, Format: secretvalue.Password}}
	_, err := Rotate(ctx, f.req)
	if err == nil || !strings.Contains(err.Error(), "lacks the changePassword action on the database orders") || !strings.Contains(err.Error(), `resource: {db: "orders"`) {
		t.Fatalf("Rotate = %v, want a preflight failure naming changePassword on orders", err)
	}
	if all, _ := f.escrowVersions(); all != 0 {
		t.Errorf("%d escrow versions staged although the privilege check failed first", all)
	}
	s.Grant(parent, "admin", mongosim.Privilege{DB: "orders", Actions: []string{"changePassword", "viewUser"}})
	if _, err := Rotate(ctx, f.req); err != nil {
		t.Fatalf("with changePassword on orders granted: %v", err)
	}
}

func tempDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err == nil {
		stopAtExit = append(stopAtExit, func() { _ = os.RemoveAll(dir) })
	}
	return dir, err
}
