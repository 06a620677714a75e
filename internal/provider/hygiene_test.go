package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Secret hygiene (DESIGN.md §2): no password may appear in state, plan or
// logs. Tests record every password they see (rotated ones read back from
// Key Vault, bootstrap inputs, client secrets); plan and state checks search
// for them as they go, and after the whole package has run, every
// TF_LOG=TRACE log the suite wrote is searched too.

var recordedSecrets struct {
	mu     sync.Mutex
	values map[string]bool
}

// testAccRecordSecret adds a value that must never appear in state, plan
// or logs.
func testAccRecordSecret(value string) {
	if len(value) < 8 { // too short to search for without false hits
		return
	}
	recordedSecrets.mu.Lock()
	defer recordedSecrets.mu.Unlock()
	if recordedSecrets.values == nil {
		recordedSecrets.values = map[string]bool{}
	}
	recordedSecrets.values[value] = true
}

// leakedIn reports how many recorded secrets occur in data.
func leakedIn(data []byte) int {
	recordedSecrets.mu.Lock()
	defer recordedSecrets.mu.Unlock()
	n := 0
	for v := range recordedSecrets.values {
		if bytes.Contains(data, []byte(v)) {
			n++
		}
	}
	return n
}

func azsecretsSet(value string) azsecrets.SetSecretParameters {
	return azsecrets.SetSecretParameters{Value: &value}
}

type planHygiene struct{}

// testAccPlanHygiene searches the plan's JSON (terraform show -json) for
// every recorded secret.
func testAccPlanHygiene() plancheck.PlanCheck { return planHygiene{} }

func (planHygiene) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	data, err := json.Marshal(req.Plan)
	if err != nil {
		resp.Error = err
		return
	}
	if n := leakedIn(data); n > 0 {
		resp.Error = fmt.Errorf("the plan JSON holds %d recorded password(s)", n)
	}
}

// testAccStateHygiene searches the state (as terraform show -json gives it)
// for every recorded secret.
func testAccStateHygiene() resource.TestCheckFunc {
	return func(s *terraform.State) error {
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if n := leakedIn(data); n > 0 {
			return fmt.Errorf("the state holds %d recorded password(s)", n)
		}
		return nil
	}
}

// hygieneLogDir is where TRACE logs go; empty when tracing is off. Tests
// that run the terraform CLI themselves (cli_test.go) log there too.
var hygieneLogDir string

// startHygieneLogs turns on TRACE logging of Terraform and of the provider
// into one file per test under dir. SEGURA_TEST_TRACE_LOGS=off skips it
// (for quicker local runs); make test keeps it on.
func startHygieneLogs(dir string) (bool, error) {
	if os.Getenv("SEGURA_TEST_TRACE_LOGS") == "off" {
		return false, nil
	}
	hygieneLogDir = dir
	for k, v := range map[string]string{
		"TF_LOG":           "TRACE", // the provider, served in-process
		"TF_ACC_LOG":       "TRACE", // the terraform CLI
		"TF_LOG_PATH_MASK": filepath.Join(dir, "%s.log"),
		// Keep every test's working directory, state files included, for
		// the scan after the package.
		"TF_ACC_TEMP_DIR":            dir,
		"TF_ACC_PERSIST_WORKING_DIR": "1",
	} {
		if err := os.Setenv(k, v); err != nil {
			return false, err
		}
	}
	return true, nil
}

// checkHygieneLogs searches every file under dir (TRACE logs, and the
// state files of every kept working directory) for every recorded secret.
// It names the files, never the secrets.
func checkHygieneLogs(dir string) error {
	var leaks []string
	var files, size int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		// Logs and state; not the inputs the tests wrote themselves (a
		// bootstrap password in a .tfvars.json is the test's own input).
		if name := d.Name(); !strings.HasSuffix(name, ".log") && !strings.Contains(name, ".tfstate") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		size += int64(len(data))
		if n := leakedIn(data); n > 0 {
			rel, _ := filepath.Rel(dir, p)
			leaks = append(leaks, fmt.Sprintf("%s (%d secret(s))", rel, n))
		}
		return nil
	})
	if err != nil {
		return err
	}
	recordedSecrets.mu.Lock()
	count := len(recordedSecrets.values)
	recordedSecrets.mu.Unlock()
	summary := fmt.Sprintf("secret hygiene: searched %d file(s) (TRACE logs, state files), %d MiB, for %d recorded password(s): %d leak(s)\n",
		files, size>>20, count, len(leaks))
	fmt.Fprint(os.Stderr, summary)
	writeTestReport(nil, "secret-hygiene.txt", summary)
	if len(leaks) > 0 {
		sort.Strings(leaks)
		return fmt.Errorf("recorded passwords found in logs: %v", leaks)
	}
	return nil
}

// writeTestReport saves a summary into $SEGURA_TEST_REPORT_DIR, when set, so
// that make test can show it: go test prints a passing package's output only
// with -v.
func writeTestReport(t *testing.T, name, text string) {
	dir := os.Getenv("SEGURA_TEST_REPORT_DIR")
	if dir == "" {
		return
	}
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	if err != nil {
		if t != nil {
			t.Errorf("writing the %s report: %v", name, err)
		} else {
			fmt.Fprintf(os.Stderr, "writing the %s report: %v\n", name, err)
		}
	}
}
