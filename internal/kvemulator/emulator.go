package kvemulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultTenantID is the tenant every emulator uses unless Options.TenantID says otherwise.
const DefaultTenantID = "00000000-0000-0000-0000-00000000a2e1"

// vaultResource is the audience of Key Vault tokens and the resource the
// bearer challenge names; it is what the real service uses.
const vaultResource = "https://vault.azure.net"

// Permission is a Key Vault secrets permission of an access policy.
type Permission string

// The secrets permissions of a Key Vault access policy.
const (
	PermGet     Permission = "get"
	PermList    Permission = "list"
	PermSet     Permission = "set"
	PermDelete  Permission = "delete"
	PermRecover Permission = "recover"
	PermBackup  Permission = "backup"
	PermRestore Permission = "restore"
	PermPurge   Permission = "purge"
)

// AllPermissions is every secrets permission.
var AllPermissions = []Permission{PermGet, PermList, PermSet, PermDelete, PermRecover, PermBackup, PermRestore, PermPurge}

// Options configures an Emulator.
type Options struct {
	// Dir is where the CA certificate is written (Dir/kv-ca.pem). Required.
	Dir string
	// TenantID is the Entra ID tenant of the emulator. Defaults to DefaultTenantID.
	TenantID string
	// TokenLifetime is the lifetime of issued access tokens. Defaults to one hour.
	TokenLifetime time.Duration
	// Throttle enforces the per-vault request limits from the start (see SetThrottle).
	Throttle bool
}

// Limits are the per-vault request limits enforced when throttling is on,
// in Key Vault's two classes of secrets transactions (see the package doc).
type Limits struct {
	// Creates is the number of secret creates (Set Secret, PUT
	// /secrets/{name}: a new version) allowed per Window.
	Creates int
	// Others is the number of all other secret operations (get, list, update
	// properties, delete, recover, backup, restore, purge, ...) allowed per
	// Window.
	Others int
	// Window is the length of the sliding window.
	Window time.Duration
}

// DefaultLimits are Key Vault's documented secrets limits per vault and
// region: 300 creates and 4,000 other transactions per 10 seconds.
var DefaultLimits = Limits{Creates: 300, Others: 4000, Window: 10 * time.Second}

// Emulator is a running Key Vault secrets data plane and Entra ID token
// endpoint. All methods are safe for concurrent use.
type Emulator struct {
	tenantID      string
	tokenLifetime time.Duration
	caFile        string
	ca            *certificateAuthority
	signingKey    *ecdsa.PrivateKey
	backupKey     []byte

	identityServer *http.Server
	identityURL    string // "https://127.0.0.1:PORT/"

	faults   faultSet
	throttle throttleSettings
	tokens   verifiedTokens

	mu       sync.Mutex
	closed   bool
	vaults   map[string]*vault       // by lower-case name
	clients  map[string]string       // client id -> secret
	policies map[string][]Permission // vaultKey(name) + "\x00" + client id -> permissions
	done     chan struct{}           // closed by Close
}

// Start generates the CA, writes it to Options.Dir and starts the identity
// and admin listener. Vaults are added with AddVault.
func Start(opts Options) (*Emulator, error) {
	if opts.Dir == "" {
		return nil, errors.New("kvemulator: Options.Dir is required")
	}
	if opts.TenantID == "" {
		opts.TenantID = DefaultTenantID
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	ca, err := newCertificateAuthority()
	if err != nil {
		return nil, fmt.Errorf("kvemulator: %w", err)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("kvemulator: %w", err)
	}
	caFile := filepath.Join(opts.Dir, "kv-ca.pem")
	if err := os.WriteFile(caFile, ca.certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("kvemulator: writing CA certificate: %w", err)
	}
	signingKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("kvemulator: generating token signing key: %w", err)
	}
	backupKey := make([]byte, 32)
	if _, err := rand.Read(backupKey); err != nil {
		return nil, fmt.Errorf("kvemulator: generating backup key: %w", err)
	}

	e := &Emulator{
		tenantID:      opts.TenantID,
		tokenLifetime: opts.TokenLifetime,
		caFile:        caFile,
		ca:            ca,
		signingKey:    signingKey,
		backupKey:     backupKey,
		vaults:        map[string]*vault{},
		clients:       map[string]string{},
		policies:      map[string][]Permission{},
		done:          make(chan struct{}),
	}
	e.throttle.enabled = opts.Throttle
	e.throttle.limits = DefaultLimits

	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", e.adminHandler()))
	mux.Handle("/", e.identityHandler())
	server, baseURL, err := e.serve(mux, "")
	if err != nil {
		return nil, err
	}
	e.identityServer = server
	e.identityURL = baseURL
	return e, nil
}

// serve starts an HTTPS server on a new 127.0.0.1 port.
func (e *Emulator) serve(handler http.Handler, vaultName string) (*http.Server, string, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("kvemulator: listening: %w", err)
	}
	server := &http.Server{
		Handler:           e.faultHandler(vaultName, handler),
		TLSConfig:         e.ca.serverTLSConfig(),
		ReadHeaderTimeout: 30 * time.Second,
		// Clients that do not trust the CA make the TLS handshake fail; that is
		// their problem to report, not noise for the emulator's log.
		ErrorLog: log.New(io.Discard, "", 0),
		// An empty map disables HTTP/2 so that faults can hijack connections.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	go func() { _ = server.Serve(tls.NewListener(listener, server.TLSConfig)) }()
	return server, fmt.Sprintf("https://%s/", listener.Addr().String()), nil
}

// Close stops every listener and aborts requests held by delay faults,
// unanswered and unapplied.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.done)
	vaults := make([]*vault, 0, len(e.vaults))
	for _, v := range e.vaults {
		vaults = append(vaults, v)
	}
	e.mu.Unlock()

	var errs []error
	for _, v := range vaults {
		errs = append(errs, v.server.Close())
	}
	errs = append(errs, e.identityServer.Close())
	return errors.Join(errs...)
}

// CACertFile is the path of the PEM file holding the emulator's CA certificate.
func (e *Emulator) CACertFile() string { return e.caFile }

// CACertPool is a pool holding only the emulator's CA certificate.
func (e *Emulator) CACertPool() *x509.CertPool { return e.ca.pool.Clone() }

// TenantID is the emulator's Entra ID tenant.
func (e *Emulator) TenantID() string { return e.tenantID }

// AuthorityHost is the Entra ID authority host to put into
// cloud.Configuration.ActiveDirectoryAuthorityHost, with a trailing slash.
func (e *Emulator) AuthorityHost() string { return e.identityURL }

// AdminURL is the base URL of the admin API (see the package documentation).
func (e *Emulator) AdminURL() string { return e.identityURL + "admin" }

// vaultNamePattern is Key Vault's rule for vault names: 3-24 characters,
// letters, digits and hyphens, starting with a letter, not ending with a hyphen.
var vaultNamePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)

// AddVault creates a vault with its own HTTPS listener and returns its URL,
// "https://127.0.0.1:PORT/". Adding an existing vault returns its URL.
func (e *Emulator) AddVault(name string) (string, error) {
	if !vaultNamePattern.MatchString(name) || strings.Contains(name, "--") {
		return "", fmt.Errorf("kvemulator: invalid vault name %q: use 3-24 letters, digits and single hyphens, starting with a letter", name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return "", errors.New("kvemulator: emulator is closed")
	}
	if v, ok := e.vaults[vaultKey(name)]; ok {
		return v.url, nil
	}
	v := newVault(e, name)
	server, baseURL, err := e.serve(v, name)
	if err != nil {
		return "", err
	}
	v.server = server
	v.url = baseURL
	e.vaults[vaultKey(name)] = v
	return baseURL, nil
}

// VaultInfo names a vault and its URL.
type VaultInfo struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Vaults lists the vaults, sorted by name.
func (e *Emulator) Vaults() []VaultInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	infos := make([]VaultInfo, 0, len(e.vaults))
	for _, v := range e.vaults {
		infos = append(infos, VaultInfo{Name: v.name, URL: v.url})
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos
}

// AddClient registers an application (service principal) in the tenant, or
// replaces the secret of an existing one.
func (e *Emulator) AddClient(clientID, clientSecret string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clients[clientID] = clientSecret
}

// SetAccessPolicy replaces the secrets permissions of clientID on the vault.
// No permissions removes the client's access. The vault need not exist yet.
func (e *Emulator) SetAccessPolicy(vaultName, clientID string, perms ...Permission) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.policies[vaultKey(vaultName)+"\x00"+clientID] = append([]Permission(nil), perms...)
}

func (e *Emulator) hasPermission(vaultName, clientID string, perm Permission) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.policies[vaultKey(vaultName)+"\x00"+clientID] {
		if Permission(lower(string(p))) == perm {
			return true
		}
	}
	return false
}

func (e *Emulator) clientSecret(clientID string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	secret, ok := e.clients[clientID]
	return secret, ok
}

// SetThrottle switches the per-vault request limits on or off.
func (e *Emulator) SetThrottle(on bool) { e.throttle.set(&on, nil) }

// SetLimits replaces the per-vault request limits (DefaultLimits by default).
// Zero fields keep their current value.
func (e *Emulator) SetLimits(l Limits) { e.throttle.set(nil, &l) }

// InjectFault adds a fault and returns its id. It panics, like
// regexp.MustCompile, on an unknown Action, a missing Status for "status" or
// "body", a negative Count or an invalid Path regexp.
func (e *Emulator) InjectFault(f Fault) string { return e.faults.add(f) }

// ClearFaults removes every fault and releases requests held by delay faults.
func (e *Emulator) ClearFaults() { e.faults.clear() }

// RemoveFault removes the fault with the id InjectFault returned, releasing
// the calls it holds, and leaves every other fault in place: tests that run
// in parallel against one emulator remove only their own.
func (e *Emulator) RemoveFault(id string) bool { return e.faults.remove(id) }

// Held reports how many calls the fault with this id (a FaultDelay or
// FaultDelayLand) holds right now, counting a call until it has been
// dropped, answered or applied (also after the fault is removed); 0 for an
// unknown id. A FaultDelay call leaves the count as soon
// as the emulator sees its client hang up, so a test can wait for that
// instead of guessing how long the disconnect takes to arrive.
func (e *Emulator) Held(id string) int { return e.faults.heldBy(id) }

func vaultKey(name string) string { return lower(name) }
