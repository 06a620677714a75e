package rotation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/localstack"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/password"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// These tests run the protocol against the local stack: FerretDB with real
// SCRAM through the official driver, and the Key Vault emulator through
// azsecrets with a real azidentity credential. One stack per package.

var (
	stack     *localstack.Stack
	mongoPool *mongodb.Pool
	kvPool    *keyvault.Pool
	admin     *mongo.Client
	names     atomic.Int64
	// stopAtExit runs when the package's tests end, last added first
	// (servers a test file starts only when its tests run).
	stopAtExit []func()
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "rotation-test-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	stack, err = localstack.Start(context.Background(), localstack.Options{Dir: dir, Vaults: []string{"vault-a", "vault-b"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the local stack:", err)
		return 1
	}
	defer func() { _ = stack.Stop() }()
	defer func() {
		for i := len(stopAtExit) - 1; i >= 0; i-- {
			stopAtExit[i]()
		}
	}()
	kvPool, err = stack.Config.KeyVaultPool(policy.RetryOptions{MaxRetries: 3, RetryDelay: 50 * time.Millisecond, MaxRetryDelay: time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mongoPool = mongodb.NewPool(mongodb.Defaults{ConnectTimeout: 2 * time.Second, ServerSelectionTimeout: 3 * time.Second})
	defer mongoPool.Close(context.Background())
	admin, err = mongo.Connect(options.Client().ApplyURI(stack.Config.MongoDBURI).
		SetAuth(options.Credential{Username: stack.Config.MongoDBAdminUsername, Password: stack.Config.MongoDBAdminPassword}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = admin.Disconnect(context.Background()) }()
	return m.Run()
}

// fixture is one MongoDB user whose current password is already in Key
// Vault, as the integration guide's prerequisites say.
type fixture struct {
	t        *testing.T
	username string
	original string
	req      Request
}

func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, names.Add(1))
}

func newFixture(t *testing.T, formats ...secretvalue.Format) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, username: strings.ReplaceAll(unique("app"), "-", "_"), original: "Original-Passw0rd!"}
	createUser(t, f.username, f.original)
	dep := deployment()
	vaults := []string{"vault-a", "vault-b"}
	for i, format := range formats {
		v := vault(t, vaults[i%2])
		b := Binding{Label: fmt.Sprintf("sync%d", i), Vault: v, SecretName: unique("secret"), Format: format, Scope: "orders/test", Tags: map[string]string{"team": "orders"}}
		value, err := secretvalue.Render(format, secretvalue.Account{Deployment: dep, Username: f.username}, f.original)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.SetSecretValue(ctx, b.SecretName, keyvault.SecretWrite{Value: value}); err != nil {
			t.Fatal(err)
		}
		f.req.Bindings = append(f.req.Bindings, b)
	}
	f.req.Mongo = mongoPool
	f.req.Deployment = dep
	f.req.Account = mongodb.Identity{Username: f.username, AuthSource: "admin"}
	f.req.Escrow = Escrow{Vault: f.req.Bindings[0].Vault, SecretName: f.req.Bindings[0].SecretName + "-pending"}
	f.req.Policy = password.Policy{Length: 24, MinLower: 2, MinUpper: 2, MinDigits: 2, MinSymbols: 2, Symbols: password.DefaultSymbols}
	f.req.VersionLifetime = 30 * 24 * time.Hour
	f.req.Now = time.Now()
	return f
}

func deployment() mongodb.Deployment {
	return mongodb.Deployment{Hosts: []string{strings.TrimSuffix(strings.TrimPrefix(stack.Config.MongoDBURI, "mongodb://"), "/")}}
}

func vault(t *testing.T, name string) *keyvault.Vault {
	t.Helper()
	v, err := kvPool.Vault(stack.Config.Vaults[name], keyvault.Identity{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func createUser(t *testing.T, user, pw string) {
	t.Helper()
	err := admin.Database("admin").RunCommand(context.Background(), bson.D{
		{Key: "createUser", Value: user}, {Key: "pwd", Value: pw}, {Key: "roles", Value: bson.A{}},
	}).Err()
	if err != nil {
		t.Fatalf("createUser %s: %v", user, err)
	}
}

func (f *fixture) login(pw string) error {
	return mongoPool.VerifyLogin(context.Background(), deployment(), mongodb.Identity{Username: f.username, Password: pw, AuthSource: "admin"})
}

// secretPassword reads a binding's latest value and parses the password out.
func (f *fixture) secretPassword(b Binding) (string, keyvault.SecretValue) {
	f.t.Helper()
	v, err := b.Vault.GetSecretValue(context.Background(), b.SecretName, "")
	if err != nil {
		f.t.Fatalf("read %s: %v", b.ID(), err)
	}
	pw, err := secretvalue.Parse(b.Format, v.Value)
	if err != nil {
		f.t.Fatalf("parse %s: %v", b.ID(), err)
	}
	return pw, v
}

// assertConverged checks the end state every successful rotation must
// reach: every secret holds the same password, MongoDB accepts it with a
// fresh login, and refuses the original.
func (f *fixture) assertConverged() string {
	f.t.Helper()
	first, _ := f.secretPassword(f.req.Bindings[0])
	for _, b := range f.req.Bindings[1:] {
		if pw, _ := f.secretPassword(b); pw != first {
			f.t.Errorf("%s holds a different password than the primary", b.ID())
		}
	}
	if err := f.login(first); err != nil {
		f.t.Errorf("login with the Key Vault value: %v", err)
	}
	if first == f.original {
		f.t.Error("the password did not change")
	} else if err := f.login(f.original); mongodb.Classify(err) != mongodb.KindAuthentication {
		f.t.Errorf("login with the original password: want an authentication failure, got %v", err)
	}
	return first
}

func TestRotateSelfAcrossTwoVaultsAndAllFormats(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretvalue.Password, secretvalue.ConnectionString, secretvalue.JSON)
	res, err := Rotate(context.Background(), f.req)
	if err != nil {
		t.Fatal(err)
	}
	newPassword := f.assertConverged()
	if len(res.Versions) != 3 || !strings.Contains(res.PasswordSource, "sync0") {
		t.Errorf("result: versions %v, source %q", res.Versions, res.PasswordSource)
	}
	if len(res.Warnings) > 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
	for _, b := range f.req.Bindings {
		_, v := f.secretPassword(b)
		if v.Version != res.Versions[b.ID()] {
			t.Errorf("%s: latest version %s, result says %s", b.ID(), v.Version, res.Versions[b.ID()])
		}
		for k, want := range map[string]string{keyvault.TagRotationID: res.RotationID, keyvault.TagCredential: f.username + "@admin on " + f.req.Deployment.Hosts[0], keyvault.TagScope: "orders/test", "team": "orders", keyvault.TagRotatedAt: res.RotatedAt.Format(time.RFC3339)} {
			if v.Tags[k] != want {
				t.Errorf("%s: tag %s = %q, want %q", b.ID(), k, v.Tags[k], want)
			}
		}
		if v.ContentType != secretvalue.DefaultContentType(b.Format) {
			t.Errorf("%s: content type %q", b.ID(), v.ContentType)
		}
		if wantExp := res.RotatedAt.Add(f.req.VersionLifetime); v.Expires.Unix() != wantExp.Unix() {
			t.Errorf("%s: exp %v, want %v", b.ID(), v.Expires, wantExp)
		}
		if strings.Contains(fmt.Sprint(res), newPassword) {
			t.Error("the result holds the password")
		}
	}
	// The escrow copy is disabled: no readable extra copy stays in the vault.
	_, err = f.req.Escrow.Vault.GetSecretValue(context.Background(), f.req.Escrow.SecretName, "")
	var accessErr *keyvault.AccessError
	if !errors.As(err, &accessErr) {
		t.Errorf("escrow after a finished rotation: want a 403 for a disabled version, got %v", err)
	}

	// A second rotation starts from the Key Vault value written by the first.
	f.req.Now = time.Now()
	if _, err := Rotate(context.Background(), f.req); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	if again := f.assertConverged(); again == newPassword {
		t.Error("the second rotation did not change the password")
	}
}

func TestRotateThroughParent(t *testing.T) {
	t.Parallel()
	parent := newFixture(t, secretvalue.Password)
	f := newFixture(t, secretvalue.ConnectionString)
	f.req.Parent = &Parent{Account: parent.req.Account, Source: parent.req.Bindings[0]}
	// The child's Key Vault value is stale: only a parent can fix that.
	if _, err := f.req.Bindings[0].Vault.SetSecretValue(context.Background(), f.req.Bindings[0].SecretName, keyvault.SecretWrite{Value: "mongodb://x:stale@127.0.0.1:1/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Rotate(context.Background(), f.req); err != nil {
		t.Fatal(err)
	}
	f.assertConverged()
	if err := parent.login(parent.original); err != nil {
		t.Errorf("the parent's own password changed: %v", err)
	}
}

func TestRotateWithBootstrapPassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretvalue.Password)
	// Key Vault holds a placeholder, not the password.
	if _, err := f.req.Bindings[0].Vault.SetSecretValue(context.Background(), f.req.Bindings[0].SecretName, keyvault.SecretWrite{Value: "placeholder"}); err != nil {
		t.Fatal(err)
	}
	_, err := Rotate(context.Background(), f.req)
	var rotErr *Error
	if !errors.As(err, &rotErr) || rotErr.Stage != StagePreflight || !strings.Contains(err.Error(), "bootstrap_password_wo") {
		t.Fatalf("without a bootstrap password: want a preflight error pointing at bootstrap_password_wo, got %v", err)
	}
	if err := f.login(f.original); err != nil {
		t.Fatalf("a failed preflight changed MongoDB: %v", err)
	}
	f.req.BootstrapPassword = f.original
	res, err := Rotate(context.Background(), f.req)
	if err != nil {
		t.Fatal(err)
	}
	if res.PasswordSource != "the bootstrap password" {
		t.Errorf("source %q", res.PasswordSource)
	}
	f.assertConverged()
}

// TestWriteFailureRollsBack makes the second vault refuse the write after
// MongoDB changed: MongoDB and the first secret must go back to the old
// password, so nobody reading either secret is locked out.
func TestWriteFailureRollsBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretvalue.Password, secretvalue.JSON)
	second := f.req.Bindings[1]
	fault := stack.KeyVault.InjectFault(kvemulator.Fault{Vault: "vault-b", Method: "PUT", Path: "^/secrets/" + second.SecretName + "$", Action: "status", Status: 403, Code: "Forbidden", Message: "permission revoked"})
	defer stack.KeyVault.RemoveFault(fault)
	_, err := Rotate(context.Background(), f.req)
	var rotErr *Error
	if !errors.As(err, &rotErr) || rotErr.Stage != StageWrite {
		t.Fatalf("want a Key Vault write error, got %v", err)
	}
	for _, want := range []string{second.ID(), "rolled back", "previous password again", "restored"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if err := f.login(f.original); err != nil {
		t.Fatalf("after roll-back the original password must log in: %v", err)
	}
	for _, b := range f.req.Bindings {
		if pw, _ := f.secretPassword(b); pw != f.original {
			t.Errorf("%s does not hold the original password after roll-back", b.ID())
		}
	}
}

// TestCrashBetweenChangeAndWrite stops a rotation right after updateUser, as
// a killed process would, and checks the next rotation converges from the
// escrow without anyone resetting the password.
func TestCrashBetweenChangeAndWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, secretvalue.Password, secretvalue.ConnectionString)
	r := &run{req: f.req, result: &Result{RotationID: newRotationID(), RotatedAt: f.req.Now, Versions: map[string]string{}}}
	if err := r.preflight(ctx); err != nil {
		t.Fatal(err)
	}
	lost, err := password.Generate(f.req.Policy, f.username, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.stage(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if err := r.change(ctx, lost); err != nil {
		t.Fatal(err)
	}
	// ... the process dies here. Key Vault still has the original, which no
	// longer logs in: Inspect must say so.
	st, err := Inspect(ctx, InspectRequest{Mongo: mongoPool, Deployment: f.req.Deployment, Account: f.req.Account, Bindings: f.req.Bindings})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(st.Drift, "\n"), "no longer logs in") {
		t.Fatalf("Inspect after the crash: drift %q", st.Drift)
	}

	f.req.Now = time.Now()
	res, err := Rotate(ctx, f.req)
	if err != nil {
		t.Fatalf("recovery rotation: %v", err)
	}
	if !strings.Contains(res.PasswordSource, "escrow") {
		t.Errorf("recovery found the password in %q, want the escrow", res.PasswordSource)
	}
	f.assertConverged()
}

func TestPreflightFailuresChangeNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("missing secret", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, secretvalue.Password)
		f.req.Bindings = append(f.req.Bindings, Binding{Label: "ghost", Vault: vault(t, "vault-b"), SecretName: unique("missing"), Format: secretvalue.Password})
		_, err := Rotate(ctx, f.req)
		assertPreflight(t, f, err, "does not exist", "create_if_missing")
	})
	t.Run("soft-deleted secret", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, secretvalue.Password, secretvalue.Password)
		b := f.req.Bindings[1]
		if _, err := b.Vault.Client().DeleteSecret(ctx, b.SecretName, nil); err != nil {
			t.Fatal(err)
		}
		_, err := Rotate(ctx, f.req)
		assertPreflight(t, f, err, "soft-deleted", "Recover")
	})
	t.Run("changed since plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, secretvalue.Password)
		f.req.Bindings[0].ExpectedVersion = "0123456789abcdef0123456789abcdef"
		_, err := Rotate(ctx, f.req)
		assertPreflight(t, f, err, "changed since the plan", "terraform plan")
		var cc *ConcurrentChangeError
		if !errors.As(err, &cc) {
			t.Errorf("want a ConcurrentChangeError, got %T", errors.Unwrap(err))
		}
	})
	t.Run("MongoDB unreachable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, secretvalue.Password)
		f.req.Deployment = mongodb.Deployment{Hosts: []string{"127.0.0.1:1"}}
		_, err := Rotate(ctx, f.req)
		assertPreflight(t, f, err, "unreachable", "device's address")
	})
	t.Run("no set permission on the escrow", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, secretvalue.Password)
		fault := stack.KeyVault.InjectFault(kvemulator.Fault{Vault: "vault-a", Method: "PUT", Path: "^/secrets/" + f.req.Escrow.SecretName + "$", Action: "status", Status: 403, Code: "Forbidden", Message: "no set"})
		defer stack.KeyVault.RemoveFault(fault)
		_, err := Rotate(ctx, f.req)
		assertPreflight(t, f, err, "escrow", "set permission")
	})
}

func assertPreflight(t *testing.T, f *fixture, err error, wants ...string) {
	t.Helper()
	var rotErr *Error
	if !errors.As(err, &rotErr) || rotErr.Stage != StagePreflight {
		t.Fatalf("want a preflight error, got %v", err)
	}
	for _, w := range append(wants, "MongoDB unchanged") {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q: %v", w, err)
		}
	}
	if err := f.login(f.original); err != nil {
		t.Errorf("a failed preflight changed MongoDB: %v", err)
	}
	if pw, _ := f.secretPassword(f.req.Bindings[0]); pw != f.original {
		t.Error("a failed preflight changed the primary secret")
	}
}

func TestInspectReportsDrift(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, secretvalue.Password, secretvalue.JSON)
	res, err := Rotate(ctx, f.req)
	if err != nil {
		t.Fatal(err)
	}
	inspect := func() *Status {
		t.Helper()
		st, err := Inspect(ctx, InspectRequest{Mongo: mongoPool, Deployment: f.req.Deployment, Account: f.req.Account, Bindings: f.req.Bindings, Written: res.Versions})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := inspect(); len(st.Drift) > 0 || st.Unverified != "" {
		t.Fatalf("right after a rotation: drift %q, unverified %q", st.Drift, st.Unverified)
	}

	// A version written out of band.
	second := f.req.Bindings[1]
	if _, err := second.Vault.SetSecretValue(ctx, second.SecretName, keyvault.SecretWrite{Value: `{"password":"x"}`}); err != nil {
		t.Fatal(err)
	}
	if st := inspect(); len(st.Drift) != 1 || !strings.Contains(st.Drift[0], "did not write") {
		t.Errorf("after an out-of-band version: drift %q", st.Drift)
	}
	// The password changed in MongoDB out of band.
	if err := admin.Database("admin").RunCommand(ctx, bson.D{{Key: "updateUser", Value: f.username}, {Key: "pwd", Value: "Changed-by-a-DBA-1"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if st := inspect(); !strings.Contains(strings.Join(st.Drift, "\n"), "no longer logs in") {
		t.Errorf("after an out-of-band password change: drift %q", st.Drift)
	}
	// The primary deleted.
	if _, err := f.req.Bindings[0].Vault.Client().DeleteSecret(ctx, f.req.Bindings[0].SecretName, nil); err != nil {
		t.Fatal(err)
	}
	if st := inspect(); !strings.Contains(strings.Join(st.Drift, "\n"), "soft-deleted") {
		t.Errorf("after deleting the primary: drift %q", st.Drift)
	}
}

// TestTakeOverFromARotationStillRunning: rotation A has changed MongoDB and
// is about to write its secrets when rotation B starts. B finds A's password
// in the escrow, takes over and finishes; A, resuming, sees it has been
// taken over and writes nothing, so it cannot overwrite B's secrets.
func TestTakeOverFromARotationStillRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, secretvalue.Password, secretvalue.JSON)
	a := &run{req: f.req, result: &Result{RotationID: "rotation-a", RotatedAt: f.req.Now, Versions: map[string]string{}}}
	if err := a.preflight(ctx); err != nil {
		t.Fatal(err)
	}
	pwA, _ := password.Generate(f.req.Policy, f.username, nil)
	if err := a.stage(ctx, pwA); err != nil {
		t.Fatal(err)
	}
	if err := a.change(ctx, pwA); err != nil {
		t.Fatal(err)
	}

	b, err := Rotate(ctx, f.req)
	if err != nil {
		t.Fatalf("rotation B: %v", err)
	}
	if !strings.Contains(b.PasswordSource, "rotation-a") {
		t.Errorf("B found the current password in %q, want A's escrow", b.PasswordSource)
	}
	newPassword := f.assertConverged()

	err = a.write(ctx, pwA)
	var conc *ConcurrentRotationError
	if !errors.As(err, &conc) || conc.Other != b.RotationID {
		t.Fatalf("A resuming after B took over: want a ConcurrentRotationError naming B, got %v", err)
	}
	if again := f.assertConverged(); again != newPassword {
		t.Error("A overwrote B's secrets")
	}
	// Nothing readable is left in the escrow.
	if pending, _ := (&run{req: f.req}).enabledEscrows(ctx); len(pending) != 0 {
		t.Errorf("%d escrow version(s) left enabled", len(pending))
	}
}

// TestSimultaneousRotations starts several rotations of one credential at
// once: at most one goes on, the others say another rotation was running
// (or, having lost the race to log in, that no known password works or that
// their login was refused so they changed nothing), and a rotation
// afterwards converges.
func TestSimultaneousRotations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, secretvalue.Password, secretvalue.ConnectionString)
	const n = 4
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, err := Rotate(ctx, f.req)
			errs <- err
		}()
	}
	succeeded := 0
	for i := 0; i < n; i++ {
		err := <-errs
		if err == nil {
			succeeded++
			continue
		}
		var conc *ConcurrentRotationError
		var change *ConcurrentChangeError
		var rotErr *Error
		refused := errors.As(err, &rotErr) && rotErr.MongoDB == MongoNotChangedLoginRefused
		if !errors.As(err, &conc) && !errors.As(err, &change) && !refused && !strings.Contains(err.Error(), "no known password logs in") {
			t.Errorf("a losing rotation failed for another reason: %v", err)
		}
	}
	t.Logf("%d of %d simultaneous rotations succeeded", succeeded, n)
	if succeeded > 1 {
		t.Errorf("%d rotations of one credential all went on; at most one may", succeeded)
	}
	f.req.Now = time.Now()
	if _, err := Rotate(ctx, f.req); err != nil {
		t.Fatalf("rotation after the race: %v", err)
	}
	f.assertConverged()
}

// TestLostReplyOnWriteIsRolledBackToo: the second vault applies every write
// but the connection drops before the reply. The failed write did land, so
// the roll-back must restore that secret too, not only the ones it knows it
// wrote.
func TestLostReplyOnWriteIsRolledBackToo(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretvalue.Password, secretvalue.JSON)
	second := f.req.Bindings[1]
	fault := stack.KeyVault.InjectFault(kvemulator.Fault{Vault: "vault-b", Method: "PUT", Path: "^/secrets/" + second.SecretName + "$", Action: "drop_after"})
	_, err := Rotate(context.Background(), f.req)
	stack.KeyVault.RemoveFault(fault)
	var rotErr *Error
	if !errors.As(err, &rotErr) || rotErr.Stage != StageWrite {
		t.Fatalf("want a Key Vault write error, got %v", err)
	}
	if err := f.login(f.original); err != nil {
		t.Fatalf("after roll-back the original password must log in: %v", err)
	}
	for _, b := range f.req.Bindings {
		if pw, _ := f.secretPassword(b); pw != f.original {
			t.Errorf("%s does not hold the original password after roll-back: %v", b.ID(), err)
		}
	}
	if !strings.Contains(err.Error(), "read back after a lost reply") {
		t.Errorf("the error does not say the lost write was found and restored: %v", err)
	}
}

// TestTakeOverWhileAWriteIsInFlight: rotation A's first secret write hangs
// after A changed MongoDB; B takes over and finishes; then A's write lands,
// after B's. A notices it was taken over and writes B's value back, so the
// secret ends up with the password MongoDB accepts.
func TestTakeOverWhileAWriteIsInFlight(t *testing.T) {
	t.Parallel()
	t.Run("self", func(t *testing.T) { t.Parallel(); testTakeOverWhileAWriteIsInFlight(t, false) })
	// Through a parent, B logs in without A's password: it retires A's
	// escrow instead of adopting it, and A must still give the secret back.
	t.Run("parent", func(t *testing.T) { t.Parallel(); testTakeOverWhileAWriteIsInFlight(t, true) })
}

func testTakeOverWhileAWriteIsInFlight(t *testing.T, viaParent bool) {
	ctx := context.Background()
	f := newFixture(t, secretvalue.Password, secretvalue.ConnectionString)
	if viaParent {
		parent := newFixture(t, secretvalue.Password)
		f.req.Parent = &Parent{Account: parent.req.Account, Source: parent.req.Bindings[0]}
	}
	primary := f.req.Bindings[0]
	hold := stack.KeyVault.InjectFault(kvemulator.Fault{Vault: "vault-a", Method: "PUT", Path: "^/secrets/" + primary.SecretName + "$", Count: 1, Action: "delay", Delay: time.Minute})
	defer stack.KeyVault.RemoveFault(hold)

	aDone := make(chan error, 1)
	go func() {
		_, err := Rotate(ctx, f.req)
		aDone <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for f.login(f.original) == nil { // A has not changed MongoDB yet
		if time.Now().After(deadline) {
			t.Fatal("rotation A never changed MongoDB")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, errB := Rotate(ctx, f.req)
	stack.KeyVault.RemoveFault(hold) // A's write lands now, after B's if B wrote
	var errA error
	select {
	case errA = <-aDone:
	case <-time.After(30 * time.Second):
		t.Fatal("rotation A did not finish")
	}
	var conc *ConcurrentRotationError
	switch {
	case errB == nil:
		// B staged in a later second, so it owned the credential: A must
		// notice it was taken over and give the secret back.
		if !errors.As(errA, &conc) || conc.Other != b.RotationID || !strings.Contains(errA.Error(), "written again as the latest") {
			t.Fatalf("rotation A after its late write: want it to give the secret back to B, got %v", errA)
		}
	case errors.As(errB, &conc):
		// Both staged in the same second and A's version sorts first: B
		// must have stopped before changing anything, and A finishes.
		if errA != nil {
			t.Fatalf("B stood back for A, but A failed: %v", errA)
		}
	default:
		t.Fatalf("rotation B: %v", errB)
	}
	f.assertConverged()
}

// TestInspectAdoptsAFinishedRotationItDidNotMake: a rotation made outside
// the caller (the segura_rotate action) is adopted once it has finished;
// one that died before finishing (its escrow version still enabled) is
// drift, which the next rotation finishes.
func TestInspectAdoptsAFinishedRotationItDidNotMake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, secretvalue.Password, secretvalue.JSON)
	ours, err := Rotate(ctx, f.req)
	if err != nil {
		t.Fatal(err)
	}
	inspect := func() *Status {
		t.Helper()
		st, err := Inspect(ctx, InspectRequest{Mongo: mongoPool, Deployment: f.req.Deployment, Account: f.req.Account,
			Bindings: f.req.Bindings, Written: ours.Versions, Escrow: f.req.Escrow})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	var progress []string
	theirsReq := f.req
	theirsReq.Now = time.Now()
	theirsReq.Progress = func(m string) { progress = append(progress, m) }
	theirs, err := Rotate(ctx, theirsReq)
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) != 5 || !strings.Contains(progress[4], "verified") {
		t.Errorf("progress messages: %q", progress)
	}
	st := inspect()
	if len(st.Drift) > 0 || st.Rotation == nil {
		t.Fatalf("after a finished rotation made elsewhere: drift %q, adopted %+v", st.Drift, st.Rotation)
	}
	if st.Rotation.ID != theirs.RotationID || fmt.Sprint(st.Rotation.Versions) != fmt.Sprint(theirs.Versions) ||
		!st.Rotation.RotatedAt.Equal(theirs.RotatedAt.Truncate(time.Second)) {
		t.Errorf("adopted %+v, want rotation %s at %s with %v", st.Rotation, theirs.RotationID, theirs.RotatedAt, theirs.Versions)
	}

	// One that died after writing every secret, before it verified and
	// finished its escrow version, which is still enabled. Not adopted; the
	// drift says it, and the next rotation finishes the job.
	r := &run{req: f.req, result: &Result{RotationID: newRotationID(), RotatedAt: time.Now().UTC(), Versions: map[string]string{}}}
	r.req.Now = r.result.RotatedAt
	if err := r.preflight(ctx); err != nil {
		t.Fatal(err)
	}
	lost, err := password.Generate(f.req.Policy, f.username, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.stage(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if err := r.change(ctx, lost); err != nil {
		t.Fatal(err)
	}
	for _, b := range f.req.Bindings {
		if _, err := r.writeBinding(ctx, b, lost, r.result.RotationID); err != nil {
			t.Fatal(err)
		}
	}
	ours = theirs
	if st := inspect(); st.Rotation != nil || !strings.Contains(strings.Join(st.Drift, "\n"), "rotation "+r.result.RotationID+" was interrupted") {
		t.Errorf("after a rotation that died half-way: adopted %+v, drift %q", st.Rotation, st.Drift)
	}
	f.req.Now = time.Now()
	if _, err := Rotate(ctx, f.req); err != nil {
		t.Fatalf("the next rotation: %v", err)
	}
	f.assertConverged()
}

// TestWrongValuePastedOverThePrimary: a person writes a wrong value as the
// primary's latest version. The next rotation does not give up: it finds
// the password among the versions this provider wrote, by the resource's
// state (Written) or, without it, by their rotation-id tags.
func TestWrongValuePastedOverThePrimary(t *testing.T) {
	t.Parallel()
	for _, withState := range []bool{true, false} {
		t.Run(fmt.Sprintf("state known %v", withState), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, secretvalue.Password, secretvalue.JSON)
			res, err := Rotate(ctx, f.req)
			if err != nil {
				t.Fatal(err)
			}
			primary := f.req.Bindings[0]
			if _, err := primary.Vault.SetSecretValue(ctx, primary.SecretName, keyvault.SecretWrite{Value: "pasted-the-wrong-thing"}); err != nil {
				t.Fatal(err)
			}
			// The second binding's latest is wrong too: only older versions hold it.
			second := f.req.Bindings[1]
			if _, err := second.Vault.SetSecretValue(ctx, second.SecretName, keyvault.SecretWrite{Value: `{"password":"also-wrong"}`}); err != nil {
				t.Fatal(err)
			}
			req := f.req
			req.Now = time.Now()
			if withState {
				req.Written = res.Versions
			}
			again, err := Rotate(ctx, req)
			if err != nil {
				t.Fatalf("rotation after a wrong value was pasted: %v", err)
			}
			want := "written by rotation " + res.RotationID
			if withState {
				want = "written by the last rotation"
			}
			if !strings.Contains(again.PasswordSource, want) {
				t.Errorf("password found in %q, want a source saying %q", again.PasswordSource, want)
			}
			f.assertConverged()
		})
	}
}

// TestRotationKeepsTheUsersMechanisms: a user with SCRAM-SHA-1 and
// SCRAM-SHA-256 credentials, rotated by a credential pinned to SCRAM-SHA-256,
// keeps both: updateUser drops the mechanisms it is not given, which would
// lock out every client pinned to SCRAM-SHA-1. Self-rotation and a parent.
func TestRotationKeepsTheUsersMechanisms(t *testing.T) {
	t.Parallel()
	for _, viaParent := range []bool{false, true} {
		t.Run(fmt.Sprintf("via parent %v", viaParent), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, secretvalue.Password)
			before, err := mongoPool.UserInfo(ctx, deployment(), mongodb.Identity{Username: stack.Config.MongoDBAdminUsername, Password: stack.Config.MongoDBAdminPassword}, "admin", f.username)
			if err != nil || before == nil || !slices.Contains(before.Mechanisms, mongodb.MechanismSCRAMSHA1) {
				t.Fatalf("the fixture's user should have SCRAM-SHA-1 credentials: %+v, %v", before, err)
			}
			f.req.Account.Mechanism = mongodb.MechanismSCRAMSHA256
			if viaParent {
				parentSecret := unique("admin")
				v := f.req.Bindings[0].Vault
				if _, err := v.SetSecretValue(ctx, parentSecret, keyvault.SecretWrite{Value: stack.Config.MongoDBAdminPassword}); err != nil {
					t.Fatal(err)
				}
				f.req.Parent = &Parent{Account: mongodb.Identity{Username: stack.Config.MongoDBAdminUsername, AuthSource: "admin"},
					Source: Binding{Label: "parent", Vault: v, SecretName: parentSecret, Format: secretvalue.Password}}
			}
			if _, err := Rotate(ctx, f.req); err != nil {
				t.Fatal(err)
			}
			current := f.assertConverged()
			sha1 := mongodb.Identity{Username: f.username, Password: current, AuthSource: "admin", Mechanism: mongodb.MechanismSCRAMSHA1}
			if err := mongoPool.VerifyLogin(ctx, deployment(), sha1); err != nil {
				t.Errorf("a SCRAM-SHA-1 client is locked out after the rotation: %v", err)
			}
		})
	}
}
