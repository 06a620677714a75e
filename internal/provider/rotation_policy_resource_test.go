package provider

import (
	"context"
	"testing"

	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/segura-community/terraform-provider-segura/internal/password"
)

// TestRotationPolicyDefaultsSatisfyTheEngines: the schema defaults alone must
// make a policy the password engine accepts, or every minimal configuration
// would fail at plan.
func TestRotationPolicyDefaultsSatisfyTheEngines(t *testing.T) {
	t.Parallel()
	var m rotationPolicyResourceModel
	m.PasswordLength = types.Int64Null()
	m.PasswordMinLower = types.Int64Null()
	m.PasswordMinUpper = types.Int64Null()
	m.PasswordMinDigits = types.Int64Null()
	m.PasswordMinSymbols = types.Int64Null()
	m.PasswordSymbols = types.StringNull()
	pw, ok := m.passwordPolicy()
	if !ok {
		t.Fatal("passwordPolicy() not ok for null (defaulted) values")
	}
	if problems := pw.Validate(); len(problems) != 0 {
		t.Errorf("default password policy is invalid: %v", problems)
	}
	if pw.Symbols != password.DefaultSymbols || pw.Length != defaultPasswordLength {
		t.Errorf("defaults not applied: %+v", pw)
	}
}

// TestRotationPolicyProblemFieldsMapToAttributes: every field the engines can
// name must map to an attribute of the schema, so a diagnostic always points
// at what the user wrote.
func TestRotationPolicyProblemFieldsMapToAttributes(t *testing.T) {
	t.Parallel()
	var resp fwresource.SchemaResponse
	NewRotationPolicyResource().Schema(context.Background(), fwresource.SchemaRequest{}, &resp)
	for _, m := range []map[string]string{passwordFieldAttribute, scheduleFieldAttribute} {
		for field, attr := range m {
			if _, ok := resp.Schema.Attributes[attr]; !ok {
				t.Errorf("engine field %s maps to %q, which is not an attribute", field, attr)
			}
		}
	}
}

const testAccRotationPolicyMinimal = `
resource "segura_rotation_policy" "test" {
  name           = "monthly"
  frequency_days = 30
}
`

const testAccRotationPolicyFull = `
resource "segura_rotation_policy" "test" {
  name                        = "monthly-business-hours"
  description                 = "Rotate monthly, early morning on weekdays, Berlin time"
  frequency_days              = 30
  allowed_times               = ["02:00", "04:30"]
  allowed_weekdays            = ["monday", "tuesday", "wednesday", "thursday", "friday"]
  time_zone                   = "Europe/Berlin"
  max_age_days                = 45
  rotate_after_exposure_hours = 24
  password_length             = 40
  password_min_symbols        = 2
  password_symbols            = "-_.!"
  password_exclude_lookalikes = true
  password_no_repeats         = true
}
`

func TestAccRotationPolicy(t *testing.T) {
	t.Parallel()
	sameID := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccProviderConfig() + testAccRotationPolicyMinimal,
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue("segura_rotation_policy.test", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("time_zone"), knownvalue.StringExact("UTC")),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("password_length"), knownvalue.Int64Exact(defaultPasswordLength)),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("password_symbols"), knownvalue.StringExact(password.DefaultSymbols)),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("allowed_times"), knownvalue.Null()),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("max_age_days"), knownvalue.Null()),
				},
			},
			{
				Config: testAccProviderConfig() + testAccRotationPolicyFull,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("segura_rotation_policy.test", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue("segura_rotation_policy.test", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("time_zone"), knownvalue.StringExact("Europe/Berlin")),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("allowed_weekdays"), knownvalue.SetSizeExact(5)),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("allowed_times"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("02:00"), knownvalue.StringExact("04:30")})),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("password_no_repeats"), knownvalue.Bool(true)),
				},
			},
			// Back to the minimal policy: removed optional values return to
			// null or their defaults, in place.
			{
				Config: testAccProviderConfig() + testAccRotationPolicyMinimal,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("segura_rotation_policy.test", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue("segura_rotation_policy.test", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("time_zone"), knownvalue.StringExact("UTC")),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("allowed_weekdays"), knownvalue.Null()),
					statecheck.ExpectKnownValue("segura_rotation_policy.test", tfjsonpath.New("password_symbols"), knownvalue.StringExact(password.DefaultSymbols)),
				},
			},
		},
	})
}
