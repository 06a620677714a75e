package provider

// Dual-account (zero-downtime) mode through the real terraform binary:
// three rotations and their plans, the overlap, turning the mode on for a
// credential that rotates in single mode, the plan-time refusal of the bare
// password format, and a simulated application that must never be refused.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/rotation"
	"github.com/segura-community/terraform-provider-segura/internal/schedule"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// clockWorkspace runs the terraform CLI by hand, like cliWorkspace, against
// the provider served in this process (TF_REATTACH_PROVIDERS, as
// terraform-plugin-testing does), so that the schedule follows an injected
// clock while the plans are the CLI's own text.
type clockWorkspace struct {
	t   *testing.T
	dir string
	env []string
}

var clockRuns atomic.Int64

func newClockWorkspace(t *testing.T, clock *testClock, env ...string) *clockWorkspace {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	configs := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	factory := providerserver.NewProtocol6(newWithClock("test", clock.Now)())
	addr := "registry.terraform.io/segura-community/segura"
	go func() {
		if err := tf6server.Serve(addr, factory, tf6server.WithDebug(ctx, configs, closed),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()), tf6server.WithLoggingSink(t)); err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-configs:
	case <-time.After(30 * time.Second):
		t.Fatal("the provider did not start serving")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
		}
	})
	reattach, err := json.Marshal(map[string]any{addr: map[string]any{
		"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": true,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w := &clockWorkspace{t: t, dir: t.TempDir()}
	rcFile := filepath.Join(w.dir, ".terraformrc")
	if err := os.WriteFile(rcFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = append(append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(reattach), "TF_CLI_CONFIG_FILE="+rcFile, "TF_IN_AUTOMATION=1"), env...)
	t.Cleanup(func() {
		files, _ := filepath.Glob(filepath.Join(w.dir, "*.tfstate*"))
		for _, f := range files {
			if data, err := os.ReadFile(f); err == nil && leakedIn(data) > 0 {
				t.Errorf("secret hygiene: %s holds %d recorded password(s)", filepath.Base(f), leakedIn(data))
			}
		}
	})
	return w
}

func (w *clockWorkspace) Write(hcl string) {
	w.t.Helper()
	hcl = "terraform {\n  required_providers {\n    segura = { source = \"segura-community/segura\" }\n  }\n}\n" + hcl
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(hcl), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w *clockWorkspace) Run(args ...string) (string, error) {
	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), append(args, "-no-color")...)
	cmd.Dir = w.dir
	cmd.Env = w.env
	if hygieneLogDir != "" {
		name := fmt.Sprintf("clock-%s-%d.log", strings.ReplaceAll(w.t.Name(), "/", "_"), clockRuns.Add(1))
		cmd.Env = append(cmd.Env, "TF_LOG=TRACE", "TF_LOG_PATH="+filepath.Join(hygieneLogDir, name))
	} else {
		cmd.Env = append(cmd.Env, "TF_LOG=", "TF_LOG_PATH=")
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (w *clockWorkspace) MustRun(args ...string) string {
	w.t.Helper()
	out, err := w.Run(args...)
	if err != nil {
		w.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, tail([]byte(out), 6000))
	}
	return out
}

// plan runs terraform plan -out and returns its text (the part from the
// resource changes on, which is what a reviewer reads), its exit code and
// the planned values of the rotation.
func (w *clockWorkspace) plan(file string) (string, int, map[string]any) {
	w.t.Helper()
	out, err := w.Run("plan", "-input=false", "-detailed-exitcode", "-out="+file)
	code := exitCode(err)
	if code != 0 && code != 2 {
		w.t.Fatalf("terraform plan: exit %d\n%s", code, tail([]byte(out), 6000))
	}
	raw := w.MustRun("show", "-json", file)
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				After map[string]any `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(raw), &plan); err != nil {
		w.t.Fatal(err)
	}
	if n := leakedIn([]byte(raw)) + leakedIn([]byte(out)); n > 0 {
		w.t.Errorf("secret hygiene: the plan holds %d recorded password(s)", n)
	}
	var after map[string]any
	for _, rc := range plan.ResourceChanges {
		if rc.Address == testAccRotation {
			after = rc.Change.After
		}
	}
	if i := strings.Index(out, "Terraform used the selected providers"); i >= 0 {
		out = out[i:]
	} else if i := strings.Index(out, "No changes."); i >= 0 {
		out = out[i:]
	}
	return strings.TrimSpace(out), code, after
}

// dualChain is a dual-account chain whose bindings carry the username: json
// in the first vault (the primary), a connection string in the second.
func dualChain(name string) rotationChain {
	return rotationChain{
		name: name, username: usernameFor(name), alternate: true,
		secrets: []rotationSecret{
			{resource: "json", name: name + "-json", format: secretvalue.JSON},
			{resource: "uri", name: name + "-uri", format: secretvalue.ConnectionString, second: true},
		},
	}
}

func azsecretsUpdateTags(tags map[string]*string) azsecrets.UpdateSecretPropertiesParameters {
	return azsecrets.UpdateSecretPropertiesParameters{Tags: tags}
}

// withoutRotation is a chain's configuration without its rotation resource.
func withoutRotation(hcl string) string {
	i := strings.Index(hcl, `resource "segura_credential_rotation" "test"`)
	if i < 0 {
		panic("no rotation in the configuration")
	}
	return hcl[:i]
}

// holder is who the bindings name and the password they hold, as an
// application reads them.
type holder struct{ user, password string }

// dualHolder reads every binding, checks they agree, and records the
// password for the hygiene scan.
func dualHolder(t *testing.T, c rotationChain) holder {
	t.Helper()
	var h holder
	for i, s := range c.secrets {
		resp, err := testAccSecretsClient(t, s.vaultURL()).GetSecret(context.Background(), s.name, "", nil)
		if err != nil {
			t.Fatalf("reading %s: %v", s.name, err)
		}
		pw, err := secretvalue.Parse(s.format, *resp.Value)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		testAccRecordSecret(pw)
		u := usernameInValue(s.format, *resp.Value)
		if i == 0 {
			h = holder{u, pw}
		} else if (holder{u, pw}) != h {
			t.Errorf("%s names %s, the primary %s (or their passwords differ)", s.name, u, h.user)
		}
	}
	return h
}

func mustLogIn(t *testing.T, uri string, h holder, what string) {
	t.Helper()
	if err := testAccMongoLogin(uri, h.user, h.password); err != nil {
		t.Errorf("%s: %s does not log in: %v", what, h.user, err)
	}
}

func mustBeRefused(t *testing.T, uri string, h holder, what string) {
	t.Helper()
	if err := testAccMongoLogin(uri, h.user, h.password); !isAuthFailure(err) {
		t.Errorf("%s: want %s's old password refused, got %v", what, h.user, err)
	}
}

func planAttr(after map[string]any, name string) string {
	s, _ := after[name].(string)
	return s
}

// TestAccDualAccountThreeRotations creates a dual-account rotation (the
// first rotation changes the alternate and switches to it), then moves the
// clock a period at a time: each rotation changes the account applications
// do not use and leaves the other's password logging in. It logs the three
// plans (and writes them to the dual-account-plans.txt report).
func TestAccDualAccountThreeRotations(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-dual")
	c := dualChain(name)
	c.policy = "frequency_days = 30"
	uri := testAccConfig().MongoDBURI
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	original, clock, ws := arrangeDual(t, c, t0)
	// The device, credentials, bindings and policy first, so that the plan
	// of the first rotation shows what it will do.
	ws.Write(withoutRotation(c.hcl()))
	ws.MustRun("init", "-input=false")
	ws.MustRun("apply", "-input=false", "-auto-approve")
	ws.Write(c.hcl())

	a, b := c.username+"@admin", c.alternateUser()+"@admin"
	held := map[string]holder{c.username: {c.username, original}, c.alternateUser(): {c.alternateUser(), original + "-b"}}
	var report strings.Builder
	for n, want := range []struct {
		at           time.Time
		active, next string
	}{
		{t0, b, a},
		{t0.Add(30*24*time.Hour + time.Hour), a, b},
		{t0.Add(60*24*time.Hour + 2*time.Hour), b, a},
	} {
		clock.Set(want.at)
		file := fmt.Sprintf("rotation-%d.tfplan", n+1)
		out, code, after := ws.plan(file)
		fmt.Fprintf(&report, "=== rotation %d: terraform plan at %s (exit %d)\n%s\n\n", n+1, want.at.Format(time.RFC3339), code, out)
		t.Logf("rotation %d, plan at %s (exit %d):\n%s", n+1, want.at.Format(time.RFC3339), code, out)
		if code != 2 || planAttr(after, "active_account") != want.active || planAttr(after, "next_account") != want.next {
			t.Fatalf("rotation %d: plan exit %d, active_account %q, next_account %q; want 2, %s, %s", n+1, code, after["active_account"], after["next_account"], want.active, want.next)
		}
		before := held
		ws.MustRun("apply", "-input=false", file)
		h := dualHolder(t, c)
		if h.user+"@admin" != want.active {
			t.Fatalf("rotation %d: the bindings name %s, want %s", n+1, h.user, want.active)
		}
		mustLogIn(t, uri, h, fmt.Sprintf("rotation %d, the new password", n+1))
		mustBeRefused(t, uri, before[h.user], fmt.Sprintf("rotation %d", n+1))
		for user, old := range before {
			if user != h.user {
				mustLogIn(t, uri, old, fmt.Sprintf("rotation %d, the previously active account (untouched)", n+1))
			}
		}
		held = map[string]holder{h.user: h}
		for user, old := range before {
			if user != h.user {
				held[user] = old
			}
		}
		// Nothing due until the next period: an empty plan.
		if out, code, _ := ws.plan("empty.tfplan"); code != 0 {
			t.Fatalf("rotation %d: the plan after it is not empty (exit %d):\n%s", n+1, code, out)
		}
	}
	writeTestReport(t, "dual-account-plans.txt", report.String())
}

// TestAccDualAccountOverlap: a triggers change inside the overlap waits (the
// plan says until when, next_rotation_at moves there, and the plans after it
// are empty); force_within_overlap rotates at once; a later triggers change
// after the overlap ended rotates without it.
func TestAccDualAccountOverlap(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-overlap")
	c := dualChain(name)
	c.policy = "frequency_days = 30\n  overlap_hours = 48"
	uri := testAccConfig().MongoDBURI
	t0 := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	_, clock, ws := arrangeDual(t, c, t0)
	ws.Write(c.hcl())
	ws.MustRun("init", "-input=false")
	ws.MustRun("apply", "-input=false", "-auto-approve") // B active
	config := func(trigger, force string) string {
		return strings.Replace(c.hcl(), "syncs      =", fmt.Sprintf("triggers = { n = %q }\n  %s\n  syncs      =", trigger, force), 1)
	}
	// t0+1h: A (the standby) was told to stop at t0: waits until t0+48h.
	clock.Set(t0.Add(time.Hour))
	ws.Write(config("incident-1", ""))
	out, code, after := ws.plan("wait.tfplan")
	flat := collapse(out)
	t.Logf("a triggers change inside the overlap:\n%s", out)
	until := t0.Add(48 * time.Hour).Format(time.RFC3339)
	if code != 2 || !strings.Contains(planAttr(after, "pending_rotation_reason"), "deferred until "+until) || planAttr(after, "next_rotation_at") != until ||
		!strings.Contains(flat, "Rotation waits for the overlap") || strings.Contains(flat, "(known after apply)") {
		t.Fatalf("the plan inside the overlap: exit %d, pending %q, next %q:\n%s", code, after["pending_rotation_reason"], after["next_rotation_at"], out)
	}
	heldB := dualHolder(t, c)
	ws.MustRun("apply", "-input=false", "wait.tfplan")
	if h := dualHolder(t, c); h != heldB {
		t.Fatal("the deferred triggers change rotated")
	}
	if out, code, _ := ws.plan("empty.tfplan"); code != 0 || !strings.Contains(collapse(out), "Rotation waits for the overlap") {
		t.Fatalf("while waiting, the plan is empty with a warning: exit %d\n%s", code, out)
	}
	// force_within_overlap rotates now and says it cuts the overlap.
	ws.Write(config("incident-1", "force_within_overlap = true"))
	out, code, after = ws.plan("force.tfplan")
	t.Logf("the same, forced:\n%s", out)
	if code != 2 || planAttr(after, "active_account") != c.username+"@admin" || !strings.Contains(planAttr(after, "last_rotation_reason"), "force_within_overlap = true") ||
		!strings.Contains(collapse(out), "Rotation cuts the overlap short") {
		t.Fatalf("the forced plan: exit %d, %v", code, after)
	}
	ws.MustRun("apply", "-input=false", "force.tfplan")
	if h := dualHolder(t, c); h.user != c.username {
		t.Fatalf("the forced rotation switched to %s", h.user)
	}
	mustLogIn(t, uri, heldB, "after the forced rotation, the previously active account")
	// After the overlap of B (t0+1h+48h), a triggers change rotates.
	clock.Set(t0.Add(50 * time.Hour))
	ws.Write(config("incident-2", ""))
	if out, code, after := ws.plan("after.tfplan"); code != 2 || planAttr(after, "active_account") != c.alternateUser()+"@admin" || planAttr(after, "last_rotation_reason") != reasonTriggers {
		t.Fatalf("a triggers change after the overlap: exit %d %v\n%s", code, after, out)
	}
	ws.MustRun("apply", "-input=false", "after.tfplan")
	if h := dualHolder(t, c); h.user != c.alternateUser() {
		t.Fatalf("switched to %s", h.user)
	}
}

// TestAccDualAccountMigration turns dual-account mode on for a credential
// that rotates in single mode: the plan rotates nothing and says what the
// first dual rotation will do; that rotation, when due, switches to the
// alternate and leaves the credential's password logging in.
func TestAccDualAccountMigration(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-dmig")
	c := dualChain(name)
	c.policy = "frequency_days = 30"
	uri := testAccConfig().MongoDBURI
	single := c
	single.alternate = false
	t0 := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	_, clock, ws := arrangeDual(t, c, t0)
	ws.Write(single.hcl())
	ws.MustRun("init", "-input=false")
	ws.MustRun("apply", "-input=false", "-auto-approve")
	before := dualHolder(t, c)

	clock.Set(t0.Add(24 * time.Hour))
	ws.Write(c.hcl())
	out, code, after := ws.plan("migrate.tfplan")
	t.Logf("turning dual-account mode on:\n%s", out)
	flat := collapse(out)
	if code != 2 || planAttr(after, "last_rotated_at") != t0.Format(time.RFC3339) || planAttr(after, "active_account") != c.username+"@admin" ||
		planAttr(after, "next_account") != c.alternateUser()+"@admin" || !strings.Contains(flat, "Dual-account mode turned on") ||
		!strings.Contains(flat, "nothing is rotated by this apply") || !strings.Contains(flat, "bootstrap password the configuration gives") {
		t.Fatalf("the migration plan: exit %d, %v\n%s", code, after, out)
	}
	ws.MustRun("apply", "-input=false", "migrate.tfplan")
	if h := dualHolder(t, c); h != before {
		t.Fatal("turning dual-account mode on rotated")
	}
	if out, code, _ := ws.plan("empty.tfplan"); code != 0 {
		t.Fatalf("after the migration: exit %d\n%s", code, out)
	}
	clock.Set(t0.Add(31 * 24 * time.Hour))
	out, code, after = ws.plan("first.tfplan")
	t.Logf("the first dual-account rotation:\n%s", out)
	if code != 2 || planAttr(after, "active_account") != c.alternateUser()+"@admin" {
		t.Fatalf("the first dual rotation: exit %d, %v", code, after)
	}
	ws.MustRun("apply", "-input=false", "first.tfplan")
	if h := dualHolder(t, c); h.user != c.alternateUser() {
		t.Fatalf("switched to %s", h.user)
	}
	mustLogIn(t, uri, before, "after the first dual rotation, the credential's password (untouched)")
}

// TestAccDualAccountRefusesPasswordFormat: dual-account mode with a bare
// password binding fails at plan, saying why and what to use.
func TestAccDualAccountRefusesPasswordFormat(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-dpw")
	c := dualChain(name)
	c.secrets = append(c.secrets, rotationSecret{resource: "pw", name: name + "-pw", format: secretvalue.Password})
	ws := newCLIWorkspace(t)
	ws.Write(c.hcl())
	out, err := ws.Run("plan", "-input=false")
	flat := collapse(out)
	for _, want := range []string{"Dual-account mode needs a format with the username", `syncs[2] has value_format = "password"`, `value_format = "json" or "connection_string"`} {
		if err == nil || !strings.Contains(flat, want) {
			t.Errorf("the plan does not refuse the password format with %q:\n%s", want, out)
		}
	}
}

// TestAccZeroDowntimeApplication runs a simulated application against the
// stack while the credential rotates (six times, a period of the injected
// clock apart): a pool of goroutines opens a fresh MongoDB connection
// (official driver, SCRAM) many times a second with the username and
// password it last read from Key Vault (azsecrets), and re-reads Key Vault
// only every few seconds, an interval that straddles every rotation. In
// dual-account mode no login is refused; in single-account mode, the same
// application reports the refusals.
func TestAccZeroDowntimeApplication(t *testing.T) {
	t.Parallel() // mostly waiting between rotations: it runs beside the rest
	testAccPreCheck(t)
	testAccFirstBinaryOnly(t, "the zero-downtime application")
	results := map[string]appStats{}
	for _, mode := range []string{"dual", "single"} {
		t.Run(mode, func(t *testing.T) {
			results[mode] = runZeroDowntimeApplication(t, mode == "dual")
		})
	}
	d, s := results["dual"], results["single"]
	summary := fmt.Sprintf("zero-downtime | mode   | rotations | logins | refused | other errors | re-read every\n"+
		"zero-downtime | dual   | %9d | %6d | %7d | %12d | %s\n"+
		"zero-downtime | single | %9d | %6d | %7d | %12d | %s\n",
		d.rotations, d.logins, d.refused, d.other, d.reread, s.rotations, s.logins, s.refused, s.other, s.reread)
	fmt.Fprint(os.Stderr, summary)
	t.Log("\n" + summary)
	writeTestReport(t, "zero-downtime.txt", summary)
	if d.refused != 0 {
		t.Errorf("dual-account mode: %d refused logins, want 0", d.refused)
	}
	if s.rotations > 0 && s.refused == 0 {
		t.Errorf("single-account mode: no refused login; the application does not straddle the rotations")
	}
}

type appStats struct {
	rotations, logins, refused, other int
	reread                            time.Duration
}

const (
	appRotations = 5
	appReread    = 4 * time.Second
	appWorkers   = 2
)

func runZeroDowntimeApplication(t *testing.T, dual bool) appStats {
	name := testAccName("acc-zd")
	c := dualChain(name)
	c.alternate = dual
	c.policy = "frequency_days = 30"
	uri := testAccConfig().MongoDBURI
	t0 := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
	_, clock, ws := arrangeDual(t, c, t0)
	ws.Write(c.hcl())
	ws.MustRun("init", "-input=false")
	ws.MustRun("apply", "-input=false", "-auto-approve")

	primary := c.secrets[0]
	kv := testAccSecretsClient(t, primary.vaultURL())
	var mu sync.Mutex
	var cached holder
	read := func() {
		resp, err := kv.GetSecret(context.Background(), primary.name, "", nil)
		if err != nil {
			t.Errorf("the application could not read Key Vault: %v", err)
			return
		}
		pw, err := secretvalue.Parse(primary.format, *resp.Value)
		if err != nil {
			t.Errorf("the application could not parse the secret: %v", err)
			return
		}
		testAccRecordSecret(pw)
		mu.Lock()
		cached = holder{usernameInValue(primary.format, *resp.Value), pw}
		mu.Unlock()
	}
	read()
	var logins, refused, other atomic.Int64
	var firstOther atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // re-reads Key Vault every appReread, not on failure
		defer wg.Done()
		tick := time.NewTicker(appReread)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				read()
			}
		}
	}()
	for i := 0; i < appWorkers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				h := cached
				mu.Unlock()
				err := appLogin(uri, h)
				logins.Add(1)
				switch {
				case err == nil:
				case isAuthFailure(err):
					refused.Add(1)
				default:
					other.Add(1)
					firstOther.CompareAndSwap(nil, err.Error())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	rotations := 0
	for n := 1; n <= appRotations; n++ {
		// Longer than the application's re-read interval between two
		// rotations: in dual mode the password it holds stays valid until
		// it has read the new one.
		time.Sleep(appReread + time.Second)
		clock.Set(t0.Add(time.Duration(n) * (30*24*time.Hour + time.Hour)))
		out, err := ws.Run("apply", "-input=false", "-auto-approve")
		if err != nil {
			t.Errorf("rotation %d: %v\n%s", n, err, tail([]byte(out), 3000))
			continue
		}
		if !strings.Contains(out, "1 changed") {
			t.Errorf("rotation %d did not rotate:\n%s", n, tail([]byte(out), 3000))
			continue
		}
		rotations++
	}
	time.Sleep(appReread + time.Second)
	close(stop)
	wg.Wait()
	st := appStats{rotations: rotations, logins: int(logins.Load()), refused: int(refused.Load()), other: int(other.Load()), reread: appReread}
	mode := map[bool]string{true: "dual-account", false: "single-account"}[dual]
	t.Logf("%s mode: %d rotations, %d logins, %d refused, %d other errors (first: %v)", mode, st.rotations, st.logins, st.refused, st.other, firstOther.Load())
	return st
}

// appLogin is what the application does for each request: a fresh client,
// a SCRAM login and a ping, with the credentials it holds.
func appLogin(uri string, h holder) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second).
		SetAuth(options.Credential{Username: h.user, Password: h.password}))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck
	return client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

// TestDecideDual covers the overlap rules without a stack.
func TestDecideDual(t *testing.T) {
	day := 24 * time.Hour
	since := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	monthly := schedule.Policy{Frequency: 30 * day, AfterExposure: 4 * time.Hour}
	hours := func(h int) *time.Duration { d := time.Duration(h) * time.Hour; return &d }
	at := func(t time.Time) *time.Time { return &t }
	names := [2]string{"app@admin", "app_b@admin"}
	// B is active since `since`; A, the standby, was told to stop then.
	view := func() *rotation.DualView { return &rotation.DualView{Active: 1, StandbySince: since} }
	for _, c := range []struct {
		name    string
		in      dualInput
		rotate  bool
		target  int
		reason  string // regexp the reason must match
		nextAt  time.Time
		warning string
	}{
		{name: "routine rotation at the end of the period", in: dualInput{now: since.Add(30*day + time.Hour), policy: monthly, last: since, view: view()},
			rotate: true, target: 0, reason: `^rotation due: 30 days`},
		{name: "nothing due: next rotation of the standby", in: dualInput{now: since.Add(day), policy: monthly, last: since, view: view()},
			target: 0, reason: `^$`, nextAt: since.Add(30 * day)},
		{name: "triggers inside the default overlap wait for it", in: dualInput{now: since.Add(day), policy: monthly, last: since, view: view(), kind: dualTriggers, reason: reasonTriggers},
			target: 0, reason: `^deferred until 2026-03-31T10:00:00Z, the end of the overlap of app@admin \(applications were told to stop using its password on 2026-03-01T10:00:00Z\): triggers changed$`,
			nextAt: since.Add(30 * day), warning: "Rotation waits for the overlap"},
		{name: "force cuts it short", in: dualInput{now: since.Add(day), policy: monthly, last: since, view: view(), kind: dualTriggers, reason: reasonTriggers, force: true},
			rotate: true, target: 0, reason: `^triggers changed; this cuts short the overlap of app@admin.*force_within_overlap = true$`, warning: "Rotation cuts the overlap short"},
		{name: "drift waits", in: dualInput{now: since.Add(day), policy: monthly, last: since, view: view(), kind: dualDrift, reason: "secret x has a version"},
			target: 0, reason: `^deferred until .*: secret x has a version$`, nextAt: since.Add(30 * day), warning: "Rotation waits for the overlap"},
		{name: "a Key Vault value that no longer logs in is repaired at once", in: dualInput{now: since.Add(day), policy: monthly, last: since, view: view(), kind: dualOutage, reason: "the password in secret x no longer logs in"},
			rotate: true, target: 0, reason: `no longer logs in; this cuts short .*switching them to app@admin is the repair`, warning: "Rotation cuts the overlap short"},
		{name: "an interrupted rotation is finished", in: dualInput{now: since.Add(day), policy: monthly, last: since, view: view(), kind: dualInterrupted, reason: "rotation r was interrupted"},
			rotate: true, target: 0, reason: `^rotation r was interrupted$`},
		{name: "a checked-out standby password is retired inside the overlap", in: dualInput{now: since.Add(day), policy: monthly, last: since,
			view: &rotation.DualView{Active: 1, StandbySince: since, StandbyExposedAt: at(since.Add(-time.Hour))}},
			rotate: true, target: 0, reason: `^the password of the standby app@admin was checked out .*; this cuts short .*on purpose`, warning: "Rotation cuts the overlap short"},
		{name: "a checked-out active password is changed in place", in: dualInput{now: since.Add(day), policy: monthly, last: since,
			view: &rotation.DualView{Active: 1, StandbySince: since, ActiveExposedAt: at(since.Add(2 * time.Hour))}},
			rotate: true, target: 1, reason: `^the password of the active account app_b@admin was checked out .*changed in place`, warning: "Exposed password changed in place"},
		{name: "a checkout not yet due: the next rotation is in place, at its deadline", in: dualInput{now: since.Add(3 * time.Hour), policy: monthly, last: since,
			view: &rotation.DualView{Active: 1, StandbySince: since, ActiveExposedAt: at(since.Add(2 * time.Hour))}},
			target: 1, reason: `^$`, nextAt: since.Add(6 * time.Hour)},
		{name: "an overlap longer than the period delays the routine rotation", in: dualInput{now: since.Add(31 * day), policy: monthly, overlap: hours(40 * 24), last: since, view: view()},
			target: 0, reason: `^deferred until 2026-04-10T10:00:00Z.*rotation due: 30 days`, nextAt: since.Add(40 * day), warning: "Rotation waits for the overlap"},
		{name: "no overlap (overlap_hours = 0)", in: dualInput{now: since.Add(time.Hour), policy: monthly, overlap: hours(0), last: since, view: view(), kind: dualTriggers, reason: reasonTriggers},
			rotate: true, target: 0, reason: `^triggers changed$`},
		{name: "a standby that was never active has no overlap", in: dualInput{now: since.Add(time.Hour), policy: monthly, last: since, view: &rotation.DualView{Active: 0}, kind: dualTriggers, reason: reasonTriggers},
			rotate: true, target: 1, reason: `^triggers changed$`},
		{name: "creating the resource rotates at once and says what it cuts", in: dualInput{now: since.Add(time.Hour), policy: monthly, view: view(), kind: dualInitial, reason: reasonInitial},
			rotate: true, target: 0, reason: `^initial rotation; this cuts short .*creating the resource rotates at once`, warning: "Rotation cuts the overlap short"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.in.names = names
			d := decideDual(c.in)
			if d.rotate != c.rotate || d.target != c.target || !regexp.MustCompile(c.reason).MatchString(d.reason) || !d.nextAt.Equal(c.nextAt) || d.warningSummary != c.warning {
				t.Errorf("decideDual: rotate %v target %d next %v warning %q\nreason %q\nwant rotate %v target %d next %v warning %q reason /%s/",
					d.rotate, d.target, d.nextAt, d.warningSummary, d.reason, c.rotate, c.target, c.nextAt, c.warning, c.reason)
			}
			if p := parseDeferral(d.reason); (p != nil) != strings.HasPrefix(d.reason, deferredPrefix) || (p != nil && !p.until.Equal(d.nextAt)) {
				t.Errorf("parseDeferral(%q) = %+v", d.reason, p)
			}
		})
	}
}

func TestUsernameInValue(t *testing.T) {
	for _, c := range []struct {
		f    secretvalue.Format
		v    string
		want string
	}{
		{secretvalue.JSON, `{"username":"app_b","password":"x"}`, "app_b"},
		{secretvalue.ConnectionString, "mongodb://app%40x:p%3Aw@h1:27017,h2/?authSource=admin", "app@x"},
		{secretvalue.ConnectionString, "mongodb+srv://app:pw@cluster.example.net/", "app"},
		{secretvalue.ConnectionString, "mongodb://h1:27017/", ""},
		{secretvalue.Password, "pw", ""},
		{secretvalue.JSON, "not json", ""},
	} {
		if got := usernameInValue(c.f, c.v); got != c.want {
			t.Errorf("usernameInValue(%s, …) = %q, want %q", c.f, got, c.want)
		}
	}
}

// TestAccDualAccountExposure: a checked-out password (the exposure tag the
// checkout sets on the version it read) is changed when the policy says,
// whichever account holds it. The active account's is changed in place
// (no overlap: it stops working at once, the standby is not touched); after
// a routine switch, the standby's is retired inside its overlap, and the
// plan says it cuts the overlap short on purpose.
func TestAccDualAccountExposure(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	name := testAccName("acc-dexp")
	c := dualChain(name)
	c.policy = "frequency_days = 30\n  rotate_after_exposure_hours = 4"
	uri := testAccConfig().MongoDBURI
	t0 := time.Date(2026, 9, 1, 6, 0, 0, 0, time.UTC)
	original, clock, ws := arrangeDual(t, c, t0)
	ws.Write(c.hcl())
	ws.MustRun("init", "-input=false")
	ws.MustRun("apply", "-input=false", "-auto-approve") // B active
	primary := c.secrets[0]
	kv := testAccSecretsClient(t, primary.vaultURL())
	expose := func(at time.Time) {
		t.Helper()
		latest, err := kv.GetSecret(context.Background(), primary.name, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		tags := latest.Tags
		stamp := at.UTC().Format(time.RFC3339)
		tags["segura-exposed-at"] = &stamp
		if _, err := kv.UpdateSecretProperties(context.Background(), primary.name, latest.ID.Version(), azsecretsUpdateTags(tags), nil); err != nil {
			t.Fatal(err)
		}
	}
	a, b := c.username+"@admin", c.alternateUser()+"@admin"

	// The active account's password is checked out at t0+1h.
	exposed := dualHolder(t, c)
	standby := holder{c.username, original}
	expose(t0.Add(time.Hour))
	clock.Set(t0.Add(6 * time.Hour))
	out, code, after := ws.plan("inplace.tfplan")
	t.Logf("the active account's password was checked out:\n%s", out)
	if code != 2 || planAttr(after, "active_account") != b || planAttr(after, "next_account") != a ||
		!strings.Contains(planAttr(after, "last_rotation_reason"), "changed in place") || !strings.Contains(collapse(out), "Exposed password changed in place") {
		t.Fatalf("exposure of the active account: exit %d %v", code, after)
	}
	ws.MustRun("apply", "-input=false", "inplace.tfplan")
	now := dualHolder(t, c)
	if now.user != exposed.user || now.password == exposed.password {
		t.Fatalf("the exposed account was not changed in place: %s", now.user)
	}
	mustBeRefused(t, uri, exposed, "the exposed password")
	mustLogIn(t, uri, standby, "the standby, untouched by the change in place")

	// Checked out again an hour before the routine rotation (due 30 days
	// after the change in place, at t0+30d+6h), which switches to A: the
	// exposed password is then the standby's, and is retired when the
	// policy says (t0+30d+9h), inside its overlap.
	month := 30 * 24 * time.Hour
	expose(t0.Add(month + 5*time.Hour))
	clock.Set(t0.Add(month + 6*time.Hour + time.Minute))
	if out, code, after := ws.plan("routine.tfplan"); code != 2 || planAttr(after, "active_account") != a {
		t.Fatalf("the routine rotation: exit %d %v\n%s", code, after, out)
	}
	ws.MustRun("apply", "-input=false", "routine.tfplan")
	if h := dualHolder(t, c); h.user != c.username {
		t.Fatalf("the routine rotation switched to %s", h.user)
	}
	exposedStandby := now // B's password, checked out, now the standby's
	clock.Set(t0.Add(month + 9*time.Hour + time.Minute))
	out, code, after = ws.plan("standby.tfplan")
	t.Logf("the standby's password was checked out:\n%s", out)
	if code != 2 || planAttr(after, "active_account") != b || !strings.Contains(planAttr(after, "last_rotation_reason"), "on purpose, since a password a person has seen must stop working") ||
		!strings.Contains(collapse(out), "Rotation cuts the overlap short") {
		t.Fatalf("exposure of the standby: exit %d %v", code, after)
	}
	ws.MustRun("apply", "-input=false", "standby.tfplan")
	mustBeRefused(t, uri, exposedStandby, "the standby's checked-out password")
	if out, code, _ := ws.plan("after.tfplan"); code != 0 {
		t.Fatalf("after the exposure was handled the plan is not empty (exit %d):\n%s", code, out)
	}
}

// TestAccDualAccountRotateAction: the segura_rotate action of a
// dual-account rotation changes the standby and switches to it, like the
// resource; the next refresh adopts it and the plan is empty.
func TestAccDualAccountRotateAction(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	skipBelowTerraform(t, 1, 14, "the segura_rotate action")
	name := testAccName("acc-dact")
	c := dualChain(name)
	c.policy = "frequency_days = 30"
	uri := testAccConfig().MongoDBURI
	_, _, ws := arrangeDual(t, c, time.Date(2026, 2, 2, 2, 0, 0, 0, time.UTC))
	ws.Write(c.hcl() + rotateActionHCL)
	ws.MustRun("init", "-input=false")
	ws.MustRun("apply", "-input=false", "-auto-approve")
	before := dualHolder(t, c) // B active
	out := ws.MustRun("apply", "-invoke=action.segura_rotate.test", "-auto-approve", "-input=false")
	t.Logf("the action:\n%s", tail([]byte(out), 2000))
	after := dualHolder(t, c)
	if after.user != c.username {
		t.Fatalf("the action switched to %s, want %s (the standby)", after.user, c.username)
	}
	mustLogIn(t, uri, after, "after the action")
	mustLogIn(t, uri, before, "after the action, the previously active account")
	plan, code, _ := ws.plan("after.tfplan")
	if code != 0 {
		t.Fatalf("the plan after the action is not empty (exit %d):\n%s", code, plan)
	}
}

// arrangeDual arranges c's users and secrets on the local stack (the
// alternate's password is original+"-b", given to the first rotation as
// TF_VAR_alternate_bootstrap) and returns original and a workspace on a
// clock set to t0.
func arrangeDual(t *testing.T, c rotationChain, t0 time.Time) (string, *testClock, *clockWorkspace) {
	t.Helper()
	original := "Original-Passw0rd-" + c.name
	testAccRecordSecret(original)
	testAccRecordSecret(original + "-b")
	c.arrange(t, testAccConfig().MongoDBURI, original)
	clock := &testClock{}
	clock.Set(t0)
	return original, clock, newClockWorkspace(t, clock, "TF_VAR_alternate_bootstrap="+original+"-b")
}
