package provider

// Whole-object references (DESIGN.md §2): a downstream resource receives an
// upstream resource as a whole object, e.g. `device = segura_device.orders_db`,
// and declares a nested attribute listing only the upstream fields it needs.
// Terraform drops the upstream's other attributes when it converts the object
// to the nested attribute's type.
//
// Each reference shape lives here once: a Go struct (the tfsdk model), its
// attribute-type map and the nested-attribute constructor built from the same
// list of fields. The upstream resources (segura_device, segura_credential,
// segura_dsm_scope) declare every one of these fields with the same name and
// type; Test*RefMatches*Schema in the resources' _test.go files check that.

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
)

// refFromObject converts a reference object value into its model T. Any
// reference may be null or unknown while Terraform validates and plans: a
// whole object, or one nested in a known object (Terraform 1.15 validates a
// known list of bindings whose `credential` is still unknown, where 1.11 sent
// the whole element unknown). ok is false then, with the zero T and no
// diagnostics, and the caller skips or defers what needs the value. The
// zero T is not a usable reference: its fields are null, not unknown.
func refFromObject[T any](ctx context.Context, obj types.Object) (ref T, ok bool, diags diag.Diagnostics) {
	if obj.IsNull() || obj.IsUnknown() {
		return ref, false, nil
	}
	diags = obj.As(ctx, &ref, basetypes.ObjectAsOptions{})
	return ref, !diags.HasError(), diags
}

// requireRef is refFromObject where the value must be there: at apply, and
// when a remote call needs it. what names the reference for the error,
// e.g. "syncs[0].application".
func requireRef[T any](ctx context.Context, obj types.Object, who, what string) (T, diag.Diagnostics) {
	ref, ok, diags := refFromObject[T](ctx, obj)
	if !ok && !diags.HasError() {
		state := "null"
		if obj.IsUnknown() {
			state = "not known yet"
		}
		diags.AddError("Reference not available",
			fmt.Sprintf("%s: %s is %s, so nothing was read or changed. Set it to the whole upstream resource "+
				"(for example `credential = segura_credential.app`) and plan again; if it is set, this is a bug in the provider: please report it.",
				who, what, state))
	}
	return ref, diags
}

// refID is the `id` of a reference object: unknown while the object or its
// id is, null when the object is. Plan modifiers that only ask "is it still
// the same upstream object?" read it instead of converting the whole object,
// which would tie them to one reference shape.
func refID(obj types.Object) types.String {
	switch {
	case obj.IsUnknown():
		return types.StringUnknown()
	case obj.IsNull():
		return types.StringNull()
	}
	if id, ok := obj.Attributes()["id"].(types.String); ok {
		return id
	}
	return types.StringUnknown()
}

// refField is one field of a reference shape.
type refField struct {
	name        string
	typ         attr.Type
	required    bool
	description string
}

func refAttrTypes(fields []refField) map[string]attr.Type {
	m := make(map[string]attr.Type, len(fields))
	for _, f := range fields {
		m[f.name] = f.typ
	}
	return m
}

// refNestedAttributes turns fields into nested-attribute schema entries. Only
// the identifying fields are required: the upstream leaves optional fields
// null, and a required nested field would reject those.
func refNestedAttributes(fields []refField) map[string]schema.Attribute {
	attrs := make(map[string]schema.Attribute, len(fields))
	for _, f := range fields {
		optional := !f.required
		switch t := f.typ.(type) {
		case basetypes.StringType:
			attrs[f.name] = schema.StringAttribute{Required: f.required, Optional: optional, MarkdownDescription: f.description}
		case basetypes.Int64Type:
			attrs[f.name] = schema.Int64Attribute{Required: f.required, Optional: optional, MarkdownDescription: f.description}
		case basetypes.BoolType:
			attrs[f.name] = schema.BoolAttribute{Required: f.required, Optional: optional, MarkdownDescription: f.description}
		case basetypes.ListType:
			attrs[f.name] = schema.ListAttribute{ElementType: t.ElemType, Required: f.required, Optional: optional, MarkdownDescription: f.description}
		case basetypes.SetType:
			attrs[f.name] = schema.SetAttribute{ElementType: t.ElemType, Required: f.required, Optional: optional, MarkdownDescription: f.description}
		case basetypes.MapType:
			attrs[f.name] = schema.MapAttribute{ElementType: t.ElemType, Required: f.required, Optional: optional, MarkdownDescription: f.description}
		case basetypes.ObjectType:
			panic(fmt.Sprintf("refNestedAttributes: nested object field %q must be added by its shape's constructor", f.name))
		default:
			panic(fmt.Sprintf("refNestedAttributes: unsupported type %T for field %q", f.typ, f.name))
		}
	}
	return attrs
}

// refAttribute is the nested attribute a downstream resource declares to
// receive an upstream resource as a whole object.
func refAttribute(description string, required bool, attrs map[string]schema.Attribute) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: description,
		Required:            required,
		Optional:            !required,
		Attributes:          attrs,
	}
}

// ---------------------------------------------------------------------------
// deviceRef: what a credential needs to know about its device.

var deviceRefFields = []refField{
	{"id", types.StringType, true, "The device's `id`."},
	{"name", types.StringType, true, "The device's `name`."},
	{"type", types.StringType, false, "The device's `type` (`mongodb`)."},
	{"address", types.StringType, false, "The device's single-host `address`."},
	{"hosts", types.ListType{ElemType: types.StringType}, false, "The device's seed list."},
	{"port", types.Int64Type, false, "The device's default port."},
	{"replica_set", types.StringType, false, "The device's replica set name."},
	{"tls", types.BoolType, false, "Whether the device requires TLS."},
	{"tls_ca_file", types.StringType, false, "The device's TLS CA bundle."},
	{"tls_insecure_skip_verify", types.BoolType, false, "Whether the device skips TLS certificate verification."},
	{"srv_host", types.StringType, false, "The device's `mongodb+srv://` host name."},
	{"tls_certificate_key_file", types.StringType, false, "The device's TLS client certificate and key file."},
	{"tls_allow_invalid_hostnames", types.BoolType, false, "Whether the device skips the host name check of TLS certificates."},
	{"options", types.MapType{ElemType: types.StringType}, false, "The device's extra connection string options."},
}

// deviceRef is the model of a reference to a segura_device.
type deviceRef struct {
	ID                    types.String `tfsdk:"id"`
	Name                  types.String `tfsdk:"name"`
	Type                  types.String `tfsdk:"type"`
	Address               types.String `tfsdk:"address"`
	Hosts                 types.List   `tfsdk:"hosts"`
	Port                  types.Int64  `tfsdk:"port"`
	ReplicaSet            types.String `tfsdk:"replica_set"`
	TLS                   types.Bool   `tfsdk:"tls"`
	TLSCAFile             types.String `tfsdk:"tls_ca_file"`
	TLSInsecureSkipVerify types.Bool   `tfsdk:"tls_insecure_skip_verify"`
	SRVHost               types.String `tfsdk:"srv_host"`
	TLSCertificateKeyFile types.String `tfsdk:"tls_certificate_key_file"`
	TLSAllowInvalidHosts  types.Bool   `tfsdk:"tls_allow_invalid_hostnames"`
	Options               types.Map    `tfsdk:"options"`
}

func deviceRefAttrTypes() map[string]attr.Type { return refAttrTypes(deviceRefFields) }

// deviceRefAttribute is the nested attribute a downstream resource declares
// to receive a segura_device as a whole object.
func deviceRefAttribute(description string, required bool) schema.SingleNestedAttribute {
	return refAttribute(description, required, refNestedAttributes(deviceRefFields))
}

// connectionKnown reports whether every field that decides where the device
// is has a known value (false while an upstream value is computed at apply).
func (d deviceRef) connectionKnown() bool {
	return !d.Address.IsUnknown() && !d.Hosts.IsUnknown() && !d.Port.IsUnknown() &&
		!d.ReplicaSet.IsUnknown() && !d.TLS.IsUnknown() && !d.TLSCAFile.IsUnknown() &&
		!d.TLSInsecureSkipVerify.IsUnknown() && !d.SRVHost.IsUnknown() && !d.TLSCertificateKeyFile.IsUnknown() &&
		!d.TLSAllowInvalidHosts.IsUnknown() && !d.Options.IsUnknown()
}

// seedList returns the device's hosts as host:port, the port defaulting to
// the device's port (27017 when unset). An SRV seed list, whose hosts only
// DNS knows, stands as the one entry "mongodb+srv://<srv_host>", so that
// identities, import ids and device comparisons still name it.
func (d deviceRef) seedList(ctx context.Context) ([]string, diag.Diagnostics) {
	var diags diag.Diagnostics
	if !d.SRVHost.IsNull() && !d.SRVHost.IsUnknown() && d.SRVHost.ValueString() != "" {
		return []string{mongodb.Deployment{SRVHost: d.SRVHost.ValueString()}.Address()}, diags
	}
	port := int(mongodb.DefaultPort)
	if !d.Port.IsNull() && !d.Port.IsUnknown() {
		port = int(d.Port.ValueInt64())
	}
	var raw []string
	if !d.Address.IsNull() && !d.Address.IsUnknown() && d.Address.ValueString() != "" {
		raw = append(raw, d.Address.ValueString())
	}
	if !d.Hosts.IsNull() && !d.Hosts.IsUnknown() {
		var hosts []string
		diags.Append(d.Hosts.ElementsAs(ctx, &hosts, false)...)
		raw = append(raw, hosts...)
	}
	out := make([]string, 0, len(raw))
	for _, h := range raw {
		out = append(out, mongodb.NormalizeHost(strings.TrimSpace(h), port))
	}
	return out, diags
}

// deployment is where and how to connect to the device. It holds no credentials.
func (d deviceRef) deployment(ctx context.Context) (mongodb.Deployment, diag.Diagnostics) {
	hosts, diags := d.seedList(ctx)
	if !d.SRVHost.IsNull() && d.SRVHost.ValueString() != "" {
		hosts = nil // the driver resolves SRVHost
	}
	dep := mongodb.Deployment{
		Hosts:                    hosts,
		SRVHost:                  d.SRVHost.ValueString(),
		ReplicaSet:               d.ReplicaSet.ValueString(),
		TLS:                      d.TLS.ValueBool(),
		TLSCAFile:                d.TLSCAFile.ValueString(),
		TLSCertificateKeyFile:    d.TLSCertificateKeyFile.ValueString(),
		TLSInsecure:              d.TLSInsecureSkipVerify.ValueBool(),
		TLSAllowInvalidHostnames: d.TLSAllowInvalidHosts.ValueBool(),
	}
	options, d2 := d.options()
	diags.Append(d2...)
	dep.Options = options
	return dep, diags
}

// options returns the device's connection string options by canonical
// name (nil when none); values not known yet are left out.
func (d deviceRef) options() (map[string]string, diag.Diagnostics) {
	var diags diag.Diagnostics
	if d.Options.IsNull() || d.Options.IsUnknown() {
		return nil, diags
	}
	raw := map[string]string{}
	for k, v := range d.Options.Elements() {
		if s, ok := v.(types.String); ok && !s.IsNull() && !s.IsUnknown() {
			raw[k] = s.ValueString()
		}
	}
	out, err := mongodb.NormalizeOptions(raw)
	if err != nil {
		// Not an attribute error: the caller may be a downstream resource,
		// whose schema has no such path.
		diags.AddError("Invalid connection string option",
			fmt.Sprintf("segura_device %q: %v. Fix the device's options.", d.Name.ValueString(), err))
	}
	return out, diags
}

// ---------------------------------------------------------------------------
// credentialRef: what a parent link or a Key Vault sync needs to know about
// a credential. It carries the credential's device so that consumers can
// reach the account without a second reference.

var credentialRefFields = []refField{
	{"id", types.StringType, true, "The credential's `id`."},
	{"username", types.StringType, true, "The credential's `username`."},
	{"auth_database", types.StringType, false, "The credential's authentication database."},
	{"mechanism", types.StringType, false, "The credential's SCRAM mechanism."},
}

// credentialRef is the model of a reference to a segura_credential.
type credentialRef struct {
	boundCredentialRef
	Device types.Object `tfsdk:"device"`
}

func credentialRefAttrTypes() map[string]attr.Type {
	m := refAttrTypes(credentialRefFields)
	m["device"] = types.ObjectType{AttrTypes: deviceRefAttrTypes()}
	return m
}

// credentialRefAttribute is the nested attribute a downstream resource
// declares to receive a segura_credential as a whole object.
func credentialRefAttribute(description string, required bool) schema.SingleNestedAttribute {
	attrs := refNestedAttributes(credentialRefFields)
	attrs["device"] = deviceRefAttribute("The credential's `device`.", true)
	return refAttribute(description, required, attrs)
}

// boundCredentialRef is the model of a reference to a segura_credential
// a rotation or a checkout receives beside the rotated one (a rotation's
// syncs, parent_sync and parent_rotation, and its credential's parent):
// which credential it is, without its device. A parent is on its child's
// device (segura_credential checks it), and a binding's credential is the
// rotated one; leaving the device out keeps 15 attributes out of each of
// these places in the rotation's schema, which the framework walks for every
// value of every request (about half the plugin's CPU in a plan).
type boundCredentialRef struct {
	ID           types.String `tfsdk:"id"`
	Username     types.String `tfsdk:"username"`
	AuthDatabase types.String `tfsdk:"auth_database"`
	Mechanism    types.String `tfsdk:"mechanism"`
}

func boundCredentialRefAttrTypes() map[string]attr.Type { return refAttrTypes(credentialRefFields) }

// boundCredentialRefAttribute is the nested attribute of a boundCredentialRef.
func boundCredentialRefAttribute(description string, required bool) schema.SingleNestedAttribute {
	return refAttribute(description, required, refNestedAttributes(credentialRefFields))
}

// device returns the credential's device reference; ok is false while it is
// null or unknown.
func (c credentialRef) device(ctx context.Context) (deviceRef, bool, diag.Diagnostics) {
	return refFromObject[deviceRef](ctx, c.Device)
}

// authDatabase returns the credential's authentication database, "admin" when unset.
func (c boundCredentialRef) authDatabase() string {
	if c.AuthDatabase.IsNull() || c.AuthDatabase.IsUnknown() || c.AuthDatabase.ValueString() == "" {
		return mongodb.DefaultAuthSource
	}
	return c.AuthDatabase.ValueString()
}

// identity is the MongoDB identity of the credential, without a password:
// the rotation engine resolves it (Key Vault, the escrow, a write-only input).
func (c boundCredentialRef) identity() mongodb.Identity {
	return mongodb.Identity{
		Username:   c.Username.ValueString(),
		AuthSource: c.authDatabase(),
		Mechanism:  c.Mechanism.ValueString(),
	}
}

// ---------------------------------------------------------------------------
// scopeRef: what a DSM application needs to know about its scope.

var scopeRefFields = []refField{
	{"id", types.StringType, true, "The scope's `id`."},
	{"name", types.StringType, true, "The scope's `name`."},
	{"system", types.StringType, false, "The scope's `system`."},
	{"environment", types.StringType, false, "The scope's `environment`."},
	{"tags", types.MapType{ElemType: types.StringType}, false, "The tags the scope stamps on every synced secret."},
}

// scopeRef is the model of a reference to a segura_dsm_scope.
type scopeRef struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	System      types.String `tfsdk:"system"`
	Environment types.String `tfsdk:"environment"`
	Tags        types.Map    `tfsdk:"tags"`
}

func scopeRefAttrTypes() map[string]attr.Type { return refAttrTypes(scopeRefFields) }

// scopeRefAttribute is the nested attribute a downstream resource declares to
// receive a segura_dsm_scope as a whole object.
func scopeRefAttribute(description string, required bool) schema.SingleNestedAttribute {
	return refAttribute(description, required, refNestedAttributes(scopeRefFields))
}

// tagMap returns the scope's tags as a Go map (empty when null or unknown;
// a tag whose value is not known yet is left out).
func (s scopeRef) tagMap() (map[string]string, diag.Diagnostics) {
	out := map[string]string{}
	if s.Tags.IsNull() || s.Tags.IsUnknown() {
		return out, nil
	}
	var diags diag.Diagnostics
	for k, v := range s.Tags.Elements() {
		str, ok := v.(types.String)
		if !ok {
			diags.AddError("Unexpected tag value", fmt.Sprintf("scope tag %q is a %T, not a string. This is a bug in the provider: please report it.", k, v))
			continue
		}
		if !str.IsUnknown() && !str.IsNull() {
			out[k] = str.ValueString()
		}
	}
	return out, diags
}

// tagNames returns the names of the scope's tags, known even while some
// values are not.
func (s scopeRef) tagNames() []string {
	names := make([]string, 0, len(s.Tags.Elements()))
	for k := range s.Tags.Elements() {
		names = append(names, k)
	}
	return names
}

// objectReferences declares each reference in attrs (a nested attribute: in
// resource schemas these are always references) as an object attribute of
// the same type, or a list of such objects. Terraform converts the upstream
// resource to it as it does to the nested attribute, dropping the fields not
// listed, and the plan shows the same per-field diff; the framework, though,
// treats an object attribute as one value where it walks, converts and
// plans every field of a nested one on each request, which made references
// most of the plugin's CPU in a plan. The value's type, and so the state, is
// the same. The fields still appear in the generated docs, as the object's
// attributes, and their descriptions move into the attribute's.
func objectReferences(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	for name, a := range attrs {
		switch t := a.(type) {
		case schema.SingleNestedAttribute:
			attrs[name] = objectReference(t)
		case schema.ListNestedAttribute:
			attrs[name] = objectReferenceList(t)
		}
	}
	return attrs
}

func objectReference(a schema.SingleNestedAttribute) schema.ObjectAttribute {
	return schema.ObjectAttribute{
		AttributeTypes:      a.GetType().(basetypes.ObjectType).AttrTypes,
		Required:            a.Required,
		Optional:            a.Optional,
		Computed:            a.Computed,
		Sensitive:           a.Sensitive,
		MarkdownDescription: a.MarkdownDescription + fieldsUsed(a.Attributes),
		DeprecationMessage:  a.DeprecationMessage,
		Validators:          a.Validators,
		PlanModifiers:       a.PlanModifiers,
	}
}

func objectReferenceList(a schema.ListNestedAttribute) schema.ListAttribute {
	return schema.ListAttribute{
		ElementType:         a.NestedObject.Type(),
		Required:            a.Required,
		Optional:            a.Optional,
		Computed:            a.Computed,
		Sensitive:           a.Sensitive,
		MarkdownDescription: a.MarkdownDescription + fieldsUsed(a.NestedObject.Attributes),
		DeprecationMessage:  a.DeprecationMessage,
		Validators:          a.Validators,
		PlanModifiers:       a.PlanModifiers,
	}
}

// fieldsUsed lists a reference's fields for its description, nested
// references in parentheses, so the docs say what each one reads upstream.
func fieldsUsed(attrs map[string]schema.Attribute) string {
	return " The fields it uses: " + fieldList(attrs) + "."
}

func fieldList(attrs map[string]schema.Attribute) string {
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		switch t := attrs[name].(type) {
		case schema.SingleNestedAttribute:
			parts = append(parts, "`"+name+"` ("+fieldList(t.Attributes)+")")
		case schema.ListNestedAttribute:
			parts = append(parts, "`"+name+"` (each: "+fieldList(t.NestedObject.Attributes)+")")
		default:
			parts = append(parts, "`"+name+"`")
		}
	}
	return strings.Join(parts, ", ")
}
