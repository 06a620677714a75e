package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// The framework's handling of ValidateResourceConfig, UpgradeResourceState
// and PlanResourceChange is processor work only (no resource of ours calls
// out while validating or planning, but for a just-imported rotation), and
// its working set is large: every value of the request is converted and
// walked several times. Terraform sends up to its parallelism (10) of them
// at once; on a machine with fewer cores they only take turns, each holding
// its working set meanwhile, and the garbage collector has to mark all of
// them. cpuBoundGate lets as many of these requests run at once as there are
// processors to run them and queues the others before they allocate
// anything. Requests that wait on MongoDB or Key Vault (ReadResource,
// ApplyResourceChange, ...) are not gated. Measured with make bench on two
// cores (plugin CPU, medians of 3 rounds at 100 credentials): apply 10.95 s
// to 10.22 s, the plan after it 7.66 s to 6.95 s; at 300 credentials the
// plan's 35.5 s to 31.3 s (one round). The peak RSS did not change.

// gatedServer is what the framework's server implements: the provider
// server with list resources, actions and state stores. tf6server
// finds the optional RPCs by type assertion, so an interface the framework's
// server implements but this one leaves out would be hidden by the gate
// (TestGateKeepsOptionalRPCs checks).
type gatedServer interface {
	tfprotov6.ProviderServer
	tfprotov6.ListResourceServer
	tfprotov6.ActionServer
	tfprotov6.StateStoreServer
}

type cpuBoundGate struct {
	gatedServer
	slots chan struct{}
}

var _ gatedServer = cpuBoundGate{}

// gateCPUBound is the framework's server s behind a cpuBoundGate.
func gateCPUBound(s tfprotov6.ProviderServer) (tfprotov6.ProviderServer, error) {
	gs, ok := s.(gatedServer)
	if !ok {
		return nil, fmt.Errorf("the plugin framework's server %T lacks the list, action or state store RPCs the provider serves", s)
	}
	return newCPUBoundGate(gs), nil
}

// newCPUBoundGate gates s with one slot per processor, and at least two: a
// just-imported rotation's first plan reads Key Vault and MongoDB, and must
// not stop every other plan on a one-processor machine meanwhile.
func newCPUBoundGate(s gatedServer) cpuBoundGate {
	return cpuBoundGate{gatedServer: s, slots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
}

// enter waits for a slot; false when ctx ends first.
func (g cpuBoundGate) enter(ctx context.Context) bool {
	select {
	case g.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (g cpuBoundGate) leave() { <-g.slots }

func (g cpuBoundGate) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	if !g.enter(ctx) {
		return nil, ctx.Err()
	}
	defer g.leave()
	return g.gatedServer.ValidateResourceConfig(ctx, req)
}

func (g cpuBoundGate) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if !g.enter(ctx) {
		return nil, ctx.Err()
	}
	defer g.leave()
	return g.gatedServer.UpgradeResourceState(ctx, req)
}

func (g cpuBoundGate) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if !g.enter(ctx) {
		return nil, ctx.Err()
	}
	defer g.leave()
	return g.gatedServer.PlanResourceChange(ctx, req)
}
