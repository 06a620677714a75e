package mongodb

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/testcert"
)

// tlsFixture is a throw-away CA, a server certificate it signed for
// localhost, 127.0.0.1 and ::1, and another CA that signed nothing the
// server presents.
type tlsFixture struct {
	ca, otherCA         *testcert.CA
	caFile, otherCAFile string
	server              *testcert.ServerCert
	// clientFile holds a certificate and its key, as tlsCertificateKeyFile.
	clientFile string
	client     *testcert.ServerCert
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	dir := t.TempDir()
	f := &tlsFixture{caFile: filepath.Join(dir, "ca.pem"), otherCAFile: filepath.Join(dir, "other-ca.pem"), clientFile: filepath.Join(dir, "client.pem")}
	var err error
	if f.ca, err = testcert.NewCA("segura test CA", time.Hour); err != nil {
		t.Fatal(err)
	}
	if f.otherCA, err = testcert.NewCA("segura other CA", time.Hour); err != nil {
		t.Fatal(err)
	}
	if f.server, err = f.ca.LoopbackServerCert(time.Hour); err != nil {
		t.Fatal(err)
	}
	if f.client, err = f.otherCA.LoopbackServerCert(time.Hour); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string][]byte{
		f.caFile: f.ca.CertPEM, f.otherCAFile: f.otherCA.CertPEM,
		f.clientFile: append(append([]byte{}, f.client.CertPEM...), f.client.KeyPEM...),
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// tlsServer accepts TLS connections on addr with the fixture's server
// certificate, asks for a client certificate (any), completes the handshake
// and then calls serve (nil: close). It records the client certificates it
// saw.
type tlsServer struct {
	addr string
	mu   sync.Mutex
	seen [][]byte
}

func startTLSServer(t *testing.T, listenAddr string, cert tls.Certificate, serve func(net.Conn)) *tlsServer {
	t.Helper()
	l, err := tls.Listen("tcp", listenAddr, &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Skipf("cannot listen on %s: %v", listenAddr, err)
	}
	s := &tlsServer{addr: l.Addr().String()}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				tc, ok := c.(*tls.Conn)
				if !ok {
					_ = c.Close()
					return
				}
				if err := tc.Handshake(); err != nil {
					_ = c.Close()
					return
				}
				if peers := tc.ConnectionState().PeerCertificates; len(peers) > 0 {
					s.mu.Lock()
					s.seen = append(s.seen, peers[0].Raw)
					s.mu.Unlock()
				}
				if serve == nil {
					_, _ = io.Copy(io.Discard, c)
					_ = c.Close()
					return
				}
				serve(c)
			}()
		}
	}()
	return s
}

func (s *tlsServer) clientCerts() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.seen...)
}

// handshake dials addr with cfg the way the driver does: a clone of the
// configuration with ServerName set to the host being connected to.
func handshake(cfg *tls.Config, addr, serverName string) error {
	c := cfg.Clone()
	if c.ServerName == "" {
		c.ServerName = serverName
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, c)
	if err != nil {
		return err
	}
	return conn.Close()
}

// TestTLSConfigHandshakes: real TLS handshakes against a local listener show
// what each setting verifies. The server's certificate names localhost,
// 127.0.0.1 and ::1; reaching it as db.internal.example is a host name the
// certificate does not carry.
func TestTLSConfigHandshakes(t *testing.T) {
	t.Parallel()
	f := newTLSFixture(t)
	srv := startTLSServer(t, "127.0.0.1:0", f.server.TLS, nil)
	const wrongName = "db.internal.example"

	config := func(dep Deployment, caFile string) *tls.Config {
		t.Helper()
		dep.Hosts, dep.TLS = []string{srv.addr}, true
		cfg, err := TLSConfig(dep, caFile)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError

	// Full verification: the right name passes, a wrong one fails on the name.
	if err := handshake(config(Deployment{}, f.caFile), srv.addr, "localhost"); err != nil {
		t.Errorf("verified handshake as localhost: %v", err)
	}
	if err := handshake(config(Deployment{}, f.caFile), srv.addr, wrongName); !errors.As(err, &hostErr) {
		t.Errorf("verified handshake as %s: %v, want a host name error", wrongName, err)
	}
	// tls_allow_invalid_hostnames: the wrong name passes, the chain still counts.
	if err := handshake(config(Deployment{TLSAllowInvalidHostnames: true}, f.caFile), srv.addr, wrongName); err != nil {
		t.Errorf("allow invalid hostnames, trusted CA, wrong name: %v", err)
	}
	if err := handshake(config(Deployment{TLSAllowInvalidHostnames: true}, f.otherCAFile), srv.addr, wrongName); !errors.As(err, &authErr) {
		t.Errorf("allow invalid hostnames, untrusted CA: %v, want an unknown authority error", err)
	}
	if err := handshake(config(Deployment{TLSAllowInvalidHostnames: true}, ""), srv.addr, "localhost"); !errors.As(err, &authErr) {
		t.Errorf("allow invalid hostnames, system roots only: %v, want an unknown authority error", err)
	}
	// tls_insecure_skip_verify accepts anything.
	if err := handshake(config(Deployment{TLSInsecure: true}, f.otherCAFile), srv.addr, wrongName); err != nil {
		t.Errorf("insecure: %v", err)
	}
	// The client certificate is presented.
	if n := len(srv.clientCerts()); n != 0 {
		t.Fatalf("%d client certificates before any was configured", n)
	}
	if err := handshake(config(Deployment{TLSCertificateKeyFile: f.clientFile}, f.caFile), srv.addr, "localhost"); err != nil {
		t.Fatalf("handshake with a client certificate: %v", err)
	}
	// The server finishes its side of the handshake after the client (TLS
	// 1.3): wait for it to record the certificate.
	seen := srv.clientCerts()
	for deadline := time.Now().Add(5 * time.Second); len(seen) == 0 && time.Now().Before(deadline); seen = srv.clientCerts() {
		time.Sleep(10 * time.Millisecond)
	}
	block, _ := pem.Decode(f.client.CertPEM)
	if len(seen) != 1 || !bytes.Equal(seen[0], block.Bytes) {
		t.Errorf("the server saw %d client certificates, want the one in %s", len(seen), filepath.Base(f.clientFile))
	}
}

// TestLoadClientCertificate: a PEM file with the certificate and its key (in
// either order) loads; anything else fails naming the file and what is
// missing, never quoting it.
func TestLoadClientCertificate(t *testing.T) {
	t.Parallel()
	f := newTLSFixture(t)
	dir := t.TempDir()
	write := func(name string, parts ...[]byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Join(parts, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other, err := f.ca.LoopbackServerCert(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keyBlock, _ := pem.Decode(f.client.KeyPEM)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: keyBlock.Bytes})

	for _, ok := range []string{write("cert-key.pem", f.client.CertPEM, f.client.KeyPEM), write("key-cert.pem", f.client.KeyPEM, f.client.CertPEM)} {
		cert, err := LoadClientCertificate(ok)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(ok), err)
			continue
		}
		if cert.Leaf == nil || cert.Leaf.Subject.CommonName != "localhost" || cert.PrivateKey == nil {
			t.Errorf("%s: loaded %+v", filepath.Base(ok), cert.Leaf)
		}
	}
	bad := map[string]string{
		write("cert-only.pem", f.client.CertPEM):                      "no PEM PRIVATE KEY",
		write("key-only.pem", f.client.KeyPEM):                        "no PEM CERTIFICATE",
		write("garbage.pem", []byte("not a pem file\n")):              "no PEM CERTIFICATE",
		write("encrypted.pem", f.client.CertPEM, encrypted):           "encrypted private key",
		write("mismatched.pem", f.client.CertPEM, other.KeyPEM):       "do not make a pair",
		filepath.Join(dir, "missing.pem"):                             "reading the client certificate file",
		write("empty.pem"):                                            "no PEM CERTIFICATE",
		write("two-certs-no-key.pem", f.client.CertPEM, f.ca.CertPEM): "no PEM PRIVATE KEY",
	}
	for path, want := range bad {
		_, err := LoadClientCertificate(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", filepath.Base(path), err, want)
			continue
		}
		if !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("%s: error does not name the file: %v", filepath.Base(path), err)
		}
		if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), string(f.client.KeyPEM[40:80])) {
			t.Errorf("%s: error quotes the file: %v", filepath.Base(path), err)
		}
	}
}

// TestAllowInvalidHostnamesThroughTheDriver runs the hello probe and a
// SCRAM login through the provider's own client, over TLS, to FerretDB
// behind a TLS-terminating proxy listening on 127.0.0.2, an address the
// proxy's certificate does not name (it names 127.0.0.1): verification as
// usual refuses it, tls_allow_invalid_hostnames reaches FerretDB (and
// presents the client certificate), and a CA that did not sign the
// certificate is refused even then.
func TestAllowInvalidHostnamesThroughTheDriver(t *testing.T) {
	needServer(t)
	t.Parallel()
	f := newTLSFixture(t)
	backend := hostOf(server.URI())
	proxy := startTLSServer(t, "127.0.0.2:0", f.server.TLS, func(c net.Conn) {
		defer c.Close()
		b, err := net.Dial("tcp", backend)
		if err != nil {
			return
		}
		defer b.Close()
		go func() { _, _ = io.Copy(b, c); _ = b.Close() }()
		_, _ = io.Copy(c, b)
	})
	ctx := context.Background()
	p := testPool()
	defer p.Close(ctx)
	dep := Deployment{Hosts: []string{proxy.addr}, TLS: true, TLSCAFile: f.caFile}

	_, err := p.Probe(ctx, dep)
	if !strings.Contains(fmtErr(err), "x509: certificate is valid for") || !strings.Contains(fmtErr(err), "not 127.0.0.2") {
		t.Fatalf("probe of 127.0.0.2 with a certificate for 127.0.0.1: %v, want a host name error", err)
	}

	dep.TLSAllowInvalidHostnames = true
	dep.TLSCertificateKeyFile = f.clientFile
	if _, err := p.Probe(ctx, dep); err != nil {
		t.Fatalf("probe with tls_allow_invalid_hostnames: %v", err)
	}
	if err := p.VerifyLogin(ctx, dep, admin()); err != nil {
		t.Fatalf("login with tls_allow_invalid_hostnames: %v", err)
	}
	block, _ := pem.Decode(f.client.CertPEM)
	seen := proxy.clientCerts()
	if len(seen) == 0 || !bytes.Equal(seen[len(seen)-1], block.Bytes) {
		t.Errorf("the server did not get the client certificate (%d seen)", len(seen))
	}

	dep.TLSCAFile = f.otherCAFile
	if _, err := p.Probe(ctx, dep); err == nil {
		t.Fatal("probe trusting a CA that did not sign the server's certificate succeeded")
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
