package provider

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/mongosim"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// Real MongoDB targets, through the terraform CLI, on a simulated replica
// set (internal/mongosim) with a privilege table: the provider checks
// privileges before it stages anything, and warns at refresh.

var simTargets struct {
	once sync.Once
	sim  *mongosim.Sim
	err  error
}

// testAccReplicaSet is a three-member replica set shared by this file's
// tests, started on first use; its FerretDB processes die with the test
// binary (Pdeathsig), its directory is under the package's temp dir.
func testAccReplicaSet(t *testing.T) *mongosim.Sim {
	t.Helper()
	testAccStack(t)
	simTargets.once.Do(func() {
		dir, err := os.MkdirTemp("", "segura-provider-replset-") //nolint:usetesting // shared by the package's tests: it outlives any one of them
		if err != nil {
			simTargets.err = err
			return
		}
		cfg := testAccConfig()
		simTargets.sim, simTargets.err = mongosim.Start(context.Background(), mongosim.Options{
			Dir: dir, AdminUsername: cfg.MongoDBAdminUsername, AdminPassword: cfg.MongoDBAdminPassword,
		})
	})
	if simTargets.err != nil {
		t.Fatalf("start the simulated replica set: %v", simTargets.err)
	}
	return simTargets.sim
}

// simChain is a rotation chain whose device is the whole replica set.
type simChain struct {
	rotationChain
	sim *mongosim.Sim
}

func newSimChain(sim *mongosim.Sim, prefix string, parent bool) simChain {
	name := testAccName(prefix)
	c := rotationChain{
		name: name, username: usernameFor(name), mongoURI: sim.URI(),
		secrets: []rotationSecret{{resource: "pw", name: name + "-pw", format: secretvalue.Password}},
	}
	if parent {
		c.parent = &rotationSecret{resource: "admin", name: name + "-admin", format: secretvalue.Password}
	}
	return simChain{rotationChain: c, sim: sim}
}

func (c simChain) hcl() string {
	hosts := make([]string, 0, len(c.sim.Hosts()))
	for _, h := range c.sim.Hosts() {
		hosts = append(hosts, fmt.Sprintf("%q", h))
	}
	return strings.Replace(c.rotationChain.hcl(), fmt.Sprintf("address = %q", c.hostPort()),
		fmt.Sprintf("hosts = [%s]\n  replica_set = %q", strings.Join(hosts, ", "), c.sim.SetName()), 1)
}

// secretVersions counts the versions of a secret (0 when it does not exist).
func testAccSecretVersionCount(t *testing.T, vaultURL, name string) int {
	t.Helper()
	n := 0
	for pager := testAccSecretsClient(t, vaultURL).NewListSecretPropertiesVersionsPager(name, nil); pager.More(); {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			return n
		}
		n += len(page.Value)
	}
	return n
}

// An application user with readWrite-like rights but no changeOwnPassword:
// the apply fails at preflight with the role commands, having staged no
// escrow version and written no secret; once granted, the rotation works;
// revoked again, refresh warns before the next scheduled apply.
func TestAccPrivilegeMissingFailsBeforeAnythingIsStaged(t *testing.T) {
	t.Parallel()
	sim := testAccReplicaSet(t)
	c := newSimChain(sim, "priv", false)
	original := "Original-Passw0rd-" + c.name
	testAccRecordSecret(original)
	c.arrange(t, sim.URI(), original)
	if err := sim.AwaitReplication(context.Background()); err != nil {
		t.Fatal(err)
	}
	appOnly := mongosim.Privilege{DB: "admin", Actions: []string{"find", "insert", "update", "remove"}}
	sim.Grant(c.username, "admin", appOnly)

	ws := newCLIWorkspace(t)
	ws.Write(c.hcl())
	primary := c.secrets[0]
	before := testAccSecretVersionCount(t, primary.vaultURL(), primary.name)
	out, err := ws.Run("apply", "-auto-approve", "-input=false")
	flat := collapse(out)
	if err == nil {
		t.Fatalf("the apply succeeded without changeOwnPassword:\n%s", ftail(out, 3000))
	}
	for _, want := range []string{
		"lacks the changeOwnPassword action on the database admin",
		"no escrow was staged and no secret was written",
		`db.getSiblingDB("admin").createRole({role: "seguraChangeOwnPassword", privileges: [{resource: {db: "admin", collection: ""}, actions: ["changeOwnPassword"]}], roles: []})`,
		fmt.Sprintf(`db.getSiblingDB("admin").grantRolesToUser(%q, [{role: "seguraChangeOwnPassword", db: "admin"}])`, c.username),
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the error does not say %q:\n%s", want, ftail(flat, 3000))
		}
	}
	if n := testAccSecretVersionCount(t, primary.vaultURL(), primary.name+escrowSuffix); n != 0 {
		t.Errorf("%d escrow versions were staged before the privilege check failed", n)
	}
	if n := testAccSecretVersionCount(t, primary.vaultURL(), primary.name); n != before {
		t.Errorf("the bound secret has %d versions, %d before the apply", n, before)
	}
	if err := testAccMongoLogin(sim.URI(), c.username, original); err != nil {
		t.Errorf("the password of before no longer logs in: %v", err)
	}

	sim.Grant(c.username, "admin", mongosim.Privilege{DB: "admin", Actions: []string{"changeOwnPassword"}})
	ws.MustRun("apply", "-auto-approve", "-input=false")
	if err := c.checkConverged(t, sim.URI(), &original)(nil); err != nil {
		t.Fatal(err)
	}

	sim.Revoke(c.username, "admin")
	sim.Grant(c.username, "admin", appOnly)
	out, err = ws.Run("plan", "-input=false", "-detailed-exitcode")
	if code := exitCode(err); code != 0 {
		t.Fatalf("plan exit %d, want 0 (a missing privilege is a warning, not drift):\n%s", code, ftail(out, 3000))
	}
	if flat := collapse(out); !strings.Contains(flat, "Credential lacks a MongoDB privilege") || !strings.Contains(flat, "lacks the changeOwnPassword action on its database") {
		t.Errorf("the plan does not warn about the missing privilege:\n%s", ftail(flat, 3000))
	}
}

// A parent holding changePassword on admin only (what userAdmin on admin
// gives) rotating a user of orders: the apply names the action and the
// database, and the commands to grant it there.
func TestAccParentNeedsChangePasswordOnTheTargetDatabase(t *testing.T) {
	t.Parallel()
	sim := testAccReplicaSet(t)
	c := newSimChain(sim, "privp", true)
	original := "Original-Passw0rd-" + c.name
	testAccRecordSecret(original)
	testAccRecordSecret(original + "-admin")
	admin := testAccMongoAdmin(t, sim.URI())
	ctx := context.Background()
	if err := admin.Database("orders").RunCommand(ctx, bson.D{{Key: "createUser", Value: c.username}, {Key: "pwd", Value: original}, {Key: "roles", Value: bson.A{}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Database("admin").RunCommand(ctx, bson.D{{Key: "createUser", Value: c.parentUser()}, {Key: "pwd", Value: original + "-admin"}, {Key: "roles", Value: bson.A{}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := sim.AwaitReplication(ctx); err != nil {
		t.Fatal(err)
	}
	testAccPutSecret(t, c.secrets[0].vaultURL(), c.secrets[0].name, original)
	testAccPutSecret(t, c.parent.vaultURL(), c.parent.name, original+"-admin")
	t.Cleanup(func() { testAccDeleteSecret(t, c.secrets[0].vaultURL(), c.secrets[0].name+escrowSuffix, true) })
	sim.Grant(c.parentUser(), "admin", mongosim.Privilege{DB: "admin", Actions: []string{"changePassword", "createUser", "dropUser", "grantRole", "viewUser"}})

	hcl := strings.Replace(c.hcl(), fmt.Sprintf("username = %q", c.username), fmt.Sprintf("username = %q\n  auth_database = \"orders\"", c.username), 1)
	ws := newCLIWorkspace(t)
	ws.Write(hcl)
	out, err := ws.Run("apply", "-auto-approve", "-input=false")
	flat := collapse(out)
	if err == nil {
		t.Fatalf("the apply succeeded without changePassword on orders:\n%s", ftail(out, 3000))
	}
	for _, want := range []string{
		fmt.Sprintf("the parent %s@admin lacks the changePassword action on the database orders", c.parentUser()),
		"userAdmin on admin does not cover a user in another database",
		`privileges: [{resource: {db: "orders", collection: ""}, actions: ["changePassword", "viewUser"]}]`,
		fmt.Sprintf(`db.getSiblingDB("admin").grantRolesToUser(%q, [{role: "seguraRotateUsers", db: "orders"}])`, c.parentUser()),
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the error does not say %q:\n%s", want, ftail(flat, 3000))
		}
	}
	if n := testAccSecretVersionCount(t, c.secrets[0].vaultURL(), c.secrets[0].name+escrowSuffix); n != 0 {
		t.Errorf("%d escrow versions were staged before the privilege check failed", n)
	}

	sim.Grant(c.parentUser(), "admin", mongosim.Privilege{DB: "orders", Actions: []string{"changePassword", "viewUser"}})
	ws.MustRun("apply", "-auto-approve", "-input=false")
	pw, err := testAccSecretPassword(t, c.secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := testAccMongoLoginDB(sim.URI(), c.username, "orders", pw); err != nil {
		t.Errorf("the rotated password does not log in to orders: %v", err)
	}
}

// testAccSecretPassword returns the password in s's latest version.
func testAccSecretPassword(t *testing.T, s rotationSecret) (string, error) {
	resp, err := testAccSecretsClient(t, s.vaultURL()).GetSecret(context.Background(), s.name, "", nil)
	if err != nil {
		return "", err
	}
	pw, err := secretvalue.Parse(s.format, *resp.Value)
	if err == nil {
		testAccRecordSecret(pw)
	}
	return pw, err
}

// testAccMongoLoginDB is testAccMongoLogin for a user of another database.
func testAccMongoLoginDB(uri, username, db, pw string) error {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second).
		SetAuth(options.Credential{Username: username, Password: pw, AuthSource: db}))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck
	return client.Database(db).RunCommand(context.Background(), bson.D{{Key: "ping", Value: 1}}).Err()
}

// A user with credentials for both SCRAM mechanisms keeps both through two
// rotations on the replica set: a client pinned to SCRAM-SHA-1 still logs
// in with the Key Vault value, on every member.
func TestAccBothSCRAMMechanismsKeptOnAReplicaSet(t *testing.T) {
	t.Parallel()
	sim := testAccReplicaSet(t)
	c := newSimChain(sim, "mechs", false)
	original := "Original-Passw0rd-" + c.name
	testAccRecordSecret(original)
	c.arrange(t, sim.URI(), original)
	testAccMongoRun(t, sim.URI(), bson.D{{Key: "updateUser", Value: c.username}, {Key: "pwd", Value: original},
		{Key: "mechanisms", Value: bson.A{"SCRAM-SHA-1", "SCRAM-SHA-256"}}})
	ws := newCLIWorkspace(t)
	for _, trigger := range []string{"1", "2"} {
		ws.Write(strings.Replace(c.hcl(), "syncs      =", fmt.Sprintf("triggers = { n = %q }\n  syncs      =", trigger), 1))
		ws.MustRun("apply", "-auto-approve", "-input=false")
	}
	if err := sim.AwaitReplication(context.Background()); err != nil {
		t.Fatal(err)
	}
	pw, err := testAccSecretPassword(t, c.secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	if pw == original {
		t.Fatal("the password did not change")
	}
	for _, h := range sim.Hosts() {
		for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256"} {
			client, err := mongo.Connect(options.Client().ApplyURI(sim.Member(h).URI()).SetServerSelectionTimeout(5 * time.Second).
				SetAuth(options.Credential{Username: c.username, Password: pw, AuthMechanism: mech}))
			if err != nil {
				t.Fatal(err)
			}
			err = client.Database("admin").RunCommand(context.Background(), bson.D{{Key: "ping", Value: 1}}).Err()
			_ = client.Disconnect(context.Background())
			if err != nil {
				t.Errorf("%s login on %s after two rotations: %v", mech, h, err)
			}
		}
	}
}

// A device whose seed list reaches only secondaries registers, with a
// warning that rotations need the primary.
func TestAccDeviceWithOnlySecondariesWarns(t *testing.T) {
	t.Parallel()
	sim := testAccReplicaSet(t)
	var secondaries []string
	for _, h := range sim.Hosts() {
		if h != sim.Primary() {
			secondaries = append(secondaries, fmt.Sprintf("%q", h))
		}
	}
	ws := newCLIWorkspace(t)
	ws.Write(testAccProviderConfig() + fmt.Sprintf(`
resource "segura_device" "secondaries" {
  name            = %q
  hosts           = [%s]
  replica_set     = %q
  probe_on_create = true
}
`, testAccName("secondaries"), strings.Join(secondaries, ", "), sim.SetName()))
	out := collapse(ws.MustRun("apply", "-auto-approve", "-input=false"))
	for _, want := range []string{"MongoDB device has no writable primary in reach", "is a writable primary", "list every member in hosts"} {
		if !strings.Contains(out, want) {
			t.Errorf("the apply does not say %q:\n%s", want, ftail(out, 3000))
		}
	}
}
