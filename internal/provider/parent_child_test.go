package provider

import (
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// family is a self-rotating parent and children it rotates, all on one
// policy, so they fall due together.
type family struct {
	name     string
	parent   rotationChain // the parent's own chain (self-rotating)
	children []rotationChain
	// viaSync links the children with parent_sync instead of parent_rotation.
	viaSync bool
}

func newFamily(t *testing.T, prefix string, children int, viaSync bool) *family {
	t.Helper()
	name := testAccName(prefix)
	f := &family{name: name, viaSync: viaSync}
	f.parent = rotationChain{name: name, username: usernameFor(name) + "_admin", secrets: []rotationSecret{{resource: "admin", name: name + "-admin", format: secretvalue.Password}}}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	testAccRecordSecret(original)
	f.parent.arrange(t, uri, original)
	for i := range children {
		user := fmt.Sprintf("%s_c%d", usernameFor(name), i)
		c := rotationChain{name: name, username: user, secrets: []rotationSecret{{resource: fmt.Sprintf("c%d", i), name: fmt.Sprintf("%s-c%d", name, i), format: secretvalue.Password}}}
		testAccMongoRun(t, uri, bson.D{{Key: "createUser", Value: user}, {Key: "pwd", Value: original + "-child"}, {Key: "roles", Value: bson.A{}}})
		t.Cleanup(func() { testAccDeleteSecret(t, c.secrets[0].vaultURL(), c.secrets[0].name, true) })
		f.children = append(f.children, c)
	}
	return f
}

func (f *family) hcl(trigger string) string {
	cfg := testAccConfig()
	vault, url := testAccVault()
	var b strings.Builder
	b.WriteString(testAccProviderConfig())
	fmt.Fprintf(&b, `
resource "segura_device" "db" {
  name    = %[1]q
  address = %[2]q
}
resource "segura_dsm_scope" "s" {
  name        = %[1]q
  system      = "orders"
  environment = "test"
}
resource "segura_dsm_application" "a" {
  name       = %[1]q
  scope      = segura_dsm_scope.s
  tenant_id  = %[3]q
  vault_name = %[4]q
  vault_url  = %[5]q
}
resource "segura_rotation_policy" "shared" {
  name           = %[1]q
  frequency_days = 30
}
resource "segura_credential" "admin" {
  device   = segura_device.db
  username = %[6]q
}
resource "segura_keyvault_sync" "admin" {
  credential  = segura_credential.admin
  application = segura_dsm_application.a
  secret_name = %[7]q
}
resource "segura_credential_rotation" "admin" {
  credential = segura_credential.admin
  policy     = segura_rotation_policy.shared
  syncs      = [segura_keyvault_sync.admin]
  triggers   = { n = %[8]q }
}
`, f.name, f.parent.hostPort(), cfg.TenantID, vault, url, f.parent.username, f.parent.secrets[0].name, trigger)
	link := "parent_rotation = segura_credential_rotation.admin"
	if f.viaSync {
		link = "parent_sync = segura_keyvault_sync.admin"
	}
	for i, c := range f.children {
		fmt.Fprintf(&b, `
resource "segura_credential" "c%[1]d" {
  device   = segura_device.db
  username = %[2]q
  parent   = segura_credential.admin
}
resource "segura_keyvault_sync" "c%[1]d" {
  credential        = segura_credential.c%[1]d
  application       = segura_dsm_application.a
  secret_name       = %[3]q
  create_if_missing = true
}
resource "segura_credential_rotation" "c%[1]d" {
  credential = segura_credential.c%[1]d
  policy     = segura_rotation_policy.shared
  syncs      = [segura_keyvault_sync.c%[1]d]
  %[4]s
  triggers   = { n = %[5]q }
  bootstrap_password_wo = %[6]q
}
`, i, c.username, c.secrets[0].name, link, trigger, "Original-Passw0rd-"+f.name+"-child")
	}
	return b.String()
}

// converged checks the parent and every child.
func (f *family) converged(t *testing.T) error {
	uri := testAccConfig().MongoDBURI
	for _, c := range append([]rotationChain{f.parent}, f.children...) {
		if err := c.checkConverged(t, uri)(nil); err != nil {
			return fmt.Errorf("%s: %w", c.username, err)
		}
	}
	return nil
}

// TestAccParentAndChildrenDueTogether rotates a parent and three children
// it rotates, all due in the same apply, 20 times in a row: the children
// always log in with the parent's current password, because their
// rotations reference the parent's and Terraform orders them after it.
func TestAccParentAndChildrenDueTogether(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	testParentAndChildren(t, newFamily(t, "acc-fam", 3, false), 20)
}

// TestAccParentSyncChildrenWaitForTheParent: with parent_sync (no ordering
// between the rotations), a child that read the parent's password just
// before the parent rotated waits for the parent and uses its new password.
func TestAccParentSyncChildrenWaitForTheParent(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	testParentAndChildren(t, newFamily(t, "acc-fams", 3, true), 10)
}

func testParentAndChildren(t *testing.T, f *family, applies int) {
	ws := newCLIWorkspace(t)
	for i := range applies {
		ws.Write(f.hcl(fmt.Sprint(i)))
		if out, err := ws.Run("apply", "-auto-approve", "-input=false"); err != nil {
			t.Fatalf("apply %d of %d (parent and %d children due together): %v\n%s", i+1, applies, len(f.children), err, tail([]byte(out), 6000))
		}
		if err := f.converged(t); err != nil {
			t.Fatalf("after apply %d: %v", i+1, err)
		}
	}
	if code := runExitCode(ws, "plan", "-detailed-exitcode", "-input=false"); code != 0 {
		t.Errorf("plan after %d applies: exit %d, want 0", applies, code)
	}
}
