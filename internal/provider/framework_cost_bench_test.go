package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// BenchmarkFrameworkCost measures what terraform-plugin-framework itself
// spends on the requests a plan makes of one resource (ValidateResourceConfig,
// UpgradeResourceState, ReadResource, PlanResourceChange, with the state
// unchanged), for the three resources a credential needs, against a floor:
// the same schema with every reference to an upstream resource (DESIGN.md §2:
// the whole upstream object, as an object attribute) replaced by the
// upstream's id, a string. That is what passing ids instead of whole objects
// would leave of the framework's work; Terraform core's side of the same
// choice is in make bench's CPU rows.
//
// The resources served here have the real schemas but no behaviour of their
// own (no validators of ours, no ModifyPlan, Read returns the state), so the
// figures are the framework's alone. The values are a real state, recorded
// from an apply of one rotation into one secret (testdata/framework_cost,
// names and addresses replaced). Run with
//
//	go test -run '^$' -bench BenchmarkFrameworkCost -benchmem ./internal/provider/
//
// and compare each resource's objects/ and ids/ lines.
func BenchmarkFrameworkCost(b *testing.B) {
	ctx := context.Background()
	for _, rc := range []struct {
		file string
		new  func() resource.Resource
	}{
		{"credential.json", NewCredentialResource},
		{"keyvault_sync.json", NewKeyVaultSyncResource},
		{"credential_rotation.json", NewCredentialRotationResource},
	} {
		res := rc.new()
		var md resource.MetadataResponse
		res.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "segura"}, &md)
		var sr resource.SchemaResponse
		res.Schema(ctx, resource.SchemaRequest{}, &sr)
		raw, err := os.ReadFile(filepath.Join("testdata", "framework_cost", rc.file))
		if err != nil {
			b.Fatal(err)
		}
		var state map[string]any
		if err := json.Unmarshal(raw, &state); err != nil {
			b.Fatal(err)
		}
		for _, v := range []struct {
			name   string
			schema schema.Schema
			state  map[string]any
		}{
			{"objects", sr.Schema, state},
			{"ids", idsSchema(sr.Schema), idsState(sr.Schema, state)},
		} {
			b.Run(strings.TrimPrefix(md.TypeName, "segura_")+"/"+v.name, func(b *testing.B) {
				requests := newFrameworkCostRequests(b, v.schema, v.state)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					requests.plan(b)
				}
			})
		}
	}
}

// referenceKind tells a reference attribute (an object, in our resource
// schemas always a reference to an upstream resource) and a list of them from
// the other attributes.
func referenceKind(a schema.Attribute) (one, list bool) {
	if _, ok := a.(schema.ObjectAttribute); ok {
		return true, false
	}
	if l, ok := a.(schema.ListAttribute); ok {
		_, list = l.ElementType.(types.ObjectType)
	}
	return false, list
}

// idsSchema is s with each reference attribute replaced by a string
// attribute, or a list of strings, with the same optionality.
func idsSchema(s schema.Schema) schema.Schema {
	attrs := make(map[string]schema.Attribute, len(s.Attributes))
	for name, a := range s.Attributes {
		switch one, list := referenceKind(a); {
		case one:
			attrs[name] = schema.StringAttribute{Required: a.IsRequired(), Optional: a.IsOptional(), Computed: a.IsComputed()}
		case list:
			attrs[name] = schema.ListAttribute{ElementType: types.StringType, Required: a.IsRequired(), Optional: a.IsOptional(), Computed: a.IsComputed()}
		default:
			attrs[name] = a
		}
	}
	s.Attributes = attrs
	return s
}

// idsState is a state of s with each reference replaced by its id, for
// idsSchema(s).
func idsState(s schema.Schema, state map[string]any) map[string]any {
	id := func(v any) any {
		if m, ok := v.(map[string]any); ok {
			return m["id"]
		}
		return v
	}
	out := make(map[string]any, len(state))
	for name, v := range state {
		switch one, list := referenceKind(s.Attributes[name]); {
		case one:
			out[name] = id(v)
		case list:
			if list, ok := v.([]any); ok {
				ids := make([]any, len(list))
				for i, e := range list {
					ids[i] = id(e)
				}
				out[name] = ids
			} else {
				out[name] = v
			}
		default:
			out[name] = v
		}
	}
	return out
}

// frameworkCostRequests are the requests of one resource's plan, ready to
// send to a provider server that serves a behaviourless resource of the
// schema.
type frameworkCostRequests struct {
	server tfprotov6.ProviderServer
	typ    string
	// The state as stored (JSON) and as sent (msgpack), and the
	// configuration: the state less what only the provider sets.
	stateJSON     []byte
	state, config *tfprotov6.DynamicValue
	version       int64
}

func newFrameworkCostRequests(b *testing.B, s schema.Schema, state map[string]any) *frameworkCostRequests {
	b.Helper()
	ctx := context.Background()
	const typ = "bench_shape"
	server, err := providerserver.NewProtocol6WithError(&shapeProvider{schema: s})()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{}); err != nil {
		b.Fatal(err)
	}
	objType := s.Type().TerraformType(ctx)
	stateJSON, err := json.Marshal(state)
	if err != nil {
		b.Fatal(err)
	}
	config := make(map[string]any, len(state))
	for name, v := range state {
		if a, ok := s.Attributes[name]; ok && a.IsComputed() && !a.IsOptional() {
			v = nil
		}
		config[name] = v
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		b.Fatal(err)
	}
	return &frameworkCostRequests{
		server: server, typ: typ, stateJSON: stateJSON, version: s.Version,
		state:  dynamicValueFromJSON(b, objType, stateJSON),
		config: dynamicValueFromJSON(b, objType, configJSON),
	}
}

func dynamicValueFromJSON(b *testing.B, typ tftypes.Type, raw []byte) *tfprotov6.DynamicValue {
	b.Helper()
	v, err := (&tfprotov6.RawState{JSON: raw}).UnmarshalWithOpts(typ, tfprotov6.UnmarshalOpts{})
	if err != nil {
		b.Fatal(err)
	}
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		b.Fatal(err)
	}
	return &dv
}

// plan sends the requests of a plan with refresh, in Terraform's order.
func (r *frameworkCostRequests) plan(b *testing.B) {
	ctx := context.Background()
	check := func(rpc string, err error, diags []*tfprotov6.Diagnostic) {
		if err != nil {
			b.Fatalf("%s: %v", rpc, err)
		}
		for _, d := range diags {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				b.Fatalf("%s: %s: %s", rpc, d.Summary, d.Detail)
			}
		}
	}
	v, err := r.server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: r.typ, Config: r.config})
	check("ValidateResourceConfig", err, v.Diagnostics)
	u, err := r.server.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{TypeName: r.typ, Version: r.version, RawState: &tfprotov6.RawState{JSON: r.stateJSON}})
	check("UpgradeResourceState", err, u.Diagnostics)
	rd, err := r.server.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: r.typ, CurrentState: u.UpgradedState})
	check("ReadResource", err, rd.Diagnostics)
	p, err := r.server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: r.typ, PriorState: rd.NewState, ProposedNewState: rd.NewState, Config: r.config,
	})
	check("PlanResourceChange", err, p.Diagnostics)
	if len(p.RequiresReplace) > 0 {
		b.Fatalf("PlanResourceChange: the unchanged state plans a replacement of %v", p.RequiresReplace)
	}
}

// shapeProvider serves one resource, bench_shape, of a given schema and no
// behaviour of its own.
type shapeProvider struct{ schema schema.Schema }

var _ fwprovider.Provider = (*shapeProvider)(nil)

func (p *shapeProvider) Metadata(_ context.Context, _ fwprovider.MetadataRequest, resp *fwprovider.MetadataResponse) {
	resp.TypeName = "bench"
}

func (p *shapeProvider) Schema(context.Context, fwprovider.SchemaRequest, *fwprovider.SchemaResponse) {
}

func (p *shapeProvider) Configure(context.Context, fwprovider.ConfigureRequest, *fwprovider.ConfigureResponse) {
}

func (p *shapeProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &shapeResource{schema: p.schema} }}
}

func (p *shapeProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

type shapeResource struct{ schema schema.Schema }

var _ resource.Resource = (*shapeResource)(nil)

func (r *shapeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_shape"
}

func (r *shapeResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = r.schema
}

func (r *shapeResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (r *shapeResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (r *shapeResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (r *shapeResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// TestFrameworkCostIdsShape: the floor's schema and state fit each other and
// keep every non-reference attribute, so the benchmark compares like with
// like.
func TestFrameworkCostIdsShape(t *testing.T) {
	ctx := context.Background()
	var sr resource.SchemaResponse
	NewCredentialRotationResource().Schema(ctx, resource.SchemaRequest{}, &sr)
	raw, err := os.ReadFile(filepath.Join("testdata", "framework_cost", "credential_rotation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	ids := idsState(sr.Schema, state)
	if ids["credential"] != jsonObject(t, state["credential"])["id"] {
		t.Errorf("credential = %v, want the credential's id", ids["credential"])
	}
	if fmt.Sprint(ids["syncs"]) != fmt.Sprint([]any{jsonObject(t, jsonList(t, state["syncs"])[0])["id"]}) {
		t.Errorf("syncs = %v, want the bindings' ids", ids["syncs"])
	}
	if ids["escrow_secret_name"] != state["escrow_secret_name"] || ids["rotation_count"] != state["rotation_count"] {
		t.Error("an attribute that is not a reference changed")
	}
	s := idsSchema(sr.Schema)
	js, err := json.Marshal(ids)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&tfprotov6.RawState{JSON: js}).UnmarshalWithOpts(s.Type().TerraformType(ctx), tfprotov6.UnmarshalOpts{}); err != nil {
		t.Errorf("the ids state does not fit the ids schema: %v", err)
	}
}
