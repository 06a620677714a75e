package provider

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// rotateActionHCL declares the segura_rotate action of segura_credential_rotation.test.
const rotateActionHCL = `
action "segura_rotate" "test" {
  config {
    rotation = segura_credential_rotation.test
    reason   = "acceptance test"
  }
}
`

// skipBelowTerraform skips a test that needs a newer Terraform than the one
// the acceptance tests drive.
func skipBelowTerraform(t *testing.T, major, minor int, why string) { //nolint:unparam // a Terraform version has a major; every release so far that a test needs is 1.x
	t.Helper()
	if ok, line := terraformAtLeast(major, minor); !ok {
		t.Skipf("%s needs Terraform >= %d.%d; this run drives %s", why, major, minor, line)
	}
}

// TestAccRotateAction invokes the segura_rotate action through the real
// terraform binary: the password is rotated and every secret agrees, the
// next plan is empty, and refresh records the action's rotation as the
// resource's last one.
func TestAccRotateAction(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	skipBelowTerraform(t, 1, 14, "the segura_rotate action")
	name := testAccName("acc-act")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets: []rotationSecret{
			{resource: "pw", name: name + "-pw", format: secretvalue.Password},
			{resource: "json", name: name + "-json", format: secretvalue.JSON, second: true},
		},
		policy: "frequency_days = 30",
	}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	c.arrange(t, uri, original)
	last := original
	ws := newCLIWorkspace(t)
	ws.Write(c.hcl() + rotateActionHCL)
	ws.MustRun("apply", "-auto-approve", "-input=false")
	if err := c.checkConverged(t, uri, &last)(nil); err != nil {
		t.Fatalf("first rotation: %v", err)
	}
	before := rotationState(t, ws)

	out := ws.MustRun("apply", "-invoke=action.segura_rotate.test", "-auto-approve", "-input=false")
	t.Logf("terraform apply -invoke:\n%s", tail([]byte(out), 3000))
	for _, want := range []string{"preflight passed", "MongoDB now holds the new password", "written to 2 Key Vault secret(s)", "verified", "adopts it"} {
		if !strings.Contains(out, want) {
			t.Errorf("the action's output lacks the progress message %q:\n%s", want, tail([]byte(out), 4000))
		}
	}
	if err := c.checkConverged(t, uri, &last)(nil); err != nil {
		t.Fatalf("after the action: %v", err)
	}
	if code := runExitCode(ws, "plan", "-detailed-exitcode", "-input=false"); code != 0 {
		out, _ := ws.Run("plan", "-input=false")
		t.Fatalf("plan after the action: exit %d, want 0 (nothing to do):\n%s", code, tail([]byte(out), 4000))
	}
	ws.MustRun("apply", "-refresh-only", "-auto-approve", "-input=false")
	after := rotationState(t, ws)
	countBefore, _ := before["rotation_count"].(float64)
	reason, _ := after["last_rotation_reason"].(string)
	if after["last_rotation_id"] == before["last_rotation_id"] || after["rotation_count"] != countBefore+1 || !strings.Contains(reason, "segura_rotate") {
		t.Errorf("refresh did not adopt the action's rotation: before %v, after %v", before, after)
	}
	if code := runExitCode(ws, "plan", "-detailed-exitcode", "-input=false"); code != 0 {
		t.Errorf("plan after the adopting refresh: exit %d, want 0", code)
	}
}

// rotationState is segura_credential_rotation.test's attributes from the
// workspace's state.
func rotationState(t *testing.T, ws *cliWorkspace) map[string]any {
	t.Helper()
	out := ws.MustRun("show", "-json")
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &doc); err != nil {
		t.Fatalf("terraform show -json: %v", err)
	}
	for _, r := range doc.Values.RootModule.Resources {
		if r.Address == testAccRotation {
			return r.Values
		}
	}
	t.Fatalf("no %s in the state", testAccRotation)
	return nil
}

// runExitCode runs terraform in ws and returns its exit status.
func runExitCode(ws *cliWorkspace, args ...string) int {
	_, err := ws.Run(args...)
	return exitCode(err)
}
