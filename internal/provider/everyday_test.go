package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
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

// TestAccCheckoutAfterRotation: a checkout given the rotation opens after
// it, so its consumer gets the password the apply set, on the first apply
// and on a later one that rotates; the plan of that apply does not open it.
func TestAccCheckoutAfterRotation(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-co")
	c := rotationChain{name: name, username: usernameFor(name), secrets: everyFormat(name)[:1], unrecorded: true}
	uri := testAccConfig().MongoDBURI
	c.arrange(t, uri, "Original-Passw0rd-"+name)
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"segura": testAccProtoV6ProviderFactories["segura"],
		"echo":   echoprovider.NewProviderServer(),
	}
	consumer := `
ephemeral "segura_credential_checkout" "test" {
  rotation = segura_credential_rotation.test
}

provider "echo" {
  data = ephemeral.segura_credential_checkout.test
}
`
	primary := c.secrets[0]
	current := func(got string) error {
		resp, err := testAccSecretsClient(t, primary.vaultURL()).GetSecret(context.Background(), primary.name, "", nil)
		if err != nil {
			return err
		}
		if got != *resp.Value {
			return fmt.Errorf("the consumer got another password than the one the apply set (the pre-rotation one?)")
		}
		return nil
	}
	// An echo resource records its provider's data when it is created: one
	// new consumer per apply.
	rotate := func(n string) string {
		return strings.Replace(c.hcl(), "syncs      =", "triggers = { n = \""+n+"\" }\n  syncs      =", 1) + consumer +
			"\nresource \"echo\" \"n" + n + "\" {}\n"
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		Steps: []resource.TestStep{
			{Config: rotate("1"), Check: resource.TestCheckResourceAttrWith("echo.n1", "data.password", current)},
			{Config: rotate("2"), Check: resource.TestCheckResourceAttrWith("echo.n2", "data.password", current)},
		},
	})
}

// TestAccSoftDeletedWarningSaysWhatWorks: the warning for a soft-deleted
// bound secret says a soft-deleted name can be neither read nor written and
// how to get it back; it does not suggest create_if_missing, which cannot
// help (and is already set here).
func TestAccSoftDeletedWarningSaysWhatWorks(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-softwarn")
	_, vaultURL := testAccVault()
	secretName := name + "-pw"
	testAccPutSecret(t, vaultURL, secretName, "soon-soft-deleted")
	ws := newCLIWorkspace(t)
	ws.Write(testAccSyncHCL(name, secretName, nil, "create_if_missing = true"))
	ws.MustRun("apply", "-auto-approve", "-input=false")
	testAccDeleteSecret(t, vaultURL, secretName, false)
	out, _ := ws.Run("plan", "-input=false")
	flat := strings.Join(strings.Fields(strings.ReplaceAll(out, "│", " ")), " ")
	for _, want := range []string{"was soft-deleted outside Terraform", "can be neither read nor written", "az keyvault secret recover --id"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the plan's warning lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(flat, "(or create_if_missing = true)") {
		t.Errorf("the warning still suggests create_if_missing:\n%s", out)
	}
}

// TestAccNoChangedOutsideNoteForOwnWrites: after rotations, a plan with
// some other change does not list the bindings as "changed outside of
// Terraform" for the versions the rotations wrote; a version written
// outside Terraform still shows.
func TestAccNoChangedOutsideNoteForOwnWrites(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-noise")
	c := rotationChain{name: name, username: usernameFor(name), secrets: everyFormat(name)[:2]}
	uri := testAccConfig().MongoDBURI
	c.arrange(t, uri, "Original-Passw0rd-"+name)
	ws := newCLIWorkspace(t)
	withTrigger := func(n string) string {
		return strings.Replace(c.hcl(), "syncs      =", "triggers = { n = \""+n+"\" }\n  syncs      =", 1)
	}
	ws.Write(withTrigger("1"))
	ws.MustRun("apply", "-auto-approve", "-input=false")
	ws.Write(withTrigger("2"))
	ws.MustRun("apply", "-auto-approve", "-input=false")
	// Some other change, so that the plan is not empty.
	ws.Write(strings.Replace(withTrigger("2"), `tags        = { owner = "platform" }`, `tags        = { owner = "platform-team" }`, 1))
	out := ws.MustRun("plan", "-input=false")
	if !strings.Contains(out, "platform-team") {
		t.Fatalf("the plan does not show the configuration change:\n%s", out)
	}
	// OpenTofu words the note "changed outside of OpenTofu".
	changedOutside := regexp.MustCompile(`changed outside of (Terraform|OpenTofu)`)
	if changedOutside.MatchString(out) {
		t.Errorf("the plan notes changes outside of Terraform after the provider's own rotations:\n%s", tail([]byte(out), 4000))
	}
	// A version written by someone else is a change outside Terraform.
	value := "written-by-hand-" + name
	testAccRecordSecret(value)
	if _, err := testAccSecretsClient(t, c.secrets[0].vaultURL()).SetSecret(context.Background(), c.secrets[0].name, secretParams(value), nil); err != nil {
		t.Fatal(err)
	}
	if out := ws.MustRun("plan", "-input=false"); !changedOutside.MatchString(out) {
		t.Errorf("a version written by hand is not noted as a change outside Terraform:\n%s", tail([]byte(out), 4000))
	}
}

// TestAccParentDriftWarnsTheChild: when the parent's Key Vault value no
// longer logs in, the child's plan warns that its next rotation would fail.
func TestAccParentDriftWarnsTheChild(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-pdrift")
	c := rotationChain{
		name: name, username: usernameFor(name), secrets: everyFormat(name)[:1],
		parent: &rotationSecret{resource: "admin", name: name + "-admin", format: secretvalue.Password},
	}
	uri := testAccConfig().MongoDBURI
	c.arrange(t, uri, "Original-Passw0rd-"+name)
	ws := newCLIWorkspace(t)
	ws.Write(c.hcl())
	ws.MustRun("apply", "-auto-approve", "-input=false")
	if out := ws.MustRun("plan", "-input=false"); strings.Contains(out, "Parent credential's password does not log in") {
		t.Fatalf("the warning shows while the parent is fine:\n%s", out)
	}
	changed := "Changed-by-a-DBA-" + name
	testAccRecordSecret(changed)
	testAccMongoRun(t, uri, bson.D{{Key: "updateUser", Value: c.parentUser()}, {Key: "pwd", Value: changed}})
	out := ws.MustRun("plan", "-input=false")
	flat := strings.Join(strings.Fields(strings.ReplaceAll(out, "│", " ")), " ")
	if !strings.Contains(flat, "Parent credential's password does not log in") || !strings.Contains(flat, c.parentUser()+"@admin") {
		t.Errorf("the child's plan does not warn about its parent:\n%s", out)
	}
}

// TestAccImportOfAMissingSecret: importing a rotation by a secret that does
// not exist says so (the real service lists a missing secret's versions as
// an empty page, which the emulator now does too), rather than "no rotation
// found" or a generic Key Vault failure.
func TestAccImportOfAMissingSecret(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-impmiss")
	c := rotationChain{name: name, username: usernameFor(name), secrets: everyFormat(name)[:1]}
	ws := newCLIWorkspace(t)
	ws.Write(c.hcl())
	out, err := ws.Run("import", "-input=false", testAccRotation, c.primaryID())
	flat := strings.Join(strings.Fields(strings.ReplaceAll(out, "│", " ")), " ")
	if err == nil || !strings.Contains(flat, "Key Vault secret does not exist") || !strings.Contains(flat, "has no secret named") {
		t.Errorf("import of a missing secret: %v\n%s", err, out)
	}
}

// TestAccDeletedPrimaryComesBack: the primary secret is deleted and purged.
// With a checkout of the rotation in the configuration, the CI signal stays
// a plan exit 2 with the reason (not an error from the checkout), and the
// next apply writes the primary again with the password the other binding
// still holds; the plan after it is empty.
func TestAccDeletedPrimaryComesBack(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-purge")
	c := rotationChain{name: name, username: usernameFor(name), secrets: everyFormat(name)[:2], unrecorded: true}
	uri := testAccConfig().MongoDBURI
	c.arrange(t, uri, "Original-Passw0rd-"+name)
	ws := newCLIWorkspace(t)
	checkout := `
ephemeral "segura_credential_checkout" "test" {
  rotation = segura_credential_rotation.test
}
`
	ws.Write(c.hcl() + checkout)
	ws.MustRun("apply", "-auto-approve", "-input=false")
	if err := c.checkConverged(t, uri)(nil); err != nil {
		t.Fatal(err)
	}
	primary := c.secrets[0]
	testAccDeleteSecret(t, primary.vaultURL(), primary.name, true)

	out, err := ws.Run("plan", "-detailed-exitcode", "-input=false")
	flat := strings.Join(strings.Fields(strings.ReplaceAll(out, "│", " ")), " ")
	if code := exitCode(err); code != 2 || !strings.Contains(flat, "was deleted outside Terraform; the next apply writes it again") {
		t.Fatalf("plan after the primary was purged: exit %d, want 2 with the reason:\n%s", code, out)
	}
	if out, err := ws.Run("apply", "-auto-approve", "-input=false"); err != nil {
		t.Fatalf("the apply that should write the primary again: %v\n%s", err, tail([]byte(out), 5000))
	}
	if err := c.checkConverged(t, uri)(nil); err != nil {
		t.Errorf("after the apply: %v", err)
	}
	if code := runExitCode(ws, "plan", "-detailed-exitcode", "-input=false"); code != 0 {
		out, _ := ws.Run("plan", "-input=false")
		t.Errorf("plan after the primary came back: exit %d, want 0:\n%s", code, out)
	}
}

// TestAccImportPlanShowsOnlyWhatKeyVaultDoesNotKnow: after importing the
// bindings and the rotation as the docs say, the first plan updates only
// what Key Vault does not record (the links between the resources and the
// bindings' create_if_missing), rotates nothing, and writes no secret; the
// plan after that apply is empty.
func TestAccImportPlanShowsOnlyWhatKeyVaultDoesNotKnow(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-imp")
	c := rotationChain{name: name, username: usernameFor(name), secrets: everyFormat(name)}
	uri := testAccConfig().MongoDBURI
	c.arrange(t, uri, "Original-Passw0rd-"+name)
	ws := newCLIWorkspace(t)
	ws.Write(c.hcl())
	ws.MustRun("apply", "-auto-approve", "-input=false")
	before := secretVersions(t, c)
	for _, s := range c.secrets {
		ws.MustRun("state", "rm", "segura_keyvault_sync."+s.resource)
	}
	ws.MustRun("state", "rm", testAccRotation)
	for _, s := range c.secrets {
		ws.MustRun("import", "-input=false", "segura_keyvault_sync."+s.resource, s.vaultURL()+"secrets/"+s.name)
	}
	ws.MustRun("import", "-input=false", testAccRotation, c.primaryID())
	plan := ws.MustRun("plan", "-input=false")
	t.Logf("first plan after import:\n%s", plan)
	if strings.Contains(plan, "must be replaced") || strings.Contains(plan, "(known after apply)") {
		t.Errorf("the first plan after import replaces something or rotates:\n%s", plan)
	}
	// Per binding, only its links may change, and create_if_missing where
	// the secret existed before its first rotation (Key Vault cannot tell).
	for _, block := range strings.Split(plan, "\n  # ")[1:] {
		if !strings.HasPrefix(block, "segura_keyvault_sync.") {
			continue
		}
		for _, line := range strings.Split(block, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || (f[0] != "~" && f[0] != "-") {
				continue
			}
			switch attr := f[1]; {
			case attr == "resource":
			case attr == "create_if_missing" && strings.HasPrefix(block, "segura_keyvault_sync."+c.secrets[0].resource+" "):
			default:
				t.Errorf("the first plan after import changes %s of %s", attr, strings.Fields(block)[0])
			}
		}
	}
	ws.MustRun("apply", "-auto-approve", "-input=false")
	if after := secretVersions(t, c); after != before {
		t.Errorf("the apply after import wrote secrets: %s -> %s", before, after)
	}
	if code := runExitCode(ws, "plan", "-detailed-exitcode", "-input=false"); code != 0 {
		out, _ := ws.Run("plan", "-input=false")
		t.Errorf("second plan after import: exit %d, want 0:\n%s", code, out)
	}
}
