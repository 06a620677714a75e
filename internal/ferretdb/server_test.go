package ferretdb

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// server is shared by the tests of this package: one FerretDB per package.
var server *Server

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ferretdb-test-")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // includes a first build
	server, err = Start(ctx, Options{Dir: dir, TLS: true})
	cancel()
	if err != nil {
		os.RemoveAll(dir)
		panic("start FerretDB: " + err.Error())
	}
	code := m.Run()
	if err := server.Stop(); err != nil {
		println(err.Error())
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func connect(t *testing.T, uri, user, password, mechanism string, tlsConfig *tls.Config) *mongo.Client {
	t.Helper()
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(5 * time.Second).
		SetAuth(options.Credential{Username: user, Password: password, AuthSource: "admin", AuthMechanism: mechanism})
	if tlsConfig != nil {
		opts.SetTLSConfig(tlsConfig)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

func ping(ctx context.Context, c *mongo.Client) error {
	return c.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

// TestSCRAMPasswordChange proves what the rotation protocol relies on: a
// SCRAM login, updateUser with a new password, a fresh login with the new
// password, and rejection of the old one, through the official Go driver.
func TestSCRAMPasswordChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := connect(t, server.URI(), server.AdminUsername(), server.AdminPassword(), "", nil)
	if err := ping(ctx, admin); err != nil {
		t.Fatalf("admin login: %v", err)
	}

	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1"} {
		t.Run(mech, func(t *testing.T) {
			user := "app_" + mech[len(mech)-3:]
			const oldPassword, newPassword = "old-Passw0rd!", "new-Passw0rd#"
			// The server outlives one run of the test (go test -count=N).
			t.Cleanup(func() {
				_ = admin.Database("admin").RunCommand(ctx, bson.D{{Key: "dropUser", Value: user}}).Err()
			})
			err := admin.Database("admin").RunCommand(ctx, bson.D{
				{Key: "createUser", Value: user}, {Key: "pwd", Value: oldPassword},
				{Key: "roles", Value: bson.A{}}, {Key: "mechanisms", Value: bson.A{mech}},
			}).Err()
			if err != nil {
				t.Fatalf("createUser: %v", err)
			}
			if err := ping(ctx, connect(t, server.URI(), user, oldPassword, mech, nil)); err != nil {
				t.Fatalf("login with the first password: %v", err)
			}

			// The user changes its own password, as self-rotation does.
			self := connect(t, server.URI(), user, oldPassword, mech, nil)
			err = self.Database("admin").RunCommand(ctx, bson.D{
				{Key: "updateUser", Value: user}, {Key: "pwd", Value: newPassword},
			}).Err()
			if err != nil {
				t.Fatalf("updateUser: %v", err)
			}

			if err := ping(ctx, connect(t, server.URI(), user, newPassword, mech, nil)); err != nil {
				t.Fatalf("fresh login with the new password: %v", err)
			}
			err = ping(ctx, connect(t, server.URI(), user, oldPassword, mech, nil))
			t.Logf("old password rejected: %v", err)
			if !isAuthFailure(err) {
				t.Fatalf("login with the old password: want an authentication failure, got %v", err)
			}
		})
	}
}

// TestTLSListener proves the TLS listener verifies against the written CA
// and that a client which does not trust the CA is refused.
func TestTLSListener(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pem, err := os.ReadFile(server.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	uri := server.TLSURI() + "&tlsCAFile=" + server.CAFile()
	if err := ping(ctx, connect(t, uri, server.AdminUsername(), server.AdminPassword(), "", nil)); err != nil {
		t.Fatalf("TLS login trusting the CA (%d bytes of PEM): %v", len(pem), err)
	}
	untrusted := connect(t, server.TLSURI(), server.AdminUsername(), server.AdminPassword(), "", &tls.Config{MinVersion: tls.VersionTLS12})
	shortCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := ping(shortCtx, untrusted); err == nil {
		t.Fatal("TLS login without trusting the CA succeeded")
	}
}

func isAuthFailure(err error) bool {
	if err == nil {
		return false
	}
	var cmdErr mongo.CommandError
	if errors.As(err, &cmdErr) && cmdErr.Code == 18 { // AuthenticationFailed
		return true
	}
	// The driver reports a failed SCRAM handshake as a connection error that
	// wraps the server's AuthenticationFailed reply.
	return strings.Contains(err.Error(), "AuthenticationFailed")
}

// TestRestartKeepsUsers starts a second server (the shared one stays up for
// the parallel tests), restarts it on the same ports and data, and checks
// that a user created before the restart still logs in afterwards.
func TestRestartKeepsUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, err := Start(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })

	admin := connect(t, srv.URI(), srv.AdminUsername(), srv.AdminPassword(), "", nil)
	err = admin.Database("admin").RunCommand(ctx, bson.D{
		{Key: "createUser", Value: "survivor"}, {Key: "pwd", Value: "Surv1ve-the-restart"}, {Key: "roles", Value: bson.A{}},
	}).Err()
	if err != nil {
		t.Fatalf("createUser: %v", err)
	}
	uri := srv.URI()
	if err := srv.Restart(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if srv.URI() != uri || !srv.Running() {
		t.Fatalf("after restart: uri %s (was %s), running %v", srv.URI(), uri, srv.Running())
	}
	if err := ping(ctx, connect(t, srv.URI(), "survivor", "Surv1ve-the-restart", "", nil)); err != nil {
		t.Fatalf("login after restart: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if srv.Running() {
		t.Fatal("still running after Stop")
	}
}

// TestStartAgainInTheSameDirectory: a second Start in a directory an earlier
// server used (devstack run twice) starts clean instead of failing on the
// earlier run's admin user.
func TestStartAgainInTheSameDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := Start(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	second, err := Start(context.Background(), Options{Dir: dir, StartTimeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("second start in the same directory: %v", err)
	}
	t.Cleanup(func() { _ = second.Stop() })
	if second.AdminPassword() == first.AdminPassword() {
		t.Fatal("both runs got the same random admin password; the test proves nothing")
	}
}
