package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Some behaviour needs the terraform CLI driven by hand rather than through
// terraform-plugin-testing: a saved plan applied later (as CI does), two
// working directories at once, a benchmark. cliWorkspace runs the real
// terraform binary (or OpenTofu's tofu: TF_ACC_TERRAFORM_PATH) against the
// provider built as a plugin binary and installed with dev_overrides.

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
		// Not tb.TempDir: the binary is shared by every test of the package
		// and removed by TestMain.
		if p.dir, p.err = os.MkdirTemp("", "segura-plugin-"); p.err != nil { //nolint:usetesting
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(p.dir, "terraform-provider-segura"), ".")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			p.err = fmt.Errorf("building the provider: %v\n%s", err, out)
			return
		}
		// Both registries' addresses of the provider: source =
		// "segura-community/segura" means the first on Terraform and the
		// second on OpenTofu, and a source pinned to either works on both.
		p.cliConfig = filepath.Join(p.dir, "terraformrc")
		p.err = os.WriteFile(p.cliConfig, []byte(fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/segura-community/segura" = %[1]q
    "registry.opentofu.org/segura-community/segura" = %[1]q
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
	w := &cliWorkspace{tb: tb, dir: tb.TempDir(), cliConfig: testAccPluginCLIConfig(tb)}
	// Before the directory goes: no recorded password may be in its state.
	tb.Cleanup(func() {
		files, _ := filepath.Glob(filepath.Join(w.dir, "*.tfstate*"))
		for _, f := range files {
			if data, err := os.ReadFile(f); err == nil && leakedIn(data) > 0 {
				tb.Errorf("secret hygiene: %s holds %d recorded password(s)", filepath.Base(f), leakedIn(data))
			}
		}
	})
	return w
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

// command is terraform with args in the workspace. With TRACE logging on
// (hygiene_test.go), the CLI and the plugin log to a file the hygiene scan
// searches.
func (w *cliWorkspace) command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), append(args, "-no-color")...)
	cmd.Dir = w.dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+w.cliConfig, "TF_IN_AUTOMATION=1")
	if hygieneLogDir != "" {
		name := fmt.Sprintf("cli-%s-%d.log", strings.ReplaceAll(w.tb.Name(), "/", "_"), cliRuns.Add(1))
		cmd.Env = append(cmd.Env, "TF_LOG=TRACE", "TF_LOG_PATH="+filepath.Join(hygieneLogDir, name))
	} else {
		cmd.Env = append(cmd.Env, "TF_LOG=", "TF_LOG_PATH=")
	}
	return cmd
}

// Run runs terraform with args in the workspace and returns its combined
// output.
func (w *cliWorkspace) Run(args ...string) (string, error) {
	cmd := w.command(args...)
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

// cliProcess is a terraform command running in the background (Start).
type cliProcess struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// Start runs terraform with args in the background, as Run does, in a
// process group of its own: the provider plugin terraform starts joins the
// group, so Kill stops both at once, as a crash of the CI runner would.
func (w *cliWorkspace) Start(args ...string) *cliProcess {
	w.tb.Helper()
	cmd := w.command(args...)
	p := &cliProcess{cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.tb.Fatalf("terraform %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	w.tb.Cleanup(func() { p.Kill(); <-p.done })
	return p
}

// Exited reports whether the command has finished.
func (p *cliProcess) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the command and returns its combined output.
func (p *cliProcess) Wait() (string, error) {
	<-p.done
	return p.out.String(), p.err
}

// Kill sends SIGKILL to terraform's whole process group (terraform and the
// provider plugin) and waits until none of it is left.
func (p *cliProcess) Kill() {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	for i := 0; i < 100 && syscall.Kill(-pgid, 0) == nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

// GroupAlive reports whether any process of the command's group (the
// plugin, say) is still running.
func (p *cliProcess) GroupAlive() bool { return syscall.Kill(-p.cmd.Process.Pid, 0) == nil }
