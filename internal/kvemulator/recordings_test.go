package kvemulator_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

// The exchanges below replay requests of the Azure SDK for .NET's recordings
// of the real service (Azure/azure-sdk-for-net,
// sdk/keyvault/Azure.Security.KeyVault.Secrets/tests/SessionRecords/SecretClientLiveTests/,
// recorded 2023-03-01 with api-version 7.4, x-ms-keyvault-service-version
// 1.9.713.1) and compare the emulator's answers with the recorded ones: the
// status, the body byte for byte (the service sends compact JSON, so the
// recorded Content-Length pins it) and the headers clients read.

// recordedExchange is one recorded response.
type recordedExchange struct {
	status        int
	body          string
	contentLength string
}

var (
	// Both files' first entry: the unauthenticated challenge probe.
	recordedMissingToken = recordedExchange{401, `{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}`, "97"}
	// GetSecretVersionsNonExisting.json, second entry.
	recordedVersionsOfMissing = recordedExchange{200, `{"value":[],"nextLink":null}`, "28"}
	// RestoreMalformedBackup.json, second entry (request body {"value":"bm9uLWV4aXN0aW5n"}).
	recordedMalformedBackup = recordedExchange{400, `{"error":{"code":"Malformed backup blob","message":"Backup blob is corrupt."}}`, "78"}
)

func (want recordedExchange) check(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want.status || string(body) != want.body {
		t.Errorf("%s: %d %s\nrecorded: %d %s", what, resp.StatusCode, body, want.status, want.body)
	}
	for header, value := range map[string]string{
		"Content-Type":           "application/json; charset=utf-8",
		"Content-Length":         want.contentLength,
		"Cache-Control":          "no-cache",
		"Pragma":                 "no-cache",
		"Expires":                "-1",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(header); got != value {
			t.Errorf("%s: %s = %q, recorded %q", what, header, got, value)
		}
	}
	if resp.Header.Get("x-ms-request-id") == "" {
		t.Errorf("%s: no x-ms-request-id", what)
	}
}

func TestRecordedExchanges(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	ctx := ctxFor(t)
	transport := newRecordingTransport(s.emulator)
	token, err := s.credential(t, adminClientID, adminClientSecret, transport).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body, bearer string) *http.Response {
		t.Helper()
		var reader io.Reader
		if body != "" {
			reader = strings.NewReader(body)
		}
		req, _ := http.NewRequestWithContext(ctx, method, s.vaultURL+path, reader)
		req.Header.Set("Accept", "application/json")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := transport.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	wantChallenge := `Bearer authorization="` + s.emulator.AuthorityHost() + s.emulator.TenantID() + `", resource="https://vault.azure.net"`

	t.Run("GetSecretVersionsNonExisting", func(t *testing.T) {
		resp := do(http.MethodGet, "secrets/956973796/versions?api-version=7.4", "", "")
		if got := resp.Header.Get("WWW-Authenticate"); got != wantChallenge {
			t.Errorf("WWW-Authenticate = %q, want %q", got, wantChallenge)
		}
		recordedMissingToken.check(t, "probe", resp)
		recordedVersionsOfMissing.check(t, "versions of a secret that does not exist", do(http.MethodGet, "secrets/956973796/versions?api-version=7.4", "", token.Token))
	})

	t.Run("RestoreMalformedBackup", func(t *testing.T) {
		const body = `{"value":"bm9uLWV4aXN0aW5n"}`
		recordedMissingToken.check(t, "probe", do(http.MethodPost, "secrets/restore?api-version=7.4", body, ""))
		recordedMalformedBackup.check(t, "restore of a malformed blob", do(http.MethodPost, "secrets/restore?api-version=7.4", body, token.Token))
	})

	// The same answers through azsecrets, the way the provider sees them.
	client, _ := s.newClient(t, clientOptions{maxRetries: -1})
	t.Run("azsecrets", func(t *testing.T) {
		pager := client.NewListSecretPropertiesVersionsPager("956973796", nil)
		page, err := pager.NextPage(ctx)
		if err != nil || len(page.Value) != 0 || page.NextLink != nil || pager.More() {
			t.Errorf("versions of a secret that does not exist: %d items, next %v, more %v, err %v; want one empty last page", len(page.Value), page.NextLink, pager.More(), err)
		}
		_, err = client.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: []byte("non-existing")}, nil)
		respErr := responseError(t, err, 400, "Malformed backup blob")
		if !strings.Contains(respErr.Error(), "Backup blob is corrupt.") {
			t.Errorf("malformed backup: %v", respErr)
		}
	})
}
