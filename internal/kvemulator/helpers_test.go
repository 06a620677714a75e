package kvemulator_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

const (
	adminClientID     = "11111111-1111-1111-1111-111111111111"
	adminClientSecret = "admin-client-secret-value"
)

// stack is one emulator with one vault and a client holding every permission.
type stack struct {
	emulator  *kvemulator.Emulator
	vaultName string
	vaultURL  string
}

func startStack(t *testing.T, opts kvemulator.Options) *stack {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	e, err := kvemulator.Start(opts)
	if err != nil {
		t.Fatalf("starting emulator: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	vaultURL, err := e.AddVault("orders-kv")
	if err != nil {
		t.Fatalf("adding vault: %v", err)
	}
	e.AddClient(adminClientID, adminClientSecret)
	e.SetAccessPolicy("orders-kv", adminClientID, kvemulator.AllPermissions...)
	return &stack{emulator: e, vaultName: "orders-kv", vaultURL: vaultURL}
}

// call is one HTTP exchange seen by a recordingTransport.
type call struct {
	method, path string
	status       int // 0 when the transport failed
	retryAfter   string
	authorized   bool
	bearer       string
}

// recordingTransport trusts the emulator's CA and records every exchange.
type recordingTransport struct {
	client *http.Client
	mu     sync.Mutex
	calls  []call
}

func newRecordingTransport(e *kvemulator.Emulator) *recordingTransport {
	return &recordingTransport{client: &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: e.CACertPool(), MinVersion: tls.VersionTLS12},
	}}}
}

func (rt *recordingTransport) Do(req *http.Request) (*http.Response, error) {
	c := call{method: req.Method, path: req.URL.Path}
	if auth := req.Header.Get("Authorization"); auth != "" {
		c.authorized = true
		c.bearer = strings.TrimPrefix(auth, "Bearer ")
	}
	resp, err := rt.client.Do(req)
	if err == nil {
		c.status = resp.StatusCode
		c.retryAfter = resp.Header.Get("Retry-After")
	}
	rt.mu.Lock()
	rt.calls = append(rt.calls, c)
	rt.mu.Unlock()
	return resp, err
}

func (rt *recordingTransport) snapshot() []call {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]call(nil), rt.calls...)
}

func (rt *recordingTransport) count(match func(call) bool) int {
	n := 0
	for _, c := range rt.snapshot() {
		if match(c) {
			n++
		}
	}
	return n
}

type clientOptions struct {
	clientID, clientSecret string
	maxRetries             int32 // 0 = 5 quick retries; <0 = none
	perCall                []policy.Policy
	credential             azcore.TokenCredential // overrides the client-secret credential
	vaultURL               string
	httpTimeout            time.Duration // http.Client.Timeout of the transport; 0 = none
}

// newClient returns a real azsecrets client authenticated by a real
// azidentity client-secret credential, both talking to the emulator.
func (s *stack) newClient(t *testing.T, o clientOptions) (*azsecrets.Client, *recordingTransport) {
	t.Helper()
	if o.clientID == "" {
		o.clientID, o.clientSecret = adminClientID, adminClientSecret
	}
	if o.vaultURL == "" {
		o.vaultURL = s.vaultURL
	}
	transport := newRecordingTransport(s.emulator)
	transport.client.Timeout = o.httpTimeout
	retry := policy.RetryOptions{MaxRetries: 5, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 3 * time.Second}
	if o.maxRetries != 0 {
		retry.MaxRetries = o.maxRetries
	}
	cred := o.credential
	if cred == nil {
		cred = s.credential(t, o.clientID, o.clientSecret, transport)
	}
	client, err := azsecrets.NewClient(o.vaultURL, cred, &azsecrets.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport:       transport,
			Retry:           retry,
			PerCallPolicies: o.perCall,
		},
		DisableChallengeResourceVerification: true,
	})
	if err != nil {
		t.Fatalf("creating azsecrets client: %v", err)
	}
	return client, transport
}

func (s *stack) credential(t *testing.T, clientID, clientSecret string, transport policy.Transporter) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(s.emulator.TenantID(), clientID, clientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.emulator.AuthorityHost()},
			Transport: transport,
			Retry:     policy.RetryOptions{MaxRetries: 1, RetryDelay: 10 * time.Millisecond},
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("creating credential: %v", err)
	}
	return cred
}

// staticToken is a credential that always presents the same bearer token.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ptr[T any](v T) *T { return &v }

// requireResponseError asserts err is a Key Vault error with this status and code.
func requireResponseError(t *testing.T, err error, status int, code string) {
	t.Helper()
	_ = responseError(t, err, status, code)
}

// responseError is requireResponseError for callers that look further into
// the error.
func responseError(t *testing.T, err error, status int, code string) *azcore.ResponseError {
	t.Helper()
	var respErr *azcore.ResponseError
	if !errors.As(err, &respErr) {
		t.Fatalf("want *azcore.ResponseError %d %s, got %T: %v", status, code, err, err)
	}
	if respErr.StatusCode != status || respErr.ErrorCode != code {
		t.Fatalf("want %d %s, got %d %s: %v", status, code, respErr.StatusCode, respErr.ErrorCode, err)
	}
	return respErr
}

// maxResults adds maxresults to first-page list requests, which azsecrets
// v1.5.1 has no option for.
type maxResults int

func (m maxResults) Do(req *policy.Request) (*http.Response, error) {
	raw := req.Raw()
	if raw.Method == http.MethodGet && raw.URL.Query().Get("maxresults") == "" {
		raw.URL.RawQuery += "&maxresults=" + strconv.Itoa(int(m))
	}
	return req.Next()
}
