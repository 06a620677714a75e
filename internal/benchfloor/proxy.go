package benchfloor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

// Proxy is a TCP proxy in front of one MongoDB server that counts what
// crosses it: connections (opened, open at once), commands by name, and
// SCRAM conversations. Messages pass through unchanged; they are parsed
// with the driver's own wiremessage and bsoncore packages, as
// internal/mongosim does, only far enough to name the command.
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
		msg, err := readFrame(r)
		if err == nil {
			inspect(msg)
			_, err = dst.Write(msg)
		}
		if err != nil {
			break
		}
	}
}

// maxFrame bounds a message, as MongoDB's maxMessageSizeBytes does.
const maxFrame = 48_000_000

// readFrame reads one whole wire message: the 16-byte header says how long
// it is.
func readFrame(r io.Reader) ([]byte, error) {
	var header [16]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length, _, _, _, _, _ := wiremessage.ReadHeader(header[:])
	if length < 16 || length > maxFrame {
		return nil, fmt.Errorf("wire message of %d bytes", length)
	}
	msg := make([]byte, length)
	copy(msg, header[:])
	_, err := io.ReadFull(r, msg[16:])
	return msg, err
}

// request counts a client's message: the command it names, and a login if
// it is saslStart.
func (p *Proxy) request(msg []byte) {
	doc, err := commandDocument(msg)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.unparsed(err)
		return
	}
	name := firstKey(doc)
	p.counts.Commands[name]++
	if strings.EqualFold(name, "saslStart") {
		p.counts.Logins++
	}
}

// reply counts a server's answer to a speculative authentication: the
// conversation started inside the handshake.
func (p *Proxy) reply(msg []byte) {
	doc, err := commandDocument(msg)
	if err != nil {
		p.mu.Lock()
		p.unparsed(err)
		p.mu.Unlock()
		return
	}
	if _, err := doc.LookupErr("speculativeAuthenticate"); err == nil {
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

// opQuery is OP_QUERY, which the driver still sends for the legacy hello
// of its handshake.
const opQuery wiremessage.OpCode = 2004

// commandDocument returns a message's command or reply document: the body
// section of OP_MSG, the query of OP_QUERY (unwrapped from $query), the
// first document of OP_REPLY.
//
//nolint:staticcheck // OP_QUERY and OP_REPLY are deprecated, yet the handshake uses them.
func commandDocument(msg []byte) (bsoncore.Document, error) {
	_, _, _, opcode, rem, ok := wiremessage.ReadHeader(msg)
	if !ok {
		return nil, errors.New("malformed wire message header")
	}
	switch opcode {
	case wiremessage.OpMsg:
		return opMsgBody(rem)
	case opQuery:
		_, rem, ok := wiremessage.ReadQueryFlags(rem)
		if ok {
			_, rem, ok = wiremessage.ReadQueryFullCollectionName(rem)
		}
		if ok {
			_, rem, ok = wiremessage.ReadQueryNumberToSkip(rem)
		}
		if ok {
			_, rem, ok = wiremessage.ReadQueryNumberToReturn(rem)
		}
		var q bsoncore.Document
		if ok {
			q, _, ok = wiremessage.ReadQueryQuery(rem)
		}
		if !ok {
			return nil, errors.New("malformed OP_QUERY")
		}
		if inner, ok := q.Lookup("$query").DocumentOK(); ok {
			return inner, nil
		}
		return q, nil
	case wiremessage.OpReply:
		_, rem, ok := wiremessage.ReadReplyFlags(rem)
		if ok {
			_, rem, ok = wiremessage.ReadReplyCursorID(rem)
		}
		if ok {
			_, rem, ok = wiremessage.ReadReplyStartingFrom(rem)
		}
		if ok {
			_, rem, ok = wiremessage.ReadReplyNumberReturned(rem)
		}
		var doc bsoncore.Document
		if ok {
			doc, _, ok = wiremessage.ReadReplyDocument(rem)
		}
		if !ok {
			return nil, errors.New("malformed OP_REPLY")
		}
		return doc, nil
	default:
		return nil, fmt.Errorf("wire-protocol opcode %s (%d) not understood", opcode, opcode)
	}
}

// opMsgBody returns the kind-0 section of an OP_MSG (after the header).
func opMsgBody(rem []byte) (bsoncore.Document, error) {
	flags, rem, ok := wiremessage.ReadMsgFlags(rem)
	if !ok {
		return nil, errors.New("malformed OP_MSG flags")
	}
	if flags&wiremessage.ChecksumPresent != 0 && len(rem) >= 4 {
		rem = rem[:len(rem)-4]
	}
	for len(rem) > 0 {
		stype, r2, ok := wiremessage.ReadMsgSectionType(rem)
		if !ok {
			return nil, errors.New("malformed OP_MSG section")
		}
		switch stype {
		case wiremessage.SingleDocument:
			doc, _, ok := wiremessage.ReadMsgSectionSingleDocument(r2)
			if !ok {
				return nil, errors.New("malformed OP_MSG body")
			}
			return doc, nil
		case wiremessage.DocumentSequence:
			_, _, r3, ok := wiremessage.ReadMsgSectionRawDocumentSequence(r2)
			if !ok {
				return nil, errors.New("malformed OP_MSG document sequence")
			}
			rem = r3
		default:
			return nil, fmt.Errorf("OP_MSG section kind %d", stype)
		}
	}
	return nil, errors.New("OP_MSG without a body section")
}

// firstKey is a command's name: its document's first key.
func firstKey(doc bsoncore.Document) string {
	if e, err := doc.IndexErr(0); err == nil {
		return e.Key()
	}
	return "(empty)"
}
