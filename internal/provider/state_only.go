package provider

import (
	"context"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// stateOnlyResource gives Create, Read, Update and Delete to the resources
// that have no remote object: Terraform state is their only home (DESIGN.md
// §2), so they keep what was planned under a random id. Embedders set name
// (the resource type, for messages) and add their own Schema and validation.
type stateOnlyResource struct {
	name string
}

// randomIDAttribute is the id of a resource that Create gives a random id
// (noun: "device", "policy", ...); it never changes afterwards.
func randomIDAttribute(noun string) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: "Random identifier of the " + noun + ", assigned on create.",
		Computed:            true,
		PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}

// Create assigns a random id and records the plan.
func (s stateOnlyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	id, err := uuid.GenerateUUID()
	if err != nil {
		resp.Diagnostics.AddError("Cannot create "+s.name, "Generating a random id failed: "+err.Error())
		return
	}
	resp.State.Raw = req.Plan.Raw
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
}

// Read keeps the state as it is: there is nothing remote to compare it with.
func (stateOnlyResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

// Update records the plan and keeps the id.
func (stateOnlyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var id types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.State.Raw = req.Plan.Raw
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
}

// Delete forgets the object; nothing remote is touched.
func (stateOnlyResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
