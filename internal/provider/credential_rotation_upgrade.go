package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// UpgradeState: version 0 kept each credential beside the rotated one (in
// syncs, parent_sync, parent_rotation.credential, parent_rotation.syncs,
// and the parent of credential and of alternate_credential) with its whole
// device; version 1 keeps which credential it is only (boundCredentialRef). The upgrade drops those devices from the stored
// JSON and keeps everything else as it was, so no rotation is planned by it.
func (r *credentialRotationResource) UpgradeState(ctx context.Context) map[int64]resource.StateUpgrader {
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	return map[int64]resource.StateUpgrader{
		0: jsonStateUpgrade{
			resourceType: "segura_credential_rotation", from: 0, schema: sr.Schema,
			edit:     dropBoundCredentialDevices,
			reimport: "terraform import with the primary secret's identity",
		}.upgrader(),
	}
}

// dropBoundCredentialDevices removes "device" from the credential of every
// binding in a version-0 rotation state, from parent_rotation's credential
// and from the parents of credential and alternate_credential; a missing or
// null part is left as it is.
func dropBoundCredentialDevices(state map[string]any) {
	dropDevice := func(binding any) { dropDeviceOf(binding, "credential") }
	dropDevices := func(bindings any) {
		if list, ok := bindings.([]any); ok {
			for _, b := range list {
				dropDevice(b)
			}
		}
	}
	dropDeviceOf(state["credential"], "parent")
	dropDeviceOf(state["alternate_credential"], "parent")
	dropDevices(state["syncs"])
	dropDevice(state["parent_sync"])
	if pr, ok := state["parent_rotation"].(map[string]any); ok {
		dropDevice(pr)
		dropDevices(pr["syncs"])
	}
}
