package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccWrongValuePastedOverThePrimary: a person writes a wrong value as a
// new version of a self-rotating credential's primary secret. The plan
// says so, and the apply finds the password among the versions the
// provider wrote and converges; no bootstrap password is needed.
func TestAccWrongValuePastedOverThePrimary(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-paste")
	c := rotationChain{name: name, username: usernameFor(name), secrets: everyFormat(name)[:1]}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	primary := c.secrets[0]
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: c.hcl(), Check: c.checkConverged(t, uri, &last)},
			{
				PreConfig: func() {
					value := "not-the-password-" + name
					testAccRecordSecret(value)
					if _, err := testAccSecretsClient(t, primary.vaultURL()).SetSecret(context.Background(), primary.name, secretParams(value), nil); err != nil {
						t.Fatal(err)
					}
				},
				Config: c.hcl(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(testAccRotation, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(testAccRotation, tfjsonpath.New("last_rotation_reason"),
						knownvalue.StringRegexp(regexp.MustCompile(`did not write.*no longer logs in`))),
				}},
				Check: c.checkConverged(t, uri, &last),
			},
			{Config: c.hcl(), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}
