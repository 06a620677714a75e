package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/segura-community/terraform-provider-segura/internal/ferretdb"
	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/mongosim"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// The fault matrix (make faults; part of make test): for each scenario a real
// terraform apply through the terraform CLI and the provider plugin, a fault
// injected into Key Vault (the emulator's fault injection), MongoDB (a
// FerretDB of the scenario's own, stopped or restarted) or the provider
// process (SIGKILL), then the invariant, checked by code:
//
//	(a) some password that MongoDB accepts is retrievable without a human:
//	    the latest value of a bound secret, or the pending escrow version
//	    the provider staged (what the next rotation tries);
//	(b) the state is consistent with reality (the next plan is empty and
//	    every bound secret holds a password that logs in), or the next plan
//	    says what is pending (an update of the rotation, with its reason);
//	(c) the next apply without the fault converges: MongoDB and every bound
//	    secret agree, a fresh SCRAM login with the Key Vault value works, and
//	    the plan after it is empty.
//
// Each scenario adds a row to a summary table printed when the matrix ends.

// faultRow is one line of the summary table.
type faultRow struct {
	scenario, fault, outcome string
	held                     bool
	skipped                  string // why the scenario did not run here
	why                      string
	took                     time.Duration
}

type faultTable struct {
	mu   sync.Mutex
	rows []faultRow
}

func (tb *faultTable) add(r faultRow) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.rows = append(tb.rows, r)
}

func (tb *faultTable) render(total time.Duration) string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	rows := append([]faultRow(nil), tb.rows...)
	sort.SliceStable(rows, func(i, j int) bool { return faultOrder[rows[i].scenario] < faultOrder[rows[j].scenario] })
	header := faultRow{scenario: "scenario", fault: "fault", outcome: "outcome"}
	w := [3]int{len(header.scenario), len(header.fault), len(header.outcome)}
	for _, r := range rows {
		w[0], w[1], w[2] = max(w[0], len(r.scenario)), max(w[1], len(r.fault)), max(w[2], len(r.outcome))
	}
	var b strings.Builder
	line := func(a, f, o, h, took string) {
		fmt.Fprintf(&b, "fault-matrix | %-*s | %-*s | %-*s | %-4s | %s\n", w[0], a, w[1], f, w[2], o, h, took)
	}
	line(header.scenario, header.fault, header.outcome, "held", "time")
	line(strings.Repeat("-", w[0]), strings.Repeat("-", w[1]), strings.Repeat("-", w[2]), "----", "----")
	held, skipped := 0, 0
	for _, r := range rows {
		h := "no"
		switch {
		case r.skipped != "":
			h = "skip"
			skipped++
		case r.held:
			h = "yes"
			held++
		}
		line(r.scenario, r.fault, r.outcome, h, r.took.Round(100*time.Millisecond).String())
	}
	fmt.Fprintf(&b, "fault-matrix | %d of %d scenarios held the invariant, %d skipped on this terraform (wall time %s)\n",
		held, len(rows)-skipped, skipped, total.Round(time.Second))
	for _, r := range rows {
		if !r.held && r.skipped == "" {
			fmt.Fprintf(&b, "fault-matrix | NOT HELD %s: %s\n", r.scenario, r.why)
		}
	}
	return b.String()
}

// faultScenario is one row of the matrix.
type faultScenario struct {
	name  string
	fault string
	// secrets is the number of bound secrets (default 2: a password in the
	// first vault, JSON in the second).
	secrets  int
	parent   bool // rotate through a parent credential
	ownMongo bool // a FerretDB of the scenario's own, to stop or restart
	// run injects the fault into a terraform apply, removes it again and
	// returns the apply's output and error.
	run func(f *faultRun) (string, error)
	// expect must match the faulted apply's output (white space collapsed):
	// proof that the fault was hit and what the provider said.
	expect *regexp.Regexp
	// minTerraform, when set, is the oldest Terraform (major, minor) the
	// scenario runs on; on an older one its row says it was skipped.
	minTerraform [2]int
	// hcl is added to the scenario's configuration.
	hcl string
	// sim, when set, gives the scenario a simulated deployment of its own
	// (a replica set, or mongos routers) instead of the shared FerretDB.
	sim *mongosim.Options
	// firstBinaryOnly runs the row on the first binary of make test's
	// matrix only (testAccFirstBinaryOnly).
	firstBinaryOnly bool
}

var faultOrder = map[string]int{}

func faultScenarios() []faultScenario {
	list := []faultScenario{
		{
			name: "kv-429-storm", fault: "429 on every write of sync 2, Retry-After 600s",
			run: func(f *faultRun) (string, error) {
				f.inject(kvemulator.Fault{Vault: f.vaultOf(1), Method: "PUT", Path: f.secretPath(1), Action: kvemulator.FaultStatus,
					Status: 429, Code: "Throttled", Message: "Request was not allowed because the vault is being throttled.", RetryAfter: "600"})
				defer f.removeFaults()
				// azcore does not sleep a Retry-After beyond max_retry_delay
				// (2s here): it returns the 429 at once, and the rotation
				// rolls back instead of holding MongoDB's change for minutes.
				start := time.Now()
				out, err := f.applyFault()
				if took := time.Since(start); took > time.Minute {
					return out, fmt.Errorf("the apply waited %s in the 429 storm", took)
				}
				return out + fmt.Sprintf("\n(apply returned after %s)", time.Since(start).Round(100*time.Millisecond)), err
			},
			expect: regexp.MustCompile(`Rotation failed to write Key Vault.*429.*Rolled back.*apply returned after`),
		},
		{
			name: "kv-500-then-recovery", fault: "500 on the first 2 writes of sync 2, then normal",
			run: func(f *faultRun) (string, error) {
				id := f.inject(kvemulator.Fault{Vault: f.vaultOf(1), Method: "PUT", Path: f.secretPath(1), Count: 2, Action: kvemulator.FaultStatus,
					Status: 500, Code: "InternalServerError", Message: "Injected outage."})
				defer f.removeFaults()
				out, err := f.applyFault()
				if f.stack.KeyVault.RemoveFault(id) {
					// A counted fault is gone once all its calls were hit.
					return out + "\n(the fault was not hit twice)", fmt.Errorf("fault not hit")
				}
				return out, err
			},
			expect: regexp.MustCompile(`Apply complete!`),
		},
		{
			name: "kv-403-on-set", fault: "403 Forbidden on every write of sync 2 (set revoked)",
			run: func(f *faultRun) (string, error) {
				f.inject(kvemulator.Fault{Vault: f.vaultOf(1), Method: "PUT", Path: f.secretPath(1), Action: kvemulator.FaultStatus,
					Status: 403, Code: "Forbidden", Message: "The user, group or application does not have secrets set permission."})
				defer f.removeFaults()
				return f.applyFault()
			},
			expect: regexp.MustCompile(`Rotation failed to write Key Vault.*Rolled back`),
		},
		{
			name: "kv-drop-mid-write", fault: "connection dropped after the write of sync 2 is applied (every try)",
			run: func(f *faultRun) (string, error) {
				f.inject(kvemulator.Fault{Vault: f.vaultOf(1), Method: "PUT", Path: f.secretPath(1), Action: kvemulator.FaultDropAfter})
				defer f.removeFaults()
				return f.applyFault()
			},
			expect: regexp.MustCompile(`Rotation failed to write Key Vault.*Rolled back`),
		},
		{
			name: "kv-drop-before-write", fault: "connection dropped before the write of sync 2 (every try)",
			run: func(f *faultRun) (string, error) {
				f.inject(kvemulator.Fault{Vault: f.vaultOf(1), Method: "PUT", Path: f.secretPath(1), Action: kvemulator.FaultDrop})
				defer f.removeFaults()
				return f.applyFault()
			},
			expect: regexp.MustCompile(`Rotation failed to write Key Vault.*Rolled back`),
		},
		{
			name: "kv-readback-differs", fault: "write accepted, read-back of the written version of sync 2 returns another value",
			run: func(f *faultRun) (string, error) {
				f.inject(kvemulator.Fault{Vault: f.vaultOf(1), Method: "GET", Path: f.secretPath(1)[:len(f.secretPath(1))-1] + `/[0-9a-f]{32}$`, Count: 1,
					Action: kvemulator.FaultCorruptValue})
				defer f.removeFaults()
				return f.applyFault()
			},
			expect: regexp.MustCompile(`Rotation could not verify the new password.*differs`),
		},
		{
			name: "kv-soft-deleted-after-plan", fault: "primary secret soft-deleted between a saved plan and its apply",
			run: func(f *faultRun) (string, error) {
				f.ws.Write(f.config("fault"))
				f.ws.MustRun("plan", "-input=false", "-out=fault.tfplan")
				p := f.c.secrets[0]
				client := testAccSecretsClient(f.t, p.vaultURL())
				if _, err := client.DeleteSecret(context.Background(), p.name, nil); err != nil {
					f.t.Fatalf("soft-deleting %s: %v", p.name, err)
				}
				out, err := f.ws.Run("apply", "-input=false", "fault.tfplan")
				// Without the fault: the secret is recovered, as the error asks.
				if _, rerr := client.RecoverDeletedSecret(context.Background(), p.name, nil); rerr != nil {
					f.t.Fatalf("recovering %s: %v", p.name, rerr)
				}
				return out, err
			},
			expect: regexp.MustCompile(`Rotation stopped before changing anything.*soft-deleted.*Nothing was changed`),
		},
		{
			name: "kv-unreachable-at-preflight", fault: "every call about the credential's secrets dropped, after a saved plan",
			run: func(f *faultRun) (string, error) {
				f.ws.Write(f.config("fault"))
				f.ws.MustRun("plan", "-input=false", "-out=fault.tfplan")
				for i := range f.c.secrets {
					f.inject(kvemulator.Fault{Vault: f.vaultOf(i), Path: `^/secrets/` + regexp.QuoteMeta(f.c.secrets[i].name) + `(-escrow)?(/.*)?$`, Action: kvemulator.FaultDrop})
				}
				defer f.removeFaults()
				return f.ws.Run("apply", "-input=false", "fault.tfplan")
			},
			expect: regexp.MustCompile(`Rotation stopped before changing anything.*Nothing was changed`),
		},
		{
			name: "mongo-unreachable-at-preflight", fault: "MongoDB stopped before the apply", ownMongo: true,
			run: func(f *faultRun) (string, error) {
				if err := f.mongo.Stop(); err != nil {
					f.t.Fatal(err)
				}
				out, err := f.applyFault()
				f.restartMongo()
				return out, err
			},
			expect: regexp.MustCompile(`Rotation stopped before changing anything.*Nothing was changed`),
		},
		{
			name: "mongo-stopped-after-updateUser", fault: "MongoDB stopped right after updateUser, before the Key Vault writes", ownMongo: true,
			run: func(f *faultRun) (string, error) {
				id := f.inject(kvemulator.Fault{Vault: f.vaultOf(0), Method: "PUT", Path: f.secretPath(0), Count: 1, Action: kvemulator.FaultDelay, Delay: time.Hour})
				defer f.removeFaults()
				f.ws.Write(f.config("fault"))
				p := f.ws.Start("apply", "-auto-approve", "-input=false")
				f.waitMongoChanged(p)
				if err := f.mongo.Stop(); err != nil {
					f.t.Fatal(err)
				}
				f.stack.KeyVault.RemoveFault(id)
				out, err := p.Wait()
				f.restartMongo()
				return out, err
			},
			expect: regexp.MustCompile(`Rotation could not verify the new password.*escrow`),
		},
		{
			name: "mongo-restarted-before-verify", fault: "MongoDB restarted between updateUser and verification", ownMongo: true,
			run: func(f *faultRun) (string, error) {
				id := f.inject(kvemulator.Fault{Vault: f.vaultOf(0), Method: "PUT", Path: f.secretPath(0), Count: 1, Action: kvemulator.FaultDelay, Delay: time.Hour})
				defer f.removeFaults()
				f.ws.Write(f.config("fault"))
				p := f.ws.Start("apply", "-auto-approve", "-input=false")
				f.waitMongoChanged(p)
				f.restartMongo()
				f.stack.KeyVault.RemoveFault(id)
				return p.Wait()
			},
			expect: regexp.MustCompile(`Apply complete!`),
		},
		{
			name: "mongo-user-dropped", fault: "the MongoDB user dropped out of band before the apply",
			run: func(f *faultRun) (string, error) {
				testAccMongoRun(f.t, f.uri, bson.D{{Key: "dropUser", Value: f.c.username}})
				out, err := f.applyFault()
				// Without the fault: the DBA restores the user from backup,
				// with the password Key Vault holds.
				pw := f.primaryPassword()
				testAccMongoRun(f.t, f.uri, bson.D{{Key: "createUser", Value: f.c.username}, {Key: "pwd", Value: pw}, {Key: "roles", Value: bson.A{}}})
				return out, err
			},
			expect: regexp.MustCompile(`Rotation stopped before changing anything.*no known password logs in.*Nothing was changed`),
		},
		{
			name: "mongo-password-changed-out-of-band", fault: "a DBA set another password (parent credential configured)", parent: true,
			run: func(f *faultRun) (string, error) {
				other := "Changed-by-a-DBA-" + f.c.name
				testAccRecordSecret(other)
				testAccMongoRun(f.t, f.uri, bson.D{{Key: "updateUser", Value: f.c.username}, {Key: "pwd", Value: other}})
				// Refresh alone must notice.
				out, err := f.ws.Run("plan", "-input=false", "-detailed-exitcode")
				if exitCode(err) != 2 || !strings.Contains(collapse(out), "no longer logs in") {
					return out, fmt.Errorf("the plan after the out-of-band change does not report it (exit %d)", exitCode(err))
				}
				return f.applyFault()
			},
			expect: regexp.MustCompile(`Apply complete!`),
		},
		{
			name: "sigkill-between-mongo-and-kv", fault: "SIGKILL to terraform and the plugin while the Key Vault write hangs after updateUser; the write never lands",
			run:    func(f *faultRun) (string, error) { return f.killMidRotation(false) },
			expect: regexp.MustCompile(`killed \(SIGKILL\)`),
		},
		{
			name: "sigkill-write-lands-later", fault: "as above, but the write in flight reaches Key Vault after the process died",
			run:    func(f *faultRun) (string, error) { return f.killMidRotation(true) },
			expect: regexp.MustCompile(`killed \(SIGKILL\)`),
		},
		{
			name: "action-killed-mid-run", fault: "SIGKILL to terraform and the plugin while the segura_rotate action's Key Vault write hangs after updateUser",
			minTerraform: [2]int{1, 14}, hcl: rotateActionHCL,
			run: func(f *faultRun) (string, error) {
				return f.killMidRotation(false, "apply", "-invoke=action.segura_rotate.test", "-auto-approve", "-input=false")
			},
			expect: regexp.MustCompile(`killed \(SIGKILL\)`),
		},
		{
			name: "two-workspaces-same-credential", fault: "two applies in two working directories rotate one credential at once; the first's Key Vault write is slow",
			run:    func(f *faultRun) (string, error) { return f.concurrent(true) },
			expect: regexp.MustCompile(`.`),
		},
		{
			name: "two-workspaces-via-parent", fault: "as above, both rotating through the same parent credential", parent: true,
			run:    func(f *faultRun) (string, error) { return f.concurrent(true) },
			expect: regexp.MustCompile(`.`),
		},
		{
			name: "two-workspaces-simultaneous", fault: "two applies of one credential started at the same instant, no fault in Key Vault",
			run:    func(f *faultRun) (string, error) { return f.concurrent(false) },
			expect: regexp.MustCompile(`.`),
		},
		{
			name: "three-syncs-second-fails", fault: "503 on every write of sync 2 of 3", secrets: 3,
			run: func(f *faultRun) (string, error) {
				before := f.versions()
				f.inject(kvemulator.Fault{Vault: f.vaultOf(1), Method: "PUT", Path: f.secretPath(1), Action: kvemulator.FaultStatus,
					Status: 503, Code: "ServiceUnavailable", Message: "Injected outage."})
				defer f.removeFaults()
				out, err := f.applyFault()
				after := f.versions()
				third := f.c.secrets[2].name
				if before[third] != after[third] {
					return out, fmt.Errorf("sync 3 was written although sync 2 failed before it")
				}
				return out, err
			},
			expect: regexp.MustCompile(`Rotation failed to write Key Vault.*Rolled back.*restored to the previous password`),
		},
	}
	list = append(list, replicaSetFaultScenarios()...)
	for i, s := range list {
		faultOrder[s.name] = i
	}
	return list
}

// TestFaultMatrix runs every scenario in parallel, each with its own
// credential and secrets, and prints the summary table when all are done.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	stack := testAccStack(t)
	table := startFaultTable(t, "fault-matrix.txt")
	for _, sc := range faultScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			row := faultRow{scenario: sc.name, fault: sc.fault}
			if why := firstBinaryOnly("this row"); sc.firstBinaryOnly && why != "" {
				row.skipped, row.outcome = why, "skipped: "+why
				table.add(row)
				t.Skip(why)
			}
			if v := sc.minTerraform; v != [2]int{} {
				if ok, line := terraformAtLeast(v[0], v[1]); !ok {
					row.skipped = fmt.Sprintf("needs Terraform >= %d.%d; this run drives %s", v[0], v[1], line)
					row.outcome = "skipped: " + row.skipped
					table.add(row)
					t.Skip(row.skipped)
				}
			}
			f := newFaultRun(t, stack, sc)
			defer table.record(&row, time.Now())
			f.baseline()

			out, err := sc.run(f)
			t.Logf("the faulted apply (%v):\n%s", err, ftail(out, 4000))
			row.outcome = summarizeOutcome(out, err)
			if strings.HasPrefix(sc.name, "two-workspaces") {
				row.outcome = summarizeOutcome(out, nil)
			}
			var problems []string
			if err := f.checkClaims(out); err != nil {
				problems = append(problems, "(claim) "+err.Error())
			}
			problems = append(problems, checkInvariants(&row, f, sc.expect, out, false)...)
			row.judge(t, problems)
		})
	}
}

// invariantChecks are the three invariants of a fault row's world.
type invariantChecks interface {
	checkA() error
	checkB() (string, error)
	checkC() error
}

// checkInvariants checks a faulted apply's output against expect, then the
// invariants (a), (b) (whose pending reason goes into the row's outcome),
// (a) again after that plan when aAfterPlan, and (c); it returns the
// problems found.
func checkInvariants(row *faultRow, f invariantChecks, expect *regexp.Regexp, out string, aAfterPlan bool) []string {
	var problems []string
	if !expect.MatchString(collapse(out)) {
		problems = append(problems, fmt.Sprintf("unexpected outcome (want /%s/): %s", expect, ftail(collapse(out), 1200)))
	}
	if err := f.checkA(); err != nil {
		problems = append(problems, "(a) "+err.Error())
	}
	pending, err := f.checkB()
	if err != nil {
		problems = append(problems, "(b) "+err.Error())
	} else if pending != "" {
		row.outcome += "; next plan: " + pending
	}
	if aAfterPlan {
		if err := f.checkA(); err != nil {
			problems = append(problems, "(a, after the plan) "+err.Error())
		}
	}
	if err := f.checkC(); err != nil {
		problems = append(problems, "(c) "+err.Error())
	}
	return problems
}

// startFaultTable returns an empty table that is printed, and written to
// the test report named report, when t ends.
func startFaultTable(t *testing.T, report string) *faultTable {
	table := &faultTable{}
	started := time.Now()
	t.Cleanup(func() {
		out := table.render(time.Since(started))
		fmt.Fprint(os.Stderr, out)
		t.Log("\n" + out)
		writeTestReport(t, report, out)
	})
	return table
}

// record adds row, begun at begin, to the table however its scenario
// ends (deferred: a scenario that stops half-way still gets its row).
func (tb *faultTable) record(row *faultRow, begin time.Time) {
	row.took = time.Since(begin)
	if row.outcome == "" {
		row.outcome = "(scenario aborted)"
	}
	if !row.held && row.why == "" {
		row.why = "the scenario stopped before the invariant was checked (see the test log)"
	}
	tb.add(*row)
}

// judge says the row held when no check found a problem, and fails t when
// one did.
func (r *faultRow) judge(t *testing.T, problems []string) {
	r.outcome = shortenReason(r.outcome)
	r.held = len(problems) == 0
	r.why = strings.Join(problems, "; ")
	if !r.held {
		t.Errorf("invariant not held: %s", r.why)
	}
}

// faultRun is one scenario's world: a credential with its own secrets, a
// terraform working directory, and maybe a FerretDB of its own.
type faultRun struct {
	t        *testing.T
	stack    *testAccLocalStack
	c        rotationChain
	uri      string
	mongo    *ferretdb.Server
	sim      *mongosim.Sim
	ws       *cliWorkspace
	original string
	before   map[string]string // bound secret versions before the faulted apply
	hcl      string            // the scenario's own additions to the configuration

	mu     sync.Mutex
	faults []string
}

func newFaultRun(t *testing.T, stack *testAccLocalStack, sc faultScenario) *faultRun {
	name := testAccName("fm")
	f := &faultRun{t: t, stack: stack, uri: testAccConfig().MongoDBURI, hcl: sc.hcl}
	if sc.ownMongo {
		m, err := ferretdb.Start(context.Background(), ferretdb.Options{
			Dir: t.TempDir(), AdminUsername: testAccConfig().MongoDBAdminUsername, AdminPassword: testAccConfig().MongoDBAdminPassword,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Stop() })
		f.mongo, f.uri = m, m.URI()
	}
	if sc.sim != nil {
		opts := *sc.sim
		opts.Dir = t.TempDir()
		opts.AdminUsername, opts.AdminPassword = testAccConfig().MongoDBAdminUsername, testAccConfig().MongoDBAdminPassword
		sim, err := mongosim.Start(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sim.Stop() })
		f.sim, f.uri = sim, sim.URI()
	}
	n := sc.secrets
	if n == 0 {
		n = 2
	}
	secrets := []rotationSecret{
		{resource: "pw", name: name + "-pw", format: secretvalue.Password},
		{resource: "json", name: name + "-json", format: secretvalue.JSON, second: true},
		{resource: "uri", name: name + "-uri", format: secretvalue.ConnectionString},
	}[:n]
	f.c = rotationChain{name: name, username: "fm_" + strings.ReplaceAll(name[len("fm-"):], "-", "_"), secrets: secrets}
	if sc.ownMongo || sc.sim != nil {
		f.c.mongoURI = f.uri
	}
	if sc.parent {
		f.c.parent = &rotationSecret{resource: "admin", name: name + "-admin", format: secretvalue.Password}
	}
	f.original = "Original-Passw0rd-" + name
	testAccRecordSecret(f.original)
	testAccRecordSecret(f.original + "-admin")
	f.c.arrange(t, f.uri, f.original)
	if f.sim != nil {
		f.simSettle()
	}
	f.ws = newCLIWorkspace(t)
	t.Cleanup(f.removeFaults)
	return f
}

func (f *faultRun) config(trigger string) string {
	hcl := strings.Replace(f.c.hcl(), "syncs      =", fmt.Sprintf("triggers = { n = %q }\n  syncs      =", trigger), 1) + f.hcl
	if f.sim != nil {
		hcl = f.simConfig(hcl)
	}
	return hcl
}

// applyFault writes the configuration with a changed trigger, so that the
// apply rotates, and applies it.
func (f *faultRun) applyFault() (string, error) {
	f.ws.Write(f.config("fault"))
	return f.ws.Run("apply", "-auto-approve", "-input=false")
}

// baseline is the first rotation, before any fault.
func (f *faultRun) baseline() {
	f.t.Helper()
	f.ws.Write(f.config("1"))
	f.ws.MustRun("apply", "-auto-approve", "-input=false")
	if err := f.c.checkConverged(f.t, f.uri)(nil); err != nil {
		f.t.Fatalf("baseline rotation: %v", err)
	}
	f.original = f.primaryPassword()
	f.before = f.versions()
}

func (f *faultRun) vaultOf(i int) string {
	name, _ := testAccVaultOf(f.c.secrets[i].vaultURL())
	return name
}

// secretPath matches the secret's set call (PUT /secrets/{name}).
func (f *faultRun) secretPath(i int) string {
	return `^/secrets/` + regexp.QuoteMeta(f.c.secrets[i].name) + `$`
}

func (f *faultRun) inject(flt kvemulator.Fault) string {
	id := f.stack.KeyVault.InjectFault(flt)
	f.mu.Lock()
	f.faults = append(f.faults, id)
	f.mu.Unlock()
	return id
}

// removeFaults removes this scenario's faults, and only those.
func (f *faultRun) removeFaults() {
	f.mu.Lock()
	ids := f.faults
	f.faults = nil
	f.mu.Unlock()
	for _, id := range ids {
		f.stack.KeyVault.RemoveFault(id)
	}
}

func (f *faultRun) restartMongo() {
	f.t.Helper()
	if err := f.mongo.Restart(context.Background()); err != nil {
		f.t.Fatalf("restarting FerretDB: %v", err)
	}
}

// waitMongoChanged waits until MongoDB no longer accepts the password of
// before the apply: updateUser ran.
func (f *faultRun) waitMongoChanged(p *cliProcess) {
	f.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := testAccMongoLogin(f.uri, f.c.username, f.original)
		if isAuthFailure(err) {
			return
		}
		if p.Exited() {
			out, _ := p.Wait()
			f.t.Fatalf("terraform exited before MongoDB changed:\n%s", ftail(out, 3000))
		}
		if time.Now().After(deadline) {
			p.Kill()
			out, _ := p.Wait()
			f.t.Fatalf("MongoDB did not change within 90s (last login: %v):\n%s", err, ftail(out, 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// escrowPending reports whether the escrow secret holds a readable version.
func (f *faultRun) escrowPending() bool {
	return len(f.escrows()) > 0
}

// escrows returns the values of the escrow secret's enabled versions: what
// the engine keeps, and what the next rotation tries. A finished or aborted
// rotation disables its version; one that stopped half-way, or was taken
// over, leaves it enabled, and not necessarily as the latest.
func (f *faultRun) escrows() []string {
	p := f.c.secrets[0]
	client := testAccSecretsClient(f.t, p.vaultURL())
	name := p.name + escrowSuffix
	var out []string
	for pager := client.NewListSecretPropertiesVersionsPager(name, nil); pager.More(); {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			return out
		}
		for _, v := range page.Value {
			if v == nil || v.ID == nil || (v.Attributes != nil && v.Attributes.Enabled != nil && !*v.Attributes.Enabled) {
				continue
			}
			resp, err := client.GetSecret(context.Background(), name, v.ID.Version(), nil)
			if err != nil || resp.Value == nil {
				continue
			}
			testAccRecordSecret(*resp.Value)
			out = append(out, *resp.Value)
		}
	}
	return out
}

// secretPassword returns the password in bound secret i's latest version.
func (f *faultRun) secretPassword(i int) (string, string, error) {
	s := f.c.secrets[i]
	resp, err := testAccSecretsClient(f.t, s.vaultURL()).GetSecret(context.Background(), s.name, "", nil)
	if err != nil {
		return "", "", err
	}
	pw, err := secretvalue.Parse(s.format, *resp.Value)
	if err != nil {
		return "", "", err
	}
	testAccRecordSecret(pw)
	return pw, resp.ID.Version(), nil
}

func (f *faultRun) primaryPassword() string {
	f.t.Helper()
	pw, _, err := f.secretPassword(0)
	if err != nil {
		f.t.Fatalf("reading the primary secret: %v", err)
	}
	return pw
}

// versions maps each bound secret's name to its latest version.
func (f *faultRun) versions() map[string]string {
	out := map[string]string{}
	for i, s := range f.c.secrets {
		if _, v, err := f.secretPassword(i); err == nil {
			out[s.name] = v
		}
	}
	return out
}

// checkA: some password MongoDB accepts is retrievable without a human.
func (f *faultRun) checkA() error {
	var tried []string
	for i, s := range f.c.secrets {
		pw, _, err := f.secretPassword(i)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", s.name, err))
			continue
		}
		if err := testAccMongoLogin(f.uri, f.c.username, pw); err == nil {
			return nil
		}
		tried = append(tried, s.name+": login refused")
	}
	escrowed := f.escrows()
	for _, pw := range escrowed {
		if err := testAccMongoLogin(f.uri, f.c.username, pw); err == nil {
			return nil
		}
	}
	if len(escrowed) > 0 {
		tried = append(tried, fmt.Sprintf("%d enabled escrow version(s): login refused", len(escrowed)))
	} else {
		tried = append(tried, "no enabled escrow version")
	}
	return fmt.Errorf("no password MongoDB accepts is in Key Vault (%s)", strings.Join(tried, "; "))
}

// checkClaims holds the provider to what its error said: when it says
// nothing was changed, or that every secret holds the password MongoDB
// accepts, every bound secret's value must log in.
func (f *faultRun) checkClaims(out string) error {
	flat := collapse(out)
	claim := ""
	for _, c := range []string{"every secret holds the password MongoDB accepts", "Nothing was changed."} {
		if strings.Contains(flat, c) {
			claim = c
		}
	}
	if claim == "" {
		return nil
	}
	var refused []string
	if claim == "Nothing was changed." {
		if after := f.versions(); fmt.Sprint(after) != fmt.Sprint(f.before) {
			refused = append(refused, "a bound secret has a new version")
		}
		if err := testAccMongoLogin(f.uri, f.c.username, f.original); err != nil {
			refused = append(refused, fmt.Sprintf("the password of before the apply no longer logs in (%v)", err))
		}
	}
	for i, s := range f.c.secrets {
		pw, _, err := f.secretPassword(i)
		if err != nil {
			refused = append(refused, fmt.Sprintf("%s: %v", s.name, err))
		} else if err := testAccMongoLogin(f.uri, f.c.username, pw); err != nil {
			refused = append(refused, fmt.Sprintf("%s (sync %d) holds a password MongoDB refuses", s.name, i+1))
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("the error says %q, but %s", claim, strings.Join(refused, "; "))
	}
	return nil
}

var planReason = regexp.MustCompile(`last_rotation_reason\s*=\s*(?:"[^"]*"\s*->\s*)?("[^"]*")`)

// checkB: the state is consistent with reality (empty plan, converged), or
// the plan says what is pending. It returns the pending reason.
func (f *faultRun) checkB() (string, error) {
	out, err := f.ws.Run("plan", "-input=false", "-detailed-exitcode")
	switch exitCode(err) {
	case 0:
		if err := f.c.checkConverged(f.t, f.uri)(nil); err != nil {
			return "", fmt.Errorf("the plan is empty but reality differs: %v", err)
		}
		return "empty, state matches reality", nil
	case 2:
		flat := collapse(out)
		if !strings.Contains(flat, testAccRotation+" will be updated in-place") && !strings.Contains(flat, testAccRotation+" will be created") {
			return "", fmt.Errorf("the plan has changes but no rotation: %s", ftail(flat, 1500))
		}
		if m := planReason.FindStringSubmatch(flat); m != nil {
			reasons := strings.Split(strings.Trim(m[1], `"`), "; ")
			more := ""
			if len(reasons) > 1 {
				more = fmt.Sprintf(" (+%d more)", len(reasons)-1)
			}
			f.t.Logf("the next plan rotates: %s", m[1])
			return fmt.Sprintf("rotate, %q%s", reasons[0], more), nil
		}
		return "rotate", nil
	default:
		return "", fmt.Errorf("terraform plan failed: %v\n%s", err, ftail(out, 3000))
	}
}

// checkC: the next apply without the fault converges, and the plan after it
// is empty.
func (f *faultRun) checkC() error {
	out, err := f.ws.Run("apply", "-auto-approve", "-input=false")
	if err != nil {
		return fmt.Errorf("the next apply failed: %v\n%s", err, ftail(out, 3000))
	}
	if err := f.c.checkConverged(f.t, f.uri)(nil); err != nil {
		return fmt.Errorf("the next apply did not converge: %v", err)
	}
	out, err = f.ws.Run("plan", "-input=false", "-detailed-exitcode")
	if code := exitCode(err); code != 0 {
		return fmt.Errorf("the plan after converging is not empty (exit %d): %s", code, ftail(collapse(out), 1500))
	}
	return nil
}

// killMidRotation kills terraform and its plugin (SIGKILL to the process
// group) while the rotation is blocked between updateUser and the first Key
// Vault write, which a delay fault holds. With land (FaultDelayLand), the
// held write is then released and reaches Key Vault after the process died
// (the request was on the wire); without (FaultDelay), it never lands: the
// emulator drops a held write whose client went away, as Key Vault never
// sees a request that did not reach it whole.
func (f *faultRun) killMidRotation(land bool, invoke ...string) (string, error) {
	// A held write is dropped when its client goes away (FaultDelay); the
	// write that lands later needs FaultDelayLand.
	action := kvemulator.FaultDelay
	if land {
		action = kvemulator.FaultDelayLand
	}
	id := f.inject(kvemulator.Fault{Vault: f.vaultOf(0), Method: "PUT", Path: f.secretPath(0), Count: 1, Action: action, Delay: time.Hour})
	args := []string{"apply", "-auto-approve", "-input=false"}
	if len(invoke) > 0 {
		// The action rotates without a configuration change.
		args = invoke
	} else {
		f.ws.Write(f.config("fault"))
	}
	p := f.ws.Start(args...)
	f.waitMongoChanged(p)
	if !f.escrowPending() {
		f.t.Errorf("MongoDB changed but no pending escrow version was found")
	}
	return f.killHeld(p, land, id)
}

// killHeld kills terraform and its plugin while fault id holds the first
// Key Vault write (after updateUser), then releases the write (land) or
// checks that no bound secret was written after all.
func (f *faultRun) killHeld(p *cliProcess, land bool, id string) (string, error) {
	p.Kill()
	if p.GroupAlive() {
		f.t.Errorf("a process of terraform's group survived SIGKILL")
	}
	out, _ := p.Wait()
	if land {
		f.removeFaults()
		// Wait for the released write to land.
		deadline := time.Now().Add(10 * time.Second)
		for f.versions()[f.c.secrets[0].name] == f.before[f.c.secrets[0].name] {
			if time.Now().After(deadline) {
				return out, fmt.Errorf("the released write did not land")
			}
			time.Sleep(50 * time.Millisecond)
		}
		return out + "\nkilled (SIGKILL) after updateUser; the write in flight landed later", fmt.Errorf("killed")
	}
	f.forgetFault(id)
	time.Sleep(200 * time.Millisecond)
	if after := f.versions(); fmt.Sprint(after) != fmt.Sprint(f.before) {
		return out, fmt.Errorf("a bound secret was written after the kill")
	}
	return out + "\nkilled (SIGKILL) after updateUser, before the Key Vault write", fmt.Errorf("killed")
}

// forgetFault leaves a delay fault holding its call: removeFaults will not
// release it.
func (f *faultRun) forgetFault(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.faults {
		if x == id {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
			return
		}
	}
}

// concurrent runs two applies of the same credential from two working
// directories at once, in the order that hurts most: the first is slow to
// write Key Vault (its write of the primary secret hangs after its
// updateUser), the second runs from start to end meanwhile, then the first's
// write goes through.
//
// Without slow, both start at the same instant and race as they will.
func (f *faultRun) concurrent(slow bool) (string, error) {
	ws2 := newCLIWorkspace(f.t)
	ws2.Write(f.config("1"))
	ws2.MustRun("apply", "-auto-approve", "-input=false") // rotates once more: both workspaces have state
	f.original = f.primaryPassword()
	f.before = f.versions()
	f.ws.Write(f.config("fault"))
	ws2.Write(f.config("fault"))
	var out1, out2 string
	var err1, err2 error
	if slow {
		id := f.inject(kvemulator.Fault{Vault: f.vaultOf(0), Method: "PUT", Path: f.secretPath(0), Count: 1, Action: kvemulator.FaultDelay, Delay: time.Hour})
		defer f.removeFaults()
		p1 := f.ws.Start("apply", "-auto-approve", "-input=false")
		f.waitMongoChanged(p1)
		p2 := ws2.Start("apply", "-auto-approve", "-input=false")
		out2, err2 = p2.Wait()
		f.stack.KeyVault.RemoveFault(id)
		out1, err1 = p1.Wait()
	} else {
		p1 := f.ws.Start("apply", "-auto-approve", "-input=false")
		p2 := ws2.Start("apply", "-auto-approve", "-input=false")
		out1, err1 = p1.Wait()
		out2, err2 = p2.Wait()
	}
	var b strings.Builder
	label := "ws1"
	if slow {
		label = "ws1 (slow write)"
	}
	fmt.Fprintf(&b, "%s: %s\nws2: %s\n", label, summarizeOutcome(out1, err1), summarizeOutcome(out2, err2))
	f.t.Logf("two workspaces:\n%s--- workspace 1 ---\n%s\n--- workspace 2 ---\n%s", b.String(), ftail(out1, 3000), ftail(out2, 3000))
	// Workspace 2's view must be consistent too; workspace 1 is checked by
	// the matrix.
	ws1 := f.ws
	f.ws = ws2
	pending, err := f.checkB()
	f.ws = ws1
	if err != nil {
		f.t.Errorf("(b) in workspace 2: %v", err)
		return b.String() + "ws2 plan: " + err.Error(), fmt.Errorf("workspace 2")
	}
	f.t.Logf("workspace 2's plan: %s", pending)
	if err1 == nil && err2 == nil {
		return b.String(), nil
	}
	return b.String(), fmt.Errorf("one apply failed")
}

var (
	firstError    = regexp.MustCompile(`Error: ([^\n]+)`)
	returnedAfter = regexp.MustCompile(`\(apply returned after ([^)]+)\)`)
)

// summarizeOutcome says in a few words what the provider said or did.
func summarizeOutcome(out string, err error) string {
	if strings.HasPrefix(out, "ws1 ") || strings.HasPrefix(out, "ws1:") {
		return strings.ReplaceAll(strings.TrimSpace(out), "\n", "; ")
	}
	flat := collapse(out)
	if strings.Contains(flat, "the write in flight landed later") {
		return "killed mid-apply: MongoDB changed, new password in the escrow; the primary's write landed after the kill, sync 2 not written"
	}
	if strings.Contains(flat, "killed (SIGKILL)") {
		return "killed mid-apply: MongoDB changed, no bound secret written, new password in the escrow"
	}
	if err == nil {
		if strings.Contains(flat, "Rotation finished with a warning") {
			return "apply succeeded (with a warning)"
		}
		return "apply succeeded"
	}
	s := "error"
	if m := firstError.FindStringSubmatch(out); m != nil {
		s = strings.TrimSpace(m[1])
	}
	for _, k := range []struct{ phrase, say string }{
		{"Rolled back", "rolled back"},
		{"Nothing was changed", "nothing changed"},
		{"kept in the escrow", "new password kept in the escrow"},
	} {
		if strings.Contains(flat, k.phrase) {
			s += "; " + k.say
			break
		}
	}
	if m := returnedAfter.FindStringSubmatch(out); m != nil {
		s += "; gave up after " + m[1] + " instead of waiting out Retry-After"
	}
	return s
}

var (
	reasonURL     = regexp.MustCompile(`https://127\.0\.0\.1:\d+/secrets/fm-\d+-`)
	reasonVersion = regexp.MustCompile(`has a version \w+ that the last rotation did not write \(it wrote \w+\)`)
	reasonUser    = regexp.MustCompile(` to MongoDB as fm_\d+@admin`)
)

// shortenReason keeps a plan's rotation reason readable in the table.
func shortenReason(s string) string {
	s = reasonURL.ReplaceAllString(s, "")
	s = reasonVersion.ReplaceAllString(s, "has a version it did not write")
	return reasonUser.ReplaceAllString(s, "")
}

// ftail is the end of s, cut on a rune boundary so logs stay valid UTF-8.
func ftail(s string, n int) string {
	return strings.ToValidUTF8(tail([]byte(s), n), "")
}

var spaces = regexp.MustCompile(`\s+`)

// collapse joins Terraform's wrapped lines and box drawing into one line.
func collapse(s string) string {
	s = strings.ReplaceAll(s, "│", " ")
	return spaces.ReplaceAllString(s, " ")
}
