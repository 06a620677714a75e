package benchfloor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// CPU is the processor time (user + system) of a process.
type CPU struct {
	// Self is what the process's own threads used: utime + stime.
	Self time.Duration
	// Children is what its children used that it has waited for, and
	// their waited-for children in turn: cutime + cstime.
	Children time.Duration
}

// clockTick is the unit of the times in /proc/<pid>/stat: USER_HZ, which
// Linux fixes at 100 for user space whatever the kernel's HZ
// (sysconf(_SC_CLK_TCK) is 100 on every architecture Go supports).
const clockTick = 10 * time.Millisecond

// ProcessCPU reads the CPU time of process pid from /proc/<pid>/stat, so
// Linux only, in clock ticks of 10 ms. pid 0 is this process, read with
// getrusage (microseconds) instead. A zombie (exited, not yet waited for:
// see AwaitExit) still has its times, its final ones.
func ProcessCPU(pid int) (CPU, error) {
	if pid == 0 {
		var self, children syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
			return CPU{}, fmt.Errorf("process CPU: getrusage: %w", err)
		}
		if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children); err != nil {
			return CPU{}, fmt.Errorf("process CPU: getrusage: %w", err)
		}
		return CPU{Self: rusageCPU(&self), Children: rusageCPU(&children)}, nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return CPU{}, fmt.Errorf("process CPU: %w", err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime, stime, cutime and cstime, fields 14 to 17 of
// /proc/<pid>/stat (proc(5)). The second field, the command name in
// parentheses, may hold spaces and parentheses itself, so the fields are
// counted from after its last ')'.
func parseStatCPU(stat string) (CPU, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return CPU{}, fmt.Errorf("process CPU: no command name in /proc/<pid>/stat: %q", stat)
	}
	// After the name: field 3 (state) first, so field k is fields[k-3].
	fields := strings.Fields(stat[i+1:])
	if len(fields) < 15 {
		return CPU{}, fmt.Errorf("process CPU: %d fields after the command name in /proc/<pid>/stat, want at least 15", len(fields))
	}
	var ticks [4]int64
	for j := range ticks {
		v, err := strconv.ParseInt(fields[14-3+j], 10, 64)
		if err != nil {
			return CPU{}, fmt.Errorf("process CPU: field %d of /proc/<pid>/stat: %w", 14+j, err)
		}
		ticks[j] = v
	}
	return CPU{
		Self:     time.Duration(ticks[0]+ticks[1]) * clockTick,
		Children: time.Duration(ticks[2]+ticks[3]) * clockTick,
	}, nil
}

// ThreadCPU is the CPU time of the calling thread (getrusage
// RUSAGE_THREAD, Linux only). A goroutine that wants its own calls
// runtime.LockOSThread first, so that it alone runs on the thread.
func ThreadCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0, fmt.Errorf("thread CPU: getrusage: %w", err)
	}
	return rusageCPU(&ru), nil
}

// rusageCPU is the user + system time of a getrusage or wait4 result.
func rusageCPU(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// AwaitExit blocks until the child process pid has exited, without
// waiting for it (waitid with WNOWAIT): it stays a zombie, whose
// /proc/<pid>/stat ProcessCPU can still read, until exec.Cmd.Wait (or
// os.Process.Wait) reaps it. Linux only.
func AwaitExit(pid int) error {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		default:
			return fmt.Errorf("waitid %d: %w", pid, err)
		}
	}
}
