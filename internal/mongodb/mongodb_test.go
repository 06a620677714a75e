package mongodb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/segura-community/terraform-provider-segura/internal/ferretdb"
)

// server is a FerretDB (real SCRAM, TLS listener) shared by the integration
// tests of this package; nil with -short.
var server *ferretdb.Server

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if isShort() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "segura-mongodb-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // includes a first FerretDB build
	server, err = ferretdb.Start(ctx, ferretdb.Options{Dir: dir, TLS: true})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start FerretDB:", err)
		return 1
	}
	defer func() { _ = server.Stop() }()
	return m.Run()
}

// isShort reads -test.short before flag.Parse has run in TestMain's caller.
func isShort() bool {
	for _, a := range os.Args[1:] {
		if a == "-test.short" || a == "-test.short=true" {
			return true
		}
	}
	return false
}

func needServer(t *testing.T) {
	t.Helper()
	if server == nil {
		t.Skip("integration test: needs FerretDB (not started with -short)")
	}
}

func hostOf(uri string) string {
	s := strings.TrimPrefix(uri, "mongodb://")
	s, _, _ = strings.Cut(s, "/")
	return s
}

func plainDeployment() Deployment { return Deployment{Hosts: []string{hostOf(server.URI())}} }

func tlsDeployment() Deployment {
	return Deployment{Hosts: []string{hostOf(server.TLSURI())}, TLS: true, TLSCAFile: server.CAFile()}
}

func admin() Identity {
	return Identity{Username: server.AdminUsername(), Password: server.AdminPassword(), AuthSource: "admin"}
}

func testPool() *Pool {
	return NewPool(Defaults{ConnectTimeout: 2 * time.Second, ServerSelectionTimeout: 2 * time.Second})
}

// freeClosedPort returns a loopback address nothing listens on.
func freeClosedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestDeploymentString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dep  Deployment
		want string
	}{
		{Deployment{Hosts: []string{"db"}}, "mongodb://db:27017/"},
		{Deployment{Hosts: []string{"a:1", "b"}, ReplicaSet: "rs0"}, "mongodb://a:1,b:27017/?replicaSet=rs0"},
		{Deployment{Hosts: []string{"[::1]"}, TLS: true, TLSCAFile: "/ca.pem"}, "mongodb://[::1]:27017/?tls=true&tlsCAFile=%2Fca.pem"},
	}
	for _, c := range cases {
		if got := c.dep.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.dep, got, c.want)
		}
	}
}

func TestDeploymentValidate(t *testing.T) {
	t.Parallel()
	bad := map[string]Deployment{
		"no hosts":            {},
		"port out of range":   {Hosts: []string{"db:70000"}},
		"empty host":          {Hosts: []string{":27017"}},
		"TLS options, no TLS": {Hosts: []string{"db"}, TLSInsecure: true},
	}
	for name, d := range bad {
		if err := d.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", name)
		}
	}
	if err := (Deployment{Hosts: []string{"db", "10.0.0.1:27018", "[::1]:1"}, ReplicaSet: "rs"}).Validate(); err != nil {
		t.Errorf("valid deployment: %v", err)
	}
}

// TestPoolSharesClients: one client per (deployment, identity), including
// under concurrent first use, and a different password is a different client.
func TestPoolSharesClients(t *testing.T) {
	t.Parallel()
	p := testPool()
	defer p.Close(context.Background())
	dep := Deployment{Hosts: []string{"db.example"}}
	id := Identity{Username: "app", Password: "one"}

	var wg sync.WaitGroup
	clients := make(chan any, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.Client(dep, id)
			if err != nil {
				t.Error(err)
			}
			clients <- c
		}()
	}
	wg.Wait()
	close(clients)
	var first any
	for c := range clients {
		if first == nil {
			first = c
		} else if c != first {
			t.Fatal("concurrent Client calls returned different clients for the same deployment and identity")
		}
	}
	// "db.example" and "db.example:27017" are the same deployment.
	same, _ := p.Client(Deployment{Hosts: []string{"db.example:27017"}}, id)
	if same != first {
		t.Error("the default port made explicit gave a different client")
	}
	other, _ := p.Client(dep, Identity{Username: "app", Password: "two"})
	if other == first {
		t.Error("a different password shared the client")
	}
	if p.Len() != 2 {
		t.Errorf("Len() = %d, want 2", p.Len())
	}
	p.Forget(context.Background(), dep, id)
	if p.Len() != 1 {
		t.Errorf("after Forget, Len() = %d, want 1", p.Len())
	}
}

func TestClientConfigErrorIsNotCached(t *testing.T) {
	t.Parallel()
	p := testPool()
	dep := Deployment{Hosts: []string{"db"}, TLS: true, TLSCAFile: "/does/not/exist.pem"}
	_, err := p.Client(dep, Identity{Username: "u", Password: "p"})
	if Classify(err) != KindConfig {
		t.Fatalf("Classify(%v) = %v, want %v", err, Classify(err), KindConfig)
	}
	if p.Len() != 0 {
		t.Errorf("a failed client was cached")
	}
}

func TestProbe(t *testing.T) {
	needServer(t)
	t.Parallel()
	ctx := context.Background()
	p := testPool()
	defer p.Close(ctx)

	if _, err := p.Probe(ctx, plainDeployment()); err != nil {
		t.Errorf("plain listener: %v", err)
	}
	if _, err := p.Probe(ctx, tlsDeployment()); err != nil {
		t.Errorf("TLS listener: %v", err)
	}

	// One dead seed host is tolerated when another answers.
	dep := plainDeployment()
	dep.Hosts = append(dep.Hosts, freeClosedPort(t))
	if _, err := p.Probe(ctx, dep); err != nil {
		t.Errorf("one of two hosts down: %v", err)
	}

	// The server is a standalone: a configured replica set is a mistake.
	dep = plainDeployment()
	dep.ReplicaSet = "rs0"
	_, err := p.Probe(ctx, dep)
	if Classify(err) != KindConfig || !strings.Contains(err.Error(), `replica set "rs0"`) {
		t.Errorf("replica set mismatch: got %v (kind %v)", err, Classify(err))
	}

	// Nothing listening.
	dead := Deployment{Hosts: []string{freeClosedPort(t)}}
	_, err = p.Probe(ctx, dead)
	if Classify(err) != KindUnreachable {
		t.Errorf("dead host: got %v (kind %v), want unreachable", err, Classify(err))
	}
	if !strings.Contains(err.Error(), dead.Hosts[0]) {
		t.Errorf("error %q does not name the host", err)
	}

	// TLS listener without trusting its CA.
	untrusted := tlsDeployment()
	untrusted.TLSCAFile = ""
	if _, err := p.Probe(ctx, untrusted); err == nil {
		t.Error("probe of an untrusted TLS server succeeded")
	}
}

// TestPasswordLifecycle: create a user, log in, change its password as the
// admin (parent) and as itself, and check that errors never carry a password.
func TestPasswordLifecycle(t *testing.T) {
	needServer(t)
	t.Parallel()
	ctx := context.Background()
	p := testPool()
	defer p.Close(ctx)
	dep := tlsDeployment()

	adminClient, err := p.Client(dep, admin())
	if err != nil {
		t.Fatal(err)
	}
	user := Identity{Username: fmt.Sprintf("lifecycle%d", time.Now().UnixNano()), Password: "initial-Secret-1", AuthSource: "admin"}
	err = adminClient.Database("admin").RunCommand(ctx, bson.D{
		{Key: "createUser", Value: user.Username}, {Key: "pwd", Value: user.Password}, {Key: "roles", Value: bson.A{}},
	}).Err()
	if err != nil {
		t.Fatal(err)
	}

	if err := p.VerifyLogin(ctx, dep, user); err != nil {
		t.Fatalf("login with the initial password: %v", err)
	}
	got, err := p.UserInfo(ctx, dep, admin(), "admin", user.Username)
	if err != nil || got == nil || got.Username != user.Username {
		t.Fatalf("UserInfo = %+v, %v", got, err)
	}
	missing, err := p.UserInfo(ctx, dep, admin(), "admin", "no-such-user")
	if err != nil || missing != nil {
		t.Fatalf("UserInfo(no-such-user) = %+v, %v; want nil, nil", missing, err)
	}
	// A user reading itself with a password about to change leaves no
	// shared client behind (a rotation does that once per credential).
	clients := p.Len()
	if self, err := p.UserInfo(ctx, dep, user, "admin", user.Username); err != nil || self == nil {
		t.Fatalf("UserInfo as the user itself = %+v, %v", self, err)
	}
	if p.Len() != clients {
		t.Errorf("UserInfo kept a client for its identity: %d shared clients, want %d", p.Len(), clients)
	}

	// The admin (a parent credential) changes the password.
	second := "second-Secret-2"
	if err := p.ChangePassword(ctx, dep, admin(), user, second, nil); err != nil {
		t.Fatalf("ChangePassword as admin: %v", err)
	}
	err = p.VerifyLogin(ctx, dep, user)
	if Classify(err) != KindAuthentication {
		t.Fatalf("old password after change: got %v (kind %v), want authentication failure", err, Classify(err))
	}
	if strings.Contains(err.Error(), user.Password) {
		t.Fatalf("error leaks the password: %v", err)
	}
	user.Password = second
	if err := p.VerifyLogin(ctx, dep, user); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}

	// The user changes its own password.
	third := "third-Secret-3"
	if err := p.ChangePassword(ctx, dep, user, user, third, []string{MechanismSCRAMSHA256}); err != nil {
		t.Fatalf("ChangePassword as itself: %v", err)
	}
	p.Forget(ctx, dep, user)
	user.Password = third
	if err := p.VerifyLogin(ctx, dep, user); err != nil {
		t.Fatalf("login after self-change: %v", err)
	}

	// A wrong password of the acting identity is an authentication error
	// that names the user but not the password.
	wrong := Identity{Username: user.Username, Password: "wrong-Password-9", AuthSource: "admin"}
	err = p.ChangePassword(ctx, dep, wrong, user, "fourth-Secret-4", nil)
	if Classify(err) != KindAuthentication {
		t.Fatalf("ChangePassword with a wrong password: got %v (kind %v)", err, Classify(err))
	}
	for _, secret := range []string{"wrong-Password-9", "fourth-Secret-4", third} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error leaks a password: %v", err)
		}
	}
	if !strings.Contains(err.Error(), user.Username) {
		t.Errorf("error %q does not name the user", err)
	}
	before := p.Len()
	if _, err := p.Client(dep, wrong); err != nil {
		t.Fatal(err)
	}
	if p.Len() != before+1 {
		t.Errorf("the client of a rejected identity stayed in the pool (%d clients before asking for it again, %d after)", before, p.Len())
	}
	var mErr *Error
	if !errors.As(err, &mErr) || mErr.Deployment.String() != dep.String() {
		t.Errorf("error %v does not carry the deployment", err)
	}
}

func TestChangePasswordRejectsEmpty(t *testing.T) {
	t.Parallel()
	p := testPool()
	err := p.ChangePassword(context.Background(), Deployment{Hosts: []string{"db"}}, Identity{Username: "a"}, Identity{Username: "b"}, "", nil)
	if Classify(err) != KindConfig {
		t.Errorf("empty password: got %v", err)
	}
}
