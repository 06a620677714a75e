package mongosim

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// topology is the replica set's view of itself: who is primary, the
// election term and the config version.
type topology struct {
	mu         sync.RWMutex
	primary    *member // nil: no primary
	term       int64
	setVersion int32
}

func (t *topology) init(s *Sim) {
	t.setVersion = 1
	if s.mode == modeReplicaSet {
		t.primary, t.term = s.members[0], 1
	}
}

func (t *topology) isPrimary(m *member) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.primary == m
}

func (t *topology) primaryHost() string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.primary == nil {
		return ""
	}
	return t.primary.host
}

func (t *topology) snapshot() (primary *member, term int64, setVersion int32) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.primary, t.term, t.setVersion
}

// electionID is the server's OID::fromTerm(term): 0x7fffffff followed by
// the term as a big-endian 64-bit integer (src/mongo/bson/oid.cpp; the
// replication coordinator sets electionId = OID::fromTerm(term) on winning
// an election, e.g. ObjectId("7fffffff0000000000000001") for term 1).
func electionID(term int64) [12]byte {
	var id [12]byte
	binary.BigEndian.PutUint32(id[:4], 0x7fffffff)
	binary.BigEndian.PutUint64(id[4:], uint64(term))
	return id
}

// helloRewritten are the topology fields the proxy replaces or removes in
// FerretDB's hello reply. topologyVersion is removed so that drivers poll
// instead of streaming (SDAM: a server without topologyVersion is not
// streamable); compression is removed so that no OP_COMPRESSED arrives.
var helloRewritten = map[string]bool{
	"ismaster": true, "isWritablePrimary": true, "secondary": true, "setName": true,
	"setVersion": true, "hosts": true, "passives": true, "arbiters": true, "primary": true,
	"me": true, "electionId": true, "topologyVersion": true, "compression": true, "msg": true,
	"lastWrite": true, "arbiterOnly": true, "passive": true, "hidden": true, "tags": true,
}

// hello forwards hello / isMaster to FerretDB (which answers the wire
// versions, limits, saslSupportedMechs and speculativeAuthenticate) and
// rewrites the topology fields as the member would report them.
func (c *conn) hello(ci *call) (bsoncore.Document, error) {
	s := c.m.sim
	if ci.lname == "hello" || boolField(ci.cmd, "helloOk") {
		c.supportsHello = true
	}
	fwd := s.personalityHelloRequest(ci.cmd)
	c.auth.speculativeStart(fwd)
	reply, err := c.forward(ci, fwd)
	if err != nil || reply == nil {
		return reply, err
	}
	c.auth.speculativeReply(reply)
	reply = s.personalityHelloReply(reply)
	return c.m.rewriteHello(reply), nil
}

func (m *member) rewriteHello(up bsoncore.Document) bsoncore.Document {
	s := m.sim
	writableKey := "ismaster"
	if hasField(up, "isWritablePrimary") {
		writableKey = "isWritablePrimary"
	}
	b := bsoncore.NewDocumentBuilder()
	switch s.mode {
	case modeReplicaSet:
		primary, term, setVersion := s.topo.snapshot()
		isPrimary := primary == m
		hosts := bsoncore.NewArrayBuilder()
		for _, h := range s.Hosts() {
			hosts.AppendString(h)
		}
		b.AppendArray("hosts", hosts.Build()).
			AppendString("setName", s.opts.SetName).
			AppendInt32("setVersion", setVersion).
			AppendBoolean(writableKey, isPrimary).
			AppendBoolean("secondary", !isPrimary)
		if primary != nil {
			b.AppendString("primary", primary.host)
		}
		b.AppendString("me", m.host)
		if isPrimary {
			b.AppendObjectID("electionId", electionID(term))
		}
		at := s.repl.lastAppliedAt(m)
		b.AppendDocument("lastWrite", bsoncore.NewDocumentBuilder().
			AppendDocument("opTime", bsoncore.NewDocumentBuilder().
				AppendTimestamp("ts", uint32(at.Unix()), 1).
				AppendInt64("t", term).Build()).
			AppendDateTime("lastWriteDate", at.UnixMilli()).Build())
	case modeSharded:
		b.AppendBoolean(writableKey, true).AppendString("msg", "isdbgrid")
	default:
		b.AppendBoolean(writableKey, true)
	}
	elems, _ := up.Elements()
	for _, e := range elems {
		if !helloRewritten[e.Key()] {
			b.AppendValue(e.Key(), e.Value())
		}
	}
	return b.Build()
}

func boolField(doc bsoncore.Document, key string) bool {
	v, err := doc.LookupErr(key)
	if err != nil {
		return false
	}
	if b, ok := v.BooleanOK(); ok {
		return b
	}
	if n, ok := intValue(v); ok {
		return n != 0
	}
	return false
}

// StepDownOptions tunes StepDown.
type StepDownOptions struct {
	// LoseUnreplicated drops from the log the user changes the new primary
	// has not applied, and rolls back the members that had applied them
	// (as a server that rejoins after a failover rolls back its unreplicated
	// writes, src/mongo/db/repl/rollback_impl.cpp). Without it the new
	// primary first catches up on every logged change.
	LoseUnreplicated bool
}

// StepDown ends the current primary's term: it closes every client
// connection on every proxy (as the server does on a step-down), then makes
// newPrimary primary in a new term with a larger electionId. newPrimary ""
// leaves the set without a primary (every member answers hello as a
// secondary and refuses writes) until Elect.
func (s *Sim) StepDown(newPrimary string, opts StepDownOptions) error {
	if s.mode != modeReplicaSet {
		return fmt.Errorf("mongosim: StepDown needs a replica set, not %s", s.describe())
	}
	var next *member
	if newPrimary != "" {
		m, err := s.member(newPrimary)
		if err != nil {
			return err
		}
		next = m
	}
	s.stepMu.Lock()
	defer s.stepMu.Unlock()

	// No user change may be between its primary check and its log entry.
	s.gate.Lock()
	s.topo.mu.Lock()
	old := s.topo.primary
	s.topo.primary = nil
	s.topo.mu.Unlock()
	s.gate.Unlock()

	for _, m := range s.members {
		m.closeConns()
	}
	if next == nil {
		s.logger.Printf("step-down: %s stepped down; no primary", hostOf(old))
		return nil
	}
	return s.elect(next, opts.LoseUnreplicated, old)
}

// Elect makes host primary in a new term, after it has caught up on every
// logged user change. It is how a set without a primary gets one back.
func (s *Sim) Elect(host string) error {
	if s.mode != modeReplicaSet {
		return fmt.Errorf("mongosim: Elect needs a replica set, not %s", s.describe())
	}
	m, err := s.member(host)
	if err != nil {
		return err
	}
	s.stepMu.Lock()
	defer s.stepMu.Unlock()
	s.gate.Lock()
	s.topo.mu.Lock()
	old := s.topo.primary
	s.topo.primary = nil
	s.topo.mu.Unlock()
	s.gate.Unlock()
	if old != nil {
		for _, x := range s.members {
			x.closeConns()
		}
	}
	return s.elect(m, false, old)
}

func (s *Sim) elect(next *member, lose bool, old *member) error {
	var err error
	if lose {
		var dropped int
		dropped, err = s.repl.rollBack(next)
		s.logger.Printf("failover: %s drops %d unreplicated user change(s)", next.host, dropped)
	} else {
		err = s.repl.catchUp(next)
	}
	s.topo.mu.Lock()
	s.topo.term++
	s.topo.primary = next
	term := s.topo.term
	s.topo.mu.Unlock()
	s.logger.Printf("failover: %s -> %s, term %d", hostOf(old), next.host, term)
	return err
}

func hostOf(m *member) string {
	if m == nil {
		return "(none)"
	}
	return m.host
}

// lastAppliedAt is when the member last applied a user change (or when the
// simulator started): its lastWrite.lastWriteDate.
func (r *replicator) lastAppliedAt(m *member) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.lastApplied[m]; ok {
		return t
	}
	return r.s.started
}
