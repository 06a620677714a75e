package keyvault

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

const (
	fullClientID   = "11111111-1111-1111-1111-111111111111"
	fullSecret     = "full-access-secret"
	getOnlyID      = "22222222-2222-2222-2222-222222222222"
	getOnlySecret  = "get-only-secret"
	testVaultName  = "kv-test"
	testSecretName = "orders-db"
)

type fixture struct {
	emu      *kvemulator.Emulator
	vaultURL string
	pool     *Pool
}

// newFixture starts an emulator with one vault, a full-access client (the
// pool's default identity) and a client that may only get secrets.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	emu, err := kvemulator.Start(kvemulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	vaultURL, err := emu.AddVault(testVaultName)
	if err != nil {
		t.Fatal(err)
	}
	emu.AddClient(fullClientID, fullSecret)
	emu.SetAccessPolicy(testVaultName, fullClientID, kvemulator.AllPermissions...)
	emu.AddClient(getOnlyID, getOnlySecret)
	emu.SetAccessPolicy(testVaultName, getOnlyID, kvemulator.PermGet)

	hc, err := HTTPClientWithCA(emu.CACertFile())
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Cloud:                                cloud.Configuration{ActiveDirectoryAuthorityHost: emu.AuthorityHost()},
		HTTPClient:                           hc,
		Retry:                                policy.RetryOptions{MaxRetries: -1},
		DisableChallengeResourceVerification: true,
		DisableInstanceDiscovery:             true,
	}
	p := &Pool{opts: opts}
	cred, err := azidentity.NewClientSecretCredential(emu.TenantID(), fullClientID, fullSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: p.clientOptions(), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: emu, vaultURL: vaultURL, pool: NewPool(opts, cred, DescribeIdentity(emu.TenantID(), fullClientID))}
}

func (f *fixture) vault(t *testing.T, id Identity) *Vault {
	t.Helper()
	v, err := f.pool.Vault(f.vaultURL, id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCheckListAccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tenant := f.emu.TenantID()

	if err := f.vault(t, Identity{}).CheckListAccess(ctx); err != nil {
		t.Fatalf("default identity: %v", err)
	}

	err := f.vault(t, Identity{TenantID: tenant, ClientID: getOnlyID, ClientSecret: getOnlySecret}).CheckListAccess(ctx)
	var accessErr *AccessError
	if !errors.As(err, &accessErr) {
		t.Fatalf("get-only client: want *AccessError, got %T %v", err, err)
	}
	if accessErr.Permission != "list" || accessErr.StatusCode != 403 {
		t.Errorf("get-only client: permission %q status %d, want list 403", accessErr.Permission, accessErr.StatusCode)
	}
	for _, want := range []string{getOnlyID, f.vaultURL, `"list"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("get-only client: message %q does not name %s", err, want)
		}
	}

	err = f.vault(t, Identity{TenantID: tenant, ClientID: fullClientID, ClientSecret: "wrong-secret"}).CheckListAccess(ctx)
	var authErr *AuthenticationError
	if !errors.As(err, &authErr) {
		t.Fatalf("wrong secret: want *AuthenticationError, got %T %v", err, err)
	}
	if !strings.Contains(err.Error(), fullClientID) || !strings.Contains(err.Error(), f.vaultURL) {
		t.Errorf("wrong secret: message %q does not name the client and the vault", err)
	}
	if !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "RESPONSE 401") {
		t.Errorf("wrong secret: message %q should give Entra ID's error code, not the raw response", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("wrong secret: message quotes the client secret: %q", err)
	}
}

func TestSecretProperties(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	v := f.vault(t, Identity{})

	got, err := v.SecretProperties(ctx, testSecretName)
	if err != nil || got.Status != SecretMissing {
		t.Fatalf("before creation: %+v, %v; want missing", got, err)
	}
	if got.ID != f.vaultURL+"secrets/"+testSecretName {
		t.Errorf("id %q", got.ID)
	}

	set, err := v.Client().SetSecret(ctx, testSecretName, azsecrets.SetSecretParameters{
		Value: to.Ptr("s3cret-value"), ContentType: to.Ptr("text/plain"), Tags: map[string]*string{TagScope: to.Ptr("orders")},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err = v.SecretProperties(ctx, testSecretName)
	if err != nil || got.Status != SecretExists {
		t.Fatalf("after creation: %+v, %v; want exists", got, err)
	}
	if got.Version != set.ID.Version() || got.ContentType != "text/plain" || got.Tags[TagScope] != "orders" || !got.Enabled {
		t.Errorf("properties %+v do not match the version written (%s)", got, set.ID.Version())
	}

	if _, err := v.Client().DeleteSecret(ctx, testSecretName, nil); err != nil {
		t.Fatal(err)
	}
	got, err = v.SecretProperties(ctx, testSecretName)
	if err != nil || got.Status != SecretSoftDeleted {
		t.Fatalf("after deletion: %+v, %v; want soft-deleted", got, err)
	}
	if _, err := v.Client().PurgeDeletedSecret(ctx, testSecretName, nil); err != nil {
		t.Fatal(err)
	}
	got, err = v.SecretProperties(ctx, testSecretName)
	if err != nil || got.Status != SecretMissing {
		t.Fatalf("after purge: %+v, %v; want missing", got, err)
	}
}

func TestSecretPropertiesNeedsGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.emu.AddClient("33333333-3333-3333-3333-333333333333", "list-only")
	f.emu.SetAccessPolicy(testVaultName, "33333333-3333-3333-3333-333333333333", kvemulator.PermList)
	v := f.vault(t, Identity{TenantID: f.emu.TenantID(), ClientID: "33333333-3333-3333-3333-333333333333", ClientSecret: "list-only"})
	_, err := v.SecretProperties(context.Background(), testSecretName)
	var accessErr *AccessError
	if !errors.As(err, &accessErr) || accessErr.Permission != "get" || accessErr.Secret != testSecretName {
		t.Fatalf("want *AccessError for get on %s, got %T %v", testSecretName, err, err)
	}
}

func TestRetryOnServerError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.pool.opts.Retry = policy.RetryOptions{MaxRetries: 2, RetryDelay: 1, MaxRetryDelay: 1}
	f.emu.InjectFault(kvemulator.Fault{Vault: testVaultName, Method: "GET", Path: "^/secrets", Count: 2, Action: kvemulator.FaultStatus, Status: 503, Code: "ServiceUnavailable"})
	if err := f.vault(t, Identity{}).CheckListAccess(context.Background()); err != nil {
		t.Fatalf("two 503s then success with two retries: %v", err)
	}
	f.emu.InjectFault(kvemulator.Fault{Vault: testVaultName, Method: "GET", Path: "^/secrets", Count: 3, Action: kvemulator.FaultStatus, Status: 503, Code: "ServiceUnavailable"})
	err := f.vault(t, Identity{}).CheckListAccess(context.Background())
	var reqErr *RequestError
	if !errors.As(err, &reqErr) {
		t.Fatalf("three 503s with two retries: want *RequestError, got %T %v", err, err)
	}
}

func TestPoolSharesClients(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := Identity{TenantID: f.emu.TenantID(), ClientID: fullClientID, ClientSecret: fullSecret}
	var wg sync.WaitGroup
	got := make([]*Vault, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := f.vaultURL
			if i%2 == 1 {
				u = strings.ToUpper(strings.TrimSuffix(u, "/")) // same vault, other spelling
				u = strings.Replace(u, "HTTPS://", "https://", 1)
			}
			v, err := f.pool.Vault(u, id)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("client %d differs from client 0: one vault and one identity must share one client", i)
		}
	}
	other, err := f.pool.Vault(f.vaultURL, Identity{TenantID: f.emu.TenantID(), ClientID: fullClientID, ClientSecret: "another"})
	if err != nil {
		t.Fatal(err)
	}
	if other == got[0] {
		t.Fatal("a different client secret must get its own client")
	}
}

func TestParseSecretID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ id, vault, name string }{
		{"https://v.vault.azure.net/secrets/orders-db", "https://v.vault.azure.net/", "orders-db"},
		{"https://V.vault.azure.net/secrets/orders-db/", "https://v.vault.azure.net/", "orders-db"},
		{"https://v.vault.azure.net/secrets/orders-db/0123abcd", "https://v.vault.azure.net/", "orders-db"},
		{"https://127.0.0.1:8443/secrets/x", "https://127.0.0.1:8443/", "x"},
	} {
		vault, name, err := ParseSecretID(tc.id)
		if err != nil || vault != tc.vault || name != tc.name {
			t.Errorf("ParseSecretID(%q) = %q, %q, %v; want %q, %q", tc.id, vault, name, err, tc.vault, tc.name)
		}
		if SecretID(vault, name) != strings.ToLower(tc.vault)+"secrets/"+tc.name {
			t.Errorf("SecretID round trip of %q", tc.id)
		}
	}
	for _, bad := range []string{"", "orders-db", "https://v.vault.azure.net/keys/k", "https://v.vault.azure.net/secrets/", "/secrets/x"} {
		if _, _, err := ParseSecretID(bad); err == nil {
			t.Errorf("ParseSecretID(%q) accepted", bad)
		}
	}
}
