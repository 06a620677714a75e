// Package ferretdb builds and runs FerretDB, a MongoDB-wire-protocol server
// with real SCRAM authentication, as the local stand-in for MongoDB in tests
// and the quickstart. It is never used against production databases.
package ferretdb

import (
	"context"
	"os"
	"path/filepath"

	"github.com/segura-community/terraform-provider-segura/internal/modbuild"
)

// Version is the FerretDB release the local stack runs. Its Go module is
// fetched through the module proxy like any other dependency.
const Version = "v1.24.2"

const modulePath = "github.com/FerretDB/FerretDB"

// build is FerretDB's build from its module: its module zip lacks
// build/version/version.txt, which the build embeds, so it is written first.
var build = modbuild.Spec{
	Name: "FerretDB", Module: modulePath, Version: Version, CacheName: "ferretdb-" + Version,
	Command: "ferretdb", Package: "./cmd/ferretdb",
	Prepare: func(src string) error {
		return os.WriteFile(filepath.Join(src, "build", "version", "version.txt"), []byte(Version+"\n"), 0o644)
	},
}

// CacheDir is where the built binary is kept between runs: outside the
// repository, shared by every test package and the devstack command.
// SEGURA_CACHE_DIR overrides it.
func CacheDir() (string, error) { return build.CacheDir() }

// Binary returns the path of a FerretDB binary, building it on first use,
// once per machine (internal/modbuild).
func Binary(ctx context.Context) (string, error) { return build.Binary(ctx) }
