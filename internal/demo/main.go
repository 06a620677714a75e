// Command demo runs the quickstart (examples/quickstart) against the local
// stack and shows what it did; `make demo` builds the binaries it needs and
// runs it:
//
//	go run ./internal/demo --dir .devstack          # make demo
//	go run ./internal/demo --dir .devstack --down   # make demo-down
//
// It starts internal/devstack in the background unless it is already running
// (pid file and devstack.json in --dir), so that Key Vault, which the
// emulator keeps in memory, survives between runs. It then makes sure the
// integration guide's prerequisite holds (the MongoDB user orders_app exists
// and its current password is in Key Vault as orders-db-password), copies
// the example into --dir/quickstart, where the state is kept too, runs
// `terraform plan -detailed-exitcode` there, applies the plan when it has changes,
// and proves the result: every bound secret holds the same password, a fresh
// SCRAM login with it succeeds, and the password it replaced is refused.
// No password is ever printed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/localstack"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// What the quickstart manages; examples/quickstart/main.tf names the same.
const (
	username       = "orders_app"
	authDatabase   = "admin"
	primaryVault   = "segura-dev"
	replicaVault   = "segura-dev-2"
	primarySecret  = "orders-db-password"
	primaryFormat  = secretvalue.Password
	replicaSecret  = "orders-db-uri"
	replicaFormat  = secretvalue.ConnectionString
	rotationAddr   = "segura_credential_rotation.orders_app"
	providerSource = "segura-community/segura"
)

// Files in --dir.
const (
	configFile = localstack.ConfigFile
	pidFile    = "devstack.pid"
	logFile    = "devstack.log"
	// Terraform's working directory: a copy of --example, rewritten on every
	// run, and the state, where the local backend keeps it by default. Every
	// terraform command runs with -chdir on it, so none needs the -state flag
	// (Terraform 1.15 warns that it is deprecated) and none needs terraform
	// init (a backend block or a module call would).
	workDir      = "quickstart"
	stateFile    = workDir + "/terraform.tfstate"
	planFile     = workDir + "/quickstart.tfplan"
	stackIDFile  = "quickstart.stack"   // which stack the state belongs to
	triggerFile  = "quickstart.trigger" // the manual_rotation value applied last
	cliConfig    = "terraform.rc"
	devstackBin  = "bin/devstack"
	providerBin  = "bin/terraform-provider-segura"
	startTimeout = 5 * time.Minute // a first run builds FerretDB
)

// Where demos that ran terraform with -state=... kept state and plan; run
// moves such a state into workDir.
const (
	legacyStateFile = "quickstart.tfstate"
	legacyPlanFile  = "quickstart.tfplan"
)

// The files of --example that are copied into workDir: those Terraform
// loads from a root module's directory.
var configSuffixes = []string{".tf", ".tf.json", ".tfvars", ".tfvars.json"}

func main() {
	dir := flag.String("dir", ".devstack", "the local stack's directory (git-ignored)")
	example := flag.String("example", "examples/quickstart", "the Terraform configuration to apply")
	down := flag.Bool("down", false, "stop the local stack started by the demo, and exit")
	rotate := flag.Bool("rotate", false, "rotate now, whatever the schedule says, by giving the quickstart's manual_rotation a new value")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *down {
		err = stopStack(*dir)
	} else {
		err = run(ctx, *dir, *example, *rotate)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type demo struct {
	dir     string // absolute
	example string // absolute
	cfg     localstack.Config
	pool    *keyvault.Pool
	out     io.Writer
}

func run(ctx context.Context, dir, example string, rotate bool) error {
	started := time.Now()
	d := &demo{out: os.Stdout}
	var err error
	if d.dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	if d.example, err = filepath.Abs(example); err != nil {
		return err
	}
	for _, bin := range []string{providerBin, devstackBin} {
		if _, err := os.Stat(filepath.Join(d.dir, bin)); err != nil {
			return fmt.Errorf("%s is missing: run make demo, which builds it", filepath.Join(dir, bin))
		}
	}
	tf, err := exec.LookPath("terraform")
	if err != nil {
		return errors.New("no terraform on PATH: install Terraform >= 1.11 and run make demo again")
	}

	if d.cfg, err = ensureStack(ctx, d.dir, d.out); err != nil {
		return err
	}
	if d.pool, err = d.cfg.KeyVaultPool(policy.RetryOptions{MaxRetries: 3}); err != nil {
		return fmt.Errorf("the Key Vault client: %w", err)
	}
	if err := d.forgetOtherStacks(); err != nil {
		return err
	}
	if err := d.migrateLegacyState(); err != nil {
		return err
	}
	if err := copyConfig(d.example, filepath.Join(d.dir, workDir)); err != nil {
		return err
	}
	if err := d.ensurePrerequisites(ctx); err != nil {
		return err
	}
	// The password a rotation will replace, to prove MongoDB refuses it afterwards.
	previous, err := d.readPassword(ctx, primaryVault, primarySecret, primaryFormat)
	if err != nil {
		// Terraform will say what is wrong with the secret; only that proof is lost.
		fmt.Fprintf(d.out, "note: cannot read %s before the plan (%v), so the demo cannot check afterwards that MongoDB refuses it\n", primarySecret, err)
		previous = ""
	}

	// manual_rotation keeps its last applied value unless asked to change.
	trigger := "initial"
	if data, err := os.ReadFile(filepath.Join(d.dir, triggerFile)); err == nil {
		trigger = strings.TrimSpace(string(data))
	}
	if rotate {
		trigger = "rotate-" + time.Now().UTC().Format("20060102T150405Z")
		fmt.Fprintf(d.out, "ROTATE=1: manual_rotation = %q, so this apply rotates whatever the schedule says\n", trigger)
	}
	t := &terraform{bin: tf, dir: filepath.Join(d.dir, workDir), env: append(d.terraformEnv(), "TF_VAR_manual_rotation="+trigger)}
	if err := d.writeCLIConfig(); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\n$ terraform -chdir=%s plan -detailed-exitcode   (a copy of %s; state in %s)\n",
		filepath.Join(dir, workDir), relTo(example), filepath.Join(dir, stateFile))
	planOut, code, err := t.run(ctx, "plan", "-input=false", "-no-color", "-compact-warnings", "-detailed-exitcode",
		"-out="+filepath.Join(d.dir, planFile))
	if err != nil {
		return err
	}
	rotated, changed := false, code == 2
	switch code {
	case 0:
		fmt.Fprintln(d.out, "  no changes: nothing drifted and no rotation is due")
	case 2:
		for _, line := range planSummary(planOut) {
			fmt.Fprintln(d.out, "  "+line)
		}
		// Whether and why the rotation happens, from the plan itself (the
		// text hides a reason equal to the last one).
		showOut, code, err := t.run(ctx, "show", "-no-color", "-json", filepath.Join(d.dir, planFile))
		if err != nil {
			return err
		}
		if code != 0 {
			os.Stderr.Write(showOut)
			return errors.New("terraform show failed (output above)")
		}
		if reason := plannedReason(showOut); reason != "" {
			fmt.Fprintf(d.out, "  %s rotates because: %s\n", rotationAddr, reason)
			rotated = true
		}
		fmt.Fprintf(d.out, "\n$ terraform -chdir=%s apply %s\n", filepath.Join(dir, workDir), filepath.Base(planFile))
		applyOut, code, err := t.run(ctx, "apply", "-input=false", "-no-color", "-compact-warnings",
			filepath.Join(d.dir, planFile))
		if err != nil {
			return err
		}
		if code != 0 {
			os.Stderr.Write(applyOut)
			return errors.New("terraform apply failed (output above)")
		}
		for _, line := range applySummary(applyOut) {
			fmt.Fprintln(d.out, "  "+line)
		}
		if err := os.WriteFile(filepath.Join(d.dir, triggerFile), []byte(trigger+"\n"), 0o600); err != nil {
			return err
		}
	default:
		os.Stderr.Write(planOut)
		return errors.New("terraform plan failed (output above)")
	}
	_ = os.Remove(filepath.Join(d.dir, planFile))

	outJSON, code, err := t.run(ctx, "output", "-no-color", "-json")
	if err != nil {
		return err
	}
	if code != 0 {
		os.Stderr.Write(outJSON)
		return errors.New("terraform output failed")
	}
	outputs, err := parseOutputs(outJSON)
	if err != nil {
		return err
	}

	rep := report{Rotated: rotated, Changed: changed, Outputs: outputs, MongoDB: d.cfg.MongoDBURI, Username: username}
	for id, v := range outputs.SecretVersions {
		rep.Versions = append(rep.Versions, d.describeVersion(id, v))
	}
	sortVersions(rep.Versions)
	rep.Proofs, err = d.prove(ctx, previous, rotated, rep.Versions, outputs.RotationID)
	fmt.Fprint(d.out, "\n"+rep.String())
	fmt.Fprintf(d.out, "\ndone in %s. Run make demo again: the plan stays empty until a rotation is due. make demo-down stops the local stack.\n",
		time.Since(started).Round(100*time.Millisecond))
	return err
}

// --- the local stack ---------------------------------------------------------

// ensureStack returns the running stack's configuration, starting devstack
// in the background when none runs in dir.
func ensureStack(ctx context.Context, dir string, out io.Writer) (localstack.Config, error) {
	if pid, ok := runningPID(dir); ok {
		cfg, err := waitForConfig(ctx, dir, pid)
		if err == nil {
			fmt.Fprintf(out, "local stack: running (pid %d), reusing it\n", pid)
		}
		return cfg, err
	}
	// Started by hand (make devstack) in the same directory?
	if cfg, err := readConfig(dir); err == nil && answers(cfg) {
		fmt.Fprintf(out, "local stack: running (started outside make demo), reusing it\n")
		return cfg, nil
	}

	// A fresh stack. FerretDB's data outlives a stopped stack while Key
	// Vault's does not: start both empty so they agree.
	for _, stale := range []string{configFile, pidFile, "ferretdb"} {
		if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
			return localstack.Config{}, err
		}
	}
	fmt.Fprintf(out, "local stack: starting FerretDB and the Key Vault emulator in the background (log: %s; the first run builds FerretDB, about a minute)\n",
		filepath.Join(relTo(dir), logFile))
	log, err := os.OpenFile(filepath.Join(dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return localstack.Config{}, err
	}
	defer log.Close()
	cmd := exec.Command(filepath.Join(dir, devstackBin), "--dir", dir)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own session: a Ctrl-C in this terminal later does not stop it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return localstack.Config{}, fmt.Errorf("start devstack: %w", err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
		return localstack.Config{}, err
	}
	t0 := time.Now()
	cfg, err := waitForConfig(ctx, dir, pid)
	if err != nil {
		return cfg, err
	}
	fmt.Fprintf(out, "local stack: ready in %s (pid %d)\n", time.Since(t0).Round(100*time.Millisecond), pid)
	return cfg, nil
}

// runningPID returns the pid in dir's pid file when that process is alive
// and is devstack.
func runningPID(dir string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	// After a reboot the pid may belong to another program.
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && !bytes.Contains(cmdline, []byte("devstack")) {
		return 0, false
	}
	return pid, true
}

func waitForConfig(ctx context.Context, dir string, pid int) (localstack.Config, error) {
	deadline := time.Now().Add(startTimeout)
	for {
		if cfg, err := readConfig(dir); err == nil {
			return cfg, nil
		}
		if syscall.Kill(pid, 0) != nil {
			return localstack.Config{}, fmt.Errorf("devstack exited before it was ready; its log:\n%s", tail(filepath.Join(dir, logFile), 20))
		}
		if time.Now().After(deadline) {
			return localstack.Config{}, fmt.Errorf("devstack not ready after %s; its log:\n%s", startTimeout, tail(filepath.Join(dir, logFile), 20))
		}
		select {
		case <-ctx.Done():
			return localstack.Config{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func readConfig(dir string) (localstack.Config, error) {
	return localstack.ReadConfig(filepath.Join(dir, configFile))
}

// answers reports whether the stack's MongoDB and first vault accept connections.
func answers(cfg localstack.Config) bool {
	return cfg.Answers() == nil
}

// stopStack stops the devstack the demo started (make demo-down).
func stopStack(dir string) error {
	pid, ok := runningPID(dir)
	if !ok {
		_ = os.Remove(filepath.Join(dir, pidFile))
		if cfg, err := readConfig(dir); err == nil && answers(cfg) {
			fmt.Println("local stack: running, but not started by make demo (make devstack?): stop it with Ctrl-C where it runs")
			return nil
		}
		fmt.Println("local stack: not running")
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop devstack (pid %d): %w", pid, err)
	}
	for deadline := time.Now().Add(30 * time.Second); syscall.Kill(pid, 0) == nil; {
		if time.Now().After(deadline) {
			return fmt.Errorf("devstack (pid %d) still running 30s after SIGTERM", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Key Vault's contents are gone: drop what only made sense with them.
	// (FerretDB's data would also stop the next devstack in this directory
	// from starting: its admin user would have another password.)
	for _, f := range []string{pidFile, "ferretdb", workDir, legacyStateFile, legacyStateFile + ".backup", legacyPlanFile, triggerFile, stackIDFile} {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	fmt.Printf("local stack: stopped (pid %d); Key Vault lived in memory, so the quickstart's state and MongoDB data were removed too and the next make demo starts over\n", pid)
	return nil
}

// forgetOtherStacks drops the Terraform state of a previous stack: its
// vaults are gone, and a state that describes them would only confuse.
func (d *demo) forgetOtherStacks() error {
	idPath := filepath.Join(d.dir, stackIDFile)
	id := d.cfg.TenantID + "/" + d.cfg.ClientID // new random client per stack
	if old, err := os.ReadFile(idPath); err == nil && strings.TrimSpace(string(old)) == id {
		return nil
	}
	for _, f := range []string{stateFile, legacyStateFile} {
		if _, err := os.Stat(filepath.Join(d.dir, f)); err == nil {
			fmt.Fprintln(d.out, "local stack: new since the last demo, so the quickstart starts over (old state removed)")
			break
		}
	}
	for _, f := range []string{stateFile, stateFile + ".backup", planFile, legacyStateFile, legacyStateFile + ".backup", legacyPlanFile, triggerFile} {
		if err := os.Remove(filepath.Join(d.dir, f)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return os.WriteFile(idPath, []byte(id+"\n"), 0o600)
}

// migrateLegacyState moves the state of a demo that ran terraform with
// -state=<dir>/quickstart.tfstate to where the local backend finds it in
// workDir. Should both exist (an older checkout ran the demo after a newer
// one), the more recently written wins and the other is removed.
func (d *demo) migrateLegacyState() error {
	legacy, current := filepath.Join(d.dir, legacyStateFile), filepath.Join(d.dir, stateFile)
	_ = os.Remove(filepath.Join(d.dir, legacyPlanFile)) // a plan is only valid for the run that made it
	li, err := os.Stat(legacy)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	ci, err := os.Stat(current)
	if err == nil && !li.ModTime().After(ci.ModTime()) {
		fmt.Fprintf(d.out, "state: removed %s, left by an older demo; %s is newer\n",
			filepath.Join(relTo(d.dir), legacyStateFile), filepath.Join(relTo(d.dir), stateFile))
		for _, f := range []string{legacy, legacy + ".backup"} {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		return nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(current), 0o700); err != nil {
		return err
	}
	for _, f := range []string{"", ".backup"} {
		if err := os.Rename(legacy+f, current+f); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	fmt.Fprintf(d.out, "state: moved %s, where older demos kept it, to %s\n",
		filepath.Join(relTo(d.dir), legacyStateFile), filepath.Join(relTo(d.dir), stateFile))
	return nil
}

// copyConfig makes dst a copy of the root module in src: the files
// Terraform loads from it (configSuffixes) are copied, and any such file in
// dst that src no longer has is removed. Other files in dst (the state)
// stay.
func copyConfig(src, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	old, err := os.ReadDir(dst)
	if err != nil {
		return err
	}
	for _, e := range old {
		if e.Type().IsRegular() && isConfigFile(e.Name()) {
			if err := os.Remove(filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("the example: %w", err)
	}
	copied := 0
	for _, e := range entries {
		if e.IsDir() || !isConfigFile(e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o600); err != nil {
			return err
		}
		copied++
	}
	if copied == 0 {
		return fmt.Errorf("%s holds no Terraform configuration (*.tf)", src)
	}
	return nil
}

func isConfigFile(name string) bool {
	for _, s := range configSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// --- prerequisites -----------------------------------------------------------

// ensurePrerequisites creates what the integration guide asks for before the
// first apply, unless it exists: the MongoDB user with a password, and that
// password in Key Vault as the primary secret (localstack.Config.Seed, which
// `go run ./internal/devstack seed` runs too).
func (d *demo) ensurePrerequisites(ctx context.Context) error {
	seed := localstack.Seed{Username: username, AuthDatabase: authDatabase, Vault: primaryVault, Secret: primarySecret, Format: primaryFormat}
	res, err := d.cfg.Seed(ctx, d.pool, seed)
	if errors.Is(err, localstack.ErrUserWithoutSecret) {
		// A user without its secret (an older demo, which created the user
		// first, interrupted half-way): start its password over.
		seed.Reset = true
		res, err = d.cfg.Seed(ctx, d.pool, seed)
	}
	switch {
	case errors.Is(err, localstack.ErrSecretRefused), errors.Is(err, localstack.ErrSecretFormat):
		// Both exist: an interrupted rotation's password may be in its
		// escrow, which the next apply finds. Terraform has its say.
		return nil
	case err != nil:
		return err
	}
	switch res.Outcome {
	case localstack.SeedCreated:
		fmt.Fprintf(d.out, "prerequisite: created MongoDB user %s with a random password and stored it in Key Vault %s as %s\n",
			username, primaryVault, primarySecret)
	case localstack.SeedCreatedFromSecret:
		fmt.Fprintf(d.out, "prerequisite: created MongoDB user %s with the password already stored in Key Vault %s as %s\n",
			username, primaryVault, primarySecret)
	case localstack.SeedReset:
		fmt.Fprintf(d.out, "prerequisite: gave MongoDB user %s a new random password and stored it in Key Vault %s as %s\n",
			username, primaryVault, primarySecret)
	}
	return nil
}

func (d *demo) vault(name string) (*keyvault.Vault, error) {
	u, ok := d.cfg.Vaults[name]
	if !ok {
		return nil, fmt.Errorf("the local stack has no vault %q (devstack creates %s and %s)", name, primaryVault, replicaVault)
	}
	return d.pool.Vault(u, keyvault.Identity{})
}

func (d *demo) readPassword(ctx context.Context, vaultName, secret string, f secretvalue.Format) (string, error) {
	vault, err := d.vault(vaultName)
	if err != nil {
		return "", err
	}
	v, err := vault.GetSecretValue(ctx, secret, "")
	if err != nil {
		return "", err
	}
	return secretvalue.Parse(f, v.Value)
}

// --- terraform ---------------------------------------------------------------

type terraform struct {
	bin, dir string
	env      []string
}

// run returns the command's combined output and exit code; err only when it
// could not run at all.
func (t *terraform) run(ctx context.Context, args ...string) ([]byte, int, error) {
	cmd := exec.CommandContext(ctx, t.bin, append([]string{"-chdir=" + t.dir}, args...)...)
	cmd.Env = t.env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && ctx.Err() == nil {
		return out, exit.ExitCode(), nil
	}
	if err != nil {
		return out, -1, fmt.Errorf("terraform %s: %w", args[0], err)
	}
	return out, 0, nil
}

// terraformEnv is the environment of every terraform command: the CLI
// configuration with the dev override, and the quickstart's variables.
func (d *demo) terraformEnv() []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_VAR_") || strings.HasPrefix(kv, "TF_CLI_CONFIG_FILE=") || strings.HasPrefix(kv, "TF_DATA_DIR=") {
			continue
		}
		env = append(env, kv)
	}
	mongoHost := ""
	if u, err := url.Parse(d.cfg.MongoDBURI); err == nil {
		mongoHost = u.Host
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+filepath.Join(d.dir, cliConfig),
		"TF_DATA_DIR="+filepath.Join(d.dir, "terraform.d"),
		"TF_IN_AUTOMATION=1",
		"TF_VAR_mongodb_address="+mongoHost,
		"TF_VAR_vault_name="+primaryVault,
		"TF_VAR_vault_url="+d.cfg.Vaults[primaryVault],
		"TF_VAR_replica_vault_name="+replicaVault,
		"TF_VAR_replica_vault_url="+d.cfg.Vaults[replicaVault],
		"TF_VAR_tenant_id="+d.cfg.TenantID,
		"TF_VAR_client_id="+d.cfg.ClientID,
		"TF_VAR_client_secret="+d.cfg.ClientSecret,
		"TF_VAR_authority_host="+d.cfg.AuthorityHost,
		"TF_VAR_key_vault_ca_cert_file="+d.cfg.CACertFile,
		"TF_VAR_emulated_key_vault=true",
	)
}

// writeCLIConfig points Terraform at the provider binary make demo built:
// nothing is downloaded and `terraform init` is not needed.
func (d *demo) writeCLIConfig() error {
	rc := fmt.Sprintf(`# Written by make demo: use the provider binary built from this checkout.
provider_installation {
  dev_overrides {
    %q = %q
  }
  direct {}
}
`, providerSource, filepath.Join(d.dir, filepath.Dir(providerBin)))
	return os.WriteFile(filepath.Join(d.dir, cliConfig), []byte(rc), 0o600)
}

// planSummary keeps the lines of a plan a reader needs: which resources
// change, and the totals.
func planSummary(out []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "# ") && strings.Contains(line, " will be "),
			strings.HasPrefix(line, "# ") && strings.Contains(line, " must be "),
			strings.HasPrefix(line, "Plan: "):
			lines = append(lines, line)
		}
	}
	return lines
}

// plannedReason returns the rotation's last_rotation_reason in a plan
// (terraform show -json), or "" when the plan does not rotate.
func plannedReason(showJSON []byte) string {
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions []string `json:"actions"`
				After   struct {
					Reason string `json:"last_rotation_reason"`
				} `json:"after"`
				AfterUnknown struct {
					LastRotatedAt bool `json:"last_rotated_at"`
				} `json:"after_unknown"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if json.Unmarshal(showJSON, &plan) != nil {
		return ""
	}
	for _, rc := range plan.ResourceChanges {
		if rc.Address == rotationAddr && rc.Change.AfterUnknown.LastRotatedAt {
			return rc.Change.After.Reason
		}
	}
	return ""
}

// applySummary keeps the rotation's progress lines and the totals.
func applySummary(out []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, rotationAddr+":") && strings.Contains(line, "complete") || strings.HasPrefix(line, "Apply complete!") {
			lines = append(lines, line)
		}
	}
	return lines
}

// --- the result --------------------------------------------------------------

// outputs are examples/quickstart/outputs.tf.
type outputs struct {
	RotationID     string
	RotationReason string
	RotationCount  int64
	LastRotatedAt  string
	NextRotationAt string
	SecretVersions map[string]string
}

func parseOutputs(data []byte) (outputs, error) {
	var raw map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	var o outputs
	if err := json.Unmarshal(data, &raw); err != nil {
		return o, fmt.Errorf("terraform output -json: %w", err)
	}
	for name, dst := range map[string]any{
		"rotation_id": &o.RotationID, "rotation_reason": &o.RotationReason, "rotation_count": &o.RotationCount,
		"last_rotated_at": &o.LastRotatedAt, "next_rotation_at": &o.NextRotationAt, "secret_versions": &o.SecretVersions,
	} {
		v, ok := raw[name]
		if !ok {
			return o, fmt.Errorf("terraform output -json: no output %q", name)
		}
		if err := json.Unmarshal(v.Value, dst); err != nil {
			return o, fmt.Errorf("terraform output %s: %w", name, err)
		}
	}
	return o, nil
}

// version is one secret version the last rotation wrote.
type version struct {
	Vault, Secret, Version, Format string
}

func (d *demo) describeVersion(secretID, v string) version {
	vaultURL, name, err := keyvault.ParseSecretID(secretID)
	if err != nil {
		return version{Vault: "?", Secret: secretID, Version: v}
	}
	out := version{Vault: vaultURL, Secret: name, Version: v}
	for n, u := range d.cfg.Vaults {
		if keyvault.NormalizeVaultURL(u) == keyvault.NormalizeVaultURL(vaultURL) {
			out.Vault = n
		}
	}
	switch name {
	case primarySecret:
		out.Format = string(primaryFormat)
	case replicaSecret:
		out.Format = string(replicaFormat)
	}
	return out
}

// proof is one check of the end state, passed or not.
type proof struct {
	OK   bool
	Text string
}

// prove checks the end state against the live servers: every bound secret
// holds the same password, MongoDB accepts it, and (after a rotation) refuses
// the password it replaced. Passwords stay in memory.
func (d *demo) prove(ctx context.Context, previous string, rotated bool, versions []version, rotationID string) ([]proof, error) {
	var proofs []proof
	var failed []string
	add := func(ok bool, text string) {
		proofs = append(proofs, proof{ok, text})
		if !ok {
			failed = append(failed, text)
		}
	}
	latest := 0
	for _, v := range versions {
		vault, err := d.vault(v.Vault)
		if err != nil {
			return nil, err
		}
		props, err := vault.SecretProperties(ctx, v.Secret)
		if err != nil {
			return nil, fmt.Errorf("read %s's properties: %w", v.Secret, err)
		}
		switch {
		case props.Version != v.Version:
			add(false, fmt.Sprintf("%s's latest version is %s, not the one the rotation wrote", v.Secret, props.Version))
		case props.Tags[keyvault.TagRotationID] != rotationID:
			add(false, fmt.Sprintf("%s's latest version has tag %s=%q, not the rotation's id", v.Secret, keyvault.TagRotationID, props.Tags[keyvault.TagRotationID]))
		default:
			latest++
		}
	}
	if latest == len(versions) {
		add(latest > 0, fmt.Sprintf("the versions above are their secrets' latest, tagged %s=%s", keyvault.TagRotationID, rotationID))
	}
	current, err := d.readPassword(ctx, primaryVault, primarySecret, primaryFormat)
	if err != nil {
		return nil, fmt.Errorf("read %s back: %w", primarySecret, err)
	}
	replica, err := d.readPassword(ctx, replicaVault, replicaSecret, replicaFormat)
	switch {
	case err != nil:
		add(false, fmt.Sprintf("%s in %s: %v", replicaSecret, replicaVault, err))
	default:
		add(subtle.ConstantTimeCompare([]byte(current), []byte(replica)) == 1,
			fmt.Sprintf("%s (%s) and %s (%s, inside the connection string) hold the same password", primarySecret, primaryVault, replicaSecret, replicaVault))
	}
	err = login(ctx, d.cfg.MongoDBURI, current)
	add(err == nil, fmt.Sprintf("MongoDB accepts the password now in Key Vault (fresh SCRAM-SHA-256 login as %s)%s", username, errSuffix(err)))
	if rotated && previous != "" {
		err = login(ctx, d.cfg.MongoDBURI, previous)
		refused := err != nil && strings.Contains(err.Error(), "AuthenticationFailed")
		what := "MongoDB refuses the previous password (AuthenticationFailed)"
		if !refused {
			what = "MongoDB refuses the previous password: " + map[bool]string{true: "it still logs in", false: "unexpected error: " + fmt.Sprint(err)}[err == nil]
		}
		add(refused, what)
		add(subtle.ConstantTimeCompare([]byte(current), []byte(previous)) == 0, "the password in Key Vault is a new one")
	}
	if state, err := os.ReadFile(filepath.Join(d.dir, stateFile)); err != nil {
		add(false, "read the Terraform state: "+err.Error())
	} else {
		leaked := bytes.Contains(state, []byte(current)) || previous != "" && bytes.Contains(state, []byte(previous))
		add(!leaked, "the Terraform state holds versions and timestamps, not the password")
	}
	if len(failed) > 0 {
		return proofs, fmt.Errorf("%d check(s) failed: %s", len(failed), strings.Join(failed, "; "))
	}
	return proofs, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// login is a fresh SCRAM-SHA-256 login and ping, on a new connection.
func login(ctx context.Context, uri, password string) error {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second).
		SetAuth(options.Credential{Username: username, Password: password, AuthSource: authDatabase, AuthMechanism: "SCRAM-SHA-256"}))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background()) //nolint:errcheck
	return client.Database(authDatabase).RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

// report is what the demo prints at the end.
type report struct {
	Rotated  bool // the apply rotated the password
	Changed  bool // the plan had changes
	Outputs  outputs
	MongoDB  string
	Username string
	Versions []version
	Proofs   []proof
}

func (r report) String() string {
	var b strings.Builder
	o := r.Outputs
	if r.Rotated {
		fmt.Fprintf(&b, "Rotated the password of %s on %s\n", r.Username, r.MongoDB)
	} else {
		what := "No changes"
		if r.Changed {
			what = "Applied, without a rotation"
		}
		fmt.Fprintf(&b, "%s: the password of %s on %s was not rotated (next rotation due at %s)\n", what, r.Username, r.MongoDB, orNever(o.NextRotationAt))
	}
	fmt.Fprintf(&b, "  rotation id       %s (rotation #%d)\n", o.RotationID, o.RotationCount)
	fmt.Fprintf(&b, "  reason            %s\n", o.RotationReason)
	fmt.Fprintf(&b, "  last rotated at   %s\n", o.LastRotatedAt)
	fmt.Fprintf(&b, "  next rotation at  %s\n", orNever(o.NextRotationAt))
	if r.Rotated {
		b.WriteString("  versions written:\n")
	} else {
		b.WriteString("  versions written by that rotation:\n")
	}
	wv, ws := len("vault"), len("secret")
	for _, v := range r.Versions {
		wv, ws = max(wv, len(v.Vault)), max(ws, len(v.Secret))
	}
	for _, v := range r.Versions {
		format := ""
		if v.Format != "" {
			format = "  (" + v.Format + ")"
		}
		fmt.Fprintf(&b, "    %-*s  %-*s  %s%s\n", wv, v.Vault, ws, v.Secret, v.Version, format)
	}
	b.WriteString("  proof (no password is printed):\n")
	for _, p := range r.Proofs {
		mark := "ok  "
		if !p.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "    %s %s\n", mark, p.Text)
	}
	return b.String()
}

func orNever(s string) string {
	if s == "" {
		return "never (the policy sets no schedule)"
	}
	return s
}

// sortVersions puts the primary secret first, as the rotation's syncs list does.
func sortVersions(vs []version) {
	sort.Slice(vs, func(i, j int) bool {
		pi, pj := vs[i].Secret == primarySecret, vs[j].Secret == primarySecret
		if pi != pj {
			return pi
		}
		if vs[i].Vault != vs[j].Vault {
			return vs[i].Vault < vs[j].Vault
		}
		return vs[i].Secret < vs[j].Secret
	})
}

// relTo shows path relative to the working directory when it is inside it.
func relTo(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}
