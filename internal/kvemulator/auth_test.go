package kvemulator_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

func TestAccessPolicies(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	admin, _ := s.newClient(t, clientOptions{})
	ctx := ctxFor(t)

	if _, err := admin.SetSecret(ctx, "live", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
		t.Fatal(err)
	}
	backup, err := admin.BackupSecret(ctx, "live", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"to-recover", "to-purge"} {
		if _, err := admin.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.DeleteSecret(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
	}

	operations := map[kvemulator.Permission]func(*azsecrets.Client) error{
		kvemulator.PermGet: func(c *azsecrets.Client) error {
			_, err := c.GetSecret(ctx, "live", "", nil)
			return err
		},
		kvemulator.PermList: func(c *azsecrets.Client) error {
			_, err := c.NewListSecretPropertiesPager(nil).NextPage(ctx)
			return err
		},
		kvemulator.PermSet: func(c *azsecrets.Client) error {
			_, err := c.SetSecret(ctx, "live", azsecrets.SetSecretParameters{Value: ptr("v2")}, nil)
			return err
		},
		kvemulator.PermDelete: func(c *azsecrets.Client) error {
			_, err := c.DeleteSecret(ctx, "live", nil)
			return err
		},
		kvemulator.PermRecover: func(c *azsecrets.Client) error {
			_, err := c.RecoverDeletedSecret(ctx, "to-recover", nil)
			return err
		},
		kvemulator.PermBackup: func(c *azsecrets.Client) error {
			_, err := c.BackupSecret(ctx, "live", nil)
			return err
		},
		kvemulator.PermRestore: func(c *azsecrets.Client) error {
			_, err := c.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: backup.Value}, nil)
			return err
		},
		kvemulator.PermPurge: func(c *azsecrets.Client) error {
			_, err := c.PurgeDeletedSecret(ctx, "to-purge", nil)
			return err
		},
	}
	if len(operations) != len(kvemulator.AllPermissions) {
		t.Fatalf("test covers %d permissions, emulator has %d", len(operations), len(kvemulator.AllPermissions))
	}
	for _, missing := range kvemulator.AllPermissions {
		t.Run(string(missing), func(t *testing.T) {
			clientID := "limited-" + string(missing)
			s.emulator.AddClient(clientID, "limited-secret")
			var others []kvemulator.Permission
			for _, p := range kvemulator.AllPermissions {
				if p != missing {
					others = append(others, p)
				}
			}
			s.emulator.SetAccessPolicy(s.vaultName, clientID, others...)
			limited, _ := s.newClient(t, clientOptions{clientID: clientID, clientSecret: "limited-secret"})

			err := operations[missing](limited)
			respErr := responseError(t, err, 403, "Forbidden")
			msg := respErr.Error()
			for _, want := range []string{
				"The user, group or application 'appid=" + clientID + ";",
				"does not have secrets " + string(missing) + " permission on key vault '" + s.vaultName + ";location=",
				"AccessDenied",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("403 message lacks %q: %s", want, msg)
				}
			}

			// Granting the permission lets the same client through.
			s.emulator.SetAccessPolicy(s.vaultName, clientID, missing)
			if err := operations[missing](limited); err != nil {
				var respErr *azcore.ResponseError
				if errors.As(err, &respErr) && respErr.StatusCode == 403 {
					t.Errorf("still forbidden after granting %s: %v", missing, err)
				}
			}
		})
	}

	t.Run("no policy at all", func(t *testing.T) {
		s.emulator.AddClient("33333333-3333-3333-3333-333333333333", "stranger-secret")
		stranger, _ := s.newClient(t, clientOptions{clientID: "33333333-3333-3333-3333-333333333333", clientSecret: "stranger-secret"})
		_, err := stranger.GetSecret(ctx, "live", "", nil)
		requireResponseError(t, err, 403, "Forbidden")
	})
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	httpClient := newRecordingTransport(s.emulator).client

	resp, err := httpClient.Get(s.vaultURL + "secrets/anything/?api-version=2026-04-01")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	wantChallenge := `Bearer authorization="` + s.emulator.AuthorityHost() + s.emulator.TenantID() + `", resource="https://vault.azure.net"`
	if got := resp.Header.Get("WWW-Authenticate"); got != wantChallenge {
		t.Errorf("WWW-Authenticate = %q, want %q", got, wantChallenge)
	}
	var errBody struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &errBody); err != nil || errBody.Error.Code != "Unauthorized" || errBody.Error.Message != "AKV10000: Request is missing a Bearer or PoP token." {
		t.Errorf("401 body = %s", body)
	}

	// A token the emulator did not sign is rejected the same way, through azsecrets.
	forged := "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL3ZhdWx0LmF6dXJlLm5ldCJ9.c2lnbmF0dXJl"
	client, _ := s.newClient(t, clientOptions{credential: staticToken(forged)})
	_, err = client.GetSecret(ctxFor(t), "anything", "", nil)
	requireResponseError(t, err, 401, "Unauthorized")
}

func TestClientAuthenticationFailures(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	ctx := ctxFor(t)

	tests := []struct {
		name, clientID, secret string
		status                 int
		aadsts                 string
	}{
		{"wrong secret", adminClientID, "not-the-secret-value", 401, "AADSTS7000215"},
		{"unknown client", "44444444-4444-4444-4444-444444444444", "whatever-secret-value", 400, "AADSTS700016"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, _ := s.newClient(t, clientOptions{clientID: tc.clientID, clientSecret: tc.secret})
			_, err := client.GetSecret(ctx, "anything", "", nil)
			var authErr *azidentity.AuthenticationFailedError
			if !errors.As(err, &authErr) {
				t.Fatalf("want *azidentity.AuthenticationFailedError, got %T: %v", err, err)
			}
			if authErr.RawResponse == nil || authErr.RawResponse.StatusCode != tc.status {
				t.Errorf("token endpoint status: %+v", authErr.RawResponse)
			}
			if !strings.Contains(err.Error(), tc.aadsts) {
				t.Errorf("error lacks %s: %v", tc.aadsts, err)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Error("error message contains the client secret")
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{TokenLifetime: 2 * time.Second})
	client, transport := s.newClient(t, clientOptions{})
	ctx := ctxFor(t)

	if _, err := client.SetSecret(ctx, "short-lived", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
		t.Fatal(err)
	}
	var firstToken string
	for _, c := range transport.snapshot() {
		if c.authorized && c.status == 200 {
			firstToken = c.bearer
			break
		}
	}
	if firstToken == "" {
		t.Fatal("no authorized call recorded")
	}
	time.Sleep(3 * time.Second)

	// The emulator refuses the expired token...
	replay, _ := s.newClient(t, clientOptions{credential: staticToken(firstToken)})
	_, err := replay.GetSecret(ctx, "short-lived", "", nil)
	respErr := responseError(t, err, 401, "Unauthorized")
	if !strings.Contains(respErr.Error(), "expired") {
		t.Errorf("expired token error: %v", respErr)
	}
	// ...and the real credential transparently fetches a new one.
	if _, err := client.GetSecret(ctx, "short-lived", "", nil); err != nil {
		t.Fatalf("GetSecret after token expiry: %v", err)
	}
	tokenCalls := transport.count(func(c call) bool { return strings.HasSuffix(c.path, "/oauth2/v2.0/token") && c.status == 200 })
	if tokenCalls < 2 {
		t.Errorf("%d token requests, want a new token after expiry", tokenCalls)
	}
	bearers := map[string]bool{}
	for _, c := range transport.snapshot() {
		if c.authorized {
			bearers[c.bearer] = true
		}
	}
	if len(bearers) < 2 {
		t.Error("the client kept presenting the expired token")
	}
}

func TestAPIVersions(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	ctx := ctxFor(t)
	transport := newRecordingTransport(s.emulator)
	token, err := s.credential(t, adminClientID, adminClientSecret, transport).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	for version, wantStatus := range map[string]int{
		"2026-04-01": 200, "2025-07-01": 200, "7.0": 200, "7.4": 200, "7.6": 200,
		"2016-10-01": 400, "7.7": 400, "": 400,
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.vaultURL+"secrets?api-version="+version, nil)
		if version == "" {
			req.URL.RawQuery = ""
		}
		req.Header.Set("Authorization", "Bearer "+token.Token)
		resp, err := transport.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantStatus {
			t.Errorf("api-version %q: status %d, want %d: %s", version, resp.StatusCode, wantStatus, body)
		}
		if wantStatus == 400 && !strings.Contains(string(body), `"code":"BadParameter"`) {
			t.Errorf("api-version %q: body %s", version, body)
		}
	}
}
