package kvemulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	e, err := kvemulator.Start(kvemulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	httpClient := newRecordingTransport(e).client

	do := func(method, path, body string, wantStatus int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, e.AdminURL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, out)
		}
		return out
	}

	var vault kvemulator.VaultInfo
	if err := json.Unmarshal(do(http.MethodPut, "/vaults/payments-kv", "", 200), &vault); err != nil {
		t.Fatal(err)
	}
	if vault.Name != "payments-kv" || !strings.HasPrefix(vault.URL, "https://127.0.0.1:") || !strings.HasSuffix(vault.URL, "/") {
		t.Fatalf("vault = %+v", vault)
	}
	var again kvemulator.VaultInfo
	_ = json.Unmarshal(do(http.MethodPut, "/vaults/payments-kv", "", 200), &again)
	if again.URL != vault.URL {
		t.Errorf("re-adding a vault changed its URL: %s -> %s", vault.URL, again.URL)
	}
	do(http.MethodPut, "/vaults/bad_name", "", 400)

	var vaults []kvemulator.VaultInfo
	if err := json.Unmarshal(do(http.MethodGet, "/vaults", "", 200), &vaults); err != nil || len(vaults) != 1 || vaults[0] != vault {
		t.Fatalf("GET /vaults = %+v (%v)", vaults, err)
	}

	do(http.MethodPut, "/clients/app-1", `{"secret":"app-1-secret"}`, 204)
	do(http.MethodPut, "/clients/app-1", `{}`, 400)
	do(http.MethodPut, "/vaults/payments-kv/access-policies/app-1", `{"permissions":["get","set","list"]}`, 204)
	do(http.MethodPut, "/vaults/payments-kv/access-policies/app-1", `{"permissions":["read"]}`, 400)

	s := &stack{emulator: e, vaultName: "payments-kv", vaultURL: vault.URL}
	client, _ := s.newClient(t, clientOptions{clientID: "app-1", clientSecret: "app-1-secret", maxRetries: -1})
	ctx := ctxFor(t)
	if _, err := client.SetSecret(ctx, "card-db", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
		t.Fatalf("client configured over the admin API: %v", err)
	}
	_, err = client.DeleteSecret(ctx, "card-db", nil)
	requireResponseError(t, err, 403, "Forbidden")

	var fault struct{ ID string }
	if err := json.Unmarshal(do(http.MethodPost, "/faults", `{"vault":"payments-kv","method":"GET","path":"^/secrets/card-db","count":1,"action":"status","status":503,"code":"ServiceUnavailable","message":"down"}`, 201), &fault); err != nil || fault.ID == "" {
		t.Fatalf("POST /faults: %v %+v", err, fault)
	}
	do(http.MethodPost, "/faults", `{"action":"explode"}`, 400)
	do(http.MethodPost, "/faults", `{"action":"delay","delay":"soon"}`, 400)
	if listed := do(http.MethodPost, "/faults", `{"vault":"payments-kv","method":"PUT","path":"^/secrets/unused$","action":"delay_land","delay":"1h"}`, 201); !bytes.Contains(listed, []byte(`"fault-`)) {
		t.Errorf("POST /faults delay_land = %s", listed)
	}
	do(http.MethodPost, "/faults", `{"action":"status","path":"(","status":500}`, 400)
	if listed := do(http.MethodGet, "/faults", "", 200); !bytes.Contains(listed, []byte(`"down"`)) {
		t.Errorf("GET /faults = %s", listed)
	}
	_, err = client.GetSecret(ctx, "card-db", "", nil)
	requireResponseError(t, err, 503, "ServiceUnavailable")

	do(http.MethodPost, "/faults", `{"action":"status","status":500,"code":"InternalServerError"}`, 201)
	do(http.MethodDelete, "/faults", "", 204)
	if _, err := client.GetSecret(ctx, "card-db", "", nil); err != nil {
		t.Errorf("DELETE /faults left a fault behind: %v", err)
	}

	var throttle struct {
		Enabled         bool
		Creates, Others int
		Window          string
	}
	if err := json.Unmarshal(do(http.MethodPut, "/throttle", `{"enabled":true,"creates":1,"others":4000,"window":"30s"}`, 200), &throttle); err != nil || !throttle.Enabled || throttle.Creates != 1 || throttle.Window != "30s" {
		t.Fatalf("PUT /throttle = %+v (%v)", throttle, err)
	}
	do(http.MethodPut, "/throttle", `{"creates":1}`, 200)
	do(http.MethodPut, "/throttle", `{"creates":-1}`, 400)
	do(http.MethodPut, "/throttle", `{"window":"never"}`, 400)
	_, _ = client.SetSecret(ctx, "card-db", azsecrets.SetSecretParameters{Value: ptr("v2")}, nil)
	_, err = client.SetSecret(ctx, "card-db", azsecrets.SetSecretParameters{Value: ptr("v3")}, nil)
	respErr := responseError(t, err, 429, "Throttled")
	if ra := respErr.RawResponse.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	do(http.MethodPut, "/throttle", `{"enabled":false}`, 200)
	if _, err := client.SetSecret(ctx, "card-db", azsecrets.SetSecretParameters{Value: ptr("v4")}, nil); err != nil {
		t.Errorf("write with throttling off: %v", err)
	}
}
