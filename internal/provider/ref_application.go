package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

// ---------------------------------------------------------------------------
// applicationRef: what a Key Vault sync (and a rotation) needs to know about
// a segura_dsm_application: which vault, as whom, and the scope whose tags
// are stamped on every secret.

var applicationRefFields = []refField{
	{"id", types.StringType, true, "The application's `id`."},
	{"name", types.StringType, true, "The application's `name`."},
	{"tenant_id", types.StringType, false, "The application's `tenant_id`."},
	{"client_id", types.StringType, false, "The application's `client_id`."},
	{"vault_name", types.StringType, false, "The application's `vault_name`."},
	{"vault_url", types.StringType, true, "The application's `vault_url`."},
}

// applicationRef is the model of a reference to a segura_dsm_application.
// ClientSecret is empty unless the application authenticates with its own
// (sensitive, not write-only) client secret.
type applicationRef struct {
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	TenantID     types.String `tfsdk:"tenant_id"`
	ClientID     types.String `tfsdk:"client_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
	VaultName    types.String `tfsdk:"vault_name"`
	VaultURL     types.String `tfsdk:"vault_url"`
	Scope        types.Object `tfsdk:"scope"`
}

func applicationRefAttrTypes() map[string]attr.Type {
	m := refAttrTypes(applicationRefFields)
	m["client_secret"] = types.StringType
	m["scope"] = types.ObjectType{AttrTypes: scopeRefAttrTypes()}
	return m
}

// applicationRefAttribute is the nested attribute a downstream resource
// declares to receive a segura_dsm_application as a whole object.
func applicationRefAttribute(description string, required bool) schema.SingleNestedAttribute {
	attrs := refNestedAttributes(applicationRefFields)
	attrs["client_secret"] = schema.StringAttribute{
		Optional:            true,
		Sensitive:           true,
		MarkdownDescription: "The application's `client_secret`, when it has one.",
	}
	attrs["scope"] = scopeRefAttribute("The application's `scope`.", true)
	return refAttribute(description, required, attrs)
}

// scope returns the application's scope reference; ok is false while it is
// null or unknown.
func (a applicationRef) scope(ctx context.Context) (scopeRef, bool, diag.Diagnostics) {
	return refFromObject[scopeRef](ctx, a.Scope)
}

// identity is who talks to the application's vault: its own service
// principal when it carries a client secret, else the provider's credential.
func (a applicationRef) identity() keyvault.Identity {
	if a.ClientSecret.IsNull() || a.ClientSecret.IsUnknown() || a.ClientSecret.ValueString() == "" {
		return keyvault.Identity{}
	}
	return keyvault.Identity{
		TenantID:     a.TenantID.ValueString(),
		ClientID:     a.ClientID.ValueString(),
		ClientSecret: a.ClientSecret.ValueString(),
	}
}
