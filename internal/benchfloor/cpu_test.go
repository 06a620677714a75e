package benchfloor

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// burn keeps a processor busy for about d of wall time.
func burn(d time.Duration) {
	sum := sha256.Sum256(nil)
	for start := time.Now(); time.Since(start) < d; {
		for range 1000 {
			sum = sha256.Sum256(sum[:])
		}
	}
}

func TestProcessCPUGrows(t *testing.T) {
	for _, pid := range []int{0, os.Getpid()} {
		before, err := ProcessCPU(pid)
		if err != nil {
			t.Fatal(err)
		}
		burn(300 * time.Millisecond)
		after, err := ProcessCPU(pid)
		if err != nil {
			t.Fatal(err)
		}
		// 300 ms of one busy thread; ticks are 10 ms, and a loaded machine
		// may give the thread less than all of it.
		if grew := after.Self - before.Self; grew < 100*time.Millisecond {
			t.Errorf("ProcessCPU(%d): %v before burning 300 ms, %v after: grew %v, want at least 100ms", pid, before.Self, after.Self, grew)
		}
	}
}

func TestThreadCPU(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := ThreadCPU()
	if err != nil {
		t.Fatal(err)
	}
	burn(200 * time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	after, err := ThreadCPU()
	if err != nil {
		t.Fatal(err)
	}
	// The burn counts, the sleep does not.
	if grew := after - before; grew < 50*time.Millisecond || grew > 300*time.Millisecond {
		t.Errorf("ThreadCPU grew %v over a 200 ms burn and a 200 ms sleep", grew)
	}
}

// TestProcessCPUZombie runs a child that burns CPU, reads its times after
// AwaitExit, before reaping it, and compares them with what wait4 reports.
func TestProcessCPUZombie(t *testing.T) {
	if os.Getenv("BENCHFLOOR_BURN") != "" {
		t.Skip("the child of TestProcessCPUZombie")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBurnChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BENCHFLOOR_BURN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := AwaitExit(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	zombie, zerr := ProcessCPU(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if zerr != nil {
		t.Fatal(zerr)
	}
	reaped := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	t.Logf("the exited child: /proc stat %v (children %v), wait4 %v", zombie.Self, zombie.Children, reaped)
	if zombie.Self < 100*time.Millisecond {
		t.Errorf("the exited child's /proc stat: %v of CPU, want at least 100ms (wait4: %v)", zombie.Self, reaped)
	}
	// Ticks of 10 ms, rounded per thread: a few ticks apart at most.
	if diff := (zombie.Self + zombie.Children - reaped).Abs(); diff > 100*time.Millisecond {
		t.Errorf("the exited child's /proc stat: %v (children %v); wait4: %v", zombie.Self, zombie.Children, reaped)
	}
}

// TestBurnChild is the child of TestProcessCPUZombie.
func TestBurnChild(t *testing.T) {
	if os.Getenv("BENCHFLOOR_BURN") == "" {
		t.Skip("run by TestProcessCPUZombie")
	}
	burn(300 * time.Millisecond)
}

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a ')' in it.
	stat := "4242 (a b) c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 12 3 40 5 20 0 1 0 100 1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := (CPU{Self: 150 * time.Millisecond, Children: 450 * time.Millisecond}); got != want {
		t.Errorf("parseStatCPU = %+v, want %+v", got, want)
	}
	if _, err := parseStatCPU("4242 (x) S 1 2"); err == nil {
		t.Error("parseStatCPU of a short line: no error")
	}
}
