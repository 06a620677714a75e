package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/benchfloor"
)

// The benchmark lets terraform start the provider plugin as it does for
// users: one plugin process for the schema, one for validation, one per
// graph walk (a plan, an apply), so a command runs three or four. Their
// memory is sampled from /proc every 50 ms while the command runs: each
// process's high-water mark (VmHWM), the figure being the largest. Running
// the plugin once per command in debug mode and reattaching terraform to
// it was tried: one process then serves every walk of the command, and its
// peak during an apply of 100 rotations came out 20% above the largest of
// the processes terraform starts, so it does not measure real use.

// pluginRun is what runWatchingPlugins measured.
type pluginRun struct {
	elapsed   time.Duration // the terraform command's wall time
	processes int           // plugin processes terraform started
	// The largest and the smallest high-water mark of those processes: the
	// smallest only answered the schema, the plugin's base.
	peakRSS, baseRSS int64
}

// phase is the run as a phase of the benchmark.
func (r pluginRun) phase() benchPhase {
	return benchPhase{elapsed: r.elapsed, peakRSS: r.peakRSS, baseRSS: r.baseRSS, processes: r.processes}
}

// testAccPluginBinary returns the provider plugin the CLI workspaces use.
func testAccPluginBinary(tb testing.TB) string {
	tb.Helper()
	testAccPluginCLIConfig(tb)
	return filepath.Join(testAccPlugin.dir, "terraform-provider-segura")
}

// runWatchingPlugins runs terraform with args in ws and samples the memory
// of the plugin processes it starts from binary. profileDir, if not empty,
// is where each of them writes its CPU and heap profiles (profile.go;
// terraform passes its environment to its plugins).
func runWatchingPlugins(ws *cliWorkspace, binary, profileDir string, args ...string) (pluginRun, error) {
	// /proc/<pid>/exe names the binary with every symbolic link resolved.
	binary, err := filepath.EvalSymlinks(binary)
	if err != nil {
		return pluginRun{}, err
	}
	cmd := ws.command(args...)
	if profileDir != "" {
		cmd.Env = append(cmd.Env, "SEGURA_PROVIDER_PPROF_DIR="+profileDir)
	}
	stop := make(chan struct{})
	var (
		peaks map[int]int64
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		peaks = samplePlugins(binary, stop)
	}()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	run := pluginRun{elapsed: time.Since(start)}
	close(stop)
	wg.Wait()
	if err != nil {
		return run, fmt.Errorf("terraform %s: %v\n%s", args[0], err, tail(out, 6000))
	}
	run.processes = len(peaks)
	for _, p := range peaks {
		run.peakRSS = max(run.peakRSS, p)
		if run.baseRSS == 0 || p < run.baseRSS {
			run.baseRSS = p
		}
	}
	if run.processes == 0 {
		return run, fmt.Errorf("terraform %s: no plugin process of %s was seen", args[0], binary)
	}
	return run, nil
}

// samplePlugins records, every 50 ms until stop, the high-water mark of
// every process running binary, by pid. The mark only grows, so a sample
// misses at most a process's last 50 ms.
func samplePlugins(binary string, stop <-chan struct{}) map[int]int64 {
	peaks := map[int]int64{}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err != nil || exe != binary {
				continue
			}
			if m, err := benchfloor.ProcessMemory(pid); err == nil && m.Peak > peaks[pid] {
				peaks[pid] = m.Peak
			}
		}
		select {
		case <-stop:
			return peaks
		case <-tick.C:
		}
	}
}
