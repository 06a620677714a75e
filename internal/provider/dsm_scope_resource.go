package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

// maxUserSecretTags is how many tags users may add, across a scope and a
// sync, once the provider's own tags are counted against Key Vault's limit.
var maxUserSecretTags = keyvault.MaxTags - len(keyvault.ManagedTags)

// secretTagsValidator checks a map of tags that will be stamped on Key Vault
// secrets: count, name and value lengths, and the provider's reserved names.
type secretTagsValidator struct {
	// max is the number of tags this map may hold on its own.
	max int
}

func (v secretTagsValidator) Description(context.Context) string {
	return fmt.Sprintf("at most %d tags (Key Vault allows %d per secret and the provider adds %d), names of 1-%d characters not starting with %q, values of at most %d characters",
		v.max, keyvault.MaxTags, len(keyvault.ManagedTags), keyvault.MaxTagNameLength, keyvault.TagPrefix, keyvault.MaxTagValueLength)
}

func (v secretTagsValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v secretTagsValidator) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	elems := req.ConfigValue.Elements()
	if len(elems) > v.max {
		resp.Diagnostics.AddAttributeError(req.Path, "Too many Key Vault tags",
			fmt.Sprintf("Attribute %s has %d tags, but Key Vault allows %d tags per secret and the provider adds %d of its own (%s), which leaves %d; remove %d.",
				req.Path, len(elems), keyvault.MaxTags, len(keyvault.ManagedTags), strings.Join(keyvault.ManagedTags, ", "), v.max, len(elems)-v.max))
	}
	names := make([]string, 0, len(elems))
	for k := range elems {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch {
		case k == "" || len(k) > keyvault.MaxTagNameLength:
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Invalid Key Vault tag name",
				fmt.Sprintf("Attribute %s has a tag name of %d characters; Key Vault tag names are 1-%d characters.", req.Path, len(k), keyvault.MaxTagNameLength))
		case strings.HasPrefix(strings.ToLower(k), keyvault.TagPrefix):
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Reserved Key Vault tag name",
				fmt.Sprintf("Attribute %s uses the tag name %q; names starting with %q are reserved for the tags the provider stamps on every version (%s).",
					req.Path, k, keyvault.TagPrefix, strings.Join(keyvault.ManagedTags, ", ")))
		}
		val, ok := elems[k].(types.String)
		if ok && !val.IsNull() && !val.IsUnknown() && len(val.ValueString()) > keyvault.MaxTagValueLength {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Key Vault tag value too long",
				fmt.Sprintf("Attribute %s tag %q has a value of %d characters; Key Vault tag values are at most %d characters.",
					req.Path, k, len(val.ValueString()), keyvault.MaxTagValueLength))
		}
	}
}

var (
	_ resource.Resource = (*dsmScopeResource)(nil)
)

// NewDSMScopeResource returns the segura_dsm_scope resource.
func NewDSMScopeResource() resource.Resource {
	return &dsmScopeResource{stateOnlyResource{name: "segura_dsm_scope"}}
}

// dsmScopeResource groups Key Vault targets the way Segura's DevOps Secret
// Manager does: one system in one environment. Its tags are stamped on every
// secret synced through its applications. It touches nothing remote.
type dsmScopeResource struct {
	stateOnlyResource
}

func (r *dsmScopeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_dsm_scope"
}

func (r *dsmScopeResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A DevOps Secret Manager scope: a system in an environment (e.g. `orders` in `production`) that groups " +
			"Key Vault targets. Its `tags` are stamped on every secret version synced through its applications. " +
			"The scope has no remote object; applications receive it as a whole object (`scope = segura_dsm_scope.example`).",
		Attributes: map[string]schema.Attribute{
			"id": randomIDAttribute("scope"),
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the scope, e.g. `orders-production`; at most 256 characters, so that it fits in a Key Vault tag value.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, keyvault.MaxTagValueLength)},
			},
			"system": schema.StringAttribute{
				MarkdownDescription: "The system (application, product) whose secrets the scope groups, e.g. `orders`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"environment": schema.StringAttribute{
				MarkdownDescription: "The environment, e.g. `production`, `staging`, `dev`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 64)},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "What the scope is for.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtMost(1024)},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: fmt.Sprintf("Tags stamped on every secret version synced through this scope. Key Vault allows %d tags per secret and the provider adds %d (`%s`), "+
					"so a scope's tags and a sync's `tags` together may number at most %d; names starting with `segura-` are reserved. Values are at most %d characters.",
					keyvault.MaxTags, len(keyvault.ManagedTags), strings.Join(keyvault.ManagedTags, "`, `"), maxUserSecretTags, keyvault.MaxTagValueLength),
				ElementType: types.StringType,
				Optional:    true,
				Validators: []validator.Map{
					secretTagsValidator{max: maxUserSecretTags},
				},
			},
		},
	}
}
