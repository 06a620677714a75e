// Package wiremsg holds MongoDB wire-protocol messages, read, parsed and
// built with the driver's own x/mongo/driver/wiremessage and x/bsonx/bsoncore
// packages; shared by the deployment simulator (internal/mongosim), the
// in-memory server (internal/mongomem) and the benchmark's counting proxy
// (internal/benchfloor).
package wiremsg

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

// MaxMessageSize bounds what is read from either side; MongoDB's
// maxMessageSizeBytes is 48,000,000, which FerretDB reports too.
const MaxMessageSize = 48_000_000

// Message is one wire-protocol message, parsed with the driver's
// wiremessage and bsoncore packages. Only the opcodes the Go driver sends
// (OP_QUERY for the legacy handshake, OP_MSG afterwards) and the replies to
// them (OP_REPLY, OP_MSG) are understood.
type Message struct {
	RequestID  int32
	ResponseTo int32
	OpCode     wiremessage.OpCode

	// OP_MSG
	Flags     wiremessage.MsgFlag
	Body      bsoncore.Document // also the first document of an OP_REPLY
	Sequences []byte            // the kind-1 sections, verbatim (type byte included)

	// OP_QUERY (request) and OP_REPLY (reply)
	QueryFlags wiremessage.QueryFlag
	Namespace  string            // OP_QUERY full collection name, e.g. "admin.$cmd"
	Query      bsoncore.Document // OP_QUERY document as sent (maybe wrapped in $query)
	Rest       []byte            // OP_QUERY bytes after the query (returnFieldsSelector)
	ReplyFlags wiremessage.ReplyFlag
}

// ErrUnsupportedOpcode is what Parse returns for an opcode it does not
// understand (OP_COMPRESSED, the legacy CRUD opcodes).
var ErrUnsupportedOpcode = errors.New("unsupported wire-protocol opcode")

// OpQuery is OP_QUERY (2004), which the driver deprecates for commands but
// still sends for the legacy hello of its connection handshake, and expects
// an OP_REPLY back.
const OpQuery wiremessage.OpCode = 2004

// ReadFrame reads one whole message, unparsed: the 16-byte header says how
// long it is.
func ReadFrame(r io.Reader) ([]byte, error) {
	var header [16]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length, _, _, _, _, _ := wiremessage.ReadHeader(header[:])
	if length < 16 || length > MaxMessageSize {
		return nil, fmt.Errorf("wire message of %d bytes", length)
	}
	buf := make([]byte, length)
	copy(buf, header[:])
	if _, err := io.ReadFull(r, buf[16:]); err != nil {
		return nil, err
	}
	return buf, nil
}

// ReadMessage reads one whole message and parses it.
func ReadMessage(r io.Reader) (*Message, error) {
	buf, err := ReadFrame(r)
	if err != nil {
		return nil, err
	}
	return Parse(buf)
}

// Parse parses one whole message (header included). The message's
// documents are slices of buf.
func Parse(buf []byte) (*Message, error) {
	_, reqID, respTo, opcode, rem, ok := wiremessage.ReadHeader(buf)
	if !ok {
		return nil, errors.New("malformed wire message header")
	}
	m := &Message{RequestID: reqID, ResponseTo: respTo, OpCode: opcode}
	switch opcode {
	case wiremessage.OpMsg:
		flags, rem, ok := wiremessage.ReadMsgFlags(rem)
		if !ok {
			return nil, errors.New("malformed OP_MSG flags")
		}
		m.Flags = flags
		if flags&wiremessage.ChecksumPresent != 0 {
			if len(rem) < 4 {
				return nil, errors.New("malformed OP_MSG checksum")
			}
			rem = rem[:len(rem)-4] // the checksum is dropped: replies are rebuilt without one
			m.Flags &^= wiremessage.ChecksumPresent
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
				m.Body, rem = doc, r3
			case wiremessage.DocumentSequence:
				_, _, r3, ok := wiremessage.ReadMsgSectionRawDocumentSequence(r2)
				if !ok {
					return nil, errors.New("malformed OP_MSG document sequence")
				}
				m.Sequences = append(m.Sequences, rem[:len(rem)-len(r3)]...)
				rem = r3
			default:
				return nil, fmt.Errorf("OP_MSG section kind %d", stype)
			}
		}
		if m.Body == nil {
			return nil, errors.New("OP_MSG without a body section")
		}
	case OpQuery:
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
		m.ReplyFlags, m.Body = flags, doc
	default:
		return nil, fmt.Errorf("%w %s (%d)", ErrUnsupportedOpcode, opcode, opcode)
	}
	return m, nil
}

// parseQuery reads an OP_QUERY body (after the header).
//
//nolint:staticcheck // OP_QUERY is deprecated, yet it is what the driver's handshake sends.
func (m *Message) parseQuery(rem []byte) error {
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
	m.QueryFlags, m.Namespace, m.Query, m.Rest = flags, ns, q, r6
	return nil
}

// wrapper returns the first element of an OP_QUERY document that wraps the
// command, as in {$query: {...}, $readPreference: ...}; ok is false when the
// document is the command itself.
func (m *Message) wrapper() (first bsoncore.Element, ok bool) {
	first, err := m.Query.IndexErr(0)
	if err != nil {
		return nil, false
	}
	if k := first.Key(); k != "$query" && k != "query" {
		return nil, false
	}
	if _, isDoc := first.Value().DocumentOK(); !isDoc {
		return nil, false
	}
	return first, true
}

// Command returns the command document of a request: the OP_MSG body, or the
// OP_QUERY document unwrapped from {$query: ...}. Of a reply, it is the
// reply document (Body).
func (m *Message) Command() bsoncore.Document {
	if m.OpCode != OpQuery {
		return m.Body
	}
	if first, ok := m.wrapper(); ok {
		return first.Value().Document()
	}
	return m.Query
}

// Database is the command's database: $db of OP_MSG, or the namespace's
// database of OP_QUERY ("admin.$cmd" -> "admin").
func (m *Message) Database() string {
	if m.OpCode == OpQuery {
		db, _, _ := strings.Cut(m.Namespace, ".")
		return db
	}
	db, _ := m.Body.Lookup("$db").StringValueOK()
	return db
}

// WithCommand returns a copy of the request carrying cmd instead of its
// command document (the OP_QUERY $query wrapper is kept).
func (m *Message) WithCommand(cmd bsoncore.Document) *Message {
	c := *m
	if m.OpCode != OpQuery {
		c.Body = cmd
		return &c
	}
	first, ok := m.wrapper()
	if !ok {
		c.Query = cmd
		return &c
	}
	// The wrapper's first element, replaced; the rest (and the terminating
	// null byte) copied as they are.
	idx, b := bsoncore.AppendDocumentStart(nil)
	b = bsoncore.AppendDocumentElement(b, first.Key(), cmd)
	b = append(b, m.Query[4+len(first):]...)
	c.Query = finish(b, idx)
	return &c
}

// MoreToCome reports whether the client expects no reply (w:0 writes).
func (m *Message) MoreToCome() bool {
	return m.OpCode == wiremessage.OpMsg && m.Flags&wiremessage.MoreToCome != 0
}

// Encode serialises a request for an upstream server. exhaustAllowed is
// dropped so that the server never streams replies.
func (m *Message) Encode() []byte {
	switch m.OpCode {
	case OpQuery:
		idx, b := wiremessage.AppendHeaderStart(nil, m.RequestID, 0, OpQuery)
		b = wiremessage.AppendQueryFlags(b, m.QueryFlags&^wiremessage.Exhaust)
		b = wiremessage.AppendQueryFullCollectionName(b, m.Namespace)
		b = wiremessage.AppendQueryNumberToSkip(b, 0)    //nolint:staticcheck // see OpQuery
		b = wiremessage.AppendQueryNumberToReturn(b, -1) //nolint:staticcheck // see OpQuery
		b = append(b, m.Query...)
		b = append(b, m.Rest...)
		return finish(b, idx)
	default:
		return EncodeMsg(m.RequestID, 0, m.Flags&^(wiremessage.ExhaustAllowed|wiremessage.ChecksumPresent), m.Body, m.Sequences)
	}
}

// EncodeMsg builds an OP_MSG: body as its kind-0 section, then sequences
// (kind-1 sections, verbatim) if any.
func EncodeMsg(requestID, responseTo int32, flags wiremessage.MsgFlag, body bsoncore.Document, sequences []byte) []byte {
	idx, b := wiremessage.AppendHeaderStart(nil, requestID, responseTo, wiremessage.OpMsg)
	b = wiremessage.AppendMsgFlags(b, flags)
	b = wiremessage.AppendMsgSectionType(b, wiremessage.SingleDocument)
	b = append(b, body...)
	b = append(b, sequences...)
	return finish(b, idx)
}

// EncodeReply frames a reply document for the request it answers: OP_REPLY
// to an OP_QUERY, OP_MSG otherwise.
func EncodeReply(req *Message, requestID int32, doc bsoncore.Document) []byte {
	if req.OpCode != OpQuery {
		return EncodeMsg(requestID, req.RequestID, 0, doc, nil)
	}
	idx, b := wiremessage.AppendHeaderStart(nil, requestID, req.RequestID, wiremessage.OpReply)
	b = wiremessage.AppendReplyFlags(b, wiremessage.AwaitCapable)
	b = wiremessage.AppendReplyCursorID(b, 0)
	b = wiremessage.AppendReplyStartingFrom(b, 0)
	b = wiremessage.AppendReplyNumberReturned(b, 1)
	b = append(b, doc...)
	return finish(b, idx)
}

// finish writes the length of the message (or document) started at idx.
func finish(b []byte, idx int32) []byte {
	return bsoncore.UpdateLength(b, idx, int32(len(b[idx:])))
}

// CommandName is the command's name: the first key of its document ("" for
// an empty or malformed one).
func CommandName(doc bsoncore.Document) string {
	e, err := doc.IndexErr(0)
	if err != nil {
		return ""
	}
	return e.Key()
}
