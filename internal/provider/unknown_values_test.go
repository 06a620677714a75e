package provider

// Any configuration value may be unknown while Terraform validates and
// plans: a whole object, a list, one element, one nested attribute. Newer
// releases send unknowns where older ones did not (Terraform 1.15 validates a
// known list of bindings whose `credential` is unknown; 1.11 sent the whole
// element unknown), so these tests do not depend on what one release does.
// They serve the provider over the plugin protocol, as Terraform does, and
// for every resource make each value of a known configuration unknown in
// turn, at every depth, then validate and plan it (create and update). An
// unknown value must never add an error: a check whose inputs are unknown
// waits for the apply-time plan, where they are known.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// unknownTestOverrides give a known configuration that passes the
// provider's cross-reference checks, so that the unknown variants reach the
// code behind them. Keys are attribute paths without list indices.
var unknownTestOverrides = map[string]map[string]any{
	"segura_credential": {
		"username":        "app",
		"parent.username": "admin",
		"device.address":  "127.0.0.1:1",
		// the same device, also when compared by address
		"parent.device.address": "127.0.0.1:1",
	},
	"segura_credential_rotation": {
		"credential.username":                "app",
		"credential.parent.username":         "admin",
		"credential.parent.id":               "parent",
		"parent_sync":                        null{}, // parent_rotation is the one set
		"parent_rotation.credential.id":      "parent",
		"parent_rotation.syncs.value_format": "password",
		"syncs.value_format":                 "password",
		"parent_sync.value_format":           "password",
		// Single-account mode; dual_account_test.go covers alternate_credential.
		"alternate_credential":               null{},
		"alternate_bootstrap_password_wo":    null{},
		"force_within_overlap":               null{},
		"syncs.secret_name":                  "app-password",
		"syncs.application.vault_url":        "https://127.0.0.1:1/",
		"credential.device.address":          "127.0.0.1:1",
		"credential.mechanism":               "SCRAM-SHA-256",
		"escrow_secret_name":                 "app-password-escrow",
		"policy.time_zone":                   "UTC",
		"policy.allowed_times":               []any{"02:00"},
		"policy.allowed_weekdays":            []any{"monday"},
		"policy.password_symbols":            "!#",
		"last_rotated_at":                    "2026-01-01T00:00:00Z",
		"next_rotation_at":                   "2026-02-01T00:00:00Z",
		"exposed_at":                         "2026-01-02T00:00:00Z",
		"policy.frequency_days":              30,
		"policy.max_age_days":                45,
		"policy.rotate_after_exposure_hours": 24,
	},
	"segura_keyvault_sync": {
		"secret_name":           "app-password",
		"value_format":          "password",
		"application.vault_url": "https://127.0.0.1:1/",
	},
	"segura_dsm_application": {
		"vault_url":  "https://vault-one.vault.azure.net/",
		"vault_name": "vault-one",
		"tenant_id":  "00000000-0000-0000-0000-00000000000a",
		"client_id":  "00000000-0000-0000-0000-00000000000b",
	},
	"segura_credential_checkout": {
		"sync":                        null{}, // rotation is the one set
		"rotation.syncs.value_format": "password",
	},
}

// null in unknownTestOverrides makes an attribute null.
type null struct{}

func TestUnknownValuesNeverAddErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || hasErrorDiag(schemas.Diagnostics) {
		t.Fatalf("GetProviderSchema: %v %v", err, schemas.Diagnostics)
	}
	configureOffline(t, server, schemas.Provider)

	names := make([]string, 0, len(schemas.ResourceSchemas))
	for name := range schemas.ResourceSchemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		schema := schemas.ResourceSchemas[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			overrides := unknownTestOverrides[name]
			config := schemaValue(schema.Block, "", overrides, false)
			state := schemaValue(schema.Block, "", overrides, true)
			typ := schema.ValueType()
			base := resourceErrors(t, server, name, typ, config, state)
			variants := 0
			for _, p := range valuePaths(t, config) {
				variant := map[string]tftypes.Value{"unknown": withUnknownAt(t, config, p)}
				if changed, ok := withChangedAt(t, config, p); ok && insideReference(p) {
					// An upstream attribute changing plans like any other
					// update (a host migration, a new mechanism, another
					// parent). Ids are left alone: another id is another
					// object, which validation rightly refuses or replaces.
					variant["changed"] = changed
				}
				for how, v := range variant {
					for e := range resourceErrors(t, server, name, typ, v, state) {
						if how == "changed" && strings.HasPrefix(e, "validate: ") && !strings.Contains(e, "Value Conversion Error") {
							continue // a changed value may be invalid; validation is tested elsewhere
						}
						if !base[e] || strings.Contains(e, "Value Conversion Error") {
							t.Errorf("%s %s: new error: %s", p, how, e)
						}
					}
					variants++
				}
			}
			t.Logf("%s: %d variants (a value unknown or changed), each validated and planned as a create and an update; %d errors in the known configuration",
				name, variants, len(base))
		})
	}
	for name, schema := range schemas.EphemeralResourceSchemas {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			config := schemaValue(schema.Block, "", unknownTestOverrides[name], false)
			typ := schema.ValueType()
			validate := func(v tftypes.Value) map[string]bool {
				resp, err := server.ValidateEphemeralResourceConfig(ctx, &tfprotov6.ValidateEphemeralResourceConfigRequest{TypeName: name, Config: dynamic(t, typ, v)})
				if err != nil {
					t.Fatal(err)
				}
				return errorSet(resp.Diagnostics)
			}
			base := validate(config)
			for _, p := range valuePaths(t, config) {
				for e := range validate(withUnknownAt(t, config, p)) {
					if !base[e] {
						t.Errorf("%s unknown: new error: %s", p, e)
					}
				}
			}
		})
	}
}

// configureOffline configures the provider with every endpoint on a closed
// loopback port: nothing here may reach the network.
func configureOffline(t *testing.T, server tfprotov6.ProviderServer, schema *tfprotov6.Schema) {
	t.Helper()
	cfg := schemaValue(schema.Block, "", nil, false)
	cfg = nullExcept(t, cfg, map[string]any{
		"tenant_id":      "00000000-0000-0000-0000-00000000000a",
		"client_id":      "00000000-0000-0000-0000-00000000000b",
		"client_secret":  "not-a-real-secret",
		"authority_host": "https://127.0.0.1:1/",
	})
	resp, err := server.ConfigureProvider(context.Background(), &tfprotov6.ConfigureProviderRequest{
		TerraformVersion: "1.15.9", Config: dynamic(t, schema.ValueType(), cfg),
	})
	if err != nil || hasErrorDiag(resp.Diagnostics) {
		t.Fatalf("ConfigureProvider: %v %v", err, diagText(resp.Diagnostics))
	}
}

// resourceErrors validates config and plans it as a create and as an update
// of state, returning every error summary and detail.
func resourceErrors(t *testing.T, server tfprotov6.ProviderServer, name string, typ tftypes.Type, config, state tftypes.Value) map[string]bool {
	t.Helper()
	ctx := context.Background()
	errs := map[string]bool{}
	v, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: name, Config: dynamic(t, typ, config)})
	if err != nil {
		t.Fatal(err)
	}
	for e := range errorSet(v.Diagnostics) {
		errs["validate: "+e] = true
	}
	create, err := server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: name, PriorState: dynamic(t, typ, tftypes.NewValue(typ, nil)),
		ProposedNewState: dynamic(t, typ, config), Config: dynamic(t, typ, config),
	})
	if err != nil {
		t.Fatal(err)
	}
	for e := range errorSet(create.Diagnostics) {
		errs["plan create: "+e] = true
	}
	update, err := server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: name, PriorState: dynamic(t, typ, state),
		ProposedNewState: dynamic(t, typ, proposedNew(t, config, state)), Config: dynamic(t, typ, config),
	})
	if err != nil {
		t.Fatal(err)
	}
	for e := range errorSet(update.Diagnostics) {
		errs["plan update: "+e] = true
	}
	return errs
}

// schemaValue builds a known value of block: every attribute set (strings
// "x", numbers 1, one element per list and map) unless overrides name it.
// A configuration (state false) leaves computed-only and write-only
// attributes and nested blocks null, as Terraform does.
func schemaValue(block *tfprotov6.SchemaBlock, prefix string, overrides map[string]any, state bool) tftypes.Value {
	attrs := map[string]tftypes.Value{}
	types := map[string]tftypes.Type{}
	for _, a := range block.Attributes {
		p := joinPath(prefix, a.Name)
		typ := a.ValueType()
		types[a.Name] = typ
		if _, isNull := overrides[p].(null); isNull || a.WriteOnly || (!state && a.Computed && !a.Optional) {
			attrs[a.Name] = tftypes.NewValue(typ, nil)
			continue
		}
		if a.NestedType != nil {
			obj := schemaValue(&tfprotov6.SchemaBlock{Attributes: a.NestedType.Attributes}, p, overrides, state)
			switch a.NestedType.Nesting {
			case tfprotov6.SchemaObjectNestingModeList:
				attrs[a.Name] = tftypes.NewValue(typ, []tftypes.Value{obj})
			case tfprotov6.SchemaObjectNestingModeSet:
				attrs[a.Name] = tftypes.NewValue(typ, []tftypes.Value{obj})
			case tfprotov6.SchemaObjectNestingModeMap:
				attrs[a.Name] = tftypes.NewValue(typ, map[string]tftypes.Value{"k": obj})
			default:
				attrs[a.Name] = obj
			}
			continue
		}
		attrs[a.Name] = typedValue(typ, overrides[p])
	}
	for _, b := range block.BlockTypes {
		typ := b.ValueType()
		types[b.TypeName] = typ
		attrs[b.TypeName] = tftypes.NewValue(typ, nil)
	}
	return tftypes.NewValue(tftypes.Object{AttributeTypes: types}, attrs)
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// typedValue is a known value of typ: override when given, else a default.
func typedValue(typ tftypes.Type, override any) tftypes.Value {
	switch {
	case typ.Is(tftypes.String):
		if s, ok := override.(string); ok {
			return tftypes.NewValue(typ, s)
		}
		return tftypes.NewValue(typ, "x")
	case typ.Is(tftypes.Number):
		if n, ok := override.(int); ok {
			return tftypes.NewValue(typ, n)
		}
		return tftypes.NewValue(typ, 1)
	case typ.Is(tftypes.Bool):
		return tftypes.NewValue(typ, false)
	case typ.Is(tftypes.List{}):
		list, _ := typ.(tftypes.List)
		elem := list.ElementType
		if l, ok := override.([]any); ok {
			vals := make([]tftypes.Value, len(l))
			for i, e := range l {
				vals[i] = typedValue(elem, e)
			}
			return tftypes.NewValue(typ, vals)
		}
		return tftypes.NewValue(typ, []tftypes.Value{typedValue(elem, nil)})
	case typ.Is(tftypes.Set{}):
		set, _ := typ.(tftypes.Set)
		return tftypes.NewValue(typ, []tftypes.Value{typedValue(set.ElementType, nil)})
	case typ.Is(tftypes.Map{}):
		m, _ := typ.(tftypes.Map)
		return tftypes.NewValue(typ, map[string]tftypes.Value{"k": typedValue(m.ElementType, nil)})
	case typ.Is(tftypes.Object{}):
		o, _ := typ.(tftypes.Object)
		vals := map[string]tftypes.Value{}
		for name, at := range o.AttributeTypes {
			vals[name] = typedValue(at, nil)
		}
		return tftypes.NewValue(typ, vals)
	}
	panic(fmt.Sprintf("typedValue: unsupported type %s", typ))
}

// valuePaths lists the path of every known, non-null value below the root.
func valuePaths(t *testing.T, v tftypes.Value) []*tftypes.AttributePath {
	t.Helper()
	var paths []*tftypes.AttributePath
	err := tftypes.Walk(v, func(p *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if len(p.Steps()) > 0 && !v.IsNull() {
			paths = append(paths, p)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// withUnknownAt returns v with the value at target made unknown.
func withUnknownAt(t *testing.T, v tftypes.Value, target *tftypes.AttributePath) tftypes.Value {
	t.Helper()
	out, err := tftypes.Transform(v, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if p.Equal(target) {
			return tftypes.NewValue(v.Type(), tftypes.UnknownValue), nil
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nullExcept keeps only the top-level attributes in keep (with their values).
func nullExcept(t *testing.T, v tftypes.Value, keep map[string]any) tftypes.Value {
	t.Helper()
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		t.Fatal(err)
	}
	for name, a := range attrs {
		if val, ok := keep[name]; ok {
			attrs[name] = tftypes.NewValue(a.Type(), val)
		} else {
			attrs[name] = tftypes.NewValue(a.Type(), nil)
		}
	}
	return tftypes.NewValue(v.Type(), attrs)
}

// proposedNew is what Terraform proposes for an update: the configuration,
// with the prior state's value wherever the configuration leaves a
// computed attribute null.
func proposedNew(t *testing.T, config, state tftypes.Value) tftypes.Value {
	t.Helper()
	var c, s map[string]tftypes.Value
	if err := config.As(&c); err != nil {
		t.Fatal(err)
	}
	if err := state.As(&s); err != nil {
		t.Fatal(err)
	}
	out := map[string]tftypes.Value{}
	for name, v := range c {
		out[name] = v
		if v.IsNull() {
			out[name] = s[name]
		}
	}
	return tftypes.NewValue(config.Type(), out)
}

func dynamic(t *testing.T, typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

func errorSet(diags []*tfprotov6.Diagnostic) map[string]bool {
	out := map[string]bool{}
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			out[d.Summary+": "+d.Detail] = true
		}
	}
	return out
}

func hasErrorDiag(diags []*tfprotov6.Diagnostic) bool { return len(errorSet(diags)) > 0 }

func diagText(diags []*tfprotov6.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "[%v] %s: %s\n", d.Severity, d.Summary, d.Detail)
	}
	return b.String()
}

// insideReference reports whether p is a value inside a nested attribute
// (a reference to an upstream object), other than an id.
func insideReference(p *tftypes.AttributePath) bool {
	steps := p.Steps()
	if len(steps) < 2 {
		return false
	}
	last, ok := steps[len(steps)-1].(tftypes.AttributeName)
	return !ok || last != "id"
}

// withChangedAt returns v with the primitive value at target replaced by
// another known value of its type; ok is false when target is not a
// primitive.
func withChangedAt(t *testing.T, v tftypes.Value, target *tftypes.AttributePath) (tftypes.Value, bool) {
	t.Helper()
	changed := false
	out, err := tftypes.Transform(v, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !p.Equal(target) || v.IsNull() || !v.IsKnown() {
			return v, nil
		}
		switch typ := v.Type(); {
		case typ.Is(tftypes.String):
			var s string
			_ = v.As(&s)
			changed = true
			return tftypes.NewValue(typ, s+"-changed"), nil
		case typ.Is(tftypes.Bool):
			var b bool
			_ = v.As(&b)
			changed = true
			return tftypes.NewValue(typ, !b), nil
		case typ.Is(tftypes.Number):
			changed = true
			return tftypes.NewValue(typ, 2), nil
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, changed
}
