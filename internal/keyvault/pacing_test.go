package keyvault

import (
	"context"
	"errors"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"golang.org/x/time/rate"
)

func TestWriteLimiterStaysUnderTheServiceLimit(t *testing.T) {
	for _, tc := range []struct {
		per10s    int
		wantNil   bool
		wantRate  rate.Limit
		wantBurst int
	}{
		{per10s: 0, wantRate: 27, wantBurst: 27},
		{per10s: 100, wantRate: 10, wantBurst: 10},
		{per10s: 5, wantRate: 0.5, wantBurst: 1},
		{per10s: -1, wantNil: true},
	} {
		l := newWriteLimiter(tc.per10s)
		if tc.wantNil {
			if l != nil {
				t.Errorf("per10s=%d: want no pacing", tc.per10s)
			}
			continue
		}
		if l.Limit() != tc.wantRate || l.Burst() != tc.wantBurst {
			t.Errorf("per10s=%d: rate %v burst %d, want %v and %d", tc.per10s, l.Limit(), l.Burst(), tc.wantRate, tc.wantBurst)
		}
		// The most a 10-second window can see: a full burst plus 10 s of refill.
		if worst := float64(l.Burst()) + 10*float64(l.Limit()); tc.per10s == 0 && worst > 300 {
			t.Errorf("default pacing allows %v writes in 10 s, above Key Vault's 300", worst)
		}
	}
}

type noCredential struct{}

func (noCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("no token in a unit test")
}

// TestVaultsShareTheirVaultsWriteBudget: two identities writing to one vault
// draw on one budget, since Key Vault throttles per vault; another vault has
// its own.
func TestVaultsShareTheirVaultsWriteBudget(t *testing.T) {
	p := NewPool(Options{}, noCredential{}, "test")
	asProvider, err := p.Vault("https://one.vault.azure.net/", Identity{})
	if err != nil {
		t.Fatal(err)
	}
	asApplication, err := p.Vault("https://ONE.vault.azure.net", Identity{TenantID: "t", ClientID: "c", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := p.Vault("https://two.vault.azure.net/", Identity{})
	if err != nil {
		t.Fatal(err)
	}
	if asProvider == asApplication {
		t.Fatal("two identities share one client")
	}
	if asProvider.writes == nil || asProvider.writes != asApplication.writes {
		t.Error("two identities of one vault have separate write budgets")
	}
	if elsewhere.writes == asProvider.writes {
		t.Error("two vaults share a write budget")
	}
}
