package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

var (
	_ resource.Resource                   = (*keyVaultSyncResource)(nil)
	_ resource.ResourceWithConfigure      = (*keyVaultSyncResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*keyVaultSyncResource)(nil)
	_ resource.ResourceWithValidateConfig = (*keyVaultSyncResource)(nil)
	_ resource.ResourceWithImportState    = (*keyVaultSyncResource)(nil)
	_ resource.ResourceWithIdentity       = (*keyVaultSyncResource)(nil)
	_ resource.ResourceWithUpgradeState   = (*keyVaultSyncResource)(nil)
)

// valueFormats are the formats a synced secret can hold (internal/secretvalue
// renders and parses them).
var valueFormats = func() []string {
	out := make([]string, len(secretvalue.Formats))
	for i, f := range secretvalue.Formats {
		out[i] = string(f)
	}
	return out
}()

// NewKeyVaultSyncResource returns the segura_keyvault_sync resource.
func NewKeyVaultSyncResource() resource.Resource {
	return &keyVaultSyncResource{}
}

// keyVaultSyncResource binds a credential to one Key Vault secret. It writes
// nothing itself: rotations write versions. It tracks the secret's existence
// and latest version, and notices a secret deleted outside Terraform.
type keyVaultSyncResource struct {
	data *providerData
}

type keyVaultSyncResourceModel struct {
	ID              types.String `tfsdk:"id"`
	Credential      types.Object `tfsdk:"credential"`
	Application     types.Object `tfsdk:"application"`
	SecretName      types.String `tfsdk:"secret_name"`
	ValueFormat     types.String `tfsdk:"value_format"`
	ContentType     types.String `tfsdk:"content_type"`
	Tags            types.Map    `tfsdk:"tags"`
	CreateIfMissing types.Bool   `tfsdk:"create_if_missing"`
	SecretID        types.String `tfsdk:"secret_id"`
	LatestVersion   types.String `tfsdk:"latest_version"`
}

// maxExtraTags is what is left of Key Vault's tag budget once the provider's
// own tags are counted.
var maxExtraTags = keyvault.MaxTags - len(keyvault.ManagedTags)

func (r *keyVaultSyncResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_keyvault_sync"
	// A binding moved to another secret name or vault is updated in place,
	// so its identity follows the secret.
	resp.ResourceBehavior.MutableIdentity = true
}

func (r *keyVaultSyncResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = secretIdentitySchema("the bound secret")
}

func (r *keyVaultSyncResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		// 1: credential no longer carries its device (keyvault_sync_upgrade.go).
		Version: 1,
		MarkdownDescription: "Binds a `segura_credential` to one secret in the Key Vault of a `segura_dsm_application`. " +
			"Rotations write each new password as a new version of the secret, in `value_format`, with `content_type` and " +
			"the tags of the binding, of the application's scope and of the provider (" + tagList(keyvault.ManagedTags) + ").\n\n" +
			"The binding writes nothing itself. By default the secret must already exist, as the DevOps Secret Manager " +
			"integration guide requires; `create_if_missing = true` lets the first rotation create it. On refresh, a secret " +
			"deleted or soft-deleted outside Terraform produces a warning and the binding leaves the state, so the next plan " +
			"shows it being created again. Destroying the binding leaves the secret in place.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The versionless secret id, as `secret_id`.",
				Computed:            true,
			},
			"credential": boundCredentialRefAttribute("The `segura_credential` whose password the secret holds, passed as a whole "+
				"object: `credential = segura_credential.orders_app`. Its device is not kept: the rotation that writes the secret has it.", true),
			"application": applicationRefAttribute("The `segura_dsm_application` (vault) the secret lives in, passed as a whole "+
				"object: `application = segura_dsm_application.orders`.", true),
			"secret_name": schema.StringAttribute{
				MarkdownDescription: "Name of the Key Vault secret: 1-127 letters, digits and hyphens.",
				Required:            true,
				Validators: []validator.String{stringvalidator.RegexMatches(keyvault.SecretNamePattern,
					"must be 1-127 characters, each a letter, a digit or '-' (Key Vault's rule for secret names)")},
			},
			"value_format": schema.StringAttribute{
				MarkdownDescription: "What the secret's value holds: `password` (the password alone, default), " +
					"`connection_string` (a `mongodb://` URI with the username, password, hosts and `authSource`) or " +
					"`json` (an object with `username`, `password`, `hosts`, `host`, `port`, `auth_database`, and `replica_set` / `tls` when set).",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(string(secretvalue.Password)),
				Validators: []validator.String{stringvalidator.OneOf(valueFormats...)},
			},
			"content_type": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Content type set on every version the provider writes; at most %d characters. "+
					"Default by format: `%s` for `password`, `%s` for `connection_string`, `%s` for `json`.",
					keyvault.MaxContentTypeLength, secretvalue.DefaultContentType(secretvalue.Password),
					secretvalue.DefaultContentType(secretvalue.ConnectionString), secretvalue.DefaultContentType(secretvalue.JSON)),
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtMost(keyvault.MaxContentTypeLength)},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: fmt.Sprintf("Extra tags set on every version the provider writes. Key Vault allows %d tags per secret; "+
					"these, the scope's tags and the provider's %d (%s) must fit together, so at most %d here. Names starting with `%s` are reserved.",
					keyvault.MaxTags, len(keyvault.ManagedTags), tagList(keyvault.ManagedTags), maxExtraTags, keyvault.TagPrefix),
				Optional:    true,
				ElementType: types.StringType,
				Validators: []validator.Map{
					mapvalidator.KeysAre(
						stringvalidator.LengthBetween(1, keyvault.MaxTagNameLength),
						withoutPrefix(keyvault.TagPrefix, "the provider reserves it for its own tags"),
					),
					mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(keyvault.MaxTagValueLength)),
				},
			},
			"create_if_missing": schema.BoolAttribute{
				MarkdownDescription: "Allow the secret not to exist yet; the first rotation then creates it. Default `false`: the secret must exist.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"secret_id": schema.StringAttribute{
				MarkdownDescription: "Versionless id of the secret, `https://<vault>/secrets/<name>`; the import id.",
				Computed:            true,
			},
			"latest_version": schema.StringAttribute{
				MarkdownDescription: "The secret's latest version that no rotation of this provider wrote: the one it had when it was bound, or one " +
					"written outside Terraform since (refresh picks that up). Versions that rotations write are in the rotation's `secret_versions`, " +
					"so a rotation does not make this binding show as changed outside Terraform. Null while the secret was only ever written by " +
					"rotations (`create_if_missing`).",
				Computed: true,
			},
		},
	}
	resp.Schema.Attributes = objectReferences(resp.Schema.Attributes)
}

func tagList(tags []string) string {
	quoted := make([]string, len(tags))
	for i, t := range tags {
		quoted[i] = "`" + t + "`"
	}
	return strings.Join(quoted, ", ")
}

func (r *keyVaultSyncResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var tags types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("tags"), &tags)...)
	if resp.Diagnostics.HasError() || tags.IsNull() || tags.IsUnknown() {
		return
	}
	if n := len(tags.Elements()); n > maxExtraTags {
		resp.Diagnostics.AddAttributeError(path.Root("tags"), "Too many tags",
			fmt.Sprintf("segura_keyvault_sync: tags has %d entries, but Key Vault allows %d tags per secret and the provider adds %d of its own (%s), so at most %d fit.",
				n, keyvault.MaxTags, len(keyvault.ManagedTags), strings.Join(keyvault.ManagedTags, ", "), maxExtraTags))
	}
}

func (r *keyVaultSyncResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan computes secret_id from the vault URL and the secret name, keeps
// latest_version while they stay the same, and checks that the tags fit in
// Key Vault's budget once the scope's tags are known.
func (r *keyVaultSyncResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan keyVaultSyncResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *keyVaultSyncResourceModel
	if !req.State.Raw.IsNull() {
		state = &keyVaultSyncResourceModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}

	secretID := types.StringUnknown()
	app, ok, d := refFromObject[applicationRef](ctx, plan.Application)
	resp.Diagnostics.Append(d...)
	if ok {
		if known(app.VaultURL, plan.SecretName) && !app.VaultURL.IsNull() && !plan.SecretName.IsNull() {
			secretID = types.StringValue(keyvault.SecretID(app.VaultURL.ValueString(), plan.SecretName.ValueString()))
		}
		resp.Diagnostics.Append(checkTagBudget(ctx, plan.Tags, app)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = secretID
	plan.SecretID = secretID
	resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, secretID)...)
	plan.LatestVersion = types.StringUnknown()
	// The same secret keeps its latest version, unless it is missing and may
	// no longer be (bind then fails, or finds it written meanwhile).
	if state != nil && !secretID.IsUnknown() && state.SecretID.Equal(secretID) &&
		(!state.LatestVersion.IsNull() || state.CreateIfMissing.Equal(plan.CreateIfMissing)) {
		plan.LatestVersion = state.LatestVersion
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// checkTagBudget counts the distinct tag names a written version would carry.
func checkTagBudget(ctx context.Context, extra types.Map, app applicationRef) diag.Diagnostics {
	var diags diag.Diagnostics
	if extra.IsUnknown() {
		return diags
	}
	scope, ok, d := app.scope(ctx)
	diags.Append(d...)
	if !ok || scope.Tags.IsUnknown() || diags.HasError() {
		return diags
	}
	scopeTags := scope.tagNames()
	names := map[string]bool{}
	for _, t := range keyvault.ManagedTags {
		names[t] = true
	}
	for _, k := range scopeTags {
		names[k] = true
	}
	if !extra.IsNull() {
		for k := range extra.Elements() {
			names[k] = true
		}
	}
	if len(names) > keyvault.MaxTags {
		diags.AddAttributeError(path.Root("tags"), "Too many tags",
			fmt.Sprintf("segura_keyvault_sync: every version written to the secret would carry %d tags (%d from tags, %d from scope %q, %d from the provider), but Key Vault allows %d. Remove tags here or on the scope.",
				len(names), len(extra.Elements()), len(scopeTags), scope.Name.ValueString(), len(keyvault.ManagedTags), keyvault.MaxTags))
	}
	return diags
}

func (r *keyVaultSyncResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.Diagnostics.Append(r.bindPlan(ctx, req.Plan, &resp.State, resp.Identity)...)
}

func (r *keyVaultSyncResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(r.bindPlan(ctx, req.Plan, &resp.State, resp.Identity)...)
}

// bindPlan binds the planned secret and records the result as the state and
// the identity.
func (r *keyVaultSyncResource) bindPlan(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, identity *tfsdk.ResourceIdentity) diag.Diagnostics {
	var m keyVaultSyncResourceModel
	diags := plan.Get(ctx, &m)
	if diags.HasError() {
		return diags
	}
	diags.Append(r.bind(ctx, &m)...)
	if diags.HasError() {
		return diags
	}
	diags.Append(state.Set(ctx, &m)...)
	diags.Append(setSecretIdentity(ctx, identity, m.SecretID)...)
	return diags
}

// bind checks that the secret exists (or may be created) and records its id
// and latest version in m.
func (r *keyVaultSyncResource) bind(ctx context.Context, m *keyVaultSyncResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	vault, who, d := r.vault(ctx, *m)
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	name := m.SecretName.ValueString()
	secret, err := vault.SecretProperties(ctx, name)
	if err != nil {
		diags.Append(keyVaultErrorDiagnostic(who, err))
		return diags
	}
	m.ID = types.StringValue(secret.ID)
	m.SecretID = types.StringValue(secret.ID)
	switch secret.Status {
	case keyvault.SecretExists:
		// As in Read: a version a rotation wrote does not replace the one
		// the plan kept (the apply must give what the plan said).
		if m.LatestVersion.IsUnknown() || secret.Tags[keyvault.TagRotationID] == "" {
			m.LatestVersion = types.StringValue(secret.Version)
		}
	case keyvault.SecretSoftDeleted:
		diags.AddAttributeError(path.Root("secret_name"), "Key Vault secret is soft-deleted",
			fmt.Sprintf("%s: secret %q in Key Vault %s is deleted but recoverable (soft-deleted), so it can neither be used nor created again. "+
				"Recover it (az keyvault secret recover --id %s) or purge it, then apply again.", who, name, vault.URL, secret.ID))
	default:
		if !m.CreateIfMissing.ValueBool() {
			diags.AddAttributeError(path.Root("secret_name"), "Key Vault secret does not exist",
				fmt.Sprintf("%s: secret %q does not exist in Key Vault %s. The integration expects the secret to exist before it is bound: "+
					"create it first, or set create_if_missing = true to let the first rotation create it.", who, name, vault.URL))
			return diags
		}
		m.LatestVersion = types.StringNull()
	}
	return diags
}

func (r *keyVaultSyncResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state keyVaultSyncResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	vault, who, d := r.vault(ctx, state)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.SecretName.ValueString()
	secret, err := vault.SecretProperties(ctx, name)
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return
	}
	state.ID = types.StringValue(secret.ID)
	state.SecretID = types.StringValue(secret.ID)
	switch {
	case secret.Status == keyvault.SecretExists:
		if secret.Tags[keyvault.TagRotationID] == "" || state.Credential.IsNull() {
			// A version a rotation wrote is the rotation's to track (its
			// secret_versions): recording it here too would make every plan
			// after a rotation note this binding as changed outside
			// Terraform. Just imported, the state records what is there.
			state.LatestVersion = types.StringValue(secret.Version)
		}
		if state.ContentType.IsNull() && state.Credential.IsNull() {
			// Just imported: take the format and content type from the secret.
			var format secretvalue.Format
			format, state.ContentType = formatOfContentType(secret.ContentType)
			state.ValueFormat = types.StringValue(string(format))
		}
	case secret.Status == keyvault.SecretMissing && state.CreateIfMissing.ValueBool() && state.LatestVersion.IsNull():
		// Allowed to be missing and never seen: the first rotation creates it.
	case secret.Status == keyvault.SecretMissing:
		// Deleted and purged outside Terraform. The binding stays: the
		// credential's rotation finds the secret gone (drift) and writes it
		// again with the password that still logs in, so nobody has to copy
		// it back by hand. Dropping the binding would make the next apply
		// re-create it first, which fails for a missing secret.
		resp.Diagnostics.AddWarning("Key Vault secret deleted outside Terraform",
			fmt.Sprintf("%s: secret %q in Key Vault %s was deleted and purged outside Terraform. The binding stays in the state: the next "+
				"apply of the credential's segura_credential_rotation writes it again (the plan shows that rotation pending), with the password "+
				"that still logs in, read from the credential's other bindings or the escrow secret.", who, name, vault.URL))
		state.LatestVersion = types.StringNull()
	default:
		next := "cannot be read. The binding is removed from the state and the next plan shows it being created again"
		if secret.Status == keyvault.SecretSoftDeleted {
			// A soft-deleted name can be neither read nor written, whatever
			// create_if_missing says.
			next = fmt.Sprintf("was soft-deleted outside Terraform. A soft-deleted name can be neither read nor written until it is recovered "+
				"(az keyvault secret recover --id %s, which keeps its versions) or purged; until then the next apply fails here. "+
				"The binding is removed from the state and the next plan shows it being created again", secret.ID)
		}
		resp.Diagnostics.AddWarning("Key Vault secret deleted outside Terraform",
			fmt.Sprintf("%s: secret %q in Key Vault %s %s.", who, name, vault.URL, next))
		// The framework wants an identity even from a Read that removes
		// the resource.
		resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, state.SecretID)...)
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, state.SecretID)...)
}

// Delete forgets the binding; the secret and its versions stay in the vault.
func (r *keyVaultSyncResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// ImportState takes a versionless secret id, or an identity naming the vault
// and the secret (Terraform >= 1.12). The credential and application
// are not recorded in Key Vault; the next apply takes them from the
// configuration without touching the secret.
func (r *keyVaultSyncResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importID, d := importSecretID(ctx, req)
	resp.Diagnostics.Append(d...)
	if d.HasError() {
		return
	}
	vaultURL, name, err := keyvault.ParseSecretID(importID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import id",
			"segura_keyvault_sync: "+err.Error()+". Import with the versionless secret id, e.g. https://my-vault.vault.azure.net/secrets/orders-db-password.")
		return
	}
	if !keyvault.SecretNamePattern.MatchString(name) {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("segura_keyvault_sync: %q is not a valid Key Vault secret name (1-127 letters, digits and hyphens).", name))
		return
	}
	id := keyvault.SecretID(vaultURL, name)
	createIfMissing := false
	if r.data != nil {
		// A secret whose first version a rotation wrote was created by it:
		// the binding allowed it to be missing.
		if v, err := r.data.KeyVault.Vault(vaultURL, keyvault.Identity{}); err == nil {
			if versions, err := v.SecretVersions(ctx, name); err == nil && len(versions) > 0 {
				first := slices.MinFunc(versions, func(a, b keyvault.Secret) int { return a.Created.Compare(b.Created) })
				createIfMissing = first.Tags[keyvault.TagRotationID] != ""
			}
		}
	}
	for attr, v := range map[string]any{
		"id":                types.StringValue(id),
		"secret_id":         types.StringValue(id),
		"secret_name":       types.StringValue(name),
		"value_format":      types.StringValue(string(secretvalue.Password)),
		"create_if_missing": types.BoolValue(createIfMissing),
	} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(attr), v)...)
	}
	resp.Diagnostics.Append(setSecretIdentity(ctx, resp.Identity, types.StringValue(id))...)
}

// vault returns the client for the binding's vault and identity, and a
// description of the binding for messages. After an import the application
// is not known yet: the vault comes from the secret id, the identity is the
// provider's.
func (r *keyVaultSyncResource) vault(ctx context.Context, m keyVaultSyncResourceModel) (*keyvault.Vault, string, diag.Diagnostics) {
	var diags diag.Diagnostics
	who := fmt.Sprintf("segura_keyvault_sync %q", m.SecretName.ValueString())
	if r.data == nil {
		diags.AddError("Provider not configured", who+": the segura provider was not configured before use. This is a bug in the provider; please report it.")
		return nil, who, diags
	}
	var vaultURL string
	var id keyvault.Identity
	if m.Application.IsNull() {
		u, _, err := keyvault.ParseSecretID(m.SecretID.ValueString())
		if err != nil {
			diags.AddError("Cannot locate the secret", who+": "+err.Error())
			return nil, who, diags
		}
		vaultURL = u
	} else {
		app, d := requireRef[applicationRef](ctx, m.Application, who, "application")
		diags.Append(d...)
		if diags.HasError() {
			return nil, who, diags
		}
		vaultURL = app.VaultURL.ValueString()
		id = app.identity()
		who = fmt.Sprintf("segura_keyvault_sync %q (application %q)", m.SecretName.ValueString(), app.Name.ValueString())
	}
	v, err := r.data.KeyVault.Vault(vaultURL, id)
	if err != nil {
		diags.Append(keyVaultErrorDiagnostic(who, err))
		return nil, who, diags
	}
	return v, who, diags
}
