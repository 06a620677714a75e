package keyvault

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"golang.org/x/time/rate"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

func TestLimitersStayUnderTheServiceLimits(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      Options
		b         budget
		wantNil   bool
		wantRate  rate.Limit
		wantBurst int
	}{
		{name: "default creates", b: budgetCreate, wantRate: 27, wantBurst: 27},
		{name: "default others", b: budgetOther, wantRate: 360, wantBurst: 360},
		{name: "creates", opts: Options{CreatesPer10s: 100}, b: budgetCreate, wantRate: 10, wantBurst: 10},
		{name: "tiny creates", opts: Options{CreatesPer10s: 5}, b: budgetCreate, wantRate: 0.5, wantBurst: 1},
		{name: "creates near the limit", opts: Options{CreatesPer10s: 290}, b: budgetCreate, wantRate: 29, wantBurst: 10},
		{name: "creates at the limit", opts: Options{CreatesPer10s: 300}, b: budgetCreate, wantRate: 30, wantBurst: 1},
		{name: "others", opts: Options{OthersPer10s: 1000}, b: budgetOther, wantRate: 100, wantBurst: 100},
		{name: "creates off", opts: Options{CreatesPer10s: -1}, b: budgetCreate, wantNil: true},
		{name: "others off", opts: Options{OthersPer10s: -1}, b: budgetOther, wantNil: true},
		{name: "creates off leaves others on", opts: Options{CreatesPer10s: -1}, b: budgetOther, wantRate: 360, wantBurst: 360},
	} {
		l := newPacer(tc.opts).limiters[tc.b]
		if tc.wantNil {
			if l != nil {
				t.Errorf("%s: want no pacing", tc.name)
			}
			continue
		}
		if l == nil {
			t.Errorf("%s: no pacing", tc.name)
			continue
		}
		if l.Limit() != tc.wantRate || l.Burst() != tc.wantBurst {
			t.Errorf("%s: rate %v burst %d, want %v and %d", tc.name, l.Limit(), l.Burst(), tc.wantRate, tc.wantBurst)
		}
	}
	// The most a 10-second window can see: a full burst plus 10 s of refill.
	p := newPacer(Options{})
	for b, limit := range map[budget]int{budgetCreate: ServiceCreatesPer10s, budgetOther: ServiceOthersPer10s} {
		l := p.limiters[b]
		if worst := float64(l.Burst()) + 10*float64(l.Limit()); worst > float64(limit) {
			t.Errorf("default %s pacing allows %v requests in 10 s, above Key Vault's %d", b, worst, limit)
		}
	}
}

type noCredential struct{}

func (noCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("no token in a unit test")
}

// TestVaultsShareTheirVaultsBudgets: two identities of one vault draw on
// its budgets, since Key Vault throttles per vault; another vault has its own.
func TestVaultsShareTheirVaultsBudgets(t *testing.T) {
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
	if asProvider.pacer == nil || asProvider.pacer != asApplication.pacer {
		t.Error("two identities of one vault have separate budgets")
	}
	if elsewhere.pacer == asProvider.pacer {
		t.Error("two vaults share budgets")
	}
	for _, b := range []budget{budgetCreate, budgetOther} {
		if asProvider.pacer.limiters[b] == nil || asProvider.pacer.limiters[b] == elsewhere.pacer.limiters[b] {
			t.Errorf("%s budget: not paced, or shared between vaults", b)
		}
	}
	if asProvider.pacer.limiters[budgetCreate] == asProvider.pacer.limiters[budgetOther] {
		t.Error("creates and others share one limiter")
	}
}

// TestEveryCallIsPacedOnItsBudget: which method paces on which budget, and
// that this matches what the vault saw: every request the package sends
// (the bearer challenge probe aside) is paced once, Set Secret on the create
// budget and everything else, the escrow's disable included, on the other.
func TestEveryCallIsPacedOnItsBudget(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.vault(t, Identity{})
	ctx := context.Background()
	first, err := v.SetSecretValue(ctx, testSecretName, SecretWrite{Value: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.SetSecretValue(ctx, "gone", SecretWrite{Value: "v"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Client().DeleteSecret(ctx, "gone", nil); err != nil {
		t.Fatal(err)
	}
	disabled := false

	for _, tc := range []struct {
		name          string
		call          func() error
		creates, oth  int64
		vaultRequests map[string]int
	}{
		{"SetSecretValue", func() error {
			_, err := v.SetSecretValue(ctx, testSecretName, SecretWrite{Value: "v2", Tags: map[string]string{"k": "v"}})
			return err
		}, 1, 0, map[string]int{kvemulator.OpSetSecret: 1}},
		{"UpdateSecretVersion (the escrow's disable)", func() error {
			return v.UpdateSecretVersion(ctx, testSecretName, first.Version, map[string]string{"state": "done"}, &disabled)
		}, 0, 1, map[string]int{kvemulator.OpUpdateSecretProperties: 1}},
		{"GetSecretValue", func() error {
			_, err := v.GetSecretValue(ctx, testSecretName, "")
			return err
		}, 0, 1, map[string]int{kvemulator.OpGetSecret: 1}},
		{"SecretProperties of a live secret", func() error {
			_, err := v.SecretProperties(ctx, testSecretName)
			return err
		}, 0, 1, map[string]int{kvemulator.OpGetSecret: 1}},
		{"LatestSecret of a soft-deleted secret", func() error {
			s, err := v.LatestSecret(ctx, "gone")
			if err == nil && s.Status != SecretSoftDeleted {
				err = errors.New("not soft-deleted")
			}
			return err
		}, 0, 2, map[string]int{kvemulator.OpGetSecret: 1, kvemulator.OpGetDeletedSecret: 1}},
		{"SecretVersions", func() error {
			_, err := v.SecretVersions(ctx, testSecretName)
			return err
		}, 0, 1, map[string]int{kvemulator.OpGetSecretVersions: 1}},
		{"ListSecrets", func() error {
			_, err := v.ListSecrets(ctx)
			return err
		}, 0, 1, map[string]int{kvemulator.OpGetSecrets: 1}},
		{"CheckListAccess", func() error { return v.CheckListAccess(ctx) }, 0, 1, map[string]int{kvemulator.OpGetSecrets: 1}},
	} {
		f.emu.ResetRequestCounts()
		before := [2]int64{v.pacer.paced[budgetCreate].Load(), v.pacer.paced[budgetOther].Load()}
		if err := tc.call(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		creates := v.pacer.paced[budgetCreate].Load() - before[budgetCreate]
		others := v.pacer.paced[budgetOther].Load() - before[budgetOther]
		if creates != tc.creates || others != tc.oth {
			t.Errorf("%s: paced %d creates and %d others, want %d and %d", tc.name, creates, others, tc.creates, tc.oth)
		}
		got := f.emu.RequestCounts()
		delete(got, kvemulator.CountUnauthorized) // azsecrets' challenge probe, once per client
		var seenCreates, seenOthers int64
		for op, n := range got {
			if op == kvemulator.OpSetSecret {
				seenCreates += int64(n)
			} else {
				seenOthers += int64(n)
			}
		}
		if seenCreates != creates || seenOthers != others || len(got) != len(tc.vaultRequests) {
			t.Errorf("%s: the vault saw %v, want %v (as paced)", tc.name, got, tc.vaultRequests)
		}
		for op, n := range tc.vaultRequests {
			if got[op] != n {
				t.Errorf("%s: the vault saw %d %s, want %d", tc.name, got[op], op, n)
			}
		}
	}
}

// TestCreateBudgetDoesNotHoldBackOthers: with the create budget spent,
// updating properties (the escrow's disable) and reads go on unhindered.
func TestCreateBudgetDoesNotHoldBackOthers(t *testing.T) {
	t.Parallel()
	p := NewPool(Options{CreatesPer10s: 1}, noCredential{}, "test")
	v, err := p.Vault("https://three.vault.azure.net/", Identity{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := v.pace(ctx, budgetCreate); err != nil { // the one token of the burst
		t.Fatal(err)
	}
	// Wait fails at once when the wait would outlast the deadline.
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := v.pace(short, budgetCreate); err == nil {
		t.Fatal("a second create within 10 s at 1 per 10 s was not held back")
	}
	for range 100 {
		if err := v.pace(short, budgetOther); err != nil {
			t.Fatalf("an other request waited for the create budget: %v", err)
		}
	}
}
