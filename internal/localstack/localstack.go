// Package localstack starts the local stand-ins the acceptance tests and the
// quickstart run against: FerretDB (MongoDB wire protocol with real SCRAM)
// and the Key Vault + Entra ID emulator, both on loopback. It is the single
// place that wires them together; the devstack command and every test
// package's TestMain call Start.
package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"

	"github.com/segura-community/terraform-provider-segura/internal/ferretdb"
	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

// Config describes a running stack. Its JSON form is devstack.json; other
// tooling reads these field names, so they do not change.
type Config struct {
	MongoDBURI           string `json:"mongodb_uri"` // no credentials
	MongoDBAdminUsername string `json:"mongodb_admin_username"`
	MongoDBAdminPassword string `json:"mongodb_admin_password"`
	MongoDBTLSURI        string `json:"mongodb_tls_uri,omitempty"`      // TLS listener, no credentials
	MongoDBCACertFile    string `json:"mongodb_ca_cert_file,omitempty"` // CA of the TLS listener

	// The simulated replica set (devstack -replica-set, package mongosim):
	// three members in front of FerretDB, same admin credentials as above.
	MongoDBReplicaSetURI  string `json:"mongodb_replica_set_uri,omitempty"`  // no credentials
	MongoDBReplicaSetName string `json:"mongodb_replica_set_name,omitempty"` //
	MongoDBSimAdminURL    string `json:"mongodb_sim_admin_url,omitempty"`    // faults, lag, step-down, grants, status

	VaultURL      string            `json:"vault_url"` // the first vault
	Vaults        map[string]string `json:"vaults"`    // every vault: name -> URL
	CACertFile    string            `json:"ca_cert_file"`
	TenantID      string            `json:"tenant_id"`
	ClientID      string            `json:"client_id"`     // has every permission on every vault
	ClientSecret  string            `json:"client_secret"` //
	AuthorityHost string            `json:"authority_host"`
	AdminURL      string            `json:"admin_url"` // fault injection, throttling, access policies
}

// MongoDBHostPort returns "host:port" of MongoDBURI.
func (c Config) MongoDBHostPort() string { return HostPort(c.MongoDBURI) }

// HostPort returns the first "host:port" of a mongodb:// URI.
func HostPort(uri string) string {
	s := strings.TrimPrefix(uri, "mongodb://")
	s, _, _ = strings.Cut(s, "/")
	s, _, _ = strings.Cut(s, "?")
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// SecondVaultURL returns the URL of a vault other than VaultURL (the first
// by name), or "" when there is only one.
func (c Config) SecondVaultURL() string {
	names := make([]string, 0, len(c.Vaults))
	for n := range c.Vaults {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if c.Vaults[n] != c.VaultURL {
			return c.Vaults[n]
		}
	}
	return ""
}

// Options configures Start.
type Options struct {
	// Dir holds FerretDB's data and log, the CA files and devstack.json. Required.
	Dir string
	// Vaults to create; default one vault named "segura-dev".
	Vaults []string
	// MongoDBTLS adds FerretDB's TLS listener.
	MongoDBTLS bool
}

// Stack is a running local stack.
type Stack struct {
	Config   Config
	KeyVault *kvemulator.Emulator
	MongoDB  *ferretdb.Server
}

// Start builds FerretDB if needed and starts it and the Key Vault emulator.
// It returns once both answer: FerretDB accepts an admin SCRAM login and
// every vault has its listener.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Dir == "" {
		return nil, errors.New("localstack: Options.Dir is required")
	}
	if len(opts.Vaults) == 0 {
		opts.Vaults = []string{"segura-dev"}
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create local stack directory: %w", err)
	}

	kv, err := kvemulator.Start(kvemulator.Options{Dir: opts.Dir})
	if err != nil {
		return nil, fmt.Errorf("start the Key Vault emulator: %w", err)
	}
	st := &Stack{KeyVault: kv}
	cfg := Config{
		Vaults:        map[string]string{},
		CACertFile:    kv.CACertFile(),
		TenantID:      kv.TenantID(),
		ClientID:      uuid.NewString(),
		ClientSecret:  uuid.NewString(),
		AuthorityHost: kv.AuthorityHost(),
		AdminURL:      kv.AdminURL(),
	}
	kv.AddClient(cfg.ClientID, cfg.ClientSecret)
	for i, name := range opts.Vaults {
		url, err := kv.AddVault(name)
		if err != nil {
			_ = st.Stop()
			return nil, fmt.Errorf("create emulated vault %q: %w", name, err)
		}
		kv.SetAccessPolicy(name, cfg.ClientID, kvemulator.AllPermissions...)
		cfg.Vaults[name] = url
		if i == 0 {
			cfg.VaultURL = url
		}
	}

	mongo, err := ferretdb.Start(ctx, ferretdb.Options{Dir: filepath.Join(opts.Dir, "ferretdb"), TLS: opts.MongoDBTLS})
	if err != nil {
		_ = st.Stop()
		return nil, fmt.Errorf("start FerretDB: %w", err)
	}
	st.MongoDB = mongo
	cfg.MongoDBURI = mongo.URI()
	cfg.MongoDBAdminUsername = mongo.AdminUsername()
	cfg.MongoDBAdminPassword = mongo.AdminPassword()
	cfg.MongoDBTLSURI = mongo.TLSURI()
	cfg.MongoDBCACertFile = mongo.CAFile()
	st.Config = cfg
	return st, nil
}

// WriteConfig writes the stack's Config as JSON, readable only by its owner
// since it holds the admin password and the client secret.
func (s *Stack) WriteConfig(path string) error {
	data, err := json.MarshalIndent(s.Config, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	// Readers poll for the file: let them see it whole or not at all.
	return os.Rename(tmp, path)
}

// Stop stops FerretDB and the emulator.
func (s *Stack) Stop() error {
	var errs []error
	if s.MongoDB != nil {
		errs = append(errs, s.MongoDB.Stop())
	}
	if s.KeyVault != nil {
		errs = append(errs, s.KeyVault.Close())
	}
	return errors.Join(errs...)
}

// KeyVaultPool returns a Key Vault client pool whose default identity is the
// stack's all-permissions client, set up as a real client of the emulator
// must be: trusting its CA, its Entra ID endpoint as authority host, and no
// challenge-resource check (the emulator is not on a Key Vault domain).
func (c Config) KeyVaultPool(retry policy.RetryOptions) (*keyvault.Pool, error) {
	httpClient, err := keyvault.HTTPClientWithCA(c.CACertFile)
	if err != nil {
		return nil, err
	}
	opts := keyvault.Options{
		Cloud:                                cloud.Configuration{ActiveDirectoryAuthorityHost: c.AuthorityHost},
		HTTPClient:                           httpClient,
		Retry:                                retry,
		DisableChallengeResourceVerification: true,
		DisableInstanceDiscovery:             true,
	}
	cred, err := azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: opts.Cloud, Transport: httpClient},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		return nil, err
	}
	return keyvault.NewPool(opts, cred, keyvault.DescribeIdentity(c.TenantID, c.ClientID)), nil
}
