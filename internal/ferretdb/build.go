// Package ferretdb builds and runs FerretDB, a MongoDB-wire-protocol server
// with real SCRAM authentication, as the local stand-in for MongoDB in tests
// and the quickstart. It is never used against production databases.
package ferretdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// Version is the FerretDB release the local stack runs. Its Go module is
// fetched through the module proxy like any other dependency.
const Version = "v1.24.2"

const modulePath = "github.com/FerretDB/FerretDB"

// CacheDir is where the built binary is kept between runs: outside the
// repository, shared by every test package and the devstack command.
// SEGURA_CACHE_DIR overrides it.
func CacheDir() (string, error) {
	if dir := os.Getenv("SEGURA_CACHE_DIR"); dir != "" {
		return filepath.Join(dir, "ferretdb-"+Version), nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory for the FerretDB build (set SEGURA_CACHE_DIR): %w", err)
	}
	return filepath.Join(base, "terraform-provider-segura", "ferretdb-"+Version), nil
}

// Binary returns the path of a FerretDB binary, building it on first use.
// Concurrent callers (go test runs packages in parallel) serialise on a file
// lock, so the module is built once per machine.
func Binary(ctx context.Context) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ferretdb")
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create FerretDB cache directory %s: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("open FerretDB build lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock FerretDB build: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway
	if isExecutable(bin) {                               // another process built it while we waited
		return bin, nil
	}
	if err := build(ctx, dir, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// build copies the FerretDB module out of the module cache, adds the
// build/version/version.txt file its module zip lacks, and builds
// ./cmd/ferretdb into bin.
func build(ctx context.Context, cacheDir, bin string) error {
	goBin, err := goCommand()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(cacheDir, "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	download := exec.CommandContext(ctx, goBin, "mod", "download", "-json", modulePath+"@"+Version)
	download.Dir = work
	download.Env = append(os.Environ(), "GO111MODULE=on", "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := download.Output()
	if err != nil {
		return fmt.Errorf("download FerretDB %s through the Go module proxy: %w%s", Version, err, stderrOf(err))
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return fmt.Errorf("read `go mod download` output for FerretDB: %w", err)
	}
	if mod.Error != "" || mod.Dir == "" {
		return fmt.Errorf("download FerretDB %s: %s", Version, mod.Error)
	}

	src := filepath.Join(work, "src")
	if err := copyTree(mod.Dir, src); err != nil {
		return fmt.Errorf("copy FerretDB module out of the module cache: %w", err)
	}
	versionFile := filepath.Join(src, "build", "version", "version.txt")
	if err := os.WriteFile(versionFile, []byte(Version+"\n"), 0o644); err != nil {
		return fmt.Errorf("write FerretDB version file: %w", err)
	}

	tmpBin := filepath.Join(work, "ferretdb")
	compile := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", tmpBin, "./cmd/ferretdb")
	compile.Dir = src
	compile.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod -buildvcs=false", "CGO_ENABLED=0")
	if out, err := compile.CombinedOutput(); err != nil {
		return fmt.Errorf("build FerretDB %s: %w\n%s", Version, err, out)
	}
	// Rename is atomic: a reader sees either no binary or a whole one.
	return os.Rename(tmpBin, bin)
}

// goCommand finds the go tool on PATH.
func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	return "", errors.New("building FerretDB needs the go command: put Go on PATH")
}

func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		// The module cache is read-only; the copy must be writable.
		return os.WriteFile(target, data, 0o644)
	})
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0
}

func stderrOf(err error) string {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && len(exitErr.Stderr) > 0 {
		return "\n" + string(exitErr.Stderr)
	}
	return ""
}
