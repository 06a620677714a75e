package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// UpgradeState: version 0 kept each credential beside the rotated one (in
// syncs, parent_sync, parent_rotation.credential, parent_rotation.syncs,
// and the parent of credential and of alternate_credential) with its whole
// device; version 1 keeps which credential it is only (boundCredentialRef).
// The upgrade leaves those devices out and keeps everything else as it was,
// so no rotation is planned by it.
func (r *credentialRotationResource) UpgradeState(ctx context.Context) map[int64]resource.StateUpgrader {
	return droppedAttributesUpgraders(ctx, r, "segura_credential_rotation", "terraform import with the primary secret's identity", 0)
}
