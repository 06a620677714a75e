package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	aschema "github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/segura-community/terraform-provider-segura/internal/rotation"
)

var (
	_ action.Action              = (*rotateAction)(nil)
	_ action.ActionWithConfigure = (*rotateAction)(nil)
)

// NewRotateAction returns the segura_rotate action.
func NewRotateAction() action.Action {
	return &rotateAction{}
}

// rotateAction rotates a credential now, without a configuration change
// (Terraform >= 1.14: `terraform apply -invoke=action.segura_rotate.NAME`),
// for break-glass after an incident. An action cannot write state, so it
// runs the rotation resource's protocol (preflight, escrow, updateUser,
// write, verify, roll back) and tags every version it writes with its
// rotation id, as the resource does; the next refresh of the
// segura_credential_rotation finds the finished rotation and adopts it as
// its own last rotation instead of reporting drift.
type rotateAction struct {
	data *providerData
}

type rotateActionModel struct {
	Rotation types.Object `tfsdk:"rotation"`
	Reason   types.String `tfsdk:"reason"`
}

// rotateActionTarget is what the action reads of the segura_credential_rotation
// it is given: the inputs of a rotation, by the resource's own names.
type rotateActionTarget struct {
	ID               types.String `tfsdk:"id"`
	Credential       types.Object `tfsdk:"credential"`
	Policy           types.Object `tfsdk:"policy"`
	Syncs            types.List   `tfsdk:"syncs"`
	ParentSync       types.Object `tfsdk:"parent_sync"`
	ParentRotation   types.Object `tfsdk:"parent_rotation"`
	EscrowSecretName types.String `tfsdk:"escrow_secret_name"`
	SecretVersions   types.Map    `tfsdk:"secret_versions"`
	// AlternateCredential: a dual-account rotation changes the standby.
	AlternateCredential types.Object `tfsdk:"alternate_credential"`
}

// rotateActionTargetAttributes are the rotation resource's own attributes of
// those names, so the two cannot drift apart.
func rotateActionTargetAttributes() map[string]rschema.Attribute {
	var resp resource.SchemaResponse
	(&credentialRotationResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	attrs := map[string]rschema.Attribute{}
	for _, name := range []string{"id", "credential", "policy", "syncs", "parent_sync", "parent_rotation", "escrow_secret_name", "secret_versions", "alternate_credential"} {
		attrs[name] = resp.Schema.Attributes[name]
	}
	return attrs
}

func (a *rotateAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_rotate"
}

func (a *rotateAction) Schema(_ context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = aschema.Schema{
		MarkdownDescription: "Rotates a credential now, without changing the configuration (Terraform >= 1.14), for break-glass after an " +
			"incident:\n\n```sh\nterraform apply -invoke=action.segura_rotate.orders_app\n```\n\n" +
			"It runs the same protocol as `segura_credential_rotation` (preflight, escrow, `updateUser`, Key Vault writes, verification, " +
			"roll-back or recovery on failure) and shows each step as it completes. An action cannot write state: the next refresh of the " +
			"rotation resource finds the finished rotation by the `segura-rotation-id` tag on the versions it wrote and adopts it as its " +
			"last rotation (`last_rotation_reason` says so), so the plan after it is empty. If the action is killed half-way, the next " +
			"plan shows a rotation pending and the next apply finishes it from the escrow secret.",
		Attributes: map[string]aschema.Attribute{
			"rotation": aschema.SingleNestedAttribute{
				MarkdownDescription: "The `segura_credential_rotation` to rotate now, passed as the whole resource: " +
					"`rotation = segura_credential_rotation.orders_app`.",
				Required:   true,
				Attributes: actionAttributes(rotateActionTargetAttributes()),
			},
			"reason": aschema.StringAttribute{
				MarkdownDescription: "Why, for the logs and the progress messages (for example an incident number).",
				Optional:            true,
			},
		},
	}
}

func (a *rotateAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (a *rotateAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	const actionName = "segura_rotate"
	var m rotateActionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if a.data == nil {
		resp.Diagnostics.AddError("Provider not configured", actionName+": the segura provider was not configured before use. This is a bug in the provider; please report it.")
		return
	}
	target, d := requireRef[rotateActionTarget](ctx, m.Rotation, actionName, "rotation")
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	model := credentialRotationResourceModel{
		Credential: target.Credential, Policy: target.Policy, Syncs: target.Syncs, ParentSync: target.ParentSync, ParentRotation: target.ParentRotation,
		EscrowSecretName: target.EscrowSecretName, AlternateCredential: target.AlternateCredential,
	}
	if model.EscrowSecretName.IsNull() || model.EscrowSecretName.IsUnknown() {
		resp.Diagnostics.Append(defaultEscrowName(ctx, &model)...)
	}
	r := &credentialRotationResource{data: a.data}
	rq, _, d := r.request(ctx, model)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if model.dual() {
		// The standby of what Key Vault holds now; no bootstrap password.
		_, d = r.dualRequest(ctx, model, &rq, actionName, [2]string{})
		resp.Diagnostics.Append(d...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	// The resource names the credential by its random id; the account reads better here.
	who := actionName + " of " + rq.Account.String()
	reason := "rotated now by the segura_rotate action"
	if m.Reason.ValueString() != "" {
		reason += ": " + m.Reason.ValueString()
	}
	ctx, cancel := context.WithTimeout(ctx, defaultRotationTimeout)
	defer cancel()
	rq.Now = a.data.Now()
	if !target.SecretVersions.IsNull() && !target.SecretVersions.IsUnknown() {
		// The versions the last rotation wrote: tried if someone pasted a
		// wrong value over the latest one.
		resp.Diagnostics.Append(target.SecretVersions.ElementsAs(ctx, &rq.Written, false)...)
	}
	progress := func(msg string) {
		if resp.SendProgress != nil {
			resp.SendProgress(action.InvokeProgressEvent{Message: who + ": " + msg})
		}
	}
	rq.Progress = progress
	progress(fmt.Sprintf("starting (%s); %d secret(s) to write", reason, len(rq.Bindings)))
	tflog.Info(ctx, "rotating credential", map[string]any{"credential": rq.Account.String(), "reason": reason, "secrets": len(rq.Bindings)})
	start := time.Now()
	res, err := rotation.Rotate(ctx, rq)
	if err != nil {
		resp.Diagnostics.Append(rotationErrorDiagnostic(who, err))
		return
	}
	for _, w := range res.Warnings {
		resp.Diagnostics.AddWarning("Rotation finished with a warning", who+": "+w)
	}
	written := make([]string, 0, len(res.Versions))
	for id, v := range res.Versions {
		written = append(written, id+" version "+v)
	}
	sort.Strings(written)
	progress(fmt.Sprintf("done in %s: rotation %s wrote %s. The next refresh of the segura_credential_rotation adopts it as its last rotation.",
		time.Since(start).Round(time.Millisecond), res.RotationID, strings.Join(written, ", ")))
	tflog.Info(ctx, "rotated credential", map[string]any{"credential": rq.Account.String(), "rotation_id": res.RotationID, "password_source": res.PasswordSource})
}
