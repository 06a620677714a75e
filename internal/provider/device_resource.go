package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
)

// deviceTypeMongoDB is the only device type so far. The type attribute exists
// so other database engines can be added without a schema break.
const deviceTypeMongoDB = "mongodb"

var (
	_ resource.Resource                     = (*deviceResource)(nil)
	_ resource.ResourceWithConfigure        = (*deviceResource)(nil)
	_ resource.ResourceWithConfigValidators = (*deviceResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*deviceResource)(nil)
)

// NewDeviceResource returns the segura_device resource.
func NewDeviceResource() resource.Resource {
	return &deviceResource{stateOnlyResource: stateOnlyResource{name: "segura_device"}}
}

// deviceResource registers a managed system (a MongoDB deployment). It has no
// remote object of its own: Terraform state is its store. With
// probe_on_create it checks that the deployment answers hello.
type deviceResource struct {
	stateOnlyResource
	mongo *mongodb.Pool
}

// deviceResourceModel holds every deviceRef field (embedded, so the
// reference shape and the resource cannot drift) plus the inventory fields
// no downstream resource needs.
type deviceResourceModel struct {
	deviceRef
	Site          types.String `tfsdk:"site"`
	Vendor        types.String `tfsdk:"vendor"`
	Model         types.String `tfsdk:"model"`
	Tags          types.Map    `tfsdk:"tags"`
	ProbeOnCreate types.Bool   `tfsdk:"probe_on_create"`
}

func (r *deviceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_device"
}

// replicaSetNamePattern follows mongod's --replSet rules: no '/', no
// whitespace, non-empty.
var replicaSetNamePattern = regexp.MustCompile(`^[^/\s]+$`)

// tagKeyPattern keeps inventory tags portable to Key Vault tags: non-empty
// and without control characters.
var tagKeyPattern = regexp.MustCompile(`^[^\x00-\x1f]{1,512}$`)

func (r *deviceResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A managed system: a MongoDB deployment (standalone server or replica set) whose accounts the provider rotates. " +
			"The device has no remote object of its own; Terraform state is its store, and credentials receive it as a whole object " +
			"(`device = segura_device.example`). With `probe_on_create` the provider checks that the deployment answers `hello` " +
			"(no credentials) when the device is created or its connection settings change.",
		Attributes: map[string]schema.Attribute{
			"id": randomIDAttribute("device"),
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the device in the inventory, e.g. `orders-db-prod`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"type": schema.StringAttribute{
				MarkdownDescription: "Kind of system. Only `mongodb` is supported today. Changing it replaces the device.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(deviceTypeMongoDB),
				Validators:          []validator.String{stringvalidator.OneOf(deviceTypeMongoDB)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"address": schema.StringAttribute{
				MarkdownDescription: "Host name or IP address of a single server, optionally with `:port` (`db.example.com` or `10.0.0.5:27018`). " +
					"Exactly one of `address` and `hosts` must be set.",
				Optional:   true,
				Validators: []validator.String{hostValidator{}},
			},
			"hosts": schema.ListAttribute{
				MarkdownDescription: "Seed list: `host` or `host:port` entries of the members of a replica set (with `replica_set`) or of the `mongos` routers of a sharded cluster. Exactly one of `address` and `hosts` must be set.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators: []validator.List{
					listvalidator.SizeBetween(1, 50),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(hostValidator{}),
				},
			},
			"port": schema.Int64Attribute{
				MarkdownDescription: "Port for every host given without one. Defaults to `27017`.",
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(mongodb.DefaultPort),
				Validators:          []validator.Int64{int64validator.Between(1, 65535)},
			},
			"replica_set": schema.StringAttribute{
				MarkdownDescription: "Replica set name (`replicaSet` in a connection string). Leave unset for a standalone server.",
				Optional:            true,
				Validators: []validator.String{stringvalidator.RegexMatches(replicaSetNamePattern,
					"must be a replica set name: no slash, no whitespace")},
			},
			"tls": schema.BoolAttribute{
				MarkdownDescription: "Connect with TLS. Defaults to `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"tls_ca_file": schema.StringAttribute{
				MarkdownDescription: "PEM bundle of the CAs that sign the servers' certificates; only these are trusted, instead of the system roots. Defaults to the provider's `mongodb.ca_cert_file`, then the system roots. Requires `tls = true`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"tls_insecure_skip_verify": schema.BoolAttribute{
				MarkdownDescription: "Skip verification of the servers' certificates. **Unsafe**: anyone on the network path can then impersonate the deployment and capture the passwords a rotation sends; every plan warns while it is set. For break-glass use only; prefer `tls_ca_file`. Requires `tls = true`. Defaults to `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"site": schema.StringAttribute{
				MarkdownDescription: "Where the device runs (data centre, region, cluster).",
				Optional:            true,
			},
			"vendor": schema.StringAttribute{
				MarkdownDescription: "Vendor of the system, e.g. `MongoDB Inc.` or `Percona`.",
				Optional:            true,
			},
			"model": schema.StringAttribute{
				MarkdownDescription: "Product or version, e.g. `MongoDB 8.0 Enterprise`.",
				Optional:            true,
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Free-form inventory tags.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators: []validator.Map{
					mapvalidator.KeysAre(stringvalidator.RegexMatches(tagKeyPattern, "must be 1-512 characters without control characters")),
				},
			},
			"probe_on_create": schema.BoolAttribute{
				MarkdownDescription: "Send `hello` (without credentials) to every host when the device is created or its connection settings change, " +
					"and fail the apply unless at least one host answers and belongs to `replica_set` (or to no replica set when it is unset). Defaults to `false`.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
		},
	}
}

func (r *deviceResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("address"), path.MatchRoot("hosts")),
	}
}

// ValidateConfig checks the rules that span attributes.
func (r *deviceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg deviceResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tlsOff := !cfg.TLS.IsUnknown() && !cfg.TLS.ValueBool()
	if tlsOff && !cfg.TLSCAFile.IsNull() && !cfg.TLSCAFile.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("tls_ca_file"), "TLS setting without TLS",
			"segura_device: tls_ca_file is set but tls is false; set tls = true or remove tls_ca_file.")
	}
	if tlsOff && cfg.TLSInsecureSkipVerify.ValueBool() {
		resp.Diagnostics.AddAttributeError(path.Root("tls_insecure_skip_verify"), "TLS setting without TLS",
			"segura_device: tls_insecure_skip_verify is true but tls is false; set tls = true or remove tls_insecure_skip_verify.")
	}
	if cfg.TLSInsecureSkipVerify.ValueBool() && !cfg.TLSCAFile.IsNull() && !cfg.TLSCAFile.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("tls_insecure_skip_verify"), "Conflicting TLS settings",
			"segura_device: tls_insecure_skip_verify = true ignores tls_ca_file; remove one of them.")
	}
	if cfg.TLSInsecureSkipVerify.ValueBool() && !tlsOff {
		// Loud on every plan: rotations send the old and the new password
		// over these connections.
		resp.Diagnostics.AddAttributeWarning(path.Root("tls_insecure_skip_verify"), "TLS certificate verification is OFF",
			fmt.Sprintf("segura_device %q: tls_insecure_skip_verify = true makes the provider accept any certificate from this MongoDB deployment, "+
				"so anyone on the network path can impersonate it and capture the passwords a rotation sends. Use it only to break glass; "+
				"set tls_ca_file to the CA that signs the servers' certificates instead.", cfg.Name.ValueString()))
	}
}

func (r *deviceResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if data := providerDataFrom(req.ProviderData, &resp.Diagnostics); data != nil {
		r.mongo = data.MongoDB
	}
}

// Create probes the deployment when probe_on_create asks for it, then
// records the device under a random id.
func (r *deviceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan deviceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.ProbeOnCreate.ValueBool() {
		if resp.Diagnostics.Append(r.probe(ctx, plan)...); resp.Diagnostics.HasError() {
			return
		}
	}
	r.stateOnlyResource.Create(ctx, req, resp)
}

// Update probes again when the connection settings change.
func (r *deviceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state deviceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.ProbeOnCreate.ValueBool() && !sameConnection(plan.deviceRef, state.deviceRef) {
		if resp.Diagnostics.Append(r.probe(ctx, plan)...); resp.Diagnostics.HasError() {
			return
		}
	}
	r.stateOnlyResource.Update(ctx, req, resp)
}

func (r *deviceResource) probe(ctx context.Context, m deviceResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	dep, d := m.deployment(ctx)
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	if r.mongo == nil {
		diags.AddError("Provider not configured", "segura_device: the MongoDB client pool is missing; this is a bug in the segura provider.")
		return diags
	}
	if err := r.mongo.Probe(ctx, dep); err != nil {
		diags.AddError("MongoDB device did not answer",
			fmt.Sprintf("segura_device %q: the reachability probe (hello, no credentials) failed: %v\n\n"+
				"Check the address or hosts, port, replica_set and TLS settings, and that this machine can reach the servers; "+
				"or set probe_on_create = false to register the device without checking it.", m.Name.ValueString(), err))
	}
	return diags
}

// sameConnection reports whether two device states reach the same deployment.
func sameConnection(a, b deviceRef) bool {
	return a.Address.Equal(b.Address) && a.Hosts.Equal(b.Hosts) && a.Port.Equal(b.Port) &&
		a.ReplicaSet.Equal(b.ReplicaSet) && a.TLS.Equal(b.TLS) && a.TLSCAFile.Equal(b.TLSCAFile) &&
		a.TLSInsecureSkipVerify.Equal(b.TLSInsecureSkipVerify)
}

// hostValidator accepts "host" or "host:port" (IPv6 in brackets), and rejects
// connection strings, which users paste by habit.
type hostValidator struct{}

func (hostValidator) Description(context.Context) string {
	return "must be a host name or IP address, optionally followed by :port"
}

func (v hostValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v hostValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := checkHost(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid host", fmt.Sprintf("Attribute %s %s", req.Path, msg))
	}
}

// hostNamePattern is a DNS name or IPv4 address (labels of letters, digits,
// hyphens and underscores, as seen in container and SRV-derived names).
var hostNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$`)

func checkHost(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if strings.Contains(s, "://") || strings.Contains(s, "@") {
		return fmt.Sprintf("must be a host, not a connection string (got %q); put credentials on segura_credential and options on the device's attributes", s)
	}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
		return fmt.Sprintf("must bracket an IPv6 address, e.g. [%s] or [%s]:27017 (got %q)", s, s, s)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if port != "" {
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return fmt.Sprintf("has port %q, want a number from 1 to 65535 (got %q)", port, s)
		}
	}
	if net.ParseIP(host) == nil && !hostNamePattern.MatchString(host) {
		return fmt.Sprintf("must be a host name or IP address, optionally followed by :port (got %q)", s)
	}
	return ""
}
