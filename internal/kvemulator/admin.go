package kvemulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// throttleJSON is the admin API's view of the throttling settings.
type throttleJSON struct {
	Enabled *bool  `json:"enabled,omitempty"`
	Creates int    `json:"creates,omitempty"`
	Others  int    `json:"others,omitempty"`
	Window  string `json:"window,omitempty"`
}

func (e *Emulator) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var fj faultJSON
		if !decodeAdmin(w, r, &fj) {
			return
		}
		f := fj.Fault
		if fj.Delay != "" {
			d, err := time.ParseDuration(fj.Delay)
			if err != nil {
				badRequest(w, "delay: %v", err)
				return
			}
			f.Delay = d
		}
		if err := f.validate(); err != nil {
			badRequest(w, "%v", err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": e.InjectFault(f)})
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.faults.list())
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		e.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !e.RemoveFault(r.PathValue("id")) {
			writeError(w, http.StatusNotFound, "FaultNotFound", "no fault with id "+r.PathValue("id"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /throttle", func(w http.ResponseWriter, r *http.Request) {
		writeThrottle(w, e)
	})
	mux.HandleFunc("PUT /throttle", func(w http.ResponseWriter, r *http.Request) {
		var tj throttleJSON
		if !decodeAdmin(w, r, &tj) {
			return
		}
		limits := Limits{Creates: tj.Creates, Others: tj.Others}
		if tj.Window != "" {
			d, err := time.ParseDuration(tj.Window)
			if err != nil || d <= 0 {
				badRequest(w, "window must be a positive Go duration such as \"10s\"")
				return
			}
			limits.Window = d
		}
		if tj.Creates < 0 || tj.Others < 0 {
			badRequest(w, "creates and others must not be negative")
			return
		}
		e.throttle.set(tj.Enabled, &limits)
		writeThrottle(w, e)
	})
	mux.HandleFunc("GET /requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.RequestCounts())
	})
	mux.HandleFunc("DELETE /requests", func(w http.ResponseWriter, r *http.Request) {
		e.ResetRequestCounts()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /vaults/{name}/creates", func(w http.ResponseWriter, r *http.Request) {
		times := e.CreateTimes(r.PathValue("name"))
		out := make([]string, len(times))
		for i, t := range times {
			out[i] = t.UTC().Format(time.RFC3339Nano)
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /vaults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.Vaults())
	})
	mux.HandleFunc("PUT /vaults/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		vaultURL, err := e.AddVault(name)
		if err != nil {
			badRequest(w, "%v", err)
			return
		}
		writeJSON(w, http.StatusOK, VaultInfo{Name: name, URL: vaultURL})
	})
	mux.HandleFunc("PUT /clients/{clientId}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Secret string `json:"secret"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		if body.Secret == "" {
			badRequest(w, "secret is required")
			return
		}
		e.AddClient(r.PathValue("clientId"), body.Secret)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT /vaults/{name}/access-policies/{clientId}", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Permissions []Permission `json:"permissions"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		for _, p := range body.Permissions {
			if !slices.Contains(AllPermissions, Permission(lower(string(p)))) {
				badRequest(w, "unknown permission %q; known: get, list, set, delete, recover, backup, restore, purge", p)
				return
			}
		}
		e.SetAccessPolicy(r.PathValue("name"), r.PathValue("clientId"), body.Permissions...)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func writeThrottle(w http.ResponseWriter, e *Emulator) {
	enabled, limits := e.throttle.get()
	writeJSON(w, http.StatusOK, throttleJSON{Enabled: &enabled, Creates: limits.Creates, Others: limits.Others, Window: limits.Window.String()})
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		badRequest(w, "reading body: %v", err)
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		badRequest(w, "invalid JSON: %v", err)
		return false
	}
	return true
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf(format, args...)})
}
