package main

import "runtime/debug"

// The plugin is a short-lived process that allocates far more than it keeps:
// a plan of 300 credentials allocates about 5 GiB in the framework's value
// conversions (schema walks per attribute) while the live heap stays near
// 20 MiB. With Go's default GOGC=100 the collector runs every ~20 MiB of
// allocation and took a fifth of the plugin's CPU. gcPercent spaces the
// collections out; memoryLimit is the ceiling that bounds the process's
// memory whatever the number of credentials: under it the runtime collects
// as often as it must, and returns freed memory to the system.
const (
	gcPercent   = 400
	memoryLimit = 80 << 20
)

// tuneGarbageCollector applies gcPercent and memoryLimit unless the user
// chose their own with GOGC or GOMEMLIMIT, which the runtime has already
// applied.
func tuneGarbageCollector(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
