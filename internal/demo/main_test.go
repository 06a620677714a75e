package main

import (
	"reflect"
	"strings"
	"testing"
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
