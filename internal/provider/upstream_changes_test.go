package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// TestAccUpstreamChangesPlan changes, one after another, the rotated
// credential's device address (a host migration), its mechanism and its
// parent: each plans as an in-place update of the rotation that rotates
// nothing, applies, and leaves an empty plan. (These plans used to fail
// with "Value Conversion Error ... provider.credentialRef".)
func TestAccUpstreamChangesPlan(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-up")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets:  []rotationSecret{{resource: "pw", name: name + "-pw", format: secretvalue.Password}},
		parent:   &rotationSecret{resource: "admin", name: name + "-admin", format: secretvalue.Password},
	}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original

	host := c.hostPort()
	base := c.hcl()
	moved := strings.Replace(base, fmt.Sprintf("address = %q", host), fmt.Sprintf("address = %q", strings.Replace(host, "127.0.0.1", "localhost", 1)), 1)
	sha1 := strings.Replace(moved, "parent = segura_credential.admin", "parent = segura_credential.admin\n  mechanism = \"SCRAM-SHA-1\"", 1)
	selfRotating := strings.NewReplacer("parent = segura_credential.admin", "", "parent_sync = segura_keyvault_sync.admin", "").Replace(sha1)
	for _, changed := range []string{moved, sha1, selfRotating} {
		if changed == base {
			t.Fatal("a configuration change did not apply to the generated configuration")
		}
	}
	noRotation := func(count int64) resource.ConfigPlanChecks {
		return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction(testAccRotation, plancheck.ResourceActionUpdate),
			plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("rotation_count"), knownvalue.Int64Exact(count)),
		}}
	}
	empty := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: base, Check: c.checkConverged(t, uri, &last)},
			{Config: moved, ConfigPlanChecks: noRotation(1)},
			{Config: moved, ConfigPlanChecks: empty},
			// The rotation kept the user's SCRAM-SHA-1 credentials
			// (updateUser is sent the mechanisms the user has), so the
			// switch logs in as before.
			{Config: sha1, ConfigPlanChecks: noRotation(1)},
			{Config: sha1, ConfigPlanChecks: empty},
			{Config: selfRotating, ConfigPlanChecks: noRotation(1)},
			{Config: selfRotating, ConfigPlanChecks: empty},
			{
				// And the next rotation works on what the changes made.
				Config: strings.Replace(selfRotating, "syncs      =", "triggers = { n = \"2\" }\n  syncs      =", 1),
				Check:  c.checkConverged(t, uri, &last),
			},
		},
	})
}
