package benchfloor

import (
	"bufio"
	"maps"
	"net"
	"strings"
	"sync"

	"github.com/segura-community/terraform-provider-segura/internal/wiremsg"
)

// Proxy is a TCP proxy in front of one MongoDB server that counts what
// crosses it: connections (opened, open at once), commands by name, and
// SCRAM conversations. Messages pass through unchanged; they are parsed
// with internal/wiremsg, as internal/mongosim's are, to name the command.
//
// A SCRAM conversation (a login) starts either with a saslStart command or
// inside the connection handshake: the driver's hello carries
// speculativeAuthenticate, and a server that takes it answers with a
// speculativeAuthenticate document, saving the saslStart round trip. Both
// are counted; a speculative attempt the server ignores is not (the
// driver then sends saslStart, which is).
type Proxy struct {
	upstream string
	ln       net.Listener
	wg       sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]bool // both sides of every open connection
	open     int               // client connections open now
	counts   Counts
	closed   bool
	parseErr error // the first message the proxy could not parse
}

// Counts is what the proxy saw since it started or was last Reset.
type Counts struct {
	Logins         int            `json:"logins"`          // SCRAM conversations started
	Connections    int            `json:"connections"`     // client connections accepted
	MaxConcurrent  int            `json:"max_concurrent"`  // most client connections open at once
	Commands       map[string]int `json:"commands"`        // requests by command name (hello, saslStart, updateUser, ...)
	UnparsedFrames int            `json:"unparsed_frames"` // messages that were passed on without being understood
}

// StartProxy listens on a free port of 127.0.0.1 and forwards every
// connection to upstream ("host:port").
func StartProxy(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{upstream: upstream, ln: ln, conns: map[net.Conn]bool{}, counts: Counts{Commands: map[string]int{}}}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the proxy's "host:port", for a device's address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Counts returns a copy of the counters.
func (p *Proxy) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts
	c.Commands = maps.Clone(p.counts.Commands)
	return c
}

// Reset zeroes the counters; MaxConcurrent starts again from the
// connections open now.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = Counts{Commands: map[string]int{}, MaxConcurrent: p.open}
}

// Err returns the first message the proxy could not parse, if any: the
// counts are then incomplete.
func (p *Proxy) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.parseErr
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = client.Close()
			continue
		}
		if !p.track(client, server) {
			_ = client.Close()
			_ = server.Close()
			return
		}
		// Whichever side ends first ends the connection, once.
		done := sync.OnceFunc(func() {
			_ = client.Close()
			_ = server.Close()
			p.untrack(client, server)
		})
		p.wg.Add(2)
		go p.pipe(client, server, p.request, done)
		go p.pipe(server, client, p.reply, done)
	}
}

// track registers a new connection pair; false once the proxy is closed.
func (p *Proxy) track(client, server net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[client], p.conns[server] = true, true
	p.open++
	p.counts.Connections++
	p.counts.MaxConcurrent = max(p.counts.MaxConcurrent, p.open)
	return true
}

// untrack forgets a connection pair that has ended.
func (p *Proxy) untrack(client, server net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.open--
}

// pipe copies whole messages from src to dst, showing each to inspect,
// until either side closes; then it calls done.
func (p *Proxy) pipe(src, dst net.Conn, inspect func(msg []byte), done func()) {
	defer p.wg.Done()
	defer done()
	r := bufio.NewReaderSize(src, 64<<10)
	for {
		msg, err := wiremsg.ReadFrame(r)
		if err == nil {
			inspect(msg)
			_, err = dst.Write(msg)
		}
		if err != nil {
			break
		}
	}
}

// request counts a client's message: the command it names, and a login if
// it is saslStart.
func (p *Proxy) request(msg []byte) {
	m, err := wiremsg.Parse(msg)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.unparsed(err)
		return
	}
	name := wiremsg.CommandName(m.Command())
	if name == "" {
		name = "(empty)"
	}
	p.counts.Commands[name]++
	if strings.EqualFold(name, "saslStart") {
		p.counts.Logins++
	}
}

// reply counts a server's answer to a speculative authentication: the
// conversation started inside the handshake.
func (p *Proxy) reply(msg []byte) {
	m, err := wiremsg.Parse(msg)
	if err != nil {
		p.mu.Lock()
		p.unparsed(err)
		p.mu.Unlock()
		return
	}
	if _, err := m.Body.LookupErr("speculativeAuthenticate"); err == nil {
		p.mu.Lock()
		p.counts.Logins++
		p.mu.Unlock()
	}
}

// unparsed records a message that could not be read; callers hold p.mu.
func (p *Proxy) unparsed(err error) {
	p.counts.UnparsedFrames++
	if p.parseErr == nil {
		p.parseErr = err
	}
}
