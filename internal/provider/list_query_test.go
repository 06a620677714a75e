package provider

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestAccQueryOnboarding lists, with `terraform query` (Terraform >= 1.14),
// a device's users that no rotation manages and a vault's provider-tagged
// secrets, generates configuration for them with -generate-config-out, and
// plans and applies it in a new workspace: every result is imported, no
// error, and no password changes.
func TestAccQueryOnboarding(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	skipBelowTerraform(t, 1, 14, "terraform query")
	cfg := testAccConfig()
	name := testAccName("acc-query")
	c := rotationChain{name: name, username: usernameFor(name), secrets: everyFormat(name), policy: "frequency_days = 30"}
	uri := cfg.MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	managed := newCLIWorkspace(t)
	managed.Write(c.hcl())
	managed.MustRun("apply", "-auto-approve", "-input=false")
	last := original
	if err := c.checkConverged(t, uri, &last)(nil); err != nil {
		t.Fatal(err)
	}
	// An account nobody manages yet, and the administrator's password where
	// the listing reads it.
	unmanaged := c.username + "_reporting"
	testAccRecordSecret("Unmanaged-Passw0rd-" + name)
	testAccMongoRun(t, uri, bson.D{{Key: "createUser", Value: unmanaged}, {Key: "pwd", Value: "Unmanaged-Passw0rd-" + name}, {Key: "roles", Value: bson.A{}}})
	_, vaultA := testAccVault()
	testAccPutSecret(t, vaultA, name+"-admin", cfg.MongoDBAdminPassword)
	versionsBefore := secretVersions(t, c)

	onboard := newCLIWorkspace(t)
	onboard.Write(testAccProviderConfig())
	query := `
list "segura_credential" "unmanaged" {
  provider         = segura
  include_resource = true
  config {
    device          = { id = "orders-db", name = "orders-db", address = "` + c.hostPort() + `" }
    admin_username  = "` + cfg.MongoDBAdminUsername + `"
    admin_secret_id = "` + vaultA + `secrets/` + name + `-admin"
    vault_urls      = ["` + vaultA + `", "` + cfg.SecondVaultURL() + `"]
    username_prefix = "` + c.username + `"
  }
}

list "segura_keyvault_sync" "tagged" {
  provider         = segura
  include_resource = true
  config {
    vault_url   = "` + vaultA + `"
    name_prefix = "` + name + `-"
  }
}
`
	if err := os.WriteFile(filepath.Join(onboard.dir, "onboard.tfquery.hcl"), []byte(query), 0o600); err != nil {
		t.Fatal(err)
	}
	out := onboard.MustRun("query")
	if !strings.Contains(out, unmanaged+"@admin") {
		t.Errorf("query does not list the unmanaged user %s:\n%s", unmanaged, out)
	}
	if regexp.MustCompile(`username=` + c.username + `\s`).MatchString(out) {
		t.Errorf("query lists the managed user %s:\n%s", c.username, out)
	}
	for _, s := range c.secrets {
		if listed := strings.Contains(out, s.name+" ("); listed == s.second {
			t.Errorf("secret %s (second vault: %v) listed: %v, want %v:\n%s", s.name, s.second, listed, !s.second, out)
		}
	}
	if strings.Contains(out, name+"-pw-escrow") || strings.Contains(out, name+"-admin") {
		t.Errorf("query lists an escrow secret or a secret the provider did not write:\n%s", out)
	}

	onboard.MustRun("query", "-generate-config-out=generated.tf")
	generated, err := os.ReadFile(filepath.Join(onboard.dir, "generated.tf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated configuration:\n%s", generated)
	if err := os.Remove(filepath.Join(onboard.dir, "onboard.tfquery.hcl")); err != nil {
		t.Fatal(err)
	}
	plan := onboard.MustRun("plan", "-input=false")
	if n := strings.Count(plan, "will be imported"); n != 3 {
		t.Errorf("the generated configuration's plan imports %d resources, want 3 (the unmanaged user and two secrets):\n%s", n, plan)
	}
	if strings.Contains(plan, "must be replaced") || strings.Contains(plan, "will be created") {
		t.Errorf("the generated configuration's plan creates or replaces something:\n%s", plan)
	}
	onboard.MustRun("apply", "-auto-approve", "-input=false")
	if code := runExitCode(onboard, "plan", "-detailed-exitcode", "-input=false"); code != 0 {
		out, _ := onboard.Run("plan", "-input=false")
		t.Errorf("plan after the import: exit %d, want 0:\n%s", code, out)
	}
	// Nothing rotated: the secrets kept their versions and still log in.
	if after := secretVersions(t, c); after != versionsBefore {
		t.Errorf("importing changed secret versions: %s -> %s", versionsBefore, after)
	}
	if err := c.checkConverged(t, uri)(nil); err != nil {
		t.Errorf("after the import: %v", err)
	}
}

// secretVersions is every chain secret's latest version, as one string.
func secretVersions(t *testing.T, c rotationChain) string {
	t.Helper()
	var b strings.Builder
	for _, s := range c.secrets {
		b.WriteString(s.name + "=" + testAccLatestVersion(t, s.vaultURL(), s.name) + " ")
	}
	return b.String()
}

// testAccLatestVersion is the latest version of secret name ("" if none).
func testAccLatestVersion(t *testing.T, vaultURL, name string) string {
	t.Helper()
	resp, err := testAccSecretsClient(t, vaultURL).GetSecret(context.Background(), name, "", nil)
	if err != nil {
		if testAccIsNotFound(err) {
			return ""
		}
		t.Fatal(err)
	}
	return resp.ID.Version()
}
