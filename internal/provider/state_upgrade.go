package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// jsonStateUpgrade is a state upgrade that edits the stored JSON of an older
// schema version and reads the result with the current schema: the way to
// drop attributes that a reference shape no longer carries while every
// other value stays as it was, so the upgrade itself plans no change.
type jsonStateUpgrade struct {
	resourceType string        // e.g. "segura_keyvault_sync", for messages
	from         int64         // the version upgraded from
	schema       schema.Schema // the current schema
	// edit changes the decoded JSON state in place.
	edit func(state map[string]any)
	// reimport says how to import the resource again, for when the stored
	// state cannot be read.
	reimport string
}

// upgrader is the resource.StateUpgrader doing u.
func (u jsonStateUpgrade) upgrader() resource.StateUpgrader {
	return resource.StateUpgrader{StateUpgrader: u.upgrade}
}

func (u jsonStateUpgrade) upgrade(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	fail := func(what string) {
		resp.Diagnostics.AddError("Unable to upgrade "+u.resourceType+" state",
			fmt.Sprintf("%s Nothing in MongoDB or Key Vault was changed. Run terraform state rm for this %s and import it again (%s).",
				what, u.resourceType, u.reimport))
	}
	if req.RawState == nil || req.RawState.JSON == nil {
		fail(fmt.Sprintf("The stored state of version %d has no JSON form.", u.from))
		return
	}
	upgraded, err := editJSONState(req.RawState.JSON, u.edit)
	if err != nil {
		fail(fmt.Sprintf("Reading the stored state of version %d: %v.", u.from, err))
		return
	}
	// Attributes an older build stored that no version knows any more are
	// ignored, as the framework does when the version has not changed.
	value, err := (&tfprotov6.RawState{JSON: upgraded}).UnmarshalWithOpts(u.schema.Type().TerraformType(ctx),
		tfprotov6.UnmarshalOpts{ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		fail(fmt.Sprintf("The stored state of version %d does not fit version %d: %v.", u.from, u.schema.Version, err))
		return
	}
	resp.State = tfsdk.State{Schema: u.schema, Raw: value}
}

// editJSONState decodes a JSON object, lets edit change it and encodes it.
func editJSONState(raw []byte, edit func(map[string]any)) ([]byte, error) {
	var state map[string]any
	if err := json.Unmarshal(raw, &state); err != nil {
		return nil, err
	}
	edit(state)
	return json.Marshal(state)
}

// dropDeviceOf removes "device" from the object at holder[field], when
// holder and that object are JSON objects; anything else is left as it is.
func dropDeviceOf(holder any, field string) {
	if h, ok := holder.(map[string]any); ok {
		if c, ok := h[field].(map[string]any); ok {
			delete(c, "device")
		}
	}
}
