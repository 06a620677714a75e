// Package modbuild builds a command from a Go module, once per machine, into
// the user cache: the local stand-ins (FerretDB) and the test binaries
// (OpenTofu) that nothing but the Go module proxy can bring to the machines
// that run the tests. Concurrent callers (go test runs packages in parallel,
// make test builds in the background) serialise on a file lock, and the
// binary appears by an atomic rename, so it is built once and never read
// half-written.
package modbuild

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

// Spec is one command to build from a module.
type Spec struct {
	// Name names the program in errors, e.g. "FerretDB".
	Name string
	// Module and Version are the Go module and its version, e.g.
	// "github.com/FerretDB/FerretDB" and "v1.24.2".
	Module, Version string
	// CacheName is the directory in the cache, e.g. "ferretdb-v1.24.2".
	CacheName string
	// Command is the binary's file name and Package the package to build,
	// relative to the module's root: "ferretdb", "./cmd/ferretdb".
	Command, Package string
	// LDFlags, when set, are passed to go build.
	LDFlags string
	// Prepare, when set, adjusts the copied source tree before the build
	// (e.g. writes a file the module zip lacks).
	Prepare func(src string) error
	// Check, when set, is run on the built binary before it is kept.
	Check func(ctx context.Context, bin string) error
}

// CacheDir is where s's binary is kept between runs: outside the
// repository, shared by every test package and command. SEGURA_CACHE_DIR
// overrides the base.
func (s Spec) CacheDir() (string, error) {
	if dir := os.Getenv("SEGURA_CACHE_DIR"); dir != "" {
		return filepath.Join(dir, s.CacheName), nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory for the %s build (set SEGURA_CACHE_DIR): %w", s.Name, err)
	}
	return filepath.Join(base, "terraform-provider-segura", s.CacheName), nil
}

// Binary returns the path of s's binary, building it on first use.
func (s Spec) Binary(ctx context.Context) (string, error) {
	dir, err := s.CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, s.Command)
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s cache directory %s: %w", s.Name, dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("open %s build lock: %w", s.Name, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s build: %w", s.Name, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway
	if isExecutable(bin) {                               // another process built it while we waited
		return bin, nil
	}
	if err := s.build(ctx, dir, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// build copies the module out of the module cache (read-only there, and a
// module whose go.mod has replace directives cannot be built with go
// install module@version), builds Package, checks it and renames it to bin.
func (s Spec) build(ctx context.Context, cacheDir, bin string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building %s needs the go command: put Go on PATH", s.Name)
	}
	work, err := os.MkdirTemp(cacheDir, "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	download := exec.CommandContext(ctx, goBin, "mod", "download", "-json", s.Module+"@"+s.Version)
	download.Dir = work
	download.Env = append(os.Environ(), "GO111MODULE=on", "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := download.Output()
	if err != nil {
		return fmt.Errorf("download %s %s through the Go module proxy: %w%s", s.Name, s.Version, err, stderrOf(err))
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return fmt.Errorf("read `go mod download` output for %s: %w", s.Name, err)
	}
	if mod.Error != "" || mod.Dir == "" {
		return fmt.Errorf("download %s %s: %s", s.Name, s.Version, mod.Error)
	}
	src := filepath.Join(work, "src")
	if err := copyTree(mod.Dir, src); err != nil {
		return fmt.Errorf("copy the %s module out of the module cache: %w", s.Name, err)
	}
	if s.Prepare != nil {
		if err := s.Prepare(src); err != nil {
			return fmt.Errorf("prepare the %s source: %w", s.Name, err)
		}
	}
	args := []string{"build", "-trimpath"}
	if s.LDFlags != "" {
		args = append(args, "-ldflags", s.LDFlags)
	}
	tmpBin := filepath.Join(work, s.Command)
	compile := exec.CommandContext(ctx, goBin, append(args, "-o", tmpBin, s.Package)...)
	compile.Dir = src
	// go build downloads the modules the command needs, and no more.
	compile.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod -buildvcs=false", "CGO_ENABLED=0")
	if out, err := compile.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s %s: %w\n%s", s.Name, s.Version, err, out)
	}
	if s.Check != nil {
		if err := s.Check(ctx, tmpBin); err != nil {
			return err
		}
	}
	// Rename is atomic: a reader sees either no binary or a whole one.
	return os.Rename(tmpBin, bin)
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
