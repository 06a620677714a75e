package provider

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	lschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

var (
	_ list.ListResource              = (*keyVaultSyncList)(nil)
	_ list.ListResourceWithConfigure = (*keyVaultSyncList)(nil)
)

// NewKeyVaultSyncList returns the segura_keyvault_sync list resource.
func NewKeyVaultSyncList() list.ListResource {
	return &keyVaultSyncList{}
}

// keyVaultSyncList lists, for `terraform query` (Terraform >= 1.14), the
// secrets of a vault that carry the provider's tags: bindings a rotation
// wrote, in this workspace or another, that a team can adopt with
// `terraform query -generate-config-out=...`. Escrow secrets are left out.
type keyVaultSyncList struct {
	data *providerData
}

type keyVaultSyncListModel struct {
	VaultURL   types.String `tfsdk:"vault_url"`
	NamePrefix types.String `tfsdk:"name_prefix"`
}

func (l *keyVaultSyncList) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_keyvault_sync"
}

func (l *keyVaultSyncList) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = lschema.Schema{
		MarkdownDescription: "Lists the secrets of a vault whose latest version carries the provider's `" + keyvault.TagCredential +
			"` tag (written by a rotation), escrow secrets excepted. Each result is a `segura_keyvault_sync` identity; with " +
			"`include_resource = true` (or `-generate-config-out`) it carries a binding whose `credential` and `application` are " +
			"filled in from the secret's tags and URL, so the generated configuration plans and imports as it is. Replace those " +
			"objects with references to your `segura_credential` and `segura_dsm_application` resources afterwards.",
		Attributes: map[string]lschema.Attribute{
			"vault_url": lschema.StringAttribute{
				MarkdownDescription: "URL of the vault to list, e.g. `https://orders.vault.azure.net/`. Listed with the provider's identity, which needs `list`.",
				Required:            true,
			},
			"name_prefix": lschema.StringAttribute{
				MarkdownDescription: "Only secrets whose name starts with this.",
				Optional:            true,
			},
		},
	}
}

func (l *keyVaultSyncList) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (l *keyVaultSyncList) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var m keyVaultSyncListModel
	diags := req.Config.Get(ctx, &m)
	who := fmt.Sprintf("segura_keyvault_sync list of %s", m.VaultURL.ValueString())
	if !diags.HasError() && l.data == nil {
		diags.AddError("Provider not configured", who+": the segura provider was not configured before use. This is a bug in the provider; please report it.")
	}
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	vaultURL := keyvault.NormalizeVaultURL(m.VaultURL.ValueString())
	v, err := l.data.KeyVault.Vault(vaultURL, keyvault.Identity{})
	var secrets []keyvault.Secret
	if err == nil {
		secrets, err = v.ListSecrets(ctx)
	}
	if err != nil {
		diags.Append(keyVaultErrorDiagnostic(who, err))
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	var tagged []keyvault.Secret
	for _, s := range secrets {
		_, name, _ := keyvault.ParseSecretID(s.ID)
		if s.Tags[keyvault.TagCredential] != "" && s.Tags[rotation.TagEscrowState] == "" && strings.HasPrefix(name, m.NamePrefix.ValueString()) {
			tagged = append(tagged, s)
		}
	}
	sort.Slice(tagged, func(i, j int) bool { return tagged[i].ID < tagged[j].ID })
	stream.Results = func(push func(list.ListResult) bool) {
		for i, s := range tagged {
			if req.Limit > 0 && int64(i) >= req.Limit {
				return
			}
			if !push(l.result(ctx, req, vaultURL, s)) {
				return
			}
		}
	}
}

// result is one listed secret as a segura_keyvault_sync.
func (l *keyVaultSyncList) result(ctx context.Context, req list.ListRequest, vaultURL string, s keyvault.Secret) list.ListResult {
	res := req.NewListResult(ctx)
	_, name, _ := keyvault.ParseSecretID(s.ID)
	res.DisplayName = name + " (" + s.Tags[keyvault.TagCredential] + ")"
	res.Diagnostics.Append(res.Identity.Set(ctx, secretIdentityModel{VaultURL: types.StringValue(vaultURL), SecretName: types.StringValue(name)})...)
	if !req.IncludeResource {
		return res
	}
	format, contentType := formatOfContentType(s.ContentType)
	m := keyVaultSyncResourceModel{
		ID: types.StringValue(s.ID), SecretID: types.StringValue(s.ID), SecretName: types.StringValue(name),
		ValueFormat: types.StringValue(string(format)), ContentType: contentType, Tags: types.MapNull(types.StringType),
		CreateIfMissing: types.BoolValue(false), LatestVersion: types.StringNull(),
	}
	var d diag.Diagnostics
	if m.Credential, d = listedCredentialRef(ctx, s.Tags[keyvault.TagCredential]); d.HasError() {
		// A credential tag this provider cannot read back (a seed list
		// too long for a tag is stored hashed): the binding is listed, its
		// credential is left for the user to fill in.
		m.Credential = types.ObjectNull(boundCredentialRefAttrTypes())
		res.Diagnostics.AddWarning("Credential not known", fmt.Sprintf("segura_keyvault_sync list: secret %s: %s; set credential by hand.", s.ID, d[0].Detail()))
	}
	m.Application, d = listedApplicationRef(ctx, vaultURL, s.Tags[keyvault.TagScope])
	res.Diagnostics.Append(d...)
	res.Diagnostics.Append(res.Resource.Set(ctx, m)...)
	return res
}

// formatOfContentType is the value format a binding most likely has, from
// the content type its rotations write (secretvalue.DefaultContentType), and
// the binding's content_type: null when it is that default, as in a
// configuration that does not set it.
func formatOfContentType(ct string) (secretvalue.Format, types.String) {
	format := secretvalue.Password
	for _, f := range secretvalue.Formats {
		if ct == secretvalue.DefaultContentType(f) {
			format = f
		}
	}
	if ct == "" || ct == secretvalue.DefaultContentType(format) {
		return format, types.StringNull()
	}
	return format, types.StringValue(ct)
}

// listedCredentialRef is the credential object of a listed binding, from its
// segura-credential tag.
func listedCredentialRef(ctx context.Context, tag string) (types.Object, diag.Diagnostics) {
	var diags diag.Diagnostics
	a, err := parseAccount(tag)
	if err != nil {
		diags.AddError("Credential not known", err.Error())
		return types.ObjectNull(boundCredentialRefAttrTypes()), diags
	}
	return types.ObjectValueFrom(ctx, boundCredentialRefAttrTypes(), boundCredentialRef{
		ID: types.StringValue(a.importID()), Username: types.StringValue(a.username), AuthDatabase: types.StringValue(a.authDatabase),
		Mechanism: types.StringNull(),
	})
}

// listedApplicationRef is the application object of a listed binding: the
// vault, reached with the provider's identity, in the scope named by the
// secret's segura-scope tag (system/environment).
func listedApplicationRef(ctx context.Context, vaultURL, scopeTag string) (types.Object, diag.Diagnostics) {
	system, environment, _ := strings.Cut(scopeTag, "/")
	scopeName := scopeTag
	if scopeName == "" {
		scopeName = "imported"
	}
	scope, diags := types.ObjectValueFrom(ctx, scopeRefAttrTypes(), scopeRef{
		ID: types.StringValue(scopeName), Name: types.StringValue(scopeName), System: stringOrNull(system),
		Environment: stringOrNull(environment), Tags: types.MapNull(types.StringType),
	})
	vaultName := vaultURL
	if u, err := url.Parse(vaultURL); err == nil {
		vaultName, _, _ = strings.Cut(u.Hostname(), ".")
	}
	obj, d := types.ObjectValueFrom(ctx, applicationRefAttrTypes(), applicationRef{
		ID: types.StringValue(vaultURL), Name: types.StringValue(vaultName), TenantID: types.StringNull(), ClientID: types.StringNull(),
		ClientSecret: types.StringNull(), VaultName: types.StringValue(vaultName), VaultURL: types.StringValue(vaultURL), Scope: scope,
	})
	diags.Append(d...)
	return obj, diags
}

func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}
