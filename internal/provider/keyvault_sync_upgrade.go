package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// UpgradeState: version 0 kept the binding's credential with its whole
// device; version 1 keeps which credential it is only (boundCredentialRef):
// nothing the binding does reads the device, and the rotation that writes
// the secret has its own credential's. The upgrade drops the device from the
// stored JSON and keeps everything else as it was, so it plans no change.
func (r *keyVaultSyncResource) UpgradeState(ctx context.Context) map[int64]resource.StateUpgrader {
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	return map[int64]resource.StateUpgrader{
		0: jsonStateUpgrade{
			resourceType: "segura_keyvault_sync", from: 0, schema: sr.Schema,
			edit:     func(state map[string]any) { dropDeviceOf(state, "credential") },
			reimport: "terraform import with the versionless secret id",
		}.upgrader(),
	}
}
