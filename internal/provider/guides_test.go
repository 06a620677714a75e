package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"gopkg.in/yaml.v3"

	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// The guides under templates/guides/ show configurations and pipelines that
// live as files under examples/guides/; these tests hold them to what the
// guides say.

func guideFile(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "examples", "guides"}, parts...)...)
}

// copyGuideFiles copies examples/guides/<from>/<name> into dir for each name.
func copyGuideFiles(t *testing.T, dir, from string, names ...string) {
	t.Helper()
	for _, n := range names {
		data, err := os.ReadFile(guideFile(from, n))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// yamlScripts collects the shell scripts of a pipeline: the values of run
// (GitHub Actions) and inlineScript (the AzureCLI task) keys, at any depth.
func yamlScripts(node any, out *[]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && (k == "run" || k == "inlineScript") {
				*out = append(*out, s)
			}
			yamlScripts(v, out)
		}
	case []any:
		for _, v := range n {
			yamlScripts(v, out)
		}
	}
}

// yamlValues collects the string values of key at any depth.
func yamlValues(node any, key string, out *[]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && k == key {
				*out = append(*out, s)
			}
			yamlValues(v, key, out)
		}
	case []any:
		for _, v := range n {
			yamlValues(v, key, out)
		}
	}
}

var ghExpression = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

// bashSyntax checks a script with bash -n (GitHub's ${{ }} expressions are
// replaced first: the runner substitutes them before bash sees the script).
func bashSyntax(t *testing.T, what, script string) {
	t.Helper()
	cmd := exec.Command("bash", "-n")
	cmd.Stdin = strings.NewReader(ghExpression.ReplaceAllString(script, "x"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: bash -n: %v\n%s\n%s", what, err, out, script)
	}
}

// TestCIGuidePipelines parses the CI guide's GitHub Actions workflow and
// Azure DevOps pipeline and checks what the guide promises of them: a
// schedule, OIDC and no client secret, plan -detailed-exitcode with 0, 2 and
// anything else told apart, no plan file published, and shell steps that
// bash accepts.
func TestCIGuidePipelines(t *testing.T) {
	t.Parallel()
	load := func(name string) (map[string]any, string) {
		raw, err := os.ReadFile(guideFile("ci", name))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s is not valid YAML: %v", name, err)
		}
		return doc, string(raw)
	}
	common := func(name string, doc map[string]any, raw string) {
		for _, bad := range []string{"ARM_CLIENT_SECRET", "client_secret", "upload-artifact", "PublishPipelineArtifact", "PublishBuildArtifacts", ".tfplan"} {
			if strings.Contains(raw, bad) {
				t.Errorf("%s mentions %s: the guide promises no client secret and no published plan file", name, bad)
			}
		}
		var scripts []string
		yamlScripts(doc, &scripts)
		checks := 0
		for i, s := range scripts {
			bashSyntax(t, fmt.Sprintf("%s script %d", name, i), s)
			if strings.Contains(s, "plan-check.sh") && strings.Contains(s, "code=$?") {
				checks++
				for _, arm := range []string{"0)", "2)", "*)"} {
					if !strings.Contains(s, arm) {
						t.Errorf("%s: the check step does not handle exit code %s", name, strings.TrimSuffix(arm, ")"))
					}
				}
			}
		}
		if checks != 1 {
			t.Errorf("%s: want one step that runs the check and reads its exit code, found %d", name, checks)
		}
		if !strings.Contains(raw, "terraform apply -input=false -lock-timeout=5m -auto-approve") {
			t.Errorf("%s: no scheduled apply", name)
		}
	}

	gh, raw := load("github-actions.yml")
	common("github-actions.yml", gh, raw)
	on, _ := gh["on"].(map[string]any)
	if sched, _ := on["schedule"].([]any); len(sched) != 2 {
		t.Errorf("github-actions.yml: want two schedules (check, rotation window), got %v", on["schedule"])
	}
	if p, _ := gh["permissions"].(map[string]any); p["id-token"] != "write" {
		t.Errorf("github-actions.yml: permissions.id-token must be write for OIDC, got %v", gh["permissions"])
	}
	if env, _ := gh["env"].(map[string]any); env["ARM_USE_OIDC"] != "true" || env["ARM_CLIENT_ID"] == nil || env["ARM_TENANT_ID"] == nil {
		t.Errorf("github-actions.yml: env must set ARM_USE_OIDC=true, ARM_CLIENT_ID and ARM_TENANT_ID, got %v", gh["env"])
	}
	if c, _ := gh["concurrency"].(map[string]any); c["cancel-in-progress"] != false {
		t.Errorf("github-actions.yml: a running apply must never be cancelled, got %v", gh["concurrency"])
	}
	var uses []string
	yamlValues(gh, "uses", &uses)
	if !strings.Contains(strings.Join(uses, " "), "hashicorp/setup-terraform") {
		t.Errorf("github-actions.yml: no setup-terraform step (uses: %v)", uses)
	}

	ado, raw := load("azure-pipelines.yml")
	common("azure-pipelines.yml", ado, raw)
	if sched, _ := ado["schedules"].([]any); len(sched) != 2 {
		t.Errorf("azure-pipelines.yml: want two schedules, got %v", ado["schedules"])
	}
	var tasks []string
	yamlValues(ado, "task", &tasks)
	if len(tasks) != 2 || tasks[0] != "AzureCLI@2" || tasks[1] != "AzureCLI@2" {
		t.Errorf("azure-pipelines.yml: want two AzureCLI@2 tasks, got %v", tasks)
	}
	for _, s := range []string{"addSpnToEnvironment: true", `ARM_USE_OIDC=true ARM_OIDC_TOKEN="$idToken"`} {
		if strings.Count(raw, s) != 2 {
			t.Errorf("azure-pipelines.yml: want %q in both jobs", s)
		}
	}

	check, err := os.ReadFile(guideFile("ci", "plan-check.sh"))
	if err != nil {
		t.Fatal(err)
	}
	bashSyntax(t, "plan-check.sh", string(check))
}

// terraformPath is the binary the acceptance tests drive.
func terraformPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		t.Skip("needs TF_ACC_TERRAFORM_PATH")
	}
	return p
}

// runIn runs terraform with args in dir under cliConfig.
func runIn(t *testing.T, dir, cliConfig string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(terraformPath(t), append(args, "-no-color")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "TF_LOG=", "TF_LOG_PATH=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustRunIn(t *testing.T, dir, cliConfig string, args ...string) string {
	t.Helper()
	out, err := runIn(t, dir, cliConfig, args...)
	if err != nil {
		t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, ftail(out, 6000))
	}
	return out
}

// TestAccGuideExamplesFormatted: every HCL file of the guides is what
// terraform fmt writes (which also proves it parses).
func TestAccGuideExamplesFormatted(t *testing.T) {
	testAccPreCheck(t)
	t.Parallel()
	out, err := exec.Command(terraformPath(t), "fmt", "-check", "-recursive", "-diff", guideFile()).CombinedOutput()
	if err != nil {
		t.Errorf("terraform fmt -check on examples/guides: %v\n%s", err, out)
	}
}

// localProviderOverride is an override file that points the segura provider
// block of a guide's configuration at the local stack, authenticating as
// clientSecret (the local Entra ID stand-in has no federated credentials).
func localProviderOverride(clientSecret string) string {
	c := testAccConfig()
	block := testAccProviderConfigWith(c.ClientID, clientSecret)
	return block
}

// mirrorCLIConfig installs the provider the way CI's terraform init does,
// but from a local filesystem mirror instead of the registry: init then
// runs as in a pipeline, with no network. (dev_overrides, which the other
// tests use, make init try the registry anyway.)
func mirrorCLIConfig(t *testing.T) string {
	t.Helper()
	testAccPluginCLIConfig(t) // builds the plugin into testAccPlugin.dir
	bin, err := os.ReadFile(filepath.Join(testAccPlugin.dir, "terraform-provider-segura"))
	if err != nil {
		t.Fatal(err)
	}
	mirror := t.TempDir()
	pkg := filepath.Join(mirror, "registry.terraform.io", "segura-community", "segura", "0.0.1", runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(pkg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "terraform-provider-segura_v0.0.1"), bin, 0o700); err != nil { //nolint:gosec // an executable
		t.Fatal(err)
	}
	cfg := filepath.Join(mirror, "terraformrc")
	writeFile(t, cfg, fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"segura-community/segura\"]\n  }\n}\n", mirror))
	return cfg
}

// TestAccCIGuide: the CI guide's configuration passes terraform validate as
// written (after terraform init -backend=false, the provider installed from
// a local mirror: no network), and its plan-check.sh, run by bash against the
// local stack with a local backend in place of azurerm, exits 2 for the
// initial rotation, 0 once applied, 2 for a secret changed outside
// Terraform, and 1 when the plan fails; it leaves no plan file behind.
func TestAccCIGuide(t *testing.T) {
	testAccStack(t)
	testAccFirstBinaryOnly(t, "the CI guide's end-to-end run")
	t.Parallel()
	cliConfig := mirrorCLIConfig(t)

	validate := t.TempDir()
	copyGuideFiles(t, validate, "ci", "main.tf")
	mustRunIn(t, validate, cliConfig, "init", "-backend=false", "-input=false")
	if out := mustRunIn(t, validate, cliConfig, "validate"); !strings.Contains(out, "The configuration is valid") {
		t.Fatalf("terraform validate:\n%s", out)
	}

	name := testAccName("acc-ci")
	c := rotationChain{name: name, username: usernameFor(name), secrets: []rotationSecret{{resource: "pw", name: name + "-pw", format: secretvalue.Password}}}
	uri := testAccConfig().MongoDBURI
	c.arrange(t, uri, "Original-Passw0rd-"+name)
	work := t.TempDir()
	copyGuideFiles(t, work, "ci", "main.tf")
	check, err := os.ReadFile(guideFile("ci", "plan-check.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(work, "ci"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(work, "ci", "plan-check.sh"), string(check))
	override := func(secret string) {
		writeFile(t, filepath.Join(work, "local_override.tf"), "terraform {\n  backend \"local\" {}\n}\n\n"+localProviderOverride(secret))
	}
	override(testAccConfig().ClientSecret)
	vaultName, vaultURL := testAccVault()
	writeFile(t, filepath.Join(work, "terraform.tfvars"), fmt.Sprintf("tenant_id = %q\nvault_name = %q\nvault_url = %q\nmongodb_address = %q\nusername = %q\nsecret_name = %q\n",
		testAccConfig().TenantID, vaultName, vaultURL, c.hostPort(), c.username, c.secrets[0].name))
	mustRunIn(t, work, cliConfig, "init", "-input=false")

	runnerTemp := t.TempDir()
	// The script calls terraform by name: make it the binary this run drives
	// (which may be called something else, e.g. tofu).
	shim := t.TempDir()
	if err := os.Symlink(terraformPath(t), filepath.Join(shim, "terraform")); err != nil {
		t.Fatal(err)
	}
	planCheck := func(wantCode int, want string) {
		t.Helper()
		cmd := exec.Command("bash", "ci/plan-check.sh")
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "TF_LOG=", "RUNNER_TEMP="+runnerTemp,
			"PATH="+shim+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if exitCode(err) != wantCode || !strings.Contains(collapse(string(out)), want) {
			t.Fatalf("plan-check.sh: exit %d (want %d), output should contain %q:\n%s", exitCode(err), wantCode, want, ftail(string(out), 4000))
		}
		t.Logf("plan-check.sh exited %d:\n%s", wantCode, ftail(string(out), 1500))
		left, _ := os.ReadDir(runnerTemp)
		files, _ := filepath.Glob(filepath.Join(work, "*plan*"))
		if len(left) > 0 || len(files) > 0 {
			t.Fatalf("plan-check.sh left a plan behind: %v %v", left, files)
		}
	}

	planCheck(2, "segura_credential_rotation.orders_app: create - initial rotation")
	mustRunIn(t, work, cliConfig, "apply", "-input=false", "-auto-approve")
	planCheck(0, "segura: no rotation due, nothing drifted")

	// Someone writes the secret by hand: the plan shows the drift.
	value := "pasted-by-hand-" + name
	testAccRecordSecret(value)
	if _, err := testAccSecretsClient(t, c.secrets[0].vaultURL()).SetSecret(context.Background(), c.secrets[0].name, secretParams(value), nil); err != nil {
		t.Fatal(err)
	}
	planCheck(2, "segura_credential_rotation.orders_app: update - ")
	mustRunIn(t, work, cliConfig, "apply", "-input=false", "-auto-approve")
	if err := c.checkConverged(t, uri)(nil); err != nil {
		t.Fatal(err)
	}
	planCheck(0, "no rotation due")

	// A broken credential: the check fails, and says so.
	override("not-the-secret")
	planCheck(1, "segura: terraform plan failed (exit 1)")
}

// The stand-in for hashicorp/azurerm, random and time (testdata/standin),
// built once per test binary.
var standin struct {
	once sync.Once
	bin  string
	err  error
}

func standinBinary(t *testing.T) string {
	t.Helper()
	standin.once.Do(func() {
		dir, err := os.MkdirTemp("", "segura-standin-") //nolint:usetesting // shared by the tests of the binary
		if err != nil {
			standin.err = err
			return
		}
		standin.bin = filepath.Join(dir, "standin")
		build := exec.Command("go", "build", "-o", standin.bin, "./internal/provider/testdata/standin")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			standin.err = fmt.Errorf("building the stand-in providers: %v\n%s", err, out)
		}
	})
	if standin.err != nil {
		t.Fatal(standin.err)
	}
	return standin.bin
}

// standinCLIConfig installs the segura provider and the stand-ins for
// hashicorp/azurerm, random and time with dev_overrides, and writes the
// stand-in's Key Vault settings.
func standinCLIConfig(t *testing.T) string {
	t.Helper()
	testAccPluginCLIConfig(t) // builds the segura plugin into testAccPlugin.dir
	bin := standinBinary(t)
	dir := t.TempDir()
	c := testAccConfig()
	settings, _ := json.Marshal(map[string]any{
		"tenant_id": c.TenantID, "client_id": c.ClientID, "client_secret": c.ClientSecret,
		"authority_host": c.AuthorityHost, "ca_file": c.CACertFile, "vaults": c.Vaults,
	})
	var overrides strings.Builder
	fmt.Fprintf(&overrides, "    \"segura-community/segura\" = %q\n", testAccPlugin.dir)
	for _, name := range []string{"azurerm", "random", "time"} {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(bin, filepath.Join(d, "terraform-provider-"+name)); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&overrides, "    \"hashicorp/%s\" = %q\n", name, d)
	}
	// Beside the executable itself: os.Executable resolves the symlinks.
	writeFile(t, filepath.Join(filepath.Dir(bin), "standin.json"), string(settings))
	cfg := filepath.Join(dir, "terraformrc")
	writeFile(t, cfg, "provider_installation {\n  dev_overrides {\n"+overrides.String()+"  }\n  direct {}\n}\n")
	return cfg
}

// TestAccMigrationGuide follows the migration guide end to end on the local
// stack, through the real terraform binary. The azurerm, random and time
// providers cannot be downloaded here, so the "before" configuration runs on
// a stand-in of ours (testdata/standin) that writes, reads and deletes the
// secret in the Key Vault emulator as azurerm does.
//
//  0. before/: time_rotating + random_password + azurerm_key_vault_secret
//     write the password; the test creates the MongoDB user with it.
//  1. after/ (migrate.tf + main.tf): a plan without the removed blocks would
//     destroy the secret; with them it forgets the three old resources,
//     imports the binding and creates the state-only objects. After the
//     apply the secret has the same versions and value, the old resources
//     are out of the state, and the next plan is empty.
//  3. migrate.tf deleted: the plan stays empty.
//  4. rotation.tf added: the first rotation logs in with the migrated
//     password and rotates.
//  5. copy-to-consumer-vault.tf (the notifications guide): a copy written
//     with value_wo and value_wo_version = rotation_count holds the current
//     password, and a later rotation updates it in the same apply.
func TestAccMigrationGuide(t *testing.T) {
	testAccStack(t)
	testAccFirstBinaryOnly(t, "the migration guide's end-to-end run")
	t.Parallel()
	cliConfig := standinCLIConfig(t)
	cfg := testAccConfig()
	name := testAccName("acc-mig")
	vaultName, vaultURL := testAccVault()
	vault2, vault2URL := testAccVaultOf(cfg.SecondVaultURL())
	secretName, copyName, username := name+"-pw", name+"-copy", usernameFor(name)
	t.Cleanup(func() {
		testAccDeleteSecret(t, vaultURL, secretName, true)
		testAccDeleteSecret(t, vaultURL, secretName+escrowSuffix, true)
		testAccDeleteSecret(t, vault2URL, copyName, true)
	})
	kvID := func(vault string) string {
		return "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/" + vault
	}
	ws := newCLIWorkspace(t)
	ws.cliConfig = cliConfig
	dir := ws.dir

	// 0. Before.
	copyGuideFiles(t, dir, "migration/before", "main.tf")
	writeFile(t, filepath.Join(dir, "terraform.tfvars"), fmt.Sprintf("key_vault_id = %q\nsecret_name = %q\n", kvID(vaultName), secretName))
	ws.MustRun("apply", "-input=false", "-auto-approve")
	client := testAccSecretsClient(t, vaultURL)
	before, err := client.GetSecret(context.Background(), secretName, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Whatever set the password in MongoDB before (here: the test) used
	// the value random_password generated.
	testAccMongoRun(t, cfg.MongoDBURI, bson.D{{Key: "createUser", Value: username}, {Key: "pwd", Value: *before.Value}, {Key: "roles", Value: bson.A{}}})
	versionsBefore := testAccVersionIDs(t, vaultURL, secretName)

	// 1. After: first without the removed blocks, to see the danger.
	if err := os.Remove(filepath.Join(dir, "main.tf")); err != nil {
		t.Fatal(err)
	}
	copyGuideFiles(t, dir, "migration/after", "main.tf")
	writeFile(t, filepath.Join(dir, "local_override.tf"), localProviderOverride(cfg.ClientSecret))
	writeFile(t, filepath.Join(dir, "terraform.tfvars"), fmt.Sprintf(
		"tenant_id = %q\nvault_name = %q\nvault_url = %q\nsecret_name = %q\nmongodb_address = %q\nusername = %q\n",
		cfg.TenantID, vaultName, vaultURL, secretName, cfg.MongoDBHostPort(), username))
	writeFile(t, filepath.Join(dir, "old_providers.tf"), "provider \"azurerm\" {\n  features {}\n}\n")
	out := collapse(ws.MustRun("plan", "-input=false"))
	if !strings.Contains(out, "azurerm_key_vault_secret.orders_db will be destroyed") {
		t.Fatalf("without the removed blocks the plan should destroy the secret:\n%s", ftail(out, 3000))
	}
	if err := os.Remove(filepath.Join(dir, "old_providers.tf")); err != nil {
		t.Fatal(err)
	}
	copyGuideFiles(t, dir, "migration/after", "migrate.tf")
	out = collapse(ws.MustRun("plan", "-input=false", "-out=migrate.tfplan"))
	for _, want := range []string{
		"azurerm_key_vault_secret.orders_db will no longer be managed by Terraform",
		"random_password.orders_db will no longer be managed by Terraform",
		"time_rotating.orders_db will no longer be managed by Terraform",
		`segura_keyvault_sync.orders_db will be updated in-place # (imported from "` + vaultURL + `secrets/` + secretName + `")`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the migration plan should say %q:\n%s", want, ftail(out, 4000))
		}
	}
	if !regexp.MustCompile(`Plan: 1 to import, \d+ to add, \d+ to change, 0 to destroy`).MatchString(out) {
		t.Errorf("the migration plan should import one, destroy nothing:\n%s", ftail(out, 4000))
	}
	ws.MustRun("apply", "-input=false", "migrate.tfplan")
	_ = os.Remove(filepath.Join(dir, "migrate.tfplan"))
	after, err := client.GetSecret(context.Background(), secretName, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *after.Value != *before.Value || after.ID.Version() != before.ID.Version() {
		t.Fatalf("the migration changed the secret: version %s -> %s, value changed: %t", before.ID.Version(), after.ID.Version(), *after.Value != *before.Value)
	}
	if got := testAccVersionIDs(t, vaultURL, secretName); fmt.Sprint(got) != fmt.Sprint(versionsBefore) {
		t.Fatalf("the secret's versions changed: %v -> %v", versionsBefore, got)
	}
	state := ws.MustRun("state", "list")
	if strings.Contains(state, "azurerm_") || strings.Contains(state, "random_") || strings.Contains(state, "time_") ||
		!strings.Contains(state, "segura_keyvault_sync.orders_db") {
		t.Fatalf("state after the migration:\n%s", state)
	}
	if out, err := ws.Run("plan", "-input=false", "-detailed-exitcode"); exitCode(err) != 0 {
		t.Fatalf("plan after the migration: exit %d, want 0:\n%s", exitCode(err), ftail(out, 3000))
	}

	// 3. migrate.tf has done its job.
	if err := os.Remove(filepath.Join(dir, "migrate.tf")); err != nil {
		t.Fatal(err)
	}
	if out, err := ws.Run("plan", "-input=false", "-detailed-exitcode"); exitCode(err) != 0 {
		t.Fatalf("plan without migrate.tf: exit %d, want 0:\n%s", exitCode(err), ftail(out, 3000))
	}

	// 4. The first rotation, when chosen.
	copyGuideFiles(t, dir, "migration/after", "rotation.tf")
	ws.MustRun("apply", "-input=false", "-auto-approve")
	c := rotationChain{name: name, username: username, secrets: []rotationSecret{{resource: "orders_db", name: secretName, format: secretvalue.Password}}}
	old := *before.Value
	if err := c.checkConverged(t, cfg.MongoDBURI)(nil); err != nil {
		t.Fatal(err)
	}
	if err := testAccMongoLogin(cfg.MongoDBURI, username, old); !isAuthFailure(err) {
		t.Fatalf("the migrated password should no longer log in after the first rotation: %v", err)
	}

	// 5. A consumer's copy, kept in step through value_wo_version.
	copyFile := func() string {
		t.Helper()
		v, err := testAccSecretsClient(t, vault2URL).GetSecret(context.Background(), copyName, "", nil)
		if err != nil {
			t.Fatalf("reading the copy: %v", err)
		}
		return *v.Value
	}
	copyGuideFiles(t, dir, "notifications", "copy-to-consumer-vault.tf")
	writeFile(t, filepath.Join(dir, "consumer.auto.tfvars"), fmt.Sprintf("consumer_key_vault_id = %q\nconsumer_secret_name = %q\n", kvID(vault2), copyName))
	// The consumer's vault is written by azurerm, configured as usual.
	writeFile(t, filepath.Join(dir, "consumer_providers.tf"), "provider \"azurerm\" {\n  features {}\n}\n")
	ws.MustRun("apply", "-input=false", "-auto-approve")
	current := testAccSecretValue(t, c.secrets[0])
	if copyFile() != current {
		t.Fatal("the consumer's copy does not hold the current password")
	}
	if out, err := ws.Run("plan", "-input=false", "-detailed-exitcode"); exitCode(err) != 0 {
		t.Fatalf("plan with the copy: exit %d, want 0:\n%s", exitCode(err), ftail(out, 3000))
	}
	writeFile(t, filepath.Join(dir, "rotate.auto.tfvars"), "manual_rotation = \"1\"\n")
	ws.MustRun("apply", "-input=false", "-auto-approve")
	rotated := testAccSecretValue(t, c.secrets[0])
	if rotated == current || copyFile() != rotated {
		t.Fatalf("after a rotation the copy should hold the new password (rotated: %t, copy current: %t)", rotated != current, copyFile() == rotated)
	}
	if out, err := ws.Run("plan", "-input=false", "-detailed-exitcode"); exitCode(err) != 0 {
		t.Fatalf("plan after the rotation: exit %d, want 0:\n%s", exitCode(err), ftail(out, 3000))
	}
}

// testAccVersionIDs lists a secret's version ids, sorted.
func testAccVersionIDs(t *testing.T, vaultURL, name string) []string {
	t.Helper()
	var out []string
	for p := testAccSecretsClient(t, vaultURL).NewListSecretPropertiesVersionsPager(name, nil); p.More(); {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Value {
			out = append(out, v.ID.Version())
		}
	}
	sort.Strings(out)
	return out
}
