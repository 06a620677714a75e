package keyvault

import (
	"context"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// Key Vault's documented limits for "Secrets, managed storage account keys,
// and vault transactions", as maximum transactions allowed in 10 seconds, per
// vault per region (https://learn.microsoft.com/en-us/azure/key-vault/general/service-limits):
// "Secret CREATE secret" 300, "All other transactions" 4,000. A create is Set
// Secret, a new version; every other secret operation (get, list, list
// versions, update properties, delete, get deleted, recover, backup,
// restore, purge) is an other transaction. A subscription-wide limit of
// five times the per-vault limits applies on top; the provider does not pace
// for it.
const (
	ServiceCreatesPer10s = 300
	ServiceOthersPer10s  = 4000
)

// DefaultCreatesPer10s and DefaultOthersPer10s keep the provider at 90% of
// each documented limit, so that a large apply does not spend its time in
// 429s and other clients of the vault get the rest.
const (
	DefaultCreatesPer10s = ServiceCreatesPer10s * 9 / 10 // 270
	DefaultOthersPer10s  = ServiceOthersPer10s * 9 / 10  // 3,600
)

// budget is one of Key Vault's two classes of secrets transactions.
type budget int

const (
	budgetCreate budget = iota // Set Secret: a new version
	budgetOther                // every other secret operation
)

func (b budget) String() string {
	if b == budgetCreate {
		return "create"
	}
	return "other"
}

// pacer paces the requests one process sends to one vault, in both classes;
// every Vault of that vault URL shares it, whatever the identity, since Key
// Vault throttles per vault.
type pacer struct {
	limiters [2]*rate.Limiter // by budget; nil: unpaced
	// paced counts the requests that went through pace, by budget, for tests.
	paced [2]atomic.Int64
}

func newPacer(o Options) *pacer {
	p := &pacer{}
	p.limiters[budgetCreate] = newLimiter(o.CreatesPer10s, DefaultCreatesPer10s, ServiceCreatesPer10s)
	p.limiters[budgetOther] = newLimiter(o.OthersPer10s, DefaultOthersPer10s, ServiceOthersPer10s)
	return p
}

// newLimiter returns a token bucket for per10s requests per 10 seconds (def
// when zero; nil, no pacing, when negative) under the service's limit.
//
// A bucket of rate r = per10s/10 per second and burst b lets through at most
// b + r*T requests in any interval of length T (the full bucket at its start,
// then the refill), so b + per10s in any 10-second window. The burst is a
// tenth of the budget, capped at what the service limit leaves above the
// budget: at the defaults 27 + 270 = 297 <= 300 creates and 360 + 3,600 =
// 3,960 <= 4,000 others in any 10 s window, 99% of each limit. A budget at or
// above the limit gets a burst of 1 and may exceed the limit by that one.
func newLimiter(per10s, def, serviceLimit int) *rate.Limiter {
	switch {
	case per10s < 0:
		return nil
	case per10s == 0:
		per10s = def
	}
	burst := max(1, min(per10s/10, serviceLimit-per10s))
	return rate.NewLimiter(rate.Limit(float64(per10s)/10), burst)
}

// pace waits for one request's turn in budget b of the vault.
func (v *Vault) pace(ctx context.Context, b budget) error {
	if v.pacer == nil {
		return nil
	}
	v.pacer.paced[b].Add(1)
	if l := v.pacer.limiters[b]; l != nil {
		return l.Wait(ctx)
	}
	return nil
}
