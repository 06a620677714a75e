package provider

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// v0Device is a device as version 0 stored it inside bound credentials.
const v0Device = `{"id":"dev-1","name":"orders","type":"mongodb","address":"db:27017","hosts":null,"port":null,"replica_set":null,"tls":null,"tls_ca_file":null,"tls_insecure_skip_verify":null,"srv_host":null,"tls_certificate_key_file":null,"tls_allow_invalid_hostnames":null,"options":null}`

func v0Binding(secret string) string {
	return `{"id":"` + secret + `","secret_name":"` + secret + `","secret_id":"https://kv.example/secrets/` + secret + `","value_format":"password","content_type":null,"tags":null,"create_if_missing":null,` +
		`"credential":{"id":"app@admin on db:27017","username":"app","auth_database":"admin","mechanism":null,"device":` + v0Device + `},` +
		`"application":{"id":"a","name":"a","tenant_id":null,"client_id":null,"client_secret":null,"vault_name":null,"vault_url":"https://kv.example/","scope":null}}`
}

// TestUpgradeRotationStateV0: a version-0 state with devices in its bound
// credentials (in syncs, parent_sync, parent_rotation and the parents of
// credential and alternate_credential) becomes a version-1 state holding
// the same bindings; the rotation's own credential keeps its device.
func TestUpgradeRotationStateV0(t *testing.T) {
	ctx := context.Background()
	parent := `"parent":{"id":"p","username":"root","auth_database":"admin","mechanism":null,"device":` + v0Device + `}`
	raw := `{"id":"r","syncs":[` + v0Binding("s1") + `],"parent_sync":` + v0Binding("p") + `,` +
		`"parent_rotation":{"id":"pr","credential":{"id":"c","username":"root","device":` + v0Device + `},"syncs":[` + v0Binding("ps") + `]},` +
		`"credential":{"id":"c","username":"app","device":` + v0Device + `,` + parent + `},` +
		`"alternate_credential":{"id":"c2","username":"app2","device":` + v0Device + `,` + parent + `},"no_longer_an_attribute":true}`
	upgradeRotationStateV0 := (&credentialRotationResource{}).UpgradeState(ctx)[0]
	var m credentialRotationResourceModel
	upgradeForTest(t, upgradeRotationStateV0, raw, &m)
	objs, d := syncObjects(ctx, m.Syncs)
	if d.HasError() || len(objs) != 1 {
		t.Fatalf("syncs = %v (%v)", objs, d)
	}
	s, ok, d := refFromObject[syncRef](ctx, objs[0])
	if !ok || d.HasError() {
		t.Fatalf("syncs[0] = %v (%v)", objs[0], d)
	}
	c, ok, d := refFromObject[boundCredentialRef](ctx, s.Credential)
	if !ok || d.HasError() || c.ID != types.StringValue("app@admin on db:27017") || s.SecretName != types.StringValue("s1") {
		t.Errorf("syncs[0] = %+v, credential %+v (%v)", s, c, d)
	}
	cred, ok, d := refFromObject[rotationCredentialRef](ctx, m.Credential)
	if !ok || d.HasError() {
		t.Fatalf("credential = %v (%v)", m.Credential, d)
	}
	if dev, ok, _ := cred.device(ctx); !ok || dev.ID != types.StringValue("dev-1") || dev.Address != types.StringValue("db:27017") {
		t.Errorf("the rotation's own credential lost its device: %+v", dev)
	}
	if p, ok, _ := cred.parent(ctx); !ok || p.Username != types.StringValue("root") {
		t.Errorf("credential.parent = %+v", p)
	}
	if m.ParentSync.IsNull() || m.ParentRotation.IsNull() || m.AlternateCredential.IsNull() {
		t.Errorf("parent_sync, parent_rotation or alternate_credential lost: %v %v %v", m.ParentSync, m.ParentRotation, m.AlternateCredential)
	}

	if d := upgradeDiagnostics(upgradeRotationStateV0, `{"syncs":"not a list"}`); !d.HasError() {
		t.Error("a state that does not fit version 1 was upgraded without an error")
	}
}

// upgradeForTest runs a state upgrader on raw JSON and reads the upgraded
// state into model; any error fails the test.
func upgradeForTest(t *testing.T, up resource.StateUpgrader, raw string, model any) {
	t.Helper()
	var resp resource.UpgradeStateResponse
	up.StateUpgrader(context.Background(), resource.UpgradeStateRequest{RawState: &tfprotov6.RawState{JSON: []byte(raw)}}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("upgrade: %v", resp.Diagnostics)
	}
	if d := resp.State.Get(context.Background(), model); d.HasError() {
		t.Fatalf("reading the upgraded state: %v", d)
	}
}

// upgradeDiagnostics are what a state upgrader says of raw JSON.
func upgradeDiagnostics(up resource.StateUpgrader, raw string) diag.Diagnostics {
	var resp resource.UpgradeStateResponse
	up.StateUpgrader(context.Background(), resource.UpgradeStateRequest{RawState: &tfprotov6.RawState{JSON: []byte(raw)}}, &resp)
	return resp.Diagnostics
}

// TestAccStateV0UpgradesWithoutAChange: the states that a provider before
// schema version 1 wrote (the credential of each binding with its whole
// device, in the rotation's syncs and in the segura_keyvault_sync itself)
// are upgraded by the real terraform binary on the next plan, which is
// empty; the apply after it records version 1 and rotates nothing.
func TestAccStateV0UpgradesWithoutAChange(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-v0")
	c := rotationChain{
		name:     name,
		username: usernameFor(name),
		secrets:  []rotationSecret{{resource: "pw", name: name + "-pw", format: secretvalue.Password}},
	}
	uri := testAccConfig().MongoDBURI
	c.arrange(t, uri, "Original-Passw0rd-"+name)
	ws := newCLIWorkspace(t)
	ws.Write(c.hcl())
	ws.MustRun("apply", "-auto-approve", "-input=false")

	// Version 0: the rotation's own device copied into every bound credential.
	stateFile := filepath.Join(ws.dir, "terraform.tfstate")
	var device any
	editState(t, stateFile, "segura_credential_rotation", func(inst map[string]any) {
		attrs := jsonObject(t, inst["attributes"])
		device = jsonObject(t, attrs["credential"])["device"]
		for _, s := range jsonList(t, attrs["syncs"]) {
			jsonObject(t, jsonObject(t, s)["credential"])["device"] = device
		}
		inst["schema_version"] = 0
	})
	rotationID := lastRotationID(t, stateFile)
	editState(t, stateFile, "segura_keyvault_sync", func(inst map[string]any) {
		jsonObject(t, jsonObject(t, inst["attributes"])["credential"])["device"] = device
		inst["schema_version"] = 0
	})

	if out, err := ws.Run("plan", "-detailed-exitcode", "-input=false"); exitCode(err) != 0 {
		t.Fatalf("the plan after version-0 states: exit %d, want 0 (no change)\n%s", exitCode(err), tail([]byte(out), 4000))
	}
	ws.MustRun("apply", "-auto-approve", "-input=false")
	kept := func(what string, credential any) {
		if _, ok := jsonObject(t, credential)["device"]; ok {
			t.Errorf("%s kept its device after the upgrade: %v", what, credential)
		}
	}
	editState(t, stateFile, "segura_credential_rotation", func(inst map[string]any) {
		if v := inst["schema_version"]; v != float64(1) {
			t.Errorf("rotation schema_version %v after the apply, want 1", v)
		}
		for _, s := range jsonList(t, jsonObject(t, inst["attributes"])["syncs"]) {
			kept("a credential in syncs", jsonObject(t, s)["credential"])
		}
	})
	editState(t, stateFile, "segura_keyvault_sync", func(inst map[string]any) {
		if v := inst["schema_version"]; v != float64(1) {
			t.Errorf("keyvault_sync schema_version %v after the apply, want 1", v)
		}
		kept("the binding's credential", jsonObject(t, inst["attributes"])["credential"])
	})
	if after := lastRotationID(t, stateFile); after != rotationID {
		t.Errorf("last_rotation_id %q after the upgrade, want %q: the upgrade rotated", after, rotationID)
	}
}

// editState applies edit to every instance of resourceType in a state file
// and writes it back.
func editState(t *testing.T, path, resourceType string, edit func(inst map[string]any)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	for _, r := range jsonList(t, state["resources"]) {
		res := jsonObject(t, r)
		if res["type"] != resourceType {
			continue
		}
		for _, i := range jsonList(t, res["instances"]) {
			edit(jsonObject(t, i))
		}
	}
	out, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// lastRotationID is the last_rotation_id of the state file's (last)
// segura_credential_rotation.
func lastRotationID(t *testing.T, path string) string {
	t.Helper()
	var id string
	editState(t, path, "segura_credential_rotation", func(inst map[string]any) {
		id, _ = jsonObject(t, inst["attributes"])["last_rotation_id"].(string)
	})
	return id
}

// jsonObject and jsonList are the state file's JSON objects and arrays;
// anything else fails the test.
func jsonObject(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("state: want a JSON object, got %T", v)
	}
	return m
}

func jsonList(t *testing.T, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("state: want a JSON array, got %T", v)
	}
	return l
}
