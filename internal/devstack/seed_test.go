package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/localstack"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// TestSeed runs `devstack seed` as a user would, against a stack started by
// the devstack command, and checks what it leaves in MongoDB and Key Vault:
// every case of an existing user or secret, the formats, a parent, and that
// no password ever reaches its output.
func TestSeed(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "devstack")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cfg := startStack(t, bin, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pool, err := cfg.KeyVaultPool(policy.RetryOptions{MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := &seedCheck{t: t, ctx: ctx, bin: bin, dir: dir, cfg: cfg, pool: pool}
	defer s.checkNoPasswordPrinted(t)

	t.Run("new user, then again", func(t *testing.T) {
		s.t = t
		out := s.run(0, "--user", "orders_app", "--secret", "orders-db-password")
		s.contains(out, "created MongoDB user orders_app@admin with a random password, written to secret orders-db-password in vault segura-dev (format password, version ")
		pw, v := s.secret("segura-dev", "orders-db-password", secretvalue.Password, "text/plain")
		s.login("orders_app", "admin", pw, true)

		out = s.run(0, "--user", "orders_app", "--secret", "orders-db-password")
		s.contains(out, "exist and agree; nothing changed")
		if again, v2 := s.secret("segura-dev", "orders-db-password", secretvalue.Password, "text/plain"); again != pw || v2 != v {
			t.Errorf("a second seed changed the secret (version %s -> %s)", v, v2)
		}
		s.login("orders_app", "admin", pw, true)
	})

	t.Run("json for the TLS listener, in another database and vault", func(t *testing.T) {
		s.t = t
		out := s.run(0, "--user", "reports_app", "--auth-db", "reports", "--vault", "segura-dev-2", "--secret", "reports-db", "--format", "json", "--tls")
		s.contains(out, "created MongoDB user reports_app@reports")
		pw, _ := s.secret("segura-dev-2", "reports-db", secretvalue.JSON, "application/json")
		s.login("reports_app", "reports", pw, true)
		var doc struct {
			Username     string   `json:"username"`
			Hosts        []string `json:"hosts"`
			AuthDatabase string   `json:"auth_database"`
			TLS          bool     `json:"tls"`
		}
		if err := json.Unmarshal([]byte(s.value("segura-dev-2", "reports-db")), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Username != "reports_app" || doc.AuthDatabase != "reports" || !doc.TLS ||
			len(doc.Hosts) != 1 || doc.Hosts[0] != localstack.HostPort(cfg.MongoDBTLSURI) {
			t.Errorf("json value describes %+v; want reports_app@reports on the TLS listener %s", doc, localstack.HostPort(cfg.MongoDBTLSURI))
		}
	})

	t.Run("connection string", func(t *testing.T) {
		s.t = t
		s.run(0, "--user", "billing_app", "--secret", "billing-db-uri", "--format", "connection_string")
		pw, _ := s.secret("segura-dev", "billing-db-uri", secretvalue.ConnectionString, "application/x-mongodb-connection-string")
		s.login("billing_app", "admin", pw, true)
		if uri := s.value("segura-dev", "billing-db-uri"); !strings.HasPrefix(uri, "mongodb://billing_app:") || !strings.HasSuffix(uri, "@"+cfg.MongoDBHostPort()+"/?authSource=admin") {
			t.Errorf("connection string has the wrong shape (user, host or authSource)")
		}
	})

	t.Run("with a parent", func(t *testing.T) {
		s.t = t
		args := []string{"--user", "batch_app", "--auth-db", "orders", "--secret", "batch-db-password", "--parent", "segura_admin", "--parent-secret", "segura-admin-password"}
		out := s.run(0, args...)
		s.contains(out, "created MongoDB user segura_admin@admin")
		s.contains(out, "created MongoDB user batch_app@orders")
		admin, _ := s.secret("segura-dev", "segura-admin-password", secretvalue.Password, "text/plain")
		s.login("segura_admin", "admin", admin, true)
		pw, _ := s.secret("segura-dev", "batch-db-password", secretvalue.Password, "text/plain")
		s.login("batch_app", "orders", pw, true)
		if strings.Count(s.run(0, args...), "nothing changed") != 2 {
			t.Error("a second seed with --parent must leave both accounts alone")
		}
	})

	t.Run("existing user without a secret", func(t *testing.T) {
		s.t = t
		const known = "Known-Passw0rd-legacy"
		s.createUser("legacy_app", known)
		out := s.run(1, "--user", "legacy_app", "--secret", "legacy-db-password")
		s.contains(out, "legacy_app@admin exists and secret \"legacy-db-password\" in vault segura-dev does not")
		s.contains(out, "Nothing was changed. --reset gives the user a new random password")
		s.login("legacy_app", "admin", known, true)
		s.missing("segura-dev", "legacy-db-password")

		out = s.run(0, "--user", "legacy_app", "--secret", "legacy-db-password", "--reset")
		s.contains(out, "gave MongoDB user legacy_app@admin a new random password")
		pw, _ := s.secret("segura-dev", "legacy-db-password", secretvalue.Password, "text/plain")
		s.login("legacy_app", "admin", pw, true)
		s.login("legacy_app", "admin", known, false)
	})

	t.Run("secret that does not log in", func(t *testing.T) {
		s.t = t
		s.write("segura-dev", "orders-db-password", "Not-the-passw0rd", "text/plain")
		out := s.run(1, "--user", "orders_app", "--secret", "orders-db-password")
		s.contains(out, "the secret's value does not log in as the user. Nothing was changed. If the secret holds another format than password, pass it with --format")

		s.run(0, "--user", "orders_app", "--secret", "orders-db-password", "--reset")
		pw, _ := s.secret("segura-dev", "orders-db-password", secretvalue.Password, "text/plain")
		s.login("orders_app", "admin", pw, true)
	})

	t.Run("secret in another format", func(t *testing.T) {
		s.t = t
		out := s.run(1, "--user", "reports_app", "--auth-db", "reports", "--vault", "segura-dev-2", "--secret", "reports-db", "--format", "connection_string")
		s.contains(out, "is not in the format asked for")
		s.contains(out, "Pass the format the secret holds with --format")
		pw, _ := s.secret("segura-dev-2", "reports-db", secretvalue.JSON, "application/json")
		s.login("reports_app", "reports", pw, true)
	})

	t.Run("secret without a user, as a seed interrupted half-way leaves it", func(t *testing.T) {
		s.t = t
		const staged = "Staged-Passw0rd-half"
		s.write("segura-dev", "half-db-password", staged, "text/plain")
		out := s.run(0, "--user", "half_app", "--secret", "half-db-password")
		s.contains(out, "created MongoDB user half_app@admin with the password already in secret half-db-password")
		s.login("half_app", "admin", staged, true)
	})

	t.Run("usage and stack errors", func(t *testing.T) {
		s.t = t
		s.contains(s.run(2, "--user", "x"), "--user and --secret are required")
		s.contains(s.run(2, "--user", "x", "--secret", "y", "--format", "yaml"), `--format "yaml": want one of password, connection_string, json`)
		s.contains(s.run(2, "--user", "x", "--secret", "y", "--parent", "admin"), "--parent and --parent-secret go together")
		s.contains(s.run(1, "--user", "x", "--secret", "y", "--vault", "nope"), `the local stack has no vault "nope"; it has segura-dev, segura-dev-2`)
		s.contains(s.run(1, "--user", "x", "--secret", "not_a_name"), "is not a Key Vault secret name")
		out, code := s.runIn(t.TempDir(), "--user", "x", "--secret", "y")
		if code != 1 || !strings.Contains(out, "no running local stack") {
			t.Errorf("seed without a devstack.json: exit %d, output:\n%s", code, out)
		}
		stale := t.TempDir()
		gone := localstack.Stack{Config: cfg}
		gone.Config.MongoDBURI = "mongodb://127.0.0.1:1/"
		if err := gone.WriteConfig(filepath.Join(stale, localstack.ConfigFile)); err != nil {
			t.Fatal(err)
		}
		out, code = s.runIn(stale, "--user", "x", "--secret", "y")
		if code != 1 || !strings.Contains(out, "is not running") {
			t.Errorf("seed with the devstack.json of a stopped stack: exit %d, output:\n%s", code, out)
		}
	})
}

type seedCheck struct {
	t    *testing.T
	ctx  context.Context
	bin  string
	dir  string
	cfg  localstack.Config
	pool *keyvault.Pool

	outputs   []string // everything seed printed
	passwords []string // every password seen in Key Vault
}

// run runs seed on the stack and checks its exit code; it returns stdout and
// stderr together.
func (s *seedCheck) run(wantCode int, args ...string) string {
	s.t.Helper()
	out, code := s.runIn(s.dir, args...)
	if code != wantCode {
		s.t.Fatalf("devstack seed %s: exit %d, want %d; output:\n%s", strings.Join(args, " "), code, wantCode, out)
	}
	return out
}

func (s *seedCheck) runIn(dir string, args ...string) (string, int) {
	s.t.Helper()
	cmd := exec.CommandContext(s.ctx, s.bin, append([]string{"seed", "--dir", dir}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	s.outputs = append(s.outputs, out.String())
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	case err != nil:
		s.t.Fatalf("run devstack seed: %v", err)
	}
	return out.String(), 0
}

func (s *seedCheck) contains(out, want string) {
	s.t.Helper()
	if !strings.Contains(out, want) {
		s.t.Errorf("output lacks %q:\n%s", want, out)
	}
}

func (s *seedCheck) vault(name string) *keyvault.Vault {
	s.t.Helper()
	v, err := s.pool.Vault(s.cfg.Vaults[name], keyvault.Identity{})
	if err != nil {
		s.t.Fatal(err)
	}
	return v
}

func (s *seedCheck) value(vault, secret string) string {
	s.t.Helper()
	v, err := s.vault(vault).GetSecretValue(s.ctx, secret, "")
	if err != nil {
		s.t.Fatalf("read %s: %v", secret, err)
	}
	return v.Value
}

// secret returns the password in the latest version of secret, and the
// version, after checking its content type.
func (s *seedCheck) secret(vault, secret string, f secretvalue.Format, contentType string) (string, string) {
	s.t.Helper()
	v, err := s.vault(vault).GetSecretValue(s.ctx, secret, "")
	if err != nil {
		s.t.Fatalf("read %s: %v", secret, err)
	}
	if v.ContentType != contentType {
		s.t.Errorf("%s has content type %q, want %q", secret, v.ContentType, contentType)
	}
	pw, err := secretvalue.Parse(f, v.Value)
	if err != nil {
		s.t.Fatalf("%s: %v", secret, err)
	}
	s.passwords = append(s.passwords, pw)
	return pw, v.Version
}

func (s *seedCheck) missing(vault, secret string) {
	s.t.Helper()
	if _, err := s.vault(vault).GetSecretValue(s.ctx, secret, ""); !errors.Is(err, keyvault.ErrSecretNotFound) {
		s.t.Errorf("%s: want no secret, got %v", secret, err)
	}
}

func (s *seedCheck) write(vault, secret, value, contentType string) {
	s.t.Helper()
	if _, err := s.vault(vault).SetSecretValue(s.ctx, secret, keyvault.SecretWrite{Value: value, ContentType: contentType}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *seedCheck) createUser(user, password string) {
	s.t.Helper()
	client := s.admin()
	defer client.Disconnect(context.Background()) //nolint:errcheck
	cmd := bson.D{{Key: "createUser", Value: user}, {Key: "pwd", Value: password}, {Key: "roles", Value: bson.A{}}}
	if err := client.Database("admin").RunCommand(s.ctx, cmd).Err(); err != nil {
		s.t.Fatal(err)
	}
}

func (s *seedCheck) admin() *mongo.Client {
	s.t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(s.cfg.MongoDBURI).
		SetAuth(options.Credential{Username: s.cfg.MongoDBAdminUsername, Password: s.cfg.MongoDBAdminPassword}))
	if err != nil {
		s.t.Fatal(err)
	}
	return client
}

// login checks that a fresh SCRAM-SHA-256 login as user@db with password
// works, or is refused.
func (s *seedCheck) login(user, db, password string, wantOK bool) {
	s.t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(s.cfg.MongoDBURI).SetServerSelectionTimeout(10 * time.Second).
		SetAuth(options.Credential{Username: user, Password: password, AuthSource: db, AuthMechanism: "SCRAM-SHA-256"}))
	if err != nil {
		s.t.Fatal(err)
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck
	err = client.Database(db).RunCommand(s.ctx, bson.D{{Key: "ping", Value: 1}}).Err()
	switch {
	case wantOK && err != nil:
		s.t.Errorf("login as %s@%s with the password in Key Vault: %v", user, db, err)
	case !wantOK && err == nil:
		s.t.Errorf("login as %s@%s with the replaced password still works", user, db)
	case !wantOK && !strings.Contains(err.Error(), "AuthenticationFailed"):
		s.t.Errorf("login as %s@%s with the replaced password: want AuthenticationFailed, got %v", user, db, err)
	}
}

func (s *seedCheck) checkNoPasswordPrinted(t *testing.T) {
	all := strings.Join(s.outputs, "\n")
	for _, pw := range s.passwords {
		if strings.Contains(all, pw) {
			t.Errorf("devstack seed printed a password")
		}
	}
	if len(s.passwords) == 0 {
		t.Error("no password was checked")
	}
}

// startStack runs the devstack command in dir until the test ends and
// returns its devstack.json.
func startStack(t *testing.T, bin, dir string) localstack.Config {
	t.Helper()
	cmd, exited := runDevstack(t, bin, dir)
	// Registered after runDevstack's kill, so it runs first: a clean stop.
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case werr := <-exited:
			_ = werr // told to stop: its exit status is not the test's
		case <-time.After(30 * time.Second):
		}
	})
	return waitForConfig(t, filepath.Join(dir, localstack.ConfigFile), exited)
}
