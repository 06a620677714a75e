package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGarbageCollector: the plugin's defaults apply unless the user set
// GOGC or GOMEMLIMIT, whose values the runtime has applied already.
func TestTuneGarbageCollector(t *testing.T) {
	restorePercent := debug.SetGCPercent(100)
	restoreLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(restorePercent)
		debug.SetMemoryLimit(restoreLimit)
	})
	current := func() (percent int, limit int64) {
		percent = debug.SetGCPercent(-1)
		debug.SetGCPercent(percent)
		return percent, debug.SetMemoryLimit(-1) // a negative limit reads it
	}
	for _, tc := range []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{"defaults", nil, gcPercent, memoryLimit},
		{"user's GOGC kept", map[string]string{"GOGC": "100"}, 100, memoryLimit},
		{"user's GOMEMLIMIT kept", map[string]string{"GOMEMLIMIT": "1GiB"}, gcPercent, math.MaxInt64},
		{"both kept", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, 100, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			tuneGarbageCollector(func(k string) string { return tc.env[k] })
			if p, l := current(); p != tc.wantPercent || l != tc.wantLimit {
				t.Errorf("GC percent %d, memory limit %d; want %d, %d", p, l, tc.wantPercent, tc.wantLimit)
			}
		})
	}
}
