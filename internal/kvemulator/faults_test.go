package kvemulator_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

// versionCount counts a secret's versions, 0 when it does not exist.
func versionCount(t *testing.T, client *azsecrets.Client, name string) int {
	t.Helper()
	n := 0
	for pager := client.NewListSecretPropertiesVersionsPager(name, nil); pager.More(); {
		page, err := pager.NextPage(ctxFor(t))
		var respErr *azcore.ResponseError
		if errors.As(err, &respErr) && respErr.StatusCode == 404 {
			return 0
		}
		if err != nil {
			t.Fatalf("listing versions of %s: %v", name, err)
		}
		n += len(page.Value)
	}
	return n
}

func TestRetryAfterStorm(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	client, transport := s.newClient(t, clientOptions{})
	ctx := ctxFor(t)
	if _, err := client.SetSecret(ctx, "orders-db", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
		t.Fatal(err)
	}

	s.emulator.InjectFault(kvemulator.Fault{
		Vault: s.vaultName, Method: http.MethodGet, Path: "^/secrets/orders-db/?$", Count: 3,
		Action: "status", Status: 429, Code: "Throttled", Message: "Request was not allowed because the vault is being throttled.", RetryAfter: "1",
	})
	start := time.Now()
	got, err := client.GetSecret(ctx, "orders-db", "", nil)
	if err != nil {
		t.Fatalf("GetSecret through a 429 storm: %v", err)
	}
	if *got.Value != "v" {
		t.Errorf("value %q", *got.Value)
	}
	throttled := transport.count(func(c call) bool { return c.status == 429 && c.retryAfter == "1" })
	if throttled != 3 {
		t.Errorf("saw %d 429 responses, want 3", throttled)
	}
	if elapsed := time.Since(start); elapsed < 3*time.Second {
		t.Errorf("retries did not honour Retry-After: done in %v", elapsed)
	}
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	client, transport := s.newClient(t, clientOptions{maxRetries: 10})
	ctx := ctxFor(t)

	s.emulator.SetLimits(kvemulator.Limits{Creates: 3, Others: 5, Window: time.Second})
	s.emulator.SetThrottle(true)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.SetSecret(ctx, "burst", azsecrets.SetSecretParameters{Value: ptr(strings.Repeat("x", i+1))}, nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("write did not get through throttling: %v", err)
		}
	}
	throttled := transport.count(func(c call) bool { return c.status == 429 })
	if throttled == 0 {
		t.Error("8 concurrent writes against a limit of 3 per second saw no 429")
	}
	for _, c := range transport.snapshot() {
		if c.status == 429 && c.retryAfter != "1" {
			t.Errorf("Retry-After %q, want whole seconds until a slot frees (1)", c.retryAfter)
		}
	}

	// Reads have their own budget; with throttling off nothing is limited.
	s.emulator.SetThrottle(false)
	if n := versionCount(t, client, "burst"); n != 8 {
		t.Errorf("%d versions, want 8", n)
	}
	before := transport.count(func(c call) bool { return c.status == 429 })
	for range 20 {
		if _, err := client.GetSecret(ctx, "burst", "", nil); err != nil {
			t.Fatal(err)
		}
	}
	if after := transport.count(func(c call) bool { return c.status == 429 }); after != before {
		t.Errorf("throttled with throttling off: %d new 429s", after-before)
	}

	// The 429 body is the service's.
	s.emulator.SetThrottle(true)
	noRetry, _ := s.newClient(t, clientOptions{maxRetries: -1})
	var lastErr error
	for range 10 {
		if _, lastErr = noRetry.GetSecret(ctx, "burst", "", nil); lastErr != nil {
			break
		}
	}
	respErr := responseError(t, lastErr, 429, "Throttled")
	if !strings.Contains(respErr.Error(), "Request was not allowed because the vault is being throttled") {
		t.Errorf("429 body: %v", respErr)
	}
}

func TestFaultActions(t *testing.T) {
	t.Parallel()

	t.Run("status", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, kvemulator.Options{})
		client, _ := s.newClient(t, clientOptions{maxRetries: -1})
		ctx := ctxFor(t)
		s.emulator.InjectFault(kvemulator.Fault{Method: http.MethodPut, Count: 1, Action: "status", Status: 500, Code: "InternalServerError", Message: "boom"})
		_, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v")}, nil)
		respErr := responseError(t, err, 500, "InternalServerError")
		if !strings.Contains(respErr.Error(), "boom") {
			t.Errorf("message: %v", respErr)
		}
		if n := versionCount(t, client, "app"); n != 0 {
			t.Errorf("a status fault applied the write: %d versions", n)
		}
		if _, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Errorf("fault outlived its count: %v", err)
		}
	})

	t.Run("delay", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, kvemulator.Options{})
		client, _ := s.newClient(t, clientOptions{maxRetries: -1})
		ctx := ctxFor(t)
		if _, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Fatal(err)
		}

		s.emulator.InjectFault(kvemulator.Fault{Vault: s.vaultName, Path: "^/secrets/app", Count: 1, Action: "delay", Delay: 300 * time.Millisecond})
		start := time.Now()
		if _, err := client.GetSecret(ctx, "app", "", nil); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
			t.Errorf("delayed call returned after %v", elapsed)
		}

		// A hanging call gives up with the caller's context...
		s.emulator.InjectFault(kvemulator.Fault{Count: 1, Action: "delay", Delay: time.Hour})
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if _, err := client.GetSecret(short, "app", "", nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("hung call with expired context: %v", err)
		}
		// ...and ClearFaults releases it to be served normally.
		s.emulator.InjectFault(kvemulator.Fault{Count: 1, Action: "delay", Delay: time.Hour})
		time.AfterFunc(200*time.Millisecond, s.emulator.ClearFaults)
		start = time.Now()
		got, err := client.GetSecret(ctx, "app", "", nil)
		if err != nil || *got.Value != "v" {
			t.Fatalf("released call: %v", err)
		}
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("ClearFaults did not release the call (%v)", elapsed)
		}
	})

	t.Run("delay released by Close", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, kvemulator.Options{})
		client, _ := s.newClient(t, clientOptions{maxRetries: -1})
		ctx := ctxFor(t)
		if _, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Fatal(err)
		}
		s.emulator.InjectFault(kvemulator.Fault{Action: "delay", Delay: time.Hour})
		time.AfterFunc(200*time.Millisecond, func() { _ = s.emulator.Close() })
		start := time.Now()
		if _, err := client.GetSecret(ctx, "app", "", nil); err == nil {
			t.Error("call succeeded against a closed emulator")
		}
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("Close did not release the call (%v)", elapsed)
		}
	})

	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, kvemulator.Options{})
		noRetry, _ := s.newClient(t, clientOptions{maxRetries: -1})
		ctx := ctxFor(t)
		s.emulator.InjectFault(kvemulator.Fault{Method: http.MethodPut, Count: 1, Action: "drop"})
		_, err := noRetry.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v")}, nil)
		var respErr *azcore.ResponseError
		if err == nil || errors.As(err, &respErr) {
			t.Fatalf("dropped call: want a transport error, got %v", err)
		}
		if n := versionCount(t, noRetry, "app"); n != 0 {
			t.Errorf("a dropped write was applied: %d versions", n)
		}
		// With retries the client rides through one dropped connection.
		retrying, _ := s.newClient(t, clientOptions{})
		s.emulator.InjectFault(kvemulator.Fault{Method: http.MethodPut, Count: 1, Action: "drop"})
		if _, err := retrying.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Fatalf("retrying client: %v", err)
		}
		if n := versionCount(t, noRetry, "app"); n != 1 {
			t.Errorf("%d versions after a dropped then retried write, want 1", n)
		}
	})

	t.Run("drop_after", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, kvemulator.Options{})
		client, _ := s.newClient(t, clientOptions{maxRetries: -1})
		ctx := ctxFor(t)
		s.emulator.InjectFault(kvemulator.Fault{Method: http.MethodPut, Path: "^/secrets/app$", Count: 1, Action: "drop_after"})
		_, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("written")}, nil)
		if err == nil {
			t.Fatal("drop_after answered the call")
		}
		got, err := client.GetSecret(ctx, "app", "", nil)
		if err != nil || *got.Value != "written" {
			t.Fatalf("write behind a lost reply was not applied: %v", err)
		}
	})

	t.Run("body", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, kvemulator.Options{})
		client, _ := s.newClient(t, clientOptions{maxRetries: -1})
		ctx := ctxFor(t)
		if _, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Fatal(err)
		}
		s.emulator.InjectFault(kvemulator.Fault{Method: http.MethodGet, Count: 1, Action: "body", Status: 200, Body: "{not json", ContentType: "application/json"})
		if _, err := client.GetSecret(ctx, "app", "", nil); err == nil {
			t.Error("garbage JSON was accepted")
		}
		s.emulator.InjectFault(kvemulator.Fault{Method: http.MethodGet, Count: 1, Action: "body", Status: 502, Body: "<html><body>Bad Gateway</body></html>", ContentType: "text/html"})
		_, err := client.GetSecret(ctx, "app", "", nil)
		var respErr *azcore.ResponseError
		if !errors.As(err, &respErr) || respErr.StatusCode != 502 || !strings.Contains(err.Error(), "Bad Gateway") {
			t.Errorf("HTML error page: %v", err)
		}
	})

	t.Run("corrupt_value", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, kvemulator.Options{})
		client, _ := s.newClient(t, clientOptions{})
		ctx := ctxFor(t)
		if _, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("the-real-value")}, nil); err != nil {
			t.Fatal(err)
		}
		s.emulator.InjectFault(kvemulator.Fault{Vault: s.vaultName, Method: http.MethodGet, Path: "^/secrets/app/", Count: 1, Action: "corrupt_value"})
		got, err := client.GetSecret(ctx, "app", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if *got.Value == "the-real-value" || *got.Value == "" {
			t.Errorf("corrupt_value returned %q", *got.Value)
		}
		got, err = client.GetSecret(ctx, "app", "", nil)
		if err != nil || *got.Value != "the-real-value" {
			t.Errorf("value after the fault: %v", err)
		}
	})

	t.Run("other vaults are unaffected", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, kvemulator.Options{})
		otherURL, err := s.emulator.AddVault("other-kv")
		if err != nil {
			t.Fatal(err)
		}
		s.emulator.SetAccessPolicy("other-kv", adminClientID, kvemulator.AllPermissions...)
		other, _ := s.newClient(t, clientOptions{vaultURL: otherURL, maxRetries: -1})
		s.emulator.InjectFault(kvemulator.Fault{Vault: s.vaultName, Action: "status", Status: 503})
		if _, err := other.SetSecret(ctxFor(t), "app", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Errorf("fault for %s hit other-kv: %v", s.vaultName, err)
		}
	})

	t.Run("identity endpoint", func(t *testing.T) {
		t.Parallel()
		s := startStack(t, kvemulator.Options{})
		client, _ := s.newClient(t, clientOptions{maxRetries: -1})
		ctx := ctxFor(t)
		s.emulator.InjectFault(kvemulator.Fault{Path: "/oauth2/", Action: "status", Status: 400, Code: "invalid_request", Message: "AADSTS90000: injected."})
		_, err := client.GetSecret(ctx, "app", "", nil)
		var authErr *azidentity.AuthenticationFailedError
		if !errors.As(err, &authErr) {
			t.Fatalf("want *azidentity.AuthenticationFailedError, got %T: %v", err, err)
		}
		s.emulator.ClearFaults()
		_, err = client.GetSecret(ctx, "app", "", nil)
		requireResponseError(t, err, 404, "SecretNotFound")
	})
}

// TestRemoveFaultLeavesOthers: parallel tests share one emulator, so each
// removes only its own fault; removing a delay fault releases the call it
// holds.
func TestRemoveFaultLeavesOthers(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	client, _ := s.newClient(t, clientOptions{})
	ctx := ctxFor(t)
	for _, name := range []string{"mine", "theirs"} {
		if _, err := client.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	mine := s.emulator.InjectFault(kvemulator.Fault{Vault: s.vaultName, Method: http.MethodGet, Path: "^/secrets/mine/?$", Action: "delay", Delay: time.Hour})
	s.emulator.InjectFault(kvemulator.Fault{Vault: s.vaultName, Method: http.MethodGet, Path: "^/secrets/theirs/?$", Action: "status", Status: 500, Code: "InternalError", Message: "theirs"})

	done := make(chan error, 1)
	go func() { _, err := client.GetSecret(ctx, "mine", "", nil); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("the delay fault did not hold the call (err=%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if !s.emulator.RemoveFault(mine) {
		t.Fatal("RemoveFault did not find the fault")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("released call: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("removing the fault did not release the held call")
	}
	if s.emulator.RemoveFault(mine) {
		t.Error("removing a fault twice reported success")
	}
	var respErr *azcore.ResponseError
	if _, err := client.GetSecret(ctx, "theirs", "", nil); !errors.As(err, &respErr) || respErr.StatusCode != 500 {
		t.Errorf("the other fault was removed too: %v", err)
	}
}
