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

// terraformAtLeast reports whether the terraform the acceptance tests drive
// (TF_ACC_TERRAFORM_PATH) is at least major.minor, and its version line.
func terraformAtLeast(major, minor int) (bool, string) {
	line := terraformVersionLine(os.Getenv("TF_ACC_TERRAFORM_PATH"))
	var got [2]int
	v := strings.TrimPrefix(line, "terraform ")
	v, _, _ = strings.Cut(v, " ")
	parts := strings.SplitN(v, ".", 3)
	for i := 0; i < 2 && i < len(parts); i++ {
		n := 0
		for _, c := range parts[i] {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		got[i] = n
	}
	return got[0] > major || (got[0] == major && got[1] >= minor), line
}
