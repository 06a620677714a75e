package mongosim

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/segura-community/terraform-provider-segura/internal/ferretdb"
	"github.com/segura-community/terraform-provider-segura/internal/wiremsg"
)

// member is one replica-set member (or router): a proxy listener in front
// of its own FerretDB.
type member struct {
	sim      *Sim
	index    int
	host     string // the proxy's address, as every hello reports it
	ln       net.Listener
	fdb      *ferretdb.Server
	upstream string // FerretDB's host:port

	connsMu sync.Mutex
	conns   map[*conn]struct{}

	// applyMu serialises applying log entries to this member's FerretDB
	// (the replication applier, catch-up and roll-back).
	applyMu sync.Mutex

	// The simulator's own admin session on this member's FerretDB, used to
	// replicate user changes. adminPwd follows the admin user's password as
	// this member holds it (it may be rotated through the simulator).
	adminMu      sync.Mutex
	adminPwd     string
	adminClient  *mongo.Client
	adminLogged  string // adminPwd the client was built with
	lastApplyErr string
}

var replyIDs atomic.Int32

func (m *member) acceptLoop() {
	defer m.sim.wg.Done()
	for {
		nc, err := m.ln.Accept()
		if err != nil {
			return // listener closed by Stop
		}
		c := &conn{m: m, client: nc, reqs: make(chan *wiremsg.Message, 16)}
		c.ctx, c.cancel = context.WithCancel(context.Background())
		m.connsMu.Lock()
		select {
		case <-m.sim.stopped:
			m.connsMu.Unlock()
			_ = nc.Close()
			return
		default:
		}
		m.conns[c] = struct{}{}
		m.sim.wg.Add(2)
		m.connsMu.Unlock()
		go c.readLoop()
		go c.serve()
	}
}

// closeConns closes every client connection of this proxy. Each
// connection's handler notices, finishes what it holds, and closes its
// FerretDB connection.
func (m *member) closeConns() int {
	m.connsMu.Lock()
	defer m.connsMu.Unlock()
	n := len(m.conns)
	for c := range m.conns {
		c.cancel()
		_ = c.client.Close()
	}
	return n
}

func (m *member) connCount() int {
	m.connsMu.Lock()
	defer m.connsMu.Unlock()
	return len(m.conns)
}

// writable reports whether this member accepts writes now.
func (m *member) writable() bool {
	if m.sim.mode != modeReplicaSet {
		return true
	}
	return m.sim.topo.isPrimary(m)
}

func (m *member) state() string {
	switch m.sim.mode {
	case modeStandalone:
		return "STANDALONE"
	case modeSharded:
		return "MONGOS"
	}
	if m.sim.topo.isPrimary(m) {
		return "PRIMARY"
	}
	return "SECONDARY"
}

// conn is one client connection and its own connection to the member's
// FerretDB: SCRAM conversations and the authenticated user are per
// connection on both sides.
type conn struct {
	m      *member
	client net.Conn
	up     net.Conn
	ctx    context.Context // cancelled when the client goes away
	cancel context.CancelFunc
	reqs   chan *wiremsg.Message

	auth          authState
	supportsHello bool // the client used hello or helloOk (server's "not primary" wording)
}

// call is one command being handled.
type call struct {
	req   *wiremsg.Message
	start time.Time         // when the proxy received it (maxTimeMS counts from here)
	cmd   bsoncore.Document // the command document (OP_MSG body with $db)
	name  string            // command name as sent
	lname string            // lower-cased
	db    string
	// quiet: the reply is going to be discarded (Stall) or lost (DropReply);
	// the write-concern wait is skipped.
	quiet bool
}

func (c *conn) readLoop() {
	defer c.m.sim.wg.Done()
	defer close(c.reqs)
	defer c.cancel()
	for {
		msg, err := wiremsg.ReadMessage(c.client)
		if err != nil {
			if errors.Is(err, wiremsg.ErrUnsupportedOpcode) {
				c.m.sim.logger.Printf("%s: closing a connection: %v", c.m.host, err)
			}
			return
		}
		select {
		case c.reqs <- msg:
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *conn) serve() {
	defer c.m.sim.wg.Done()
	defer func() {
		c.cancel()
		_ = c.client.Close()
		if c.up != nil {
			_ = c.up.Close()
		}
		c.m.connsMu.Lock()
		delete(c.m.conns, c)
		c.m.connsMu.Unlock()
		for range c.reqs { // drain, so that readLoop can exit
		}
	}()
	up, err := net.DialTimeout("tcp", c.m.upstream, 10*time.Second)
	if err != nil {
		c.m.sim.logger.Printf("%s: cannot reach FerretDB: %v", c.m.host, err)
		return
	}
	c.up = up
	for req := range c.reqs {
		if c.ctx.Err() != nil {
			return
		}
		if !c.handle(req) {
			return
		}
	}
}

// handle answers one request; false closes the connection.
func (c *conn) handle(req *wiremsg.Message) bool {
	cmd := req.Command()
	ci := &call{req: req, start: time.Now(), cmd: cmd, name: wiremsg.CommandName(cmd), db: req.Database()}
	ci.lname = strings.ToLower(ci.name)
	s := c.m.sim

	if f := s.faults.take(ci.name, c.m.host, c.targetUser(ci)); f != nil {
		s.logger.Printf("%s: fault %s on %s", c.m.host, f.Action, ci.name)
		switch f.Action {
		case FaultDropConnection:
			return false
		case FaultDelay:
			if !sleepCtx(c.ctx, f.Delay) {
				return false
			}
		case FaultError:
			return c.send(ci, errorReply(f.Code, f.CodeName, f.Errmsg, retryLabels(ci, f.Code)...))
		case FaultDropReply:
			ci.quiet = true
			_, _ = c.process(ci)
			return false
		case FaultStall:
			if f.Delay > 0 {
				_ = sleepCtx(c.ctx, f.Delay)
			} else {
				<-c.ctx.Done()
			}
			ci.quiet = true
			_, _ = c.process(ci) // lands after the client gave up; the reply is discarded
			return false
		}
	}
	reply, err := c.process(ci)
	if err != nil {
		if c.ctx.Err() == nil {
			s.logger.Printf("%s: %s: %v", c.m.host, ci.name, err)
		}
		return false
	}
	if reply == nil {
		return c.ctx.Err() == nil // moreToCome, or the client went away while we waited
	}
	return c.send(ci, reply)
}

func (c *conn) send(ci *call, reply bsoncore.Document) bool {
	if ci.req.MoreToCome() {
		return true
	}
	_, err := c.client.Write(wiremsg.EncodeReply(ci.req, replyIDs.Add(1), reply))
	return err == nil
}

// process runs a command through the simulated behaviours and returns the
// reply to send (nil: none).
func (c *conn) process(ci *call) (bsoncore.Document, error) {
	s := c.m.sim
	switch ci.lname {
	case "hello", "ismaster":
		return c.hello(ci)
	}
	s.personalityRewrite(ci)
	if r := s.personalityRefusal(c, ci); r != nil {
		return r, nil
	}
	switch ci.lname {
	case "saslstart", "saslcontinue":
		return c.sasl(ci)
	case "logout":
		c.auth = authState{}
		return c.forward(ci, ci.cmd)
	case "connectionstatus":
		return c.connectionStatus(ci), nil
	case "invalidateusercache":
		return c.invalidateUserCache(ci)
	}
	if r := c.authorize(ci); r != nil {
		return r, nil
	}
	if isUserWrite(ci.lname) {
		return c.userWrite(ci)
	}
	if !isReadCommand(ci.lname) && !c.m.writable() {
		return c.notPrimary(ci), nil
	}
	return c.forward(ci, withoutFields(ci.cmd, "writeConcern"))
}

// forward sends the command to this connection's FerretDB and returns its
// reply (nil for a moreToCome request).
func (c *conn) forward(ci *call, cmd bsoncore.Document) (bsoncore.Document, error) {
	req := ci.req.WithCommand(cmd)
	if _, err := c.up.Write(req.Encode()); err != nil {
		return nil, err
	}
	if req.MoreToCome() {
		return nil, nil
	}
	reply, err := wiremsg.ReadMessage(c.up)
	if err != nil {
		return nil, err
	}
	return reply.Body, nil
}

func (c *conn) notPrimary(ci *call) bsoncore.Document {
	msg := "not master"
	if c.supportsHello {
		msg = "not primary"
	}
	return errorReply(codeNotWritablePrimary, "NotWritablePrimary", msg, retryLabels(ci, codeNotWritablePrimary)...)
}

// retryLabels is the server's errorLabels for a failed command: a retryable
// write (txnNumber without autocommit) failing with a RetriableError code
// is labelled RetryableWriteError (src/mongo/db/error_labels.cpp).
func retryLabels(ci *call, code int32) []string {
	if retriableCodes[code] && hasField(ci.cmd, "txnNumber") && !hasField(ci.cmd, "autocommit") {
		return []string{"RetryableWriteError"}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// isUserWrite: the user-management commands whose effect the simulator
// replicates.
func isUserWrite(lname string) bool {
	switch lname {
	case "createuser", "updateuser", "dropuser":
		return true
	}
	return false
}

// readCommands are the commands a secondary runs itself; anything else is
// a write there and answers NotWritablePrimary, as the server's command
// dispatch does for commands that are not allowed on secondaries
// (src/mongo/db/service_entry_point_common.cpp).
var readCommands = map[string]bool{
	"hello": true, "ismaster": true, "ping": true, "buildinfo": true, "saslstart": true,
	"saslcontinue": true, "authenticate": true, "logout": true, "getnonce": true,
	"connectionstatus": true, "whatsmyuri": true, "getlog": true, "getparameter": true,
	"getcmdlineopts": true, "serverstatus": true, "hostinfo": true, "listdatabases": true,
	"listcollections": true, "listindexes": true, "find": true, "getmore": true,
	"killcursors": true, "aggregate": true, "count": true, "distinct": true, "dbstats": true,
	"collstats": true, "datasize": true, "usersinfo": true, "rolesinfo": true, "explain": true,
	"endsessions": true, "startsession": true, "killsessions": true, "listcommands": true,
	"validate": true, "currentop": true, "killop": true, "top": true, "lockinfo": true,
	"connpoolstats": true, "features": true, "invalidateusercache": true,
	"getdefaultrwconcern": true, "replsetgetstatus": true, "replsetgetconfig": true,
	"dbhash": true, "getfreemonitoringstatus": true, "isdbgrid": true,
}

func isReadCommand(lname string) bool { return readCommands[lname] }
