package provider

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

func TestApplicationRefMatchesApplicationSchema(t *testing.T) {
	t.Parallel()
	checkRefConsistency(t, NewDSMApplicationResource(), applicationRefAttrTypes())
}

// testAccScopeHCL is a segura_dsm_scope "test" with the given tags.
func testAccScopeHCL(name string, tags map[string]string) string {
	hcl := fmt.Sprintf(`
resource "segura_dsm_scope" "test" {
  name        = %q
  system      = "orders"
  environment = "test"
`, name)
	if len(tags) > 0 {
		hcl += "  tags = {\n"
		for _, k := range sortedMapKeys(tags) {
			hcl += fmt.Sprintf("    %q = %q\n", k, tags[k])
		}
		hcl += "  }\n"
	}
	return hcl + "}\n"
}

func sortedMapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// testAccApplicationHCL is a segura_dsm_application "test" in the scope
// "test"; extra is pasted into the block.
func testAccApplicationHCL(name, vaultName, vaultURL, extra string) string {
	url := ""
	if vaultURL != "" {
		url = fmt.Sprintf("vault_url  = %q", vaultURL)
	}
	return fmt.Sprintf(`
resource "segura_dsm_application" "test" {
  name       = %q
  scope      = segura_dsm_scope.test
  tenant_id  = %q
  vault_name = %q
  %s
  %s
}
`, name, testAccConfig().TenantID, vaultName, url, extra)
}

func TestAccDSMApplication(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-app")
	vaultName, vaultURL := testAccVault()
	vault2Name, vault2URL := testAccVaultOf(testAccConfig().SecondVaultURL())
	sameID := statecheck.CompareValue(compare.ValuesSame())
	const app = "segura_dsm_application.test"
	steps := []resource.TestStep{
		{
			Config: testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL,
				`subscription_id = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"`),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(app, tfjsonpath.New("id")),
				statecheck.ExpectKnownValue(app, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{36}$`))),
				statecheck.ExpectKnownValue(app, tfjsonpath.New("vault_url"), knownvalue.StringExact(vaultURL)),
				statecheck.ExpectKnownValue(app, tfjsonpath.New("scope").AtMapKey("name"), knownvalue.StringExact(name)),
				statecheck.ExpectKnownValue(app, tfjsonpath.New("client_secret"), knownvalue.Null()),
			},
		},
		{
			Config: testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name+"-renamed", vaultName, vaultURL,
				`resource_group_name = "rg-orders"`),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(app, plancheck.ResourceActionUpdate)},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(app, tfjsonpath.New("id")),
				statecheck.ExpectKnownValue(app, tfjsonpath.New("name"), knownvalue.StringExact(name+"-renamed")),
				statecheck.ExpectKnownValue(app, tfjsonpath.New("resource_group_name"), knownvalue.StringExact("rg-orders")),
				statecheck.ExpectKnownValue(app, tfjsonpath.New("subscription_id"), knownvalue.Null()),
			},
		},
	}
	if vault2URL != "" {
		steps = append(steps, resource.TestStep{
			Config: testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vault2Name, vault2URL, ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(app, plancheck.ResourceActionUpdate)},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(app, tfjsonpath.New("id")),
				statecheck.ExpectKnownValue(app, tfjsonpath.New("vault_url"), knownvalue.StringExact(vault2URL)),
			},
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// TestAccDSMApplicationOwnClientSecret uses a service principal of the
// application's own, first as a sensitive attribute, then write-only.
func TestAccDSMApplicationOwnClientSecret(t *testing.T) {
	t.Parallel()
	c := testAccConfig()
	name := testAccName("acc-app-sp")
	vaultName, vaultURL := testAccVault()
	const app = "segura_dsm_application.test"
	own := fmt.Sprintf("client_id = %q\n  client_secret = %q", c.ClientID, c.ClientSecret)
	writeOnly := func(version int) string {
		return fmt.Sprintf("client_id = %q\n  client_secret_wo = %q\n  client_secret_wo_version = %d", c.ClientID, c.ClientSecret, version)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, own),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectSensitiveValue(app, tfjsonpath.New("client_secret"))},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(app, tfjsonpath.New("client_id"), knownvalue.StringExact(c.ClientID)),
				},
			},
			{
				Config: testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, writeOnly(1)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(app, tfjsonpath.New("client_secret"), knownvalue.Null()),
					statecheck.ExpectKnownValue(app, tfjsonpath.New("client_secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(app, tfjsonpath.New("client_secret_wo_version"), knownvalue.Int64Exact(1)),
				},
			},
			{
				// A new version with a wrong write-only secret is checked, and refused.
				Config: testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL,
					fmt.Sprintf("client_id = %q\n  client_secret_wo = \"not-the-secret\"\n  client_secret_wo_version = 2", c.ClientID)),
				ExpectError: regexp.MustCompile(`Azure authentication failed`),
			},
		},
	})
}

// TestAccDSMApplicationClientSecretStaysSensitiveDownstream: a binding
// receives the application whole, client secret included; the plan keeps
// that field marked sensitive under the binding as under the application.
func TestAccDSMApplicationClientSecretStaysSensitiveDownstream(t *testing.T) {
	t.Parallel()
	c := testAccConfig()
	name := testAccName("acc-app-sens")
	vaultName, vaultURL := testAccVault()
	secretName := name + "-pw"
	testAccPutSecret(t, vaultURL, secretName, "initial-value-1")
	own := fmt.Sprintf("client_id = %q\n  client_secret = %q", c.ClientID, c.ClientSecret)
	config := testAccProviderConfig() + fmt.Sprintf(`
resource "segura_device" "test" {
  name    = %q
  address = %q
}

resource "segura_credential" "test" {
  device   = segura_device.test
  username = "orders_app"
}
`, name, c.MongoDBHostPort()) + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, own) + fmt.Sprintf(`
resource "segura_keyvault_sync" "test" {
  credential  = segura_credential.test
  application = segura_dsm_application.test
  secret_name = %q
}
`, secretName)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectSensitiveValue("segura_dsm_application.test", tfjsonpath.New("client_secret")),
					plancheck.ExpectSensitiveValue(testAccSync, tfjsonpath.New("application").AtMapKey("client_secret")),
				},
			},
		}},
	})
}

// TestAccDSMApplicationWrongClientSecret: a wrong client secret, on the
// application or on the provider, is one error naming the client and the vault.
func TestAccDSMApplicationWrongClientSecret(t *testing.T) {
	t.Parallel()
	c := testAccConfig()
	name := testAccName("acc-app-bad")
	vaultName, vaultURL := testAccVault()
	wantErr := testAccErrorPattern("Azure authentication failed", "client "+c.ClientID, vaultURL)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL,
					fmt.Sprintf("client_id = %q\n  client_secret = \"not-the-secret\"", c.ClientID)),
				ExpectError: wantErr,
			},
			{
				Config:      testAccProviderConfigWith(c.ClientID, "not-the-secret") + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, ""),
				ExpectError: wantErr,
			},
		},
	})
}

// TestAccDSMApplicationMissingListPermission: an identity without the list
// permission gets one error naming it, the vault and the permission.
func TestAccDSMApplicationMissingListPermission(t *testing.T) {
	t.Parallel()
	st := testAccStack(t)
	name := testAccName("acc-app-perm")
	vaultName, vaultURL := testAccVault()
	clientID, secret := "5d1c7f7e-0c7a-4a55-9d0e-"+fmt.Sprintf("%012d", len(name)*7919), "get-only-"+name
	st.KeyVault.AddClient(clientID, secret)
	st.KeyVault.SetAccessPolicy(vaultName, clientID, kvemulator.PermGet, kvemulator.PermSet)
	wantErr := testAccErrorPattern("Key Vault permission missing", "client "+clientID, `missing the "list" secret permission`, vaultURL)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL,
					fmt.Sprintf("client_id = %q\n  client_secret = %q", clientID, secret)),
				ExpectError: wantErr,
			},
			{
				Config:      testAccProviderConfigWith(clientID, secret) + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, ""),
				ExpectError: wantErr,
			},
		},
	})
}

// TestAccDSMApplicationRevokedOnRefresh: Read repeats the check, so a list
// permission revoked after apply fails the next plan with the same message.
func TestAccDSMApplicationRevokedOnRefresh(t *testing.T) {
	t.Parallel()
	st := testAccStack(t)
	name := testAccName("acc-app-revoke")
	vaultName, vaultURL := testAccVault()
	clientID, secret := "6e2d8a8f-1d8b-4b66-8e1f-"+fmt.Sprintf("%012d", len(name)*104729), "revoke-"+name
	st.KeyVault.AddClient(clientID, secret)
	st.KeyVault.SetAccessPolicy(vaultName, clientID, kvemulator.AllPermissions...)
	cfg := testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL,
		fmt.Sprintf("client_id = %q\n  client_secret = %q", clientID, secret))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig:   func() { st.KeyVault.SetAccessPolicy(vaultName, clientID, kvemulator.PermGet) },
				Config:      cfg,
				PlanOnly:    true,
				ExpectError: testAccErrorPattern("Key Vault permission missing", `"list"`),
			},
			{
				// Restore the permission so that destroy can refresh.
				PreConfig: func() { st.KeyVault.SetAccessPolicy(vaultName, clientID, kvemulator.AllPermissions...) },
				Config:    cfg,
			},
		},
	})
}

// TestAccDSMApplicationVaultURLFromName plans (no apply, no Key Vault call)
// with a provider for the public and the US government clouds and checks the
// computed vault URL.
func TestAccDSMApplicationVaultURLFromName(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-app-url")
	provider := func(env string) string {
		return fmt.Sprintf(`
provider "segura" {
  tenant_id     = "00000000-0000-0000-0000-000000000001"
  client_id     = "00000000-0000-0000-0000-000000000002"
  client_secret = "unused-at-plan"
  environment   = %s
}
`, strconv.Quote(env))
	}
	const app = "segura_dsm_application.test"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             provider("public") + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, "orders-kv", "", ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPreRefresh: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(app, tfjsonpath.New("vault_url"), knownvalue.StringExact("https://orders-kv.vault.azure.net/")),
					},
				},
			},
			{
				Config:             provider("usgovernment") + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, "orders-kv", "", ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPreRefresh: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(app, tfjsonpath.New("vault_url"), knownvalue.StringExact("https://orders-kv.vault.usgovcloudapi.net/")),
					},
				},
			},
		},
	})
}

// TestAccDSMApplicationChallengeCheckNeedsVaultURL: disabling the challenge
// resource check is refused at plan for a vault URL derived from a name.
func TestAccDSMApplicationChallengeCheckNeedsVaultURL(t *testing.T) {
	t.Parallel()
	testAccStack(t) // the local stack's provider block disables the check
	name := testAccName("acc-app-chal")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, "orders-kv", "", ""),
				PlanOnly:    true,
				ExpectError: testAccErrorPattern("vault_url required", "disable_challenge_resource_verification"),
			},
		},
	})
}

// TestAccDSMApplicationRetries: the provider's key_vault retry settings
// (max_retries = 2 in the test provider block) carry transient 503s, and a
// failure that outlasts them is one error naming the vault. It uses a vault
// of its own so that no other test's calls consume the injected faults.
func TestAccDSMApplicationRetries(t *testing.T) {
	t.Parallel()
	st := testAccStack(t)
	const vaultName = "segura-retry"
	vaultURL, err := st.KeyVault.AddVault(vaultName)
	if err != nil {
		t.Fatal(err)
	}
	st.KeyVault.SetAccessPolicy(vaultName, st.Config.ClientID, kvemulator.AllPermissions...)
	unavailable := func(count int) kvemulator.Fault {
		return kvemulator.Fault{Vault: vaultName, Method: "GET", Path: "^/secrets", Count: count,
			Action: kvemulator.FaultStatus, Status: 503, Code: "ServiceUnavailable", Message: "injected"}
	}
	name := testAccName("acc-app-retry")
	cfg := testAccProviderConfig() + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { st.KeyVault.InjectFault(unavailable(2)) },
				Config:    cfg,
			},
			{
				// 1 try + 2 retries, all refused: refresh fails.
				PreConfig:   func() { st.KeyVault.InjectFault(unavailable(3)) },
				Config:      cfg,
				PlanOnly:    true,
				ExpectError: testAccErrorPattern("Key Vault request failed", vaultURL, "503"),
			},
			{Config: cfg},
		},
	})
}
