package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
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
		MarkdownDescription: "A managed system: a MongoDB deployment (standalone server, replica set or sharded cluster, given as a seed list or a " +
			"`mongodb+srv://` name) whose accounts the provider rotates. " +
			"The device has no remote object of its own; Terraform state is its store, and credentials receive it as a whole object " +
			"(`device = segura_device.example`). With `probe_on_create` the provider checks that the deployment answers `hello` " +
			"(no credentials) when the device is created or its connection settings change.\n\n" +
			"Hosted services are recognised by their host names at plan time: MongoDB Atlas (`*.mongodb.net`) and Azure Cosmos DB for MongoDB RU " +
			"(`*.mongo.cosmos.azure.com`) manage passwords in their own control planes, so planning such a device fails and names the vendor API to use " +
			"instead; Azure DocumentDB / Cosmos DB for MongoDB vCore (`*.mongocluster.cosmos.azure.com`) and Amazon DocumentDB (`*.docdb.amazonaws.com`) " +
			"work under conditions every plan repeats as a warning. See the [MongoDB setup guide](../guides/mongodb-setup.md).",
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
					"Exactly one of `address`, `hosts` and `srv_host` must be set.",
				Optional:   true,
				Validators: []validator.String{hostValidator{}},
			},
			"hosts": schema.ListAttribute{
				MarkdownDescription: "Seed list: `host` or `host:port` entries of the members of a replica set (with `replica_set`) or of the `mongos` routers of a sharded cluster. Exactly one of `address`, `hosts` and `srv_host` must be set.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators: []validator.List{
					listvalidator.SizeBetween(1, 50),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(hostValidator{}),
				},
			},
			"srv_host": schema.StringAttribute{
				MarkdownDescription: "DNS name of a `mongodb+srv://` seed list, e.g. `cluster0.example.net`, without a port: the MongoDB driver looks up its SRV records " +
					"(`_mongodb._tcp.<srv_host>`, or the `srvServiceName` option's service) for the servers and their ports, and its TXT record for `replicaSet`, " +
					"`authSource` and `loadBalanced`, at every connection, as every MongoDB driver does; `replica_set` overrides the TXT record's, and the credential's " +
					"`auth_database` its `authSource`. TLS is on unless `tls = false`. Exactly one of `address`, `hosts` and `srv_host` must be set.",
				Optional:   true,
				Validators: []validator.String{srvHostValidator{}},
			},
			"port": schema.Int64Attribute{
				MarkdownDescription: "Port for every host given without one. Defaults to `27017`. Not with `srv_host`, whose SRV records give the ports.",
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
				MarkdownDescription: "Connect with TLS. Defaults to `true` with `srv_host` (as `mongodb+srv://` does), else `false`. Without TLS, every rotation " +
					"sends the new password in the clear (`updateUser` carries it as it is; only the SCRAM login does not), so every plan warns for a device " +
					"that is not on the loopback interface.",
				Optional:      true,
				Computed:      true,
				PlanModifiers: []planmodifier.Bool{tlsDefault{}},
			},
			"tls_ca_file": schema.StringAttribute{
				MarkdownDescription: "PEM bundle of the CAs that sign the servers' certificates; only these are trusted, instead of the system roots. Defaults to the provider's `mongodb.ca_cert_file`, then the system roots. Requires `tls = true`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"tls_certificate_key_file": schema.StringAttribute{
				MarkdownDescription: "PEM file holding a client certificate and its unencrypted private key, presented to the servers (as mongod's and the drivers' " +
					"`tlsCertificateKeyFile`), for deployments that require client certificates (`net.tls.mode` with `CAFile` and no `allowConnectionsWithoutCertificates`). " +
					"The provider still logs in with the credential's SCRAM password. Read when planning: an unreadable file, or one without both a certificate and its key, " +
					"fails the plan. It is a path on the machine running Terraform and is not written into connection strings. Requires `tls = true`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"tls_insecure_skip_verify": schema.BoolAttribute{
				MarkdownDescription: "Skip verification of the servers' certificates. **Unsafe**: anyone on the network path can then impersonate the deployment and capture the passwords a rotation sends; every plan warns while it is set. For break-glass use only; prefer `tls_ca_file`, or `tls_allow_invalid_hostnames` when only the host name does not match. Requires `tls = true`. Defaults to `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"tls_allow_invalid_hostnames": schema.BoolAttribute{
				MarkdownDescription: "Verify the servers' certificate chains against the trusted CAs (`tls_ca_file`, the provider's `mongodb.ca_cert_file` or the system roots) " +
					"but not that a certificate names the host connected to (`tlsAllowInvalidHostnames`), e.g. for servers reached by IP address or through a tunnel. " +
					"A narrower break-glass than `tls_insecure_skip_verify`: only a holder of a certificate from a trusted CA can impersonate the deployment. " +
					"Certificate revocation (OCSP) is not checked then. Every plan warns while it is set. Requires `tls = true`. Defaults to `false`.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"options": schema.MapAttribute{
				MarkdownDescription: "Extra connection string options for the connection strings applications get (`value_format = \"connection_string\"` of " +
					"`segura_keyvault_sync`, and the `options` field of the `json` format), e.g. `{ retryWrites = \"false\", w = \"majority\" }`. Names are " +
					"case-insensitive; each option and all of them together are checked at plan as the MongoDB Go driver parses them. Accepted: " +
					optionList(mongodb.OptionNames()) + ". The provider's own client applies only " + optionList(mongodb.ProviderOptionNames()) +
					", which decide how the deployment is reached; it sets the rest itself (`retryWrites` stays `false`, writes are `w: \"majority\"`, reads and " +
					"logins go to the primary, its own timeouts and `appName`). Not accepted: `replicaSet`, `tls` and `authSource`, which come from `replica_set`, " +
					"`tls` and the credential's `auth_database`; the verification bypasses and key passwords. `authMechanism` may only name a SCRAM mechanism.",
				ElementType: types.StringType,
				Optional:    true,
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
	return []resource.ConfigValidator{seedListValidator{}}
}

// seedListValidator requires exactly one of address, hosts and srv_host:
// without srv_host it is the framework's ExactlyOneOf(address, hosts), with
// its messages, and a hint at srv_host.
type seedListValidator struct{}

func (seedListValidator) Description(context.Context) string {
	return "exactly one of address, hosts and srv_host must be set"
}

func (v seedListValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (seedListValidator) ValidateResource(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var srv types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("srv_host"), &srv)...)
	if resp.Diagnostics.HasError() || srv.IsUnknown() {
		return
	}
	if srv.IsNull() {
		var inner resource.ValidateConfigResponse
		resourcevalidator.ExactlyOneOf(path.MatchRoot("address"), path.MatchRoot("hosts")).ValidateResource(ctx, req, &inner)
		const hint = " Or set srv_host to the host name of a mongodb+srv:// seed list."
		for _, d := range inner.Diagnostics {
			switch dp, ok := d.(diag.DiagnosticWithPath); {
			case d.Severity() != diag.SeverityError:
				resp.Diagnostics.Append(d)
			case ok:
				resp.Diagnostics.AddAttributeError(dp.Path(), d.Summary(), d.Detail()+"."+hint)
			default:
				resp.Diagnostics.AddError(d.Summary(), d.Detail()+"."+hint)
			}
		}
		return
	}
	for _, a := range []string{"address", "hosts"} {
		var v attr.Value
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(a), &v)...)
		if v != nil && !v.IsNull() && !v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(a), "Conflicting seed lists",
				fmt.Sprintf("segura_device: %s and srv_host are both set, but a mongodb+srv:// seed list comes from DNS. "+
					"Exactly one of address, hosts and srv_host must be set: remove %s or srv_host.", a, a))
		}
	}
}

// tlsDefault makes tls default to true when srv_host is set, as the
// mongodb+srv:// scheme does, and to false otherwise.
type tlsDefault struct{}

func (tlsDefault) Description(context.Context) string {
	return "defaults to true with srv_host, else false"
}

func (m tlsDefault) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (tlsDefault) PlanModifyBool(ctx context.Context, req planmodifier.BoolRequest, resp *planmodifier.BoolResponse) {
	if !req.ConfigValue.IsNull() {
		return
	}
	var srv types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("srv_host"), &srv)...)
	if srv.IsUnknown() {
		resp.PlanValue = types.BoolUnknown()
		return
	}
	resp.PlanValue = types.BoolValue(!srv.IsNull())
}

// optionList renders option names for the schema description.
func optionList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "`" + n + "`"
	}
	return strings.Join(quoted, ", ")
}

// ValidateConfig checks the rules that span attributes, reads the client
// certificate file, names the hosted service the hosts belong to, and warns
// on every plan about connections that expose the passwords a rotation
// sends.
func (r *deviceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg deviceResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := cfg.Name.ValueString()
	set := func(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }
	tlsKnown, tlsOn := cfg.effectiveTLS()
	tlsKnownOff := tlsKnown && !tlsOn

	// TLS settings need TLS.
	if tlsKnownOff {
		for _, a := range []struct {
			name string
			val  attr.Value
			on   bool
		}{
			{"tls_ca_file", cfg.TLSCAFile, set(cfg.TLSCAFile)},
			{"tls_certificate_key_file", cfg.TLSCertificateKeyFile, set(cfg.TLSCertificateKeyFile)},
			{"tls_insecure_skip_verify", cfg.TLSInsecureSkipVerify, cfg.TLSInsecureSkipVerify.ValueBool()},
			{"tls_allow_invalid_hostnames", cfg.TLSAllowInvalidHosts, cfg.TLSAllowInvalidHosts.ValueBool()},
		} {
			if !a.on {
				continue
			}
			what := a.name + " is set"
			if _, isBool := a.val.(types.Bool); isBool {
				what = a.name + " is true"
			}
			resp.Diagnostics.AddAttributeError(path.Root(a.name), "TLS setting without TLS",
				fmt.Sprintf("segura_device: %s but tls is false; set tls = true or remove %s.", what, a.name))
		}
	}
	if cfg.TLSInsecureSkipVerify.ValueBool() && set(cfg.TLSCAFile) {
		resp.Diagnostics.AddAttributeError(path.Root("tls_insecure_skip_verify"), "Conflicting TLS settings",
			"segura_device: tls_insecure_skip_verify = true ignores tls_ca_file; remove one of them.")
	}
	if cfg.TLSInsecureSkipVerify.ValueBool() && cfg.TLSAllowInvalidHosts.ValueBool() {
		resp.Diagnostics.AddAttributeError(path.Root("tls_allow_invalid_hostnames"), "Conflicting TLS settings",
			"segura_device: tls_insecure_skip_verify = true skips all certificate verification, host names included; "+
				"keep tls_allow_invalid_hostnames (the chain is still verified) and remove tls_insecure_skip_verify.")
	}
	if cfg.TLSInsecureSkipVerify.ValueBool() && !tlsKnownOff {
		// Loud on every plan: rotations send the old and the new password
		// over these connections.
		resp.Diagnostics.AddAttributeWarning(path.Root("tls_insecure_skip_verify"), "TLS certificate verification is OFF",
			fmt.Sprintf("segura_device %q: tls_insecure_skip_verify = true makes the provider accept any certificate from this MongoDB deployment, "+
				"so anyone on the network path can impersonate it and capture the passwords a rotation sends. Use it only to break glass; "+
				"set tls_ca_file to the CA that signs the servers' certificates instead.", name))
	}
	if cfg.TLSAllowInvalidHosts.ValueBool() && !cfg.TLSInsecureSkipVerify.ValueBool() && !tlsKnownOff {
		resp.Diagnostics.AddAttributeWarning(path.Root("tls_allow_invalid_hostnames"), "TLS host name verification is OFF",
			fmt.Sprintf("segura_device %q: tls_allow_invalid_hostnames = true accepts a server certificate for any host name, as long as a trusted CA "+
				"signed it, so whoever holds such a certificate can impersonate this deployment and capture the passwords a rotation sends. "+
				"Use it only to break glass; give the servers certificates that name the hosts the device connects to instead.", name))
	}

	// srv_host takes its ports from DNS.
	if set(cfg.SRVHost) && set(cfg.Port) {
		resp.Diagnostics.AddAttributeError(path.Root("port"), "Port with an SRV seed list",
			fmt.Sprintf("segura_device: port is set, but srv_host %q takes every server's port from its SRV records; remove port.", cfg.SRVHost.ValueString()))
	}

	// The client certificate must load, as it will when connecting. (With
	// tls not known yet, the plan of the apply checks it.)
	if set(cfg.TLSCertificateKeyFile) && tlsKnown && tlsOn {
		if cert, err := mongodb.LoadClientCertificate(cfg.TLSCertificateKeyFile.ValueString()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("tls_certificate_key_file"), "Unusable TLS client certificate",
				fmt.Sprintf("segura_device %s: tls_certificate_key_file cannot be used: %v. Point it at a PEM file, readable by the user running Terraform, "+
					"that holds the client certificate and its unencrypted private key (as mongod's tlsCertificateKeyFile).", cfg.Name, err))
		} else if cert.Leaf != nil && time.Now().After(cert.Leaf.NotAfter) {
			resp.Diagnostics.AddAttributeWarning(path.Root("tls_certificate_key_file"), "TLS client certificate expired",
				fmt.Sprintf("segura_device %q: the certificate in tls_certificate_key_file expired on %s; servers that check client certificates will refuse it. Renew it.",
					name, cert.Leaf.NotAfter.UTC().Format(time.RFC3339)))
		}
	}

	// Options: each name and value, then all together.
	optionsOK := r.validateOptions(cfg, resp)
	if optionsOK && cfg.connectionKnown() && !resp.Diagnostics.HasError() {
		if dep, d := cfg.deployment(ctx); tlsKnown && !d.HasError() && (len(dep.Hosts) > 0 || dep.IsSRV()) {
			dep.TLS = tlsOn
			if err := mongodb.CheckOptions(dep); err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("options"), "Invalid connection string options",
					fmt.Sprintf("segura_device %s: %v. Change or remove the options concerned.", cfg.Name, err))
			}
		}
	}

	r.validateHostedService(cfg, resp)
	r.warnCleartext(ctx, cfg, tlsKnown, tlsOn, resp)
}

// effectiveTLS is tls as it will be planned: the configured value, else
// true with srv_host and false without. known is false while that depends
// on a value not known yet.
func (m deviceResourceModel) effectiveTLS() (known, on bool) {
	switch {
	case m.TLS.IsUnknown():
		return false, false
	case !m.TLS.IsNull():
		return true, m.TLS.ValueBool()
	case m.SRVHost.IsUnknown():
		return false, false
	default:
		return true, !m.SRVHost.IsNull()
	}
}

// validateOptions checks every option's name and value; it reports whether
// all the known ones are valid.
func (r *deviceResource) validateOptions(cfg deviceResourceModel, resp *resource.ValidateConfigResponse) bool {
	if cfg.Options.IsNull() || cfg.Options.IsUnknown() {
		return true
	}
	ok := true
	keys := make([]string, 0, len(cfg.Options.Elements()))
	for k := range cfg.Options.Elements() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	seen := map[string]string{}
	for _, k := range keys {
		p := path.Root("options").AtMapKey(k)
		canonical, err := mongodb.CanonicalOption(k)
		if err != nil {
			ok = false
			resp.Diagnostics.AddAttributeError(p, "Invalid connection string option",
				fmt.Sprintf("segura_device: %v.", err))
			continue
		}
		if other, dup := seen[canonical]; dup {
			ok = false
			resp.Diagnostics.AddAttributeError(p, "Invalid connection string option",
				fmt.Sprintf("segura_device: options %q and %q are the same option %s (names are case-insensitive); keep one.", other, k, canonical))
			continue
		}
		seen[canonical] = k
		v, isString := cfg.Options.Elements()[k].(types.String)
		if !isString || v.IsUnknown() || v.IsNull() {
			continue
		}
		if err := mongodb.CheckOption(canonical, v.ValueString()); err != nil {
			ok = false
			resp.Diagnostics.AddAttributeError(p, "Invalid connection string option",
				fmt.Sprintf("segura_device: %v. Give a value the MongoDB connection string options accept, or remove the option.", err))
		}
	}
	return ok
}

// validateHostedService names the hosted service the device's hosts belong
// to: an error where the provider cannot rotate passwords there (the
// vendor's control plane owns them), a warning with the conditions where it
// can.
func (r *deviceResource) validateHostedService(cfg deviceResourceModel, resp *resource.ValidateConfigResponse) {
	var hosts []string
	at := map[string]path.Path{}
	if !cfg.Address.IsNull() && !cfg.Address.IsUnknown() {
		hosts = append(hosts, cfg.Address.ValueString())
		at[cfg.Address.ValueString()] = path.Root("address")
	}
	if !cfg.Hosts.IsNull() && !cfg.Hosts.IsUnknown() {
		for i, v := range cfg.Hosts.Elements() {
			if s, ok := v.(types.String); ok && !s.IsNull() && !s.IsUnknown() {
				hosts = append(hosts, s.ValueString())
				at[s.ValueString()] = path.Root("hosts").AtListIndex(i)
			}
		}
	}
	srv := ""
	if !cfg.SRVHost.IsNull() && !cfg.SRVHost.IsUnknown() {
		srv = cfg.SRVHost.ValueString()
		at[srv] = path.Root("srv_host")
	}
	svc, ok := mongodb.HostedService(hosts, srv)
	if !ok {
		return
	}
	name := cfg.Name.ValueString()
	docs := strings.Join(svc.Docs, ", ")
	if !svc.Rotatable {
		resp.Diagnostics.AddAttributeError(at[svc.Host], svc.Name+" passwords cannot be rotated by this provider",
			fmt.Sprintf("segura_device %q: %s is %s, where the provider cannot rotate passwords: %s. "+
				"Change these passwords with %s, and keep this deployment out of segura_device. Vendor documentation: %s.",
				name, svc.Host, svc.Name, svc.Reason, svc.Instead, docs))
		return
	}
	resp.Diagnostics.AddAttributeWarning(at[svc.Host], svc.Name+": rotation works only under conditions",
		fmt.Sprintf("segura_device %q: %s is %s. The provider can rotate passwords there only under these conditions: %s. "+
			"Otherwise rotations fail at preflight, before anything changes. Vendor documentation: %s.",
			name, svc.Host, svc.Name, svc.Condition, docs))
}

// warnCleartext warns, on every plan, that a device reached without TLS
// over anything but the loopback interface exposes the passwords a rotation
// sends: SCRAM keeps the password off the wire when logging in, but
// updateUser carries the new one as it is.
func (r *deviceResource) warnCleartext(ctx context.Context, cfg deviceResourceModel, tlsKnown, tlsOn bool, resp *resource.ValidateConfigResponse) {
	if !tlsKnown || tlsOn || !cfg.connectionKnown() {
		return
	}
	var exposed []string
	if !cfg.SRVHost.IsNull() {
		exposed = append(exposed, "mongodb+srv://"+cfg.SRVHost.ValueString())
	} else {
		hosts, d := cfg.seedList(ctx)
		if d.HasError() {
			return
		}
		for _, h := range hosts {
			if !isLoopback(h) {
				exposed = append(exposed, h)
			}
		}
	}
	if len(exposed) == 0 {
		return
	}
	resp.Diagnostics.AddAttributeWarning(path.Root("tls"), "Passwords would cross the network unencrypted",
		fmt.Sprintf("segura_device %q connects to %s without TLS: every rotation of a credential on it sends the new password to MongoDB "+
			"in the clear (updateUser carries it as it is; only the SCRAM login keeps passwords off the wire), readable by anyone on the network path. "+
			"Enable TLS on the servers and set tls = true (with tls_ca_file for a private CA).", cfg.Name.ValueString(), strings.Join(exposed, ", ")))
}

// isLoopback reports whether host:port is on the loopback interface:
// localhost, 127.0.0.0/8 or ::1. Other names may resolve anywhere.
func isLoopback(hostPort string) bool {
	host := hostPort
	if h, _, err := net.SplitHostPort(hostPort); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
	// hello goes to every host directly: an SRV seed list is resolved
	// first, as the driver would resolve it.
	resolved, err := mongodb.ResolveSRV(dep)
	warning := ""
	if err == nil {
		warning, err = r.mongo.Probe(ctx, resolved)
	}
	if warning != "" {
		diags.AddWarning("MongoDB device has no writable primary in reach",
			fmt.Sprintf("segura_device %q: the reachability probe (hello, no credentials) found the deployment, but %s", m.Name.ValueString(), warning))
	}
	if err != nil {
		diags.AddError("MongoDB device did not answer",
			fmt.Sprintf("segura_device %q: the reachability probe (hello, no credentials) failed: %v\n\n"+
				"Check the address, hosts or srv_host (and its SRV records), port, replica_set and TLS settings, and that this machine can reach the servers; "+
				"or set probe_on_create = false to register the device without checking it.", m.Name.ValueString(), err))
	}
	return diags
}

// sameConnection reports whether two device states reach the same deployment.
func sameConnection(a, b deviceRef) bool {
	return a.Address.Equal(b.Address) && a.Hosts.Equal(b.Hosts) && a.Port.Equal(b.Port) &&
		a.ReplicaSet.Equal(b.ReplicaSet) && a.TLS.Equal(b.TLS) && a.TLSCAFile.Equal(b.TLSCAFile) &&
		a.TLSInsecureSkipVerify.Equal(b.TLSInsecureSkipVerify) && a.SRVHost.Equal(b.SRVHost) &&
		a.TLSCertificateKeyFile.Equal(b.TLSCertificateKeyFile) && a.TLSAllowInvalidHosts.Equal(b.TLSAllowInvalidHosts) &&
		a.Options.Equal(b.Options)
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
	if strings.HasPrefix(strings.ToLower(s), "mongodb+srv://") {
		return fmt.Sprintf("must be a host, not a connection string (got %q); for a mongodb+srv:// seed list set srv_host to its host name instead", s)
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

// srvHostValidator checks srv_host with mongodb.CheckSRVHost.
type srvHostValidator struct{}

func (srvHostValidator) Description(context.Context) string {
	return "must be the DNS name of a mongodb+srv:// seed list, without a port"
}

func (v srvHostValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (srvHostValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := mongodb.CheckSRVHost(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid SRV host name", fmt.Sprintf("Attribute %s %s", req.Path, msg))
	}
}
