package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// droppedAttributesUpgrade is the state upgrade from a schema version that
// had attributes the current one no longer has, at any depth (a reference
// shape that stopped carrying a field), and nothing else changed: the
// stored JSON is read with the current schema, leaving out what it does not
// know, so every other value stays as it was and the upgrade itself plans
// no change.
type droppedAttributesUpgrade struct {
	resourceType string        // e.g. "segura_keyvault_sync", for messages
	from         int64         // the version upgraded from
	schema       schema.Schema // the current schema
	// reimport says how to import the resource again, for when the stored
	// state cannot be read.
	reimport string
}

// droppedAttributesUpgraders are the state upgraders of resource r from
// each of the versions in from, all of them droppedAttributesUpgrade.
func droppedAttributesUpgraders(ctx context.Context, r resource.Resource, resourceType, reimport string, from ...int64) map[int64]resource.StateUpgrader {
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	out := make(map[int64]resource.StateUpgrader, len(from))
	for _, v := range from {
		u := droppedAttributesUpgrade{resourceType: resourceType, from: v, schema: sr.Schema, reimport: reimport}
		out[v] = resource.StateUpgrader{StateUpgrader: u.upgrade}
	}
	return out
}

func (u droppedAttributesUpgrade) upgrade(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	fail := func(what string) {
		resp.Diagnostics.AddError("Unable to upgrade "+u.resourceType+" state",
			fmt.Sprintf("%s Nothing in MongoDB or Key Vault was changed. Run terraform state rm for this %s and import it again (%s).",
				what, u.resourceType, u.reimport))
	}
	if req.RawState == nil || req.RawState.JSON == nil {
		fail(fmt.Sprintf("The stored state of version %d has no JSON form.", u.from))
		return
	}
	// IgnoreUndefinedAttributes leaves out, in nested objects too, the
	// attributes the current schema does not declare: those the older
	// version had, and any an older build stored that no version knows
	// (which the framework ignores as well when the version has not changed).
	value, err := req.RawState.UnmarshalWithOpts(u.schema.Type().TerraformType(ctx),
		tfprotov6.UnmarshalOpts{ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		fail(fmt.Sprintf("The stored state of version %d does not fit version %d: %v.", u.from, u.schema.Version, err))
		return
	}
	resp.State = tfsdk.State{Schema: u.schema, Raw: value}
}
