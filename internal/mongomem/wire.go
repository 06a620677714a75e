package mongomem

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

// maxMessageSize is MongoDB's maxMessageSizeBytes, which hello reports.
const maxMessageSize = 48_000_000

// opQuery is OP_QUERY (2004): the driver deprecates it for commands but still
// sends the first hello of every connection's handshake with it (legacy
// hello), and expects an OP_REPLY back.
const opQuery wiremessage.OpCode = 2004

// request is one command read off a connection.
type request struct {
	requestID  int32
	opcode     wiremessage.OpCode
	moreToCome bool // OP_MSG with moreToCome: the client expects no reply
	db         string
	cmd        bsoncore.Document
}

var errUnsupportedOpcode = errors.New("unsupported wire-protocol opcode")

// readRequest reads one whole message and extracts its command.
func readRequest(r io.Reader) (*request, error) {
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
	_, reqID, _, opcode, rem, ok := wiremessage.ReadHeader(buf)
	if !ok {
		return nil, errors.New("malformed wire message header")
	}
	req := &request{requestID: reqID, opcode: opcode}
	switch opcode {
	case wiremessage.OpMsg:
		flags, rem, ok := wiremessage.ReadMsgFlags(rem)
		if !ok {
			return nil, errors.New("malformed OP_MSG flags")
		}
		req.moreToCome = flags&wiremessage.MoreToCome != 0
		if flags&wiremessage.ChecksumPresent != 0 {
			if len(rem) < 4 {
				return nil, errors.New("malformed OP_MSG checksum")
			}
			rem = rem[:len(rem)-4]
		}
		for len(rem) > 0 {
			var kind wiremessage.SectionType
			kind, rem, ok = wiremessage.ReadMsgSectionType(rem)
			if !ok {
				return nil, errors.New("malformed OP_MSG section")
			}
			switch kind {
			case wiremessage.SingleDocument:
				req.cmd, rem, ok = wiremessage.ReadMsgSectionSingleDocument(rem)
			case wiremessage.DocumentSequence:
				// Document sequences carry bulk write payloads, which no
				// command this server answers takes.
				_, _, rem, ok = wiremessage.ReadMsgSectionDocumentSequence(rem)
			default:
				ok = false
			}
			if !ok {
				return nil, errors.New("malformed OP_MSG section")
			}
		}
		if req.cmd == nil {
			return nil, errors.New("OP_MSG without a body")
		}
		if v, err := req.cmd.LookupErr("$db"); err == nil {
			req.db, _ = v.StringValueOK()
		}
	case opQuery:
		_, r2, ok := wiremessage.ReadQueryFlags(rem) //nolint:staticcheck // the legacy handshake, see opQuery
		if !ok {
			return nil, errors.New("malformed OP_QUERY")
		}
		ns, r3, ok := wiremessage.ReadQueryFullCollectionName(r2) //nolint:staticcheck // see opQuery
		if !ok {
			return nil, errors.New("malformed OP_QUERY namespace")
		}
		_, r4, ok := wiremessage.ReadQueryNumberToSkip(r3) //nolint:staticcheck // see opQuery
		if !ok {
			return nil, errors.New("malformed OP_QUERY")
		}
		_, r5, ok := wiremessage.ReadQueryNumberToReturn(r4) //nolint:staticcheck // see opQuery
		if !ok {
			return nil, errors.New("malformed OP_QUERY")
		}
		q, _, ok := wiremessage.ReadQueryQuery(r5) //nolint:staticcheck // see opQuery
		if !ok {
			return nil, errors.New("malformed OP_QUERY document")
		}
		// A command may come wrapped as {$query: {...}, $readPreference: ...}.
		if inner, err := q.LookupErr("$query"); err == nil {
			if doc, ok := inner.DocumentOK(); ok {
				q = doc
			}
		}
		req.cmd = q
		req.db, _, _ = strings.Cut(ns, ".")
	default:
		return nil, fmt.Errorf("%w %d", errUnsupportedOpcode, opcode)
	}
	return req, nil
}

// encodeReply frames reply for req: OP_REPLY to an OP_QUERY, OP_MSG otherwise.
func encodeReply(req *request, requestID int32, reply bsoncore.Document) []byte {
	if req.opcode == opQuery {
		idx, b := wiremessage.AppendHeaderStart(nil, requestID, req.requestID, wiremessage.OpReply)
		b = wiremessage.AppendReplyFlags(b, wiremessage.AwaitCapable)
		b = wiremessage.AppendReplyCursorID(b, 0)
		b = wiremessage.AppendReplyStartingFrom(b, 0)
		b = wiremessage.AppendReplyNumberReturned(b, 1)
		b = append(b, reply...)
		return bsoncore.UpdateLength(b, idx, int32(len(b[idx:])))
	}
	idx, b := wiremessage.AppendHeaderStart(nil, requestID, req.requestID, wiremessage.OpMsg)
	b = wiremessage.AppendMsgFlags(b, 0)
	b = wiremessage.AppendMsgSectionType(b, wiremessage.SingleDocument)
	b = append(b, reply...)
	return bsoncore.UpdateLength(b, idx, int32(len(b[idx:])))
}

// commandName is the first key of the command document.
func commandName(cmd bsoncore.Document) string {
	e, err := cmd.IndexErr(0)
	if err != nil {
		return ""
	}
	return e.Key()
}
