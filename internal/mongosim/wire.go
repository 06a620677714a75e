package mongosim

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

// maxMessageSize bounds what the proxy reads from either side; MongoDB's
// maxMessageSizeBytes is 48,000,000, which FerretDB reports too.
const maxMessageSize = 48_000_000

// message is one wire-protocol message, parsed with the driver's
// wiremessage and bsoncore packages. Only the opcodes the Go driver sends
// (OP_QUERY for the legacy handshake, OP_MSG afterwards) and the replies to
// them (OP_REPLY, OP_MSG) are understood.
type message struct {
	requestID  int32
	responseTo int32
	opcode     wiremessage.OpCode

	// OP_MSG
	flags     wiremessage.MsgFlag
	body      bsoncore.Document
	sequences []byte // the kind-1 sections, verbatim (type byte included)

	// OP_QUERY (request) and OP_REPLY (reply)
	queryFlags wiremessage.QueryFlag
	namespace  string            // OP_QUERY full collection name, e.g. "admin.$cmd"
	query      bsoncore.Document // OP_QUERY document as sent (maybe wrapped in $query)
	rest       []byte            // OP_QUERY bytes after the query (returnFieldsSelector)
	replyFlags wiremessage.ReplyFlag
}

var errUnsupportedOpcode = errors.New("unsupported wire-protocol opcode")

// opQuery is OP_QUERY (2004), which the driver deprecates for commands but
// still sends for the legacy hello of its connection handshake.
const opQuery wiremessage.OpCode = 2004

// readMessage reads one whole message.
func readMessage(r io.Reader) (*message, error) {
	var header [16]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length, _, _, _, _, _ := wiremessage.ReadHeader(header[:])
	if length < 16 || length > maxMessageSize {
		return nil, fmt.Errorf("wire message of %d bytes", length)
	}
	buf := make([]byte, length)
	copy(buf, header[:])
	if _, err := io.ReadFull(r, buf[16:]); err != nil {
		return nil, err
	}
	return parseMessage(buf)
}

func parseMessage(buf []byte) (*message, error) {
	_, reqID, respTo, opcode, rem, ok := wiremessage.ReadHeader(buf)
	if !ok {
		return nil, errors.New("malformed wire message header")
	}
	m := &message{requestID: reqID, responseTo: respTo, opcode: opcode}
	switch opcode {
	case wiremessage.OpMsg:
		flags, rem, ok := wiremessage.ReadMsgFlags(rem)
		if !ok {
			return nil, errors.New("malformed OP_MSG flags")
		}
		m.flags = flags
		if flags&wiremessage.ChecksumPresent != 0 {
			if len(rem) < 4 {
				return nil, errors.New("malformed OP_MSG checksum")
			}
			rem = rem[:len(rem)-4] // the checksum is dropped: replies are rebuilt without one
			m.flags &^= wiremessage.ChecksumPresent
		}
		for len(rem) > 0 {
			stype, r2, ok := wiremessage.ReadMsgSectionType(rem)
			if !ok {
				return nil, errors.New("malformed OP_MSG section")
			}
			switch stype {
			case wiremessage.SingleDocument:
				doc, r3, ok := wiremessage.ReadMsgSectionSingleDocument(r2)
				if !ok {
					return nil, errors.New("malformed OP_MSG body")
				}
				m.body, rem = doc, r3
			case wiremessage.DocumentSequence:
				_, _, r3, ok := wiremessage.ReadMsgSectionRawDocumentSequence(r2)
				if !ok {
					return nil, errors.New("malformed OP_MSG document sequence")
				}
				m.sequences = append(m.sequences, rem[:len(rem)-len(r3)]...)
				rem = r3
			default:
				return nil, fmt.Errorf("OP_MSG section kind %d", stype)
			}
		}
		if m.body == nil {
			return nil, errors.New("OP_MSG without a body section")
		}
	case opQuery:
		if err := m.parseQuery(rem); err != nil {
			return nil, err
		}
	case wiremessage.OpReply:
		flags, r2, ok := wiremessage.ReadReplyFlags(rem)
		if !ok {
			return nil, errors.New("malformed OP_REPLY")
		}
		_, r3, ok := wiremessage.ReadReplyCursorID(r2)
		if !ok {
			return nil, errors.New("malformed OP_REPLY")
		}
		_, r4, ok := wiremessage.ReadReplyStartingFrom(r3)
		if !ok {
			return nil, errors.New("malformed OP_REPLY")
		}
		_, r5, ok := wiremessage.ReadReplyNumberReturned(r4)
		if !ok {
			return nil, errors.New("malformed OP_REPLY")
		}
		doc, _, ok := wiremessage.ReadReplyDocument(r5)
		if !ok {
			return nil, errors.New("malformed OP_REPLY document")
		}
		m.replyFlags, m.body = flags, doc
	default:
		return nil, fmt.Errorf("%w %s (%d)", errUnsupportedOpcode, opcode, opcode)
	}
	return m, nil
}

// parseQuery reads an OP_QUERY body (after the header).
//
//nolint:staticcheck // OP_QUERY is deprecated, yet it is what the driver's handshake sends.
func (m *message) parseQuery(rem []byte) error {
	flags, r2, ok := wiremessage.ReadQueryFlags(rem)
	if !ok {
		return errors.New("malformed OP_QUERY")
	}
	ns, r3, ok := wiremessage.ReadQueryFullCollectionName(r2)
	if !ok {
		return errors.New("malformed OP_QUERY namespace")
	}
	_, r4, ok := wiremessage.ReadQueryNumberToSkip(r3)
	if !ok {
		return errors.New("malformed OP_QUERY")
	}
	_, r5, ok := wiremessage.ReadQueryNumberToReturn(r4)
	if !ok {
		return errors.New("malformed OP_QUERY")
	}
	q, r6, ok := wiremessage.ReadQueryQuery(r5)
	if !ok {
		return errors.New("malformed OP_QUERY document")
	}
	m.queryFlags, m.namespace, m.query, m.rest = flags, ns, q, r6
	return nil
}

// command returns the command document of a request: the OP_MSG body, or the
// OP_QUERY document unwrapped from {$query: ...}.
func (m *message) command() bsoncore.Document {
	if m.opcode != opQuery {
		return m.body
	}
	if first, err := m.query.IndexErr(0); err == nil {
		if k := first.Key(); k == "$query" || k == "query" {
			if d, ok := first.Value().DocumentOK(); ok {
				return d
			}
		}
	}
	return m.query
}

// database is the command's database: $db of OP_MSG, or the namespace's
// database of OP_QUERY ("admin.$cmd" -> "admin").
func (m *message) database() string {
	if m.opcode == opQuery {
		db, _, _ := strings.Cut(m.namespace, ".")
		return db
	}
	db, _ := m.body.Lookup("$db").StringValueOK()
	return db
}

// withCommand returns a copy of the request carrying cmd instead of its
// command document (the OP_QUERY $query wrapper is kept).
func (m *message) withCommand(cmd bsoncore.Document) *message {
	c := *m
	if m.opcode != opQuery {
		c.body = cmd
		return &c
	}
	if first, err := m.query.IndexErr(0); err == nil {
		if k := first.Key(); k == "$query" || k == "query" {
			c.query = replaceField(m.query, k, bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: cmd})
			return &c
		}
	}
	c.query = cmd
	return &c
}

// moreToCome reports whether the client expects no reply (w:0 writes).
func (m *message) moreToCome() bool {
	return m.opcode == wiremessage.OpMsg && m.flags&wiremessage.MoreToCome != 0
}

// encode serialises a request for the upstream FerretDB. exhaustAllowed is
// dropped so that the server never streams replies.
func (m *message) encode() []byte {
	switch m.opcode {
	case opQuery:
		idx, b := wiremessage.AppendHeaderStart(nil, m.requestID, 0, opQuery)
		b = wiremessage.AppendQueryFlags(b, m.queryFlags&^wiremessage.Exhaust)
		b = wiremessage.AppendQueryFullCollectionName(b, m.namespace)
		b = wiremessage.AppendQueryNumberToSkip(b, 0)    //nolint:staticcheck // see opQuery
		b = wiremessage.AppendQueryNumberToReturn(b, -1) //nolint:staticcheck // see opQuery
		b = append(b, m.query...)
		b = append(b, m.rest...)
		return finish(b, idx)
	default:
		return encodeMsg(m.requestID, 0, m.flags&^(wiremessage.ExhaustAllowed|wiremessage.ChecksumPresent), m.body, m.sequences)
	}
}

func encodeMsg(requestID, responseTo int32, flags wiremessage.MsgFlag, body bsoncore.Document, sequences []byte) []byte {
	idx, b := wiremessage.AppendHeaderStart(nil, requestID, responseTo, wiremessage.OpMsg)
	b = wiremessage.AppendMsgFlags(b, flags)
	b = wiremessage.AppendMsgSectionType(b, wiremessage.SingleDocument)
	b = append(b, body...)
	b = append(b, sequences...)
	return finish(b, idx)
}

// encodeReply frames a reply document for the request it answers: OP_REPLY
// to an OP_QUERY, OP_MSG otherwise.
func encodeReply(req *message, requestID int32, doc bsoncore.Document) []byte {
	if req.opcode != opQuery {
		return encodeMsg(requestID, req.requestID, 0, doc, nil)
	}
	idx, b := wiremessage.AppendHeaderStart(nil, requestID, req.requestID, wiremessage.OpReply)
	b = wiremessage.AppendReplyFlags(b, wiremessage.AwaitCapable)
	b = wiremessage.AppendReplyCursorID(b, 0)
	b = wiremessage.AppendReplyStartingFrom(b, 0)
	b = wiremessage.AppendReplyNumberReturned(b, 1)
	b = append(b, doc...)
	return finish(b, idx)
}

func finish(b []byte, idx int32) []byte {
	return bsoncore.UpdateLength(b, idx, int32(len(b[idx:])))
}

// --- bsoncore helpers -------------------------------------------------------

// firstKey is the command name: the first key of the command document.
func firstKey(doc bsoncore.Document) string {
	e, err := doc.IndexErr(0)
	if err != nil {
		return ""
	}
	return e.Key()
}

// withoutFields copies doc without the named top-level fields.
func withoutFields(doc bsoncore.Document, names ...string) bsoncore.Document {
	return filterFields(doc, func(k string) bool {
		for _, n := range names {
			if k == n {
				return false
			}
		}
		return true
	})
}

func filterFields(doc bsoncore.Document, keep func(string) bool) bsoncore.Document {
	elems, err := doc.Elements()
	if err != nil {
		return doc
	}
	idx, b := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		if keep(e.Key()) {
			b = append(b, e...)
		}
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}

// replaceField copies doc with the value of key replaced (appended when absent).
func replaceField(doc bsoncore.Document, key string, v bsoncore.Value) bsoncore.Document {
	elems, err := doc.Elements()
	if err != nil {
		return doc
	}
	idx, b := bsoncore.AppendDocumentStart(nil)
	done := false
	for _, e := range elems {
		if e.Key() == key {
			b = bsoncore.AppendValueElement(b, key, v)
			done = true
			continue
		}
		b = append(b, e...)
	}
	if !done {
		b = bsoncore.AppendValueElement(b, key, v)
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}

// hasField reports whether doc has the top-level key.
func hasField(doc bsoncore.Document, key string) bool {
	_, err := doc.LookupErr(key)
	return err == nil
}

func stringField(doc bsoncore.Document, key string) string {
	s, _ := doc.Lookup(key).StringValueOK()
	return s
}

// okValue reports whether a reply says ok: 1.
func okValue(doc bsoncore.Document) bool {
	v, err := doc.LookupErr("ok")
	if err != nil {
		return false
	}
	if f, ok := v.AsFloat64OK(); ok {
		return f == 1
	}
	if b, ok := v.BooleanOK(); ok {
		return b
	}
	return false
}

func intValue(v bsoncore.Value) (int64, bool) {
	switch v.Type {
	case bsoncore.TypeInt32, bsoncore.TypeInt64, bsoncore.TypeDouble, bsoncore.TypeDecimal128:
		if f, ok := v.AsFloat64OK(); ok {
			return int64(f), true
		}
		if i, ok := v.AsInt64OK(); ok {
			return i, true
		}
	}
	return 0, false
}

// errorReply builds the server's error reply {ok: 0, errmsg, code, codeName}
// (src/mongo/db/commands.cpp, CommandHelpers::appendCommandStatusNoThrow).
func errorReply(code int32, codeName, errmsg string, labels ...string) bsoncore.Document {
	if codeName == "" {
		codeName = codeNames[code]
	}
	b := bsoncore.NewDocumentBuilder().
		AppendDouble("ok", 0).
		AppendString("errmsg", errmsg).
		AppendInt32("code", code).
		AppendString("codeName", codeName)
	if len(labels) > 0 {
		arr := bsoncore.NewArrayBuilder()
		for _, l := range labels {
			arr.AppendString(l)
		}
		b.AppendArray("errorLabels", arr.Build())
	}
	return b.Build()
}

func okReply() bsoncore.Document {
	return bsoncore.NewDocumentBuilder().AppendDouble("ok", 1).Build()
}
