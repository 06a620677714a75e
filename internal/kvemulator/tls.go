package kvemulator

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/testcert"
)

// certificateAuthority is the emulator's private CA and the one server
// certificate it issues for every listener (all listeners are on 127.0.0.1).
type certificateAuthority struct {
	certPEM    []byte
	pool       *x509.CertPool
	serverCert tls.Certificate
}

func newCertificateAuthority() (*certificateAuthority, error) {
	const validity = 30 * 24 * time.Hour
	ca, err := testcert.NewCA("segura Key Vault emulator CA", validity)
	if err != nil {
		return nil, err
	}
	leaf, err := ca.LoopbackServerCert(validity)
	if err != nil {
		return nil, fmt.Errorf("issuing the server certificate: %w", err)
	}
	return &certificateAuthority{certPEM: ca.CertPEM, pool: ca.Pool(), serverCert: leaf.TLS}, nil
}

// serverTLSConfig serves HTTP/1.1 only: the "drop" faults hijack the
// connection, which HTTP/2 does not allow.
func (ca *certificateAuthority) serverTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{ca.serverCert},
		NextProtos:   []string{"http/1.1"},
	}
}
