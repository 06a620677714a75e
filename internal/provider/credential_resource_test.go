package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestCredentialRefMatchesCredentialSchema(t *testing.T) {
	t.Parallel()
	checkRefConsistency(t, NewCredentialResource(), credentialRefAttrTypes())
}

// testAccCredentialConfig: two devices, an admin credential and an app
// credential whose parent is the admin; device selects which device the app
// credential is on, site changes the first device in place.
func testAccCredentialConfig(prefix, device, site, description string) string {
	address := testAccConfig().MongoDBHostPort()
	return testAccProviderConfig() + fmt.Sprintf(`
resource "segura_device" "one" {
  name    = "%[1]s-one"
  address = %[2]q
  site    = %[3]q
}

resource "segura_device" "two" {
  name    = "%[1]s-two"
  address = %[2]q
}

resource "segura_credential" "admin" {
  device   = segura_device.%[4]s
  username = "%[1]s-admin"
}

resource "segura_credential" "app" {
  device      = segura_device.%[4]s
  username    = "%[1]s-app"
  parent      = segura_credential.admin
  description = %[5]q
  tags = {
    owner = "orders"
  }
}
`, prefix, address, site, device, description)
}

func TestAccCredential(t *testing.T) {
	t.Parallel()
	prefix := testAccName("acc-cred")
	sameID := statecheck.CompareValue(compare.ValuesSame())
	deviceIDs := statecheck.CompareValuePairs(
		"segura_device.one", tfjsonpath.New("id"),
		"segura_credential.app", tfjsonpath.New("device").AtMapKey("id"),
		compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccCredentialConfig(prefix, "one", "dc-1", "orders service"),
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue("segura_credential.app", tfjsonpath.New("id")),
					deviceIDs,
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("auth_database"), knownvalue.StringExact("admin")),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("mechanism"), knownvalue.StringExact("SCRAM-SHA-256")),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("device").AtMapKey("name"), knownvalue.StringExact(prefix+"-one")),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("parent").AtMapKey("username"), knownvalue.StringExact(prefix+"-admin")),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("parent").AtMapKey("device").AtMapKey("name"), knownvalue.StringExact(prefix+"-one")),
				},
			},
			// A device attribute outside the reference shape (site) is
			// dropped on conversion: the credential does not change.
			{
				Config: testAccCredentialConfig(prefix, "one", "dc-2", "orders service"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("segura_device.one", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("segura_credential.app", plancheck.ResourceActionNoop),
					},
				},
			},
			// An in-place change of the credential itself.
			{
				Config: testAccCredentialConfig(prefix, "one", "dc-2", "orders service, v2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("segura_credential.app", plancheck.ResourceActionUpdate),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue("segura_credential.app", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("description"), knownvalue.StringExact("orders service, v2")),
				},
			},
			// Moving the credentials to another device replaces them.
			{
				Config: testAccCredentialConfig(prefix, "two", "dc-2", "orders service, v2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("segura_credential.admin", plancheck.ResourceActionReplace),
						plancheck.ExpectResourceAction("segura_credential.app", plancheck.ResourceActionReplace),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs(
						"segura_device.two", tfjsonpath.New("id"),
						"segura_credential.app", tfjsonpath.New("device").AtMapKey("id"),
						compare.ValuesSame()),
				},
			},
		},
	})
}

// TestAccCredentialParentOnOtherDevice: the parent must log in to the same
// device; a parent on another device fails at plan, before anything is created.
func TestAccCredentialParentOnOtherDevice(t *testing.T) {
	t.Parallel()
	prefix := testAccName("acc-cred-parent")
	address := testAccConfig().MongoDBHostPort()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccProviderConfig() + fmt.Sprintf(`
resource "segura_device" "one" {
  name    = "%[1]s-one"
  address = %[2]q
}

resource "segura_device" "other" {
  name    = "%[1]s-other"
  address = "other.example:27017"
}

resource "segura_credential" "admin" {
  device   = segura_device.other
  username = "admin"
}

resource "segura_credential" "app" {
  device   = segura_device.one
  username = "app"
  parent   = segura_credential.admin
}
`, prefix, address),
				ExpectError: regexp.MustCompile(`(?s)parent must be a credential on the same device`),
			},
		},
	})
}
