package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// TestAccNewUserJourney is a new user's journey with a configuration of its
// own, through the real terraform binary: a self-rotating administrator and
// two credentials it rotates, two vaults, all three value formats, a policy
// with weekdays, a time and a non-UTC zone, a checkout; then a wrong value
// pasted by hand, a kill during an apply, an import, and a destroy. Every
// plan's exit code is asserted.
func TestAccNewUserJourney(t *testing.T) {
	t.Parallel()
	stack := testAccStack(t)
	cfg := testAccConfig()
	uri := cfg.MongoDBURI
	name := testAccName("acc-jny")
	user := usernameFor(name)
	admin := rotationChain{name: name, username: user + "_admin", secrets: []rotationSecret{{resource: "admin", name: name + "-admin", format: secretvalue.Password}}}
	c0 := rotationChain{name: name, username: user + "_orders", secrets: []rotationSecret{
		{resource: "c0pw", name: name + "-c0pw", format: secretvalue.Password},
		{resource: "c0uri", name: name + "-c0uri", format: secretvalue.ConnectionString, second: true},
	}}
	c1 := rotationChain{name: name, username: user + "_reports", secrets: []rotationSecret{{resource: "c1json", name: name + "-c1json", format: secretvalue.JSON, second: true}}}
	all := []rotationChain{admin, c0, c1}
	admin.arrange(t, uri, "Original-Passw0rd-"+name)
	for _, c := range []rotationChain{c0, c1} {
		testAccRecordSecret("Child-Passw0rd-" + name)
		testAccMongoRun(t, uri, bson.D{{Key: "createUser", Value: c.username}, {Key: "pwd", Value: "Child-Passw0rd-" + name}, {Key: "roles", Value: bson.A{}}})
		for _, s := range c.secrets {
			t.Cleanup(func() { testAccDeleteSecret(t, s.vaultURL(), s.name, true) })
		}
	}
	vaultA, urlA := testAccVault()
	vaultB, urlB := testAccVaultOf(cfg.SecondVaultURL())
	hcl := func(trigger string) string {
		var b strings.Builder
		b.WriteString(testAccProviderConfig())
		fmt.Fprintf(&b, `
resource "segura_device" "db" {
  name    = %[1]q
  address = %[2]q
}
resource "segura_dsm_scope" "orders" {
  name        = %[1]q
  system      = "orders"
  environment = "prod"
  tags        = { owner = "platform" }
}
resource "segura_dsm_application" "a" {
  name       = "%[1]s-a"
  scope      = segura_dsm_scope.orders
  tenant_id  = %[3]q
  vault_name = %[4]q
  vault_url  = %[5]q
}
resource "segura_dsm_application" "b" {
  name       = "%[1]s-b"
  scope      = segura_dsm_scope.orders
  tenant_id  = %[3]q
  vault_name = %[6]q
  vault_url  = %[7]q
}
resource "segura_rotation_policy" "weekdays" {
  name             = %[1]q
  frequency_days   = 30
  allowed_weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]
  allowed_times    = ["02:00"]
  time_zone        = "Europe/Berlin"
  max_age_days     = 45
}
resource "segura_credential" "admin" {
  device   = segura_device.db
  username = %[8]q
}
resource "segura_keyvault_sync" "admin" {
  credential  = segura_credential.admin
  application = segura_dsm_application.a
  secret_name = %[9]q
}
resource "segura_credential_rotation" "admin" {
  credential = segura_credential.admin
  policy     = segura_rotation_policy.weekdays
  syncs      = [segura_keyvault_sync.admin]
}
`, name, admin.hostPort(), cfg.TenantID, vaultA, urlA, vaultB, urlB, admin.username, admin.secrets[0].name)
		for i, c := range []rotationChain{c0, c1} {
			var refs []string
			for _, s := range c.secrets {
				app := "a"
				if s.second {
					app = "b"
				}
				fmt.Fprintf(&b, `
resource "segura_keyvault_sync" %q {
  credential        = segura_credential.c%d
  application       = segura_dsm_application.%s
  secret_name       = %q
  value_format      = %q
  create_if_missing = true
}
`, s.resource, i, app, s.name, s.format)
				refs = append(refs, "segura_keyvault_sync."+s.resource)
			}
			fmt.Fprintf(&b, `
resource "segura_credential" "c%[1]d" {
  device   = segura_device.db
  username = %[2]q
  parent   = segura_credential.admin
}
resource "segura_credential_rotation" "c%[1]d" {
  credential      = segura_credential.c%[1]d
  policy          = segura_rotation_policy.weekdays
  syncs           = [%[3]s]
  parent_rotation = segura_credential_rotation.admin
  triggers        = { n = %[4]q }
}
`, i, c.username, strings.Join(refs, ", "), trigger)
		}
		b.WriteString(`
ephemeral "segura_credential_checkout" "orders" {
  rotation = segura_credential_rotation.c0
}
`)
		return b.String()
	}
	ws := newCLIWorkspace(t)
	plan := func(step string, want int) {
		t.Helper()
		out, err := ws.Run("plan", "-detailed-exitcode", "-input=false")
		if code := exitCode(err); code != want {
			t.Fatalf("%s: plan exit %d, want %d:\n%s", step, code, want, tail([]byte(out), 5000))
		}
	}
	apply := func(step string) {
		t.Helper()
		if out, err := ws.Run("apply", "-auto-approve", "-input=false"); err != nil {
			t.Fatalf("%s: apply: %v\n%s", step, err, tail([]byte(out), 5000))
		}
	}
	converged := func(step string) {
		t.Helper()
		for _, c := range all {
			if err := c.checkConverged(t, uri)(nil); err != nil {
				t.Fatalf("%s: %s: %v", step, c.username, err)
			}
		}
	}

	ws.Write(hcl("1"))
	plan("first plan", 2)
	apply("first apply")
	converged("first apply")
	plan("plan after the first apply", 0)

	// The checkout opened (plan and apply open it when no rotation is
	// pending): it marked the exposure on c0's primary.
	primary := c0.secrets[0]
	got, err := testAccSecretsClient(t, primary.vaultURL()).GetSecret(context.Background(), primary.name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tags[keyvault.TagExposedAt] == nil {
		t.Errorf("the checkout did not mark the exposure on %s", primary.name)
	}

	// Out of band: a person pastes a wrong value over c1's only secret.
	wrong := `{"username":"x","password":"pasted-by-hand"}`
	if _, err := testAccSecretsClient(t, c1.secrets[0].vaultURL()).SetSecret(context.Background(), c1.secrets[0].name, secretParams(wrong), nil); err != nil {
		t.Fatal(err)
	}
	plan("plan after a wrong value was pasted", 2)
	apply("apply after a wrong value was pasted")
	converged("apply after a wrong value was pasted")
	plan("plan after that", 0)

	// A kill during an apply that rotates c0, after updateUser, while the
	// write of its primary hangs.
	current, err := primaryPassword(t, c0)
	if err != nil {
		t.Fatal(err)
	}
	id := stack.KeyVault.InjectFault(kvemulator.Fault{Vault: vaultA, Method: "PUT", Path: `^/secrets/` + regexp.QuoteMeta(primary.name) + `$`, Count: 1, Action: kvemulator.FaultDelay, Delay: time.Hour})
	ws.Write(hcl("2"))
	p := ws.Start("apply", "-auto-approve", "-input=false")
	deadline := time.Now().Add(90 * time.Second)
	for !isAuthFailure(testAccMongoLogin(uri, c0.username, current)) {
		if p.Exited() || time.Now().After(deadline) {
			p.Kill()
			out, _ := p.Wait()
			t.Fatalf("the apply did not reach updateUser:\n%s", tail([]byte(out), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.Kill()
	_, _ = p.Wait()
	stack.KeyVault.RemoveFault(id)
	plan("plan after the kill", 2)
	apply("apply after the kill")
	converged("apply after the kill")
	plan("plan after that", 0)

	// Import: c1's binding and rotation, as the docs say.
	passwordBefore, _ := primaryPassword(t, c1)
	ws.MustRun("state", "rm", "segura_keyvault_sync.c1json", "segura_credential_rotation.c1")
	ws.MustRun("import", "-input=false", "segura_keyvault_sync.c1json", c1.secrets[0].vaultURL()+"secrets/"+c1.secrets[0].name)
	ws.MustRun("import", "-input=false", "segura_credential_rotation.c1", c1.secrets[0].vaultURL()+"secrets/"+c1.secrets[0].name)
	plan("plan after import (the links Key Vault does not record)", 2)
	apply("apply after import")
	if after, _ := primaryPassword(t, c1); after != passwordBefore {
		t.Errorf("the apply after import rotated c1")
	}
	plan("plan after the import's apply", 0)

	// Destroy leaves every password as it is.
	ws.MustRun("destroy", "-auto-approve", "-input=false")
	converged("after destroy")
	plan("plan after destroy (everything to create)", 2)
}

// primaryPassword is the password in a chain's primary secret.
func primaryPassword(t *testing.T, c rotationChain) (string, error) {
	t.Helper()
	s := c.secrets[0]
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
