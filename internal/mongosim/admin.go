package mongosim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Status is the simulator's state, as the admin endpoint's GET /status
// reports it.
type Status struct {
	Mode        string         `json:"mode"` // replicaSet | standalone | sharded
	SetName     string         `json:"setName,omitempty"`
	URI         string         `json:"uri"`
	Primary     string         `json:"primary"`
	Term        int64          `json:"term"`
	Personality string         `json:"personality,omitempty"`
	LastSeq     int64          `json:"lastSeq"`
	Members     []MemberStatus `json:"members"`
}

// MemberStatus is one member in Status.
type MemberStatus struct {
	Host           string            `json:"host"`
	State          string            `json:"state"`
	FerretDB       string            `json:"ferretdb"` // direct URI, bypassing the proxy
	AppliedIndex   int64             `json:"appliedIndex"`
	Pending        int               `json:"pending"` // logged changes not applied yet
	Lag            string            `json:"lag,omitempty"`
	UserLags       map[string]string `json:"userLags,omitempty"`
	Connections    int               `json:"connections"`
	LastApplyError string            `json:"lastApplyError,omitempty"`
}

// Status reports members, primary and what each member has applied.
func (s *Sim) Status() Status {
	_, term, _ := s.topo.snapshot()
	st := Status{SetName: s.opts.SetName, URI: s.URI(), Primary: s.Primary(), Term: term, Personality: string(s.opts.Personality)}
	switch s.mode {
	case modeStandalone:
		st.Mode = "standalone"
	case modeSharded:
		st.Mode = "sharded"
	default:
		st.Mode = "replicaSet"
	}
	r := s.repl
	for _, m := range s.members {
		ms := MemberStatus{Host: m.host, State: m.state(), FerretDB: m.fdb.URI(), AppliedIndex: r.appliedIndex(m),
			Connections: m.connCount(), LastApplyError: m.applyError()}
		r.mu.Lock()
		for _, e := range r.log {
			if !e.applied[m] {
				ms.Pending++
			}
		}
		if d := r.lag[m]; d > 0 {
			ms.Lag = d.String()
		}
		for u, d := range r.userLag[m] {
			if ms.UserLags == nil {
				ms.UserLags = map[string]string{}
			}
			ms.UserLags[u] = d.String()
		}
		r.mu.Unlock()
		st.Members = append(st.Members, ms)
	}
	r.mu.Lock()
	st.LastSeq = r.seq
	r.mu.Unlock()
	return st
}

// AdminURL is the admin endpoint, "http://127.0.0.1:PORT/" (plain HTTP on
// loopback). See doc.go for its routes.
func (s *Sim) AdminURL() string {
	if s.adminLn == nil {
		return ""
	}
	return "http://" + s.adminLn.Addr().String() + "/"
}

type faultJSON struct {
	Fault
	Delay string `json:"delay,omitempty"`
}

type durationJSON struct {
	Lag string `json:"lag"`
}

func (s *Sim) startAdmin() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("mongosim: admin listener: %w", err)
	}
	s.adminLn = ln
	s.adminSrv = &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.adminSrv.Serve(ln)
	}()
	return nil
}

func (s *Sim) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Status())
	})
	mux.HandleFunc("GET /log", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.UserLog())
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var fj faultJSON
		if !decode(w, r, &fj) {
			return
		}
		f := fj.Fault
		if fj.Delay != "" {
			d, err := time.ParseDuration(fj.Delay)
			if err != nil {
				badRequest(w, fmt.Errorf("delay: %w", err))
				return
			}
			f.Delay = d
		}
		id, err := s.InjectFault(f)
		if err != nil {
			badRequest(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !s.RemoveFault(r.PathValue("id")) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no fault " + r.PathValue("id")})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT /lag/{host}", func(w http.ResponseWriter, r *http.Request) {
		d, ok := decodeLag(w, r)
		if ok {
			reply(w, s.SetLag(r.PathValue("host"), d))
		}
	})
	mux.HandleFunc("PUT /lag/{host}/{user}", func(w http.ResponseWriter, r *http.Request) {
		d, ok := decodeLag(w, r)
		if ok {
			reply(w, s.SetUserLag(r.PathValue("host"), r.PathValue("user"), d))
		}
	})
	mux.HandleFunc("POST /stepdown", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			NewPrimary       string `json:"newPrimary"`
			LoseUnreplicated bool   `json:"loseUnreplicated"`
		}
		if decode(w, r, &body) {
			reply(w, s.StepDown(body.NewPrimary, StepDownOptions{LoseUnreplicated: body.LoseUnreplicated}))
		}
	})
	mux.HandleFunc("POST /elect", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Host string `json:"host"`
		}
		if decode(w, r, &body) {
			reply(w, s.Elect(body.Host))
		}
	})
	mux.HandleFunc("GET /grants", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Grants())
	})
	mux.HandleFunc("PUT /grants/{db}/{user}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Privileges []Privilege `json:"privileges"`
		}
		if decode(w, r, &body) {
			s.Revoke(r.PathValue("user"), r.PathValue("db"))
			s.Grant(r.PathValue("user"), r.PathValue("db"), body.Privileges...)
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("DELETE /grants/{db}/{user}", func(w http.ResponseWriter, r *http.Request) {
		s.Revoke(r.PathValue("user"), r.PathValue("db"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /routers/{host}/refresh", func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.RefreshUserCache(r.PathValue("host")))
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func decodeLag(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
	var body durationJSON
	if !decode(w, r, &body) {
		return 0, false
	}
	d, err := time.ParseDuration(body.Lag)
	if err != nil || d < 0 {
		badRequest(w, errors.New(`lag must be a non-negative Go duration such as "2s"`))
		return 0, false
	}
	return d, true
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		badRequest(w, fmt.Errorf("invalid JSON: %w", err))
		return false
	}
	return true
}

func reply(w http.ResponseWriter, err error) {
	if err != nil {
		badRequest(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func badRequest(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
