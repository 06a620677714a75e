package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	lschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

var (
	_ list.ListResource              = (*credentialList)(nil)
	_ list.ListResourceWithConfigure = (*credentialList)(nil)
)

// NewCredentialList returns the segura_credential list resource.
func NewCredentialList() list.ListResource {
	return &credentialList{}
}

// credentialList lists, for `terraform query` (Terraform >= 1.14), the
// MongoDB users of a device that no rotation manages yet: users for which no
// secret in the given vaults carries the provider's segura-credential tag.
// It logs in as an administrator whose password it reads from Key Vault.
type credentialList struct {
	data *providerData
}

type credentialListModel struct {
	Device            types.Object `tfsdk:"device"`
	AdminUsername     types.String `tfsdk:"admin_username"`
	AdminAuthDatabase types.String `tfsdk:"admin_auth_database"`
	AdminSecretID     types.String `tfsdk:"admin_secret_id"`
	AdminValueFormat  types.String `tfsdk:"admin_value_format"`
	VaultURLs         types.List   `tfsdk:"vault_urls"`
	IncludeManaged    types.Bool   `tfsdk:"include_managed"`
	UsernamePrefix    types.String `tfsdk:"username_prefix"`
}

func (l *credentialList) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential"
}

func (l *credentialList) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = lschema.Schema{
		MarkdownDescription: "Lists the MongoDB users of a device (`usersInfo` with `forAllDBs`) that no rotation manages yet, so that a " +
			"team can onboard existing accounts with `terraform query -generate-config-out=...`. A user counts as managed when a secret " +
			"in one of `vault_urls` carries its `" + keyvault.TagCredential + "` tag. The listing logs in as an administrator with " +
			"`viewUser` on every database, whose current password it reads from Key Vault; no password is in the configuration.",
		Attributes: map[string]lschema.Attribute{
			"device": lschema.SingleNestedAttribute{
				MarkdownDescription: "The device to list, as the fields of a `segura_device`: at least `id`, `name` and `address` (or `hosts`).",
				Required:            true,
				Attributes:          listAttributes(refNestedAttributes(deviceRefFields)),
			},
			"admin_username": lschema.StringAttribute{
				MarkdownDescription: "The administrator to log in as (needs `viewUser` on every database, as `userAdminAnyDatabase` grants).",
				Required:            true,
			},
			"admin_auth_database": lschema.StringAttribute{
				MarkdownDescription: "The administrator's authentication database (default `admin`).",
				Optional:            true,
			},
			"admin_secret_id": lschema.StringAttribute{
				MarkdownDescription: "Versionless id of the Key Vault secret that holds the administrator's current password, " +
					"e.g. `https://orders.vault.azure.net/secrets/orders-admin-password`.",
				Required: true,
			},
			"admin_value_format": lschema.StringAttribute{
				MarkdownDescription: "Format of that secret: `password` (default), `connection_string` or `json`.",
				Optional:            true,
			},
			"vault_urls": lschema.ListAttribute{
				MarkdownDescription: "Vaults whose provider-written secrets mark users as managed (default: the administrator secret's vault).",
				ElementType:         types.StringType,
				Optional:            true,
			},
			"include_managed": lschema.BoolAttribute{
				MarkdownDescription: "List managed users too (default `false`).",
				Optional:            true,
			},
			"username_prefix": lschema.StringAttribute{
				MarkdownDescription: "Only users whose name starts with this.",
				Optional:            true,
			},
		},
	}
}

func (l *credentialList) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (l *credentialList) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	users, dep, device, diags := l.users(ctx, req)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	stream.Results = func(push func(list.ListResult) bool) {
		for i, u := range users {
			if req.Limit > 0 && int64(i) >= req.Limit {
				return
			}
			if !push(credentialResult(ctx, req, dep, device, u)) {
				return
			}
		}
	}
}

// users returns the device's users that the listing keeps, the deployment
// and the configured device object.
func (l *credentialList) users(ctx context.Context, req list.ListRequest) ([]mongodb.User, mongodb.Deployment, types.Object, diag.Diagnostics) {
	var m credentialListModel
	var dep mongodb.Deployment
	diags := req.Config.Get(ctx, &m)
	if diags.HasError() {
		return nil, dep, m.Device, diags
	}
	dev, d := requireRef[deviceRef](ctx, m.Device, "segura_credential list", "device")
	diags.Append(d...)
	if diags.HasError() {
		return nil, dep, m.Device, diags
	}
	who := fmt.Sprintf("segura_credential list of device %q", dev.Name.ValueString())
	if l.data == nil {
		diags.AddError("Provider not configured", who+": the segura provider was not configured before use. This is a bug in the provider; please report it.")
		return nil, dep, m.Device, diags
	}
	dep, d = dev.deployment(ctx)
	diags.Append(d...)
	vaultURL, secretName, err := keyvault.ParseSecretID(m.AdminSecretID.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("admin_secret_id"), "Invalid admin_secret_id", who+": "+err.Error())
		return nil, dep, m.Device, diags
	}
	format := secretvalue.Password
	if f := m.AdminValueFormat.ValueString(); f != "" {
		format = secretvalue.Format(f)
	}
	v, err := l.data.KeyVault.Vault(vaultURL, keyvault.Identity{})
	var secret keyvault.SecretValue
	if err == nil {
		secret, err = v.GetSecretValue(ctx, secretName, "")
	}
	if err != nil {
		diags.Append(keyVaultErrorDiagnostic(who+" (reading the administrator's password)", err))
		return nil, dep, m.Device, diags
	}
	pw, err := secretvalue.Parse(format, secret.Value)
	if err != nil {
		diags.AddError("Administrator password not in its format", who+": secret "+m.AdminSecretID.ValueString()+": "+err.Error()+"; check admin_value_format.")
		return nil, dep, m.Device, diags
	}
	admin := mongodb.Identity{Username: m.AdminUsername.ValueString(), Password: pw, AuthSource: m.AdminAuthDatabase.ValueString()}
	ctx = maskSecrets(ctx, pw, secret.Value)
	all, err := l.data.MongoDB.Users(ctx, dep, admin)
	if err != nil {
		diags.AddError("Cannot list MongoDB users", who+": "+err.Error()+". Nothing was changed. The administrator needs viewUser on every database (userAdminAnyDatabase).")
		return nil, dep, m.Device, diags
	}

	vaults := []string{vaultURL}
	if !m.VaultURLs.IsNull() && !m.VaultURLs.IsUnknown() {
		vaults = nil
		diags.Append(m.VaultURLs.ElementsAs(ctx, &vaults, false)...)
	}
	managed := map[string]bool{}
	for _, u := range vaults {
		v, err := l.data.KeyVault.Vault(keyvault.NormalizeVaultURL(u), keyvault.Identity{})
		var secrets []keyvault.Secret
		if err == nil {
			secrets, err = v.ListSecrets(ctx)
		}
		if err != nil {
			diags.Append(keyVaultErrorDiagnostic(who+" (finding managed users)", err))
			return nil, dep, m.Device, diags
		}
		for _, s := range secrets {
			managed[s.Tags[keyvault.TagCredential]] = true
		}
	}
	kept := slices.DeleteFunc(all, func(u mongodb.User) bool {
		return !strings.HasPrefix(u.Username, m.UsernamePrefix.ValueString()) ||
			(!m.IncludeManaged.ValueBool() && managed[rotation.AccountTag(dep, mongodb.Identity{Username: u.Username, AuthSource: u.Database})])
	})
	return kept, dep, m.Device, diags
}

// credentialResult is one listed user as a segura_credential on device.
func credentialResult(ctx context.Context, req list.ListRequest, dep mongodb.Deployment, device types.Object, u mongodb.User) list.ListResult {
	res := req.NewListResult(ctx)
	hosts := dep.Hosts
	if dep.IsSRV() {
		hosts = []string{dep.Address()} // the mongodb+srv:// form the import id accepts
	}
	a := account{hosts: hosts, authDatabase: u.Database, username: u.Username}
	res.DisplayName = a.importID()
	res.Diagnostics.Append(res.Identity.Set(ctx, credentialIdentityModel{
		DeviceAddress: types.StringValue(a.seedList()), AuthDatabase: types.StringValue(a.authDatabase), Username: types.StringValue(a.username),
	})...)
	if !req.IncludeResource {
		return res
	}
	mechanism := mongodb.MechanismSCRAMSHA256
	if len(u.Mechanisms) > 0 && !slices.Contains(u.Mechanisms, mongodb.MechanismSCRAMSHA256) {
		// Only SCRAM-SHA-1 credentials: logging in with SHA-256 would fail.
		mechanism = u.Mechanisms[0]
	}
	m := credentialResourceModel{
		credentialRef: credentialRef{
			boundCredentialRef: boundCredentialRef{
				ID: types.StringNull(), Username: types.StringValue(u.Username), AuthDatabase: types.StringValue(u.Database),
				Mechanism: types.StringValue(mechanism),
			},
			Device: device,
		},
		Parent: types.ObjectNull(credentialRefAttrTypes()), Description: types.StringNull(), Tags: types.MapNull(types.StringType),
	}
	res.Diagnostics.Append(res.Resource.Set(ctx, m)...)
	return res
}
