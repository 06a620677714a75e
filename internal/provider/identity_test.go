package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// TestAccIdentity (Terraform >= 1.12): the sync and the rotation record their
// secret as their identity, and an import block with that identity adopts
// each of them; the rotation's import plan rotates nothing.
func TestAccIdentity(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-ident")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets:  everyFormat(name)[:1],
		policy:   "frequency_days = 30",
	}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	secret := c.secrets[0]
	sync := "segura_keyvault_sync." + secret.resource
	identity := map[string]knownvalue.Check{
		"vault_url":   knownvalue.StringExact(secret.vaultURL()),
		"secret_name": knownvalue.StringExact(secret.name),
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		Steps: []resource.TestStep{
			{
				Config: c.hcl(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(sync, identity),
					statecheck.ExpectIdentity(testAccRotation, identity),
				},
				Check: c.checkConverged(t, uri, &last),
			},
			{
				ResourceName:    sync,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				// Key Vault does not record the binding's Terraform-side
				// links (credential, application), so the import plan
				// fills them in from the configuration: an update in place
				// that touches no secret.
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(sync, tfjsonpath.New("secret_id"), knownvalue.StringExact(c.primaryID())),
				}},
			},
			{
				ResourceName:       testAccRotation,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithResourceIdentity,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					// An import adopts the last rotation: nothing rotates.
					plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("rotation_count"), knownvalue.Int64Exact(1)),
					plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("last_rotated_at"), knownvalue.NotNull()),
					plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("id"), knownvalue.StringExact(c.primaryID())),
				}},
			},
		},
	})
}
