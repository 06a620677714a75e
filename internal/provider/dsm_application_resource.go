package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

var (
	_ resource.Resource                   = (*dsmApplicationResource)(nil)
	_ resource.ResourceWithConfigure      = (*dsmApplicationResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*dsmApplicationResource)(nil)
	_ resource.ResourceWithValidateConfig = (*dsmApplicationResource)(nil)
)

// NewDSMApplicationResource returns the segura_dsm_application resource.
func NewDSMApplicationResource() resource.Resource {
	return &dsmApplicationResource{}
}

// dsmApplicationResource describes one Key Vault target of DevOps Secret
// Manager and how to reach it. Its only remote effect is a check: the vault
// answers and the identity may list secrets.
type dsmApplicationResource struct {
	data *providerData
}

// dsmApplicationResourceModel holds every applicationRef field (embedded, so
// the reference shape and the resource cannot drift) plus the fields no
// downstream resource needs.
type dsmApplicationResourceModel struct {
	applicationRef
	SubscriptionID        types.String `tfsdk:"subscription_id"`
	ResourceGroupName     types.String `tfsdk:"resource_group_name"`
	ClientSecretWO        types.String `tfsdk:"client_secret_wo"`
	ClientSecretWOVersion types.Int64  `tfsdk:"client_secret_wo_version"`
}

var (
	// guidPattern is the form of Entra ID tenant, client and subscription ids.
	guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// vaultNamePattern is Azure's rule for vault names: 3-24 characters,
	// letters, digits and hyphens, starting with a letter, ending with a
	// letter or digit, no consecutive hyphens (checked separately).
	vaultNamePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)
	// resourceGroupPattern is Azure's rule for resource group names.
	resourceGroupPattern = regexp.MustCompile(`^[-\w._()]{0,89}[-\w_()]$`)
)

func (r *dsmApplicationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_dsm_application"
}

func (r *dsmApplicationResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A DevOps Secret Manager application: one Azure Key Vault that synced credentials are written to, " +
			"and the identity used to reach it.\n\n" +
			"On create, on update and on every refresh the provider lists one page of the vault's secrets, which proves " +
			"the vault answers, the identity authenticates and it holds the `list` secret permission. A refused token or a " +
			"401 / 403 becomes an error naming the identity, the vault and the missing permission. (To destroy an application " +
			"whose vault is already gone, run `terraform destroy -refresh=false`.)\n\n" +
			"By default the vault is reached with the provider's Azure credential (preferred: OIDC, managed identity or " +
			"`ARM_*` variables). Give `client_id` and `client_secret` only when this vault needs a service principal of its own.",
		Attributes: map[string]schema.Attribute{
			"id": randomIDAttribute("application"),
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the application, e.g. `orders-api-prod`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"scope": scopeRefAttribute("The `segura_dsm_scope` the application belongs to, passed as a whole object: "+
				"`scope = segura_dsm_scope.orders`. Its tags are stamped on every synced secret.", true),
			"tenant_id": schema.StringAttribute{
				MarkdownDescription: "Microsoft Entra ID tenant of the vault (a GUID).",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(guidPattern, "must be a GUID such as 00000000-0000-0000-0000-000000000000")},
			},
			"subscription_id": schema.StringAttribute{
				MarkdownDescription: "Azure subscription holding the vault (a GUID). Recorded for people and audits; the data-plane calls do not need it.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(guidPattern, "must be a GUID such as 00000000-0000-0000-0000-000000000000")},
			},
			"resource_group_name": schema.StringAttribute{
				MarkdownDescription: "Resource group holding the vault. Recorded for people and audits.",
				Optional:            true,
				Validators: []validator.String{stringvalidator.RegexMatches(resourceGroupPattern,
					"must be 1-90 letters, digits, '-', '_', '.', '(' or ')' and must not end with '.'")},
			},
			"client_id": schema.StringAttribute{
				MarkdownDescription: "Client id (a GUID) of a service principal dedicated to this vault. Required with `client_secret` or `client_secret_wo`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(guidPattern, "must be a GUID such as 00000000-0000-0000-0000-000000000000")},
			},
			"client_secret": schema.StringAttribute{
				MarkdownDescription: "Client secret of `client_id`. Sensitive, but kept in state (here and in every resource that " +
					"references this application), because those resources need it to reach the vault. Prefer provider-level " +
					"authentication; conflicts with `client_secret_wo`.",
				Optional:  true,
				Sensitive: true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
					stringvalidator.ConflictsWith(path.MatchRoot("client_secret_wo")),
					stringvalidator.AlsoRequires(path.MatchRoot("client_id")),
				},
			},
			"client_secret_wo": schema.StringAttribute{
				MarkdownDescription: "Write-only client secret of `client_id` (Terraform >= 1.11): never stored. It is used for this " +
					"resource's own access check on create and whenever `client_secret_wo_version` changes. Because it is not " +
					"stored, resources that reference this application reach the vault with the provider's credential. " +
					"Conflicts with `client_secret`.",
				Optional:  true,
				WriteOnly: true,
				Sensitive: true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(1),
					stringvalidator.AlsoRequires(path.MatchRoot("client_id"), path.MatchRoot("client_secret_wo_version")),
				},
			},
			"client_secret_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Change this number to make Terraform send `client_secret_wo` again (after rotating the secret).",
				Optional:            true,
			},
			"vault_name": schema.StringAttribute{
				MarkdownDescription: "Name of the Key Vault: 3-24 letters, digits and hyphens, starting with a letter.",
				Required:            true,
				Validators: []validator.String{
					stringvalidator.RegexMatches(vaultNamePattern, "must be 3-24 letters, digits and hyphens, start with a letter and end with a letter or digit"),
					stringvalidator.RegexMatches(regexp.MustCompile(`^(?:[^-]|-[^-])*-?$`), "must not contain consecutive hyphens"),
				},
			},
			"vault_url": schema.StringAttribute{
				MarkdownDescription: "URL of the vault. Computed as `https://<vault_name>.<suffix>/` for the provider's Azure " +
					"`environment` (`vault.azure.net`, `vault.usgovcloudapi.net`, `vault.azure.cn`) unless given, which private " +
					"clouds and the local test stack do. Only the vault's address, `https://<host>[:port]/`: a path (such as a " +
					"secret's URL), a query, a fragment or credentials fail the plan, and so does a host in one of those domains " +
					"that names another vault than `vault_name`.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{stringvalidator.RegexMatches(httpsURL, "must be an https:// URL"), vaultURLValidator{}},
			},
		},
	}
	resp.Schema.Attributes = objectReferences(resp.Schema.Attributes)
}

// vaultURLValidator refuses, at plan and without a network call, a vault_url
// that cannot be a vault's address: one with a path (a secret's URL pasted
// in, say), a query, a fragment, credentials or a port out of range. Such a
// URL used to plan cleanly and fail only at apply, when the first request
// went out.
type vaultURLValidator struct{}

func (vaultURLValidator) Description(context.Context) string {
	return "must be the vault's address, https://<host>[:port]/, with no path, query, fragment or credentials"
}

func (v vaultURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (vaultURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || !httpsURL.MatchString(req.ConfigValue.ValueString()) {
		return // unknown: checked at the plan that knows it; not https: the pattern says so
	}
	if problem := vaultURLProblem(req.ConfigValue.ValueString()); problem != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid vault_url",
			"segura_dsm_application: vault_url "+problem+". A vault URL is the vault's address and nothing more, "+
				"e.g. https://orders-kv.vault.azure.net/; the secret's name goes in segura_keyvault_sync.secret_name.")
	}
}

// vaultURLProblem says what makes an https URL no vault address, or "".
// It never repeats the URL's user information, which may be a password.
func vaultURLProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return "is not a valid URL (" + err.Error() + ")"
	}
	switch {
	case u.User != nil:
		return "must not contain a user name or password"
	case u.Hostname() == "":
		return "has no host"
	case u.RawQuery != "" || u.ForceQuery:
		return "must not have a query (?" + u.RawQuery + ")"
	case u.Fragment != "":
		return "must not have a fragment (#" + u.Fragment + ")"
	case u.Path != "" && u.Path != "/":
		return fmt.Sprintf("must not have a path (it has %s)", strconv.Quote(u.Path))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "has port " + p + ", which is not between 1 and 65535"
		}
	}
	return ""
}

// vaultURLNameMismatch reports a vault_url in one of the Azure clouds whose
// vault is another than vault_name: https://<name>.<vault DNS suffix>/.
func vaultURLNameMismatch(vaultURL, vaultName string) (urlVault string, mismatch bool) {
	u, err := url.Parse(vaultURL)
	if err != nil {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	for _, env := range azureEnvironments {
		if label, ok := strings.CutSuffix(host, "."+env.vaultDNSSuffix); ok && !strings.Contains(label, ".") {
			return label, !strings.EqualFold(label, vaultName)
		}
	}
	return "", false
}

func (r *dsmApplicationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg dsmApplicationResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !cfg.ClientID.IsNull() && !cfg.ClientID.IsUnknown() &&
		cfg.ClientSecret.IsNull() && cfg.ClientSecretWO.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("client_id"), "client_id without a client secret",
			"segura_dsm_application: client_id names a service principal for this vault, but neither client_secret nor "+
				"client_secret_wo is set. Give one of them, or remove client_id to use the provider's credential.")
	}
	resp.Diagnostics.Append(checkVaultURLMatchesName(cfg.VaultURL, cfg.VaultName)...)
}

// checkVaultURLMatchesName refuses a vault_url in an Azure cloud that names
// another vault than vault_name. Both must be known; ValidateConfig and
// ModifyPlan call it, so that a value known only at plan is checked there.
func checkVaultURLMatchesName(vaultURL, vaultName types.String) diag.Diagnostics {
	var diags diag.Diagnostics
	if !known(vaultURL, vaultName) || vaultURL.IsNull() || vaultName.IsNull() {
		return diags
	}
	if urlVault, mismatch := vaultURLNameMismatch(vaultURL.ValueString(), vaultName.ValueString()); mismatch {
		diags.AddAttributeError(path.Root("vault_url"), "vault_url names another vault",
			fmt.Sprintf("segura_dsm_application: vault_url %s is the address of the vault %q, but vault_name is %q. "+
				"Correct one of them, or leave vault_url out: it is then computed from vault_name.",
				vaultURL.ValueString(), urlVault, vaultName.ValueString()))
	}
	return diags
}

func (r *dsmApplicationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan computes vault_url from vault_name so that downstream plans see
// it, and rejects a disabled challenge check without an explicit vault URL.
func (r *dsmApplicationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var cfgURL, vaultName types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("vault_url"), &cfgURL)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("vault_name"), &vaultName)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !cfgURL.IsNull() {
		// The same checks as validation, again here: every Terraform and
		// OpenTofu release re-validates with the values known at plan, but
		// this keeps a bad URL from planning should one not.
		if known(cfgURL) {
			if !httpsURL.MatchString(cfgURL.ValueString()) {
				resp.Diagnostics.AddAttributeError(path.Root("vault_url"), "Invalid vault_url",
					"segura_dsm_application: vault_url must be an https:// URL.")
			} else if problem := vaultURLProblem(cfgURL.ValueString()); problem != "" {
				resp.Diagnostics.AddAttributeError(path.Root("vault_url"), "Invalid vault_url", "segura_dsm_application: vault_url "+problem+".")
			}
		}
		resp.Diagnostics.Append(checkVaultURLMatchesName(cfgURL, vaultName)...)
		return
	}
	if r.data == nil {
		return
	}
	if r.data.DisableChallengeResourceVerification {
		resp.Diagnostics.AddAttributeError(path.Root("vault_url"), "vault_url required",
			"segura_dsm_application: the provider sets key_vault.disable_challenge_resource_verification, which is only "+
				"allowed for vaults with an explicit vault_url (private clouds, the local test stack). Set vault_url, or "+
				"remove disable_challenge_resource_verification from the provider block for vaults in the public clouds.")
		return
	}
	if vaultName.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("vault_url"), types.StringUnknown())...)
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("vault_url"), types.StringValue(r.data.VaultURLFor(vaultName.ValueString())))...)
}

func (r *dsmApplicationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg dsmApplicationResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(r.checkAccess(ctx, plan, cfg.ClientSecretWO)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id, err := uuid.GenerateUUID()
	if err != nil {
		resp.Diagnostics.AddError("Cannot create segura_dsm_application", "Generating a random id failed: "+err.Error())
		return
	}
	plan.ID = types.StringValue(id)
	plan.ClientSecretWO = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Read repeats the access check, so that a revoked permission or a deleted
// vault shows up in the next plan rather than in the middle of a rotation.
func (r *dsmApplicationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state dsmApplicationResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.ClientSecretWOVersion.IsNull() || !state.ClientSecret.IsNull() {
		// A write-only secret is not available on refresh; it was checked
		// when it was last sent.
		resp.Diagnostics.Append(r.checkAccess(ctx, state, types.StringNull())...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *dsmApplicationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, cfg, state dsmApplicationResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(r.checkAccess(ctx, plan, cfg.ClientSecretWO)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = state.ID
	plan.ClientSecretWO = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete forgets the application; the vault and its secrets are untouched.
func (r *dsmApplicationResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// checkAccess lists one page of the vault's secrets as the application's
// identity: the client secret (sensitive or write-only) when given, else the
// provider's credential.
func (r *dsmApplicationResource) checkAccess(ctx context.Context, m dsmApplicationResourceModel, writeOnlySecret types.String) diag.Diagnostics {
	var diags diag.Diagnostics
	if r.data == nil {
		diags.AddError("Provider not configured", "segura_dsm_application: the segura provider was not configured before use. This is a bug in the provider; please report it.")
		return diags
	}
	ctx = maskSecrets(ctx, m.ClientSecret.ValueString(), writeOnlySecret.ValueString())
	id := m.identity()
	if !writeOnlySecret.IsNull() && !writeOnlySecret.IsUnknown() && writeOnlySecret.ValueString() != "" {
		id = keyvault.Identity{TenantID: m.TenantID.ValueString(), ClientID: m.ClientID.ValueString(), ClientSecret: writeOnlySecret.ValueString()}
	}
	vault, err := r.data.KeyVault.Vault(m.VaultURL.ValueString(), id)
	if err == nil {
		err = vault.CheckListAccess(ctx)
	}
	if err != nil {
		diags.Append(keyVaultErrorDiagnostic(fmt.Sprintf("segura_dsm_application %q", m.Name.ValueString()), err))
	}
	return diags
}

// keyVaultErrorDiagnostic turns a keyvault error into one diagnostic whose
// summary says what kind of failure it is and whose detail names the
// resource, the identity, the vault and what to do.
func keyVaultErrorDiagnostic(who string, err error) diag.Diagnostic {
	var accessErr *keyvault.AccessError
	var authErr *keyvault.AuthenticationError
	switch {
	case errors.As(err, &accessErr):
		return diag.NewErrorDiagnostic("Key Vault permission missing", who+": "+err.Error()+".")
	case errors.As(err, &authErr):
		return diag.NewErrorDiagnostic("Azure authentication failed", who+": "+err.Error())
	default:
		return diag.NewErrorDiagnostic("Key Vault request failed", who+": "+err.Error()+
			". Check that the vault URL is right and the vault is reachable from where Terraform runs.")
	}
}
