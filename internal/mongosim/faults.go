package mongosim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultAction is what a fault does to a matching command.
type FaultAction string

const (
	// FaultDropReply forwards the command, lets it apply (a user change is
	// logged and replicated), then closes the client connection without
	// replying: the client sees a network error for a change that happened.
	FaultDropReply FaultAction = "drop_reply"
	// FaultDropConnection closes the client connection before forwarding:
	// nothing happens.
	FaultDropConnection FaultAction = "drop_connection"
	// FaultDelay waits Delay, then handles the command normally (nothing
	// happens if the client gives up during the wait).
	FaultDelay FaultAction = "delay"
	// FaultError answers {ok: 0, code: Code, codeName: CodeName, errmsg:
	// Errmsg} instead of forwarding.
	FaultError FaultAction = "error"
	// FaultStall holds the command without forwarding until the client
	// closes its connection or Delay passes (Delay 0: until the client
	// closes), then forwards it anyway — it applies after the client gave
	// up — discards the reply and closes the connection.
	FaultStall FaultAction = "stall"
)

// Fault makes matching commands misbehave.
type Fault struct {
	// Command is the command name to match, case-insensitively ("updateUser",
	// "saslContinue", "hello", ...); "*" matches every command.
	Command string `json:"command"`
	// Host restricts the fault to one member ("" any).
	Host string `json:"host,omitempty"`
	// User restricts the fault to commands concerning one user: the user a
	// createUser / updateUser / dropUser / usersInfo names, the SCRAM user
	// of saslStart / saslContinue / speculativeAuthenticate, or else the
	// connection's authenticated user ("" any).
	User string `json:"user,omitempty"`
	// Count is how many matching commands the fault affects; 0 means every
	// one until the fault is removed.
	Count  int         `json:"count,omitempty"`
	Action FaultAction `json:"action"`
	// Delay for FaultDelay and FaultStall.
	Delay time.Duration `json:"-"`
	// Code, CodeName and Errmsg for FaultError. CodeName defaults to the
	// code's name in error_codes.yml when the simulator knows it.
	Code     int32  `json:"code,omitempty"`
	CodeName string `json:"codeName,omitempty"`
	Errmsg   string `json:"errmsg,omitempty"`
}

func (f *Fault) validate() error {
	if f.Command == "" {
		return errors.New("mongosim: Fault.Command is required")
	}
	if f.Count < 0 {
		return errors.New("mongosim: Fault.Count must not be negative")
	}
	switch f.Action {
	case FaultDropReply, FaultDropConnection:
	case FaultDelay:
		if f.Delay <= 0 {
			return errors.New("mongosim: a delay fault needs a positive Delay")
		}
	case FaultStall:
		if f.Delay < 0 {
			return errors.New("mongosim: Fault.Delay must not be negative")
		}
	case FaultError:
		if f.Code == 0 {
			return errors.New("mongosim: an error fault needs a Code")
		}
		if f.CodeName == "" {
			f.CodeName = codeNames[f.Code]
			if f.CodeName == "" {
				return fmt.Errorf("mongosim: give a CodeName for error code %d", f.Code)
			}
		}
		if f.Errmsg == "" {
			f.Errmsg = "simulated " + f.CodeName
		}
	default:
		return fmt.Errorf("mongosim: unknown fault action %q (drop_reply, drop_connection, delay, error, stall)", f.Action)
	}
	return nil
}

// FaultStatus is an active fault.
type FaultStatus struct {
	ID        string `json:"id"`
	Fault     Fault  `json:"fault"`
	Delay     string `json:"delay,omitempty"`
	Remaining int    `json:"remaining"` // 0: unlimited
	Hits      int    `json:"hits"`
}

type activeFault struct {
	id        string
	f         Fault
	remaining int
	hits      int
}

type faultTable struct {
	mu     sync.Mutex
	nextID int
	list   []*activeFault
}

// InjectFault adds a fault and returns its id.
func (s *Sim) InjectFault(f Fault) (string, error) {
	if err := f.validate(); err != nil {
		return "", err
	}
	if f.Host != "" {
		if _, err := s.member(f.Host); err != nil {
			return "", err
		}
	}
	t := &s.faults
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nextID++
	id := "fault-" + strconv.Itoa(t.nextID)
	t.list = append(t.list, &activeFault{id: id, f: f, remaining: f.Count})
	return id, nil
}

// RemoveFault removes one fault; false if there is no such fault.
func (s *Sim) RemoveFault(id string) bool {
	t := &s.faults
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, a := range t.list {
		if a.id == id {
			t.list = append(t.list[:i], t.list[i+1:]...)
			return true
		}
	}
	return false
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	t := &s.faults
	t.mu.Lock()
	t.list = nil
	t.mu.Unlock()
}

// Faults lists the active faults.
func (s *Sim) Faults() []FaultStatus {
	t := &s.faults
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]FaultStatus, 0, len(t.list))
	for _, a := range t.list {
		fs := FaultStatus{ID: a.id, Fault: a.f, Remaining: a.remaining, Hits: a.hits}
		if a.f.Delay > 0 {
			fs.Delay = a.f.Delay.String()
		}
		out = append(out, fs)
	}
	return out
}

// take returns the first fault matching the command and consumes one of its
// count, or nil.
func (t *faultTable) take(command, host, user string) *Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, a := range t.list {
		if a.f.Command != "*" && !strings.EqualFold(a.f.Command, command) {
			continue
		}
		if a.f.Host != "" && a.f.Host != host {
			continue
		}
		if a.f.User != "" && a.f.User != user {
			continue
		}
		a.hits++
		f := a.f
		if a.remaining > 0 {
			a.remaining--
			if a.remaining == 0 {
				t.list = append(t.list[:i], t.list[i+1:]...)
			}
		}
		return &f
	}
	return nil
}
