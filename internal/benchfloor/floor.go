// Package benchfloor is the floor the provider's benchmark
// (internal/provider, BenchmarkApplyRotations) compares the provider with:
// what rotating N credentials costs when a hand-written program makes only
// the calls a safe rotation needs, with the same MongoDB driver and Azure
// SDK the provider uses, at Terraform's default parallelism (10).
//
// Per credential, Rotate does exactly the protocol's minimum (DESIGN.md §3):
//
//  1. GetSecret: the current password (Key Vault is the store of record);
//  2. a fresh SCRAM login with it, and updateUser to a new random password;
//  3. SetSecret: the new version;
//  4. a fresh SCRAM login with the new password (ping);
//  5. GetSecret: the version read back and compared in constant time.
//
// Refresh, the floor of the plan after an apply, reads each credential's
// secret once and logs in with it once.
//
// It also holds Proxy, a wire-protocol proxy in front of MongoDB that
// counts SCRAM conversations, commands and concurrent connections, so the
// benchmark sees how the provider and the floor use the database.
//
// Everything fails loudly: any error of any credential is returned, and the
// benchmark fails on it. Passwords never leave the process (not in errors,
// not in the Result).
package benchfloor

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

// DefaultParallelism is Terraform's default -parallelism: the provider
// never has more than 10 resources in flight, so neither does the floor.
const DefaultParallelism = 10

// Config says where MongoDB and Key Vault are and how to reach them.
type Config struct {
	// MongoDBAddress is "host:port" of a MongoDB server (no TLS); the
	// benchmark points it at its counting Proxy.
	MongoDBAddress string `json:"mongodb_address"`
	// AuthSource is the users' authentication database; default "admin".
	AuthSource string `json:"auth_source,omitempty"`

	VaultURL      string `json:"vault_url"`
	TenantID      string `json:"tenant_id"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	AuthorityHost string `json:"authority_host,omitempty"` // a private cloud or the emulator
	CACertFile    string `json:"ca_cert_file,omitempty"`   // trusted by the Key Vault and Entra ID clients
	// DisableChallengeResourceVerification is needed by the emulator,
	// whose vaults are not on a Key Vault domain.
	DisableChallengeResourceVerification bool `json:"disable_challenge_resource_verification,omitempty"`

	Parallelism int           `json:"parallelism,omitempty"` // default DefaultParallelism
	Timeout     time.Duration `json:"timeout,omitempty"`     // MongoDB connect and server selection; default 5s
}

// Credential is one MongoDB user and the Key Vault secret holding its
// current password (the raw password as the secret's value).
type Credential struct {
	Username   string `json:"username"`
	SecretName string `json:"secret_name"`
}

// Result is what a run measured.
type Result struct {
	Op          string `json:"op"` // "rotate" or "refresh"
	Credentials int    `json:"credentials"`
	Parallelism int    `json:"parallelism"`
	// Elapsed is the wall time from building the clients to the last
	// credential's last check.
	Elapsed time.Duration `json:"elapsed"`
	// Steps is the time spent in each step, summed over credentials (so
	// about Parallelism times Elapsed in all).
	Steps map[string]time.Duration `json:"steps"`
	// Errors is one line per failed credential; empty on success.
	Errors []string `json:"errors,omitempty"`
	// IdleMemory is the process's resident memory before the job started,
	// Memory after it ended (Memory.Peak: the whole run's high-water mark).
	// The benchfloor command sets both: in a process of its own, they are
	// the floor's.
	IdleMemory Memory `json:"idle_memory"`
	Memory     Memory `json:"memory"`
}

// The steps of Result.Steps.
const (
	StepReadSecret = "GetSecret"
	StepUpdateUser = "login+updateUser"
	StepSetSecret  = "SetSecret"
	StepVerify     = "login (new password)"
	StepReadBack   = "GetSecret (read back)"
	StepLogin      = "login"
)

// Rotate rotates every credential: see the package documentation. The
// error joins every credential's error; the Result is filled either way.
func Rotate(ctx context.Context, cfg Config, creds []Credential) (Result, error) {
	return run(ctx, "rotate", cfg, creds, rotateOne)
}

// Refresh reads every credential's current password from Key Vault and
// logs in with it once: the floor of a plan's refresh.
func Refresh(ctx context.Context, cfg Config, creds []Credential) (Result, error) {
	return run(ctx, "refresh", cfg, creds, refreshOne)
}

// floor is one run's shared state: the Key Vault client (one token for
// all credentials, as the provider shares one client per vault) and the
// step timings.
type floor struct {
	cfg     Config
	secrets *azsecrets.Client

	mu    sync.Mutex
	steps map[string]time.Duration
}

func run(ctx context.Context, op string, cfg Config, creds []Credential,
	one func(context.Context, *floor, Credential) error) (Result, error) {
	cfg = withDefaults(cfg)
	res := Result{Op: op, Credentials: len(creds), Parallelism: cfg.Parallelism}
	start := time.Now()
	secrets, err := secretsClient(cfg)
	if err != nil {
		res.Errors = []string{err.Error()}
		return res, err
	}
	f := &floor{cfg: cfg, secrets: secrets, steps: map[string]time.Duration{}}
	errs := forEach(len(creds), cfg.Parallelism, func(i int) error {
		if err := one(ctx, f, creds[i]); err != nil {
			return fmt.Errorf("%s %s: %w", op, creds[i].Username, err)
		}
		return nil
	})
	res.Elapsed = time.Since(start)
	res.Steps = f.steps
	for _, e := range errs {
		res.Errors = append(res.Errors, e.Error())
	}
	sort.Strings(res.Errors)
	return res, errors.Join(errs...)
}

func withDefaults(cfg Config) Config {
	if cfg.Parallelism < 1 {
		cfg.Parallelism = DefaultParallelism
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.AuthSource == "" {
		cfg.AuthSource = "admin"
	}
	return cfg
}

// forEach runs fn(0..n-1) on par workers and returns every error.
func forEach(n, par int, fn func(i int) error) []error {
	next := make(chan int)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for w := 0; w < min(par, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

// timed runs fn as step and adds its duration to the run's total.
func (f *floor) timed(step string, fn func() error) error {
	start := time.Now()
	err := fn()
	d := time.Since(start)
	f.mu.Lock()
	f.steps[step] += d
	f.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	return nil
}

func rotateOne(ctx context.Context, f *floor, c Credential) error {
	current, err := f.currentPassword(ctx, c)
	if err != nil {
		return err
	}
	next := rand.Text() // 26 characters of base32: ASCII, SASLprep-safe
	if err := f.timed(StepUpdateUser, func() error {
		return f.withLogin(ctx, c.Username, current, func(db *mongo.Database) error {
			return db.RunCommand(ctx, bson.D{{Key: "updateUser", Value: c.Username}, {Key: "pwd", Value: next}}).Err()
		})
	}); err != nil {
		return err
	}
	if err := f.timed(StepSetSecret, func() error {
		_, err := f.secrets.SetSecret(ctx, c.SecretName, azsecrets.SetSecretParameters{Value: &next}, nil)
		return err
	}); err != nil {
		return fmt.Errorf("%w (MongoDB already holds the new password: the secret is behind)", err)
	}
	if err := f.timed(StepVerify, func() error { return f.ping(ctx, c.Username, next) }); err != nil {
		return err
	}
	return f.timed(StepReadBack, func() error {
		got, err := f.readSecret(ctx, c.SecretName)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(next)) != 1 {
			return errors.New("the secret's latest version is not the password just written")
		}
		return nil
	})
}

func refreshOne(ctx context.Context, f *floor, c Credential) error {
	current, err := f.currentPassword(ctx, c)
	if err != nil {
		return err
	}
	return f.timed(StepLogin, func() error { return f.ping(ctx, c.Username, current) })
}

// currentPassword reads the credential's secret, the first step of both a
// rotation and a refresh.
func (f *floor) currentPassword(ctx context.Context, c Credential) (current string, err error) {
	err = f.timed(StepReadSecret, func() (err error) {
		current, err = f.readSecret(ctx, c.SecretName)
		return err
	})
	return current, err
}

// readSecret returns the value of the secret's latest version.
func (f *floor) readSecret(ctx context.Context, name string) (string, error) {
	resp, err := f.secrets.GetSecret(ctx, name, "", nil)
	if err != nil {
		return "", err
	}
	if resp.Value == nil {
		return "", errors.New("the secret has no value")
	}
	return *resp.Value, nil
}

// ping is a fresh SCRAM login (a client of its own, as a verification
// must not reuse an authenticated connection) and a ping.
func (f *floor) ping(ctx context.Context, username, password string) error {
	return f.withLogin(ctx, username, password, func(db *mongo.Database) error {
		return db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
	})
}

// withLogin runs fn on a new client authenticated as username: the driver
// logs in on the first command, so fn's command is the login too.
func (f *floor) withLogin(ctx context.Context, username, password string, fn func(*mongo.Database) error) error {
	opts := options.Client().ApplyURI("mongodb://" + f.cfg.MongoDBAddress + "/").
		SetDirect(true).
		SetAppName("segura-benchfloor").
		SetConnectTimeout(f.cfg.Timeout).
		SetServerSelectionTimeout(f.cfg.Timeout).
		SetRetryWrites(false).
		SetAuth(options.Credential{Username: username, Password: password, PasswordSet: true, AuthSource: f.cfg.AuthSource})
	client, err := mongo.Connect(opts)
	if err != nil {
		return err
	}
	err = fn(client.Database(f.cfg.AuthSource))
	if derr := client.Disconnect(context.WithoutCancel(ctx)); err == nil {
		err = derr
	}
	return err
}

// secretsClient builds the azsecrets client as the provider does
// (internal/keyvault), without its pacing: the floor times the SDK calls.
func secretsClient(cfg Config) (*azsecrets.Client, error) {
	client, err := keyvault.UnpacedClient(cfg.VaultURL,
		keyvault.Endpoint{AuthorityHost: cfg.AuthorityHost, CACertFile: cfg.CACertFile, OffKeyVaultDomain: cfg.DisableChallengeResourceVerification},
		keyvault.Identity{TenantID: cfg.TenantID, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret})
	if err != nil {
		return nil, fmt.Errorf("building the Key Vault client: %w", err)
	}
	return client, nil
}
