package mongosim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/ferretdb"
)

// Options configures a simulated deployment. The zero value (with Dir) is a
// three-member replica set named "rs0".
type Options struct {
	// Dir holds one FerretDB data directory per member. Required.
	Dir string
	// Members of the replica set; default 3. Ignored with Standalone or Routers.
	Members int
	// SetName of the replica set; default "rs0" ("globaldb" for
	// PersonalityCosmosRU).
	SetName string
	// Standalone runs one member that is no replica set (no setName in hello).
	Standalone bool
	// Routers > 0 simulates a sharded cluster's mongos routers instead of a
	// replica set: that many routers, each in front of its own FerretDB,
	// which stands for the router's user cache.
	Routers int
	// UserCacheInterval is how often a router refreshes its user cache;
	// default 30s, the server's userCacheInvalidationIntervalSecs.
	UserCacheInterval time.Duration
	// AdminUsername and AdminPassword create the built-in administrator in
	// the admin database of every member. Defaults: "segura-admin" and a
	// random password.
	AdminUsername, AdminPassword string
	// Personality makes the deployment answer as a hosted service does.
	Personality Personality
	// EngineVersion is the Amazon DocumentDB engine version (PersonalityDocumentDB
	// only), e.g. "5.0.0" or "5.0.1"; default "5.0.1".
	EngineVersion string
	// Log receives the simulator's log lines (never a password). Default: discarded.
	Log io.Writer
	// StartTimeout bounds each FerretDB's start. Default 60s.
	StartTimeout time.Duration
}

type mode int

const (
	modeReplicaSet mode = iota
	modeStandalone
	modeSharded
)

// Sim is a running simulated deployment.
type Sim struct {
	opts    Options
	mode    mode
	members []*member
	byHost  map[string]*member
	logger  *log.Logger
	started time.Time

	topo   topology
	repl   *replicator
	faults faultTable
	privs  privilegeTable

	// gate is held shared by every user command from the primary check to
	// the log append, and exclusively by a step-down when it removes the
	// primary, so no user change is half-way through a failover.
	gate   sync.RWMutex
	stepMu sync.Mutex // serialises StepDown / Elect

	adminLn  net.Listener
	adminSrv *http.Server

	stopOnce sync.Once
	stopped  chan struct{}
	wg       sync.WaitGroup
}

// Start starts one FerretDB per member (in parallel, built once into the
// user cache by package ferretdb), a proxy per member on its own loopback
// port, and the admin HTTP endpoint. It returns once every member accepts
// an admin login.
func Start(ctx context.Context, opts Options) (*Sim, error) {
	if opts.Dir == "" {
		return nil, errors.New("mongosim: Options.Dir is required")
	}
	s := &Sim{opts: opts, byHost: map[string]*member{}, stopped: make(chan struct{}), started: time.Now()}
	n := opts.Members
	switch {
	case opts.Routers > 0:
		s.mode, n = modeSharded, opts.Routers
	case opts.Standalone:
		s.mode, n = modeStandalone, 1
	default:
		if n <= 0 {
			n = 3
		}
	}
	if s.opts.SetName == "" {
		s.opts.SetName = "rs0"
		if opts.Personality == PersonalityCosmosRU {
			s.opts.SetName = "globaldb" // its connection strings say replicaSet=globaldb
		}
	}
	if s.mode != modeReplicaSet {
		s.opts.SetName = ""
	}
	if s.opts.UserCacheInterval <= 0 {
		s.opts.UserCacheInterval = 30 * time.Second
	}
	if s.opts.AdminUsername == "" {
		s.opts.AdminUsername = "segura-admin"
	}
	if s.opts.AdminPassword == "" {
		s.opts.AdminPassword = randomHex(18)
	}
	if s.opts.Personality == PersonalityDocumentDB && s.opts.EngineVersion == "" {
		s.opts.EngineVersion = "5.0.1"
	}
	if err := s.opts.Personality.validate(); err != nil {
		return nil, err
	}
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	s.logger = log.New(w, "mongosim: ", log.LstdFlags|log.Lmicroseconds)
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("mongosim: create %s: %w", opts.Dir, err)
	}

	// Listeners first: every member's hello lists every host.
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("mongosim: listen on loopback: %w", err)
		}
		m := &member{sim: s, index: i, host: ln.Addr().String(), ln: ln, conns: map[*conn]struct{}{}}
		s.members = append(s.members, m)
		s.byHost[m.host] = m
	}

	// FerretDB processes, in parallel.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, m := range s.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fdb, err := ferretdb.Start(ctx, ferretdb.Options{
				Dir:           filepath.Join(opts.Dir, fmt.Sprintf("member-%d", i)),
				AdminUsername: s.opts.AdminUsername,
				AdminPassword: s.opts.AdminPassword,
				StartTimeout:  opts.StartTimeout,
			})
			m.fdb, errs[i] = fdb, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.closeListeners()
		_ = s.stopFerretDBs()
		return nil, fmt.Errorf("mongosim: start FerretDB: %w", err)
	}
	for _, m := range s.members {
		m.upstream = strings.TrimSuffix(strings.TrimPrefix(m.fdb.URI(), "mongodb://"), "/")
		m.adminPwd = s.opts.AdminPassword
	}

	s.topo.init(s)
	s.repl = newReplicator(s)
	for _, m := range s.members {
		s.wg.Add(2)
		go m.acceptLoop()
		go s.repl.applier(m)
	}
	if err := s.startAdmin(); err != nil {
		_ = s.Stop()
		return nil, err
	}
	s.logger.Printf("started %s with %d member(s): %s", s.describe(), n, strings.Join(s.Hosts(), ","))
	return s, nil
}

func (s *Sim) describe() string {
	switch s.mode {
	case modeStandalone:
		return "a standalone server"
	case modeSharded:
		return "a sharded cluster"
	default:
		return "replica set " + s.opts.SetName
	}
}

// Stop closes every listener and connection and stops the FerretDB
// processes. Stopping twice is a no-op.
func (s *Sim) Stop() error {
	var errs []error
	s.stopOnce.Do(func() {
		close(s.stopped)
		if s.adminSrv != nil {
			_ = s.adminSrv.Close()
		}
		s.closeListeners()
		for _, m := range s.members {
			m.closeConns()
		}
		s.repl.wake()
		s.wg.Wait()
		for _, m := range s.members {
			m.closeAdminClient()
		}
		errs = append(errs, s.stopFerretDBs())
	})
	return errors.Join(errs...)
}

func (s *Sim) closeListeners() {
	for _, m := range s.members {
		_ = m.ln.Close()
	}
}

func (s *Sim) stopFerretDBs() error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, m := range s.members {
		if m.fdb == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.fdb.Stop(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// URI is the connection string without credentials: for a replica set
// "mongodb://h1,h2,h3/?replicaSet=rs0", for routers "mongodb://r1,r2/", for
// a standalone "mongodb://h/".
func (s *Sim) URI() string {
	u := "mongodb://" + strings.Join(s.Hosts(), ",") + "/"
	if s.mode == modeReplicaSet {
		u += "?replicaSet=" + s.opts.SetName
	}
	return u
}

// SetName is the replica set name ("" unless a replica set).
func (s *Sim) SetName() string { return s.opts.SetName }

// Hosts are the members' (or routers') "127.0.0.1:port" addresses, in order.
func (s *Sim) Hosts() []string {
	out := make([]string, len(s.members))
	for i, m := range s.members {
		out[i] = m.host
	}
	return out
}

// Primary is the primary's host, or "" while there is none. A standalone
// server and every router count as primary.
func (s *Sim) Primary() string {
	switch s.mode {
	case modeReplicaSet:
		return s.topo.primaryHost()
	default:
		return s.members[0].host
	}
}

// AdminUsername is the built-in administrator, in the admin database.
func (s *Sim) AdminUsername() string { return s.opts.AdminUsername }

// AdminPassword is the administrator's password as the simulator started it.
func (s *Sim) AdminPassword() string { return s.opts.AdminPassword }

// Member returns the member (or router) at host, or nil.
func (s *Sim) Member(host string) *Member {
	m := s.byHost[host]
	if m == nil {
		return nil
	}
	return &Member{m: m}
}

// Reset clears faults, lags and privilege grants (not the user-command log).
func (s *Sim) Reset() {
	s.ClearFaults()
	s.repl.clearLags()
	s.privs.clear()
}

func (s *Sim) member(host string) (*member, error) {
	m := s.byHost[host]
	if m == nil {
		return nil, fmt.Errorf("mongosim: no member %q (members: %s)", host, strings.Join(s.Hosts(), ", "))
	}
	return m, nil
}

func (s *Sim) sortedMembers() []*member {
	out := append([]*member(nil), s.members...)
	sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out
}

// majority is the number of members a w:"majority" write needs.
func (s *Sim) majority() int { return len(s.members)/2 + 1 }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Member is one replica-set member (or router) of a Sim.
type Member struct{ m *member }

// Host is the proxy's "127.0.0.1:port".
func (p *Member) Host() string { return p.m.host }

// URI is a direct connection to this member through its proxy
// ("mongodb://host/?directConnection=true").
func (p *Member) URI() string { return "mongodb://" + p.m.host + "/?directConnection=true" }

// FerretDB is the member's own FerretDB, reachable without the proxy (no
// topology, no faults, no lag): for inspecting what the member holds.
func (p *Member) FerretDB() *ferretdb.Server { return p.m.fdb }

// State is "PRIMARY", "SECONDARY", "STANDALONE" or "MONGOS".
func (p *Member) State() string { return p.m.state() }

// AppliedIndex is the highest sequence number up to which this member has
// applied every entry of the user-command log.
func (p *Member) AppliedIndex() int64 { return p.m.sim.repl.appliedIndex(p.m) }

// CloseConnections closes every client connection of this member's proxy
// and returns how many there were.
func (p *Member) CloseConnections() int { return p.m.closeConns() }
