package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"time"
)

// profileDirEnv names a directory the plugin writes CPU and heap profiles
// to, for measuring the provider under a real terraform run: Terraform
// passes its environment to the plugins it starts, so
//
//	SEGURA_PROVIDER_PPROF_DIR=/tmp/prof terraform apply
//
// leaves cpu-<pid>.pprof (the plugin's whole life), heap-<pid>.pprof
// (allocations over its life, and what was in use at the end, after a GC)
// and heap-peak-<pid>.pprof (what was in use when the live heap was at its
// largest, sampled every 250 ms: what decides the plugin's peak memory;
// heap-peak-<pid>-goroutines.txt beside it lists what was running then)
// there for `go tool pprof`. One set per plugin process; Terraform starts
// one per command (and one more for validation on some commands).
const profileDirEnv = "SEGURA_PROVIDER_PPROF_DIR"

// startProfiling starts the CPU profile when profileDirEnv is set and
// returns the function that stops it and writes the heap profile. A
// profiling problem is printed to stderr (Terraform's log) and never stops
// the provider.
func startProfiling() (stop func()) {
	dir := os.Getenv(profileDirEnv)
	if dir == "" {
		return func() {}
	}
	pid := os.Getpid()
	warn := func(err error) { fmt.Fprintf(os.Stderr, "[WARN] %s: %v\n", profileDirEnv, err) }
	if err := os.MkdirAll(dir, 0o755); err != nil {
		warn(err)
		return func() {}
	}
	cpu, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", pid)))
	if err != nil {
		warn(err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		warn(err)
		_ = cpu.Close()
		return func() {}
	}
	done := make(chan struct{})
	peakStopped := make(chan struct{})
	go func() {
		defer close(peakStopped)
		writePeakHeapProfiles(filepath.Join(dir, fmt.Sprintf("heap-peak-%d.pprof", pid)), done, warn)
	}()
	return func() {
		close(done)
		<-peakStopped
		pprof.StopCPUProfile()
		if err := cpu.Close(); err != nil {
			warn(err)
		}
		runtime.GC()
		if err := writeProfile(filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", pid)), "allocs", 0); err != nil {
			warn(err)
		}
	}
}

// writePeakHeapProfiles samples the live heap every 250 ms until done and
// rewrites path with an in-use heap profile whenever it is larger than the
// largest yet by a tenth.
func writePeakHeapProfiles(path string, done <-chan struct{}, warn func(error)) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		live := sample[0].Value.Uint64()
		if live <= peak+peak/10 {
			continue
		}
		peak = live
		if err := writeProfile(path, "heap", 0); err != nil {
			warn(err)
			return
		}
		// What was running then: the goroutines that hold the live heap.
		if err := writeProfile(strings.TrimSuffix(path, ".pprof")+"-goroutines.txt", "goroutine", 1); err != nil {
			warn(err)
			return
		}
	}
}

// writeProfile writes the runtime profile name to path (debug as
// pprof.Profile.WriteTo takes it: 0 for the protobuf form).
func writeProfile(path, name string, debug int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = pprof.Lookup(name).WriteTo(f, debug)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
