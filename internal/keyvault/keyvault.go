// Package keyvault gives the provider shared, concurrency-safe access to Azure
// Key Vault secrets: one azsecrets client per (vault URL, identity), built on
// demand from the provider's configuration, and errors that name the identity,
// the vault and the permission that is missing. Every request the package
// sends is paced per vault on one of Key Vault's two documented budgets,
// secret creates and all other transactions (pacing.go,
// https://learn.microsoft.com/en-us/azure/key-vault/general/service-limits).
package keyvault

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// Options are the settings every client built by a Pool shares.
type Options struct {
	// Cloud selects the Microsoft Entra ID authority host (public, US
	// government, China, or a custom host for private clouds and the local stack).
	Cloud cloud.Configuration

	// HTTPClient carries the TLS trust used for both Entra ID and the vaults.
	// Nil means the system's default trust.
	HTTPClient *http.Client

	// Retry bounds Key Vault retries; azcore honours Retry-After on 429 and 503.
	Retry policy.RetryOptions

	// DisableChallengeResourceVerification skips azsecrets' check that the
	// bearer challenge's resource matches the vault's domain. Only for vaults
	// that are not on a Key Vault domain (private clouds, the local emulator).
	DisableChallengeResourceVerification bool

	// DisableInstanceDiscovery skips Entra ID instance discovery, which a
	// custom authority host cannot answer.
	DisableInstanceDiscovery bool

	// CreatesPer10s paces the secret creates (Set Secret: every new
	// version) the process sends to one vault, per 10 seconds; zero means
	// DefaultCreatesPer10s (90% of Key Vault's 300). Negative turns their
	// pacing off.
	CreatesPer10s int

	// OthersPer10s paces every other request to one vault (get, list, list
	// versions, update properties, get deleted, ...), per 10 seconds; zero
	// means DefaultOthersPer10s (90% of Key Vault's 4,000). Negative turns
	// their pacing off.
	OthersPer10s int
}

// HTTPClientWithCA returns an HTTP client that trusts the system roots plus
// the PEM certificates in caFile. An empty caFile returns nil (default trust).
func HTTPClientWithCA(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s contains no PEM certificate", caFile)
	}
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("http.DefaultTransport is a %T, not an *http.Transport", http.DefaultTransport)
	}
	transport := base.Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	transport.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	return &http.Client{Transport: transport, Timeout: 2 * time.Minute}, nil
}

// Endpoint is how a client built outside the provider's configuration
// (tests, the benchmark's floor) reaches Entra ID and a vault.
type Endpoint struct {
	// AuthorityHost is Entra ID's URL; "" is the public cloud. A custom one
	// (a private cloud, the emulator) also turns instance discovery off.
	AuthorityHost string
	// CACertFile is a PEM bundle trusted besides the system roots.
	CACertFile string
	// OffKeyVaultDomain skips the check that the bearer challenge names a
	// Key Vault domain (the emulator's vaults are on loopback).
	OffKeyVaultDomain bool
}

// UnpacedClient is the azsecrets client a Pool would build for vaultURL as
// the service principal id, without the Pool's pacing: for code that arranges
// or measures secrets beside the provider and must use the same SDK set-up.
func UnpacedClient(vaultURL string, e Endpoint, id Identity) (*azsecrets.Client, error) {
	hc, err := HTTPClientWithCA(e.CACertFile)
	if err != nil {
		return nil, err
	}
	opts := Options{
		HTTPClient:                           hc,
		DisableChallengeResourceVerification: e.OffKeyVaultDomain,
		DisableInstanceDiscovery:             e.AuthorityHost != "",
		CreatesPer10s:                        -1,
		OthersPer10s:                         -1,
	}
	if e.AuthorityHost != "" {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost}
	}
	v, err := NewPool(opts, nil, "").Vault(vaultURL, id)
	if err != nil {
		return nil, err
	}
	return v.Client(), nil
}

// MaxIdleConnsPerHost is how many idle connections HTTPClientWithCA's client
// keeps per host (a vault, Entra ID). net/http's default of 2 makes every
// request beyond two concurrent ones pay a new TLS handshake, which under
// Terraform's parallelism costs more CPU than the requests themselves.
const MaxIdleConnsPerHost = 64

// Identity selects who talks to a vault. The zero value means the provider's
// own credential; a ClientID with a ClientSecret means a dedicated service
// principal (a DSM application's own client secret).
type Identity struct {
	TenantID     string
	ClientID     string
	ClientSecret string
}

func (id Identity) isDefault() bool { return id.ClientSecret == "" }

// key identifies an identity in caches without holding its secret in clear.
func (id Identity) key() string {
	if id.isDefault() {
		return ""
	}
	sum := sha256.Sum256([]byte(id.ClientSecret))
	return id.TenantID + "/" + id.ClientID + "/" + hex.EncodeToString(sum[:8])
}

// Pool hands out one Vault per (vault URL, identity). It is safe for the
// concurrent calls Terraform makes while walking the graph in parallel.
type Pool struct {
	opts        Options
	defaultCred azcore.TokenCredential
	defaultName string

	mu     sync.Mutex
	creds  map[string]azcore.TokenCredential
	vaults map[string]*Vault
	// pacers pace requests per vault URL, whatever the identity: Key Vault
	// throttles per vault.
	pacers map[string]*pacer
}

// NewPool returns a Pool whose default identity is cred, described in error
// messages as defaultName (for example "client 1234 in tenant abcd").
func NewPool(opts Options, cred azcore.TokenCredential, defaultName string) *Pool {
	return &Pool{
		opts:        opts,
		defaultCred: cred,
		defaultName: defaultName,
		creds:       map[string]azcore.TokenCredential{},
		vaults:      map[string]*Vault{},
		pacers:      map[string]*pacer{},
	}
}

func (p *Pool) clientOptions() azcore.ClientOptions {
	o := azcore.ClientOptions{Cloud: p.opts.Cloud, Retry: p.opts.Retry, PerRetryPolicies: []policy.Policy{responseLimit{}}}
	if p.opts.HTTPClient != nil {
		o.Transport = p.opts.HTTPClient
	}
	return o
}

// credential returns the credential for id; callers hold p.mu.
func (p *Pool) credential(id Identity) (azcore.TokenCredential, string, error) {
	if id.isDefault() {
		if p.defaultCred == nil {
			return nil, "", fmt.Errorf("no Azure credential is configured for the provider")
		}
		return p.defaultCred, p.defaultName, nil
	}
	name := describeClient(id.TenantID, id.ClientID)
	if id.TenantID == "" || id.ClientID == "" {
		return nil, name, fmt.Errorf("a client secret needs both a tenant id and a client id")
	}
	if c, ok := p.creds[id.key()]; ok {
		return c, name, nil
	}
	opts := p.clientOptions()
	opts.Retry = policy.RetryOptions{} // Entra ID: azidentity applies its own retry policy
	c, err := azidentity.NewClientSecretCredential(id.TenantID, id.ClientID, id.ClientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            opts,
		DisableInstanceDiscovery: p.opts.DisableInstanceDiscovery,
	})
	if err != nil {
		return nil, name, err
	}
	p.creds[id.key()] = c
	return c, name, nil
}

// Vault returns the shared client for vaultURL acting as id.
func (p *Pool) Vault(vaultURL string, id Identity) (*Vault, error) {
	vaultURL = NormalizeVaultURL(vaultURL)
	p.mu.Lock()
	defer p.mu.Unlock()
	k := vaultURL + "|" + id.key()
	if v, ok := p.vaults[k]; ok {
		return v, nil
	}
	cred, name, err := p.credential(id)
	if err != nil {
		return nil, fmt.Errorf("building the Azure credential of %s: %w", orDefault(name, "the provider"), err)
	}
	client, err := azsecrets.NewClient(vaultURL, cred, &azsecrets.ClientOptions{
		ClientOptions:                        p.clientOptions(),
		DisableChallengeResourceVerification: p.opts.DisableChallengeResourceVerification,
	})
	if err != nil {
		return nil, fmt.Errorf("building the Key Vault client for %s: %w", vaultURL, err)
	}
	pc, ok := p.pacers[vaultURL]
	if !ok {
		pc = newPacer(p.opts)
		p.pacers[vaultURL] = pc
	}
	v := &Vault{URL: vaultURL, Identity: name, client: client, pacer: pc}
	p.vaults[k] = v
	return v, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func describeClient(tenantID, clientID string) string {
	switch {
	case clientID != "" && tenantID != "":
		return fmt.Sprintf("client %s in tenant %s", clientID, tenantID)
	case clientID != "":
		return "client " + clientID
	default:
		return "the default Azure credential"
	}
}

// DescribeIdentity names an identity for error messages; exported so the
// provider can describe its own credential the same way.
func DescribeIdentity(tenantID, clientID string) string { return describeClient(tenantID, clientID) }

// NormalizeVaultURL lower-cases the scheme and host and ends the URL with one
// slash, so that one vault gets one cache entry and one secret id spelling.
func NormalizeVaultURL(u string) string {
	u = strings.TrimSpace(u)
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		host, path, _ := strings.Cut(rest, "/")
		u = strings.ToLower(u[:i]) + "://" + strings.ToLower(host) + "/" + strings.Trim(path, "/")
	}
	return strings.TrimRight(u, "/") + "/"
}

// Vault is one vault seen by one identity.
type Vault struct {
	URL      string
	Identity string
	client   *azsecrets.Client
	pacer    *pacer // shared by every Vault of this vault URL in the Pool
}

// Client exposes the underlying azsecrets client. Requests made through it
// are not paced: prefer the Vault's methods, which wait for the vault's
// create or other budget first.
func (v *Vault) Client() *azsecrets.Client { return v.client }

// CheckListAccess lists one page of secret properties: it proves the vault
// answers, the identity authenticates, and it holds the "list" permission.
func (v *Vault) CheckListAccess(ctx context.Context) error {
	pager := v.client.NewListSecretPropertiesPager(nil)
	if err := v.pace(ctx, budgetOther); err != nil {
		return v.classify(err, "list", "")
	}
	if _, err := pager.NextPage(ctx); err != nil {
		return v.classify(err, "list", "")
	}
	return nil
}

// SecretStatus says where a secret is.
type SecretStatus int

const (
	// SecretMissing: no live and no soft-deleted secret of that name.
	SecretMissing SecretStatus = iota
	// SecretExists: the secret has a latest version.
	SecretExists
	// SecretSoftDeleted: the secret is in the vault's recycle bin.
	SecretSoftDeleted
)

func (s SecretStatus) String() string {
	switch s {
	case SecretExists:
		return "exists"
	case SecretSoftDeleted:
		return "soft-deleted"
	default:
		return "missing"
	}
}

// Secret is the non-secret description of a secret's latest version. It never
// carries the value.
type Secret struct {
	Status SecretStatus
	// ID is the versionless secret id, https://vault/secrets/name.
	ID          string
	Version     string
	Enabled     bool
	ContentType string
	Tags        map[string]string
	Updated     time.Time
	Created     time.Time
	Expires     time.Time // zero when the version has no "exp"
}

// SecretID returns the versionless id of secret name in the vault.
func SecretID(vaultURL, name string) string { return NormalizeVaultURL(vaultURL) + "secrets/" + name }

// ParseSecretID splits a versionless (or versioned) secret id into the vault
// URL and the secret name.
func ParseSecretID(id string) (vaultURL, name string, err error) {
	i := strings.Index(id, "/secrets/")
	if i < 0 || !strings.Contains(id[:i], "://") {
		return "", "", fmt.Errorf("%q is not a Key Vault secret id (expected https://<vault>/secrets/<name>)", id)
	}
	rest := strings.Trim(id[i+len("/secrets/"):], "/")
	name, _, _ = strings.Cut(rest, "/")
	if name == "" {
		return "", "", fmt.Errorf("%q has no secret name after /secrets/", id)
	}
	return NormalizeVaultURL(id[:i]), name, nil
}

// SecretProperties reads the latest version's properties of secret name and,
// when there is none, whether the secret sits soft-deleted in the vault.
// It needs the "get" permission (and "list" to see soft-deleted secrets).
func (v *Vault) SecretProperties(ctx context.Context, name string) (Secret, error) {
	s, err := v.LatestSecret(ctx, name)
	return s.Secret, err
}

// LatestSecret is SecretProperties with the latest version's value, for
// callers that need both: one read instead of two.
func (v *Vault) LatestSecret(ctx context.Context, name string) (SecretValue, error) {
	latest, err := v.GetSecretValue(ctx, name, "")
	if err == nil || !errors.Is(err, ErrSecretNotFound) {
		return latest, err
	}
	out := SecretValue{Secret: Secret{ID: SecretID(v.URL, name), Status: SecretMissing}}
	if err := v.pace(ctx, budgetOther); err != nil {
		return out, v.classify(err, "list", name)
	}
	if _, derr := v.client.GetDeletedSecret(ctx, name, nil); derr == nil {
		out.Status = SecretSoftDeleted
	} else if !isNotFound(derr) && !isForbidden(derr) {
		// Not seeing the recycle bin is no reason to fail a read: the secret
		// is gone from the live list either way.
		return out, v.classify(derr, "list", name)
	}
	return out, nil
}

func isNotFound(err error) bool {
	var re *azcore.ResponseError
	return asResponseError(err, &re) && re.StatusCode == http.StatusNotFound
}

func isForbidden(err error) bool {
	var re *azcore.ResponseError
	return asResponseError(err, &re) && re.StatusCode == http.StatusForbidden
}
