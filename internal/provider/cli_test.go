package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Some behaviour needs the terraform CLI driven by hand rather than through
// terraform-plugin-testing: a saved plan applied later (as CI does), two
// working directories at once, a benchmark. cliWorkspace runs the real
// terraform binary against the provider built as a plugin binary and
// installed with dev_overrides.

var testAccPlugin struct {
	once      sync.Once
	dir       string // holds terraform-provider-segura and the CLI config
	cliConfig string
	err       error
}

// testAccPluginCLIConfig builds the provider once per test binary and
// returns the CLI configuration file that installs it.
func testAccPluginCLIConfig(tb testing.TB) string {
	tb.Helper()
	p := &testAccPlugin
	p.once.Do(func() {
		if p.dir, p.err = os.MkdirTemp("", "segura-plugin-"); p.err != nil {
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(p.dir, "terraform-provider-segura"), ".")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			p.err = fmt.Errorf("building the provider: %v\n%s", err, out)
			return
		}
		p.cliConfig = filepath.Join(p.dir, "terraformrc")
		p.err = os.WriteFile(p.cliConfig, []byte(fmt.Sprintf(`provider_installation {
  dev_overrides {
    "segura-community/segura" = %q
  }
  direct {}
}
`, p.dir)), 0o600)
	})
	if p.err != nil {
		tb.Fatal(p.err)
	}
	return p.cliConfig
}

// removeTestAccPlugin deletes the built provider; TestMain calls it.
func removeTestAccPlugin() {
	if testAccPlugin.dir != "" {
		os.RemoveAll(testAccPlugin.dir)
	}
}

type cliWorkspace struct {
	tb        testing.TB
	dir       string
	cliConfig string
}

var cliRuns atomic.Int64

func newCLIWorkspace(tb testing.TB) *cliWorkspace {
	tb.Helper()
	return &cliWorkspace{tb: tb, dir: tb.TempDir(), cliConfig: testAccPluginCLIConfig(tb)}
}

// Write replaces the workspace's configuration.
func (w *cliWorkspace) Write(hcl string) {
	w.tb.Helper()
	hcl = `terraform {
  required_providers {
    segura = { source = "segura-community/segura" }
  }
}
` + hcl
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(hcl), 0o600); err != nil {
		w.tb.Fatal(err)
	}
}

// Run runs terraform with args in the workspace and returns its combined
// output. With TRACE logging on (hygiene_test.go), the CLI and the plugin log
// to a file the hygiene scan searches.
func (w *cliWorkspace) Run(args ...string) (string, error) {
	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), append(args, "-no-color")...)
	cmd.Dir = w.dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+w.cliConfig, "TF_IN_AUTOMATION=1")
	if hygieneLogDir != "" {
		name := fmt.Sprintf("cli-%s-%d.log", strings.ReplaceAll(w.tb.Name(), "/", "_"), cliRuns.Add(1))
		cmd.Env = append(cmd.Env, "TF_LOG=TRACE", "TF_LOG_PATH="+filepath.Join(hygieneLogDir, name))
	} else {
		cmd.Env = append(cmd.Env, "TF_LOG=", "TF_LOG_PATH=")
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustRun is Run that fails the test on error.
func (w *cliWorkspace) MustRun(args ...string) string {
	w.tb.Helper()
	out, err := w.Run(args...)
	if err != nil {
		w.tb.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, tail([]byte(out), 6000))
	}
	return out
}
