package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestUpgradeSyncStateV0: a version-0 binding, whose credential carries its
// whole device, becomes a version-1 binding with the same values and no
// device; a state that fits neither fails with a message.
func TestUpgradeSyncStateV0(t *testing.T) {
	ctx := context.Background()
	upgrade := (&keyVaultSyncResource{}).UpgradeState(ctx)[0]
	raw := `{"id":"https://kv.example/secrets/s1","secret_name":"s1","secret_id":"https://kv.example/secrets/s1","value_format":"password",` +
		`"content_type":null,"tags":null,"create_if_missing":false,"latest_version":"v1",` +
		`"credential":{"id":"app@admin on db:27017","username":"app","auth_database":"admin","mechanism":null,"device":` + v0Device + `},` +
		`"application":{"id":"a","name":"a","tenant_id":null,"client_id":null,"client_secret":null,"vault_name":null,"vault_url":"https://kv.example/","scope":null}}`
	var m keyVaultSyncResourceModel
	upgradeForTest(t, upgrade, raw, &m)
	c, ok, d := refFromObject[boundCredentialRef](ctx, m.Credential)
	if !ok || d.HasError() || c.ID != types.StringValue("app@admin on db:27017") || c.Username != types.StringValue("app") {
		t.Errorf("credential = %+v (%v)", c, d)
	}
	if m.LatestVersion != types.StringValue("v1") || m.SecretName != types.StringValue("s1") || m.CreateIfMissing != types.BoolValue(false) {
		t.Errorf("upgraded binding = %+v, want the version-0 values", m)
	}
	if _, has := m.Credential.AttributeTypes(ctx)["device"]; has {
		t.Error("the upgraded credential still has a device")
	}

	if d := upgradeDiagnostics(upgrade, `{"credential":"not an object"}`); !d.HasError() {
		t.Error("a state that does not fit version 1 was upgraded without an error")
	}
}
