package kvemulator_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

// latestValue is the value of a secret's latest version.
func latestValue(t *testing.T, client *azsecrets.Client, name string) string {
	t.Helper()
	got, err := client.GetSecret(ctxFor(t), name, "", nil)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return *got.Value
}

// waitVersions polls until the secret has want versions or the deadline
// passes, and returns the last count seen.
func waitVersions(t *testing.T, client *azsecrets.Client, name string, want int, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := versionCount(t, client, name)
		if n == want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitHeld polls Held until it reports want or the time is up.
func waitHeld(s *stack, id string, want int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for s.emulator.Held(id) != want {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// TestDelayedWriteWhoseClientGaveUp: a write held by a "delay" fault whose
// client gives up before the delay ends (its context times out, its HTTP
// client times out) is dropped, whether the delay then runs out or the fault
// is removed; with "delay_land" the same write lands after its client gave
// up. Both with the real azsecrets client, checking afterwards whether the
// version exists.
func TestDelayedWriteWhoseClientGaveUp(t *testing.T) {
	t.Parallel()
	const secretName = "held"
	// giveUp is how a client gives up on a held write: by its context's
	// deadline (as the provider's per-operation timeouts do) or by its HTTP
	// client's timeout (keyvault.HTTPClientWithCA sets one).
	giveUp := map[string]func(t *testing.T, s *stack) (*azsecrets.Client, context.Context){
		"context deadline": func(t *testing.T, s *stack) (*azsecrets.Client, context.Context) {
			client, _ := s.newClient(t, clientOptions{maxRetries: -1})
			ctx, cancel := context.WithTimeout(ctxFor(t), 150*time.Millisecond)
			t.Cleanup(cancel)
			return client, ctx
		},
		"http client timeout": func(t *testing.T, s *stack) (*azsecrets.Client, context.Context) {
			client, _ := s.newClient(t, clientOptions{maxRetries: -1, httpTimeout: 400 * time.Millisecond})
			// The first call fetches the token and passes the challenge, so
			// that the timeout only runs against the held write.
			if _, err := client.GetSecret(ctxFor(t), secretName, "", nil); err != nil {
				t.Fatal(err)
			}
			return client, ctxFor(t)
		},
	}
	// release ends the hold: the delay runs out, or the test removes the
	// fault (as the provider's fault matrix does after killing terraform).
	release := map[string]struct {
		delay time.Duration
		end   func(s *stack, id string)
	}{
		"delay runs out": {delay: 900 * time.Millisecond, end: func(*stack, string) {}},
		"fault removed":  {delay: time.Hour, end: func(s *stack, id string) { s.emulator.RemoveFault(id) }},
	}

	for how, start := range giveUp {
		for ending, rel := range release {
			for _, action := range []string{kvemulator.FaultDelay, kvemulator.FaultDelayLand} {
				t.Run(action+"/"+how+"/"+ending, func(t *testing.T) {
					t.Parallel()
					s := startStack(t, kvemulator.Options{})
					reader, _ := s.newClient(t, clientOptions{})
					if _, err := reader.SetSecret(ctxFor(t), secretName, azsecrets.SetSecretParameters{Value: ptr("before")}, nil); err != nil {
						t.Fatal(err)
					}
					client, ctx := start(t, s)

					id := s.emulator.InjectFault(kvemulator.Fault{Vault: s.vaultName, Method: http.MethodPut, Path: "^/secrets/" + secretName + "$", Count: 1, Action: action, Delay: rel.delay})
					began := time.Now()
					_, err := client.SetSecret(ctx, secretName, azsecrets.SetSecretParameters{Value: ptr("held-write")}, nil)
					if err == nil {
						t.Fatalf("the held write answered after %v; its client should have given up", time.Since(began))
					}
					if rel.delay < time.Hour && time.Since(began) >= rel.delay {
						t.Fatalf("the client gave up after %v, not before the %v delay ended: the test proves nothing", time.Since(began), rel.delay)
					}
					if action == kvemulator.FaultDelay {
						// The emulator sees the client hang up and drops the
						// call, before the delay ends and before any removal.
						if !waitHeld(s, id, 0, 5*time.Second) {
							t.Fatalf("delay: the call is still held %v after its client gave up", time.Since(began))
						}
						if rel.delay < time.Hour && time.Since(began) >= rel.delay {
							t.Fatalf("delay: the call was dropped only after its delay ended")
						}
					} else if n := s.emulator.Held(id); n != 1 {
						t.Fatalf("delay_land: the fault holds %d calls after the client gave up, want 1", n)
					}
					rel.end(s, id)

					if action == kvemulator.FaultDelayLand {
						if n := waitVersions(t, reader, secretName, 2, rel.delay%time.Hour+10*time.Second); n != 2 {
							t.Fatalf("delay_land: %d versions after the hold ended, want 2 (the write lands after its client gave up)", n)
						}
						if got := latestValue(t, reader, secretName); got != "held-write" {
							t.Errorf("delay_land: latest value %q, want the held write's", got)
						}
						if !waitHeld(s, id, 0, 5*time.Second) {
							t.Errorf("delay_land: the call still counts as held after it landed")
						}
						return
					}
					// delay: the call was dropped (Held is 0 only once the
					// handler is done with it); past the end of the hold the
					// write must still be missing.
					if wait := time.Until(began.Add(rel.delay%time.Hour + 50*time.Millisecond)); wait > 0 {
						time.Sleep(wait)
					}
					if n := versionCount(t, reader, secretName); n != 1 {
						t.Fatalf("delay: %d versions, want 1: the write whose client gave up was applied", n)
					}
					if got := latestValue(t, reader, secretName); got != "before" {
						t.Errorf("delay: latest value %q, want %q", got, "before")
					}
					// The vault works on: the next write is applied once.
					if _, err := reader.SetSecret(ctxFor(t), secretName, azsecrets.SetSecretParameters{Value: ptr("after")}, nil); err != nil {
						t.Fatal(err)
					}
					if n := versionCount(t, reader, secretName); n != 2 {
						t.Errorf("%d versions after the next write, want 2", n)
					}
				})
			}
		}
	}
}

// TestDelayedWriteWithAWaitingClient: both delay actions serve a write whose
// client is still waiting when the hold ends, and answer it.
func TestDelayedWriteWithAWaitingClient(t *testing.T) {
	t.Parallel()
	for _, action := range []string{kvemulator.FaultDelay, kvemulator.FaultDelayLand} {
		for _, removed := range []bool{false, true} {
			name := action + "/delay runs out"
			if removed {
				name = action + "/fault removed"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := startStack(t, kvemulator.Options{})
				client, _ := s.newClient(t, clientOptions{maxRetries: -1})
				ctx := ctxFor(t)
				if _, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v1")}, nil); err != nil {
					t.Fatal(err)
				}
				delay := 300 * time.Millisecond
				if removed {
					delay = time.Hour
				}
				id := s.emulator.InjectFault(kvemulator.Fault{Vault: s.vaultName, Method: http.MethodPut, Path: "^/secrets/app$", Count: 1, Action: action, Delay: delay})
				if removed {
					time.AfterFunc(300*time.Millisecond, func() { s.emulator.RemoveFault(id) })
				}
				start := time.Now()
				got, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v2")}, nil)
				if err != nil {
					t.Fatalf("held write with a waiting client: %v", err)
				}
				if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
					t.Errorf("the write was not held (answered after %v)", elapsed)
				}
				if *got.Value != "v2" || latestValue(t, client, "app") != "v2" {
					t.Errorf("the held write was answered %q but not applied", *got.Value)
				}
				if n := versionCount(t, client, "app"); n != 2 {
					t.Errorf("%d versions, want 2", n)
				}
			})
		}
	}
}

// TestDelayedWriteAbortedByClose: Close aborts held writes of both actions
// unanswered instead of leaving their clients hanging.
func TestDelayedWriteAbortedByClose(t *testing.T) {
	t.Parallel()
	for _, action := range []string{kvemulator.FaultDelay, kvemulator.FaultDelayLand} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			s := startStack(t, kvemulator.Options{})
			client, _ := s.newClient(t, clientOptions{maxRetries: -1})
			s.emulator.InjectFault(kvemulator.Fault{Vault: s.vaultName, Method: http.MethodPut, Action: action, Delay: time.Hour})
			time.AfterFunc(300*time.Millisecond, func() { _ = s.emulator.Close() })
			start := time.Now()
			_, err := client.SetSecret(ctxFor(t), "app", azsecrets.SetSecretParameters{Value: ptr("v")}, nil)
			if err == nil {
				t.Fatal("a write held until Close was answered")
			}
			if errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
				t.Errorf("Close did not abort the held write: %v after %v", err, time.Since(start))
			}
		})
	}
}
