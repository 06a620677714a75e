package provider

import (
	"fmt"

	aschema "github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	eschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	lschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// Reference shapes are written once, as resource schema attributes (refs.go).
// An ephemeral resource or an action that receives the same upstream object
// declares them in its own schema package: convertAttributes rebuilds them
// there, at every depth, through one schemaKit per package.

// attrFlags is what every converted attribute carries over.
type attrFlags struct {
	required, optional, sensitive bool
	description                   string
}

// schemaKit builds one schema package's attributes; set is nil where the
// package has no set attribute.
type schemaKit[A any] struct {
	str, int64, bool func(attrFlags) A
	list, set, mp    func(attrFlags, attr.Type) A
	object           func(attrFlags, map[string]attr.Type) A
	single, list2    func(attrFlags, map[string]A) A // single nested, list nested
}

// flagsOf takes a resource attribute's flags. A computed attribute of the
// resource is optional where it is received: it is an input there.
func flagsOf(required, optional, computed, sensitive bool, description string) attrFlags {
	return attrFlags{required: required, optional: optional || (computed && !required), sensitive: sensitive, description: description}
}

func convertAttributes[A any](attrs map[string]rschema.Attribute, kit schemaKit[A]) map[string]A {
	out := make(map[string]A, len(attrs))
	for name, a := range attrs {
		switch t := a.(type) {
		case rschema.StringAttribute:
			out[name] = kit.str(flagsOf(t.Required, t.Optional, t.Computed, t.Sensitive, t.MarkdownDescription))
		case rschema.Int64Attribute:
			out[name] = kit.int64(flagsOf(t.Required, t.Optional, t.Computed, t.Sensitive, t.MarkdownDescription))
		case rschema.BoolAttribute:
			out[name] = kit.bool(flagsOf(t.Required, t.Optional, t.Computed, t.Sensitive, t.MarkdownDescription))
		case rschema.ListAttribute:
			out[name] = kit.list(flagsOf(t.Required, t.Optional, t.Computed, t.Sensitive, t.MarkdownDescription), t.ElementType)
		case rschema.SetAttribute:
			if kit.set == nil {
				panic(fmt.Sprintf("convertAttributes: this schema package has no set attribute, for %q", name))
			}
			out[name] = kit.set(flagsOf(t.Required, t.Optional, t.Computed, t.Sensitive, t.MarkdownDescription), t.ElementType)
		case rschema.MapAttribute:
			out[name] = kit.mp(flagsOf(t.Required, t.Optional, t.Computed, t.Sensitive, t.MarkdownDescription), t.ElementType)
		case rschema.ObjectAttribute:
			out[name] = kit.object(flagsOf(t.Required, t.Optional, t.Computed, t.Sensitive, t.MarkdownDescription), t.AttributeTypes)
		case rschema.SingleNestedAttribute:
			out[name] = kit.single(flagsOf(t.Required, t.Optional, t.Computed, t.Sensitive, t.MarkdownDescription), convertAttributes(t.Attributes, kit))
		case rschema.ListNestedAttribute:
			out[name] = kit.list2(flagsOf(t.Required, t.Optional, t.Computed, t.Sensitive, t.MarkdownDescription), convertAttributes(t.NestedObject.Attributes, kit))
		default:
			panic(fmt.Sprintf("convertAttributes: unsupported attribute %T for %q", a, name))
		}
	}
	return out
}

// ephemeralAttributes converts reference-shape attributes into the
// ephemeral schema's types.
func ephemeralAttributes(attrs map[string]rschema.Attribute) map[string]eschema.Attribute {
	return convertAttributes(attrs, schemaKit[eschema.Attribute]{
		str: func(f attrFlags) eschema.Attribute {
			return eschema.StringAttribute{Required: f.required, Optional: f.optional, Sensitive: f.sensitive, MarkdownDescription: f.description}
		},
		int64: func(f attrFlags) eschema.Attribute {
			return eschema.Int64Attribute{Required: f.required, Optional: f.optional, Sensitive: f.sensitive, MarkdownDescription: f.description}
		},
		bool: func(f attrFlags) eschema.Attribute {
			return eschema.BoolAttribute{Required: f.required, Optional: f.optional, Sensitive: f.sensitive, MarkdownDescription: f.description}
		},
		list: func(f attrFlags, e attr.Type) eschema.Attribute {
			return eschema.ListAttribute{ElementType: e, Required: f.required, Optional: f.optional, Sensitive: f.sensitive, MarkdownDescription: f.description}
		},
		set: func(f attrFlags, e attr.Type) eschema.Attribute {
			return eschema.SetAttribute{ElementType: e, Required: f.required, Optional: f.optional, Sensitive: f.sensitive, MarkdownDescription: f.description}
		},
		mp: func(f attrFlags, e attr.Type) eschema.Attribute {
			return eschema.MapAttribute{ElementType: e, Required: f.required, Optional: f.optional, Sensitive: f.sensitive, MarkdownDescription: f.description}
		},
		object: func(f attrFlags, t map[string]attr.Type) eschema.Attribute {
			return eschema.ObjectAttribute{AttributeTypes: t, Required: f.required, Optional: f.optional, Sensitive: f.sensitive, MarkdownDescription: f.description}
		},
		single: func(f attrFlags, a map[string]eschema.Attribute) eschema.Attribute {
			return eschema.SingleNestedAttribute{Attributes: a, Required: f.required, Optional: f.optional, Sensitive: f.sensitive, MarkdownDescription: f.description}
		},
		list2: func(f attrFlags, a map[string]eschema.Attribute) eschema.Attribute {
			return eschema.ListNestedAttribute{NestedObject: eschema.NestedAttributeObject{Attributes: a}, Required: f.required, Optional: f.optional,
				Sensitive: f.sensitive, MarkdownDescription: f.description}
		},
	})
}

// actionAttributes converts reference-shape attributes into the action
// schema's types. Action schemas have no Sensitive flag: a sensitive value
// passed in stays marked sensitive by Terraform.
func actionAttributes(attrs map[string]rschema.Attribute) map[string]aschema.Attribute {
	return convertAttributes(attrs, schemaKit[aschema.Attribute]{
		str: func(f attrFlags) aschema.Attribute {
			return aschema.StringAttribute{Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		int64: func(f attrFlags) aschema.Attribute {
			return aschema.Int64Attribute{Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		bool: func(f attrFlags) aschema.Attribute {
			return aschema.BoolAttribute{Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		list: func(f attrFlags, e attr.Type) aschema.Attribute {
			return aschema.ListAttribute{ElementType: e, Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		set: func(f attrFlags, e attr.Type) aschema.Attribute {
			return aschema.SetAttribute{ElementType: e, Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		mp: func(f attrFlags, e attr.Type) aschema.Attribute {
			return aschema.MapAttribute{ElementType: e, Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		object: func(f attrFlags, t map[string]attr.Type) aschema.Attribute {
			return aschema.ObjectAttribute{AttributeTypes: t, Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		single: func(f attrFlags, a map[string]aschema.Attribute) aschema.Attribute {
			return aschema.SingleNestedAttribute{Attributes: a, Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		list2: func(f attrFlags, a map[string]aschema.Attribute) aschema.Attribute {
			return aschema.ListNestedAttribute{NestedObject: aschema.NestedAttributeObject{Attributes: a}, Required: f.required, Optional: f.optional,
				MarkdownDescription: f.description}
		},
	})
}

// listAttributes converts reference-shape attributes into the list resource
// config schema's types (no Sensitive flag there either).
func listAttributes(attrs map[string]rschema.Attribute) map[string]lschema.Attribute {
	return convertAttributes(attrs, schemaKit[lschema.Attribute]{
		str: func(f attrFlags) lschema.Attribute {
			return lschema.StringAttribute{Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		int64: func(f attrFlags) lschema.Attribute {
			return lschema.Int64Attribute{Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		bool: func(f attrFlags) lschema.Attribute {
			return lschema.BoolAttribute{Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		list: func(f attrFlags, e attr.Type) lschema.Attribute {
			return lschema.ListAttribute{ElementType: e, Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		mp: func(f attrFlags, e attr.Type) lschema.Attribute {
			return lschema.MapAttribute{ElementType: e, Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		object: func(f attrFlags, t map[string]attr.Type) lschema.Attribute {
			return lschema.ObjectAttribute{AttributeTypes: t, Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		single: func(f attrFlags, a map[string]lschema.Attribute) lschema.Attribute {
			return lschema.SingleNestedAttribute{Attributes: a, Required: f.required, Optional: f.optional, MarkdownDescription: f.description}
		},
		list2: func(f attrFlags, a map[string]lschema.Attribute) lschema.Attribute {
			return lschema.ListNestedAttribute{NestedObject: lschema.NestedAttributeObject{Attributes: a}, Required: f.required, Optional: f.optional,
				MarkdownDescription: f.description}
		},
	})
}
