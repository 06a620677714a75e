package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/ferretdb"
	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/localstack"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

const testAccRotation = "segura_credential_rotation.test"

// testClock is an injectable clock shared by the provider instances of one
// test, so schedule tests move time instead of sleeping.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

func testAccFactoriesWithClock(c *testClock) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"segura": providerserver.NewProtocol6WithError(newWithClock("test", c.Now)()),
	}
}

// rotationSecret is one bound secret of a test chain.
type rotationSecret struct {
	resource string // segura_keyvault_sync name
	name     string // Key Vault secret name
	format   secretvalue.Format
	second   bool // in the stack's second vault
}

func (s rotationSecret) vaultURL() string {
	if s.second {
		return testAccConfig().SecondVaultURL()
	}
	return testAccConfig().VaultURL
}

// rotationChain describes the whole chain a rotation needs.
type rotationChain struct {
	name     string
	username string
	secrets  []rotationSecret
	parent   *rotationSecret // the parent's secret; the parent user is username+"_admin"
	policy   string          // body of segura_rotation_policy.test
	extra    string          // pasted into segura_credential_rotation.test
	mongoURI string          // default: the stack's
	// unrecorded keeps this chain's passwords out of the hygiene scan, for
	// the one test that copies a checked-out password into state on purpose.
	unrecorded bool
	// alternate turns on dual-account mode (dual_account_test.go): a second
	// user, alternateUser(), as alternate_credential, whose password arrange
	// sets to original+"-b" and the configuration passes as
	// alternate_bootstrap_password_wo from var.alternate_bootstrap.
	alternate bool
}

// alternateUser is the second account of a dual-account chain.
func (c rotationChain) alternateUser() string { return c.username + "_b" }

// everyFormat binds one secret per value format, the connection string in
// the stack's second vault.
func everyFormat(name string) []rotationSecret {
	return []rotationSecret{
		{resource: "pw", name: name + "-pw", format: secretvalue.Password},
		{resource: "uri", name: name + "-uri", format: secretvalue.ConnectionString, second: true},
		{resource: "json", name: name + "-json", format: secretvalue.JSON},
	}
}

// primaryID is the versionless id of the primary secret: the rotation's id.
func (c rotationChain) primaryID() string {
	return c.secrets[0].vaultURL() + "secrets/" + c.secrets[0].name
}

// usernameFor derives a MongoDB username from a test object's unique name.
func usernameFor(name string) string { return strings.ReplaceAll(name, "-", "_") }

func (c rotationChain) parentUser() string { return c.username + "_admin" }

func (c rotationChain) hostPort() string {
	if c.mongoURI != "" {
		return localstack.HostPort(c.mongoURI)
	}
	return testAccConfig().MongoDBHostPort()
}

func (c rotationChain) hcl() string {
	cfg := testAccConfig()
	vaultA, urlA := testAccVault()
	vaultB, urlB := testAccVaultOf(cfg.SecondVaultURL())
	var b strings.Builder
	b.WriteString(testAccProviderConfig())
	fmt.Fprintf(&b, `
resource "segura_device" "test" {
  name    = %q
  address = %q
}
`, c.name, c.hostPort())
	if c.parent != nil {
		fmt.Fprintf(&b, `
resource "segura_credential" "admin" {
  device   = segura_device.test
  username = %q
}
`, c.parentUser())
	}
	fmt.Fprintf(&b, `
resource "segura_credential" "test" {
  device   = segura_device.test
  username = %q
  %s
}
%s
resource "segura_dsm_scope" "test" {
  name        = %q
  system      = "orders"
  environment = "test"
  tags        = { owner = "platform" }
}

resource "segura_dsm_application" "a" {
  name       = "%s-a"
  scope      = segura_dsm_scope.test
  tenant_id  = %q
  vault_name = %q
  vault_url  = %q
}

resource "segura_dsm_application" "b" {
  name       = "%s-b"
  scope      = segura_dsm_scope.test
  tenant_id  = %q
  vault_name = %q
  vault_url  = %q
}
`, c.username, map[bool]string{true: "parent = segura_credential.admin", false: ""}[c.parent != nil], c.alternateHCL(),
		c.name, c.name, cfg.TenantID, vaultA, urlA, c.name, cfg.TenantID, vaultB, urlB)
	sync := func(s rotationSecret, credential string) {
		app := "a"
		if s.second {
			app = "b"
		}
		fmt.Fprintf(&b, `
resource "segura_keyvault_sync" %q {
  credential        = segura_credential.%s
  application       = segura_dsm_application.%s
  secret_name       = %q
  value_format      = %q
  create_if_missing = true
}
`, s.resource, credential, app, s.name, s.format)
	}
	refs := make([]string, len(c.secrets))
	for i, s := range c.secrets {
		sync(s, "test")
		refs[i] = "segura_keyvault_sync." + s.resource
	}
	parentSync := ""
	if c.parent != nil {
		sync(*c.parent, "admin")
		parentSync = "parent_sync = segura_keyvault_sync." + c.parent.resource
	}
	policy := c.policy
	if policy == "" {
		policy = "frequency_days = 30"
	}
	extra := c.extra
	if c.alternate {
		extra = "alternate_credential            = segura_credential.alt\n  alternate_bootstrap_password_wo = var.alternate_bootstrap\n  " + extra
	}
	fmt.Fprintf(&b, `
resource "segura_rotation_policy" "test" {
  name = %q
  %s
}

resource "segura_credential_rotation" "test" {
  credential = segura_credential.test
  policy     = segura_rotation_policy.test
  syncs      = [%s]
  %s
  %s
}
`, c.name, policy, strings.Join(refs, ", "), parentSync, extra)
	return b.String()
}

// testAccMongoAdmin connects to a deployment as the stack's admin user.
func testAccMongoAdmin(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	cfg := testAccConfig()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second).
		SetAuth(options.Credential{Username: cfg.MongoDBAdminUsername, Password: cfg.MongoDBAdminPassword}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

func testAccMongoRun(t *testing.T, uri string, cmd bson.D) {
	t.Helper()
	if err := testAccMongoAdmin(t, uri).Database("admin").RunCommand(context.Background(), cmd).Err(); err != nil {
		t.Fatalf("MongoDB %v: %v", cmd[0].Key, err)
	}
}

// testAccMongoLogin is a fresh SCRAM login and ping.
func testAccMongoLogin(uri, username, pw string) error {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second).
		SetAuth(options.Credential{Username: username, Password: pw}))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck
	return client.Database("admin").RunCommand(context.Background(), bson.D{{Key: "ping", Value: 1}}).Err()
}

func isAuthFailure(err error) bool {
	return err != nil && strings.Contains(err.Error(), "AuthenticationFailed")
}

// arrange creates the MongoDB user(s) and puts their current password in
// Key Vault, as the integration guide's prerequisites say.
func (c rotationChain) arrange(t *testing.T, uri, original string) {
	t.Helper()
	testAccMongoRun(t, uri, bson.D{{Key: "createUser", Value: c.username}, {Key: "pwd", Value: original}, {Key: "roles", Value: bson.A{}}})
	primary := c.secrets[0]
	value, err := secretvalue.Render(primary.format, secretvalue.Account{Username: c.username}, original)
	if err != nil {
		t.Fatal(err)
	}
	if primary.format == secretvalue.ConnectionString {
		value = "mongodb://" + c.username + ":" + original + "@" + c.hostPort() + "/"
	}
	testAccPutSecret(t, primary.vaultURL(), primary.name, value)
	for _, s := range c.secrets[1:] {
		t.Cleanup(func() { testAccDeleteSecret(t, s.vaultURL(), s.name, true) })
	}
	t.Cleanup(func() { testAccDeleteSecret(t, primary.vaultURL(), primary.name+escrowSuffix, true) })
	if c.parent != nil {
		testAccMongoRun(t, uri, bson.D{{Key: "createUser", Value: c.parentUser()}, {Key: "pwd", Value: original + "-admin"}, {Key: "roles", Value: bson.A{}}})
		testAccPutSecret(t, c.parent.vaultURL(), c.parent.name, original+"-admin")
	}
	if c.alternate {
		testAccMongoRun(t, uri, bson.D{{Key: "createUser", Value: c.alternateUser()}, {Key: "pwd", Value: original + "-b"}, {Key: "roles", Value: bson.A{}}})
	}
}

// alternateHCL is the alternate credential of a dual-account chain, and the
// ephemeral variable its bootstrap password comes from.
func (c rotationChain) alternateHCL() string {
	if !c.alternate {
		return ""
	}
	parent := ""
	if c.parent != nil {
		parent = "parent   = segura_credential.admin"
	}
	return fmt.Sprintf(`
resource "segura_credential" "alt" {
  device   = segura_device.test
  username = %q
  %s
}

variable "alternate_bootstrap" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = null
}
`, c.alternateUser(), parent)
}

// checkConverged is the end state every rotation must reach: every bound
// secret holds the same password in its own format, a fresh SCRAM login with
// it works, and every password in notAnyMore is refused. The password is
// recorded for the hygiene scan.
func (c rotationChain) checkConverged(t *testing.T, uri string, notAnyMore ...*string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var current string
		user := c.username
		for i, s := range c.secrets {
			resp, err := testAccSecretsClient(t, s.vaultURL()).GetSecret(context.Background(), s.name, "", nil)
			if err != nil {
				return fmt.Errorf("reading %s: %w", s.name, err)
			}
			pw, err := secretvalue.Parse(s.format, *resp.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if !c.unrecorded {
				testAccRecordSecret(pw)
			}
			// Dual-account mode: the value names the account it is for.
			u := usernameInValue(s.format, *resp.Value)
			if i == 0 {
				current = pw
				if u != "" {
					user = u
				}
			} else if pw != current || (u != "" && u != user) {
				return fmt.Errorf("secret %s holds a different password than the primary %s", s.name, c.secrets[0].name)
			}
		}
		if err := testAccMongoLogin(uri, user, current); err != nil {
			return fmt.Errorf("fresh login with the Key Vault value: %w", err)
		}
		for _, old := range notAnyMore {
			if *old == current {
				return fmt.Errorf("the password did not change")
			}
			if err := testAccMongoLogin(uri, user, *old); !isAuthFailure(err) {
				return fmt.Errorf("login with a previous password: want an authentication failure, got %v", err)
			}
		}
		for _, old := range notAnyMore {
			*old = current
		}
		return nil
	}
}

// TestAccCredentialRotation rotates one credential into three secrets in two
// vaults, one per format, then proves the next plan is empty, that triggers
// rotate again, and that the rotation imports from Key Vault's tags.
func TestAccCredentialRotation(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-rot")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets:  everyFormat(name),
		policy:   "frequency_days = 30\n  max_age_days = 45\n  password_length = 40\n  password_min_symbols = 2",
	}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	primaryID := c.primaryID()

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: c.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccRotation, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("last_rotation_reason"), knownvalue.StringExact(reasonInitial)),
					plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("escrow_secret_name"), knownvalue.StringExact(c.secrets[0].name+escrowSuffix)),
					testAccPlanHygiene(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("id"), knownvalue.StringExact(primaryID)),
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("rotation_count"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("pending_rotation_reason"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("secret_versions"), knownvalue.MapSizeExact(3)),
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("next_rotation_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
				},
				Check: resource.ComposeTestCheckFunc(c.checkConverged(t, uri, &last), testAccStateHygiene()),
			},
			{
				// Nothing due, nothing drifted: the plan is empty.
				Config: c.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
					testAccPlanHygiene(),
				}},
			},
			{
				Config: strings.Replace(c.hcl(), "syncs      =", "triggers = { reason = \"incident-42\" }\n  syncs      =", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccRotation, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("last_rotation_reason"), knownvalue.StringExact(reasonTriggers)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("rotation_count"), knownvalue.Int64Exact(2)),
				},
				Check: resource.ComposeTestCheckFunc(c.checkConverged(t, uri, &last), testAccStateHygiene()),
			},
			{
				ResourceName:      testAccRotation,
				ImportState:       true,
				ImportStateId:     primaryID,
				ImportStateVerify: true,
				// Import rebuilds the history from Key Vault; the links come from configuration.
				ImportStateVerifyIgnore: []string{"credential", "policy", "syncs", "parent_sync", "triggers", "escrow_secret_name",
					"next_rotation_at", "exposed_at", "last_rotation_reason", "secret_versions", "timeouts"},
				ImportStateVerifyIdentifierAttribute: "id",
			},
		},
	})
}

// TestAccCredentialRotationSchedule moves an injected clock: not due gives
// an empty plan, due gives an in-place update with the reason, and after the
// apply the plan is empty again.
func TestAccCredentialRotationSchedule(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-sched")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets:  []rotationSecret{{resource: "pw", name: name + "-pw", format: secretvalue.Password}},
		policy:   "frequency_days = 7\n  allowed_weekdays = [\"saturday\"]\n  allowed_times = [\"02:00\"]\n  time_zone = \"Europe/Berlin\"",
	}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	clock := &testClock{}
	// Monday 2026-03-02 10:00 UTC. Next allowed slot after 7 days: Saturday 2026-03-14 02:00 CET = 01:00 UTC.
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock.Set(start)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccFactoriesWithClock(clock),
		Steps: []resource.TestStep{
			{
				Config: c.hcl(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("last_rotated_at"), knownvalue.StringExact("2026-03-02T10:00:00Z")),
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("next_rotation_at"), knownvalue.StringExact("2026-03-14T01:00:00Z")),
				},
				Check: c.checkConverged(t, uri, &last),
			},
			{
				PreConfig: func() { clock.Set(time.Date(2026, 3, 14, 0, 59, 0, 0, time.UTC)) }, // one minute early
				Config:    c.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				PreConfig: func() { clock.Set(time.Date(2026, 3, 14, 1, 0, 0, 0, time.UTC)) },
				Config:    c.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccRotation, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("last_rotation_reason"), knownvalue.StringRegexp(regexp.MustCompile(`(?i)due`))),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("last_rotated_at"), knownvalue.StringExact("2026-03-14T01:00:00Z")),
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("next_rotation_at"), knownvalue.StringExact("2026-03-21T01:00:00Z")),
				},
				Check: c.checkConverged(t, uri, &last),
			},
			{
				Config: c.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}

// TestAccCredentialRotationParentAndDrift rotates through a parent
// credential, then breaks things out of band one at a time: a version set by
// someone else, the password changed in MongoDB, the secret deleted and
// purged. Each shows up in the plan and the next apply converges.
func TestAccCredentialRotationParentAndDrift(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-drift")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets: []rotationSecret{
			{resource: "pw", name: name + "-pw", format: secretvalue.Password},
			{resource: "json", name: name + "-json", format: secretvalue.JSON, second: true},
		},
		parent: &rotationSecret{resource: "admin", name: name + "-admin", format: secretvalue.Password},
	}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	driftStep := func(breakIt func(), reason string) resource.TestStep {
		return resource.TestStep{
			PreConfig: breakIt,
			Config:    c.hcl(),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(testAccRotation, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("last_rotation_reason"), knownvalue.StringRegexp(regexp.MustCompile(reason))),
				testAccPlanHygiene(),
			}},
			Check: resource.ComposeTestCheckFunc(c.checkConverged(t, uri, &last), testAccStateHygiene()),
		}
	}
	second := c.secrets[1]
	primary := c.secrets[0]

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: c.hcl(),
				Check:  c.checkConverged(t, uri, &last),
			},
			driftStep(func() {
				v := `{"username":"someone","password":"else"}`
				if _, err := testAccSecretsClient(t, second.vaultURL()).SetSecret(context.Background(), second.name, azsecretsSet(v), nil); err != nil {
					t.Fatal(err)
				}
			}, `did not write`),
			driftStep(func() {
				testAccMongoRun(t, uri, bson.D{{Key: "updateUser", Value: c.username}, {Key: "pwd", Value: "Changed-by-a-DBA-" + name}})
			}, `no longer logs in`),
			driftStep(func() { testAccDeleteSecret(t, primary.vaultURL(), primary.name, true) }, `deleted outside Terraform`),
			{
				Config:             c.hcl(),
				PlanOnly:           true,
				ExpectNonEmptyPlan: false,
			},
		},
	})
}

// TestAccCredentialRotationFailures: a 429 storm ridden through, Key Vault
// refusing the write after MongoDB changed, and MongoDB unreachable at
// preflight. Each leaves a
// password that logs in and is in Key Vault, and the next apply converges.
func TestAccCredentialRotationFailures(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	stack := testAccStack(t)
	// A FerretDB of this test's own, so stopping it disturbs no other test.
	mongo, err := ferretdb.Start(context.Background(), ferretdb.Options{
		Dir: t.TempDir(), AdminUsername: testAccConfig().MongoDBAdminUsername, AdminPassword: testAccConfig().MongoDBAdminPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mongo.Stop() })
	uri := mongo.URI()

	name := testAccName("acc-fail")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets: []rotationSecret{
			{resource: "pw", name: name + "-pw", format: secretvalue.Password},
			{resource: "uri", name: name + "-uri", format: secretvalue.ConnectionString, second: true},
		},
		mongoURI: uri,
	}
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	secondVault, _ := testAccVaultOf(c.secrets[1].vaultURL())
	withTrigger := func(v string) string {
		return strings.Replace(c.hcl(), "syncs      =", fmt.Sprintf("triggers = { n = %q }\n  syncs      =", v), 1)
	}
	var fault string
	stillLogsIn := func(*terraform.State) error {
		// Whatever failed, the primary's value logs in.
		resp, err := testAccSecretsClient(t, c.secrets[0].vaultURL()).GetSecret(context.Background(), c.secrets[0].name, "", nil)
		if err != nil {
			return err
		}
		return testAccMongoLogin(uri, c.username, *resp.Value)
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: withTrigger("1"), Check: c.checkConverged(t, uri, &last)},
			{
				// A short 429 storm on the write is ridden through by azcore's retry policy.
				PreConfig: func() {
					stack.KeyVault.InjectFault(kvemulator.Fault{Vault: secondVault, Method: "PUT", Path: "^/secrets/" + c.secrets[1].name + "$", Count: 2,
						Action: kvemulator.FaultStatus, Status: 429, Code: "Throttled", Message: "Request was not allowed because the vault is being throttled.", RetryAfter: "1"})
				},
				Config: withTrigger("storm"),
				Check:  c.checkConverged(t, uri, &last),
			},
			{
				PreConfig: func() {
					fault = stack.KeyVault.InjectFault(kvemulator.Fault{Vault: secondVault, Method: "PUT", Path: "^/secrets/" + c.secrets[1].name + "$",
						Action: kvemulator.FaultStatus, Status: 403, Code: "Forbidden", Message: "The policy does not allow set"})
				},
				Config:      withTrigger("2"),
				ExpectError: testAccErrorPattern("Rotation failed to write Key Vault", c.secrets[1].name, "Rolled back", "previous password again"),
			},
			{
				PreConfig: func() {
					stack.KeyVault.RemoveFault(fault)
					if err := stillLogsIn(nil); err != nil {
						t.Fatalf("after the failed write: %v", err)
					}
					if err := mongo.Stop(); err != nil {
						t.Fatal(err)
					}
				},
				Config:      withTrigger("2"),
				ExpectError: testAccErrorPattern("Rotation stopped before changing anything", "unreachable"),
			},
			{
				PreConfig: func() {
					if err := mongo.Restart(context.Background()); err != nil {
						t.Fatal(err)
					}
					if err := stillLogsIn(nil); err != nil {
						t.Fatalf("after the failed preflight: %v", err)
					}
				},
				Config: withTrigger("2"),
				Check:  c.checkConverged(t, uri, &last),
			},
			{Config: withTrigger("2"), PlanOnly: true},
		},
	})
}

// TestAccCredentialRotationBootstrap: Key Vault holds a placeholder, not the
// password; the write-only bootstrap password makes the first rotation
// possible and appears in neither state nor plan.
func TestAccCredentialRotationBootstrap(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-boot")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets:  []rotationSecret{{resource: "pw", name: name + "-pw", format: secretvalue.Password}},
	}
	uri := testAccConfig().MongoDBURI
	original := "Bootstrap-Passw0rd-" + name
	c.arrange(t, uri, original)
	testAccRecordSecret(original)
	if _, err := testAccSecretsClient(t, c.secrets[0].vaultURL()).SetSecret(context.Background(), c.secrets[0].name, azsecretsSet("placeholder-until-first-rotation"), nil); err != nil {
		t.Fatal(err)
	}
	last := original
	// As a user should pass it: an ephemeral variable, so that Terraform
	// keeps it out of the plan file as the provider keeps it out of state.
	withBootstrap := c
	withBootstrap.extra = "bootstrap_password_wo = var.bootstrap_password"
	bootstrapVars := config.Variables{"bootstrap_password": config.StringVariable(original)}
	const bootstrapVariable = `
variable "bootstrap_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
`

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      c.hcl(),
				ExpectError: testAccErrorPattern("Rotation stopped before changing anything", "bootstrap_password_wo"),
			},
			{
				Config:          bootstrapVariable + withBootstrap.hcl(),
				ConfigVariables: bootstrapVars,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccRotation, plancheck.ResourceActionCreate),
					testAccPlanHygiene(),
				}},
				Check: resource.ComposeTestCheckFunc(c.checkConverged(t, uri, &last), testAccStateHygiene()),
			},
			{Config: bootstrapVariable + withBootstrap.hcl(), ConfigVariables: bootstrapVars, PlanOnly: true},
		},
	})
}

// TestAccCredentialCheckout checks a password out with the ephemeral
// resource (copied into state by the echo provider, a test-only device),
// sees the exposure recorded on the secret, and moves the clock past the
// policy's rotate-after-exposure delay: the plan then rotates.
func TestAccCredentialCheckout(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-out")
	c := rotationChain{
		name:       name,
		username:   usernameFor(name),
		secrets:    []rotationSecret{{resource: "pw", name: name + "-pw", format: secretvalue.Password}},
		policy:     "frequency_days = 30\n  rotate_after_exposure_hours = 4",
		unrecorded: true,
	}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	clock := &testClock{}
	t0 := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	clock.Set(t0)
	factories := testAccFactoriesWithClock(clock)
	factories["echo"] = echoprovider.NewProviderServer()
	const checkout = `
ephemeral "segura_credential_checkout" "test" {
  sync = segura_keyvault_sync.pw
}

provider "echo" {
  data = ephemeral.segura_credential_checkout.test
}

resource "echo" "test" {}
`
	primary := c.secrets[0]
	checkedOut := func(value string) error {
		resp, err := testAccSecretsClient(t, primary.vaultURL()).GetSecret(context.Background(), primary.name, "", nil)
		if err != nil {
			return err
		}
		if value != *resp.Value {
			return fmt.Errorf("the checkout returned another password than the secret holds")
		}
		if got := resp.Tags[keyvault.TagExposedAt]; got == nil || *got != "2026-06-01T09:00:00Z" {
			return fmt.Errorf("exposure tag: got %v, want 2026-06-01T09:00:00Z", got)
		}
		return nil
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		Steps: []resource.TestStep{
			{Config: c.hcl(), Check: c.checkConverged(t, uri, &last)},
			{
				PreConfig: func() { clock.Set(t0.Add(time.Hour)) },
				Config:    c.hcl() + checkout,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttrWith("echo.test", "data.password", checkedOut),
					resource.TestCheckResourceAttr("echo.test", "data.username", c.username),
					resource.TestCheckResourceAttr("echo.test", "data.exposed_at", "2026-06-01T09:00:00Z"),
				),
			},
			{
				// A second checkout later does not push the deadline back.
				PreConfig: func() { clock.Set(t0.Add(2 * time.Hour)) },
				Config:    c.hcl() + checkout,
				Check:     resource.TestCheckResourceAttr("echo.test", "data.exposed_at", "2026-06-01T09:00:00Z"),
			},
			{
				PreConfig: func() { clock.Set(t0.Add(5 * time.Hour)) },
				Config:    c.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccRotation, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("last_rotation_reason"), knownvalue.StringRegexp(regexp.MustCompile(`(?i)expos|checked out`))),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("exposed_at"), knownvalue.Null()),
				},
				Check: c.checkConverged(t, uri, &last),
			},
			{Config: c.hcl(), PlanOnly: true},
		},
	})
}

// TestAccCredentialRotationSavedPlanRace follows CI's plan-then-apply: a
// plan saved with -out, a secret written by someone else in between (another
// workspace rotating the same credential), then `terraform apply plan`. The
// apply must stop before changing anything and say why; a fresh plan shows
// the drift and the next apply converges.
func TestAccCredentialRotationSavedPlanRace(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-race")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets:  []rotationSecret{{resource: "pw", name: name + "-pw", format: secretvalue.Password}},
	}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	ws := newCLIWorkspace(t)
	ws.Write(c.hcl())
	ws.MustRun("apply", "-auto-approve", "-input=false")
	if err := c.checkConverged(t, uri, &last)(nil); err != nil {
		t.Fatal(err)
	}

	withTrigger := strings.Replace(c.hcl(), "syncs      =", "triggers = { n = \"2\" }\n  syncs      =", 1)
	ws.Write(withTrigger)
	ws.MustRun("plan", "-input=false", "-out=rotate.tfplan")
	// Another workspace rotates the same credential in between.
	primary := c.secrets[0]
	theirs := "Rotated-by-another-workspace-" + name
	testAccRecordSecret(theirs)
	testAccMongoRun(t, uri, bson.D{{Key: "updateUser", Value: c.username}, {Key: "pwd", Value: theirs}})
	if _, err := testAccSecretsClient(t, primary.vaultURL()).SetSecret(context.Background(), primary.name, azsecretsSet(theirs), nil); err != nil {
		t.Fatal(err)
	}
	out, err := ws.Run("apply", "-input=false", "rotate.tfplan")
	if err == nil {
		t.Fatalf("applying a plan whose secret changed since: want an error, got success\n%s", out)
	}
	if !testAccErrorPattern("Rotation stopped before changing anything", "changed since the plan", "terraform plan").MatchString(out) {
		t.Fatalf("the error does not explain the race:\n%s", tail([]byte(out), 3000))
	}
	if err := testAccMongoLogin(uri, c.username, theirs); err != nil {
		t.Fatalf("the refused apply changed MongoDB: %v", err)
	}

	// A fresh plan shows the foreign version; the apply converges from it.
	out, err = ws.Run("plan", "-input=false", "-detailed-exitcode")
	if code := exitCode(err); code != 2 || !strings.Contains(out, "did not write") {
		t.Fatalf("plan after the race: exit code %d (want 2, changes), output:\n%s", code, tail([]byte(out), 3000))
	}
	ws.MustRun("apply", "-auto-approve", "-input=false")
	last = theirs
	if err := c.checkConverged(t, uri, &last)(nil); err != nil {
		t.Fatal(err)
	}
	out, err = ws.Run("plan", "-input=false", "-detailed-exitcode")
	if code := exitCode(err); code != 0 {
		t.Fatalf("plan after converging: exit code %d, want 0 (no changes)\n%s", code, tail([]byte(out), 3000))
	}
}

func exitCode(err error) int {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestAccCredentialRotationImportThenPlan imports a rotation with three
// bindings in two vaults and runs the plans a user would: the first plan
// after import records the configuration without rotating (the versions of
// the bindings import could not see are adopted from their tags), the next
// is empty; and after a foreign version lands in a non-primary secret, the
// first plan after a fresh import says so and the apply converges.
func TestAccCredentialRotationImportThenPlan(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-import")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets:  everyFormat(name),
	}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	primaryID := c.primaryID()
	ws := newCLIWorkspace(t)
	ws.Write(c.hcl())
	ws.MustRun("apply", "-auto-approve", "-input=false")
	if err := c.checkConverged(t, uri, &last)(nil); err != nil {
		t.Fatal(err)
	}
	reimport := func() {
		ws.MustRun("state", "rm", testAccRotation)
		ws.MustRun("import", "-input=false", testAccRotation, primaryID)
	}

	reimport()
	out, err := ws.Run("plan", "-input=false", "-detailed-exitcode", "-out=imported.tfplan")
	if code := exitCode(err); code != 2 {
		t.Fatalf("first plan after import: exit code %d, want 2 (the configuration's links are recorded)\n%s", code, tail([]byte(out), 3000))
	}
	after := plannedRotation(t, ws, "imported.tfplan")
	if after["last_rotation_reason"] != "imported" {
		t.Errorf("first plan after import rotates (reason %v); it should only record the configuration", after["last_rotation_reason"])
	}
	if versions, _ := after["secret_versions"].(map[string]any); len(versions) != len(c.secrets) {
		t.Errorf("first plan after import knows %d secret versions, want %d (adopted from the tags): %v", len(versions), len(c.secrets), after["secret_versions"])
	}
	ws.MustRun("apply", "-input=false", "imported.tfplan")
	if err := c.checkConverged(t, uri)(nil); err != nil {
		t.Fatal(err)
	}
	if err := testAccMongoLogin(uri, c.username, last); err != nil {
		t.Fatalf("the apply after import rotated the password: %v", err)
	}
	out, err = ws.Run("plan", "-input=false", "-detailed-exitcode")
	if code := exitCode(err); code != 0 {
		t.Fatalf("second plan after import: exit code %d, want 0 (no changes)\n%s", code, tail([]byte(out), 3000))
	}

	// A person writes the json secret; then the rotation is imported again.
	foreign := c.secrets[2]
	if _, err := testAccSecretsClient(t, foreign.vaultURL()).SetSecret(context.Background(), foreign.name, azsecretsSet(`{"note":"hand-edited"}`), nil); err != nil {
		t.Fatal(err)
	}
	reimport()
	out, err = ws.Run("plan", "-input=false", "-detailed-exitcode")
	if code := exitCode(err); code != 2 || !strings.Contains(out, "did not write") {
		t.Fatalf("plan after import with a foreign version: exit code %d (want 2) and the drift named, output:\n%s", code, tail([]byte(out), 3000))
	}
	ws.MustRun("apply", "-auto-approve", "-input=false")
	if err := c.checkConverged(t, uri, &last)(nil); err != nil {
		t.Fatal(err)
	}
	out, err = ws.Run("plan", "-input=false", "-detailed-exitcode")
	if code := exitCode(err); code != 0 {
		t.Fatalf("plan after converging: exit code %d, want 0\n%s", code, tail([]byte(out), 3000))
	}
}

// plannedRotation returns the planned values of the rotation resource in a
// saved plan.
func plannedRotation(t *testing.T, ws *cliWorkspace, planFile string) map[string]any {
	t.Helper()
	raw := ws.MustRun("show", "-json", planFile)
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				After map[string]any `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(raw), &plan); err != nil {
		t.Fatalf("terraform show -json: %v", err)
	}
	for _, rc := range plan.ResourceChanges {
		if rc.Address == testAccRotation {
			return rc.Change.After
		}
	}
	t.Fatalf("the plan has no change for %s", testAccRotation)
	return nil
}
