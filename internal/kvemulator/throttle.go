package kvemulator

import (
	"math"
	"sync"
	"time"
)

// throttleSettings are the emulator-wide switch and limits; each vault keeps
// its own windows.
type throttleSettings struct {
	mu      sync.Mutex
	enabled bool
	limits  Limits
}

func (t *throttleSettings) set(enabled *bool, limits *Limits) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if enabled != nil {
		t.enabled = *enabled
	}
	if limits != nil {
		if limits.Creates > 0 {
			t.limits.Creates = limits.Creates
		}
		if limits.Others > 0 {
			t.limits.Others = limits.Others
		}
		if limits.Window > 0 {
			t.limits.Window = limits.Window
		}
	}
}

func (t *throttleSettings) get() (bool, Limits) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.enabled, t.limits
}

// slidingWindow counts accepted requests over the last window.
type slidingWindow struct {
	accepted []time.Time // oldest first
}

// admit records a request at now if fewer than limit were accepted during
// the window before it; otherwise it returns how long until a slot frees.
func (w *slidingWindow) admit(now time.Time, limit int, window time.Duration) (bool, time.Duration) {
	cutoff := now.Add(-window)
	drop := 0
	for drop < len(w.accepted) && !w.accepted[drop].After(cutoff) {
		drop++
	}
	w.accepted = w.accepted[drop:]
	if len(w.accepted) < limit {
		w.accepted = append(w.accepted, now)
		return true, 0
	}
	return false, w.accepted[len(w.accepted)-limit].Add(window).Sub(now)
}

// retryAfterSeconds rounds up to whole seconds, at least one, as Key Vault's
// Retry-After header does.
func retryAfterSeconds(wait time.Duration) int {
	seconds := int(math.Ceil(wait.Seconds()))
	if seconds < 1 {
		seconds = 1
	}
	return seconds
}
