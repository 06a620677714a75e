package keyvault

import (
	"context"

	"golang.org/x/time/rate"
)

// DefaultWritesPer10s keeps a vault's secret writes at 90% of Key Vault's
// documented limit (300 per 10 seconds per vault), so that a large apply
// does not spend its time in 429s; other clients of the vault get the rest.
const DefaultWritesPer10s = 270

func newWriteLimiter(per10s int) *rate.Limiter {
	switch {
	case per10s < 0:
		return nil
	case per10s == 0:
		per10s = DefaultWritesPer10s
	}
	// A burst of a tenth of the budget: any 10-second window then sees at
	// most 1.1 times the budget, still under the service's limit at the default.
	burst := max(1, per10s/10)
	return rate.NewLimiter(rate.Limit(float64(per10s)/10), burst)
}

// paceWrite waits for the vault's write budget.
func (v *Vault) paceWrite(ctx context.Context) error {
	if v.writes == nil {
		return nil
	}
	return v.writes.Wait(ctx)
}
