package kvemulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault actions.
const (
	// FaultStatus answers with Status and an error body {"error":{"code":Code,"message":Message}}
	// without touching data.
	FaultStatus = "status"
	// FaultDelay holds the request for Delay, or until the fault is removed
	// (RemoveFault, ClearFaults), and then serves it normally. A request whose
	// client gives up first (its connection closes, as a client's timeout or
	// cancelled context does) is dropped: nothing is applied, as when a
	// request dies in a proxy that is slow to forward it. Close aborts held
	// requests unanswered and unapplied.
	FaultDelay = "delay"
	// FaultDelayLand holds the request like FaultDelay, but applies it when
	// the delay ends or the fault is removed even if its client has gone
	// away in the meantime: the write was on the wire and lands after its
	// client gave up (a process killed mid-request, a client timeout shorter
	// than the service's processing). A client still waiting gets the
	// answer; a gone one's answer is discarded. Close aborts held requests
	// unapplied.
	FaultDelayLand = "delay_land"
	// FaultDrop closes the connection without answering; nothing is applied.
	FaultDrop = "drop"
	// FaultDropAfter applies the request, then closes the connection without
	// answering: the write happened but the reply is lost.
	FaultDropAfter = "drop_after"
	// FaultBody answers with Status and the raw Body (Content-Type ContentType).
	FaultBody = "body"
	// FaultCorruptValue serves the request normally but replaces the "value"
	// member of the JSON response with a different string.
	FaultCorruptValue = "corrupt_value"
)

// Fault makes matching requests misbehave.
//
// Vault faults match only requests that carry an Authorization header: the
// unauthenticated probe that elicits the bearer challenge is not a call. A
// fault with an empty Vault and a Path matching an identity endpoint (for
// example "/oauth2/") also applies to the identity listener; the admin API is
// never affected.
type Fault struct {
	Vault       string        `json:"vault,omitempty"`  // vault name; empty = any vault
	Method      string        `json:"method,omitempty"` // HTTP method; empty = any
	Path        string        `json:"path,omitempty"`   // Go regexp matched against the URL path
	Count       int           `json:"count,omitempty"`  // matching calls affected; 0 = until cleared
	Action      string        `json:"action"`
	Status      int           `json:"status,omitempty"`
	Code        string        `json:"code,omitempty"`
	Message     string        `json:"message,omitempty"`
	RetryAfter  string        `json:"retryAfter,omitempty"`
	Body        string        `json:"body,omitempty"`
	ContentType string        `json:"contentType,omitempty"`
	Delay       time.Duration `json:"-"`
}

// faultJSON is Fault on the admin API, where Delay is a Go duration string.
type faultJSON struct {
	Fault
	Delay string `json:"delay,omitempty"`
}

func (f Fault) validate() error {
	switch f.Action {
	case FaultStatus, FaultBody:
		if f.Status < 100 || f.Status > 999 {
			return fmt.Errorf("fault action %q needs an HTTP status", f.Action)
		}
	case FaultDelay, FaultDelayLand, FaultDrop, FaultDropAfter, FaultCorruptValue:
	default:
		return fmt.Errorf("unknown fault action %q", f.Action)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault count must not be negative")
	}
	if _, err := regexp.Compile(f.Path); err != nil {
		return fmt.Errorf("fault path: %w", err)
	}
	return nil
}

type activeFault struct {
	id        string
	fault     Fault
	path      *regexp.Regexp
	remaining int           // calls left when fault.Count > 0
	released  chan struct{} // closed when the fault is removed: held calls go on
	holding   int           // calls a delay action holds right now
	removed   bool          // removed or cleared: released is closed
}

type faultSet struct {
	mu     sync.Mutex
	nextID int
	faults []*activeFault
	// held are faults used up by their count whose delayed calls may still
	// be waiting; removal and clear release them too.
	held []*activeFault
	// holding are removed faults whose released calls are still being
	// served, so that Held keeps counting them until they are done.
	holding map[string]*activeFault
}

// release closes af's channel, letting its held calls go on; the caller
// holds s.mu.
func (s *faultSet) release(af *activeFault) {
	close(af.released)
	af.removed = true
	if af.holding > 0 {
		if s.holding == nil {
			s.holding = map[string]*activeFault{}
		}
		s.holding[af.id] = af
	}
}

// add panics, like regexp.MustCompile, when the fault is invalid: a test
// that injects a malformed fault is broken and should say so loudly.
func (s *faultSet) add(f Fault) string {
	if err := f.validate(); err != nil {
		panic("kvemulator: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := "fault-" + strconv.Itoa(s.nextID)
	s.faults = append(s.faults, &activeFault{id: id, fault: f, path: regexp.MustCompile(f.Path), remaining: f.Count, released: make(chan struct{})})
	return id
}

// clear removes every fault and releases every held call.
func (s *faultSet) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, af := range append(s.faults, s.held...) {
		s.release(af)
	}
	s.faults, s.held = nil, nil
}

// remove removes one fault and releases the calls it holds; other faults,
// perhaps injected by tests running in parallel, stay. It reports whether
// the fault was there.
func (s *faultSet) remove(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	keep := func(list []*activeFault) []*activeFault {
		out := list[:0]
		for _, af := range list {
			if af.id == id {
				s.release(af)
				found = true
				continue
			}
			out = append(out, af)
		}
		return out
	}
	s.faults = keep(s.faults)
	s.held = keep(s.held)
	return found
}

func (s *faultSet) list() []faultJSON {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]faultJSON, 0, len(s.faults))
	for _, af := range s.faults {
		f := af.fault
		if f.Count > 0 {
			f.Count = af.remaining
		}
		fj := faultJSON{Fault: f}
		if f.Delay > 0 {
			fj.Delay = f.Delay.String()
		}
		out = append(out, fj)
	}
	return out
}

// heldBy counts the calls the fault with this id holds right now.
func (s *faultSet) heldBy(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, af := range append(s.faults, s.held...) {
		if af.id == id {
			return af.holding
		}
	}
	if af := s.holding[id]; af != nil {
		return af.holding
	}
	return 0
}

// unhold ends one call's hold by af.
func (s *faultSet) unhold(af *activeFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	af.holding--
	if af.removed && af.holding == 0 {
		delete(s.holding, af.id)
	}
}

// take returns the first fault matching the request, consuming one of its
// calls (and counting it as held, for the delay actions).
func (s *faultSet) take(vaultName string, r *http.Request) (*Fault, *activeFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, af := range s.faults {
		f := af.fault
		if vaultName == "" {
			// Identity listener: only faults aimed at it by path.
			if f.Vault != "" || f.Path == "" {
				continue
			}
		} else if f.Vault != "" && !strings.EqualFold(f.Vault, vaultName) {
			continue
		}
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if !af.path.MatchString(r.URL.Path) {
			continue
		}
		if f.Count > 0 {
			af.remaining--
			if af.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				if f.Delay > 0 {
					s.held = append(s.held, af)
				}
			}
		}
		if f.Action == FaultDelay || f.Action == FaultDelayLand {
			af.holding++
		}
		return &f, af
	}
	return nil, nil
}

// faultHandler applies injected faults in front of a listener's handler.
func (e *Emulator) faultHandler(vaultName string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if vaultName == "" && strings.HasPrefix(r.URL.Path, "/admin/") {
			next.ServeHTTP(w, r)
			return
		}
		if vaultName != "" && r.Header.Get("Authorization") == "" {
			next.ServeHTTP(w, r)
			return
		}
		f, af := e.faults.take(vaultName, r)
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		switch f.Action {
		case FaultStatus:
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			code, message := f.Code, f.Message
			if code == "" {
				code = http.StatusText(f.Status)
			}
			if message == "" {
				message = "Injected fault."
			}
			if vaultName == "" {
				// Entra ID error shape.
				writeJSON(w, f.Status, map[string]any{"error": code, "error_description": message})
				return
			}
			writeError(w, f.Status, code, message)
		case FaultBody:
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			if f.ContentType != "" {
				w.Header().Set("Content-Type", f.ContentType)
			}
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
		case FaultDelay, FaultDelayLand:
			e.hold(w, r, f, af, next)
		case FaultDrop:
			dropConnection(w)
		case FaultDropAfter:
			rec := newResponseRecorder()
			next.ServeHTTP(rec, r)
			dropConnection(w)
		case FaultCorruptValue:
			rec := newResponseRecorder()
			next.ServeHTTP(rec, r)
			rec.body = corruptValue(rec.body)
			rec.header.Del("Content-Length")
			rec.copyTo(w)
		}
	})
}

// hold serves a request held by a delay fault (FaultDelay, FaultDelayLand).
func (e *Emulator) hold(w http.ResponseWriter, r *http.Request, f *Fault, af *activeFault, next http.Handler) {
	// Counted as held until it is dropped, answered or applied.
	defer e.faults.unhold(af)
	// Read the body now. Until a handler has read a request's body to the
	// end, net/http does not watch the connection, so a client that hangs
	// up (its timeout, its cancelled context, its process killed) would
	// not cancel r.Context() and a held write would be applied as if the
	// client were still waiting. Reading it also keeps the request whole
	// for FaultDelayLand, whose write lands after the connection is gone.
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxHeldBody))
		if err != nil {
			return // the client went away while sending: nothing to apply
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	gone := r.Context().Done()
	timer := time.NewTimer(f.Delay)
	defer timer.Stop()
wait:
	for {
		select {
		case <-timer.C:
			break wait
		case <-af.released:
			break wait
		case <-e.done:
			// Shutting down: abort the connection rather than answer.
			panic(http.ErrAbortHandler)
		case <-gone:
			if f.Action == FaultDelay {
				return // the client gave up first: dropped, not applied
			}
			gone = nil // FaultDelayLand: keep holding, then apply
		}
	}
	// The client may have given up in the same instant the delay ended:
	// select picks at random among ready cases, so check again.
	if r.Context().Err() == nil {
		next.ServeHTTP(w, r)
		return
	}
	if f.Action == FaultDelayLand {
		// The write lands; its answer has nobody to go to.
		next.ServeHTTP(newResponseRecorder(), r.WithContext(context.WithoutCancel(r.Context())))
	}
}

// maxHeldBody bounds the body a delay fault buffers; the vault handler reads
// at most 4 MiB of a body (readBody), so this never truncates what it uses.
const maxHeldBody = 8 << 20

func dropConnection(w http.ResponseWriter) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hijacker.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	// Reset rather than a graceful close where possible, as a dying proxy would.
	if tcp, ok := underlyingTCP(conn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func underlyingTCP(conn net.Conn) (*net.TCPConn, bool) {
	type netConner interface{ NetConn() net.Conn }
	if nc, ok := conn.(netConner); ok {
		conn = nc.NetConn()
	}
	tcp, ok := conn.(*net.TCPConn)
	return tcp, ok
}

// corruptValue replaces a string "value" member of a JSON object with a
// different string of the same length class; other bodies are returned as is.
func corruptValue(body []byte) []byte {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return body
	}
	var value string
	if raw, ok := doc["value"]; !ok || json.Unmarshal(raw, &value) != nil {
		return body
	}
	corrupted := "corrupted-" + reverse(value)
	if corrupted == value {
		corrupted += "!"
	}
	doc["value"], _ = json.Marshal(corrupted)
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// responseRecorder buffers a response so a fault can alter or drop it.
type responseRecorder struct {
	header http.Header
	status int
	body   []byte
}

func newResponseRecorder() *responseRecorder {
	return &responseRecorder{header: http.Header{}, status: http.StatusOK}
}

func (r *responseRecorder) Header() http.Header { return r.header }
func (r *responseRecorder) WriteHeader(status int) {
	r.status = status
}
func (r *responseRecorder) Write(p []byte) (int, error) {
	r.body = append(r.body, p...)
	return len(p), nil
}

func (r *responseRecorder) copyTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}
