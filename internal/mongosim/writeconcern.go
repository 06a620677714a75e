package mongosim

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

// writeConcern is a parsed writeConcern argument
// (src/mongo/db/write_concern_options.cpp).
type writeConcern struct {
	wNum       int    // w as a number
	wMode      string // w as a string ("majority" or a tag)
	wtimeout   int64  // milliseconds; 0: wait for ever
	j          *bool
	provenance string // "clientSupplied" or "implicitDefault"
}

// parseWriteConcern reads the command's writeConcern. Without one, a
// replica set uses its implicit default {w: "majority"} (MongoDB 5.0 and
// later: "Implicit Default Write Concern" in the write-concern manual). It
// returns an error reply for a w the server refuses to parse.
func parseWriteConcern(cmd bsoncore.Document) (writeConcern, bsoncore.Document) {
	wc := writeConcern{wMode: "majority", provenance: "implicitDefault"}
	v, err := cmd.LookupErr("writeConcern")
	if err != nil {
		return wc, nil
	}
	doc, ok := v.DocumentOK()
	if !ok || len(doc) <= 5 {
		return wc, nil // {} is the default too
	}
	wc = writeConcern{wNum: 1, provenance: "clientSupplied"}
	if w, err := doc.LookupErr("w"); err == nil {
		if s, ok := w.StringValueOK(); ok {
			wc.wMode, wc.wNum = s, 0
		} else if n, ok := intValue(w); ok {
			if n < 0 || n > 50 {
				return wc, errorReply(9, "FailedToParse", "w has to be a non-negative number and not greater than 50")
			}
			wc.wNum = int(n)
		}
	}
	if t, err := doc.LookupErr("wtimeout"); err == nil {
		if n, ok := intValue(t); ok {
			wc.wtimeout = n
		}
	}
	if j, err := doc.LookupErr("j"); err == nil {
		if b, ok := j.BooleanOK(); ok {
			wc.j = &b
		}
	}
	return wc, nil
}

// toBSON is WriteConcernOptions::toBSON: {w, j?, wtimeout, provenance}.
func (wc writeConcern) toBSON() bsoncore.Document {
	b := bsoncore.NewDocumentBuilder()
	if wc.wMode != "" {
		b.AppendString("w", wc.wMode)
	} else {
		b.AppendInt32("w", int32(wc.wNum))
	}
	if wc.j != nil {
		b.AppendBoolean("j", *wc.j)
	}
	b.AppendInt32("wtimeout", int32(wc.wtimeout))
	b.AppendString("provenance", wc.provenance)
	return b.Build()
}

// writeConcernError builds the reply field the server adds when waiting
// for replication failed: CommandHelpers::appendCommandWCStatus in
// src/mongo/db/commands.cpp with WriteConcernErrorDetail::toBSON
// ({code, codeName, errmsg, errInfo}) and errInfo {wtimeout: true when it
// timed out, writeConcern: the write concern used}.
func writeConcernError(code int32, errmsg string, timedOut bool, wc writeConcern) bsoncore.Document {
	info := bsoncore.NewDocumentBuilder()
	if timedOut {
		info.AppendBoolean("wtimeout", true)
	}
	info.AppendDocument("writeConcern", wc.toBSON())
	return bsoncore.NewDocumentBuilder().
		AppendInt32("code", code).
		AppendString("codeName", codeNames[code]).
		AppendString("errmsg", errmsg).
		AppendDocument("errInfo", info.Build()).
		Build()
}

// withWriteConcernError adds writeConcernError to a command reply, before ok.
func withWriteConcernError(reply, wce bsoncore.Document) bsoncore.Document {
	elems, _ := reply.Elements()
	idx, b := bsoncore.AppendDocumentStart(nil)
	added := false
	for _, e := range elems {
		if e.Key() == "ok" && !added {
			b = bsoncore.AppendDocumentElement(b, "writeConcernError", wce)
			added = true
		}
		b = append(b, e...)
	}
	if !added {
		b = bsoncore.AppendDocumentElement(b, "writeConcernError", wce)
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}

// awaitWriteConcern waits until enough members applied e, as the primary
// does before it replies (ReplicationCoordinatorImpl::awaitReplication).
// It returns the reply, with a writeConcernError when the wait failed, or
// nil when the client went away first.
//
// The command's maxTimeMS bounds the wait too: when it expires first the
// reply is ok: 1 with writeConcernError MaxTimeMSExpired (50), as in the
// server's jstest "Tests timeout behavior of waiting for write concern as
// well as its interaction with maxTimeMs" (wtimeout < maxTimeMS gives 64,
// maxTimeMS < wtimeout gives 50).
func (r *replicator) awaitWriteConcern(ctx context.Context, ci *call, e *entry, wc writeConcern, reply bsoncore.Document) bsoncore.Document {
	if r.s.mode != modeReplicaSet {
		return reply
	}
	need := wc.wNum
	switch {
	case wc.wMode == "majority":
		need = r.s.majority()
	case wc.wMode != "":
		// src/mongo/db/repl/repl_set_config.cpp: an unknown tag-set mode.
		return withWriteConcernError(reply, writeConcernError(codeUnknownReplWriteConcern,
			"No write concern mode named '"+wc.wMode+"' found in replica set configuration", false, wc))
	case need > len(r.s.members):
		// src/mongo/db/repl/replication_coordinator_impl.cpp,
		// _checkIfWriteConcernCanBeSatisfied_inlock.
		return withWriteConcernError(reply, writeConcernError(codeUnsatisfiableWriteConcern,
			"Not enough data-bearing nodes", false, wc))
	}
	var deadline, maxTime <-chan time.Time
	if wc.wtimeout > 0 {
		t := time.NewTimer(time.Duration(wc.wtimeout) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	if ms, ok := intValue(ci.cmd.Lookup("maxTimeMS")); ok && ms > 0 {
		t := time.NewTimer(time.Until(ci.start.Add(time.Duration(ms) * time.Millisecond)))
		defer t.Stop()
		maxTime = t.C
	}
	for {
		r.mu.Lock()
		n := 0
		for _, ok := range e.applied {
			if ok {
				n++
			}
		}
		ch := r.changed
		r.mu.Unlock()
		if n >= need {
			return reply
		}
		select {
		case <-ch:
		case <-deadline:
			// replication_coordinator_impl.cpp: {WriteConcernFailed, "waiting for replication timed out"}.
			return withWriteConcernError(reply, writeConcernError(codeWriteConcernFailed,
				"waiting for replication timed out", true, wc))
		case <-maxTime:
			// OperationContext's deadline: {MaxTimeMSExpired, "operation exceeded time limit"}.
			return withWriteConcernError(reply, writeConcernError(codeMaxTimeMSExpired,
				"operation exceeded time limit", false, wc))
		case <-ctx.Done():
			return nil
		case <-r.s.stopped:
			return nil
		}
	}
}

// userWrite runs createUser / updateUser / dropUser: on the primary's
// FerretDB (writeConcern stripped), logged when it succeeded, replicated,
// then answered once the write concern is satisfied.
func (c *conn) userWrite(ci *call) (bsoncore.Document, error) {
	s := c.m.sim
	wc, bad := parseWriteConcern(ci.cmd)
	if bad != nil {
		return bad, nil
	}
	name, _ := ci.cmd.Lookup(ci.name).StringValueOK()
	key := userKey{db: ci.db, user: name}
	fwd := withoutFields(ci.cmd, "writeConcern")

	s.gate.RLock()
	if !c.m.writable() {
		s.gate.RUnlock()
		return c.notPrimary(ci), nil
	}
	unlock := s.repl.lockUser(key)
	fc := ci
	if ci.req.MoreToCome() {
		// An unacknowledged (w:0) change still needs FerretDB's answer to be
		// logged; the client gets none.
		req := *ci.req
		req.Flags &^= wiremessage.MoreToCome
		cp := *ci
		cp.req = &req
		fc = &cp
	}
	reply, err := c.forward(fc, fwd)
	var e *entry
	if err == nil && reply != nil && okValue(reply) {
		e = s.repl.append(c.m, canonicalUserOp(ci.lname), key, replayCommand(fwd))
	}
	unlock()
	s.gate.RUnlock()
	if err != nil || e == nil {
		return reply, err
	}
	s.repl.waitSync(c.ctx, e)
	if ci.quiet {
		return reply, nil
	}
	select {
	case <-c.ctx.Done():
		return nil, nil // the client is gone: no reply
	default:
	}
	return s.repl.awaitWriteConcern(c.ctx, ci, e, wc, reply), nil
}

func canonicalUserOp(lname string) string {
	switch lname {
	case "createuser":
		return "createUser"
	case "updateuser":
		return "updateUser"
	default:
		return "dropUser"
	}
}
