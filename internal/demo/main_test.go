package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseOutputs(t *testing.T) {
	data := []byte(`{
  "last_rotated_at": {"sensitive": false, "type": "string", "value": "2026-11-29T05:17:30Z"},
  "next_rotation_at": {"sensitive": false, "type": "string", "value": null},
  "rotation_count": {"sensitive": false, "type": "number", "value": 2},
  "rotation_id": {"sensitive": false, "type": "string", "value": "0939b730d3b9d33d"},
  "rotation_reason": {"sensitive": false, "type": "string", "value": "initial rotation"},
  "secret_versions": {"sensitive": false, "type": ["map", "string"], "value": {"https://127.0.0.1:1/secrets/orders-db-password": "v1"}}
}`)
	got, err := parseOutputs(data)
	if err != nil {
		t.Fatal(err)
	}
	want := outputs{
		RotationID: "0939b730d3b9d33d", RotationReason: "initial rotation", RotationCount: 2,
		LastRotatedAt: "2026-11-29T05:17:30Z", SecretVersions: map[string]string{"https://127.0.0.1:1/secrets/orders-db-password": "v1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseOutputs:\n got %+v\nwant %+v", got, want)
	}
	if _, err := parseOutputs([]byte(`{"rotation_id": {"value": "x"}}`)); err == nil || !strings.Contains(err.Error(), "no output") {
		t.Errorf("outputs missing from the example: want a 'no output' error, got %v", err)
	}
}

func TestPlanAndApplySummary(t *testing.T) {
	plan := `Terraform used the selected providers to generate the following execution plan.

  # segura_credential_rotation.orders_app will be updated in-place
  ~ resource "segura_credential_rotation" "orders_app" {
        id                      = "https://127.0.0.1:1/secrets/orders-db-password"
      ~ last_rotated_at         = "2026-11-29T05:17:30Z" -> (known after apply)
      ~ last_rotation_reason    = "initial rotation" -> "triggers changed"
        # (8 unchanged attributes hidden)
    }

  # segura_keyvault_sync.orders_db_uri must be replaced
Plan: 1 to add, 1 to change, 1 to destroy.
`
	want := []string{
		"# segura_credential_rotation.orders_app will be updated in-place",
		"# segura_keyvault_sync.orders_db_uri must be replaced",
		"Plan: 1 to add, 1 to change, 1 to destroy.",
	}
	if got := planSummary([]byte(plan)); !reflect.DeepEqual(got, want) {
		t.Errorf("planSummary:\n got %q\nwant %q", got, want)
	}

	apply := `segura_device.orders_db: Creating...
segura_credential_rotation.orders_app: Modifying... [id=x]
segura_credential_rotation.orders_app: Modifications complete after 1s [id=x]

Apply complete! Resources: 0 added, 1 changed, 0 destroyed.
`
	want = []string{
		"segura_credential_rotation.orders_app: Modifications complete after 1s [id=x]",
		"Apply complete! Resources: 0 added, 1 changed, 0 destroyed.",
	}
	if got := applySummary([]byte(apply)); !reflect.DeepEqual(got, want) {
		t.Errorf("applySummary:\n got %q\nwant %q", got, want)
	}
}

func TestPlannedReason(t *testing.T) {
	show := []byte(`{"format_version":"1.2","resource_changes":[
  {"address":"segura_device.orders_db","change":{"actions":["no-op"],"after":{"name":"orders-db"},"after_unknown":{}}},
  {"address":"segura_credential_rotation.orders_app","change":{"actions":["update"],
   "after":{"last_rotation_reason":"due: the password is 45 days old"},"after_unknown":{"last_rotated_at":true}}}]}`)
	if got := plannedReason(show); got != "due: the password is 45 days old" {
		t.Errorf("plannedReason = %q", got)
	}
	// An update that does not rotate (e.g. a policy field) has no reason to show.
	show = []byte(`{"resource_changes":[{"address":"segura_credential_rotation.orders_app","change":{"actions":["update"],
   "after":{"last_rotation_reason":"initial rotation"},"after_unknown":{}}}]}`)
	if got := plannedReason(show); got != "" {
		t.Errorf("plannedReason of an update that does not rotate = %q, want empty", got)
	}
}

func TestReport(t *testing.T) {
	versions := []version{
		{Vault: "segura-dev-2", Secret: "orders-db-uri", Version: "bbbb", Format: "connection_string"},
		{Vault: "segura-dev", Secret: "orders-db-password", Version: "aaaa", Format: "password"},
	}
	sortVersions(versions)
	if versions[0].Secret != primarySecret {
		t.Fatalf("the primary secret must come first: %+v", versions)
	}
	r := report{
		Rotated:  true,
		Username: "orders_app",
		MongoDB:  "mongodb://127.0.0.1:1/",
		Outputs: outputs{RotationID: "r1", RotationReason: "initial rotation", RotationCount: 1,
			LastRotatedAt: "2026-11-29T05:17:30Z", NextRotationAt: "2026-12-30T01:00:00Z"},
		Versions: versions,
		Proofs:   []proof{{true, "MongoDB accepts it"}, {false, "MongoDB refuses the previous password: it still logs in"}},
	}
	got := r.String()
	for _, want := range []string{
		"Rotated the password of orders_app on mongodb://127.0.0.1:1/\n",
		"rotation id       r1 (rotation #1)\n",
		"next rotation at  2026-12-30T01:00:00Z\n",
		"    segura-dev    orders-db-password  aaaa  (password)\n    segura-dev-2  orders-db-uri       bbbb  (connection_string)\n",
		"    ok   MongoDB accepts it\n",
		"    FAIL MongoDB refuses the previous password: it still logs in\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}

	r.Rotated, r.Changed = false, true
	if got := r.String(); !strings.HasPrefix(got, "Applied, without a rotation: ") {
		t.Errorf("report of an apply that did not rotate:\n%s", got)
	}
	r.Changed = false
	r.Outputs.NextRotationAt = ""
	if got := r.String(); !strings.HasPrefix(got, "No changes: the password of orders_app on mongodb://127.0.0.1:1/ was not rotated (next rotation due at never") {
		t.Errorf("no-change report:\n%s", got)
	}
}

func TestCopyConfig(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), workDir)
	write := func(path, data string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(src, "main.tf"), "# main")
	write(filepath.Join(src, "outputs.tf"), "# outputs")
	write(filepath.Join(src, "README.md"), "not configuration")
	if err := copyConfig(src, dst); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dst, "terraform.tfstate"), "{}")
	// The example changes: a file goes, another comes, one is edited.
	if err := os.Remove(filepath.Join(src, "outputs.tf")); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(src, "variables.tf"), "# variables")
	write(filepath.Join(src, "main.tf"), "# main, edited")
	if err := copyConfig(src, dst); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dst)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"main.tf", "terraform.tfstate", "variables.tf"}; !reflect.DeepEqual(names, want) {
		t.Errorf("working directory holds %q, want %q", names, want)
	}
	if data, _ := os.ReadFile(filepath.Join(dst, "main.tf")); string(data) != "# main, edited" {
		t.Errorf("main.tf = %q, want the example's current text", data)
	}
	if err := copyConfig(t.TempDir(), dst); err == nil || !strings.Contains(err.Error(), "no Terraform configuration") {
		t.Errorf("an example without *.tf: want an error, got %v", err)
	}
}

func TestMigrateLegacyState(t *testing.T) {
	setup := func(t *testing.T, legacy, current string, legacyNewer bool) *demo {
		t.Helper()
		d := &demo{dir: t.TempDir(), out: io.Discard}
		if err := os.MkdirAll(filepath.Join(d.dir, workDir), 0o700); err != nil {
			t.Fatal(err)
		}
		files := map[string]string{legacyStateFile: legacy, legacyStateFile + ".backup": legacy + " backup", legacyPlanFile: "plan", stateFile: current}
		for name, data := range files {
			if data == "" || data == " backup" {
				continue
			}
			if err := os.WriteFile(filepath.Join(d.dir, name), []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if current != "" {
			old := time.Now().Add(-time.Hour)
			f := filepath.Join(d.dir, legacyStateFile) // the older one
			if legacyNewer {
				f = filepath.Join(d.dir, stateFile)
			}
			if err := os.Chtimes(f, old, old); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	check := func(t *testing.T, d *demo, want map[string]string) {
		t.Helper()
		if err := d.migrateLegacyState(); err != nil {
			t.Fatal(err)
		}
		for name, data := range want {
			got, err := os.ReadFile(filepath.Join(d.dir, name))
			switch {
			case data == "" && !os.IsNotExist(err):
				t.Errorf("%s: want it gone, got %q, %v", name, got, err)
			case data != "" && !bytes.Equal(got, []byte(data)):
				t.Errorf("%s = %q (%v), want %q", name, got, err, data)
			}
		}
	}
	gone := ""
	t.Run("only legacy", func(t *testing.T) {
		check(t, setup(t, "legacy", "", false), map[string]string{
			stateFile: "legacy", stateFile + ".backup": "legacy backup",
			legacyStateFile: gone, legacyStateFile + ".backup": gone, legacyPlanFile: gone,
		})
	})
	t.Run("both, working directory newer", func(t *testing.T) {
		check(t, setup(t, "legacy", "current", false), map[string]string{
			stateFile: "current", legacyStateFile: gone, legacyStateFile + ".backup": gone,
		})
	})
	t.Run("both, legacy newer", func(t *testing.T) {
		check(t, setup(t, "legacy", "current", true), map[string]string{
			stateFile: "legacy", legacyStateFile: gone,
		})
	})
	t.Run("neither", func(t *testing.T) {
		check(t, setup(t, "", "", false), map[string]string{stateFile: gone, legacyStateFile: gone})
	})
}
