package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/benchfloor"
)

// The floor the benchmark compares the provider with has two parts: the
// SDK calls a rotation cannot do without (package benchfloor, run as a
// process of its own so its memory is measured as the plugin's is), and
// what Terraform itself costs for a graph of the same shape
// (terraform_data resources, Terraform's built-in provider: no plugin).

// buildBenchFloor builds the benchfloor command into dir.
func buildBenchFloor(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "benchfloor")
	build := exec.Command("go", "build", "-o", bin, "./internal/benchfloor/cmd/benchfloor")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("building the benchmark floor: %v\n%s", err, out)
	}
	return bin
}

// runBenchFloor runs one floor job in its own process and returns its
// result and the process's CPU time (user + system, from wait4); any
// failed credential is an error listing them all.
func runBenchFloor(bin string, job benchfloor.Job) (benchfloor.Result, time.Duration, error) {
	in, err := json.Marshal(job)
	if err != nil {
		return benchfloor.Result{}, 0, err
	}
	cmd := exec.Command(bin)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var (
		res benchfloor.Result
		cpu time.Duration
	)
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if runErr != nil {
		return res, cpu, fmt.Errorf("floor %s: %v\n%s", job.Op, runErr, tail(stderr.Bytes(), 6000))
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, cpu, fmt.Errorf("floor %s: reading its result: %v\n%s", job.Op, err, tail(stdout.Bytes(), 2000))
	}
	if res.Memory.Peak == 0 {
		return res, cpu, fmt.Errorf("floor %s: no memory figures:\n%s", job.Op, tail(stderr.Bytes(), 2000))
	}
	return res, cpu, nil
}

// benchFloorConfig is the floor's view of the stack: MongoDB through the
// counting proxy, the first vault, the stack's full-access client.
func benchFloorConfig(mongoAddr, vaultURL string) benchfloor.Config {
	c := testAccConfig()
	return benchfloor.Config{
		MongoDBAddress:                       mongoAddr,
		VaultURL:                             vaultURL,
		TenantID:                             c.TenantID,
		ClientID:                             c.ClientID,
		ClientSecret:                         c.ClientSecret,
		AuthorityHost:                        c.AuthorityHost,
		CACertFile:                           c.CACertFile,
		DisableChallengeResourceVerification: testAccEnv.Local,
		Parallelism:                          benchfloor.DefaultParallelism,
		Timeout:                              5 * time.Second,
	}
}

// benchDataHCL is the provider configuration's graph with terraform_data
// in place of every segura resource: 3N+4 resources, each taking its
// upstreams' ids, so Terraform walks the same dependencies.
func benchDataHCL(users []string) string {
	quoted := make([]string, len(users))
	for i, u := range users {
		quoted[i] = fmt.Sprintf("%q", u)
	}
	return fmt.Sprintf(`
locals {
  users = toset([%s])
}

resource "terraform_data" "device" {
  input = "bench"
}

resource "terraform_data" "credential" {
  for_each = local.users
  input    = [terraform_data.device.id, each.key]
}

resource "terraform_data" "scope" {
  input = "bench"
}

resource "terraform_data" "application" {
  input = terraform_data.scope.id
}

resource "terraform_data" "keyvault_sync" {
  for_each = local.users
  input    = [terraform_data.credential[each.key].id, terraform_data.application.id]
}

resource "terraform_data" "policy" {
  input = "bench"
}

resource "terraform_data" "rotation" {
  for_each = local.users
  input    = [terraform_data.credential[each.key].id, terraform_data.policy.id, terraform_data.keyvault_sync[each.key].id]
}
`, strings.Join(quoted, ", "))
}

// writeBenchData writes the terraform_data configuration into ws, with no
// required_providers: terraform starts no plugin for it.
func writeBenchData(tb testing.TB, ws *cliWorkspace, users []string) {
	tb.Helper()
	if err := os.WriteFile(filepath.Join(ws.dir, "main.tf"), []byte(benchDataHCL(users)), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// runTerraform runs terraform in ws (terraform starts what plugins it
// needs) and returns the wall time and the CPU time.
func runTerraform(ws *cliWorkspace, args ...string) (time.Duration, terraformCPU, error) {
	start := time.Now()
	out, cpu, err := combinedOutputCPU(ws.command(args...))
	if err != nil {
		return 0, cpu, fmt.Errorf("terraform %s: %v\n%s", args[0], err, tail(out, 6000))
	}
	return time.Since(start), cpu, nil
}
