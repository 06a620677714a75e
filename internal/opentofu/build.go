// Package opentofu builds OpenTofu from its Go module, once per machine, so
// that the acceptance tests can run on tofu as well as on terraform (nothing
// but Go modules can be downloaded on the machines that run them). Like
// internal/ferretdb it keeps the binary in the user cache and builds under a
// file lock, so parallel test packages and CI steps build it once.
package opentofu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/segura-community/terraform-provider-segura/internal/modbuild"
)

// Version is the OpenTofu release the test suite runs on. Its Go module is
// fetched through the module proxy like any other dependency.
const Version = "v1.12.6"

const modulePath = "github.com/opentofu/opentofu"

// ldflags make the build report Version: without them OpenTofu built from
// source says v1.12.6-dev.
const ldflags = "-s -w -X " + modulePath + "/version.dev=no"

var build = modbuild.Spec{
	Name: "OpenTofu", Module: modulePath, Version: Version, CacheName: "opentofu-" + Version,
	Command: "tofu", Package: "./cmd/tofu", LDFlags: ldflags, Check: checkVersion,
}

// CacheDir is where the built binary is kept between runs: outside the
// repository, beside the FerretDB build. SEGURA_CACHE_DIR overrides it.
func CacheDir() (string, error) { return build.CacheDir() }

// Binary returns the path of a tofu binary of Version, building it on first
// use, once per machine (internal/modbuild).
func Binary(ctx context.Context) (string, error) { return build.Binary(ctx) }

// checkVersion runs `tofu version -json` and wants Version, not a -dev build.
func checkVersion(ctx context.Context, bin string) error {
	cmd := exec.CommandContext(ctx, bin, "version", "-json")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run the OpenTofu build (%s version -json): %w", bin, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	// OpenTofu prints CLI configuration warnings (a TF_CLI_CONFIG_FILE that
	// does not exist, as on the CI machines) on stdout, before the JSON.
	out := stdout.Bytes()
	if i := bytes.Index(out, []byte("\n{")); !bytes.HasPrefix(out, []byte("{")) && i >= 0 {
		out = out[i+1:]
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return fmt.Errorf("read %s version -json: %w", bin, err)
	}
	if want := strings.TrimPrefix(Version, "v"); v.Version != want {
		return fmt.Errorf("the OpenTofu build reports version %q, want %q", v.Version, want)
	}
	return nil
}
