package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/segura-community/terraform-provider-segura/internal/benchfloor"
)

// BenchmarkApplyRotations compares the provider with a floor, in one run,
// on the local stack. Each round (SEGURA_BENCH_ROUNDS, default 1; the
// table shows medians) runs, one after the other:
//
//  1. the provider: one `terraform apply` that creates and rotates N
//     credentials (SEGURA_BENCH_CREDENTIALS, default 100), each into its
//     own secret: device, N credentials, scope, application, N syncs,
//     policy, N rotations = 3N+4 resources; then the plan after it, which
//     must be empty (-detailed-exitcode 0);
//  2. the SDK floor (package benchfloor) on N other, identically seeded
//     credentials: the rotation's minimal calls, then a refresh (one Key
//     Vault read and one login per credential), at parallelism 10;
//  3. the Terraform floor: apply and plan of the same graph made of
//     terraform_data resources.
//
// The provider runs as a plugin binary through the real terraform binary,
// which starts it as for users; the plugin processes' memory is sampled
// from /proc (bench_plugin_test.go), and the CPU time of each process
// (terraform, its plugins, the floor process, FerretDB, this one) is
// measured per phase. MongoDB is reached through a counting
// proxy (logins, commands, connections); Key Vault requests are counted by
// the emulator. Interleaving the rounds spreads the machine's noise over
// both sides; each side's users are dropped once it is done, so that every
// phase finds N users in FerretDB (see drop). SEGURA_BENCH_PROFILE=dir keeps the plugin's CPU and heap profiles
// of each provider command under dir/apply and dir/plan. The table goes to
// standard output, or to the file SEGURA_BENCH_REPORT (make bench prints
// it last). Run with `make bench`.
func BenchmarkApplyRotations(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("needs the local stack: run with TF_ACC=1 (make bench does)")
	}
	if !testAccEnv.Local {
		b.Skip("needs the local stack: the Key Vault request counts come from its emulator")
	}
	b.StopTimer()
	opts := benchOptionsFromEnv(b)
	env := newBenchEnv(b)
	for i := 0; i < b.N; i++ {
		rounds := make([]benchRound, 0, opts.rounds)
		for r := 1; r <= opts.rounds; r++ {
			rounds = append(rounds, env.round(b, opts, r))
		}
		reportBench(b, opts, rounds)
	}
}

// benchOptions are the benchmark's settings, from the environment.
type benchOptions struct {
	n          int    // credentials per side
	rounds     int    // interleaved rounds
	profileDir string // SEGURA_BENCH_PROFILE: where the plugin's profiles go
	reportFile string // SEGURA_BENCH_REPORT: where the table goes
}

func benchOptionsFromEnv(b *testing.B) benchOptions {
	b.Helper()
	o := benchOptions{
		n:          benchEnvInt(b, "SEGURA_BENCH_CREDENTIALS", 100),
		rounds:     benchEnvInt(b, "SEGURA_BENCH_ROUNDS", 1),
		profileDir: os.Getenv("SEGURA_BENCH_PROFILE"),
		reportFile: os.Getenv("SEGURA_BENCH_REPORT"),
	}
	if o.profileDir != "" {
		abs, err := filepath.Abs(o.profileDir)
		if err != nil {
			b.Fatal(err)
		}
		o.profileDir = abs
	}
	return o
}

func benchEnvInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// benchEnv is what every round shares: the counting proxy in front of
// FerretDB, the plugin and floor binaries, the clients that seed.
type benchEnv struct {
	proxy   *benchfloor.Proxy
	plugin  string // terraform-provider-segura
	floor   string // benchfloor
	admin   *mongo.Client
	secrets *azsecrets.Client
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	cfg := testAccConfig()
	proxy, err := benchfloor.StartProxy(cfg.MongoDBHostPort())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = proxy.Close() })
	_, vaultURL := testAccVault()
	return &benchEnv{
		proxy:   proxy,
		plugin:  testAccPluginBinary(b),
		floor:   buildBenchFloor(b, b.TempDir()),
		admin:   testAccMongoAdmin(b, cfg.MongoDBURI),
		secrets: testAccSecretsClient(b, vaultURL),
	}
}

// The phases of a round.
const (
	phaseProviderApply = "provider apply"
	phaseProviderPlan  = "provider plan"
	phaseFloorRotate   = "floor rotate"
	phaseFloorRefresh  = "floor refresh"
	phaseDataApply     = "terraform_data apply"
	phaseDataPlan      = "terraform_data plan"
)

// benchPhase is what one phase measured.
type benchPhase struct {
	elapsed time.Duration
	// Resident bytes of the plugin or the floor process (none for
	// terraform_data): at most during the phase, and its base (the
	// smallest plugin process, which only served the schema; the floor
	// process before its job).
	peakRSS, baseRSS int64
	processes        int // plugin processes terraform started
	mongo            benchfloor.Counts
	kv               map[string]int // Key Vault requests answered, by operation
	steps            map[string]time.Duration

	// CPU time (user + system) during the phase: of the terraform process
	// itself (core; none for the sdk floor), of the plugin processes it
	// started or of the sdk floor process, of the FerretDB server, of this
	// test process (the Key Vault emulator, the MongoDB proxy, and the
	// benchmark's own reading of terraform's output), less samplerCPU,
	// the sampling of the plugins' /proc.
	coreCPU, pluginCPU, ferretCPU, testCPU, samplerCPU time.Duration
}

// benchRound is one round's measurements.
type benchRound struct {
	phases        map[string]benchPhase
	providerState int64 // bytes of terraform.tfstate after the provider apply
	dataState     int64 // and after the terraform_data apply
}

// measure resets the counters, runs fn (which returns the phase's wall time,
// peak RSS and the CPU time of the processes it ran) and records the phase
// with the counts it caused and the CPU time FerretDB and this process
// used meanwhile.
func (e *benchEnv) measure(b *testing.B, r *benchRound, name string, fn func() (benchPhase, error)) {
	b.Helper()
	e.proxy.Reset()
	testAccLocal.KeyVault.ResetRequestCounts()
	ferretPid := testAccLocal.MongoDB.Pid()
	if ferretPid == 0 {
		b.Fatalf("%s: FerretDB is not running", name)
	}
	ferret0, self0 := benchCPU(b, ferretPid), benchCPU(b, 0)
	p, err := fn()
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	// The benchmark's sampling of the plugins is not the test process's
	// work for the servers it hosts.
	p.ferretCPU, p.testCPU = benchCPU(b, ferretPid)-ferret0, benchCPU(b, 0)-self0-p.samplerCPU
	p.mongo = e.proxy.Counts()
	p.kv = testAccLocal.KeyVault.RequestCounts()
	if err := e.proxy.Err(); err != nil {
		b.Fatalf("%s: the MongoDB proxy could not read a message, its counts are incomplete: %v", name, err)
	}
	r.phases[name] = p
	fmt.Printf("bench: %-22s %7.2fs%s\n", name, p.elapsed.Seconds(), rssNote(p))
	fmt.Printf("bench: %-22s          %s\n", "", cpuNote(p))
}

// benchCPU is the CPU time process pid (0: this one) has used so far.
func benchCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	c, err := benchfloor.ProcessCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	return c.Self
}

func cpuNote(p benchPhase) string {
	var s string
	switch {
	case p.processes > 0:
		s = fmt.Sprintf("CPU: terraform %.2fs, plugins %.2fs (sampling them %.2fs)",
			p.coreCPU.Seconds(), p.pluginCPU.Seconds(), p.samplerCPU.Seconds())
	case p.pluginCPU > 0:
		s = fmt.Sprintf("CPU: sdk process %.2fs", p.pluginCPU.Seconds())
	default:
		s = fmt.Sprintf("CPU: terraform %.2fs", p.coreCPU.Seconds())
	}
	return s + fmt.Sprintf(", FerretDB %.2fs, test process %.2fs", p.ferretCPU.Seconds(), p.testCPU.Seconds())
}

func rssNote(p benchPhase) string {
	switch {
	case p.peakRSS == 0:
		return ""
	case p.processes > 0:
		return fmt.Sprintf("  peak RSS %.0f MiB (base %.0f MiB), %d plugin processes", mib(p.peakRSS), mib(p.baseRSS), p.processes)
	default:
		return fmt.Sprintf("  peak RSS %.0f MiB (base %.0f MiB)", mib(p.peakRSS), mib(p.baseRSS))
	}
}

// round runs the provider, the SDK floor and the terraform_data floor once.
func (e *benchEnv) round(b *testing.B, o benchOptions, n int) benchRound {
	b.Helper()
	fmt.Printf("bench: round %d of %d, %d credentials\n", n, o.rounds, o.n)
	r := benchRound{phases: map[string]benchPhase{}}
	stamp := time.Now().UnixNano() % 1e6
	e.providerRound(b, o, &r, fmt.Sprintf("bench%d_r%d", stamp, n))
	e.floorRound(b, &r, benchUsers(fmt.Sprintf("floor%d_r%d", stamp, n), o.n))
	e.dataRound(b, &r, benchUsers(fmt.Sprintf("data%d_r%d", stamp, n), o.n))
	return r
}

// benchUsers names n MongoDB users; their secrets are the names with "-"
// for "_" (the configuration's replace()).
func benchUsers(prefix string, n int) []string {
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("%s_%03d", prefix, i)
	}
	return users
}

func benchSecretName(user string) string { return strings.ReplaceAll(user, "_", "-") }

// seed creates each user with its initial password and puts that password
// in the user's secret, as the integration guide's prerequisites say; not
// measured.
func (e *benchEnv) seed(b *testing.B, users []string) {
	b.Helper()
	e.eachUser(b, "seeding", users, func(ctx context.Context, user string) error {
		pw := "Initial-Passw0rd-" + user
		if err := e.admin.Database("admin").RunCommand(ctx, bson.D{
			{Key: "createUser", Value: user}, {Key: "pwd", Value: pw}, {Key: "roles", Value: bson.A{}},
		}).Err(); err != nil {
			return err
		}
		_, err := e.secrets.SetSecret(ctx, benchSecretName(user), azsecretsSet(pw), nil)
		return err
	})
}

// drop removes the users and purges their secrets once a phase is done
// with them, so that every phase runs with N users in the database:
// FerretDB's logins get slower as users accumulate (without drop, five
// rounds of 40 credentials made the floor's rotation four times slower in
// the last round than in the first).
func (e *benchEnv) drop(b *testing.B, users []string) {
	b.Helper()
	e.eachUser(b, "removing", users, func(ctx context.Context, user string) error {
		if err := e.admin.Database("admin").RunCommand(ctx, bson.D{{Key: "dropUser", Value: user}}).Err(); err != nil {
			return err
		}
		if _, err := e.secrets.DeleteSecret(ctx, benchSecretName(user), nil); err != nil {
			return err
		}
		_, err := e.secrets.PurgeDeletedSecret(ctx, benchSecretName(user), nil)
		return err
	})
}

// eachUser runs fn for every user, ten at a time, and fails the benchmark
// with every error.
func (e *benchEnv) eachUser(b *testing.B, what string, users []string, fn func(context.Context, string) error) {
	b.Helper()
	ctx := context.Background()
	var (
		mu   sync.Mutex
		errs []string
		wg   sync.WaitGroup
	)
	next := make(chan string)
	for w := 0; w < benchfloor.DefaultParallelism; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for user := range next {
				if err := fn(ctx, user); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("%s %s: %v", what, user, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, u := range users {
		next <- u
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		b.Fatal(strings.Join(errs, "\n"))
	}
}

// providerRound applies the provider configuration (timed, on the
// benchmark's clock) and plans after it; the plan must be empty.
func (e *benchEnv) providerRound(b *testing.B, o benchOptions, r *benchRound, prefix string) {
	b.Helper()
	users := benchUsers(prefix, o.n)
	e.seed(b, users)
	defer e.drop(b, users)
	ws := newCLIWorkspace(b)
	ws.Write(benchProviderHCL(o.n, prefix, e.proxy.Addr()))
	e.measure(b, r, phaseProviderApply, func() (benchPhase, error) {
		b.StartTimer()
		run, err := runWatchingPlugins(ws, e.plugin, o.profile("apply"), "apply", "-auto-approve", "-input=false")
		b.StopTimer()
		return run.phase(), err
	})
	r.providerState = fileSize(b, filepath.Join(ws.dir, "terraform.tfstate"))
	e.measure(b, r, phaseProviderPlan, func() (benchPhase, error) {
		// -detailed-exitcode exits 2 on a non-empty plan, which fails.
		run, err := runWatchingPlugins(ws, e.plugin, o.profile("plan"), "plan", "-detailed-exitcode", "-input=false")
		if err != nil {
			err = fmt.Errorf("the plan after rotating %d credentials must be empty: %w", o.n, err)
		}
		return run.phase(), err
	})
}

// floorRound rotates, then refreshes, freshly seeded credentials with the
// SDK floor.
func (e *benchEnv) floorRound(b *testing.B, r *benchRound, users []string) {
	b.Helper()
	e.seed(b, users)
	defer e.drop(b, users)
	creds := make([]benchfloor.Credential, len(users))
	for i, u := range users {
		creds[i] = benchfloor.Credential{Username: u, SecretName: benchSecretName(u)}
	}
	_, vaultURL := testAccVault()
	cfg := benchFloorConfig(e.proxy.Addr(), vaultURL)
	for _, ph := range []struct{ name, op string }{{phaseFloorRotate, "rotate"}, {phaseFloorRefresh, "refresh"}} {
		e.measure(b, r, ph.name, func() (benchPhase, error) {
			res, cpu, err := runBenchFloor(e.floor, benchfloor.Job{Op: ph.op, Config: cfg, Credentials: creds})
			return benchPhase{elapsed: res.Elapsed, baseRSS: res.IdleMemory.Current, peakRSS: res.Memory.Peak, steps: res.Steps, pluginCPU: cpu}, err
		})
	}
}

// dataRound applies and plans the terraform_data graph; the plan must be
// empty too.
func (e *benchEnv) dataRound(b *testing.B, r *benchRound, users []string) {
	b.Helper()
	ws := newCLIWorkspace(b)
	writeBenchData(b, ws, users)
	e.measure(b, r, phaseDataApply, func() (benchPhase, error) {
		d, cpu, err := runTerraform(ws, "apply", "-auto-approve", "-input=false")
		return dataPhase(d, cpu), err
	})
	r.dataState = fileSize(b, filepath.Join(ws.dir, "terraform.tfstate"))
	e.measure(b, r, phaseDataPlan, func() (benchPhase, error) {
		d, cpu, err := runTerraform(ws, "plan", "-detailed-exitcode", "-input=false")
		return dataPhase(d, cpu), err
	})
}

// dataPhase is a terraform_data command as a phase: terraform starts no
// plugin for it, so all its CPU time is core's (cpu.plugins, the time of
// any child terraform waited for, is added to be sure).
func dataPhase(elapsed time.Duration, cpu terraformCPU) benchPhase {
	return benchPhase{elapsed: elapsed, coreCPU: cpu.core + cpu.plugins}
}

// profile is where the plugin of a provider command writes its profiles;
// empty without SEGURA_BENCH_PROFILE.
func (o benchOptions) profile(command string) string {
	if o.profileDir == "" {
		return ""
	}
	return filepath.Join(o.profileDir, command)
}

func fileSize(b *testing.B, path string) int64 {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// benchProviderHCL is the provider's configuration: n credentials named
// prefix_000..., each synced into its own secret and rotated, on a device
// at address.
func benchProviderHCL(n int, prefix, address string) string {
	cfg := testAccConfig()
	vaultName, vaultURL := testAccVault()
	return testAccProviderConfig() + fmt.Sprintf(`
locals {
  users = [for i in range(%d) : format("%s_%%03d", i)]
}

resource "segura_device" "db" {
  name    = "bench"
  address = %q
}

resource "segura_credential" "app" {
  for_each = toset(local.users)
  device   = segura_device.db
  username = each.key
}

resource "segura_dsm_scope" "bench" {
  name        = "bench"
  system      = "bench"
  environment = "test"
}

resource "segura_dsm_application" "bench" {
  name       = "bench"
  scope      = segura_dsm_scope.bench
  tenant_id  = %q
  vault_name = %q
  vault_url  = %q
}

resource "segura_keyvault_sync" "app" {
  for_each    = toset(local.users)
  credential  = segura_credential.app[each.key]
  application = segura_dsm_application.bench
  secret_name = replace(each.key, "_", "-")
}

resource "segura_rotation_policy" "bench" {
  name           = "bench"
  frequency_days = 30
}

resource "segura_credential_rotation" "app" {
  for_each   = toset(local.users)
  credential = segura_credential.app[each.key]
  policy     = segura_rotation_policy.bench
  syncs      = [segura_keyvault_sync.app[each.key]]
}
`, n, prefix, address, cfg.TenantID, vaultName, vaultURL)
}

func tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return "..." + string(b[len(b)-n:])
}
