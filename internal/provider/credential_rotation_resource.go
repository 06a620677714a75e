package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

var (
	_ resource.Resource                   = (*credentialRotationResource)(nil)
	_ resource.ResourceWithConfigure      = (*credentialRotationResource)(nil)
	_ resource.ResourceWithValidateConfig = (*credentialRotationResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*credentialRotationResource)(nil)
	_ resource.ResourceWithImportState    = (*credentialRotationResource)(nil)
	_ resource.ResourceWithIdentity       = (*credentialRotationResource)(nil)
	_ resource.ResourceWithUpgradeState   = (*credentialRotationResource)(nil)
)

const (
	defaultRotationTimeout = 10 * time.Minute
	// escrowSuffix names the default escrow secret after the primary secret.
	escrowSuffix = "-escrow"
	// privateObservedVersions is the private-state key under which Read
	// keeps the latest version of every bound secret it saw. The plan
	// carries it to apply, which refuses to rotate if a secret moved on in
	// between (another workspace rotated it).
	privateObservedVersions = "observed_versions"
)

// Reasons recorded in last_rotation_reason that are not schedule or drift texts.
const (
	reasonInitial      = "initial rotation"
	reasonTriggers     = "triggers changed"
	reasonSyncsChanged = "a secret was bound that the last rotation did not write"
)

// NewCredentialRotationResource returns the segura_credential_rotation resource.
func NewCredentialRotationResource() resource.Resource {
	return &credentialRotationResource{}
}

// credentialRotationResource rotates a credential's password at apply time:
// MongoDB first, then every bound Key Vault secret, then verification of
// both (internal/rotation). Refresh detects drift and the plan shows an
// in-place update, with the reason, when a rotation is due.
type credentialRotationResource struct {
	data *providerData
}

type credentialRotationResourceModel struct {
	ID                  types.String   `tfsdk:"id"`
	Credential          types.Object   `tfsdk:"credential"`
	Policy              types.Object   `tfsdk:"policy"`
	Syncs               types.List     `tfsdk:"syncs"`
	ParentSync          types.Object   `tfsdk:"parent_sync"`
	ParentRotation      types.Object   `tfsdk:"parent_rotation"`
	BootstrapPasswordWO types.String   `tfsdk:"bootstrap_password_wo"`
	Triggers            types.Map      `tfsdk:"triggers"`
	EscrowSecretName    types.String   `tfsdk:"escrow_secret_name"`
	LastRotatedAt       types.String   `tfsdk:"last_rotated_at"`
	NextRotationAt      types.String   `tfsdk:"next_rotation_at"`
	RotationCount       types.Int64    `tfsdk:"rotation_count"`
	LastRotationID      types.String   `tfsdk:"last_rotation_id"`
	LastRotationReason  types.String   `tfsdk:"last_rotation_reason"`
	PendingReason       types.String   `tfsdk:"pending_rotation_reason"`
	SecretVersions      types.Map      `tfsdk:"secret_versions"`
	ExposedAt           types.String   `tfsdk:"exposed_at"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`

	// Dual-account mode (credential_rotation_dual.go).
	AlternateCredential          types.Object `tfsdk:"alternate_credential"`
	AlternateBootstrapPasswordWO types.String `tfsdk:"alternate_bootstrap_password_wo"`
	ForceWithinOverlap           types.Bool   `tfsdk:"force_within_overlap"`
	ActiveAccount                types.String `tfsdk:"active_account"`
	NextAccount                  types.String `tfsdk:"next_account"`
}

func (r *credentialRotationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential_rotation"
	// The identity is the primary secret, which the configuration may change.
	resp.ResourceBehavior.MutableIdentity = true
}

func (r *credentialRotationResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = secretIdentitySchema("the rotation's primary secret (the first of `syncs`)")
}

func (r *credentialRotationResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		// 1: the credentials inside syncs, parent_sync and parent_rotation
		// no longer carry their device (credential_rotation_upgrade.go).
		Version: 1,
		MarkdownDescription: "Rotates a `segura_credential`'s password at `terraform apply` and keeps its Key Vault secrets in step.\n\n" +
			"Creating the resource rotates at once. Each rotation: checks every bound secret and proves the current password " +
			"logs in (nothing changes if that fails); generates a password from the policy; stages it in an escrow secret; " +
			"changes it in MongoDB with `updateUser`; writes it, in each binding's format, as a new version of every bound secret; " +
			"then logs in with it afresh and reads every version back. If a Key Vault write fails after MongoDB changed, MongoDB and " +
			"the secrets already written are rolled back to the previous password; if that is impossible, or the run is killed " +
			"half-way, the password MongoDB expects stays in the escrow secret and the next apply finishes the job.\n\n" +
			"Refresh detects drift: a bound secret deleted, or given a version the provider did not write, or a Key Vault value that no " +
			"longer logs in to MongoDB. When a rotation is due by the policy, or something drifted, or `triggers` changed, the plan shows " +
			"an in-place update with the reason in `last_rotation_reason`; otherwise the plan is empty, so " +
			"`terraform plan -detailed-exitcode` tells CI whether a rotation is pending.\n\n" +
			"With `alternate_credential` (dual-account, zero-downtime mode) two accounts take turns: each rotation changes the one " +
			"applications are not using and switches every binding to it, leaving the other's password valid for at least the policy's " +
			"`overlap_hours`, so no application holding the previous password is refused; `active_account` and `next_account` show " +
			"which account is used now and which one the next rotation changes. See the " +
			"[zero-downtime rotation guide](../guides/zero-downtime-rotation.md).\n\n" +
			"No password is ever stored in state. Destroying the resource leaves the password as it is.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Versionless id of the primary (first) bound secret; the import id.",
				Computed:            true,
			},
			"credential": func() schema.SingleNestedAttribute {
				a := rotationCredentialRefAttribute("The `segura_credential` to rotate, passed as the whole resource: `credential = segura_credential.orders_app`. " +
					"When it has a `parent`, the parent changes the password, authenticated with the password of `parent_rotation` (or `parent_sync`).")
				a.PlanModifiers = []planmodifier.Object{objectplanmodifier.RequiresReplaceIf(credentialChanged,
					"Replaced when the credential's id changes: a rotation belongs to one account.", "Replaced when the credential's id changes: a rotation belongs to one account.")}
				return a
			}(),
			"policy": policyRefAttribute("The `segura_rotation_policy`, passed as the whole resource: `policy = segura_rotation_policy.monthly`."),
			"syncs": func() schema.ListNestedAttribute {
				a := syncRefListAttribute("The `segura_keyvault_sync` bindings of this credential, passed as whole resources: " +
					"`syncs = [segura_keyvault_sync.orders_kv]`. The first is the primary: its value is the password of record, read to log in " +
					"before each rotation.")
				a.Validators = []validator.List{listvalidator.SizeBetween(1, 32)}
				return a
			}(),
			"parent_sync": syncRefAttribute("The `segura_keyvault_sync` that holds the password of the credential's `parent`, for a parent whose "+
				"password no `segura_credential_rotation` of this configuration rotates. Set it or `parent_rotation` (preferred) exactly when the credential has a parent.", false),
			"parent_rotation": parentRotationRefAttribute("The `segura_credential_rotation` of the credential's `parent`, passed as the whole resource: " +
				"`parent_rotation = segura_credential_rotation.admin`. The parent's password is read from its primary secret. Because this " +
				"rotation then depends on the parent's, Terraform applies the parent's first when both are due in one apply (credentials sharing " +
				"a policy fall due together), so the child always logs in with the parent's current password. A parent rotating at the same " +
				"moment elsewhere is waited for (up to 15 s) through its escrow secret. Set it or `parent_sync` exactly when the credential has a parent."),
			"bootstrap_password_wo": schema.StringAttribute{
				MarkdownDescription: "The account's current password, for a first rotation when Key Vault does not hold it yet. Write-only " +
					"(Terraform >= 1.11): never stored in state or plan. Tried only when no Key Vault value logs in.",
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
			},
			"triggers": schema.MapAttribute{
				MarkdownDescription: "Arbitrary values; changing any of them rotates the password at the next apply.",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"escrow_secret_name": schema.StringAttribute{
				MarkdownDescription: "Secret, in the primary secret's vault, where each new password is staged before MongoDB changes, so " +
					"that a run killed half-way loses nothing. Its version is disabled when the rotation finishes. Defaults to the primary " +
					"secret's name followed by `" + escrowSuffix + "`. The provider needs get and set on it.",
				Optional: true,
				Computed: true,
				Validators: []validator.String{stringvalidator.RegexMatches(keyvault.SecretNamePattern,
					"must be 1-127 characters, each a letter, a digit or '-' (Key Vault's rule for secret names)")},
			},
			"last_rotated_at": schema.StringAttribute{
				MarkdownDescription: "When the password was last rotated (RFC 3339, UTC).",
				Computed:            true,
			},
			"next_rotation_at": schema.StringAttribute{
				MarkdownDescription: "When the policy next makes a rotation due (RFC 3339, UTC); null when the policy never does.",
				Computed:            true,
			},
			"rotation_count": schema.Int64Attribute{
				MarkdownDescription: "How many rotations of the primary secret this resource knows of: one per rotation it made or adopted " +
					"(a `segura_rotate` action's). It changes exactly when a rotation changes the password: it is unknown in a plan " +
					"that rotates, one higher after that apply, and the same in every plan that does not rotate. That makes it the " +
					"value to feed another provider's write-only version argument, e.g. `azurerm_key_vault_secret`'s `value_wo_version` " +
					"with `value_wo` from a `segura_credential_checkout` of this rotation: that provider then re-sends the new password " +
					"once after each rotation and never otherwise (see the [notifications guide](../guides/notifications.md#pushing-the-password-to-a-consumers-own-store)). " +
					"Import counts the distinct rotation ids in the tags of the primary secret's versions: every rotation that ever " +
					"wrote it, from any workspace and from before a `-replace` (roll-backs excluded), so it can be higher than the " +
					"count in the state it replaces; `terraform apply -replace` starts it at 1 again.",
				Computed: true,
			},
			"last_rotation_id": schema.StringAttribute{
				MarkdownDescription: "Id of the last rotation, also in the `" + keyvault.TagRotationID + "` tag of every version it wrote.",
				Computed:            true,
			},
			"last_rotation_reason": schema.StringAttribute{
				MarkdownDescription: "Why the last rotation happened. In a plan, why the planned rotation will happen.",
				Computed:            true,
			},
			"pending_rotation_reason": schema.StringAttribute{
				MarkdownDescription: "Set by refresh when a rotation is due or something drifted, and why; empty otherwise.",
				Computed:            true,
			},
			"secret_versions": schema.MapAttribute{
				MarkdownDescription: "The version the last rotation wrote, by versionless secret id.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"exposed_at": schema.StringAttribute{
				MarkdownDescription: "When the password was last checked out (the `" + keyvault.TagExposedAt + "` tag on the primary secret), " +
					"which starts the policy's `rotate_after_exposure_hours`; null if never. In dual-account mode, the active account's password.",
				Computed: true,
			},
			"alternate_credential": func() schema.SingleNestedAttribute {
				a := rotationCredentialRefAttribute("Turns on dual-account (zero-downtime) mode: a second `segura_credential` on the same device, " +
					"with the same roles, passed as the whole resource: `alternate_credential = segura_credential.orders_app_b`. The two accounts take " +
					"turns. Each rotation changes the password of the account applications are not using (`next_account`, the standby) and writes its " +
					"username and new password to every binding, so it becomes the active one (`active_account`); the previously active account's password " +
					"is not touched and keeps logging in until the rotation after that, at least the policy's `overlap_hours`. Every binding must carry the " +
					"username (`value_format` `json` or `connection_string`): the bare `password` format is refused. Which account is active is read from " +
					"Key Vault: the one the primary secret's newest version names in its `" + keyvault.TagCredential + "` tag (a version that names none " +
					"holds `credential`'s password). Each account's password of record is the newest version of the primary secret that names it; " +
					"nothing about them is stored in state. The alternate's parent, if it has one, must be `credential`'s. " +
					"See the [zero-downtime rotation guide](../guides/zero-downtime-rotation.md).")
				a.Required, a.Optional = false, true
				return a
			}(),
			"alternate_bootstrap_password_wo": schema.StringAttribute{
				MarkdownDescription: "The current password of `alternate_credential`, for its first rotation, when no version of the primary secret " +
					"holds it yet (turning dual-account mode on); not needed when the alternate has a parent. Write-only (Terraform >= 1.11): never stored " +
					"in state or plan. Tried only when no Key Vault value logs in as the alternate.",
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
			},
			"force_within_overlap": schema.BoolAttribute{
				MarkdownDescription: "Dual-account mode: rotate at once when a rotation falls due before the overlap of the standby ends " +
					"(a `triggers` change, drift, a new binding), cutting the overlap short: applications still holding the standby's old password " +
					"are refused until they re-read Key Vault. Without it such a rotation waits, and the plan says until when. A rotation after a " +
					"checkout, a repair of a Key Vault value that no longer logs in, and the finishing of an interrupted rotation never wait.",
				Optional: true,
			},
			"active_account": schema.StringAttribute{
				MarkdownDescription: "Dual-account mode: the account applications use now (`user@authdb`), the one every binding names; in a " +
					"plan that rotates, the one they will use after it. Null in single-account mode.",
				Computed: true,
			},
			"next_account": schema.StringAttribute{
				MarkdownDescription: "Dual-account mode: the account the next rotation changes (`user@authdb`): the standby, or the active account " +
					"itself when its password was checked out and the policy rotates after a checkout. Its rotation is due at `next_rotation_at`. " +
					"Null in single-account mode.",
				Computed: true,
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
	resp.Schema.Attributes = objectReferences(resp.Schema.Attributes)
}

// credentialChanged replaces the rotation when it is planned onto another
// account: a known credential id that differs from the state's. Any other
// change to the credential (its device's address, its mechanism, its
// parent) is an in-place update that the next rotation uses.
func credentialChanged(_ context.Context, req planmodifier.ObjectRequest, resp *objectplanmodifier.RequiresReplaceIfFuncResponse) {
	prior, planned := refID(req.StateValue), refID(req.PlanValue)
	resp.RequiresReplace = known(prior, planned) && !prior.IsNull() && !planned.IsNull() && !prior.Equal(planned)
}

func (r *credentialRotationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks the links between the credential, its bindings and
// the parent, at plan time and without any remote call.
func (r *credentialRotationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg credentialRotationResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.Credential.IsUnknown() || cfg.Credential.IsNull() {
		return
	}
	cred, ok, d := refFromObject[rotationCredentialRef](ctx, cfg.Credential)
	resp.Diagnostics.Append(d...)
	if !ok {
		return
	}
	const who = "segura_credential_rotation"
	validateDual(ctx, cfg, cred, resp)
	if !cfg.Syncs.IsUnknown() && !cfg.Syncs.IsNull() {
		seen := map[string]int{}
		objs, d := syncObjects(ctx, cfg.Syncs)
		resp.Diagnostics.Append(d...)
		for i, obj := range objs {
			s, ok, d := refFromObject[syncRef](ctx, obj)
			resp.Diagnostics.Append(d...)
			if d.HasError() {
				return
			}
			if !ok {
				continue
			}
			sc, ok, d := refFromObject[boundCredentialRef](ctx, s.Credential)
			resp.Diagnostics.Append(d...)
			if ok && known(sc.ID, cred.ID) && !sc.ID.Equal(cred.ID) {
				resp.Diagnostics.AddAttributeError(path.Root("syncs").AtListIndex(i), "Binding of another credential",
					fmt.Sprintf("%s: syncs[%d] binds credential %s, but this rotation rotates %s. Every binding in syncs must be of the rotated credential.",
						who, i, sc.ID.ValueString(), cred.ID.ValueString()))
			}
			if known(s.SecretID) && !s.SecretID.IsNull() {
				id := s.SecretID.ValueString()
				if j, dup := seen[id]; dup {
					resp.Diagnostics.AddAttributeError(path.Root("syncs").AtListIndex(i), "Secret bound twice",
						fmt.Sprintf("%s: syncs[%d] and syncs[%d] are the same secret %s; list each secret once.", who, j, i, id))
				}
				seen[id] = i
			}
		}
	}

	parent, hasParent, d := cred.parent(ctx)
	resp.Diagnostics.Append(d...)
	noSource := cfg.ParentSync.IsNull() && cfg.ParentRotation.IsNull()
	switch {
	case cred.Parent.IsUnknown() || cfg.ParentSync.IsUnknown() || cfg.ParentRotation.IsUnknown():
	case !cfg.ParentSync.IsNull() && !cfg.ParentRotation.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("parent_sync"), "Both parent_sync and parent_rotation",
			fmt.Sprintf("%s: set parent_rotation (the parent's segura_credential_rotation) or parent_sync, not both.", who))
	case hasParent && noSource:
		resp.Diagnostics.AddAttributeError(path.Root("parent_rotation"), "Missing parent_rotation",
			fmt.Sprintf("%s: credential %s has a parent (%s), which changes its password; set parent_rotation = segura_credential_rotation.<parent> "+
				"(or, for a parent no rotation in this configuration manages, parent_sync = the segura_keyvault_sync that holds its password).",
				who, cred.ID.ValueString(), parent.ID.ValueString()))
	case !hasParent && !noSource:
		attr := "parent_sync"
		if cfg.ParentSync.IsNull() {
			attr = "parent_rotation"
		}
		resp.Diagnostics.AddAttributeError(path.Root(attr), attr+" without a parent",
			fmt.Sprintf("%s: %s is set, but credential %s has no parent. Set the parent on the segura_credential, or remove %s.",
				who, attr, cred.ID.ValueString(), attr))
	case hasParent:
		attr, credObj := "parent_sync", types.ObjectNull(boundCredentialRefAttrTypes())
		if ps, ok, d := refFromObject[syncRef](ctx, cfg.ParentSync); ok {
			credObj = ps.Credential
		} else if pr, ok2, d2 := refFromObject[parentRotationRef](ctx, cfg.ParentRotation); ok2 {
			attr, credObj = "parent_rotation", pr.Credential
			resp.Diagnostics.Append(d2...)
		} else {
			resp.Diagnostics.Append(d...)
			resp.Diagnostics.Append(d2...)
		}
		psc, ok, d := refFromObject[boundCredentialRef](ctx, credObj)
		resp.Diagnostics.Append(d...)
		if ok && known(psc.ID, parent.ID) && !psc.ID.Equal(parent.ID) {
			resp.Diagnostics.AddAttributeError(path.Root(attr), attr+" of another credential",
				fmt.Sprintf("%s: %s is of credential %s, but the parent of %s is %s.", who, attr, psc.ID.ValueString(), cred.ID.ValueString(), parent.ID.ValueString()))
		}
	}
}

// ModifyPlan decides whether this apply rotates. A rotation shows as an
// in-place update: last_rotated_at and the other results become unknown and
// last_rotation_reason says why.
func (r *credentialRotationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan credentialRotationResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.dual() {
		plan.ActiveAccount, plan.NextAccount = types.StringNull(), types.StringNull()
	}
	// Both follow the primary binding, which the configuration may change.
	plan.ID = types.StringUnknown()
	if primary, ok := plan.primary(ctx); ok && !primary.SecretID.IsUnknown() && !primary.SecretID.IsNull() {
		plan.ID = primary.SecretID
	}
	resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, plan.ID)...)
	if plan.EscrowSecretName.IsUnknown() {
		resp.Diagnostics.Append(defaultEscrowName(ctx, &plan)...)
	}
	if req.State.Raw.IsNull() {
		plan.markRotating(reasonInitial)
		if plan.dual() {
			r.planDualCreate(ctx, &plan, bootstrapsSet(ctx, req.Config), resp)
		}
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var state credentialRotationResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// Results carry over unless this apply rotates.
	plan.LastRotatedAt, plan.RotationCount, plan.LastRotationID = state.LastRotatedAt, state.RotationCount, state.LastRotationID
	plan.LastRotationReason, plan.SecretVersions, plan.ExposedAt = state.LastRotationReason, state.SecretVersions, state.ExposedAt
	plan.PendingReason = types.StringValue("")

	written := map[string]string{}
	resp.Diagnostics.Append(state.SecretVersions.ElementsAs(ctx, &written, false)...)
	reason := ""
	if state.Credential.IsNull() {
		// Just imported: refresh could check nothing without the
		// configuration, so the first plan does.
		reason = r.checkImported(ctx, &plan, state, written, resp)
	}
	if (plan.dual() || state.dual()) && r.planDual(ctx, &plan, state, written, reason, bootstrapsSet(ctx, req.Config), resp) {
		return
	}
	if reason == "" {
		reason = r.rotationReason(ctx, plan, state, written, &resp.Diagnostics)
	}
	if reason != "" {
		plan.markRotating(reason)
	} else if next, ok := plan.nextRotation(ctx, r.data.Now()); ok {
		plan.NextRotationAt = next
	} else {
		plan.NextRotationAt = types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// checkImported does for a just-imported rotation what refresh does for the
// others: it looks for drift in the configured bindings, and adopts for each
// binding import could not see (all but the primary) the version the last
// rotation wrote there, so an imported rotation with several bindings does
// not rotate just to learn them. written gains the adopted versions; the
// drift, if any, is returned as the reason to rotate.
func (r *credentialRotationResource) checkImported(ctx context.Context, plan *credentialRotationResourceModel, state credentialRotationResourceModel, written map[string]string, resp *resource.ModifyPlanResponse) string {
	for _, v := range []attr.Value{plan.Credential, plan.Policy, plan.Syncs} {
		if tv, err := v.ToTerraformValue(ctx); err != nil || !tv.IsFullyKnown() {
			return "" // upstream resources change in this apply; rotationReason decides
		}
	}
	rq, who, d := r.request(ctx, *plan)
	resp.Diagnostics.Append(d...)
	if d.HasError() {
		return ""
	}
	if plan.dual() {
		r.inspectAsActive(ctx, *plan, &rq, who)
	}
	st, err := rotation.Inspect(ctx, rotation.InspectRequest{Mongo: rq.Mongo, Deployment: rq.Deployment, Account: rq.Account, Bindings: rq.Bindings,
		Written: written, LastRotationID: state.LastRotationID.ValueString(), Escrow: rq.Escrow, SelfRotation: rq.Parent == nil})
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return ""
	}
	inspectWarnings(who, rq, st, &resp.Diagnostics)
	for id, version := range st.Adopted {
		written[id] = version
	}
	versions, d := types.MapValueFrom(ctx, types.StringType, written)
	resp.Diagnostics.Append(d...)
	plan.SecretVersions = versions
	if st.ExposedAt != nil {
		plan.ExposedAt = types.StringValue(st.ExposedAt.UTC().Format(time.RFC3339))
	}
	raw, _ := json.Marshal(st.Latest)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateObservedVersions, raw)...)
	return strings.Join(st.Drift, "; ")
}

// rotationReason says why this apply must rotate, or "" when it need not.
// written maps each bound secret to the version the last rotation wrote.
func (r *credentialRotationResource) rotationReason(ctx context.Context, plan, state credentialRotationResourceModel, written map[string]string, diags *diag.Diagnostics) string {
	if p := state.PendingReason.ValueString(); p != "" {
		return p // drift or due, found by refresh
	}
	// Import cannot know the triggers: it adopts the configured ones.
	if !plan.Triggers.Equal(state.Triggers) && !state.Credential.IsNull() {
		return reasonTriggers
	}
	if plan.Syncs.IsUnknown() {
		return reasonSyncsChanged
	}
	objs, d := syncObjects(ctx, plan.Syncs)
	diags.Append(d...)
	for _, obj := range objs {
		s, ok, d := refFromObject[syncRef](ctx, obj)
		diags.Append(d...)
		if !ok || s.SecretID.IsUnknown() || written[s.SecretID.ValueString()] == "" {
			return reasonSyncsChanged
		}
	}
	if due, why := plan.due(ctx, r.data.Now()); due {
		return why
	}
	return ""
}

// reasonAdopted is last_rotation_reason after refresh adopted a rotation
// made outside the resource.
func reasonAdopted(id string) string {
	return "rotation " + id + " was made outside this resource (the segura_rotate action) and adopted by refresh"
}

// adopt records a finished rotation made outside this resource as the last
// one, as if this resource had made it.
func (m *credentialRotationResourceModel) adopt(ctx context.Context, a *rotation.AdoptedRotation, diags *diag.Diagnostics) {
	versions, d := types.MapValueFrom(ctx, types.StringType, a.Versions)
	diags.Append(d...)
	m.SecretVersions = versions
	m.LastRotatedAt = types.StringValue(a.RotatedAt.UTC().Format(time.RFC3339))
	m.LastRotationID = types.StringValue(a.ID)
	m.LastRotationReason = types.StringValue(reasonAdopted(a.ID))
	m.RotationCount = types.Int64Value(m.RotationCount.ValueInt64() + 1)
	m.ExposedAt = types.StringNull()
}

func (m *credentialRotationResourceModel) markRotating(reason string) {
	m.LastRotatedAt = types.StringUnknown()
	m.NextRotationAt = types.StringUnknown()
	m.RotationCount = types.Int64Unknown()
	m.LastRotationID = types.StringUnknown()
	m.SecretVersions = types.MapUnknown(types.StringType)
	m.ExposedAt = types.StringNull() // a new password has never been checked out
	m.LastRotationReason = types.StringValue(reason)
	m.PendingReason = types.StringValue("")
}

// primary returns the first binding; ok is false while it is unknown.
func (m credentialRotationResourceModel) primary(ctx context.Context) (syncRef, bool) {
	if m.Syncs.IsUnknown() || m.Syncs.IsNull() || len(m.Syncs.Elements()) == 0 {
		return syncRef{}, false
	}
	objs, d := syncObjects(ctx, m.Syncs)
	if d.HasError() {
		return syncRef{}, false
	}
	s, ok, _ := refFromObject[syncRef](ctx, objs[0])
	return s, ok
}

func defaultEscrowName(ctx context.Context, m *credentialRotationResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	primary, ok := m.primary(ctx)
	if !ok || primary.SecretName.IsUnknown() || primary.SecretName.IsNull() {
		return diags
	}
	name := primary.SecretName.ValueString() + escrowSuffix
	if !keyvault.SecretNamePattern.MatchString(name) {
		diags.AddAttributeError(path.Root("escrow_secret_name"), "Escrow secret name too long",
			fmt.Sprintf("segura_credential_rotation: the default escrow secret name %q is longer than Key Vault's 127 characters; set escrow_secret_name.", name))
		return diags
	}
	m.EscrowSecretName = types.StringValue(name)
	return diags
}

// schedule policy helpers ----------------------------------------------------

func (m credentialRotationResourceModel) lastRotated() (time.Time, bool) {
	if m.LastRotatedAt.IsNull() || m.LastRotatedAt.IsUnknown() {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, m.LastRotatedAt.ValueString())
	return t, err == nil
}

func (m credentialRotationResourceModel) exposedAt() *time.Time {
	if m.ExposedAt.IsNull() || m.ExposedAt.IsUnknown() {
		return nil
	}
	t, err := time.Parse(time.RFC3339, m.ExposedAt.ValueString())
	if err != nil {
		return nil
	}
	return &t
}

// due applies the policy's schedule to the last rotation and exposure.
func (m credentialRotationResourceModel) due(ctx context.Context, now time.Time) (bool, string) {
	last, ok := m.lastRotated()
	if !ok {
		return false, ""
	}
	pol, ok, _ := refFromObject[policyRef](ctx, m.Policy)
	if !ok {
		return false, ""
	}
	sp, ok := pol.schedulePolicy(ctx)
	if !ok {
		return false, ""
	}
	return sp.Due(now, last, m.exposedAt())
}

// nextRotation computes next_rotation_at; ok is false while it cannot be
// known at plan time. A policy that never makes a rotation due gives null.
func (m credentialRotationResourceModel) nextRotation(ctx context.Context, _ time.Time) (types.String, bool) {
	last, ok := m.lastRotated()
	if !ok {
		return types.StringNull(), false
	}
	pol, ok, _ := refFromObject[policyRef](ctx, m.Policy)
	if !ok {
		return types.StringNull(), false
	}
	sp, ok := pol.schedulePolicy(ctx)
	if !ok {
		return types.StringNull(), false
	}
	next := sp.Next(last, m.exposedAt())
	if next.IsZero() {
		return types.StringNull(), true
	}
	return types.StringValue(next.UTC().Format(time.RFC3339)), true
}

// Create / Update / Read / Delete -------------------------------------------

func (r *credentialRotationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan credentialRotationResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	var bootstrap, altBootstrap types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("bootstrap_password_wo"), &bootstrap)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("alternate_bootstrap_password_wo"), &altBootstrap)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultRotationTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	plan.RotationCount = types.Int64Value(0)
	r.rotate(ctx, &plan, [2]string{bootstrap.ValueString(), altBootstrap.ValueString()}, nil, nil, plan.LastRotationReason.ValueString(), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, plan.ID)...)
}

func (r *credentialRotationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state credentialRotationResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	var bootstrap, altBootstrap types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("bootstrap_password_wo"), &bootstrap)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("alternate_bootstrap_password_wo"), &altBootstrap)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.LastRotatedAt.IsUnknown() {
		// Nothing to rotate: record the new configuration.
		if plan.NextRotationAt.IsUnknown() {
			plan.NextRotationAt, _ = plan.nextRotation(ctx, r.data.Now())
		}
		r.settleDual(ctx, &plan)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, plan.ID)...)
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultRotationTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	observed := map[string]string{}
	if raw, d := req.Private.GetKey(ctx, privateObservedVersions); !d.HasError() && len(raw) > 0 {
		_ = json.Unmarshal(raw, &observed)
	}
	plan.RotationCount = state.RotationCount
	written := map[string]string{}
	if !state.SecretVersions.IsNull() && !state.SecretVersions.IsUnknown() {
		resp.Diagnostics.Append(state.SecretVersions.ElementsAs(ctx, &written, false)...)
	}
	r.rotate(ctx, &plan, [2]string{bootstrap.ValueString(), altBootstrap.ValueString()}, observed, written, plan.LastRotationReason.ValueString(), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateObservedVersions, nil)...)
}

// rotate runs the protocol and records its results in m. observed holds the
// latest versions seen when the plan was made, written the versions the last
// rotation wrote (both nil on create).
func (r *credentialRotationResource) rotate(ctx context.Context, m *credentialRotationResourceModel, bootstraps [2]string, observed, written map[string]string, reason string, diags *diag.Diagnostics) {
	ctx = maskSecrets(ctx, bootstraps[0], bootstraps[1])
	req, who, d := r.request(ctx, *m)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	bootstrap := bootstraps[0]
	var dual dualSetup
	if m.dual() {
		dual, d = r.dualRequest(ctx, *m, &req, who, bootstraps)
		diags.Append(d...)
		if diags.HasError() {
			return
		}
		bootstrap = req.BootstrapPassword
	}
	for i := range req.Bindings {
		req.Bindings[i].ExpectedVersion = observed[req.Bindings[i].ID()]
	}
	req.BootstrapPassword = bootstrap
	req.Written = written
	req.Now = r.data.Now()
	tflog.Info(ctx, "rotating credential", map[string]any{"credential": req.Account.String(), "reason": reason, "secrets": len(req.Bindings)})

	res, err := rotation.Rotate(ctx, req)
	if err != nil {
		if advice := dualPreflightAdvice(err, req, dual); advice != "" {
			err = fmt.Errorf("%w%s", err, advice)
		}
		diags.Append(rotationErrorDiagnostic(who, err))
		return
	}
	for _, w := range res.Warnings {
		diags.AddWarning("Rotation finished with a warning", who+": "+w)
	}
	versions := make(map[string]attr.Value, len(res.Versions))
	for id, v := range res.Versions {
		versions[id] = types.StringValue(v)
	}
	m.ID = types.StringValue(req.Bindings[0].ID())
	m.LastRotatedAt = types.StringValue(res.RotatedAt.Format(time.RFC3339))
	m.RotationCount = types.Int64Value(m.RotationCount.ValueInt64() + 1)
	m.LastRotationID = types.StringValue(res.RotationID)
	m.LastRotationReason = types.StringValue(reason)
	m.PendingReason = types.StringValue("")
	m.SecretVersions = types.MapValueMust(types.StringType, versions)
	m.ExposedAt = types.StringNull()
	m.NextRotationAt, _ = m.nextRotation(ctx, req.Now)
	m.ActiveAccount, m.NextAccount = types.StringNull(), types.StringNull()
	if m.dual() {
		r.afterDual(ctx, m, req, dual, res)
	}
	tflog.Info(ctx, "rotated credential", map[string]any{"credential": req.Account.String(), "rotation_id": res.RotationID, "password_source": res.PasswordSource})
}

func rotationErrorDiagnostic(who string, err error) diag.Diagnostic {
	var rotErr *rotation.Error
	if errors.As(err, &rotErr) {
		summary := "Rotation stopped before changing anything"
		switch rotErr.Stage {
		case rotation.StageChange:
			summary = "Rotation failed to change the password in MongoDB"
		case rotation.StageWrite:
			summary = "Rotation failed to write Key Vault"
		case rotation.StageVerify:
			summary = "Rotation could not verify the new password"
		}
		return diag.NewErrorDiagnostic(summary, who+": "+err.Error())
	}
	return diag.NewErrorDiagnostic("Rotation failed", who+": "+err.Error())
}

// Read detects drift and due rotations and records them in
// pending_rotation_reason, which the next plan turns into a rotation.
func (r *credentialRotationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state credentialRotationResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, state.ID)...)
	if resp.Diagnostics.HasError() || state.Credential.IsNull() || r.data == nil {
		// Just imported: the configuration is not known yet.
		return
	}
	rq, who, d := r.request(ctx, state)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	written := map[string]string{}
	resp.Diagnostics.Append(state.SecretVersions.ElementsAs(ctx, &written, false)...)
	if state.dual() {
		r.readDual(ctx, &state, rq, who, written, resp)
		return
	}
	st, err := rotation.Inspect(ctx, rotation.InspectRequest{Mongo: rq.Mongo, Deployment: rq.Deployment, Account: rq.Account, Bindings: rq.Bindings,
		Written: written, Escrow: rq.Escrow, SelfRotation: rq.Parent == nil})
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return
	}
	if a := st.Rotation; a != nil {
		// A finished rotation this resource did not make (the segura_rotate
		// action's): it becomes the last rotation, not drift.
		state.adopt(ctx, a, &resp.Diagnostics)
		tflog.Info(ctx, "adopted a rotation made outside this resource", map[string]any{"credential": rq.Account.String(), "rotation_id": a.ID})
	}
	inspectWarnings(who, rq, st, &resp.Diagnostics)
	if st.ExposedAt != nil {
		state.ExposedAt = types.StringValue(st.ExposedAt.UTC().Format(time.RFC3339))
	}
	if p := rq.Parent; p != nil {
		r.warnIfParentLocked(ctx, rq, who, &resp.Diagnostics)
	}
	pending := strings.Join(st.Drift, "; ")
	if due, why := state.due(ctx, r.data.Now()); pending == "" && due {
		pending = why
	}
	state.PendingReason = types.StringValue(pending)
	if next, ok := state.nextRotation(ctx, r.data.Now()); ok {
		state.NextRotationAt = next
	}
	state.ActiveAccount, state.NextAccount = types.StringNull(), types.StringNull()
	r.finishRead(ctx, &state, st, resp)
}

// finishRead keeps the latest versions Read saw for the plan (private
// state) and writes the refreshed state.
func (r *credentialRotationResource) finishRead(ctx context.Context, state *credentialRotationResourceModel, st *rotation.Status, resp *resource.ReadResponse) {
	raw, _ := json.Marshal(st.Latest)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateObservedVersions, raw)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// warnIfParentLocked warns, on a child's refresh, when its parent's password
// of record no longer logs in: the child's next rotation would fail until
// the parent's own rotation converges. A warning, not a pending rotation: a
// rotation of the child cannot help.
func (r *credentialRotationResource) warnIfParentLocked(ctx context.Context, rq rotation.Request, who string, diags *diag.Diagnostics) {
	p := rq.Parent
	key := rq.Deployment.String() + "|" + p.Account.String() + "|" + p.Source.ID()
	status, err := r.data.checkParentOnce(key, func() (rotation.ParentStatus, error) { return rotation.ParentLogs(ctx, rq.Mongo, rq.Deployment, *p) })
	if err == nil && status.Known {
		if missing := rotation.MissingPrivilege(status.Privileges, rq.Account, true); missing != "" {
			diags.AddWarning("Parent credential lacks a MongoDB privilege",
				fmt.Sprintf("%s: MongoDB says its parent %s lacks the %s action on the database of %s, so this credential's next rotation would fail at preflight (nothing would change). %s",
					who, p.Account.String(), missing, rq.Account.String(), rotation.PrivilegeAdvice(rq.Account, &p.Account)))
		}
	}
	if err != nil && mongodb.Classify(err) == mongodb.KindAuthentication {
		diags.AddWarning("Parent credential's password does not log in",
			fmt.Sprintf("%s: the password of its parent %s in %s no longer logs in to MongoDB, so this credential's next rotation would fail. "+
				"Fix the parent first: its own segura_credential_rotation shows the drift and converges at the next apply "+
				"(or write the parent's current password to that secret).", who, p.Account.String(), p.Source.ID()))
	}
}

// Delete leaves the password, MongoDB and every secret as they are.
func (r *credentialRotationResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// ImportState takes the primary secret's versionless id (or an identity
// naming its vault and name, Terraform >= 1.12) and rebuilds the
// rotation history from the tags on its versions.
func (r *credentialRotationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	const who = "segura_credential_rotation import"
	importID, d := importSecretID(ctx, req)
	resp.Diagnostics.Append(d...)
	if d.HasError() {
		return
	}
	vaultURL, name, err := keyvault.ParseSecretID(importID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import id", who+": "+err.Error()+". Import by the primary secret's versionless id, https://<vault>/secrets/<name>.")
		return
	}
	if r.data == nil {
		resp.Diagnostics.AddError("Provider not configured", who+": the provider must be configured to import.")
		return
	}
	v, err := r.data.KeyVault.Vault(vaultURL, keyvault.Identity{})
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return
	}
	versions, err := v.SecretVersions(ctx, name)
	if errors.Is(err, keyvault.ErrSecretNotFound) {
		// The real service lists a missing secret's versions as an empty
		// page, not a 404; keyvault reports both as not found.
		detail := fmt.Sprintf("Key Vault %s has no secret named %q", vaultURL, name)
		if s, serr := v.SecretProperties(ctx, name); serr == nil && s.Status == keyvault.SecretSoftDeleted {
			detail = fmt.Sprintf("secret %q in Key Vault %s is soft-deleted; recover it (az keyvault secret recover) and import again", name, vaultURL)
		}
		resp.Diagnostics.AddError("Key Vault secret does not exist",
			fmt.Sprintf("%s: %s, so there is no rotation to import. Import by the primary secret's versionless id, https://<vault>/secrets/<name>.", who, detail))
		return
	}
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return
	}
	h := rotation.HistoryOf(versions)
	if h.Count == 0 {
		resp.Diagnostics.AddError("No rotation found",
			fmt.Sprintf("%s: no version of %s carries the %s tag, so no rotation by this provider wrote it. Create the resource instead of importing it.",
				who, importID, keyvault.TagRotationID))
		return
	}
	id := keyvault.SecretID(vaultURL, name)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("last_rotated_at"), h.LastRotatedAt.UTC().Format(time.RFC3339))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("rotation_count"), int64(h.Count))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("last_rotation_id"), h.LastRotationID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("last_rotation_reason"), "imported")...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("pending_rotation_reason"), "")...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("secret_versions"), map[string]string{id: h.LastVersion})...)
	resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, types.StringValue(id))...)
}

// request builds the engine's request from the model: clients from the
// shared pools, the deployment, the bindings, the escrow and the policy.
func (r *credentialRotationResource) request(ctx context.Context, m credentialRotationResourceModel) (rotation.Request, string, diag.Diagnostics) {
	var diags diag.Diagnostics
	var req rotation.Request
	cred, d := requireRef[rotationCredentialRef](ctx, m.Credential, "segura_credential_rotation", "credential")
	diags.Append(d...)
	if diags.HasError() {
		return req, "segura_credential_rotation", diags
	}
	who := fmt.Sprintf("segura_credential_rotation of %s", cred.ID.ValueString())
	if r.data == nil {
		diags.AddError("Provider not configured", who+": the segura provider was not configured before use. This is a bug in the provider; please report it.")
		return req, who, diags
	}
	dev, d := requireRef[deviceRef](ctx, cred.Device, who, "credential.device")
	diags.Append(d...)
	pol, d2 := requireRef[policyRef](ctx, m.Policy, who, "policy")
	diags.Append(d2...)
	if diags.HasError() {
		return req, who, diags
	}
	dep, d := dev.deployment(ctx)
	diags.Append(d...)
	pwPolicy, ok := pol.passwordPolicy()
	if !ok {
		diags.AddError("Rotation policy not known", who+": the policy's password settings are not known at apply time.")
		return req, who, diags
	}
	sp, _ := pol.schedulePolicy(ctx)

	req = rotation.Request{
		Mongo:           r.data.MongoDB,
		Deployment:      dep,
		Account:         cred.identity(),
		Policy:          pwPolicy,
		VersionLifetime: sp.MaxAge,
		MajorityWait:    r.data.ReplicationWait,
	}
	if m.Syncs.IsNull() || m.Syncs.IsUnknown() || len(m.Syncs.Elements()) == 0 {
		diags.AddError("Reference not available", who+": syncs is empty or not known yet, so nothing was read or changed. "+
			"List the segura_keyvault_sync bindings of the credential, the primary first, and plan again.")
		return req, who, diags
	}
	objs, d := syncObjects(ctx, m.Syncs)
	diags.Append(d...)
	for i, obj := range objs {
		b, d := r.binding(ctx, obj, fmt.Sprintf("syncs[%d]", i))
		diags.Append(d...)
		req.Bindings = append(req.Bindings, b)
	}
	if diags.HasError() {
		return req, who, diags
	}
	req.Escrow = rotation.Escrow{Vault: req.Bindings[0].Vault, SecretName: m.EscrowSecretName.ValueString()}

	parent, hasParent, d := cred.parent(ctx)
	diags.Append(d...)
	if cred.Parent.IsUnknown() {
		diags.AddError("Reference not available", who+": credential.parent is not known yet, so nothing was read or changed. This is a bug in the provider: please report it.")
	}
	if hasParent {
		req.Parent, d = r.parent(ctx, m, parent)
		diags.Append(d...)
	}
	return req, who, diags
}

// parent is the engine's view of the credential's parent: its password's
// binding, from parent_rotation's primary sync or from parent_sync, and its
// escrow secret (parent_rotation's, else the default name beside the
// parent's secret).
func (r *credentialRotationResource) parent(ctx context.Context, m credentialRotationResourceModel, parent boundCredentialRef) (*rotation.Parent, diag.Diagnostics) {
	var diags diag.Diagnostics
	const who = "segura_credential_rotation"
	source, label, escrowName := m.ParentSync, "parent_sync", ""
	if m.ParentSync.IsNull() {
		pr, d := requireRef[parentRotationRef](ctx, m.ParentRotation, who, "parent_rotation (or parent_sync)")
		diags.Append(d...)
		if diags.HasError() {
			return nil, diags
		}
		if pr.Syncs.IsNull() || pr.Syncs.IsUnknown() || len(pr.Syncs.Elements()) == 0 {
			diags.AddError("Reference not available", who+": parent_rotation.syncs is empty, so the parent's password cannot be read; nothing was changed. "+
				"Pass the parent's segura_credential_rotation whole: parent_rotation = segura_credential_rotation.<parent>.")
			return nil, diags
		}
		objs, d := syncObjects(ctx, pr.Syncs)
		diags.Append(d...)
		if diags.HasError() {
			return nil, diags
		}
		source, label, escrowName = objs[0], "parent_rotation.syncs[0]", pr.EscrowSecretName.ValueString()
	}
	src, d := r.binding(ctx, source, label)
	diags.Append(d...)
	if diags.HasError() {
		return nil, diags
	}
	if escrowName == "" {
		escrowName = src.SecretName + escrowSuffix
	}
	return &rotation.Parent{Account: parent.identity(), Source: src, Escrow: rotation.Escrow{Vault: src.Vault, SecretName: escrowName}}, diags
}

// binding turns a segura_keyvault_sync object into an engine binding with its
// vault client.
func (r *credentialRotationResource) binding(ctx context.Context, obj types.Object, label string) (rotation.Binding, diag.Diagnostics) {
	var diags diag.Diagnostics
	const who = "segura_credential_rotation"
	s, d := requireRef[syncRef](ctx, obj, who, label)
	diags.Append(d...)
	if diags.HasError() {
		return rotation.Binding{}, diags
	}
	app, d := requireRef[applicationRef](ctx, s.Application, who, label+".application")
	diags.Append(d...)
	if diags.HasError() {
		return rotation.Binding{}, diags
	}
	scope, d := requireRef[scopeRef](ctx, app.Scope, who, label+".application.scope")
	diags.Append(d...)
	tags, d := scope.tagMap()
	diags.Append(d...)
	extra := map[string]string{}
	if !s.Tags.IsNull() && !s.Tags.IsUnknown() {
		diags.Append(s.Tags.ElementsAs(ctx, &extra, false)...)
	}
	for k, v := range extra {
		tags[k] = v
	}
	label = fmt.Sprintf("%s (segura_keyvault_sync %q)", label, s.SecretName.ValueString())
	v, err := r.data.KeyVault.Vault(app.VaultURL.ValueString(), app.identity())
	if err != nil {
		diags.Append(keyVaultErrorDiagnostic(label, err))
		return rotation.Binding{}, diags
	}
	return rotation.Binding{
		Label:           label,
		Vault:           v,
		SecretName:      s.SecretName.ValueString(),
		Format:          secretvalue.Format(s.ValueFormat.ValueString()),
		ContentType:     s.ContentType.ValueString(),
		Tags:            tags,
		Scope:           scope.System.ValueString() + "/" + scope.Environment.ValueString(),
		CreateIfMissing: s.CreateIfMissing.ValueBool(),
	}, diags
}

// inspectWarnings turns what a refresh found but is not drift into
// warnings: a login check that could not run, a privilege the account lacks
// for its next rotation.
func inspectWarnings(who string, rq rotation.Request, st *rotation.Status, diags *diag.Diagnostics) {
	if st.Unverified != "" {
		diags.AddWarning("Could not check the password against MongoDB",
			who+": the Key Vault value could not be tried against MongoDB, so this plan cannot tell whether it still logs in: "+st.Unverified)
	}
	if st.MissingPrivilege != "" {
		diags.AddWarning("Credential lacks a MongoDB privilege",
			fmt.Sprintf("%s: MongoDB says %s lacks the %s action on its database, so its next rotation would fail at preflight (nothing would change). %s",
				who, rq.Account.String(), st.MissingPrivilege, rotation.PrivilegeAdvice(rq.Account, nil)))
	}
}
