package kvemulator_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

// startWithApp starts a stack whose vault holds the secret "app" (one
// version, "v1", set by the client returned, which does not retry).
func startWithApp(t *testing.T) (*stack, *azsecrets.Client, *recordingTransport, azsecrets.SetSecretResponse) {
	t.Helper()
	s := startStack(t, kvemulator.Options{})
	client, transport := s.newClient(t, clientOptions{maxRetries: -1})
	set, err := client.SetSecret(ctxFor(t), "app", azsecrets.SetSecretParameters{Value: ptr("v1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, client, transport, set
}

// TestRequestCounts: every answered request is counted once under the name
// of its operation, or Throttled / Unauthorized; reset starts over.
func TestRequestCounts(t *testing.T) {
	t.Parallel()
	s, client, transport, set := startWithApp(t)
	ctx := ctxFor(t)
	e := s.emulator

	if _, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v2")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetSecret(ctx, "app", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.UpdateSecretProperties(ctx, "app", set.ID.Version(), azsecrets.UpdateSecretPropertiesParameters{
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: ptr(false)}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.NewListSecretPropertiesVersionsPager("app", nil).NextPage(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.NewListSecretPropertiesPager(nil).NextPage(ctx); err != nil {
		t.Fatal(err)
	}
	backup, err := client.BackupSecret(ctx, "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteSecret(ctx, "app", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetDeletedSecret(ctx, "app", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.NewListDeletedSecretPropertiesPager(nil).NextPage(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.RecoverDeletedSecret(ctx, "app", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteSecret(ctx, "app", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PurgeDeletedSecret(ctx, "app", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: backup.Value}, nil); err != nil {
		t.Fatal(err)
	}
	// A 404 is still the operation's answer.
	_, err = client.GetSecret(ctx, "missing", "", nil)
	requireResponseError(t, err, 404, "SecretNotFound")

	want := map[string]int{
		"SetSecret": 2, "GetSecret": 2, "UpdateSecretProperties": 1, "GetSecretVersions": 1, "GetSecrets": 1,
		"BackupSecret": 1, "DeleteSecret": 2, "GetDeletedSecret": 1, "GetDeletedSecrets": 1,
		"RecoverDeletedSecret": 1, "PurgeDeletedSecret": 1, "RestoreSecret": 1,
		// azsecrets' challenge probe: the first request goes without a token.
		"Unauthorized": transport.count(func(c call) bool { return c.status == 401 }),
	}
	if want["Unauthorized"] == 0 {
		t.Fatal("the transport saw no bearer challenge")
	}
	if got := e.RequestCounts(); !maps.Equal(got, want) {
		t.Errorf("RequestCounts() = %v, want %v", got, want)
	}
	if times := e.CreateTimes("ORDERS-kv"); len(times) != 2 || times[1].Before(times[0]) {
		t.Errorf("CreateTimes = %v, want the two sets in order", times)
	}

	// Throttled answers count as Throttled, not as their operation; only
	// admitted creates are recorded.
	e.SetLimits(kvemulator.Limits{Creates: 1, Others: 1, Window: time.Hour})
	e.SetThrottle(true)
	e.ResetRequestCounts()
	if got := e.RequestCounts(); len(got) != 0 {
		t.Errorf("after reset: %v", got)
	}
	if len(e.CreateTimes("orders-kv")) != 0 {
		t.Error("reset kept the create times")
	}
	for range 3 {
		_, _ = client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v3")}, nil)
	}
	for range 2 {
		_, _ = client.GetSecret(ctx, "app", "", nil)
	}
	want = map[string]int{"SetSecret": 1, "GetSecret": 1, "Throttled": 3}
	if got := e.RequestCounts(); !maps.Equal(got, want) {
		t.Errorf("throttled: RequestCounts() = %v, want %v", got, want)
	}
	if n := len(e.CreateTimes("orders-kv")); n != 1 {
		t.Errorf("%d create times, want the 1 admitted", n)
	}
	if e.CreateTimes("no-such-vault") != nil {
		t.Error("an unknown vault has create times")
	}
}

// TestCreatesAndOthersAreSeparateClasses: Key Vault's 300-per-10s limit is
// on creates (Set Secret) only; updating properties, deleting, recovering
// and purging draw on the other transactions' budget.
func TestCreatesAndOthersAreSeparateClasses(t *testing.T) {
	t.Parallel()
	s, client, _, set := startWithApp(t)
	ctx := ctxFor(t)
	e := s.emulator

	e.SetLimits(kvemulator.Limits{Creates: 1, Others: 100, Window: time.Hour})
	e.SetThrottle(true)
	if _, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v2")}, nil); err != nil {
		t.Fatalf("the first create of the window: %v", err)
	}
	_, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v3")}, nil)
	respErr := responseError(t, err, 429, "Throttled")
	if ra := respErr.RawResponse.Header.Get("Retry-After"); ra != "3600" {
		t.Errorf("Retry-After %q, want 3600 (the window's slot frees in an hour)", ra)
	}
	// With the create budget spent, every other operation still goes through.
	for range 5 {
		if _, err := client.UpdateSecretProperties(ctx, "app", set.ID.Version(), azsecrets.UpdateSecretPropertiesParameters{
			Tags: map[string]*string{"k": ptr("v")}}, nil); err != nil {
			t.Fatalf("update properties drew on the create budget: %v", err)
		}
	}
	if _, err := client.DeleteSecret(ctx, "app", nil); err != nil {
		t.Fatalf("delete drew on the create budget: %v", err)
	}
	if _, err := client.RecoverDeletedSecret(ctx, "app", nil); err != nil {
		t.Fatalf("recover drew on the create budget: %v", err)
	}

	// And the other way round: a spent other budget leaves creates alone.
	e.SetThrottle(false)
	e.SetLimits(kvemulator.Limits{Creates: 100, Others: 1})
	e.SetThrottle(true)
	t.Cleanup(func() { e.SetThrottle(false) })
	// The windows kept their history: 7 others were accepted above, so the
	// other budget of 1 is spent.
	_, err = client.GetSecret(ctx, "app", "", nil)
	requireResponseError(t, err, 429, "Throttled")
	if _, err := client.SetSecret(ctx, "app", azsecrets.SetSecretParameters{Value: ptr("v4")}, nil); err != nil {
		t.Fatalf("a create with the other budget spent: %v", err)
	}
}

func TestMaxInWindow(t *testing.T) {
	t.Parallel()
	base := time.Unix(1_700_000_000, 0)
	at := func(ms ...int) []time.Time {
		out := make([]time.Time, len(ms))
		for i, m := range ms {
			out[i] = base.Add(time.Duration(m) * time.Millisecond)
		}
		return out
	}
	for _, tc := range []struct {
		times []time.Time
		want  int
	}{
		{nil, 0},
		{at(0), 1},
		{at(0, 9999), 2},
		{at(0, 10000), 1}, // half-open: [t, t+10s)
		{at(0, 1, 2, 10000, 10001), 3},
		{at(10001, 0, 10000, 2, 1), 3}, // unsorted
		{at(0, 5000, 9000, 14999, 15000), 3},
	} {
		if got := kvemulator.MaxInWindow(tc.times, 10*time.Second); got != tc.want {
			t.Errorf("MaxInWindow(%v) = %d, want %d", tc.times, got, tc.want)
		}
	}
}

func TestAdminRequests(t *testing.T) {
	t.Parallel()
	s, _, _, _ := startWithApp(t)
	httpClient := newRecordingTransport(s.emulator).client
	do := func(method, path string, wantStatus int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, s.emulator.AdminURL()+path, strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, body)
		}
		return body
	}
	var counts map[string]int
	if err := json.Unmarshal(do(http.MethodGet, "/requests", 200), &counts); err != nil || counts["SetSecret"] != 1 || counts["Unauthorized"] < 1 {
		t.Fatalf("GET /requests = %v (%v)", counts, err)
	}
	var creates []time.Time
	if err := json.Unmarshal(do(http.MethodGet, "/vaults/orders-kv/creates", 200), &creates); err != nil || len(creates) != 1 {
		t.Fatalf("GET /vaults/orders-kv/creates = %v (%v)", creates, err)
	}
	do(http.MethodDelete, "/requests", 204)
	counts = nil
	if err := json.Unmarshal(do(http.MethodGet, "/requests", 200), &counts); err != nil || len(counts) != 0 {
		t.Fatalf("GET /requests after DELETE = %v (%v)", counts, err)
	}
}
