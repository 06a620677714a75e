package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// The fault matrix's dual-account rows (TestFaultMatrixDual, printed in the
// same table format as TestFaultMatrix): a real terraform apply through the
// CLI and the plugin binary rotates the standby of a pair whose bindings are
// json (first vault, the primary) and a connection string (second vault),
// with a fault injected between MongoDB and Key Vault. The invariants:
//
//	(a) nothing is lost, and the active account is never one whose password
//	    Key Vault lacks: every binding names an account and holds a password
//	    that logs in as it, and the standby's password is retrievable without
//	    a human (its password of record in the primary secret's versions, or
//	    a pending escrow version), so that its next rotation can start;
//	(b) the next plan is empty and reality matches, or it says what is
//	    pending (an update of the rotation, with its reason);
//	(c) the next apply without the fault converges: every binding names the
//	    same account with a password that logs in, the other account's
//	    password (untouched by that apply) still logs in, and the plan after
//	    it is empty.
//
// The policy sets overlap_hours = 0 so that the faulted apply (a triggers
// change right after the baseline rotation) rotates at once.

// dualFault is one dual-account row.
type dualFault struct {
	name, fault string
	run         func(f *dualFaultRun) (string, error)
	expect      *regexp.Regexp
}

func dualFaultScenariosList() []dualFault {
	return []dualFault{
		{
			name: "dual-sigkill-between-mongo-and-kv", fault: "dual mode: SIGKILL while the write of the primary hangs after updateUser of the standby; the write never lands",
			run:    func(f *dualFaultRun) (string, error) { return f.kill(false) },
			expect: regexp.MustCompile(`killed \(SIGKILL\)`),
		},
		{
			name: "dual-sigkill-write-lands-later", fault: "dual mode: as above, but the write of the primary reaches Key Vault after the process died",
			run:    func(f *dualFaultRun) (string, error) { return f.kill(true) },
			expect: regexp.MustCompile(`killed \(SIGKILL\)`),
		},
		{
			name: "dual-kv-403-after-mongo", fault: "dual mode: 403 on every write of sync 2, after updateUser of the standby and the write of the primary",
			run: func(f *dualFaultRun) (string, error) {
				f.inject(kvemulator.Fault{Vault: f.vaultOf(1), Method: "PUT", Path: f.secretPath(1), Action: kvemulator.FaultStatus,
					Status: 403, Code: "Forbidden", Message: "The user, group or application does not have secrets set permission."})
				defer f.removeFaults()
				return f.applyFault()
			},
			expect: regexp.MustCompile(`Rotation failed to write Key Vault.*previous password of the standby .* again \(rolled back and verified\).*restored to its previous value`),
		},
		{
			name: "dual-kv-drop-mid-write", fault: "dual mode: connection dropped after the write of sync 2 is applied (every try): the reply is lost",
			run: func(f *dualFaultRun) (string, error) {
				f.inject(kvemulator.Fault{Vault: f.vaultOf(1), Method: "PUT", Path: f.secretPath(1), Action: kvemulator.FaultDropAfter})
				defer f.removeFaults()
				return f.applyFault()
			},
			expect: regexp.MustCompile(`Rotation failed to write Key Vault`),
		},
	}
}

// TestFaultMatrixDual runs the dual-account rows in parallel and prints
// their table.
func TestFaultMatrixDual(t *testing.T) {
	t.Parallel()
	stack := testAccStack(t)
	table := startFaultTable(t, "fault-matrix-dual.txt")
	for _, sc := range dualFaultScenariosList() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			row := faultRow{scenario: sc.name, fault: sc.fault}
			f := newDualFaultRun(t, stack)
			defer table.record(&row, time.Now())
			f.baseline()
			out, err := sc.run(f)
			t.Logf("the faulted apply (%v):\n%s", err, ftail(out, 4000))
			row.outcome = summarizeOutcome(out, err)
			row.judge(t, checkInvariants(&row, f, sc.expect, out, true))
		})
	}
}

// dualFaultRun is a faultRun whose chain is a dual-account pair.
type dualFaultRun struct {
	*faultRun
	// held maps each account's username to the password it had after the
	// last successful apply.
	held map[string]string
}

func newDualFaultRun(t *testing.T, stack *testAccLocalStack) *dualFaultRun {
	name := testAccName("fmd")
	f := &faultRun{t: t, stack: stack, uri: testAccConfig().MongoDBURI}
	f.c = dualChain(name)
	f.c.username = "fmd_" + strings.ReplaceAll(name[len("fmd-"):], "-", "_")
	f.c.policy = "frequency_days = 30\n  overlap_hours = 0"
	f.original = "Original-Passw0rd-" + name
	testAccRecordSecret(f.original)
	testAccRecordSecret(f.original + "-b")
	f.c.arrange(t, f.uri, f.original)
	d := &dualFaultRun{faultRun: f, held: map[string]string{f.c.username: f.original, f.c.alternateUser(): f.original + "-b"}}
	d.seedAlternate()
	f.ws = newCLIWorkspace(t)
	t.Cleanup(f.removeFaults)
	return d
}

// seedAlternate puts the alternate's current password in the primary
// secret's history, as a version naming its account under the
// credential's latest one (what an earlier dual-account rotation leaves),
// so that no bootstrap password is needed.
func (f *dualFaultRun) seedAlternate() {
	p := f.c.secrets[0]
	client := testAccSecretsClient(f.t, p.vaultURL())
	ctx := context.Background()
	cur, err := client.GetSecret(ctx, p.name, "", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	dep := mongodb.Deployment{Hosts: []string{f.c.hostPort()}}
	alt := mongodb.Identity{Username: f.c.alternateUser(), AuthSource: mongodb.DefaultAuthSource}
	value, err := secretvalue.Render(p.format, secretvalue.Account{Deployment: dep, Username: alt.Username}, f.original+"-b")
	if err != nil {
		f.t.Fatal(err)
	}
	tag := rotation.AccountTag(dep, alt)
	if _, err := client.SetSecret(ctx, p.name, secretParamsTagged(value, map[string]string{keyvault.TagCredential: tag}), nil); err != nil {
		f.t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // Key Vault's creation times have whole seconds
	own := rotation.AccountTag(dep, mongodb.Identity{Username: f.c.username, AuthSource: mongodb.DefaultAuthSource})
	if _, err := client.SetSecret(ctx, p.name, secretParamsTagged(*cur.Value, map[string]string{keyvault.TagCredential: own}), nil); err != nil {
		f.t.Fatal(err)
	}
}

func secretParamsTagged(value string, tags map[string]string) azsecrets.SetSecretParameters {
	out := azsecrets.SetSecretParameters{Value: &value, Tags: map[string]*string{}}
	for k, v := range tags {
		out.Tags[k] = &v
	}
	return out
}

func (f *dualFaultRun) baseline() {
	f.t.Helper()
	f.ws.Write(f.config("1"))
	f.ws.MustRun("apply", "-auto-approve", "-input=false")
	f.remember()
	f.before = f.versions()
}

// remember records the password every binding names, after an apply that
// converged.
func (f *dualFaultRun) remember() {
	f.t.Helper()
	h, err := f.bindings()
	if err != nil {
		f.t.Fatalf("after an apply: %v", err)
	}
	f.held[h.user] = h.password
}

// bindings returns the account and password every binding names; an error
// when they differ.
func (f *dualFaultRun) bindings() (holder, error) {
	var h holder
	for i, s := range f.c.secrets {
		resp, err := testAccSecretsClient(f.t, s.vaultURL()).GetSecret(context.Background(), s.name, "", nil)
		if err != nil {
			return h, fmt.Errorf("reading %s: %w", s.name, err)
		}
		pw, err := secretvalue.Parse(s.format, *resp.Value)
		if err != nil {
			return h, fmt.Errorf("%s: %w", s.name, err)
		}
		testAccRecordSecret(pw)
		got := holder{usernameInValue(s.format, *resp.Value), pw}
		if i == 0 {
			h = got
		} else if got != h {
			return h, fmt.Errorf("%s names %s, the primary %s (or another password)", s.name, got.user, h.user)
		}
	}
	return h, nil
}

// standby is the account the bindings' primary does not name.
func (f *dualFaultRun) standby(active string) string {
	if active == f.c.username {
		return f.c.alternateUser()
	}
	return f.c.username
}

// checkA: every binding names an account whose password it holds logs in
// (the active account's password is never missing from Key Vault); the
// standby's password is retrievable: its password of record, or a pending
// escrow version, logs in as it.
func (f *dualFaultRun) checkA() error {
	p := f.c.secrets[0]
	primaryUser := ""
	for i, s := range f.c.secrets {
		resp, err := testAccSecretsClient(f.t, s.vaultURL()).GetSecret(context.Background(), s.name, "", nil)
		if err != nil {
			return fmt.Errorf("reading %s: %v", s.name, err)
		}
		pw, err := secretvalue.Parse(s.format, *resp.Value)
		if err != nil {
			return fmt.Errorf("%s: %v", s.name, err)
		}
		testAccRecordSecret(pw)
		user := usernameInValue(s.format, *resp.Value)
		if i == 0 {
			primaryUser = user
		}
		if err := testAccMongoLogin(f.uri, user, pw); err != nil {
			return fmt.Errorf("%s (sync %d) names %s, whose password there does not log in: %v", s.name, i+1, user, err)
		}
	}
	standby := f.standby(primaryUser)
	var tried []string
	for _, pw := range f.versionsOf(p, standby) {
		if testAccMongoLogin(f.uri, standby, pw) == nil {
			return nil
		}
		tried = append(tried, "a version of the primary secret")
	}
	for _, pw := range f.escrows() {
		if testAccMongoLogin(f.uri, standby, pw) == nil {
			return nil
		}
		tried = append(tried, "an escrow version")
	}
	return fmt.Errorf("the standby %s's password is lost: nothing in Key Vault logs in as it (tried %d: %s)", standby, len(tried), strings.Join(tried, ", "))
}

// versionsOf returns the passwords of the enabled versions of secret s that
// name user (or that hold no user name for the credential), newest first.
func (f *dualFaultRun) versionsOf(s rotationSecret, user string) []string {
	client := testAccSecretsClient(f.t, s.vaultURL())
	var out []string
	for pager := client.NewListSecretPropertiesVersionsPager(s.name, nil); pager.More(); {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			return out
		}
		for _, v := range page.Value {
			if v == nil || v.ID == nil || (v.Attributes != nil && v.Attributes.Enabled != nil && !*v.Attributes.Enabled) {
				continue
			}
			resp, err := client.GetSecret(context.Background(), s.name, v.ID.Version(), nil)
			if err != nil || resp.Value == nil {
				continue
			}
			pw, err := secretvalue.Parse(s.format, *resp.Value)
			if err != nil {
				continue
			}
			testAccRecordSecret(pw)
			if usernameInValue(s.format, *resp.Value) == user {
				out = append(out, pw)
			}
		}
	}
	return out
}

// checkB: the next plan is empty and every binding logs in, or it rotates
// and says why.
func (f *dualFaultRun) checkB() (string, error) {
	out, err := f.ws.Run("plan", "-input=false", "-detailed-exitcode")
	switch exitCode(err) {
	case 0:
		if _, err := f.bindings(); err != nil {
			return "", fmt.Errorf("the plan is empty but the bindings disagree: %v", err)
		}
		return "empty, state matches reality", nil
	case 2:
		flat := collapse(out)
		if !strings.Contains(flat, testAccRotation+" will be updated in-place") {
			return "", fmt.Errorf("the plan has changes but no rotation: %s", ftail(flat, 1500))
		}
		if m := planReason.FindStringSubmatch(flat); m != nil {
			reasons := strings.Split(strings.Trim(m[1], `"`), "; ")
			more := ""
			if len(reasons) > 1 {
				more = fmt.Sprintf(" (+%d more)", len(reasons)-1)
			}
			return fmt.Sprintf("rotate, %q%s", reasons[0], more), nil
		}
		return "rotate", nil
	default:
		return "", fmt.Errorf("terraform plan failed: %v\n%s", err, ftail(out, 3000))
	}
}

// checkC: the next apply converges; the account it did not change keeps
// its password; the plan after it is empty.
func (f *dualFaultRun) checkC() error {
	before, _ := f.bindings()
	out, err := f.ws.Run("apply", "-auto-approve", "-input=false")
	if err != nil {
		return fmt.Errorf("the next apply failed: %v\n%s", err, ftail(out, 3000))
	}
	after, err := f.bindings()
	if err != nil {
		return fmt.Errorf("the next apply did not converge: %v", err)
	}
	if err := testAccMongoLogin(f.uri, after.user, after.password); err != nil {
		return fmt.Errorf("after the next apply, %s does not log in with the Key Vault value: %v", after.user, err)
	}
	if strings.Contains(out, "1 changed") && after.user == before.user && after.password == before.password {
		return fmt.Errorf("the next apply rotated but the bindings did not change")
	}
	other := f.standby(after.user)
	if pw := f.held[other]; pw != "" && other == before.user {
		// The apply switched away from the account the bindings named: that
		// account keeps the password they gave out.
		if err := testAccMongoLogin(f.uri, other, before.password); err != nil {
			return fmt.Errorf("after the next apply, the previously active %s no longer logs in with the password applications have: %v", other, err)
		}
	}
	out, err = f.ws.Run("plan", "-input=false", "-detailed-exitcode")
	if code := exitCode(err); code != 0 {
		return fmt.Errorf("the plan after converging is not empty (exit %d): %s", code, ftail(collapse(out), 1500))
	}
	return nil
}

// kill is killMidRotation for the standby: the apply is killed once MongoDB
// refuses the standby's previous password (updateUser ran) while the write
// of the primary is held.
func (f *dualFaultRun) kill(land bool) (string, error) {
	h, err := f.bindings()
	if err != nil {
		f.t.Fatal(err)
	}
	standby := f.standby(h.user)
	action := kvemulator.FaultDelay
	if land {
		action = kvemulator.FaultDelayLand
	}
	id := f.inject(kvemulator.Fault{Vault: f.vaultOf(0), Method: "PUT", Path: f.secretPath(0), Count: 1, Action: action, Delay: time.Hour})
	f.ws.Write(f.config("fault"))
	p := f.ws.Start("apply", "-auto-approve", "-input=false")
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := testAccMongoLogin(f.uri, standby, f.held[standby])
		if isAuthFailure(err) {
			break
		}
		if p.Exited() {
			out, _ := p.Wait()
			f.t.Fatalf("terraform exited before MongoDB changed the standby:\n%s", ftail(out, 3000))
		}
		if time.Now().After(deadline) {
			p.Kill()
			out, _ := p.Wait()
			f.t.Fatalf("the standby did not change within 90s (last login: %v):\n%s", err, ftail(out, 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !f.escrowPending() {
		f.t.Errorf("MongoDB changed the standby but no pending escrow version was found")
	}
	return f.killHeld(p, land, id)
}
