package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

const testAccSync = "segura_keyvault_sync.test"

// testAccSyncHCL is the whole chain: device, credential, scope, application
// (on the stack's first vault) and a segura_keyvault_sync "test" binding the
// credential to secretName; extra is pasted into the sync block.
func testAccSyncHCL(name, secretName string, scopeTags map[string]string, extra string) string {
	vaultName, vaultURL := testAccVault()
	return testAccProviderConfig() + fmt.Sprintf(`
resource "segura_device" "test" {
  name    = %q
  address = %q
}

resource "segura_credential" "test" {
  device   = segura_device.test
  username = "orders_app"
}
`, name, testAccConfig().MongoDBHostPort()) +
		testAccScopeHCL(name, scopeTags) +
		testAccApplicationHCL(name, vaultName, vaultURL, "") + fmt.Sprintf(`
resource "segura_keyvault_sync" "test" {
  credential  = segura_credential.test
  application = segura_dsm_application.test
  secret_name = %q
  %s
}
`, secretName, extra)
}

func TestAccKeyVaultSync(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-sync")
	_, vaultURL := testAccVault()
	secretName := name + "-pw"
	secretID := vaultURL + "secrets/" + secretName
	first := testAccPutSecret(t, vaultURL, secretName, "initial-value-1")
	var second string

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccSyncHCL(name, secretName, nil, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						// Known at plan, so a rotation's plan can show which secret it writes.
						plancheck.ExpectKnownValue(testAccSync, tfjsonpath.New("secret_id"), knownvalue.StringExact(secretID)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("id"), knownvalue.StringExact(secretID)),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("secret_id"), knownvalue.StringExact(secretID)),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("latest_version"), knownvalue.StringExact(first)),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("value_format"), knownvalue.StringExact("password")),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("create_if_missing"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("credential").AtMapKey("username"), knownvalue.StringExact("orders_app")),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("application").AtMapKey("vault_url"), knownvalue.StringExact(vaultURL)),
				},
			},
			{
				Config: testAccSyncHCL(name, secretName, map[string]string{"team": "orders"}, `
  value_format = "json"
  content_type = "application/json"
  tags         = { owner = "platform" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(testAccSync, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(testAccSync, tfjsonpath.New("latest_version"), knownvalue.StringExact(first)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("value_format"), knownvalue.StringExact("json")),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("content_type"), knownvalue.StringExact("application/json")),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{"owner": knownvalue.StringExact("platform")})),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("latest_version"), knownvalue.StringExact(first)),
				},
			},
			{
				// A version written outside Terraform (as a rotation would) is
				// picked up on refresh, and the plan stays empty.
				PreConfig: func() {
					params := secretParams(`{"password":"out-of-band-2"}`)
					params.ContentType = to.Ptr("application/json")
					resp, err := testAccSecretsClient(t, vaultURL).SetSecret(context.Background(), secretName, params, nil)
					if err != nil {
						t.Fatal(err)
					}
					second = resp.ID.Version()
				},
				Config: testAccSyncHCL(name, secretName, map[string]string{"team": "orders"}, `
  value_format = "json"
  content_type = "application/json"
  tags         = { owner = "platform" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("latest_version"), knownvalueFunc(func() string { return second })),
				},
			},
			{
				ResourceName:      testAccSync,
				ImportState:       true,
				ImportStateId:     secretID,
				ImportStateVerify: true,
				// Key Vault does not record the binding's Terraform-side links;
				// value_format and content_type are rebuilt from the secret's
				// content type, which cannot tell an explicit default
				// (application/json here) from an unset one.
				ImportStateVerifyIgnore: []string{"credential", "application", "tags", "value_format", "content_type"},
			},
		},
	})
}

// TestAccKeyVaultSyncDrift deletes the secret out of band: refresh warns and
// drops the binding, and the plan shows it being created again.
func TestAccKeyVaultSyncDrift(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-sync-drift")
	_, vaultURL := testAccVault()
	secretName := name + "-pw"
	testAccPutSecret(t, vaultURL, secretName, "drift-value")
	cfg := testAccSyncHCL(name, secretName, nil, "")
	planShowsCreate := resource.ConfigPlanChecks{
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectResourceAction(testAccSync, plancheck.ResourceActionCreate)},
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig:          func() { testAccDeleteSecret(t, vaultURL, secretName, false) }, // soft delete
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks:   planShowsCreate,
			},
			{
				// Soft-deleted, the binding was dropped from the state:
				// re-creating it needs the name recovered (or purged).
				Config:      cfg,
				ExpectError: testAccErrorPattern("Key Vault secret is soft-deleted", secretName, "Recover it"),
			},
			{
				// Purged after the binding was dropped: binding it anew
				// still needs the secret to exist. (A binding still in the
				// state whose secret is purged stays there, and its rotation
				// writes it again: TestAccDeletedPrimaryComesBack.)
				PreConfig:   func() { testAccDeleteSecret(t, vaultURL, secretName, true) },
				Config:      cfg,
				ExpectError: testAccErrorPattern("Key Vault secret does not exist", secretName, "create_if_missing"),
			},
		},
	})
}

// TestAccKeyVaultSyncCreateIfMissing: by default the secret must exist;
// create_if_missing binds a missing secret, and its first version shows up
// on refresh.
func TestAccKeyVaultSyncCreateIfMissing(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-sync-missing")
	_, vaultURL := testAccVault()
	secretName := name + "-pw"
	var version string
	t.Cleanup(func() { testAccDeleteSecret(t, vaultURL, secretName, true) })
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      testAccSyncHCL(name, secretName, nil, ""),
				ExpectError: testAccErrorPattern("Key Vault secret does not exist", vaultURL),
			},
			{
				Config: testAccSyncHCL(name, secretName, nil, "create_if_missing = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("latest_version"), knownvalue.Null()),
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("secret_id"), knownvalue.StringExact(vaultURL+"secrets/"+secretName)),
				},
			},
			{
				PreConfig: func() {
					resp, err := testAccSecretsClient(t, vaultURL).SetSecret(context.Background(), secretName, secretParams("first"), nil)
					if err != nil {
						t.Fatal(err)
					}
					version = resp.ID.Version()
				},
				Config: testAccSyncHCL(name, secretName, nil, "create_if_missing = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("latest_version"), knownvalueFunc(func() string { return version })),
				},
			},
		},
	})
}

// TestAccKeyVaultSyncSoftDeleted: a soft-deleted secret can be neither bound
// nor created; the error says to recover or purge it.
func TestAccKeyVaultSyncSoftDeleted(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-sync-softdel")
	_, vaultURL := testAccVault()
	secretName := name + "-pw"
	testAccPutSecret(t, vaultURL, secretName, "soon-deleted")
	testAccDeleteSecret(t, vaultURL, secretName, false)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      testAccSyncHCL(name, secretName, nil, "create_if_missing = true"),
				ExpectError: testAccErrorPattern("Key Vault secret is soft-deleted", secretName, "Recover it"),
			},
		},
	})
}

// TestAccKeyVaultSyncTagBudget: the scope's tags, the sync's tags and the
// provider's own must fit in Key Vault's 15, checked at plan.
func TestAccKeyVaultSyncTagBudget(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-sync-tags")
	scopeTags := map[string]string{}
	extra := "tags = {\n"
	for i := range 6 { // 6 + 6 fit each side's limit, not the sum with the provider's
		scopeTags[fmt.Sprintf("scope-%d", i)] = "x"
		extra += fmt.Sprintf("    sync-%d = \"y\"\n", i)
	}
	extra += "  }"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:   testAccSyncHCL(name, name+"-pw", scopeTags, extra),
				PlanOnly: true,
				ExpectError: testAccErrorPattern("Too many tags", fmt.Sprintf("%d tags", 12+len(keyvault.ManagedTags)),
					"6 from tags", "6 from scope", fmt.Sprintf("%d from the provider", len(keyvault.ManagedTags)), "allows 15"),
			},
		},
	})
}

// TestExamplesPlanKeyVault plans the documentation examples of segura_dsm_application
// and segura_keyvault_sync, so that the docs cannot show a configuration the
// provider rejects. Planning makes no Key Vault or MongoDB call.
func TestExamplesPlanKeyVault(t *testing.T) {
	t.Parallel()
	providerBlock := `
provider "segura" {
  tenant_id     = "00000000-0000-0000-0000-000000000000"
  client_id     = "11111111-1111-1111-1111-111111111111"
  client_secret = "unused-at-plan"
}
`
	for _, example := range []string{"segura_dsm_application", "segura_keyvault_sync"} {
		t.Run(example, func(t *testing.T) {
			t.Parallel()
			hcl, err := os.ReadFile(filepath.Join("..", "..", "examples", "resources", example, "resource.tf"))
			if err != nil {
				t.Fatal(err)
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:             providerBlock + string(hcl),
					ConfigVariables:    config.Variables{"legacy_vault_client_secret": config.StringVariable("unused-at-plan")},
					PlanOnly:           true,
					ExpectNonEmptyPlan: true,
				}},
			})
		})
	}
}

// TestAccKeyVaultSyncMany binds 25 secrets in one apply, which Terraform
// walks 10 at a time: the provider's shared Key Vault client serves them
// concurrently.
func TestAccKeyVaultSyncMany(t *testing.T) {
	t.Parallel()
	const n = 25
	name := testAccName("acc-sync-many")
	_, vaultURL := testAccVault()
	for i := range n {
		testAccPutSecret(t, vaultURL, fmt.Sprintf("%s-%02d", name, i), "many")
	}
	cfg := testAccSyncHCL(name, name+"-00", nil, "") + fmt.Sprintf(`
resource "segura_keyvault_sync" "many" {
  count       = %d
  credential  = segura_credential.test
  application = segura_dsm_application.test
  secret_name = format("%s-%%02d", count.index)
}
`, n, name)
	checks := []statecheck.StateCheck{}
	for i := range n {
		checks = append(checks, statecheck.ExpectKnownValue(fmt.Sprintf("segura_keyvault_sync.many[%d]", i),
			tfjsonpath.New("secret_id"), knownvalue.StringExact(fmt.Sprintf("%ssecrets/%s-%02d", vaultURL, name, i))))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    []resource.TestStep{{Config: cfg, ConfigStateChecks: checks}},
	})
}

// TestAccKeyVaultSyncUsesApplicationIdentity: the provider's own identity
// has no access to the vault, the application carries a service principal
// that has; the binding reaches the vault as the application, because the
// client secret travels with the whole-object reference.
func TestAccKeyVaultSyncUsesApplicationIdentity(t *testing.T) {
	t.Parallel()
	st := testAccStack(t)
	c := testAccConfig()
	providerClient, err := uuid.GenerateUUID()
	if err != nil {
		t.Fatal(err)
	}
	st.KeyVault.AddClient(providerClient, "no-access-"+providerClient) // no access policy anywhere
	name := testAccName("acc-sync-appid")
	vaultName, vaultURL := testAccVault()
	secretName := name + "-pw"
	version := testAccPutSecret(t, vaultURL, secretName, "app-identity")
	cfg := testAccProviderConfigWith(providerClient, "no-access-"+providerClient) + fmt.Sprintf(`
resource "segura_device" "test" {
  name    = %q
  address = %q
}

resource "segura_credential" "test" {
  device   = segura_device.test
  username = "orders_app"
}
`, name, c.MongoDBHostPort()) + testAccScopeHCL(name, nil) +
		testAccApplicationHCL(name, vaultName, vaultURL, fmt.Sprintf("client_id = %q\n  client_secret = %q", c.ClientID, c.ClientSecret)) + fmt.Sprintf(`
resource "segura_keyvault_sync" "test" {
  credential  = segura_credential.test
  application = segura_dsm_application.test
  secret_name = %q
}
`, secretName)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("latest_version"), knownvalue.StringExact(version)),
				statecheck.ExpectKnownValue(testAccSync, tfjsonpath.New("application").AtMapKey("client_id"), knownvalue.StringExact(c.ClientID)),
			},
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectSensitiveValue(testAccSync, tfjsonpath.New("application").AtMapKey("client_secret"))},
			},
		}},
	})
}
