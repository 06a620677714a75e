package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// historyEntry is one element of the data source's rotations, as
// `terraform output -json` prints it.
type historyEntry struct {
	RotationID    *string  `json:"rotation_id"`
	RotatedAt     *string  `json:"rotated_at"`
	StartedAt     *string  `json:"started_at"`
	Account       string   `json:"account"`
	Outcome       string   `json:"outcome"`
	RolledBack    bool     `json:"rolled_back"`
	FinishedBy    *string  `json:"finished_by"`
	EscrowVersion *string  `json:"escrow_version"`
	EscrowState   *string  `json:"escrow_state"`
	TookOver      []string `json:"took_over"`
	Versions      []struct {
		SecretID string `json:"secret_id"`
		Version  string `json:"version"`
		Rollback bool   `json:"rollback"`
	} `json:"versions"`
}

func (e historyEntry) id() string {
	if e.RotationID == nil {
		return "(none)"
	}
	return *e.RotationID
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestAccCredentialHistory drives the real terraform binary through a
// normal rotation, a rotation rolled back by a Key Vault write failure
// (403 on the second secret), and a rotation killed (SIGKILL) between
// updateUser and its first Key Vault write, which the next apply finishes
// from the escrow. After each, an auditor's workspace, authenticated as an
// identity that holds only the "list" permission (so no value can be read),
// applies the data source and prints the history with `terraform output`.
// The rotating workspace reads it too, after its rotation (depends_on), and
// its plan stays empty.
func TestAccCredentialHistory(t *testing.T) {
	stack := testAccStack(t)
	t.Parallel()
	name := testAccName("acc-hist")
	c := rotationChain{name: name, username: usernameFor(name), secrets: []rotationSecret{
		{resource: "pw", name: name + "-pw", format: secretvalue.Password},
		{resource: "json", name: name + "-json", format: secretvalue.JSON, second: true},
	}}
	uri := testAccConfig().MongoDBURI
	original := "Original-Passw0rd-" + name
	testAccRecordSecret(original)
	c.arrange(t, uri, original)
	pw, js := c.secrets[0], c.secrets[1]
	pwID, jsID := pw.vaultURL()+"secrets/"+pw.name, js.vaultURL()+"secrets/"+js.name
	vaultA, _ := testAccVaultOf(pw.vaultURL())
	vaultB, _ := testAccVaultOf(js.vaultURL())

	// The auditor may list, nothing else: a read of any value would fail.
	auditor, auditorSecret := "auditor-"+name, "auditor-secret-"+name
	stack.KeyVault.AddClient(auditor, auditorSecret)
	stack.KeyVault.SetAccessPolicy(vaultA, auditor, kvemulator.PermList)
	stack.KeyVault.SetAccessPolicy(vaultB, auditor, kvemulator.PermList)

	ws := newCLIWorkspace(t)
	config := func(trigger string) string {
		cc := c
		cc.extra = fmt.Sprintf("triggers = { n = %q }", trigger)
		return cc.hcl() + `
data "segura_credential_history" "test" {
  secret_ids = [segura_keyvault_sync.pw.id, segura_keyvault_sync.json.id]
  depends_on = [segura_credential_rotation.test]
}

output "last_rotation_id" {
  value = segura_credential_rotation.test.last_rotation_id
}

output "history" {
  value = data.segura_credential_history.test.rotations
}
`
	}
	audit := newCLIWorkspace(t)
	audit.Write(testAccProviderConfigWith(auditor, auditorSecret) + fmt.Sprintf(`
data "segura_credential_history" "audit" {
  secret_ids = [%q, %q]
  limit      = 10
}

output "history" {
  value = data.segura_credential_history.audit.rotations
}

output "total" {
  value = data.segura_credential_history.audit.total
}
`, pwID, jsID))
	// readHistory applies the auditor's workspace and returns its history,
	// logging `terraform output` as a person would see it.
	readHistory := func(label string) []historyEntry {
		t.Helper()
		audit.MustRun("apply", "-auto-approve", "-input=false")
		human := audit.MustRun("output", "history")
		total := strings.TrimSpace(audit.MustRun("output", "total"))
		t.Logf("history after %s (%s rotation attempts recorded); terraform output history:\n%s", label, total, human)
		var h []historyEntry
		if err := json.Unmarshal([]byte(audit.MustRun("output", "-json", "history")), &h); err != nil {
			t.Fatalf("terraform output -json history: %v", err)
		}
		return h
	}
	lastRotationID := func() string {
		return strings.Trim(strings.TrimSpace(ws.MustRun("output", "-raw", "last_rotation_id")), `"`)
	}

	// 1. A normal rotation.
	ws.Write(config("1"))
	ws.MustRun("apply", "-auto-approve", "-input=false")
	r1 := lastRotationID()
	h := readHistory("a normal rotation")
	if len(h) != 1 || h[0].id() != r1 || h[0].Outcome != "completed" || h[0].RolledBack || len(h[0].Versions) != 2 ||
		h[0].Account != c.username+"@admin on "+c.hostPort() || deref(h[0].EscrowState) != "done" {
		t.Fatalf("after one rotation (%s), history: %+v", r1, h)
	}

	// 2. The second secret refuses the write (403): MongoDB and the primary
	// are rolled back.
	fault := stack.KeyVault.InjectFault(kvemulator.Fault{Vault: vaultB, Method: "PUT", Path: `^/secrets/` + regexp.QuoteMeta(js.name) + `$`,
		Action: kvemulator.FaultStatus, Status: 403, Code: "Forbidden", Message: "The user, group or application does not have secrets set permission."})
	ws.Write(config("2"))
	out, err := ws.Run("apply", "-auto-approve", "-input=false")
	stack.KeyVault.RemoveFault(fault)
	if err == nil || !strings.Contains(collapse(out), "Rolled back") {
		t.Fatalf("the apply with a 403 on the second secret: want a roll-back, got %v:\n%s", err, ftail(out, 3000))
	}
	h = readHistory("a roll-back")
	if len(h) != 2 || h[0].Outcome != "rolled_back" || !h[0].RolledBack || deref(h[0].EscrowState) != "aborted" || h[1].id() != r1 {
		t.Fatalf("after the roll-back, history: %+v", h)
	}
	r2 := h[0].id()
	if len(h[0].Versions) != 2 || h[0].Versions[0].SecretID != pwID || h[0].Versions[0].Rollback || !h[0].Versions[1].Rollback {
		t.Errorf("the rolled-back rotation should list its write of the primary, then the roll-back's: %+v", h[0].Versions)
	}

	// 3. Killed between updateUser and the first Key Vault write, which a
	// delay fault holds (and never lets land).
	previous := testAccSecretValue(t, pw)
	stack.KeyVault.InjectFault(kvemulator.Fault{Vault: vaultA, Method: "PUT", Path: `^/secrets/` + regexp.QuoteMeta(pw.name) + `$`, Count: 1,
		Action: kvemulator.FaultDelay, Delay: time.Hour})
	ws.Write(config("3"))
	p := ws.Start("apply", "-auto-approve", "-input=false")
	deadline := time.Now().Add(90 * time.Second)
	for !isAuthFailure(testAccMongoLogin(uri, c.username, previous)) {
		if p.Exited() || time.Now().After(deadline) {
			p.Kill()
			out, _ := p.Wait()
			t.Fatalf("MongoDB did not change before the apply ended or 90s passed:\n%s", ftail(out, 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.Kill()
	_, _ = p.Wait()
	h = readHistory("a kill between MongoDB and Key Vault")
	if len(h) != 3 || h[0].Outcome != "pending" || deref(h[0].EscrowState) != "pending" || len(h[0].Versions) != 0 || h[0].RotationID == nil {
		t.Fatalf("after the kill, history: %+v", h)
	}
	r3, escrow3 := h[0].id(), deref(h[0].EscrowVersion)

	// 4. The next apply finds r3's password in the escrow, takes it over and
	// rotates: r3 is interrupted and finished by r4.
	ws.MustRun("apply", "-auto-approve", "-input=false")
	r4 := lastRotationID()
	if err := c.checkConverged(t, uri)(nil); err != nil {
		t.Fatal(err)
	}
	h = readHistory("the apply that finished the interrupted rotation")
	if len(h) != 4 {
		t.Fatalf("history: %+v", h)
	}
	if h[0].id() != r4 || h[0].Outcome != "completed" || len(h[0].TookOver) != 1 || h[0].TookOver[0] != escrow3 {
		t.Errorf("newest: want %s completed, having taken over escrow version %s; got %+v", r4, escrow3, h[0])
	}
	// Taking over re-tags the version, so r3's id is recorded nowhere now.
	if h[1].RotationID != nil || h[1].Outcome != "interrupted" || deref(h[1].FinishedBy) != r4 || deref(h[1].EscrowVersion) != escrow3 ||
		deref(h[1].EscrowState) != rotation.EscrowTakenOver || h[1].StartedAt == nil {
		t.Errorf("second: want the interrupted rotation (was %s) finished by %s; got %+v", r3, r4, h[1])
	}
	if h[2].id() != r2 || h[2].Outcome != "rolled_back" || h[3].id() != r1 || h[3].Outcome != "completed" {
		t.Errorf("older: want %s rolled back and %s completed; got %+v", r2, r1, h[2:])
	}

	// The rotating workspace read the same history after its rotation, and
	// a plan changes nothing (outputs included).
	var own []historyEntry
	if err := json.Unmarshal([]byte(ws.MustRun("output", "-json", "history")), &own); err != nil || len(own) != 4 || own[0].id() != r4 {
		t.Errorf("the rotating workspace's history (%v): %+v", err, own)
	}
	if out, err := ws.Run("plan", "-input=false", "-detailed-exitcode"); exitCode(err) != 0 {
		t.Errorf("plan after the history: exit %d, want 0:\n%s", exitCode(err), ftail(out, 3000))
	}
}

// testAccSecretValue returns the password in s's latest version, recorded
// for the hygiene scan.
func testAccSecretValue(t *testing.T, s rotationSecret) string {
	t.Helper()
	resp, err := testAccSecretsClient(t, s.vaultURL()).GetSecret(context.Background(), s.name, "", nil)
	if err != nil {
		t.Fatalf("reading %s: %v", s.name, err)
	}
	pw, err := secretvalue.Parse(s.format, *resp.Value)
	if err != nil {
		t.Fatal(err)
	}
	testAccRecordSecret(pw)
	return pw
}

// TestHistoryListNulls: what the tags do not record is null, not "", and a
// rotation that took nothing over has an empty list.
func TestHistoryListNulls(t *testing.T) {
	t.Parallel()
	list, diags := historyList(context.Background(), []rotation.RotationRecord{
		{Outcome: rotation.OutcomeInterrupted, FinishedBy: "r4", EscrowVersion: "e3", EscrowState: rotation.EscrowTakenOver, StagedAt: time.Unix(1, 0)},
		{ID: "r2", Outcome: rotation.OutcomeRolledBack, Written: []rotation.WrittenVersion{{SecretID: "https://kv/secrets/a", Version: "v1", Rollback: true}}},
	})
	if diags.HasError() {
		t.Fatal(diags)
	}
	var got []historyRotationModel
	if d := list.ElementsAs(context.Background(), &got, false); d.HasError() {
		t.Fatal(d)
	}
	if !got[0].RotationID.IsNull() || !got[0].RotatedAt.IsNull() || got[0].StartedAt.ValueString() != "1970-01-01T00:00:01Z" ||
		got[0].RolledBack.ValueBool() || len(got[0].TookOver.Elements()) != 0 || got[0].TookOver.IsNull() {
		t.Errorf("interrupted: %+v", got[0])
	}
	if got[1].RotationID.ValueString() != "r2" || !got[1].RolledBack.ValueBool() || !got[1].FinishedBy.IsNull() || !got[1].EscrowState.IsNull() {
		t.Errorf("rolled back: %+v", got[1])
	}
	var versions []historyVersionModel
	got[1].Versions.ElementsAs(context.Background(), &versions, false)
	if len(versions) != 1 || !versions[0].Rollback.ValueBool() || !versions[0].CreatedAt.IsNull() {
		t.Errorf("versions: %+v", versions)
	}
}
