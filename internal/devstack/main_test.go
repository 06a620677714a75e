package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/localstack"
	"github.com/segura-community/terraform-provider-segura/internal/testcert"
)

// TestDevstackLifecycle builds the command, runs it as a user would, waits
// for devstack.json, checks both servers answer with the published
// credentials, then sends each stop signal and checks both servers are gone.
func TestDevstackLifecycle(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "devstack")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd, exited := runDevstack(t, bin, dir)

			cfg := waitForConfig(t, filepath.Join(dir, "devstack.json"), exited)
			for name, value := range map[string]string{
				"mongodb_uri": cfg.MongoDBURI, "mongodb_admin_username": cfg.MongoDBAdminUsername,
				"mongodb_admin_password": cfg.MongoDBAdminPassword, "vault_url": cfg.VaultURL,
				"ca_cert_file": cfg.CACertFile, "tenant_id": cfg.TenantID, "client_id": cfg.ClientID,
				"client_secret": cfg.ClientSecret, "authority_host": cfg.AuthorityHost, "admin_url": cfg.AdminURL,
			} {
				if value == "" {
					t.Errorf("devstack.json: %s is empty", name)
				}
			}
			if u, _ := url.Parse(cfg.MongoDBURI); u == nil || u.User != nil {
				t.Errorf("mongodb_uri must not carry credentials: %q", cfg.MongoDBURI)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := mongoPing(ctx, cfg); err != nil {
				t.Fatalf("MongoDB login with devstack.json's admin credentials: %v", err)
			}
			resp, err := vaultGet(ctx, cfg)
			if err != nil {
				t.Fatalf("HTTPS to the vault trusting ca_cert_file: %v", err)
			}
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("unauthenticated vault call: want 401 with a bearer challenge, got %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("devstack exited with %v after %s; want a clean exit", err, sig)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("devstack still running 30s after %s", sig)
			}
			if _, err := os.Stat(filepath.Join(dir, "devstack.json")); !os.IsNotExist(err) {
				t.Errorf("devstack.json left behind after stop (err=%v)", err)
			}
			for _, u := range []string{cfg.MongoDBURI, cfg.VaultURL} {
				parsed, _ := url.Parse(u)
				if conn, err := net.DialTimeout("tcp", parsed.Host, time.Second); err == nil {
					conn.Close()
					t.Errorf("%s still accepts connections after stop", u)
				}
			}
		})
	}
}

// TestDevstackReplicaSet: with --replica-set, devstack.json also names a
// simulated replica set the driver discovers and writes to with the same
// admin credentials, and its simulator's admin endpoint; SIGTERM stops it.
func TestDevstackReplicaSet(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "devstack")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd, exited := runDevstack(t, bin, dir, "--replica-set", "--mongodb-tls=false")

	cfg := waitForConfig(t, filepath.Join(dir, "devstack.json"), exited)
	if cfg.MongoDBURI == "" || cfg.MongoDBReplicaSetName != "rs0" || cfg.MongoDBSimAdminURL == "" ||
		!strings.HasSuffix(cfg.MongoDBReplicaSetURI, "/?replicaSet=rs0") || strings.Count(cfg.MongoDBReplicaSetURI, ",") != 2 {
		t.Fatalf("devstack.json: replica set %q name %q admin %q (standalone %q)",
			cfg.MongoDBReplicaSetURI, cfg.MongoDBReplicaSetName, cfg.MongoDBSimAdminURL, cfg.MongoDBURI)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(cfg.MongoDBReplicaSetURI).
		SetAuth(options.Credential{Username: cfg.MongoDBAdminUsername, Password: cfg.MongoDBAdminPassword}))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck
	if _, err := client.Database("devstack").Collection("docs").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatalf("write to the replica set with devstack.json's admin credentials: %v", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.MongoDBSimAdminURL+"status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("simulator admin endpoint: %v", err)
	}
	var status struct {
		Primary string            `json:"primary"`
		Members []json.RawMessage `json:"members"`
	}
	err = json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if err != nil || status.Primary == "" || len(status.Members) != 3 {
		t.Errorf("GET status: %v %+v", err, status)
	}
	if err := mongoPing(ctx, cfg); err != nil {
		t.Errorf("the standalone FerretDB still answers: %v", err)
	}
	// seed --replica-set creates the user on the set, not on the standalone.
	out, err := exec.CommandContext(ctx, bin, "seed", "--dir", dir, "--replica-set", "--user", "rs_seeded", "--secret", "rs-seeded").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "created MongoDB user rs_seeded@admin") {
		t.Fatalf("seed --replica-set: %v\n%s", err, out)
	}
	var users struct {
		Users []bson.M `bson:"users"`
	}
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "usersInfo", Value: "rs_seeded"}}).Decode(&users); err != nil || len(users.Users) != 1 {
		t.Errorf("the seeded user on the replica set: %v %v", err, users.Users)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("devstack exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("devstack still running 30s after SIGTERM")
	}
	host := strings.TrimPrefix(strings.Split(cfg.MongoDBReplicaSetURI, ",")[0], "mongodb://")
	if conn, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		conn.Close()
		t.Errorf("replica-set member %s still accepts connections after stop", host)
	}
}

func waitForConfig(t *testing.T, path string, exited <-chan error) localstack.Config {
	t.Helper()
	deadline := time.After(5 * time.Minute) // a first run builds FerretDB
	for {
		if data, err := os.ReadFile(path); err == nil {
			var cfg localstack.Config
			if err := json.Unmarshal(data, &cfg); err != nil {
				t.Fatalf("devstack.json is not valid JSON: %v", err)
			}
			return cfg
		}
		select {
		case err := <-exited:
			t.Fatalf("devstack exited before writing devstack.json: %v", err)
		case <-deadline:
			t.Fatal("devstack.json did not appear within 5 minutes")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func mongoPing(ctx context.Context, cfg localstack.Config) error {
	client, err := mongo.Connect(options.Client().ApplyURI(cfg.MongoDBURI).
		SetAuth(options.Credential{Username: cfg.MongoDBAdminUsername, Password: cfg.MongoDBAdminPassword}))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck
	return client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

func vaultGet(ctx context.Context, cfg localstack.Config) (*http.Response, error) {
	pool, err := testcert.PoolFromFile(cfg.CACertFile)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.VaultURL+"secrets?api-version=7.4", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

// runDevstack starts the devstack command bin on dir with args, its
// output in dir/devstack.log (shown when the test fails), killed when the
// test ends if it still runs; exited gets its exit status.
func runDevstack(t *testing.T, bin, dir string, args ...string) (*exec.Cmd, <-chan error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--dir", dir}, args...)...)
	logPath := filepath.Join(dir, "devstack.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("devstack output:\n%s", out)
		}
	})
	return cmd, exited
}
