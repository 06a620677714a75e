package mongosim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// rs is the replica set shared by the tests of this package that neither
// step down nor lose data: each test works on users of its own.
var (
	rs     *Sim
	rsLog  = &syncBuffer{}
	tmpDir string
)

func TestMain(m *testing.M) {
	var err error
	tmpDir, err = os.MkdirTemp("", "mongosim-test-")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // includes a first FerretDB build
	rs, err = Start(ctx, Options{Dir: filepath.Join(tmpDir, "rs"), Log: rsLog})
	cancel()
	if err != nil {
		os.RemoveAll(tmpDir)
		panic("start the simulator: " + err.Error())
	}
	code := m.Run()
	if err := rs.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop:", err)
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "simulator log:\n%s\n", rsLog.String())
	}
	os.RemoveAll(tmpDir)
	os.Exit(code)
}

// startSim starts a simulator of the test's own.
func startSim(t *testing.T, opts Options) *Sim {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// connect returns a client of uri logged in as user (admin database unless
// authDB), disconnected at the end of the test.
func connect(t *testing.T, uri, user, password string, tweak ...func(*options.ClientOptions)) *mongo.Client {
	t.Helper()
	opts := options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second)
	if user != "" {
		opts.SetAuth(options.Credential{Username: user, Password: password, AuthSource: "admin"})
	}
	for _, f := range tweak {
		f(opts)
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

func adminClient(t *testing.T, s *Sim) *mongo.Client {
	t.Helper()
	return connect(t, s.URI(), s.AdminUsername(), s.AdminPassword())
}

// login makes a fresh SCRAM login as user on uri and runs ping.
func login(uri, user, password string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(5 * time.Second).
		SetAuth(options.Credential{Username: user, Password: password, AuthSource: "admin"}))
	if err != nil {
		return err
	}
	defer c.Disconnect(context.Background()) //nolint:errcheck // a probe client
	return c.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

func isAuthFailure(err error) bool {
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == 18 {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "AuthenticationFailed")
}

// userName is a user of this test only.
func userName(t *testing.T) string {
	r := strings.NewReplacer("/", "_", " ", "_", "#", "_")
	return "u_" + r.Replace(t.Name())
}

func run(ctx context.Context, c *mongo.Client, db string, cmd bson.D) (bson.Raw, error) {
	return c.Database(db).RunCommand(ctx, cmd).Raw()
}

func createUser(t *testing.T, c *mongo.Client, user, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := run(ctx, c, "admin", bson.D{{Key: "createUser", Value: user}, {Key: "pwd", Value: password}, {Key: "roles", Value: bson.A{}}}); err != nil {
		t.Fatalf("createUser %s: %v", user, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, _ = run(ctx, c, "admin", bson.D{{Key: "dropUser", Value: user}})
	})
}

func secondaries(s *Sim) []string {
	var out []string
	for _, h := range s.Hosts() {
		if h != s.Primary() {
			out = append(out, h)
		}
	}
	return out
}

func codeOf(err error) int32 {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var we mongo.WriteException
	if errors.As(err, &we) {
		if len(we.WriteErrors) > 0 {
			return int32(we.WriteErrors[0].Code)
		}
		if we.WriteConcernError != nil {
			return int32(we.WriteConcernError.Code)
		}
	}
	return 0
}

func eventually(t *testing.T, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
