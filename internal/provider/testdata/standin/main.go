// Command standin is a test-only stand-in for the hashicorp/azurerm,
// hashicorp/random and hashicorp/time providers, which cannot be downloaded
// on the machines the acceptance tests run on. It serves the three resources
// the migration guide starts from, with the arguments the guide uses and the
// behaviour that matters to it: azurerm_key_vault_secret writes a version to
// Key Vault (the local emulator), reads its value back on refresh, and
// deletes and purges the secret on destroy, as azurerm does by default;
// random_password generates a password once; time_rotating records its
// creation time. It is not a replacement for the real providers.
//
// The tests install it with dev_overrides, as terraform-provider-azurerm,
// -random and -time; it answers to whichever name it was started as. The Key
// Vault settings are read from standin.json beside the executable:
//
//	{"tenant_id": "...", "client_id": "...", "client_secret": "...",
//	 "authority_host": "https://...", "ca_file": "...",
//	 "vaults": {"<vault name>": "https://<vault url>/"}}
//
// A key_vault_id names its vault by the last segment of
// /subscriptions/.../providers/Microsoft.KeyVault/vaults/<name>.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "terraform-provider-")
	err := providerserver.Serve(context.Background(), func() provider.Provider { return &standin{name: name} },
		providerserver.ServeOpts{Address: "registry.terraform.io/hashicorp/" + name})
	if err != nil {
		log.Fatal(err)
	}
}

type settings struct {
	TenantID      string            `json:"tenant_id"`
	ClientID      string            `json:"client_id"`
	ClientSecret  string            `json:"client_secret"`
	AuthorityHost string            `json:"authority_host"`
	CAFile        string            `json:"ca_file"`
	Vaults        map[string]string `json:"vaults"`
}

type standin struct {
	name string
}

type client struct {
	pool *keyvault.Pool
	s    settings
}

// vault returns the vault a key_vault_id names.
func (c *client) vault(keyVaultID string) (*keyvault.Vault, error) {
	i := strings.LastIndex(keyVaultID, "/vaults/")
	if i < 0 {
		return nil, fmt.Errorf("key_vault_id %q is not /subscriptions/.../providers/Microsoft.KeyVault/vaults/<name>", keyVaultID)
	}
	url, ok := c.s.Vaults[keyVaultID[i+len("/vaults/"):]]
	if !ok {
		return nil, fmt.Errorf("the stand-in knows no vault named in %q", keyVaultID)
	}
	return c.pool.Vault(url, keyvault.Identity{TenantID: c.s.TenantID, ClientID: c.s.ClientID, ClientSecret: c.s.ClientSecret})
}

func (p *standin) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = p.name
}

func (p *standin) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{Blocks: map[string]pschema.Block{
		"features": pschema.SingleNestedBlock{}, // azurerm's required features {}
	}}
}

func (p *standin) Configure(_ context.Context, _ provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	exe, err := os.Executable()
	if err != nil {
		resp.Diagnostics.AddError("stand-in", err.Error())
		return
	}
	c := &client{}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(exe), "standin.json"))
	if err == nil {
		err = json.Unmarshal(raw, &c.s)
	}
	if err != nil && !os.IsNotExist(err) {
		resp.Diagnostics.AddError("stand-in settings", err.Error())
		return
	}
	hc, err := keyvault.HTTPClientWithCA(c.s.CAFile)
	if err != nil {
		resp.Diagnostics.AddError("stand-in settings", err.Error())
		return
	}
	c.pool = keyvault.NewPool(keyvault.Options{
		Cloud:                                cloud.Configuration{ActiveDirectoryAuthorityHost: c.s.AuthorityHost},
		HTTPClient:                           hc,
		DisableChallengeResourceVerification: true,
		DisableInstanceDiscovery:             true,
		CreatesPer10s:                        -1,
		OthersPer10s:                         -1,
	}, nil, "")
	resp.ResourceData = c
}

func (p *standin) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return &secretResource{} },
		func() resource.Resource { return &passwordResource{} },
		func() resource.Resource { return &rotatingResource{} },
	}
}

func (p *standin) DataSources(context.Context) []func() datasource.DataSource { return nil }

// ---------------------------------------------------------------------------
// azurerm_key_vault_secret

type secretResource struct{ c *client }

type secretModel struct {
	ID             types.String `tfsdk:"id"`
	Name           types.String `tfsdk:"name"`
	Value          types.String `tfsdk:"value"`
	ValueWO        types.String `tfsdk:"value_wo"`
	ValueWOVersion types.Int64  `tfsdk:"value_wo_version"`
	KeyVaultID     types.String `tfsdk:"key_vault_id"`
	ContentType    types.String `tfsdk:"content_type"`
	Tags           types.Map    `tfsdk:"tags"`
	Version        types.String `tfsdk:"version"`
	VersionlessID  types.String `tfsdk:"versionless_id"`
}

func (r *secretResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "azurerm_key_vault_secret"
}

func (r *secretResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":               schema.StringAttribute{Computed: true},
		"name":             schema.StringAttribute{Required: true, PlanModifiers: replace},
		"value":            schema.StringAttribute{Optional: true, Sensitive: true},
		"value_wo":         schema.StringAttribute{Optional: true, Sensitive: true, WriteOnly: true},
		"value_wo_version": schema.Int64Attribute{Optional: true},
		"key_vault_id":     schema.StringAttribute{Required: true, PlanModifiers: replace},
		"content_type":     schema.StringAttribute{Optional: true},
		"tags":             schema.MapAttribute{Optional: true, ElementType: types.StringType},
		"version":          schema.StringAttribute{Computed: true},
		"versionless_id":   schema.StringAttribute{Computed: true},
	}}
}

func (r *secretResource) Configure(_ context.Context, req resource.ConfigureRequest, _ *resource.ConfigureResponse) {
	r.c, _ = req.ProviderData.(*client)
}

// write sets a new version with the configured value.
func (r *secretResource) write(ctx context.Context, m *secretModel, wo types.String) error {
	v, err := r.c.vault(m.KeyVaultID.ValueString())
	if err != nil {
		return err
	}
	value := m.Value.ValueString()
	if m.Value.IsNull() {
		value = wo.ValueString()
	}
	tags := map[string]string{}
	for k, t := range m.Tags.Elements() {
		if s, ok := t.(types.String); ok {
			tags[k] = s.ValueString()
		}
	}
	s, err := v.SetSecretValue(ctx, m.Name.ValueString(), keyvault.SecretWrite{Value: value, ContentType: m.ContentType.ValueString(), Tags: tags})
	if err != nil {
		return err
	}
	m.ID = types.StringValue(s.ID + "/" + s.Version)
	m.Version = types.StringValue(s.Version)
	m.VersionlessID = types.StringValue(s.ID)
	m.ValueWO = types.StringNull()
	return nil
}

func (r *secretResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m secretModel
	var wo types.String
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("value_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.write(ctx, &m, wo); err != nil {
		resp.Diagnostics.AddError("azurerm_key_vault_secret (stand-in)", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Read follows the latest version and, for a secret given by value, reads
// the value back, as azurerm does: a version written by anyone else shows
// as a change the next apply reverts.
func (r *secretResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m secretModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	v, err := r.c.vault(m.KeyVaultID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("azurerm_key_vault_secret (stand-in)", err.Error())
		return
	}
	s, err := v.LatestSecret(ctx, m.Name.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("azurerm_key_vault_secret (stand-in)", err.Error())
		return
	}
	if s.Status != keyvault.SecretExists {
		resp.State.RemoveResource(ctx)
		return
	}
	if !m.Value.IsNull() {
		m.Value = types.StringValue(s.Value)
	}
	m.ID = types.StringValue(s.ID + "/" + s.Version)
	m.Version = types.StringValue(s.Version)
	m.VersionlessID = types.StringValue(s.ID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *secretResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m secretModel
	var wo types.String
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("value_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.write(ctx, &m, wo); err != nil {
		resp.Diagnostics.AddError("azurerm_key_vault_secret (stand-in)", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Delete deletes the secret and purges it, as azurerm's default
// purge_soft_delete_on_destroy does: its versions are gone for good.
func (r *secretResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m secretModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	v, err := r.c.vault(m.KeyVaultID.ValueString())
	if err == nil {
		_, err = v.Client().DeleteSecret(ctx, m.Name.ValueString(), nil)
	}
	if err == nil {
		_, err = v.Client().PurgeDeletedSecret(ctx, m.Name.ValueString(), nil)
	}
	if err != nil {
		resp.Diagnostics.AddError("azurerm_key_vault_secret (stand-in)", err.Error())
	}
}

// ---------------------------------------------------------------------------
// random_password

type passwordResource struct{}

type passwordModel struct {
	ID      types.String `tfsdk:"id"`
	Length  types.Int64  `tfsdk:"length"`
	Special types.Bool   `tfsdk:"special"`
	Keepers types.Map    `tfsdk:"keepers"`
	Result  types.String `tfsdk:"result"`
}

func (r *passwordResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "random_password"
}

func (r *passwordResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":      schema.StringAttribute{Computed: true, PlanModifiers: keep},
		"length":  schema.Int64Attribute{Required: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()}},
		"special": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true), PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()}},
		"keepers": schema.MapAttribute{Optional: true, ElementType: types.StringType, PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()}},
		"result":  schema.StringAttribute{Computed: true, Sensitive: true, PlanModifiers: keep},
	}}
}

func (r *passwordResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m passwordModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	chars := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	if m.Special.ValueBool() {
		chars += "!#%&*()-_=+[]{}<>:?"
	}
	var b strings.Builder
	for i := int64(0); i < m.Length.ValueInt64(); i++ {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			resp.Diagnostics.AddError("random_password (stand-in)", err.Error())
			return
		}
		b.WriteByte(chars[n.Int64()])
	}
	m.ID = types.StringValue("none")
	m.Result = types.StringValue(b.String())
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *passwordResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (r *passwordResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {
}

func (r *passwordResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// ---------------------------------------------------------------------------
// time_rotating

type rotatingResource struct{}

type rotatingModel struct {
	ID              types.String `tfsdk:"id"`
	RotationDays    types.Int64  `tfsdk:"rotation_days"`
	RFC3339         types.String `tfsdk:"rfc3339"`
	RotationRFC3339 types.String `tfsdk:"rotation_rfc3339"`
}

func (r *rotatingResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "time_rotating"
}

func (r *rotatingResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":               schema.StringAttribute{Computed: true, PlanModifiers: keep},
		"rotation_days":    schema.Int64Attribute{Required: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()}},
		"rfc3339":          schema.StringAttribute{Computed: true, PlanModifiers: keep},
		"rotation_rfc3339": schema.StringAttribute{Computed: true, PlanModifiers: keep},
	}}
}

func (r *rotatingResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m rotatingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	m.ID = types.StringValue(now.Format(time.RFC3339))
	m.RFC3339 = m.ID
	m.RotationRFC3339 = types.StringValue(now.AddDate(0, 0, int(m.RotationDays.ValueInt64())).Format(time.RFC3339))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Read removes the resource once its rotation time has passed, as
// hashicorp/time does, so the next plan creates it again.
func (r *rotatingResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m rotatingModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if at, err := time.Parse(time.RFC3339, m.RotationRFC3339.ValueString()); err == nil && !time.Now().Before(at) {
		resp.State.RemoveResource(ctx)
	}
}

func (r *rotatingResource) Update(context.Context, resource.UpdateRequest, *resource.UpdateResponse) {
}

func (r *rotatingResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}
