package rotation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/mongomem"
	"github.com/segura-community/terraform-provider-segura/internal/password"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// TestThroughputOneVaultAtTheDocumentedLimits: 1,000 self-rotations, each
// credential with its own secret (and escrow) in one vault, 50 at a time,
// against the emulator throttling at Key Vault's documented limits (300
// creates and 4,000 other transactions per 10 s per vault). Each rotation
// creates two versions (the escrow staging and the secret), so the create
// budget bounds the run: 2,000 creates at the service's 30 per second is
// 66.7 s. The provider's pacer (270 per 10 s) must get every rotation through
// without a failure, keep the vault at or under 300 accepted creates in any
// 10 s window, and finish within 15% of the service's own bound.
//
// MongoDB is mongomem, whose logins cost a few milliseconds of CPU at the
// driver's least iteration count: FerretDB's (tens of milliseconds) would
// make MongoDB the bottleneck here instead of Key Vault. The users have
// SCRAM-SHA-256 credentials only, so each updateUser derives one key, not
// two. The test mostly sleeps on the pacer.
func TestThroughputOneVaultAtTheDocumentedLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 75 s (paced Key Vault writes)")
	}
	t.Parallel()
	const (
		rotations = 1000
		workers   = 50
		vaultName = "throughput-kv"
		clientID  = "33333333-3333-3333-3333-333333333333"
		secret    = "throughput-client-secret"
	)
	// Two creates per rotation, at the service's 300 per 10 s, plus 15%.
	perSecond := float64(kvemulator.DefaultLimits.Creates) / kvemulator.DefaultLimits.Window.Seconds()
	budget := time.Duration(1.15 * 2 * rotations / perSecond * float64(time.Second))
	ctx := context.Background()

	mongoServer, err := mongomem.Start(mongomem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mongoServer.Close() })
	// Self-rotation needs changeOwnPassword on the user's database: a custom
	// role, as the integration guide has users create on a real server.
	if err := mongoServer.CreateRole("admin", "rotateOwnPassword", []mongomem.Privilege{{DB: "admin", Actions: []string{"changeOwnPassword"}}}); err != nil {
		t.Fatal(err)
	}

	emu, err := kvemulator.Start(kvemulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	vaultURL, err := emu.AddVault(vaultName)
	if err != nil {
		t.Fatal(err)
	}
	emu.AddClient(clientID, secret)
	emu.SetAccessPolicy(vaultName, clientID, kvemulator.AllPermissions...)
	newVault := func(opts keyvault.Options) *keyvault.Vault {
		t.Helper()
		hc, err := keyvault.HTTPClientWithCA(emu.CACertFile())
		if err != nil {
			t.Fatal(err)
		}
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: emu.AuthorityHost()}
		opts.HTTPClient = hc
		opts.DisableChallengeResourceVerification = true
		opts.DisableInstanceDiscovery = true
		cred, err := azidentity.NewClientSecretCredential(emu.TenantID(), clientID, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Cloud: opts.Cloud, Transport: hc},
			DisableInstanceDiscovery: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		v, err := keyvault.NewPool(opts, cred, "throughput client").Vault(vaultURL, keyvault.Identity{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// Setup, unthrottled and unpaced: the users and their current passwords
	// in Key Vault, as the integration guide's prerequisites say.
	dep := mongodb.Deployment{Hosts: []string{mongoServer.Addr()}}
	seedVault := newVault(keyvault.Options{CreatesPer10s: -1, OthersPer10s: -1})
	requests := make([]Request, rotations)
	const original = "Original-Passw0rd!"
	err = forEach(rotations, workers, func(i int) error {
		username := fmt.Sprintf("tp_app_%04d", i)
		if err := mongoServer.CreateUser("admin", username, original, []string{mongomem.ScramSHA256}, mongomem.RoleRef{Role: "rotateOwnPassword", DB: "admin"}); err != nil {
			return err
		}
		secretName := fmt.Sprintf("tp-app-%04d", i)
		if _, err := seedVault.SetSecretValue(ctx, secretName, keyvault.SecretWrite{Value: original}); err != nil {
			return err
		}
		requests[i] = Request{
			Deployment: dep,
			Account:    mongodb.Identity{Username: username, AuthSource: "admin"},
			Escrow:     Escrow{SecretName: secretName + "-pending"},
			Bindings:   []Binding{{Label: "sync", SecretName: secretName, Format: secretvalue.Password, Scope: "orders/throughput"}},
			Policy:     password.Policy{Length: 24, MinLower: 2, MinUpper: 2, MinDigits: 2, MinSymbols: 2, Symbols: password.DefaultSymbols},
		}
		return nil
	})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}

	// The run: the provider's defaults (pacing at 90% of each limit, the
	// provider's retry policy) against the documented limits.
	emu.SetLimits(kvemulator.DefaultLimits)
	emu.SetThrottle(true)
	emu.ResetRequestCounts()
	mongoServer.ResetCommandCounts()
	mongoPool := mongodb.NewPool(mongodb.Defaults{ConnectTimeout: 5 * time.Second, ServerSelectionTimeout: 10 * time.Second})
	t.Cleanup(func() { _ = mongoPool.Close(context.Background()) })
	// Where the time goes, from the engine's progress messages: the steps
	// that wait for a create are the escrow staging and the secret write.
	var phaseMu sync.Mutex
	phases := map[string]time.Duration{}
	var phaseOrder []string
	v := newVault(keyvault.Options{Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: 4 * time.Second, MaxRetryDelay: 60 * time.Second}})

	var failures atomic.Int64
	var firstErrs sync.Map
	start := time.Now()
	_ = forEach(rotations, workers, func(i int) error {
		req := requests[i]
		req.Mongo = mongoPool
		req.Escrow.Vault = v
		req.Bindings[0].Vault = v
		req.Now = time.Now()
		last := time.Now()
		req.Progress = func(message string) {
			now := time.Now()
			step := message
			if _, rest, found := strings.Cut(message, ": "); found && strings.HasPrefix(message, "rotation ") {
				step = rest // "rotation <id>: <step>"
			}
			// The first words name the step; the rest names ids and accounts.
			if words := strings.Fields(step); len(words) > 4 {
				step = strings.Join(words[:4], " ") + " ..."
			}
			phaseMu.Lock()
			if _, seen := phases[step]; !seen {
				phaseOrder = append(phaseOrder, step)
			}
			phases[step] += now.Sub(last)
			phaseMu.Unlock()
			last = now
		}
		if _, err := Rotate(ctx, req); err != nil {
			if n := failures.Add(1); n <= 3 {
				firstErrs.Store(i, err)
			}
		}
		return nil
	})
	elapsed := time.Since(start)

	for _, step := range phaseOrder {
		t.Logf("  until %q: %v on average", step, (phases[step] / rotations).Round(time.Millisecond))
	}
	counts := emu.RequestCounts()
	maxCreates := emu.MaxCreatesPerWindow(vaultName, 10*time.Second)
	t.Logf("%d rotations into one vault, %d at a time: total %.1f s (budget %.1f s), max %d accepted creates in any 10 s window (limit %d), %d failures, %d 429s",
		rotations, workers, elapsed.Seconds(), budget.Seconds(), maxCreates, kvemulator.DefaultLimits.Creates, failures.Load(), counts[kvemulator.CountThrottled])
	t.Logf("vault requests: %v", counts)
	firstErrs.Range(func(k, e any) bool {
		t.Errorf("rotation %d: %v", k, e)
		return true
	})
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d rotations failed", n, rotations)
	}
	if maxCreates > kvemulator.DefaultLimits.Creates {
		t.Errorf("the vault accepted %d creates in one 10 s window, above Key Vault's %d", maxCreates, kvemulator.DefaultLimits.Creates)
	}
	if elapsed > budget {
		t.Errorf("%d rotations took %.1f s, more than %.1f s (1.15 x 2 creates x %d / %.0f per s)", rotations, elapsed.Seconds(), budget.Seconds(), rotations, perSecond)
	}
	// Three logins per self-rotation: the preflight's (which also reads the
	// user's mechanisms on its connection), updateUser's fresh one, which
	// only changes a password it still knows, and the verification of the
	// new password. No more: each is a key derivation on both sides.
	logins := 0
	for i := range rotations {
		logins += mongoServer.Logins("admin", requests[i].Account.Username)
	}
	t.Logf("MongoDB: %d logins (%.2f per rotation), at most %d connections open at once", logins, float64(logins)/rotations, mongoServer.PeakConnCount())
	if logins != 3*rotations {
		t.Errorf("%d MongoDB logins for %d rotations, want 3 per rotation", logins, rotations)
	}
	// Every client the engine opens is closed when its step ends, so the
	// connections follow the concurrency, not the number of rotations.
	if peak := mongoServer.PeakConnCount(); peak > 3*workers {
		t.Errorf("%d MongoDB connections open at once for %d concurrent rotations, want at most %d", peak, workers, 3*workers)
	}
	if got := counts[kvemulator.OpSetSecret]; got != 2*rotations {
		t.Errorf("%d creates, want 2 per rotation (%d)", got, 2*rotations)
	}
}

// forEach runs fn(0..n-1) on workers goroutines and returns the first error.
func forEach(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}
