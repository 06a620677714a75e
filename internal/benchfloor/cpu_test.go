package benchfloor

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// burn keeps the calling goroutine's thread busy until that thread has
// used d of processor time by its own account (ThreadCPU), however loaded
// the machine is: a burn measured in wall time gets less than that on a
// busy machine, and the tests below would then fail for the wrong reason.
func burn(t *testing.T, d time.Duration) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, err := ThreadCPU()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	for {
		for range 1000 {
			sum = sha256.Sum256(sum[:])
		}
		now, err := ThreadCPU()
		if err != nil {
			t.Fatal(err)
		}
		if now-start >= d {
			return
		}
	}
}

func TestProcessCPUGrows(t *testing.T) {
	for _, pid := range []int{0, os.Getpid()} {
		before, err := ProcessCPU(pid)
		if err != nil {
			t.Fatal(err)
		}
		burn(t, 300*time.Millisecond)
		after, err := ProcessCPU(pid)
		if err != nil {
			t.Fatal(err)
		}
		// The process used at least what its burning thread did; /proc
		// counts in 10 ms ticks.
		if grew := after.Self - before.Self; grew < 290*time.Millisecond {
			t.Errorf("ProcessCPU(%d): %v before a thread used 300 ms, %v after: grew %v, want at least 290ms", pid, before.Self, after.Self, grew)
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
	time.Sleep(200 * time.Millisecond)
	after, err := ThreadCPU()
	if err != nil {
		t.Fatal(err)
	}
	// A sleeping thread uses (almost) nothing.
	if grew := after - before; grew > 20*time.Millisecond {
		t.Errorf("ThreadCPU grew %v over a 200 ms sleep", grew)
	}
	// A thread's time is part of its process's: a thread that used 200 ms
	// took at least that from the process.
	process0, err := ProcessCPU(0)
	if err != nil {
		t.Fatal(err)
	}
	burn(t, 200*time.Millisecond)
	process1, err := ProcessCPU(0)
	if err != nil {
		t.Fatal(err)
	}
	if grew := process1.Self - process0.Self; grew < 200*time.Millisecond {
		t.Errorf("the process used %v while one of its threads used 200 ms by ThreadCPU", grew)
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
	burn(t, 300*time.Millisecond)
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
