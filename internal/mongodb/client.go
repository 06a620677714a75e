package mongodb

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func (p *Pool) connect(dep Deployment, id *Identity, direct bool) (*mongo.Client, error) {
	opts, err := p.clientOptions(dep, id, direct)
	if err != nil {
		return nil, err
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		return nil, &Error{Op: "configure client", Deployment: dep, Kind: KindConfig, Err: err}
	}
	return c, nil
}

// clientOptions builds (but does not dial) the driver options for dep as
// id (nil: no authentication, for hello). The seed list comes from
// dep.clientURI, so that a mongodb+srv:// name is resolved by the driver
// itself (SRV and TXT records, and SRV polling for a sharded cluster, the
// way every MongoDB driver does it); everything the provider controls is
// set afterwards and so overrides the URI and any TXT record.
func (p *Pool) clientOptions(dep Deployment, id *Identity, direct bool) (*options.ClientOptions, error) {
	if err := dep.Validate(); err != nil {
		return nil, &Error{Op: "configure client", Deployment: dep, Kind: KindConfig, Err: err}
	}
	if direct && dep.IsSRV() {
		return nil, &Error{Op: "configure client", Deployment: dep, Kind: KindConfig,
			Err: errors.New("a direct connection needs one host, not an SRV name; resolve it first (ResolveSRV)")}
	}
	// ApplyURI resolves an SRV name here, and an unresolvable one is an
	// error now: the deployment cannot be reached.
	opts := options.Client().ApplyURI(dep.clientURI())
	if err := opts.Validate(); err != nil {
		kind := KindConfig
		if dep.IsSRV() {
			kind = KindUnreachable
		}
		return nil, &Error{Op: "configure client", Deployment: dep, Kind: kind, Err: driverReason(err)}
	}
	opts.SetConnectTimeout(p.defaults.ConnectTimeout).
		SetServerSelectionTimeout(p.defaults.ServerSelectionTimeout).
		SetAppName("terraform-provider-segura").
		// Rotation must not be retried blindly: a retried updateUser after a
		// lost reply is harmless, but the caller decides that, not the driver.
		SetRetryWrites(false)
	loadBalanced := opts.LoadBalanced != nil && *opts.LoadBalanced
	switch {
	case loadBalanced:
		// One connection through the load balancer; the driver refuses
		// directConnection and replicaSet with loadBalanced.
	case direct:
		opts.SetDirect(true)
	case dep.ReplicaSet != "":
		opts.SetReplicaSet(dep.ReplicaSet)
	case len(dep.Hosts) == 1:
		opts.SetDirect(true)
	}
	if dep.TLS {
		cfg, err := p.tlsConfig(dep)
		if err != nil {
			return nil, &Error{Op: "configure TLS", Deployment: dep, Kind: KindConfig, Err: err}
		}
		opts.SetTLSConfig(cfg)
	} else {
		opts.TLSConfig = nil
	}
	// Never what a TXT record or the URI says: the identity decides.
	opts.Auth = nil
	if id != nil {
		opts.SetAuth(options.Credential{
			AuthMechanism: id.Mechanism,
			AuthSource:    id.authSource(),
			Username:      id.Username,
			Password:      id.Password,
			PasswordSet:   true,
		})
	}
	return opts, nil
}

// tlsConfig is the TLS configuration for dep: the client certificate, the
// trusted CAs (the deployment's, the provider's, or the system roots), and
// how the servers' certificates are verified.
func (p *Pool) tlsConfig(dep Deployment) (*tls.Config, error) {
	caFile := dep.TLSCAFile
	if caFile == "" {
		caFile = p.defaults.CAFile
	}
	return TLSConfig(dep, caFile)
}

// TLSConfig builds the TLS configuration for dep trusting caFile (empty:
// the system roots):
//
//   - TLSCertificateKeyFile is loaded into Certificates (a client
//     certificate for x.509-aware servers; the provider still logs in with
//     SCRAM);
//   - TLSInsecure accepts any certificate;
//   - TLSAllowInvalidHostnames verifies the chain against the trusted CAs
//     (and the server-auth key usage) but not the name. Go's crypto/tls has
//     no such switch, and the Go driver does not support the option, so it
//     is InsecureSkipVerify plus a VerifyConnection that does the chain
//     verification itself, as the crypto/tls documentation suggests for
//     custom verification.
//
// With either bypass the driver skips its OCSP check, which it runs only on
// verified connections.
func TLSConfig(dep Deployment, caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if dep.TLSCertificateKeyFile != "" {
		cert, err := LoadClientCertificate(dep.TLSCertificateKeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if dep.TLSInsecure {
		cfg.InsecureSkipVerify = true // #nosec G402 -- explicit user opt-in, documented as unsafe.
		return cfg, nil
	}
	if caFile != "" {
		data, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA bundle: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caFile)
		}
		cfg.RootCAs = roots
	}
	if dep.TLSAllowInvalidHostnames {
		roots := cfg.RootCAs          // nil: the system roots, as x509.Verify takes them
		cfg.InsecureSkipVerify = true // #nosec G402 -- the chain is verified in VerifyConnection; only the name is not.
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyChain(cs.PeerCertificates, roots) }
	}
	return cfg, nil
}

// verifyChain verifies the server's certificate chain against roots for
// server authentication, without a host name.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return errors.New("tls: the server sent no certificate")
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   time.Now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("tls: the server's certificate chain does not verify (host name not checked): %w", err)
	}
	return nil
}

// LoadClientCertificate reads a PEM file holding a certificate (chain) and
// its private key, in either order, as mongod's and the drivers'
// tlsCertificateKeyFile. The key must be unencrypted. Errors name the file
// and what is missing, never its content.
func LoadClientCertificate(path string) (tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading the client certificate file: %w", err)
	}
	var certs, keys, encrypted int
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case block.Type == "CERTIFICATE":
			certs++
		case strings.Contains(block.Type, "ENCRYPTED") || block.Headers["Proc-Type"] == "4,ENCRYPTED":
			encrypted++
		case strings.HasSuffix(block.Type, "PRIVATE KEY"):
			keys++
		}
	}
	switch {
	case certs == 0:
		return tls.Certificate{}, fmt.Errorf("%s holds no PEM CERTIFICATE block; it must hold the client certificate and its private key", path)
	case keys == 0 && encrypted > 0:
		return tls.Certificate{}, fmt.Errorf("%s holds an encrypted private key; the provider takes an unencrypted one (decrypt it with openssl pkey, and protect the file with its permissions)", path)
	case keys == 0:
		return tls.Certificate{}, fmt.Errorf("%s holds no PEM PRIVATE KEY block; it must hold the client certificate and its private key", path)
	}
	cert, err := tls.X509KeyPair(data, data)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: certificate and private key do not make a pair: %w", path, err)
	}
	return cert, nil
}
