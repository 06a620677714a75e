package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/password"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// dualFixture is a fixture with a second account on the same device, whose
// current password is known only to the test (as an operator would pass it
// as the alternate's bootstrap password).
type dualFixture struct {
	*fixture
	accounts [2]mongodb.Identity
	original [2]string
}

func newDualFixture(t *testing.T, formats ...secretvalue.Format) *dualFixture {
	t.Helper()
	f := newFixture(t, formats...)
	d := &dualFixture{fixture: f}
	d.accounts[0] = f.req.Account
	d.accounts[1] = mongodb.Identity{Username: f.username + "_b", AuthSource: "admin"}
	d.original = [2]string{f.original, "Alternate-Passw0rd!"}
	createUser(t, d.accounts[1].Username, d.original[1])
	return d
}

func (d *dualFixture) view() *DualView {
	d.t.Helper()
	v, err := ViewDual(context.Background(), DualViewRequest{Mongo: mongoPool, Deployment: d.req.Deployment, Accounts: d.accounts,
		Primary: d.req.Bindings[0], Escrow: d.req.Escrow})
	if err != nil {
		d.t.Fatal(err)
	}
	return v
}

// request is the next switching rotation: the standby of the current view.
func (d *dualFixture) request(v *DualView) Request {
	req := d.req
	req.Now = time.Now()
	req.Account = d.accounts[v.Standby()]
	req.Dual = &Dual{Accounts: d.accounts, Active: v.Active}
	if v.StandbyVersion == "" {
		req.BootstrapPassword = d.original[v.Standby()]
	}
	return req
}

// logsIn reports whether account i logs in with pw.
func (d *dualFixture) logsIn(i int, pw string) error {
	id := d.accounts[i]
	id.Password = pw
	return mongoPool.VerifyLogin(context.Background(), d.req.Deployment, id)
}

// current returns the username and password every binding holds (they must
// agree), read from the values, as an application would.
func (d *dualFixture) current() (string, string) {
	d.t.Helper()
	var user, pw string
	for i, b := range d.req.Bindings {
		v, err := b.Vault.GetSecretValue(context.Background(), b.SecretName, "")
		if err != nil {
			d.t.Fatal(err)
		}
		p, err := secretvalue.Parse(b.Format, v.Value)
		if err != nil {
			d.t.Fatal(err)
		}
		u := usernameOf(d.t, b.Format, v.Value)
		if i == 0 {
			user, pw = u, p
		} else if u != user || p != pw {
			d.t.Errorf("%s holds %s's password, the primary %s's", b.ID(), u, user)
		}
	}
	return user, pw
}

func usernameOf(t *testing.T, f secretvalue.Format, value string) string {
	t.Helper()
	switch f {
	case secretvalue.JSON:
		var v struct {
			Username string `json:"username"`
		}
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			t.Fatal(err)
		}
		return v.Username
	case secretvalue.ConnectionString:
		rest := strings.TrimPrefix(value, "mongodb://")
		user, _, _ := strings.Cut(rest, ":")
		return user
	}
	t.Fatalf("format %s carries no username", f)
	return ""
}

// TestDualRotationsTakeTurns: three rotations alternate between the two
// accounts; each writes the standby's username and new password to every
// binding and leaves the previously active account's password logging in.
func TestDualRotationsTakeTurns(t *testing.T) {
	t.Parallel()
	d := newDualFixture(t, secretvalue.JSON, secretvalue.ConnectionString)
	ctx := context.Background()
	v := d.view()
	if v.Active != 0 || v.StandbyVersion != "" || !v.StandbySince.IsZero() {
		t.Fatalf("before the first dual rotation: %+v (want the credential active, the alternate never active)", v)
	}
	if !strings.Contains(strings.Join(v.Warnings, "\n"), "bootstrap password") {
		t.Errorf("the view does not warn that the first rotation needs the alternate's password: %v", v.Warnings)
	}
	passwords := d.original
	for n := 1; n <= 3; n++ {
		v = d.view()
		target := v.Standby()
		res, err := Rotate(ctx, d.request(v))
		if err != nil {
			t.Fatalf("rotation %d: %v", n, err)
		}
		if res.Account != d.accounts[target].String() {
			t.Errorf("rotation %d changed %s, want the standby %s", n, res.Account, d.accounts[target].String())
		}
		user, pw := d.current()
		if user != d.accounts[target].Username {
			t.Fatalf("rotation %d: the bindings name %s, want %s", n, user, d.accounts[target].Username)
		}
		if err := d.logsIn(target, pw); err != nil {
			t.Fatalf("rotation %d: the new password does not log in: %v", n, err)
		}
		if err := d.logsIn(target, passwords[target]); mongodb.Classify(err) != mongodb.KindAuthentication {
			t.Errorf("rotation %d: the standby's old password still logs in (%v)", n, err)
		}
		other := 1 - target
		if err := d.logsIn(other, passwords[other]); err != nil {
			t.Errorf("rotation %d: the previously active account's password no longer logs in: %v", n, err)
		}
		passwords[target] = pw
		after := d.view()
		if after.Active != target || after.Unverified != "" || after.StandbyRefused {
			t.Errorf("rotation %d: view after %+v", n, after)
		}
		if after.StandbySince.IsZero() {
			t.Errorf("rotation %d: the view does not know when the standby stopped being active", n)
		}
		if n >= 2 && len(after.Warnings) > 0 {
			t.Errorf("rotation %d: warnings %v", n, after.Warnings)
		}
	}
}

// TestDualWriteFailureKeepsTheActiveAccount: the second binding refuses the
// write after MongoDB changed the standby. The first binding gets the active
// account's value back, MongoDB the standby's previous password, and no
// application is refused at any point.
func TestDualWriteFailureKeepsTheActiveAccount(t *testing.T) {
	t.Parallel()
	d := newDualFixture(t, secretvalue.JSON, secretvalue.ConnectionString)
	ctx := context.Background()
	if _, err := Rotate(ctx, d.request(d.view())); err != nil { // B active
		t.Fatal(err)
	}
	activeUser, activePw := d.current()
	second := d.req.Bindings[1]
	fault := stack.KeyVault.InjectFault(kvemulator.Fault{Vault: "vault-b", Method: "PUT", Path: "^/secrets/" + second.SecretName + "$", Action: "status", Status: 403, Code: "Forbidden", Message: "permission revoked"})
	v := d.view()
	_, err := Rotate(ctx, d.request(v)) // changes A
	stack.KeyVault.RemoveFault(fault)
	var rotErr *Error
	if !errors.As(err, &rotErr) || rotErr.Stage != StageWrite {
		t.Fatalf("want a Key Vault write error, got %v", err)
	}
	for _, want := range []string{"Rolled back", "restored to its previous value", "previous password of the standby", "both accounts keep the passwords they had"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if user, pw := d.current(); user != activeUser || pw != activePw {
		t.Errorf("after the roll-back the bindings name %s (want %s, the active account, with its password)", user, activeUser)
	}
	if err := d.logsIn(1, activePw); err != nil {
		t.Errorf("the active account no longer logs in: %v", err)
	}
	if err := d.logsIn(0, d.original[0]); err != nil {
		t.Errorf("the standby's previous password was not put back: %v", err)
	}
	after := d.view()
	if after.Active != 1 || after.Interrupted != "" || after.StandbyRefused {
		t.Errorf("view after the roll-back: %+v", after)
	}
	// The next rotation starts from there.
	if _, err := Rotate(ctx, d.request(after)); err != nil {
		t.Fatalf("rotation after the roll-back: %v", err)
	}
	if user, _ := d.current(); user != d.accounts[0].Username {
		t.Errorf("the rotation after the roll-back switched to %s", user)
	}
}

// TestDualCrashBetweenChangeAndWrite: the process dies after updateUser of
// the standby. Applications keep the active account (the bindings were not
// written); the view names the interrupted rotation, whose password is in
// the escrow; the next rotation finishes from it.
func TestDualCrashBetweenChangeAndWrite(t *testing.T) {
	t.Parallel()
	d := newDualFixture(t, secretvalue.JSON)
	ctx := context.Background()
	if _, err := Rotate(ctx, d.request(d.view())); err != nil { // B active
		t.Fatal(err)
	}
	activeUser, activePw := d.current()
	v := d.view()
	req := d.request(v)
	r := &run{req: req, result: &Result{RotationID: newRotationID(), RotatedAt: req.Now, Versions: map[string]string{}}}
	if err := r.preflight(ctx); err != nil {
		t.Fatal(err)
	}
	lost, err := password.Generate(req.Policy, req.Account.Username, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.stage(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if err := r.change(ctx, lost); err != nil {
		t.Fatal(err)
	}
	// ... the process dies here.
	if user, pw := d.current(); user != activeUser || pw != activePw {
		t.Fatal("the bindings changed")
	}
	if err := d.logsIn(1, activePw); err != nil {
		t.Fatalf("the active account no longer logs in: %v", err)
	}
	after := d.view()
	if after.Interrupted != r.result.RotationID || after.Active != 1 {
		t.Fatalf("view after the crash: %+v (want rotation %s interrupted)", after, r.result.RotationID)
	}
	res, err := Rotate(ctx, d.request(after))
	if err != nil {
		t.Fatalf("the rotation after the crash: %v", err)
	}
	if !strings.Contains(res.PasswordSource, "escrow") {
		t.Errorf("the password came from %q, want the escrow", res.PasswordSource)
	}
	if user, pw := d.current(); user != d.accounts[0].Username || d.logsIn(0, pw) != nil {
		t.Errorf("after the recovery the bindings name %s", user)
	}
	if err := d.logsIn(1, activePw); err != nil {
		t.Errorf("the previously active account no longer logs in: %v", err)
	}
}

// TestDualInPlaceChangesTheActiveAccount: a rotation of the active account
// itself (an exposed password) changes it in place and leaves the standby.
func TestDualInPlaceChangesTheActiveAccount(t *testing.T) {
	t.Parallel()
	d := newDualFixture(t, secretvalue.JSON)
	ctx := context.Background()
	if _, err := Rotate(ctx, d.request(d.view())); err != nil { // B active
		t.Fatal(err)
	}
	_, exposed := d.current()
	v := d.view()
	req := d.request(v)
	req.Account, req.BootstrapPassword = d.accounts[v.Active], ""
	if _, err := Rotate(ctx, req); err != nil {
		t.Fatal(err)
	}
	user, pw := d.current()
	if user != d.accounts[1].Username || pw == exposed || d.logsIn(1, pw) != nil {
		t.Errorf("after the change in place: %s", user)
	}
	if err := d.logsIn(1, exposed); mongodb.Classify(err) != mongodb.KindAuthentication {
		t.Errorf("the exposed password still logs in: %v", err)
	}
	if err := d.logsIn(0, d.original[0]); err != nil {
		t.Errorf("the standby's password changed: %v", err)
	}
	if after := d.view(); after.Active != 1 || after.StandbySince.IsZero() {
		t.Errorf("view after the change in place: %+v", after)
	}
}

// TestVersionAccount: a version names its account by tag, or by the tag's
// user@authdb prefix after the device's address changed; any other version
// belongs to the resource's own credential.
func TestVersionAccount(t *testing.T) {
	dep := mongodb.Deployment{Hosts: []string{"db1:27017"}}
	a := mongodb.Identity{Username: "app", AuthSource: "admin"}
	b := mongodb.Identity{Username: "app_b", AuthSource: "admin"}
	for _, c := range []struct {
		tag  string
		want int
	}{
		{"", 0},
		{AccountTag(dep, b), 1},
		{"app_b@admin on db2:27017", 1},
		{AccountTag(dep, a), 0},
		{"someone@admin on db1:27017", 0},
		{"app_bb@admin on db1:27017", 0},
	} {
		if got := VersionAccount(map[string]string{keyvault.TagCredential: c.tag}, dep, a, b); got != c.want {
			t.Errorf("VersionAccount(%q) = %d, want %d", c.tag, got, c.want)
		}
	}
}
