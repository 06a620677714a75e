package benchfloor

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's resident memory, in bytes.
type Memory struct {
	Peak    int64 `json:"peak"`    // the most it has had resident (VmHWM)
	Current int64 `json:"current"` // resident now (VmRSS)
}

// ProcessMemory reads the resident memory of process pid (0: this
// process) from /proc/<pid>/status, so Linux only. Peak is read from /proc
// rather than from the ru_maxrss that wait4 reports because Go starts
// processes with vfork, and Linux carries the parent's high-water mark into
// the child's ru_maxrss at exec: a child of a large test binary would seem
// as large as its parent.
func ProcessMemory(pid int) (Memory, error) {
	proc := "self"
	if pid != 0 {
		proc = strconv.Itoa(pid)
	}
	f, err := os.Open("/proc/" + proc + "/status")
	if err != nil {
		return Memory{}, fmt.Errorf("process memory: %w", err)
	}
	defer f.Close() //nolint:errcheck // read only
	var m Memory
	s := bufio.NewScanner(f)
	for s.Scan() {
		// VmHWM:     45312 kB
		key, v, _ := strings.Cut(s.Text(), ":")
		var dst *int64
		switch key {
		case "VmHWM":
			dst = &m.Peak
		case "VmRSS":
			dst = &m.Current
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("process memory: %s %q: %w", key, v, err)
		}
		*dst = kb * 1024
	}
	if err := s.Err(); err != nil {
		return Memory{}, fmt.Errorf("process memory: %w", err)
	}
	if m.Peak == 0 || m.Current == 0 {
		return Memory{}, fmt.Errorf("process memory: no VmHWM or VmRSS in /proc/%s/status", proc)
	}
	return m, nil
}
