package mongodb

import (
	"context"
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// dnsServer is a tiny in-process DNS server over UDP that answers SRV, TXT
// and A questions from maps (NXDOMAIN for names it does not know, no
// answer for other types). It is enough for Go's own resolver, which the
// driver's mongodb+srv:// resolution (net.LookupSRV, net.LookupTXT) and its
// dialer (for the SRV targets' addresses) both use.
type dnsServer struct {
	conn net.PacketConn
	srv  map[string][]net.SRV // "_mongodb._tcp.name." -> records
	txt  map[string][]string
	a    map[string]net.IP

	mu      sync.Mutex
	queries []string // "TYPE name"
}

const (
	dnsTypeA    = 1
	dnsTypeTXT  = 16
	dnsTypeAAAA = 28
	dnsTypeSRV  = 33
)

func startDNSServer(t *testing.T) *dnsServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: conn, srv: map[string][]net.SRV{}, txt: map[string][]string{}, a: map[string]net.IP{}}
	t.Cleanup(func() { _ = conn.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply := s.answer(buf[:n]); reply != nil {
				_, _ = conn.WriteTo(reply, addr)
			}
		}
	}()
	return s
}

// useAsResolver points Go's default resolver at s for the test, and back.
// Tests that call it must not run in parallel: the resolver is global.
func (s *dnsServer) useAsResolver(t *testing.T) {
	t.Helper()
	oldPreferGo, oldDial := net.DefaultResolver.PreferGo, net.DefaultResolver.Dial
	net.DefaultResolver.PreferGo = true
	net.DefaultResolver.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.conn.LocalAddr().String())
	}
	t.Cleanup(func() { net.DefaultResolver.PreferGo, net.DefaultResolver.Dial = oldPreferGo, oldDial })
}

func (s *dnsServer) asked(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.queries {
		if strings.HasPrefix(q, prefix) {
			n++
		}
	}
	return n
}

// answer builds the reply to one query (RFC 1035 section 4).
func (s *dnsServer) answer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil
	}
	// The question: labels, then type and class.
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	question := q[12 : i+5]
	qtype := binary.BigEndian.Uint16(q[i+1 : i+3])
	name := strings.ToLower(strings.Join(labels, ".")) + "."

	// The records are read under the lock the test writes them under: a
	// UDP round trip is no happens-before edge for the race detector.
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, strconv.Itoa(int(qtype))+" "+name)

	var answers [][]byte
	_, knowSRV := s.srv[name]
	_, knowTXT := s.txt[name]
	_, knowA := s.a[name]
	known := knowSRV || knowTXT || knowA
	switch qtype {
	case dnsTypeSRV:
		for _, r := range s.srv[name] {
			rdata := binary.BigEndian.AppendUint16(nil, r.Priority)
			rdata = binary.BigEndian.AppendUint16(rdata, r.Weight)
			rdata = binary.BigEndian.AppendUint16(rdata, r.Port)
			answers = append(answers, dnsRR(dnsTypeSRV, append(rdata, dnsName(r.Target)...)))
		}
	case dnsTypeTXT:
		for _, txt := range s.txt[name] {
			answers = append(answers, dnsRR(dnsTypeTXT, append([]byte{byte(len(txt))}, txt...)))
		}
	case dnsTypeA:
		if ip := s.a[name].To4(); ip != nil {
			answers = append(answers, dnsRR(dnsTypeA, ip))
		}
	}
	reply := make([]byte, 12, 512)
	copy(reply[0:2], q[0:2]) // id
	flags := uint16(0x8580)  // response, authoritative, recursion desired and available
	if !known {
		flags |= 3 // NXDOMAIN
	}
	binary.BigEndian.PutUint16(reply[2:4], flags)
	binary.BigEndian.PutUint16(reply[4:6], 1)
	binary.BigEndian.PutUint16(reply[6:8], uint16(len(answers)))
	reply = append(reply, question...)
	for _, a := range answers {
		reply = append(reply, a...)
	}
	return reply
}

// dnsRR is a resource record for the question's name (a pointer to offset
// 12), class IN, TTL 60 s.
func dnsRR(typ uint16, rdata []byte) []byte {
	rr := []byte{0xc0, 0x0c}
	rr = binary.BigEndian.AppendUint16(rr, typ)
	rr = binary.BigEndian.AppendUint16(rr, 1)
	rr = binary.BigEndian.AppendUint32(rr, 60)
	rr = binary.BigEndian.AppendUint16(rr, uint16(len(rdata)))
	return append(rr, rdata...)
}

func dnsName(name string) []byte {
	var out []byte
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		out = append(out, byte(len(l)))
		out = append(out, l...)
	}
	return append(out, 0)
}

// TestSRVThroughDNS resolves a mongodb+srv:// device end to end, the way a
// real deployment is reached: the driver asks DNS (an in-process server
// that Go's resolver is pointed at) for the SRV records of
// cluster0.segura.test, which name FerretDB's port on
// n1.cluster0.segura.test, whose A record is 127.0.0.1, and for the TXT
// record (authSource=admin). The hello probe (on the resolved seed list)
// and a SCRAM login (on the driver's own SRV client) both succeed. Over
// TLS, FerretDB's certificate names localhost and 127.0.0.1, not
// n1.cluster0.segura.test: the login is refused until
// tls_allow_invalid_hostnames is set, with the CA still verified.
func TestSRVThroughDNS(t *testing.T) {
	needServer(t)
	dns := startDNSServer(t)
	_, plainPort, _ := net.SplitHostPort(hostOf(server.URI()))
	_, tlsPort, _ := net.SplitHostPort(hostOf(server.TLSURI()))
	port := func(s string) uint16 { n, _ := strconv.Atoi(s); return uint16(n) }
	dns.mu.Lock()
	dns.srv["_mongodb._tcp.cluster0.segura.test."] = []net.SRV{{Target: "n1.cluster0.segura.test.", Port: port(plainPort)}}
	dns.srv["_mongodb._tcp.tls0.segura.test."] = []net.SRV{{Target: "n1.tls0.segura.test.", Port: port(tlsPort)}}
	dns.txt["cluster0.segura.test."] = []string{"authSource=admin"}
	dns.a["n1.cluster0.segura.test."] = net.IPv4(127, 0, 0, 1)
	dns.a["n1.tls0.segura.test."] = net.IPv4(127, 0, 0, 1)
	dns.mu.Unlock()
	dns.useAsResolver(t)

	ctx := context.Background()
	p := testPool()
	defer p.Close(ctx)

	dep := Deployment{SRVHost: "cluster0.segura.test"}
	resolved, err := ResolveSRV(dep)
	if err != nil {
		t.Fatalf("ResolveSRV: %v", err)
	}
	if want := "n1.cluster0.segura.test:" + plainPort; len(resolved.Hosts) != 1 || resolved.Hosts[0] != want {
		t.Fatalf("resolved hosts %v, want [%s]", resolved.Hosts, want)
	}
	if _, err := p.Probe(ctx, resolved); err != nil {
		t.Fatalf("probe of the resolved seed list: %v", err)
	}
	if err := p.VerifyLogin(ctx, dep, admin()); err != nil {
		t.Fatalf("login through mongodb+srv://cluster0.segura.test: %v", err)
	}
	if dns.asked("33 _mongodb._tcp.cluster0.segura.test.") == 0 || dns.asked("16 cluster0.segura.test.") == 0 || dns.asked("1 n1.cluster0.segura.test.") == 0 {
		t.Errorf("the DNS server was not asked for the SRV, TXT and A records: %v", dns.queries)
	}

	tlsDep := Deployment{SRVHost: "tls0.segura.test", TLS: true, TLSCAFile: server.CAFile()}
	if err := p.VerifyLogin(ctx, tlsDep, admin()); err == nil || !strings.Contains(err.Error(), "n1.tls0.segura.test") {
		t.Fatalf("login over TLS to a host the certificate does not name: %v, want a refusal naming it", err)
	}
	tlsDep.TLSAllowInvalidHostnames = true
	if err := p.VerifyLogin(ctx, tlsDep, admin()); err != nil {
		t.Fatalf("login over TLS with tls_allow_invalid_hostnames: %v", err)
	}

	if _, err := ResolveSRV(Deployment{SRVHost: "nothing.segura.test"}); Classify(err) != KindUnreachable || !strings.Contains(err.Error(), "nothing.segura.test") {
		t.Errorf("ResolveSRV of a name without records: %v", err)
	}
}
