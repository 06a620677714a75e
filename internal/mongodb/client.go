package mongodb

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func (p *Pool) connect(dep Deployment, id *Identity, direct bool) (*mongo.Client, error) {
	if err := dep.Validate(); err != nil {
		return nil, &Error{Op: "configure client", Deployment: dep, Kind: KindConfig, Err: err}
	}
	opts := options.Client().
		SetHosts(dep.normalizedHosts()).
		SetConnectTimeout(p.defaults.ConnectTimeout).
		SetServerSelectionTimeout(p.defaults.ServerSelectionTimeout).
		SetAppName("terraform-provider-segura").
		// Rotation must not be retried blindly: a retried updateUser after a
		// lost reply is harmless, but the caller decides that, not the driver.
		SetRetryWrites(false)
	switch {
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
	}
	if id != nil {
		opts.SetAuth(options.Credential{
			AuthMechanism: id.Mechanism,
			AuthSource:    id.authSource(),
			Username:      id.Username,
			Password:      id.Password,
			PasswordSet:   true,
		})
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		return nil, &Error{Op: "configure client", Deployment: dep, Kind: KindConfig, Err: err}
	}
	return c, nil
}

func (p *Pool) tlsConfig(dep Deployment) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if dep.TLSInsecure {
		cfg.InsecureSkipVerify = true // #nosec G402 -- explicit user opt-in, documented as unsafe.
		return cfg, nil
	}
	caFile := dep.TLSCAFile
	if caFile == "" {
		caFile = p.defaults.CAFile
	}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caFile)
	}
	cfg.RootCAs = roots
	return cfg, nil
}
