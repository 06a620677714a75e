package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// ConfigFile is the name of the file, in the stack's directory, that the
// devstack command writes a running stack's Config to.
const ConfigFile = "devstack.json"

// ReadConfig reads a Config written by Stack.WriteConfig.
func ReadConfig(path string) (Config, error) {
	var cfg Config
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, fmt.Errorf("%s is not a devstack configuration: %w", path, err)
	}
	return cfg, nil
}

// Answers reports whether the stack's MongoDB and first vault accept TCP
// connections, or which does not.
func (c Config) Answers() error {
	for _, u := range []string{c.MongoDBURI, c.VaultURL} {
		parsed, err := url.Parse(u)
		if err != nil {
			return fmt.Errorf("%q is not a URL", u)
		}
		conn, err := net.DialTimeout("tcp", parsed.Host, time.Second)
		if err != nil {
			return fmt.Errorf("%s does not answer: %w", u, err)
		}
		conn.Close()
	}
	return nil
}

// VaultName returns the name of the vault at VaultURL, the stack's first.
func (c Config) VaultName() string {
	names := make([]string, 0, len(c.Vaults))
	for n := range c.Vaults {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if keyvault.NormalizeVaultURL(c.Vaults[n]) == keyvault.NormalizeVaultURL(c.VaultURL) {
			return n
		}
	}
	return ""
}

// Seed is what the integration guide asks to exist before a credential's
// first rotation: a MongoDB user, and its current password as the latest
// version of the Key Vault secret its primary segura_keyvault_sync binds.
type Seed struct {
	Username string
	// AuthDatabase is the database the user is defined in; default admin.
	AuthDatabase string
	// Vault names the vault (a key of Config.Vaults); default the first.
	Vault string
	// Secret is the Key Vault secret's name.
	Secret string
	// Format is how the secret's value holds the password (the binding's
	// value_format); default password.
	Format secretvalue.Format
	// ReplicaSet seeds the simulated replica set (mongodb_replica_set_uri,
	// devstack --replica-set) instead of the standalone server.
	ReplicaSet bool
	// TLS renders connection_string and json values for the stack's TLS
	// listener (mongodb_tls_uri) instead of the plain one.
	TLS bool
	// Reset gives an existing user whose password the secret does not hold
	// (no secret, a value that does not log in or does not parse in Format)
	// a new random password, written to the secret first. Without it Seed
	// changes nothing in that case and returns ErrUserWithoutSecret or
	// ErrSecretRefused.
	Reset bool
}

// SeedOutcome says what Seed did.
type SeedOutcome int

const (
	// SeedUnchanged: the user exists and the secret's password logs in.
	SeedUnchanged SeedOutcome = iota
	// SeedCreated: a new user with a random password, written to the secret.
	SeedCreated
	// SeedCreatedFromSecret: the secret existed (say, a seed interrupted
	// after writing it) and the user was created with its password.
	SeedCreatedFromSecret
	// SeedReset: Reset gave the user a new random password and wrote it to
	// the secret.
	SeedReset
)

// SeedResult describes the secret after Seed. It never holds the password.
type SeedResult struct {
	Outcome SeedOutcome
	// Account is "user@database".
	Account string
	// Vault is the vault's name, SecretID the versionless secret id, and
	// Version its latest version.
	Vault, SecretID, Version string
	Format                   secretvalue.Format
}

// Errors of Seed when the password an existing user or secret holds is
// unknown and Reset is false. Nothing was changed.
var (
	ErrUserWithoutSecret = errors.New("the user exists, but the secret does not, so its password is unknown")
	ErrSecretRefused     = errors.New("the user and the secret exist, but the secret's value does not log in as the user")
	ErrSecretFormat      = errors.New("the secret exists, but its value is not in the format asked for")
)

// Seed makes s hold on the stack, idempotently: with neither the user nor
// the secret there, it writes a random password (crypto/rand) as the
// secret's first version, then creates the user with it; with both there
// and the secret's password logging in, it changes nothing. The secret is
// written before MongoDB changes, so running Seed again finishes a run that
// stopped half-way. The user is created without roles: FerretDB has no
// authorization and accepts only an empty role list.
//
// No password reaches the result, an error or a log.
func (c Config) Seed(ctx context.Context, pool *keyvault.Pool, s Seed) (SeedResult, error) {
	if s.Username == "" || s.Secret == "" {
		return SeedResult{}, errors.New("seed: a user name and a secret name are required")
	}
	if !keyvault.SecretNamePattern.MatchString(s.Secret) {
		return SeedResult{}, fmt.Errorf("seed: %q is not a Key Vault secret name (1-127 letters, digits and hyphens)", s.Secret)
	}
	if s.AuthDatabase == "" {
		s.AuthDatabase = mongodb.DefaultAuthSource
	}
	if s.Format == "" {
		s.Format = secretvalue.Password
	}
	if s.Vault == "" {
		s.Vault = c.VaultName()
	}
	vaultURL, ok := c.Vaults[s.Vault]
	if !ok {
		names := make([]string, 0, len(c.Vaults))
		for n := range c.Vaults {
			names = append(names, n)
		}
		sort.Strings(names)
		return SeedResult{}, fmt.Errorf("seed: the local stack has no vault %q; it has %s", s.Vault, strings.Join(names, ", "))
	}
	vault, err := pool.Vault(vaultURL, keyvault.Identity{})
	if err != nil {
		return SeedResult{}, err
	}
	dep := c.deployment()
	if s.ReplicaSet {
		if c.MongoDBReplicaSetURI == "" {
			return SeedResult{}, errors.New("seed: the local stack runs no replica set (mongodb_replica_set_uri); start it with --replica-set")
		}
		dep = mongodb.Deployment{Hosts: strings.Split(HostPort(c.MongoDBReplicaSetURI), ","), ReplicaSet: c.MongoDBReplicaSetName}
	}
	account := mongodb.Identity{Username: s.Username, AuthSource: s.AuthDatabase, Mechanism: mongodb.MechanismSCRAMSHA256}
	render := secretvalue.Account{Deployment: dep, Username: s.Username, AuthSource: s.AuthDatabase}
	if s.TLS {
		if c.MongoDBTLSURI == "" {
			return SeedResult{}, errors.New("seed: the local stack runs no TLS listener (mongodb_tls_uri); start it with --mongodb-tls")
		}
		render.Deployment = mongodb.Deployment{Hosts: []string{HostPort(c.MongoDBTLSURI)}, TLS: true}
	}
	res := SeedResult{Account: account.String(), Vault: s.Vault, SecretID: keyvault.SecretID(vaultURL, s.Secret), Format: s.Format}
	what := fmt.Sprintf("secret %q in vault %s", s.Secret, s.Vault)

	mongo := mongodb.NewPool(mongodb.Defaults{ConnectTimeout: 5 * time.Second, ServerSelectionTimeout: 10 * time.Second})
	defer mongo.Close(context.WithoutCancel(ctx)) //nolint:errcheck
	admin := c.adminIdentity()
	user, err := mongo.UserInfo(ctx, dep, admin, s.AuthDatabase, s.Username)
	if err != nil {
		return res, err
	}
	latest, err := vault.LatestSecret(ctx, s.Secret)
	if err != nil {
		return res, err
	}
	if latest.Status == keyvault.SecretSoftDeleted {
		return res, fmt.Errorf("seed: %s is soft-deleted; recover or purge it first", what)
	}

	// The password the secret holds, when it holds one in s.Format.
	current, parseErr := "", error(nil)
	if latest.Status == keyvault.SecretExists {
		current, parseErr = secretvalue.Parse(s.Format, latest.Value)
	}
	switch {
	case user == nil && latest.Status == keyvault.SecretExists && parseErr == nil:
		if err := createUser(ctx, mongo, dep, admin, account, current); err != nil {
			return res, err
		}
		res.Outcome, res.Version = SeedCreatedFromSecret, latest.Version
		return res, nil
	case user == nil && latest.Status == keyvault.SecretMissing:
		res.Outcome = SeedCreated
	case user != nil && latest.Status == keyvault.SecretExists && parseErr == nil:
		probe := account
		probe.Password = current
		err := mongo.VerifyLogin(ctx, dep, probe)
		if err == nil {
			res.Outcome, res.Version = SeedUnchanged, latest.Version
			return res, nil
		}
		if mongodb.Classify(err) != mongodb.KindAuthentication {
			return res, err
		}
		if !s.Reset {
			res.Version = latest.Version
			return res, fmt.Errorf("seed: %s and %s: %w", res.Account, what, ErrSecretRefused)
		}
		res.Outcome = SeedReset
	case user != nil && latest.Status == keyvault.SecretMissing:
		if !s.Reset {
			return res, fmt.Errorf("seed: %s exists and %s does not: %w", res.Account, what, ErrUserWithoutSecret)
		}
		res.Outcome = SeedReset
	default: // the secret exists, but its value is not in s.Format
		if !s.Reset {
			return res, fmt.Errorf("seed: %s: %w: %v", what, ErrSecretFormat, parseErr)
		}
		res.Outcome = SeedReset
		if user == nil {
			res.Outcome = SeedCreated
		}
	}

	pw := randomPassword()
	value, err := secretvalue.Render(s.Format, render, pw)
	if err != nil {
		return res, err
	}
	written, err := vault.SetSecretValue(ctx, s.Secret, keyvault.SecretWrite{Value: value, ContentType: secretvalue.DefaultContentType(s.Format)})
	if err != nil {
		return res, fmt.Errorf("seed: write %s: %w", what, err)
	}
	res.Version = written.Version
	if user == nil {
		return res, createUser(ctx, mongo, dep, admin, account, pw)
	}
	if err := mongo.ChangePassword(ctx, dep, admin, account, pw, nil); err != nil {
		return res, fmt.Errorf("seed: %w (%s already holds the new password; seed again with reset to finish)", err, what)
	}
	return res, nil
}

func (c Config) deployment() mongodb.Deployment {
	return mongodb.Deployment{Hosts: []string{c.MongoDBHostPort()}}
}

func (c Config) adminIdentity() mongodb.Identity {
	return mongodb.Identity{Username: c.MongoDBAdminUsername, Password: c.MongoDBAdminPassword, AuthSource: mongodb.DefaultAuthSource}
}

// createUser runs createUser for account with password, as admin.
func createUser(ctx context.Context, pool *mongodb.Pool, dep mongodb.Deployment, admin, account mongodb.Identity, password string) error {
	client, err := pool.Client(dep, admin)
	if err != nil {
		return err
	}
	cmd := bson.D{{Key: "createUser", Value: account.Username}, {Key: "pwd", Value: password}, {Key: "roles", Value: bson.A{}}}
	if err := client.Database(account.AuthSource).RunCommand(ctx, cmd).Err(); err != nil {
		return fmt.Errorf("seed: MongoDB createUser %s: %w", account.String(), err)
	}
	return nil
}

// randomPassword is 36 hex digits from crypto/rand after a fixed prefix:
// ASCII, SASLprep-safe, and safe unescaped in every secret format.
func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return "initial-" + hex.EncodeToString(b)
}
