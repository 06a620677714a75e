package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// terraformCLI is the terraform-compatible binary the acceptance tests drive
// (TF_ACC_TERRAFORM_PATH): Terraform or OpenTofu. make test runs them on
// each binary of its matrix.
type terraformCLI struct {
	Path string
	// Product is "terraform" or "tofu" (the first word of `version`).
	Product string
	// Version is the version number, "1.15.9"; empty when unknown, with
	// Err saying why.
	Version string
	Err     string
}

// String names the binary with its version, as "terraform 1.15.9
// (/path/to/terraform)" or "tofu 1.12.6 (/path/to/tofu)".
func (c terraformCLI) String() string {
	v := c.Version
	if v == "" {
		v = "version unknown: " + c.Err
	}
	return c.Product + " " + v + " (" + c.Path + ")"
}

// OpenTofu reports whether the binary is OpenTofu.
func (c terraformCLI) OpenTofu() bool { return c.Product == "tofu" }

var terraformCLIs sync.Map // path -> terraformCLI

// describeTerraformCLI asks the binary at path for its version: `version
// -json` for the number, the first line of `version` ("Terraform v1.11.4",
// "OpenTofu v1.12.6") for the product. Answers are cached per path.
func describeTerraformCLI(path string) terraformCLI {
	if c, ok := terraformCLIs.Load(path); ok {
		if cli, ok := c.(terraformCLI); ok {
			return cli
		}
	}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(path, args...)
		// No update check over the network. Terraform warns about a missing
		// CLI configuration file on stderr; OpenTofu on stdout, before the
		// answer, so both outputs are searched rather than parsed whole.
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
		return cmd.Output()
	}
	c := terraformCLI{Path: path, Product: "terraform"}
	plain, err := run("version")
	if err != nil {
		c.Err = err.Error()
		terraformCLIs.Store(path, c)
		return c
	}
	for _, line := range strings.Split(string(plain), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "OpenTofu v"); ok {
			c.Product, c.Version = "tofu", v
			break
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Terraform v"); ok {
			c.Version = v
			break
		}
	}
	if out, err := run("version", "-json"); err == nil {
		if i := bytes.Index(out, []byte("\n{")); !bytes.HasPrefix(out, []byte("{")) && i >= 0 {
			out = out[i+1:]
		}
		var v struct {
			TerraformVersion string `json:"terraform_version"`
		}
		if json.Unmarshal(out, &v) == nil && v.TerraformVersion != "" {
			c.Version = v.TerraformVersion
		}
	}
	if c.Version == "" {
		c.Err = "no version in its output"
	}
	terraformCLIs.Store(path, c)
	return c
}

// testAccCLI describes the binary the acceptance tests drive.
func testAccCLI() terraformCLI { return describeTerraformCLI(os.Getenv("TF_ACC_TERRAFORM_PATH")) }

// terraformAtLeast reports whether the binary the acceptance tests drive
// (TF_ACC_TERRAFORM_PATH) is at least major.minor, and its version line.
// OpenTofu's version numbers are compared as they are: OpenTofu 1.12 has
// what Terraform 1.12 has that this provider uses (write-only attributes,
// ephemeral resources, resource identity), and neither actions nor list
// resources, which need Terraform 1.14.
func terraformAtLeast(major, minor int) (bool, string) {
	c := testAccCLI()
	var got [2]int
	parts := strings.SplitN(c.Version, ".", 3)
	for i := 0; i < 2 && i < len(parts); i++ {
		n := 0
		for _, ch := range parts[i] {
			if ch < '0' || ch > '9' {
				break
			}
			n = n*10 + int(ch-'0')
		}
		got[i] = n
	}
	return got[0] > major || (got[0] == major && got[1] >= minor), c.String()
}

// testAccFirstBinaryOnly skips t on every run of make test's binary matrix
// but the first (SEGURA_TEST_MATRIX_RUN > 1): for the long tests whose
// subject is the rotation engine or a guide rather than the terraform
// binary. Run by hand (no SEGURA_TEST_MATRIX_RUN), they always run.
func testAccFirstBinaryOnly(t *testing.T, what string) {
	t.Helper()
	if reason := firstBinaryOnly(what); reason != "" {
		t.Skip(reason)
	}
}

// firstBinaryOnly returns why a first-binary-only test does not run here,
// or "" when it does.
func firstBinaryOnly(what string) string {
	if n, err := strconv.Atoi(os.Getenv("SEGURA_TEST_MATRIX_RUN")); err == nil && n > 1 {
		return fmt.Sprintf("%s runs on the first binary of make test's matrix only (this is run %d, %s): it tests the rotation engine or a guide, not the binary", what, n, testAccCLI())
	}
	return ""
}
