package provider

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
)

// terraformVersionLine names the terraform binary at path with its version,
// as "terraform 1.15.9 (/path/to/terraform)", so that TestMain can say which
// Terraform the acceptance tests run on (make test runs them on each binary
// of SEGURA_TEST_TERRAFORM). It asks `<path> version -json`, else takes the
// first line of `<path> version`; when neither answers, the version reads
// "version unknown: <error>".
func terraformVersionLine(path string) string {
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(path, args...)
		// No update check over the network; stdout only, since a missing
		// CLI configuration file makes every command warn on stderr.
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
		return cmd.Output()
	}
	version := ""
	out, err := run("version", "-json")
	if err == nil {
		var v struct {
			TerraformVersion string `json:"terraform_version"`
		}
		if json.Unmarshal(out, &v) == nil {
			version = v.TerraformVersion
		}
	}
	if version == "" {
		var plain []byte
		if plain, err = run("version"); err == nil {
			first, _, _ := strings.Cut(string(plain), "\n")
			version = strings.TrimPrefix(strings.TrimSpace(first), "Terraform v")
		}
	}
	switch {
	case err != nil:
		version = "version unknown: " + err.Error()
	case version == "":
		version = "version unknown: no version in its output"
	}
	return "terraform " + version + " (" + path + ")"
}
