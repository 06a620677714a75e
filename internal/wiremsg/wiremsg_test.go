package wiremsg_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"

	"github.com/segura-community/terraform-provider-segura/internal/wiremsg"
)

func cmd(name, db string) bsoncore.Document {
	return bsoncore.NewDocumentBuilder().AppendInt32(name, 1).AppendString("$db", db).Build()
}

func mustParse(t *testing.T, b []byte) *wiremsg.Message {
	t.Helper()
	m, err := wiremsg.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOpMsgRoundTrip(t *testing.T) {
	t.Parallel()
	m := mustParse(t, wiremsg.EncodeMsg(7, 0, 0, cmd("ping", "app"), nil))
	if m.OpCode != wiremessage.OpMsg || m.RequestID != 7 || m.MoreToCome() {
		t.Errorf("parsed %+v", m)
	}
	if got := wiremsg.CommandName(m.Command()); got != "ping" {
		t.Errorf("CommandName = %q, want ping", got)
	}
	if got := m.Database(); got != "app" {
		t.Errorf("Database = %q, want app", got)
	}
	if w := mustParse(t, wiremsg.EncodeMsg(8, 0, wiremessage.MoreToCome, cmd("insert", "app"), nil)); !w.MoreToCome() {
		t.Error("moreToCome was lost")
	}

	// A document sequence is kept verbatim; a checksum is dropped, and so is
	// exhaustAllowed when the request is encoded again.
	seq := wiremessage.AppendMsgSectionType(nil, wiremessage.DocumentSequence)
	idx, seq := bsoncore.ReserveLength(seq)
	seq = append(seq, "documents\x00"...)
	seq = append(seq, bsoncore.NewDocumentBuilder().AppendInt32("_id", 1).Build()...)
	seq = bsoncore.UpdateLength(seq, idx, int32(len(seq[idx:])))
	plain := wiremsg.EncodeMsg(9, 0, 0, cmd("insert", "app"), seq)
	summed := wiremsg.EncodeMsg(9, 0, wiremessage.ChecksumPresent|wiremessage.ExhaustAllowed, cmd("insert", "app"), seq)
	summed = binary.LittleEndian.AppendUint32(summed, 0xdeadbeef)
	binary.LittleEndian.PutUint32(summed, uint32(len(summed)))
	m = mustParse(t, summed)
	if !bytes.Equal(m.Sequences, seq) {
		t.Errorf("sequences %x, want %x", m.Sequences, seq)
	}
	if got := m.Encode(); !bytes.Equal(got, plain) {
		t.Errorf("Encode() = %x, want %x", got, plain)
	}

	// WithCommand replaces the body, leaving the original alone.
	c := m.WithCommand(cmd("find", "app"))
	if wiremsg.CommandName(c.Command()) != "find" || wiremsg.CommandName(m.Command()) != "insert" {
		t.Errorf("WithCommand: %q (original %q)", wiremsg.CommandName(c.Command()), wiremsg.CommandName(m.Command()))
	}
}

// legacyHello is the first message of the driver's handshake: OP_QUERY on
// admin.$cmd, here wrapped in $query as a command with a read preference is.
//
//nolint:staticcheck // OP_QUERY is deprecated, yet it is what the handshake sends.
func legacyHello(requestID int32) []byte {
	hello := bsoncore.NewDocumentBuilder().AppendInt32("isMaster", 1).AppendBoolean("helloOk", true).Build()
	query := bsoncore.NewDocumentBuilder().
		AppendDocument("$query", hello).
		AppendDocument("$readPreference", bsoncore.NewDocumentBuilder().AppendString("mode", "primaryPreferred").Build()).
		Build()
	idx, b := wiremessage.AppendHeaderStart(nil, requestID, 0, wiremsg.OpQuery)
	b = wiremessage.AppendQueryFlags(b, wiremessage.SecondaryOK)
	b = wiremessage.AppendQueryFullCollectionName(b, "admin.$cmd")
	b = wiremessage.AppendQueryNumberToSkip(b, 0)
	b = wiremessage.AppendQueryNumberToReturn(b, -1)
	b = append(b, query...)
	return bsoncore.UpdateLength(b, idx, int32(len(b[idx:])))
}

func TestOpQueryHandshake(t *testing.T) {
	t.Parallel()
	raw := legacyHello(3)
	m := mustParse(t, raw)
	if m.OpCode != wiremsg.OpQuery || m.Namespace != "admin.$cmd" || m.MoreToCome() {
		t.Errorf("parsed %+v", m)
	}
	if got := wiremsg.CommandName(m.Command()); got != "isMaster" {
		t.Errorf("CommandName = %q, want isMaster (unwrapped from $query)", got)
	}
	if got := m.Database(); got != "admin" {
		t.Errorf("Database = %q, want admin", got)
	}
	if got := m.Encode(); !bytes.Equal(got, raw) {
		t.Errorf("Encode() = %x, want the message as read %x", got, raw)
	}

	// WithCommand keeps the wrapper and the read preference.
	c := mustParse(t, m.WithCommand(cmd("hello", "admin")).Encode())
	if got := wiremsg.CommandName(c.Command()); got != "hello" {
		t.Errorf("after WithCommand: CommandName = %q, want hello", got)
	}
	if _, err := c.Query.LookupErr("$readPreference", "mode"); err != nil {
		t.Errorf("after WithCommand: %v in %v", err, c.Query)
	}

	// An unwrapped OP_QUERY command is its own document.
	bare := *m
	bare.Query = cmd("ping", "ignored")
	if got := wiremsg.CommandName(bare.Command()); got != "ping" {
		t.Errorf("unwrapped: CommandName = %q, want ping", got)
	}
}

func TestEncodeReply(t *testing.T) {
	t.Parallel()
	reply := bsoncore.NewDocumentBuilder().AppendDouble("ok", 1).Build()
	for _, tc := range []struct {
		name string
		req  []byte
		want wiremessage.OpCode
	}{
		{"OP_QUERY", legacyHello(11), wiremessage.OpReply},
		{"OP_MSG", wiremsg.EncodeMsg(11, 0, 0, cmd("ping", "admin"), nil), wiremessage.OpMsg},
	} {
		req := mustParse(t, tc.req)
		got := mustParse(t, wiremsg.EncodeReply(req, 12, reply))
		if got.OpCode != tc.want || got.RequestID != 12 || got.ResponseTo != 11 || !bytes.Equal(got.Body, reply) || !bytes.Equal(got.Command(), reply) {
			t.Errorf("%s: reply %+v, want %s answering 11 with %v", tc.name, got, tc.want, reply)
		}
	}
}

func TestReadMessageRejects(t *testing.T) {
	t.Parallel()
	header := func(length int32, op wiremessage.OpCode) []byte {
		_, b := wiremessage.AppendHeaderStart(nil, 1, 0, op)
		binary.LittleEndian.PutUint32(b, uint32(length))
		return b
	}
	for _, length := range []int32{wiremsg.MaxMessageSize + 1, 15} {
		if _, err := wiremsg.ReadMessage(bytes.NewReader(header(length, wiremessage.OpMsg))); err == nil {
			t.Errorf("a length of %d was accepted", length)
		}
	}
	if _, err := wiremsg.ReadMessage(bytes.NewReader(header(16, wiremessage.OpCompressed))); !errors.Is(err, wiremsg.ErrUnsupportedOpcode) {
		t.Errorf("OP_COMPRESSED: %v, want ErrUnsupportedOpcode", err)
	}
	if _, err := wiremsg.ReadMessage(bytes.NewReader(header(100, wiremessage.OpMsg))); err == nil {
		t.Error("a truncated message was accepted")
	}
}
