package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// UpgradeState: version 0 kept the binding's credential with its whole
// device; version 1 keeps which credential it is only (boundCredentialRef):
// nothing the binding does reads the device, and the rotation that writes
// the secret has its own credential's. The upgrade leaves the device out and
// keeps everything else as it was, so it plans no change.
func (r *keyVaultSyncResource) UpgradeState(ctx context.Context) map[int64]resource.StateUpgrader {
	return droppedAttributesUpgraders(ctx, r, "segura_keyvault_sync", "terraform import with the versionless secret id", 0)
}
