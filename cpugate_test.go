package main

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/segura-community/terraform-provider-segura/internal/provider"
)

// TestGateKeepsOptionalRPCs: every optional server interface the
// framework's server implements, the gate implements too, or tf6server
// would answer those RPCs "unimplemented".
func TestGateKeepsOptionalRPCs(t *testing.T) {
	framework := providerserver.NewProtocol6(provider.New("test")())()
	gate, err := gateCPUBound(framework)
	if err != nil {
		t.Fatal(err)
	}
	for _, optional := range []reflect.Type{
		reflect.TypeFor[tfprotov6.ListResourceServer](),
		reflect.TypeFor[tfprotov6.ActionServer](),
		reflect.TypeFor[tfprotov6.StateStoreServer](),
	} {
		if reflect.TypeOf(framework).Implements(optional) && !reflect.TypeOf(gate).Implements(optional) {
			t.Errorf("the framework's server implements %v and the gate does not: add it to gatedServer", optional)
		}
	}
}

// countingServer records how many plan, validate and upgrade calls run at
// once, each held until release is closed; ReadResource is held the same way.
type countingServer struct {
	gatedServer
	release      chan struct{}
	running, max atomic.Int32
}

func (s *countingServer) hold() {
	n := s.running.Add(1)
	for {
		m := s.max.Load()
		if n <= m || s.max.CompareAndSwap(m, n) {
			break
		}
	}
	<-s.release
	s.running.Add(-1)
}

func (s *countingServer) PlanResourceChange(context.Context, *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	s.hold()
	return &tfprotov6.PlanResourceChangeResponse{}, nil
}

func (s *countingServer) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	s.hold()
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (s *countingServer) UpgradeResourceState(context.Context, *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	s.hold()
	return &tfprotov6.UpgradeResourceStateResponse{}, nil
}

func (s *countingServer) ReadResource(context.Context, *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	s.hold()
	return &tfprotov6.ReadResourceResponse{}, nil
}

// TestGateBoundsCPUBoundRequests: of twelve plan, validate and upgrade
// requests at once, only as many run as the gate has slots, the others
// waiting; reads are not gated; a request whose context ends while it waits
// returns the context's error without running.
func TestGateBoundsCPUBoundRequests(t *testing.T) {
	ctx := context.Background()
	inner := &countingServer{release: make(chan struct{})}
	gate := newCPUBoundGate(inner)
	slots := int32(cap(gate.slots))
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch i % 3 {
			case 0:
				_, err = gate.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{})
			case 1:
				_, err = gate.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{})
			default:
				_, err = gate.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{})
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	waitFor(t, func() bool { return inner.running.Load() == slots })
	time.Sleep(50 * time.Millisecond) // let any request that would slip through do so
	if got := inner.running.Load(); got != slots {
		t.Errorf("%d gated requests running at once, want %d (the slots)", got, slots)
	}

	// A read runs beside them.
	readDone := make(chan struct{})
	go func() {
		_, _ = gate.ReadResource(ctx, &tfprotov6.ReadResourceRequest{})
		close(readDone)
	}()
	waitFor(t, func() bool { return inner.running.Load() == slots+1 })

	// A plan whose context ends while it waits gives up.
	cctx, cancel := context.WithCancel(ctx)
	planErr := make(chan error, 1)
	go func() {
		_, err := gate.PlanResourceChange(cctx, &tfprotov6.PlanResourceChangeRequest{})
		planErr <- err
	}()
	cancel()
	if err := <-planErr; !errors.Is(err, context.Canceled) {
		t.Errorf("a plan cancelled while waiting: %v, want context.Canceled", err)
	}

	close(inner.release)
	wg.Wait()
	<-readDone
	if m := inner.max.Load(); m != slots+1 {
		t.Errorf("at most %d requests ran at once, want %d gated and one read", m, slots)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
