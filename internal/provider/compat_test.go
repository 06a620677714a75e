package provider

// Compatibility tests: what must hold on every binary of make test's
// matrix, Terraform and OpenTofu alike, checked through the real CLI with
// its exit codes (make test runs these on tofu too: OPENTOFU_TESTS in the
// GNUmakefile).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

func TestVaultURLProblem(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://orders-kv.vault.azure.net/":                            "",
		"https://orders-kv.vault.azure.net":                             "",
		"https://127.0.0.1:8443/":                                       "",
		"https://[::1]:8443/":                                           "",
		"https://orders-kv.vault.azure.net/secrets/orders-db-password":  `must not have a path (it has "/secrets/orders-db-password")`,
		"https://orders-kv.vault.azure.net/?api-version=7.4":            "must not have a query (?api-version=7.4)",
		"https://orders-kv.vault.azure.net/#x":                          "must not have a fragment (#x)",
		"https://admin:not-in-the-message@orders-kv.vault.azure.net/":   "must not contain a user name or password",
		"https://orders-kv.vault.azure.net:99999/":                      "has port 99999, which is not between 1 and 65535",
		"https://orders-kv.vault.azure.net:0/":                          "has port 0, which is not between 1 and 65535",
		"https://:443/":                                                 "has no host",
		"https://[::1/":                                                 "is not a valid URL (missing ']' in host)",
		"https://orders-kv.vault.azure.net/%zz":                         `is not a valid URL (invalid URL escape "%zz")`,
		"https://orders-kv.vault.azure.net/secrets/x?api-version=7.4#y": "must not have a query (?api-version=7.4)",
	} {
		if got := vaultURLProblem(raw); got != want {
			t.Errorf("vaultURLProblem(%q) = %q, want %q", raw, got, want)
		}
	}
	for _, tc := range []struct {
		url, name, urlVault string
		mismatch            bool
	}{
		{"https://orders-kv.vault.azure.net/", "orders-kv", "orders-kv", false},
		{"https://Orders-KV.vault.azure.net/", "orders-kv", "orders-kv", false},
		{"https://payments-kv.vault.azure.net/", "orders-kv", "payments-kv", true},
		{"https://payments-kv.vault.usgovcloudapi.net/", "orders-kv", "payments-kv", true},
		{"https://payments-kv.vault.azure.cn/", "orders-kv", "payments-kv", true},
		{"https://127.0.0.1:8443/", "orders-kv", "", false},                    // not an Azure vault host: not checked
		{"https://kv.internal.example/", "orders-kv", "", false},               // a private cloud
		{"https://a.payments-kv.vault.azure.net/", "orders-kv", "", false},     // no vault host either
		{"https://orders-kv.privatelink.vaultcore.azure.net/", "x", "", false}, // private endpoint names are not checked
	} {
		urlVault, mismatch := vaultURLNameMismatch(tc.url, tc.name)
		if urlVault != tc.urlVault || mismatch != tc.mismatch {
			t.Errorf("vaultURLNameMismatch(%q, %q) = %q, %v; want %q, %v", tc.url, tc.name, urlVault, mismatch, tc.urlVault, tc.mismatch)
		}
	}
}

// TestAccBadVaultURLFailsAtPlan: a vault_url that cannot be the vault's
// address fails `plan -detailed-exitcode` with exit 1 and a message saying
// why, on Terraform and OpenTofu alike, whether it is written in the
// configuration or passed in a variable, and without a network call. Before
// these checks, such a URL planned (exit 2) and failed only at apply.
// Last, the same mistake on an application that exists already.
func TestAccBadVaultURLFailsAtPlan(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	counter := newConnectionCounter(t)
	provider := fmt.Sprintf(offlineProvider, counter.addr)
	const application = `
variable "vault_url" {
  type = string
}

resource "segura_dsm_scope" "orders" {
  name        = "orders-prod"
  system      = "orders"
  environment = "production"
}

resource "segura_dsm_application" "orders" {
  name       = "orders-api"
  scope      = segura_dsm_scope.orders
  tenant_id  = "00000000-0000-0000-0000-00000000000a"
  vault_name = "orders-kv"
  vault_url  = %s
}
`
	const secretInURL = "not-in-any-output-" + "a1b2c3"
	for _, tc := range []struct{ name, url, want string }{
		{"a secret's URL", "https://orders-kv.vault.azure.net/secrets/orders-db-password", `vault_url must not have a path (it has "/secrets/orders-db-password")`},
		{"a query", "https://orders-kv.vault.azure.net/?api-version=7.4", "vault_url must not have a query"},
		{"a fragment", "https://orders-kv.vault.azure.net/#secrets", "vault_url must not have a fragment"},
		{"credentials", "https://admin:" + secretInURL + "@orders-kv.vault.azure.net/", "vault_url must not contain a user name or password"},
		{"a port out of range", "https://orders-kv.vault.azure.net:99999/", "vault_url has port 99999"},
		{"another vault's URL", "https://payments-kv.vault.azure.net/", `is the address of the vault "payments-kv", but vault_name is "orders-kv"`},
		{"plain http", "http://orders-kv.vault.azure.net/", "vault_url must be an https:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, how := range []string{"literal", "variable"} {
				ws := newCLIWorkspace(t)
				value := "var.vault_url"
				if how == "literal" {
					value = fmt.Sprintf("%q", tc.url)
				}
				ws.Write(provider + fmt.Sprintf(application, value))
				out, err := ws.Run("plan", "-detailed-exitcode", "-input=false", "-var", "vault_url="+tc.url)
				if code := exitCode(err); code != 1 || !words(tc.want).MatchString(out) {
					t.Errorf("%s: plan exit %d, want 1 with %q:\n%s", how, code, tc.want, tail([]byte(out), 3000))
				}
				// The literal case shows the configuration line, as written;
				// a value passed in a variable must not be repeated.
				if how == "variable" && strings.Contains(out, secretInURL) {
					t.Errorf("%s: the plan output repeats the password in the URL", how)
				}
			}
		})
	}
	if n := counter.count.Load(); n != 0 {
		t.Errorf("%d connections during plan; a bad vault_url must fail before any network call", n)
	}

	// An existing application, its URL replaced by a secret's URL.
	vaultName, vaultURL := testAccVault()
	name := testAccName("acc-badurl")
	ws := newCLIWorkspace(t)
	ws.Write(testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, ""))
	ws.MustRun("apply", "-auto-approve", "-input=false")
	ws.Write(testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL+"secrets/"+name, ""))
	out, err := ws.Run("plan", "-detailed-exitcode", "-input=false")
	if code := exitCode(err); code != 1 || !words("vault_url must not have a path").MatchString(out) {
		t.Errorf("existing application: plan exit %d, want 1 naming the path:\n%s", code, tail([]byte(out), 3000))
	}
}

// TestAccIdentityImportBlockThenEmptyPlan (Terraform >= 1.12, OpenTofu >=
// 1.12): a binding and a rotation taken out of state come back through
// `import` blocks that give their resource identity, not an id; the apply
// adopts them without rotating, and the next plan is empty.
func TestAccIdentityImportBlockThenEmptyPlan(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	skipBelowTerraform(t, 1, 12, "import by resource identity")
	name := testAccName("acc-idblk")
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
	before := rotationState(t, ws)

	secret := c.secrets[0]
	sync := "segura_keyvault_sync." + secret.resource
	ws.MustRun("state", "rm", sync, testAccRotation)
	identity := fmt.Sprintf("{\n    vault_url   = %q\n    secret_name = %q\n  }", secret.vaultURL(), secret.name)
	ws.Write(c.hcl() + fmt.Sprintf(`
import {
  to       = %s
  identity = %s
}

import {
  to       = %s
  identity = %s
}
`, sync, identity, testAccRotation, identity))
	out, err := ws.Run("plan", "-detailed-exitcode", "-input=false", "-out=import.tfplan")
	if code := exitCode(err); code != 2 || !strings.Contains(out, "2 to import") {
		t.Fatalf("plan with the import blocks: exit %d, want 2 with 2 to import:\n%s", code, tail([]byte(out), 4000))
	}
	if after := plannedRotation(t, ws, "import.tfplan"); after["rotation_count"] != before["rotation_count"] {
		t.Errorf("the import plan changes rotation_count %v -> %v: it would rotate", before["rotation_count"], after["rotation_count"])
	}
	ws.MustRun("apply", "-input=false", "import.tfplan")
	if err := testAccMongoLogin(uri, c.username, last); err != nil {
		t.Fatalf("the import's apply rotated the password: %v", err)
	}
	out, err = ws.Run("plan", "-detailed-exitcode", "-input=false")
	if code := exitCode(err); code != 0 {
		t.Fatalf("plan after the import: exit %d, want 0 (no changes):\n%s", code, tail([]byte(out), 4000))
	}
	if err := c.checkConverged(t, uri)(nil); err != nil {
		t.Fatal(err)
	}
}

// TestAccProviderAddress: `source = "segura-community/segura"` names
// registry.terraform.io/segura-community/segura on Terraform and
// registry.opentofu.org/segura-community/segura on OpenTofu (each
// binary's default registry), and state records that address. A source
// pinned to registry.terraform.io is the same provider on both, and `state
// replace-provider` moves a state from one address to the other with
// nothing to change afterwards.
func TestAccProviderAddress(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	const (
		hashicorpRegistry = "registry.terraform.io/segura-community/segura"
		opentofuRegistry  = "registry.opentofu.org/segura-community/segura"
	)
	want := hashicorpRegistry
	if testAccCLI().OpenTofu() {
		want = opentofuRegistry
	}
	name := testAccName("acc-addr")
	ws := newCLIWorkspace(t)
	write := func(source string) {
		t.Helper()
		hcl := fmt.Sprintf(`terraform {
  required_providers {
    segura = { source = %q }
  }
}
`, source) + testAccProviderConfig() + testAccScopeHCL(name, nil)
		if err := os.WriteFile(filepath.Join(ws.dir, "main.tf"), []byte(hcl), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stateProviders := func() []string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(ws.dir, "terraform.tfstate"))
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Resources []struct {
				Provider string `json:"provider"`
			} `json:"resources"`
		}
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatal(err)
		}
		var ps []string
		for _, r := range st.Resources {
			ps = append(ps, r.Provider)
		}
		return ps
	}
	expect := func(step, addr string) {
		t.Helper()
		if got := stateProviders(); len(got) != 1 || got[0] != `provider["`+addr+`"]` {
			t.Errorf("%s: state records %v, want provider[%q]", step, got, addr)
		}
	}

	write("segura-community/segura")
	ws.MustRun("apply", "-auto-approve", "-input=false")
	expect("unqualified source", want)

	write(hashicorpRegistry)
	if want != hashicorpRegistry {
		ws.MustRun("state", "replace-provider", "-auto-approve", want, hashicorpRegistry)
	}
	out, err := ws.Run("plan", "-detailed-exitcode", "-input=false")
	if code := exitCode(err); code != 0 {
		t.Fatalf("plan with the source pinned to %s: exit %d, want 0:\n%s", hashicorpRegistry, code, tail([]byte(out), 3000))
	}
	ws.MustRun("apply", "-auto-approve", "-input=false")
	expect("pinned source", hashicorpRegistry)

	// And back: the unqualified source again, the state moved to this
	// binary's own registry.
	write("segura-community/segura")
	if want != hashicorpRegistry {
		ws.MustRun("state", "replace-provider", "-auto-approve", hashicorpRegistry, want)
	}
	out, err = ws.Run("plan", "-detailed-exitcode", "-input=false")
	if code := exitCode(err); code != 0 {
		t.Fatalf("plan with the unqualified source again: exit %d, want 0:\n%s", code, tail([]byte(out), 3000))
	}
	expect("unqualified source again", want)
}
