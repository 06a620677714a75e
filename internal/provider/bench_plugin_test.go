package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
//
// Their CPU time is not sampled but read once, exactly, when terraform
// exits: terraform waits for every plugin process it started, so its
// children's time (cutime + cstime in /proc/<pid>/stat) is theirs, and the
// benchmark reads it between terraform's exit and its reaping
// (benchfloor.AwaitExit). wait4 then gives terraform's time with its
// children's (RUSAGE_BOTH); core is that less the plugins'. (Sampling the
// plugins' CPU every 50 ms, tried first, came out 1-5% under this figure:
// it misses each process's last 50 ms.)

// pluginRun is what runWatchingPlugins measured.
type pluginRun struct {
	elapsed   time.Duration // the terraform command's wall time
	processes int           // plugin processes terraform started
	// The largest and the smallest high-water mark of those processes: the
	// smallest only answered the schema, the plugin's base.
	peakRSS, baseRSS int64
	cpu              terraformCPU
	samplerCPU       time.Duration // the sampling's own, in this process
}

// phase is the run as a phase of the benchmark.
func (r pluginRun) phase() benchPhase {
	return benchPhase{
		elapsed: r.elapsed, peakRSS: r.peakRSS, baseRSS: r.baseRSS, processes: r.processes,
		coreCPU: r.cpu.core, pluginCPU: r.cpu.plugins, samplerCPU: r.samplerCPU,
	}
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
		samples pluginSamples
		wg      sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		samples = samplePlugins(binary, stop)
	}()
	start := time.Now()
	out, cpu, err := combinedOutputCPU(cmd)
	run := pluginRun{elapsed: time.Since(start), cpu: cpu}
	close(stop)
	wg.Wait()
	if err != nil {
		return run, fmt.Errorf("terraform %s: %v\n%s", args[0], err, tail(out, 6000))
	}
	run.processes = len(samples.peaks)
	for _, p := range samples.peaks {
		run.peakRSS = max(run.peakRSS, p)
		if run.baseRSS == 0 || p < run.baseRSS {
			run.baseRSS = p
		}
	}
	run.samplerCPU = samples.self
	if run.processes == 0 {
		return run, fmt.Errorf("terraform %s: no plugin process of %s was seen", args[0], binary)
	}
	return run, nil
}

// terraformCPU is the CPU time of a terraform command: of the terraform
// process itself (core) and of the plugin processes it started.
type terraformCPU struct {
	core, plugins time.Duration
}

// combinedOutputCPU is cmd.CombinedOutput that also returns the command's
// CPU time: plugins, the time of the children terraform waited for, read
// from /proc once it has exited and before it is reaped; core, what wait4
// reports for terraform and those children together, less theirs. It
// expects cmd's stdout and stderr not set.
func combinedOutputCPU(cmd *exec.Cmd) ([]byte, terraformCPU, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, terraformCPU{}, err
	}
	var exited benchfloor.CPU
	cpuErr := benchfloor.AwaitExit(cmd.Process.Pid)
	if cpuErr == nil {
		exited, cpuErr = benchfloor.ProcessCPU(cmd.Process.Pid)
	}
	err := cmd.Wait()
	var cpu terraformCPU
	if cmd.ProcessState != nil {
		total := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		cpu = terraformCPU{core: max(total-exited.Children, 0), plugins: exited.Children}
	}
	if err == nil && cpuErr != nil {
		err = fmt.Errorf("reading its CPU time: %w", cpuErr)
	}
	return out.Bytes(), cpu, err
}

// pluginSamples is what samplePlugins saw, by pid.
type pluginSamples struct {
	peaks map[int]int64 // the high-water mark of resident memory
	self  time.Duration // the sampling's own CPU time
}

// samplePlugins records, every 50 ms until stop, the high-water mark of
// every process running binary, by pid. The mark only grows, so a sample
// misses at most a process's last 50 ms. Reading
// /proc costs this process about 20 ms of CPU a second; the sampler runs
// on a thread of its own to measure it (self), which the benchmark takes
// off this process's figure.
func samplePlugins(binary string, stop <-chan struct{}) pluginSamples {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, startErr := benchfloor.ThreadCPU()
	s := pluginSamples{peaks: map[int]int64{}}
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
			if m, err := benchfloor.ProcessMemory(pid); err == nil && m.Peak > s.peaks[pid] {
				s.peaks[pid] = m.Peak
			}
		}
		select {
		case <-stop:
			if end, err := benchfloor.ThreadCPU(); err == nil && startErr == nil {
				s.self = end - start
			}
			return s
		case <-tick.C:
		}
	}
}
