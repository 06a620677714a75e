package mongomem

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/xdg-go/scram"

	"github.com/segura-community/terraform-provider-segura/internal/wiremsg"
)

// DefaultIterations is the SCRAM iteration count of stored credentials: the
// least the Go driver accepts (its scram clients call WithMinIterations(4096)),
// so that logins are cheap. A real server uses 10,000 (SCRAM-SHA-1) and
// 15,000 (SCRAM-SHA-256) by default and refuses less than 5,000.
const DefaultIterations = 4096

// Options configures a Server.
type Options struct {
	// Addr is the TCP address to listen on; "127.0.0.1:0" (a free loopback
	// port) when empty.
	Addr string
	// Iterations is the SCRAM iteration count of credentials set from now
	// on; DefaultIterations when zero. The Go driver refuses fewer than 4,096.
	Iterations int
}

// Server is a running in-memory MongoDB stand-in. All methods are safe for
// concurrent use.
type Server struct {
	listener   net.Listener
	iterations int

	mu       sync.Mutex
	users    map[string]*user // by userKey(db, name)
	roles    map[string]*role // by userKey(db, name)
	conns    map[net.Conn]struct{}
	closed   bool
	commands map[string]int // by command name as sent
	logins   map[string]int // successful SCRAM conversations, by userKey
	// peakConns is the most client connections open at once since Start
	// or the last ResetCommandCounts.
	peakConns int

	connIDs   atomic.Int32
	requestID atomic.Int32
	wg        sync.WaitGroup
}

// Start listens and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Iterations <= 0 {
		opts.Iterations = DefaultIterations
	}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("mongomem: listening: %w", err)
	}
	s := &Server{
		listener:   l,
		iterations: opts.Iterations,
		users:      map[string]*user{},
		roles:      map[string]*role{},
		conns:      map[net.Conn]struct{}{},
		commands:   map[string]int{},
		logins:     map[string]int{},
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr is the server's "host:port".
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URI is a connection string for the server, without credentials:
// "mongodb://127.0.0.1:PORT/".
func (s *Server) URI() string { return "mongodb://" + s.Addr() + "/" }

// Close stops listening, closes every connection and waits for their
// goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.listener.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// CreateUser adds a user as the createUser command does, without
// authentication: for seeding (the server has no localhost exception once a
// user exists). mechanisms empty means both SCRAM mechanisms.
func (s *Server) CreateUser(db, name, password string, mechanisms []string, roles ...RoleRef) error {
	if e := s.createUser(db, name, password, mechanisms, roles); e != nil {
		return e
	}
	return nil
}

// CreateRole adds a role as the createRole command does, without
// authentication: privileges on resources, and roles it inherits.
func (s *Server) CreateRole(db, name string, privileges []Privilege, roles ...RoleRef) error {
	if db == "" || name == "" {
		return badValue("Role name and database must not be empty")
	}
	if _, builtin := builtinPrivileges(RoleRef{name, db}); builtin {
		return badValue("Cannot create roles with the same name as a built-in role")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := userKey(db, name)
	if _, exists := s.roles[k]; exists {
		return &commandError{code: 51002, codeName: "Location51002", msg: fmt.Sprintf("Role \"%s@%s\" already exists", name, db)}
	}
	privs := make([]Privilege, len(privileges))
	for i, p := range privileges {
		p.Actions = slices.Clone(p.Actions)
		privs[i] = p
	}
	s.roles[k] = &role{privileges: privs, roles: slices.Clone(roles)}
	return nil
}

// Mechanisms returns the SCRAM mechanisms name@db has credentials for, nil
// when there is no such user.
func (s *Server) Mechanisms(db, name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[userKey(db, name)]; u != nil {
		return u.mechanisms()
	}
	return nil
}

// CommandCounts returns how many commands of each name (as sent: "hello",
// "isMaster", "saslStart", "updateUser", ...) the server answered since
// Start or the last ResetCommandCounts.
func (s *Server) CommandCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.commands))
	for k, v := range s.commands {
		out[k] = v
	}
	return out
}

// ResetCommandCounts sets every command count to zero.
func (s *Server) ResetCommandCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = map[string]int{}
	s.logins = map[string]int{}
	s.peakConns = len(s.conns)
}

// PeakConnCount is the most client connections that were open at once since
// Start or the last ResetCommandCounts: what a server's connection limit
// (net.maxIncomingConnections, a hosted tier's cap) is measured against.
func (s *Server) PeakConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakConns
}

// Logins returns how many SCRAM conversations proved the password of user
// name in db (through saslStart or a speculative authentication in hello)
// since Start or the last ResetCommandCounts. Each costs the client a key
// derivation and the server a round trip or three: the figure a login
// budget is measured in.
func (s *Server) Logins(db, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins[userKey(db, name)]
}

// createUser is CreateUser, with a command error.
func (s *Server) createUser(db, name, password string, mechanisms []string, roles []RoleRef) *commandError {
	if db == "" || name == "" {
		return &commandError{code: codeBadValue, codeName: "BadValue", msg: "User name and database must not be empty"}
	}
	if db == "$external" {
		return &commandError{code: codeBadValue, codeName: "BadValue", msg: "SCRAM users cannot be created on the $external database"}
	}
	if password == "" {
		return &commandError{code: codeBadValue, codeName: "BadValue", msg: "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db"}
	}
	if len(mechanisms) == 0 {
		mechanisms = allMechanisms
	}
	if e := checkMechanisms(mechanisms); e != nil {
		return e
	}
	creds, err := credentials(name, password, mechanisms, s.iterations)
	if err != nil {
		return &commandError{code: codeBadValue, codeName: "BadValue", msg: err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := userKey(db, name)
	if _, ok := s.users[k]; ok {
		// The server's answer (error code 51003).
		return &commandError{code: 51003, codeName: "Location51003", msg: fmt.Sprintf("User \"%s@%s\" already exists", name, db)}
	}
	for _, r := range roles {
		if _, ok := builtinPrivileges(r); !ok && s.roles[userKey(r.DB, r.Role)] == nil {
			return &commandError{code: codeRoleNotFound, codeName: "RoleNotFound", msg: fmt.Sprintf("Could not find role: %s@%s", r.Role, r.DB)}
		}
	}
	s.users[k] = &user{id: uuid.New(), db: db, name: name, creds: creds, roles: slices.Clone(roles)}
	return nil
}

func checkMechanisms(mechanisms []string) *commandError {
	for _, m := range mechanisms {
		if !slices.Contains(allMechanisms, m) {
			return &commandError{code: codeBadValue, codeName: "BadValue", msg: fmt.Sprintf("Unknown auth mechanism '%s'", m)}
		}
	}
	return nil
}

// lookup returns the stored credentials of name@db for mechanism.
func (s *Server) lookup(db, name, mechanism string) (scram.StoredCredentials, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userKey(db, name)]
	if u == nil {
		return scram.StoredCredentials{}, false
	}
	c, ok := u.creds[mechanism]
	return c, ok
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.listener.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.peakConns = max(s.peakConns, len(s.conns))
		s.wg.Add(1)
		s.mu.Unlock()
		cs := &connState{s: s, id: s.connIDs.Add(1)}
		go func() {
			defer s.wg.Done()
			cs.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

// connState is one client connection: who authenticated on it and the SASL
// conversation in progress.
type connState struct {
	s    *Server
	id   int32
	user *user // nil: not authenticated

	sasl *saslConversation
}

func (cs *connState) serve(c net.Conn) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	for {
		msg, err := wiremsg.ReadMessage(r)
		if err != nil {
			// A closed connection, a malformed message or an opcode this
			// server does not speak (OP_COMPRESSED: hello offers no
			// compression) ends the connection, as the server does.
			return
		}
		reply := cs.handle(&request{db: msg.Database(), cmd: msg.Command()})
		if msg.MoreToCome() {
			continue
		}
		if _, err := w.Write(wiremsg.EncodeReply(msg, cs.s.requestID.Add(1), reply)); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}
