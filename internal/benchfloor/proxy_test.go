package benchfloor

import (
	"bufio"
	"maps"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/segura-community/terraform-provider-segura/internal/wiremsg"
)

// fakeServer answers every OP_MSG with ok: 1, and a hello that carries
// speculativeAuthenticate with the first SCRAM reply, as a server that
// takes it does.
func fakeServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close() //nolint:errcheck
				r := bufio.NewReader(c)
				for id := int32(1); ; id++ {
					req, err := wiremsg.ReadMessage(r)
					if err != nil {
						return
					}
					reply := bsoncore.NewDocumentBuilder().AppendDouble("ok", 1)
					if _, err := req.Command().LookupErr("speculativeAuthenticate"); err == nil {
						reply.AppendDocument("speculativeAuthenticate", bsoncore.NewDocumentBuilder().AppendInt32("conversationId", 1).Build())
					}
					if _, err := c.Write(wiremsg.EncodeReply(req, id, reply.Build())); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProxyCounts(t *testing.T) {
	t.Parallel()
	p, err := StartProxy(fakeServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close() //nolint:errcheck

	call := func(c net.Conn, doc bsoncore.Document) {
		t.Helper()
		if _, err := c.Write(wiremsg.EncodeMsg(1, 0, 0, doc, nil)); err != nil {
			t.Fatal(err)
		}
		if _, err := wiremsg.ReadFrame(c); err != nil {
			t.Fatal(err)
		}
	}
	cmd := func(name string) *bsoncore.DocumentBuilder {
		return bsoncore.NewDocumentBuilder().AppendInt32(name, 1).AppendString("$db", "admin")
	}
	a, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	// a: a speculative login in the handshake; b: a plain hello, then saslStart.
	call(a, cmd("hello").AppendDocument("speculativeAuthenticate", cmd("saslStart").Build()).Build())
	call(a, cmd("saslContinue").Build())
	call(b, cmd("hello").Build())
	call(b, cmd("saslStart").Build())
	call(b, cmd("updateUser").Build())
	_ = a.Close()
	_ = b.Close()

	got := p.Counts()
	wantCommands := map[string]int{"hello": 2, "saslContinue": 1, "saslStart": 1, "updateUser": 1}
	if got.Logins != 2 || got.Connections != 2 || got.MaxConcurrent != 2 || !maps.Equal(got.Commands, wantCommands) || got.UnparsedFrames != 0 {
		t.Errorf("counts = %+v, want 2 logins, 2 connections, at most 2 at once, commands %v", got, wantCommands)
	}
	if err := p.Err(); err != nil {
		t.Error(err)
	}

	// Once both have closed, a reset starts from no open connection.
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.Reset()
		if p.Counts().MaxConcurrent == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the proxy still counts a closed connection open")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c := p.Counts(); c.Logins != 0 || c.Connections != 0 || len(c.Commands) != 0 {
		t.Errorf("after Reset: %+v", c)
	}
}
