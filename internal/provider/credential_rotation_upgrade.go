package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// UpgradeState: version 0 kept each credential beside the rotated one (in
// syncs, parent_sync, parent_rotation.credential, parent_rotation.syncs,
// and the parent of credential and of alternate_credential) with its whole
// device; version 1 keeps which credential it is only (boundCredentialRef). The upgrade drops those devices from the stored
// JSON and keeps everything else as it was, so no rotation is planned by it.
func (r *credentialRotationResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{
		0: {StateUpgrader: upgradeRotationStateV0},
	}
}

func upgradeRotationStateV0(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	if req.RawState == nil || req.RawState.JSON == nil {
		resp.Diagnostics.AddError("Unable to upgrade segura_credential_rotation state",
			"The stored state of version 0 has no JSON form. Run terraform state rm for this rotation and import it again "+
				"(terraform import with the primary secret's identity); nothing in MongoDB or Key Vault is changed by either.")
		return
	}
	upgraded, err := dropBoundCredentialDevices(req.RawState.JSON)
	if err != nil {
		resp.Diagnostics.AddError("Unable to upgrade segura_credential_rotation state",
			fmt.Sprintf("Reading the stored state of version 0: %v. Nothing in MongoDB or Key Vault was changed. Run terraform state rm for this "+
				"rotation and import it again (terraform import with the primary secret's identity).", err))
		return
	}
	// Attributes an older build stored that no version knows any more are
	// ignored, as the framework does when the version has not changed.
	var schemaResp resource.SchemaResponse
	(&credentialRotationResource{}).Schema(ctx, resource.SchemaRequest{}, &schemaResp)
	value, err := (&tfprotov6.RawState{JSON: upgraded}).UnmarshalWithOpts(schemaResp.Schema.Type().TerraformType(ctx), tfprotov6.UnmarshalOpts{ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		resp.Diagnostics.AddError("Unable to upgrade segura_credential_rotation state",
			fmt.Sprintf("The stored state of version 0 does not fit version 1: %v. Nothing in MongoDB or Key Vault was changed. Run terraform "+
				"state rm for this rotation and import it again (terraform import with the primary secret's identity).", err))
		return
	}
	resp.State = tfsdk.State{Schema: schemaResp.Schema, Raw: value}
}

// dropBoundCredentialDevices removes "device" from the credential of every
// binding in a version-0 rotation state, from parent_rotation's credential
// and from the parents of credential and alternate_credential; a missing or
// null part is left as it is.
func dropBoundCredentialDevices(raw []byte) ([]byte, error) {
	var state map[string]any
	if err := json.Unmarshal(raw, &state); err != nil {
		return nil, err
	}
	dropDeviceOf := func(holder any, field string) {
		if h, ok := holder.(map[string]any); ok {
			if c, ok := h[field].(map[string]any); ok {
				delete(c, "device")
			}
		}
	}
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
	return json.Marshal(state)
}
