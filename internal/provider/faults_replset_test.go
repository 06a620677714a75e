package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/mongosim"
)

// The fault matrix's rows on a simulated production deployment
// (internal/mongosim: a proxy per member in front of a FerretDB of its
// own): a three-member replica set, or two mongos routers with their own
// user caches. Each row starts its own deployment, so a step-down or a lag
// touches no other row. The invariants are those of every row, with "a
// password MongoDB accepts" read on the primary (or through the routers).
//
// The provider is given short MongoDB waits so that a row takes seconds:
// write_timeout 4s (so wtimeout 2s, maxTimeMS 2.7s) and replication_wait 6s.

const (
	simWriteTimeout    = "4s"
	simReplicationWait = "6s"
)

func replicaSetFaultScenarios() []faultScenario {
	set := &mongosim.Options{}
	rows := []faultScenario{
		{
			name: "rs-reply-lost-secondaries-lagging", sim: set,
			fault: "updateUser applied on the primary, its reply lost; both secondaries apply user changes 1.5s late",
			run: func(f *faultRun) (string, error) {
				f.lagSecondaries(1500 * time.Millisecond)
				f.injectSim(mongosim.Fault{Command: "updateUser", User: f.c.username, Count: 1, Action: mongosim.FaultDropReply})
				return f.applyFault()
			},
			expect: regexp.MustCompile(`Apply complete!`),
		},
		{
			name: "rs-stepdown-keeps-change", sim: set,
			fault: "primary stepped down after updateUser, before the Key Vault writes; the new primary has the change",
			run: func(f *faultRun) (string, error) {
				return f.stepDownMidRotation(false)
			},
			expect: regexp.MustCompile(`Apply complete!`),
		},
		{
			name: "rs-stepdown-loses-change", sim: set,
			fault: "secondaries 2s late; primary stepped down as soon as it has the new password, losing the un-replicated change",
			run: func(f *faultRun) (string, error) {
				f.lagSecondaries(2 * time.Second)
				return f.stepDownMidRotation(true)
			},
			expect: regexp.MustCompile(`Rotation failed to change the password in MongoDB.*previous password on the primary.*pending in the escrow secret`),
		},
		{
			name: "rs-no-primary-at-preflight", sim: set,
			fault: "no primary (every member secondary) during the apply",
			run: func(f *faultRun) (string, error) {
				old := f.sim.Primary()
				if err := f.sim.StepDown("", mongosim.StepDownOptions{}); err != nil {
					f.t.Fatal(err)
				}
				out, err := f.applyFault()
				if eerr := f.sim.Elect(old); eerr != nil {
					f.t.Fatal(eerr)
				}
				return out, err
			},
			expect: regexp.MustCompile(`Rotation stopped before changing anything.*Nothing was changed`),
		},
		{
			name: "rs-updateUser-stalled", sim: set,
			fault: "updateUser held by the primary past the client's write_timeout, applied after the client gave up",
			run: func(f *faultRun) (string, error) {
				f.injectSim(mongosim.Fault{Command: "updateUser", User: f.c.username, Count: 1, Action: mongosim.FaultStall})
				return f.applyFault()
			},
			// Depending on whether the held command had applied when the
			// provider looked again, the rotation finishes, or stops with the
			// new password pending in the escrow (the previous one still
			// logged in, or neither did while the command was landing).
			expect: regexp.MustCompile(`Apply complete!|pending in the escrow secret|kept in the escrow secret`),
		},
		{
			name: "rs-write-concern-error", sim: set,
			fault: "secondaries 10s late: updateUser answers writeConcernError past wtimeout, until replication_wait passes",
			run: func(f *faultRun) (string, error) {
				f.lagSecondaries(10 * time.Second)
				out, err := f.applyFault()
				f.lagSecondaries(0)
				if serr := f.sim.AwaitReplication(context.Background()); serr != nil {
					f.t.Fatal(serr)
				}
				return out, err
			},
			expect: regexp.MustCompile(`waiting up to 6s for a majority.*rolled back and verified.*No secret was written`),
		},
		{
			name: "router-user-cache-stale", sim: &mongosim.Options{Routers: 2, UserCacheInterval: 3 * time.Second},
			fault: "two mongos routers whose user caches refresh every 3s; the change is made through one",
			run: func(f *faultRun) (string, error) {
				return f.applyFault()
			},
			expect: regexp.MustCompile(`Apply complete!`),
		},
		{
			name: "sasl-drop-during-refresh", sim: set,
			fault: "every SCRAM conversation of the credential dropped mid-way during a plan",
			run: func(f *faultRun) (string, error) {
				id := f.injectSim(mongosim.Fault{Command: "saslContinue", User: f.c.username, Action: mongosim.FaultDropConnection})
				f.ws.Write(f.config("1"))
				out, err := f.ws.Run("plan", "-input=false", "-detailed-exitcode")
				f.sim.RemoveFault(id)
				if code := exitCode(err); code != 0 {
					return out, fmt.Errorf("the plan with the network drops exits %d, want 0 (no drift, no rotation): a broken SCRAM conversation is no wrong password", code)
				}
				return out, nil
			},
			expect: regexp.MustCompile(`No changes.*could not be tried against MongoDB`),
		},
	}
	// Their subject is the engine against the deployment, not the binary.
	for i := range rows {
		rows[i].firstBinaryOnly = true
	}
	return rows
}

// simSettle waits until every member (or router) has the users arranged
// through the primary (or one router), as a deployment in steady state does.
func (f *faultRun) simSettle() {
	f.t.Helper()
	if f.sim.SetName() == "" && len(f.sim.Hosts()) > 1 {
		for _, h := range f.sim.Hosts() {
			if err := f.sim.RefreshUserCache(h); err != nil {
				f.t.Fatal(err)
			}
		}
		return
	}
	if err := f.sim.AwaitReplication(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// lagSecondaries makes every secondary apply this row's user changes d late.
func (f *faultRun) lagSecondaries(d time.Duration) {
	f.t.Helper()
	for _, h := range f.sim.Hosts() {
		if h == f.sim.Primary() {
			continue
		}
		if err := f.sim.SetUserLag(h, f.c.username, d); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *faultRun) injectSim(flt mongosim.Fault) string {
	f.t.Helper()
	id, err := f.sim.InjectFault(flt)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// stepDownMidRotation holds the first Key Vault write of a rotation, waits
// until the primary has the new password, steps the primary down (to the
// secondary that applied the most), then lets the write go.
func (f *faultRun) stepDownMidRotation(lose bool) (string, error) {
	id := f.inject(kvemulator.Fault{Vault: f.vaultOf(0), Method: "PUT", Path: f.secretPath(0), Count: 1, Action: kvemulator.FaultDelay, Delay: time.Hour})
	defer f.removeFaults()
	old := f.sim.Primary()
	f.ws.Write(f.config("fault"))
	p := f.ws.Start("apply", "-auto-approve", "-input=false")
	f.waitMongoChangedOn(p, f.sim.Member(old).URI())
	next, best := "", int64(-1)
	for _, h := range f.sim.Hosts() {
		if h != old && f.sim.Member(h).AppliedIndex() > best {
			next, best = h, f.sim.Member(h).AppliedIndex()
		}
	}
	if err := f.sim.StepDown(next, mongosim.StepDownOptions{LoseUnreplicated: lose}); err != nil {
		f.t.Fatal(err)
	}
	f.stack.KeyVault.RemoveFault(id)
	return p.Wait()
}

// waitMongoChangedOn is waitMongoChanged against one member.
func (f *faultRun) waitMongoChangedOn(p *cliProcess, uri string) {
	f.t.Helper()
	saved := f.uri
	f.uri = uri
	defer func() { f.uri = saved }()
	f.waitMongoChanged(p)
}

// simConfig turns the configuration of a row on a simulated deployment
// into the one a user of that deployment writes: every member (or router)
// in hosts, the replica set named, and the row's short MongoDB waits.
func (f *faultRun) simConfig(hcl string) string {
	hosts := make([]string, 0, len(f.sim.Hosts()))
	for _, h := range f.sim.Hosts() {
		hosts = append(hosts, fmt.Sprintf("%q", h))
	}
	device := "hosts = [" + strings.Join(hosts, ", ") + "]"
	if name := f.sim.SetName(); name != "" {
		device += fmt.Sprintf("\n  replica_set = %q", name)
	}
	hcl = strings.Replace(hcl, fmt.Sprintf("address = %q", f.c.hostPort()), device, 1)
	return strings.Replace(hcl, `server_selection_timeout = "5s"`,
		fmt.Sprintf("server_selection_timeout = \"5s\"\n    write_timeout = %q\n    replication_wait = %q", simWriteTimeout, simReplicationWait), 1)
}
