package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
)

var (
	_ resource.Resource                   = (*credentialResource)(nil)
	_ resource.ResourceWithValidateConfig = (*credentialResource)(nil)
	_ resource.ResourceWithIdentity       = (*credentialResource)(nil)
	_ resource.ResourceWithImportState    = (*credentialResource)(nil)
)

// NewCredentialResource returns the segura_credential resource.
func NewCredentialResource() resource.Resource {
	return &credentialResource{stateOnlyResource{name: "segura_credential"}}
}

// credentialResource registers a managed account on a device. It touches
// nothing remote by itself; segura_credential_rotation changes its password.
type credentialResource struct {
	stateOnlyResource
}

// credentialResourceModel holds the credentialRef fields (embedded, so the
// reference shape and the resource cannot drift) plus the fields no
// downstream resource needs.
type credentialResourceModel struct {
	credentialRef
	Parent      types.Object `tfsdk:"parent"`
	Description types.String `tfsdk:"description"`
	Tags        types.Map    `tfsdk:"tags"`
}

func (r *credentialResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential"
	// The device's address may change in place (a host migration).
	resp.ResourceBehavior.MutableIdentity = true
}

func (r *credentialResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = credentialIdentitySchema()
}

// Create, Read and Update are the state-only resource's, plus the identity.

func (r *credentialResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.stateOnlyResource.Create(ctx, req, resp)
	resp.Diagnostics.Append(setCredentialIdentity(ctx, resp.Identity, resp.State)...)
}

func (r *credentialResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	r.stateOnlyResource.Read(ctx, req, resp)
	resp.Diagnostics.Append(setCredentialIdentity(ctx, resp.Identity, resp.State)...)
}

func (r *credentialResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.stateOnlyResource.Update(ctx, req, resp)
	resp.Diagnostics.Append(setCredentialIdentity(ctx, resp.Identity, resp.State)...)
}

// ImportState takes the account, `user@authdb on host:port[,host:port]`
// (the segura-credential tag on the secrets the provider writes), or an
// identity. The device is recorded by its seed list until the configuration
// passes the segura_device.
func (r *credentialResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importCredential(ctx, req, resp)
}

// databaseNamePattern follows MongoDB's naming restrictions for databases on
// Linux and Windows deployments: 1-63 bytes, none of /\. "$*<>:|? .
var databaseNamePattern = regexp.MustCompile(`^[^/\\. "$*<>:|?\x00]{1,63}$`)

// usernamePattern: MongoDB accepts almost any string; control characters and
// surrounding whitespace are always mistakes.
var usernamePattern = regexp.MustCompile(`^[^\s\x00-\x1f](?:[^\x00-\x1f]{0,254}[^\s\x00-\x1f])?$`)

func (r *credentialResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	device := deviceRefAttribute("The device the account lives on, passed as the whole resource: `device = segura_device.example`. "+
		"Pointing the credential at a different device replaces it.", true)
	device.PlanModifiers = []planmodifier.Object{
		objectplanmodifier.RequiresReplaceIf(deviceChanged,
			"A different device means a different account.",
			"A different device means a different account."),
	}

	resp.Schema = schema.Schema{
		MarkdownDescription: "A managed account on a device: a MongoDB user whose password the provider rotates. " +
			"It touches nothing remote by itself; `segura_credential_rotation` changes the password and " +
			"`segura_keyvault_sync` binds it to Key Vault secrets. The password is never stored in Terraform state.",
		Attributes: map[string]schema.Attribute{
			"id":     randomIDAttribute("credential"),
			"device": device,
			"username": schema.StringAttribute{
				MarkdownDescription: "MongoDB user name. Changing it replaces the credential.",
				Required:            true,
				Validators: []validator.String{stringvalidator.RegexMatches(usernamePattern,
					"must be 1-256 characters without control characters or leading/trailing whitespace")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"auth_database": schema.StringAttribute{
				MarkdownDescription: "Database the user is defined in (`authSource`). Defaults to `admin`. Changing it replaces the credential.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(mongodb.DefaultAuthSource),
				Validators: []validator.String{stringvalidator.RegexMatches(databaseNamePattern,
					`must be a MongoDB database name: 1-63 characters, none of / \ . " $ * < > : | ? or space`)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"mechanism": schema.StringAttribute{
				MarkdownDescription: "SCRAM mechanism used to log in and to store the rotated password: `SCRAM-SHA-256` (default) or `SCRAM-SHA-1`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(mongodb.MechanismSCRAMSHA256),
				Validators:          []validator.String{stringvalidator.OneOf(mongodb.Mechanisms...)},
			},
			"parent": credentialRefAttribute("Optional credential, on the same device, that changes this one's password "+
				"(an administrator with `changePassword` on the user's database), passed as the whole resource: "+
				"`parent = segura_credential.admin`. Without it the credential changes its own password.", false),
			"description": schema.StringAttribute{
				MarkdownDescription: "What the account is for.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtMost(1024)},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Free-form inventory tags.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators: []validator.Map{
					mapvalidator.KeysAre(stringvalidator.RegexMatches(tagKeyPattern, "must be 1-512 characters without control characters")),
				},
			},
		},
	}
	resp.Schema.Attributes = objectReferences(resp.Schema.Attributes)
}

// deviceChanged requires replacement when the credential moves to another
// device: a planned device id that differs from the state's, or is not known
// yet because the device itself is being replaced.
func deviceChanged(ctx context.Context, req planmodifier.ObjectRequest, resp *objectplanmodifier.RequiresReplaceIfFuncResponse) {
	if req.StateValue.IsNull() || req.PlanValue.IsNull() {
		return
	}
	planned, current := refID(req.PlanValue), refID(req.StateValue)
	if placeholder, ok := importedDevice(ctx, req.StateValue); ok {
		// Just imported: the state knows the device only by its seed list,
		// so the configured device is the same one if it connects there.
		if dev, ok, _ := refFromObject[deviceRef](ctx, req.PlanValue); ok && dev.connectionKnown() {
			hosts, d := dev.seedList(ctx)
			resp.RequiresReplace = d.HasError() || strings.Join(hosts, ",") != placeholder
			return
		}
	}
	resp.RequiresReplace = planned.IsUnknown() || !planned.Equal(current)
}

// importedDevice reports whether a device object is the placeholder that
// import (or a listing) records, whose id is its own seed list, and returns
// that seed list.
func importedDevice(ctx context.Context, obj types.Object) (string, bool) {
	dev, ok, _ := refFromObject[deviceRef](ctx, obj)
	if !ok || !dev.connectionKnown() || dev.ID.IsUnknown() {
		return "", false
	}
	hosts, d := dev.seedList(ctx)
	seed := strings.Join(hosts, ",")
	return seed, !d.HasError() && dev.ID.ValueString() == seed
}

// ValidateConfig checks the parent: on the same device, and not the
// credential itself.
func (r *credentialResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg credentialResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.Parent.IsNull() || cfg.Parent.IsUnknown() || cfg.Device.IsNull() || cfg.Device.IsUnknown() {
		return
	}
	parent, ok, diags := refFromObject[credentialRef](ctx, cfg.Parent)
	resp.Diagnostics.Append(diags...)
	if !ok {
		return
	}
	dev, ok1, d1 := cfg.device(ctx)
	parentDev, ok2, d2 := parent.device(ctx)
	resp.Diagnostics.Append(d1...)
	resp.Diagnostics.Append(d2...)
	if !ok1 || !ok2 || resp.Diagnostics.HasError() {
		return
	}
	if differ, why := differentDevices(ctx, dev, parentDev); differ {
		resp.Diagnostics.AddAttributeError(path.Root("parent").AtName("device"), "Parent credential on another device",
			fmt.Sprintf("segura_credential %q: parent must be a credential on the same device, because it logs in to this device to change the password; %s. "+
				"Use an administrator credential registered on device %q.", cfg.Username.ValueString(), why, dev.Name.ValueString()))
		return
	}
	sameAccount := !cfg.Username.IsUnknown() && !parent.Username.IsUnknown() && !cfg.AuthDatabase.IsUnknown() && !parent.AuthDatabase.IsUnknown() &&
		cfg.Username.ValueString() == parent.Username.ValueString() && cfg.authDatabase() == parent.authDatabase()
	if sameAccount {
		resp.Diagnostics.AddAttributeError(path.Root("parent"), "Credential is its own parent",
			fmt.Sprintf("segura_credential %q: parent is the same account (%s@%s); remove parent to let the credential change its own password.",
				cfg.Username.ValueString(), cfg.Username.ValueString(), cfg.authDatabase()))
	}
}

// differentDevices decides, from what is known at plan time, whether two
// device references name different devices: by id when both are known, else
// by where they connect.
func differentDevices(ctx context.Context, a, b deviceRef) (bool, string) {
	if !a.ID.IsUnknown() && !b.ID.IsUnknown() {
		if a.ID.ValueString() != b.ID.ValueString() {
			return true, fmt.Sprintf("the credential is on device %q (id %s) and the parent on device %q (id %s)",
				a.Name.ValueString(), a.ID.ValueString(), b.Name.ValueString(), b.ID.ValueString())
		}
		return false, ""
	}
	if !a.connectionKnown() || !b.connectionKnown() {
		return false, ""
	}
	ah, d1 := a.seedList(ctx)
	bh, d2 := b.seedList(ctx)
	if d1.HasError() || d2.HasError() {
		return false, ""
	}
	slices.Sort(ah)
	slices.Sort(bh)
	if !slices.Equal(ah, bh) || a.ReplicaSet.ValueString() != b.ReplicaSet.ValueString() {
		return true, fmt.Sprintf("the credential's device %q connects to %v and the parent's device %q to %v",
			a.Name.ValueString(), ah, b.Name.ValueString(), bh)
	}
	return false, ""
}
