package provider

import (
	"context"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The reference shapes segura_credential_rotation receives (see refs.go).

// ---------------------------------------------------------------------------
// rotationCredentialRef: a credential and, when it has one, its parent.

type rotationCredentialRef struct {
	credentialRef
	Parent types.Object `tfsdk:"parent"`
}

func rotationCredentialRefAttribute(description string) schema.SingleNestedAttribute {
	a := credentialRefAttribute(description, true)
	a.Attributes["parent"] = boundCredentialRefAttribute("The credential's `parent`, when it has one (without its `device`: it is the credential's).", false)
	return a
}

// parent returns the parent credential; ok is false when there is none, or
// while it is unknown (check Parent.IsUnknown to tell the two apart).
func (c rotationCredentialRef) parent(ctx context.Context) (boundCredentialRef, bool, diag.Diagnostics) {
	return refFromObject[boundCredentialRef](ctx, c.Parent)
}

// ---------------------------------------------------------------------------
// policyRef: a segura_rotation_policy passed whole. Its model is the policy
// resource's own model and its fields are derived from that resource's
// schema, so the two cannot drift apart.

type policyRef = rotationPolicyResourceModel

func policyRefFields() []refField {
	var resp resource.SchemaResponse
	(&rotationPolicyResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	names := make([]string, 0, len(resp.Schema.Attributes))
	for name := range resp.Schema.Attributes {
		names = append(names, name)
	}
	sort.Strings(names)
	fields := make([]refField, 0, len(names))
	for _, name := range names {
		a := resp.Schema.Attributes[name]
		fields = append(fields, refField{name: name, typ: a.GetType(), required: name == "id", description: "The policy's `" + name + "`."})
	}
	return fields
}

func policyRefAttribute(description string) schema.SingleNestedAttribute {
	return refAttribute(description, true, refNestedAttributes(policyRefFields()))
}

// ---------------------------------------------------------------------------
// syncRef: a segura_keyvault_sync passed whole, without latest_version: a
// rotation writes new versions, and a reference to the version it wrote
// itself would make every plan after a rotation show a change.

var syncRefFields = []refField{
	{"id", types.StringType, true, "The binding's `id`."},
	{"secret_name", types.StringType, true, "The binding's `secret_name`."},
	{"secret_id", types.StringType, true, "The binding's `secret_id`."},
	{"value_format", types.StringType, false, "The binding's `value_format`."},
	{"content_type", types.StringType, false, "The binding's `content_type`."},
	{"tags", types.MapType{ElemType: types.StringType}, false, "The binding's `tags`."},
	{"create_if_missing", types.BoolType, false, "The binding's `create_if_missing`."},
}

type syncRef struct {
	ID              types.String `tfsdk:"id"`
	SecretName      types.String `tfsdk:"secret_name"`
	SecretID        types.String `tfsdk:"secret_id"`
	ValueFormat     types.String `tfsdk:"value_format"`
	ContentType     types.String `tfsdk:"content_type"`
	Tags            types.Map    `tfsdk:"tags"`
	CreateIfMissing types.Bool   `tfsdk:"create_if_missing"`
	Credential      types.Object `tfsdk:"credential"`
	Application     types.Object `tfsdk:"application"`
}

func syncRefNestedAttributes() map[string]schema.Attribute {
	attrs := refNestedAttributes(syncRefFields)
	attrs["credential"] = boundCredentialRefAttribute("The binding's `credential` (without its `device`).", true)
	attrs["application"] = applicationRefAttribute("The binding's `application`.", true)
	return attrs
}

func syncRefAttribute(description string, required bool) schema.SingleNestedAttribute {
	return refAttribute(description, required, syncRefNestedAttributes())
}

// syncRefListAttribute is a list of whole bindings. Inside a list, Terraform
// 1.11 checks required nested attributes of elements that are still unknown
// at validation and reports them missing, so every field is optional there;
// the conversion from the upstream resource still fixes the shape.
func syncRefListAttribute(description string) schema.ListNestedAttribute {
	return schema.ListNestedAttribute{
		MarkdownDescription: description,
		Required:            true,
		NestedObject:        schema.NestedAttributeObject{Attributes: optionalAttributes(syncRefNestedAttributes())},
	}
}

// optionalAttributes makes every attribute, at every depth, optional.
func optionalAttributes(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	for name, a := range attrs {
		switch t := a.(type) {
		case schema.StringAttribute:
			t.Required, t.Optional = false, true
			attrs[name] = t
		case schema.Int64Attribute:
			t.Required, t.Optional = false, true
			attrs[name] = t
		case schema.BoolAttribute:
			t.Required, t.Optional = false, true
			attrs[name] = t
		case schema.ListAttribute:
			t.Required, t.Optional = false, true
			attrs[name] = t
		case schema.SetAttribute:
			t.Required, t.Optional = false, true
			attrs[name] = t
		case schema.MapAttribute:
			t.Required, t.Optional = false, true
			attrs[name] = t
		case schema.SingleNestedAttribute:
			t.Required, t.Optional = false, true
			t.Attributes = optionalAttributes(t.Attributes)
			attrs[name] = t
		}
	}
	return attrs
}

// ---------------------------------------------------------------------------
// parentRotationRef: the segura_credential_rotation of a credential's parent,
// passed whole. Referencing it (rather than only the parent's binding) makes
// Terraform apply the parent's rotation first when both are due in one
// apply, and names the parent's escrow secret, where a parent rotating at
// the same moment keeps its new password.

type parentRotationRef struct {
	ID               types.String `tfsdk:"id"`
	Credential       types.Object `tfsdk:"credential"`
	Syncs            types.List   `tfsdk:"syncs"`
	EscrowSecretName types.String `tfsdk:"escrow_secret_name"`
}

func parentRotationRefAttribute(description string) schema.SingleNestedAttribute {
	return refAttribute(description, false, map[string]schema.Attribute{
		"id":                 schema.StringAttribute{Optional: true, MarkdownDescription: "The parent rotation's `id`."},
		"credential":         boundCredentialRefAttribute("The parent rotation's `credential` (without its `device`).", false),
		"syncs":              schema.ListNestedAttribute{Optional: true, MarkdownDescription: "The parent rotation's `syncs`; the first holds its password.", NestedObject: schema.NestedAttributeObject{Attributes: optionalAttributes(syncRefNestedAttributes())}},
		"escrow_secret_name": schema.StringAttribute{Optional: true, MarkdownDescription: "The parent rotation's `escrow_secret_name`."},
	})
}

// syncObjects returns the elements of a list of whole bindings.
func syncObjects(ctx context.Context, l types.List) ([]types.Object, diag.Diagnostics) {
	var objs []types.Object
	diags := l.ElementsAs(ctx, &objs, false)
	return objs, diags
}
