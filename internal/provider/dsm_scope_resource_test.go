package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

func TestScopeRefMatchesScopeSchema(t *testing.T) {
	t.Parallel()
	checkRefConsistency(t, NewDSMScopeResource(), scopeRefAttrTypes())
}

func TestScopeTagBudgetLeavesRoomForProviderTags(t *testing.T) {
	t.Parallel()
	if maxUserSecretTags < 1 || maxUserSecretTags+len(keyvault.ManagedTags) != keyvault.MaxTags {
		t.Errorf("maxUserSecretTags = %d does not leave room for the provider's %d tags within Key Vault's %d", maxUserSecretTags, len(keyvault.ManagedTags), keyvault.MaxTags)
	}
}

func testAccScopeConfig(name, environment string, tags map[string]string) string {
	var b strings.Builder
	for k, v := range tags {
		fmt.Fprintf(&b, "    %q = %q\n", k, v)
	}
	return testAccProviderConfig() + fmt.Sprintf(`
resource "segura_dsm_scope" "test" {
  name        = %q
  system      = "orders"
  environment = %q
  description = "Orders service secrets"
  tags = {
%s  }
}
`, name, environment, b.String())
}

func TestAccDSMScope(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-scope")
	sameID := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccScopeConfig(name, "staging", map[string]string{"cost-center": "42"}),
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue("segura_dsm_scope.test", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("segura_dsm_scope.test", tfjsonpath.New("environment"), knownvalue.StringExact("staging")),
					statecheck.ExpectKnownValue("segura_dsm_scope.test", tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"cost-center": knownvalue.StringExact("42"),
					})),
				},
			},
			{
				Config: testAccScopeConfig(name, "production", map[string]string{"cost-center": "42", "owner": "orders-team"}),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("segura_dsm_scope.test", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue("segura_dsm_scope.test", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("segura_dsm_scope.test", tfjsonpath.New("environment"), knownvalue.StringExact("production")),
					statecheck.ExpectKnownValue("segura_dsm_scope.test", tfjsonpath.New("tags").AtMapKey("owner"), knownvalue.StringExact("orders-team")),
				},
			},
		},
	})
}
