package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/ephemeralvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	eschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

var (
	_ ephemeral.EphemeralResource                     = (*credentialCheckoutEphemeralResource)(nil)
	_ ephemeral.EphemeralResourceWithConfigure        = (*credentialCheckoutEphemeralResource)(nil)
	_ ephemeral.EphemeralResourceWithConfigValidators = (*credentialCheckoutEphemeralResource)(nil)
)

// ConfigValidators: a checkout reads one binding, given as the rotation
// (preferred) or as the sync.
func (r *credentialCheckoutEphemeralResource) ConfigValidators(context.Context) []ephemeral.ConfigValidator {
	return []ephemeral.ConfigValidator{ephemeralvalidator.ExactlyOneOf(path.MatchRoot("rotation"), path.MatchRoot("sync"))}
}

// NewCredentialCheckoutEphemeralResource returns the segura_credential_checkout
// ephemeral resource.
func NewCredentialCheckoutEphemeralResource() ephemeral.EphemeralResource {
	return &credentialCheckoutEphemeralResource{}
}

// credentialCheckoutEphemeralResource hands a credential's current password
// to a person or a downstream provider without it ever entering plan or
// state, and records the exposure on the secret, which starts the policy's
// rotate-after-exposure delay.
type credentialCheckoutEphemeralResource struct {
	data *providerData
}

type credentialCheckoutModel struct {
	Sync         types.Object `tfsdk:"sync"`
	Rotation     types.Object `tfsdk:"rotation"`
	MarkExposure types.Bool   `tfsdk:"mark_exposure"`
	Username     types.String `tfsdk:"username"`
	Password     types.String `tfsdk:"password"`
	Value        types.String `tfsdk:"value"`
	Version      types.String `tfsdk:"version"`
	ExposedAt    types.String `tfsdk:"exposed_at"`
}

func (r *credentialCheckoutEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential_checkout"
}

func (r *credentialCheckoutEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = eschema.Schema{
		MarkdownDescription: "Checks a credential's current password out of Key Vault (Terraform >= 1.10), for a person or a downstream " +
			"provider: the value is never stored in plan or state. Unless `mark_exposure = false`, the first checkout after a rotation " +
			"tags the secret's latest version with `" + keyvault.TagExposedAt + "`; a policy's `rotate_after_exposure_hours` then makes the " +
			"next rotation due that long after it. Marking needs the `set` permission on the secret.",
		Attributes: map[string]eschema.Attribute{
			"rotation": eschema.SingleNestedAttribute{
				MarkdownDescription: "The `segura_credential_rotation` whose password to check out, passed as the whole resource: " +
					"`rotation = segura_credential_rotation.orders_app` (preferred). The checkout then depends on the rotation: when the " +
					"rotation changes the password in this apply, Terraform opens the checkout after it, so a consumer gets the new password " +
					"(and `terraform plan` does not open it at all, since the rotation's results are not known yet). The primary binding " +
					"(the first of `syncs`) is read. Set this or `sync`.",
				Optional:   true,
				Attributes: ephemeralAttributes(checkoutRotationAttributes()),
			},
			"sync": eschema.SingleNestedAttribute{
				MarkdownDescription: "The `segura_keyvault_sync` to read, passed as the whole resource: `sync = segura_keyvault_sync.orders_kv`. " +
					"Use the credential's primary binding: its value is the password of record. The checkout is not ordered after a rotation " +
					"in the same apply, so it hands out the password that rotation replaces; pass `rotation` instead unless no rotation manages " +
					"the credential. Set this or `rotation`.",
				Optional:   true,
				Attributes: ephemeralAttributes(syncRefNestedAttributes()),
			},
			"mark_exposure": eschema.BoolAttribute{
				MarkdownDescription: "Record the checkout on the secret (default `true`).",
				Optional:            true,
			},
			"username": eschema.StringAttribute{
				MarkdownDescription: "The username that goes with the password: the one a `json` or `connection_string` value holds (in dual-account mode, the active account's), else the binding's credential's.",
				Computed:            true,
			},
			"password": eschema.StringAttribute{
				MarkdownDescription: "The current password, parsed out of the secret's `value_format`.",
				Computed:            true,
				Sensitive:           true,
			},
			"value": eschema.StringAttribute{
				MarkdownDescription: "The secret's whole value, in its format (for example a connection string).",
				Computed:            true,
				Sensitive:           true,
			},
			"version": eschema.StringAttribute{
				MarkdownDescription: "The Key Vault version read.",
				Computed:            true,
			},
			"exposed_at": eschema.StringAttribute{
				MarkdownDescription: "When this version was first checked out (RFC 3339); null when `mark_exposure = false` and it never was.",
				Computed:            true,
			},
		},
	}
}

func (r *credentialCheckoutEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *credentialCheckoutEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m credentialCheckoutModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.data == nil {
		resp.Diagnostics.AddError("Provider not configured", "segura_credential_checkout: the segura provider was not configured before use. This is a bug in the provider; please report it.")
		return
	}
	const checkout = "segura_credential_checkout"
	syncObj, d := checkoutSync(ctx, m)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, d := requireRef[syncRef](ctx, syncObj, checkout, "sync")
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	cred, d := requireRef[boundCredentialRef](ctx, s.Credential, checkout, "sync.credential")
	resp.Diagnostics.Append(d...)
	app, d := requireRef[applicationRef](ctx, s.Application, checkout, "sync.application")
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	who := fmt.Sprintf("segura_credential_checkout of %s", s.SecretID.ValueString())
	v, err := r.data.KeyVault.Vault(app.VaultURL.ValueString(), app.identity())
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return
	}
	name := s.SecretName.ValueString()
	secret, err := v.GetSecretValue(ctx, name, "")
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return
	}
	pw, err := secretvalue.Parse(secretvalue.Format(s.ValueFormat.ValueString()), secret.Value)
	if err != nil {
		resp.Diagnostics.AddError("Secret value not in its format", who+": "+err.Error()+
			". Check the binding's value_format, or run a rotation to rewrite the secret.")
		return
	}

	m.ExposedAt = types.StringNull()
	if at, ok := secret.Tags[keyvault.TagExposedAt]; ok {
		m.ExposedAt = types.StringValue(at)
	} else if m.MarkExposure.IsNull() || m.MarkExposure.ValueBool() {
		// Only the first checkout after a rotation is recorded: later ones
		// must not push the rotate-after-exposure deadline back.
		at := r.data.Now().UTC().Format(time.RFC3339)
		tags := make(map[string]string, len(secret.Tags)+1)
		for k, val := range secret.Tags {
			tags[k] = val
		}
		tags[keyvault.TagExposedAt] = at
		if err := v.UpdateSecretVersion(ctx, name, secret.Version, tags, nil); err != nil {
			resp.Diagnostics.Append(keyVaultErrorDiagnostic(who+" (recording the exposure; set mark_exposure = false to check out without it)", err))
			return
		}
		m.ExposedAt = types.StringValue(at)
	}
	ctx = maskSecrets(ctx, pw, secret.Value, app.ClientSecret.ValueString())
	tflog.Info(ctx, "checked out credential", map[string]any{"secret": s.SecretID.ValueString(), "version": secret.Version})

	m.Username = cred.Username
	if u := usernameInValue(secretvalue.Format(s.ValueFormat.ValueString()), secret.Value); u != "" {
		m.Username = types.StringValue(u) // dual-account mode: the active account's
	}
	m.Password = types.StringValue(pw)
	m.Value = types.StringValue(secret.Value)
	m.Version = types.StringValue(secret.Version)
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}

// checkoutRotationAttributes are the fields a checkout reads of the rotation
// it is given: its primary binding, and last_rotation_id, which is unknown
// while the rotation is about to rotate, so the checkout opens after it.
func checkoutRotationAttributes() map[string]rschema.Attribute {
	return map[string]rschema.Attribute{
		"id":               rschema.StringAttribute{Optional: true, MarkdownDescription: "The rotation's `id`."},
		"last_rotation_id": rschema.StringAttribute{Optional: true, MarkdownDescription: "The rotation's `last_rotation_id`."},
		"syncs": rschema.ListNestedAttribute{Optional: true, MarkdownDescription: "The rotation's `syncs`; the first is read.",
			NestedObject: rschema.NestedAttributeObject{Attributes: optionalAttributes(syncRefNestedAttributes())}},
	}
}

type checkoutRotationRef struct {
	ID             types.String `tfsdk:"id"`
	LastRotationID types.String `tfsdk:"last_rotation_id"`
	Syncs          types.List   `tfsdk:"syncs"`
}

// checkoutSync is the binding a checkout reads: sync, or the primary of
// rotation. Exactly one of them must be set.
func checkoutSync(ctx context.Context, m credentialCheckoutModel) (types.Object, diag.Diagnostics) {
	var diags diag.Diagnostics
	const checkout = "segura_credential_checkout"
	switch {
	case m.Sync.IsNull() == m.Rotation.IsNull():
		diags.AddError("Set rotation or sync", checkout+": set exactly one of rotation (the segura_credential_rotation, preferred) and sync (a segura_keyvault_sync).")
		return m.Sync, diags
	case !m.Sync.IsNull():
		return m.Sync, diags
	}
	rot, d := requireRef[checkoutRotationRef](ctx, m.Rotation, checkout, "rotation")
	diags.Append(d...)
	if diags.HasError() {
		return m.Sync, diags
	}
	if rot.Syncs.IsNull() || rot.Syncs.IsUnknown() || len(rot.Syncs.Elements()) == 0 {
		diags.AddError("Reference not available", checkout+": rotation.syncs is empty; pass the rotation whole: rotation = segura_credential_rotation.<name>.")
		return m.Sync, diags
	}
	objs, d := syncObjects(ctx, rot.Syncs)
	diags.Append(d...)
	if diags.HasError() {
		return m.Sync, diags
	}
	return objs[0], diags
}
