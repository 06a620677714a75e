package mongodb

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Deployment says where a MongoDB deployment is and how to reach it. It
// carries no credentials.
type Deployment struct {
	// Hosts is the seed list, "host" or "host:port" each.
	Hosts []string
	// ReplicaSet is the replica set name; empty for a standalone server.
	ReplicaSet string
	// TLS turns on TLS for every connection.
	TLS bool
	// TLSCAFile is a PEM bundle for this deployment; it overrides Defaults.CAFile.
	TLSCAFile string
	// TLSInsecure skips certificate verification (tests and break-glass only).
	TLSInsecure bool
}

// String renders the deployment as a credential-free connection string, for
// messages and cache keys.
func (d Deployment) String() string {
	q := url.Values{}
	if d.ReplicaSet != "" {
		q.Set("replicaSet", d.ReplicaSet)
	}
	if d.TLS {
		q.Set("tls", "true")
		if d.TLSCAFile != "" {
			q.Set("tlsCAFile", d.TLSCAFile)
		}
		if d.TLSInsecure {
			q.Set("tlsInsecure", "true")
		}
	}
	s := "mongodb://" + strings.Join(d.normalizedHosts(), ",") + "/"
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// normalizedHosts returns the hosts with the default port made explicit, so
// that "db" and "db:27017" are the same deployment.
func (d Deployment) normalizedHosts() []string {
	out := make([]string, 0, len(d.Hosts))
	for _, h := range d.Hosts {
		out = append(out, NormalizeHost(h, DefaultPort))
	}
	return out
}

// NormalizeHost adds port to host when it has none. IPv6 literals must be
// bracketed ("[::1]" or "[::1]:27017").
func NormalizeHost(host string, port int) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
}

// Validate reports configuration mistakes that need no network to find.
func (d Deployment) Validate() error {
	if len(d.Hosts) == 0 {
		return errors.New("the deployment has no hosts")
	}
	for _, h := range d.Hosts {
		host, port, err := net.SplitHostPort(NormalizeHost(h, DefaultPort))
		if err != nil || host == "" {
			return fmt.Errorf("host %q is not a host name, IP address or host:port", h)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("host %q has port %q, want 1-65535", h, port)
		}
	}
	if !d.TLS && (d.TLSCAFile != "" || d.TLSInsecure) {
		return errors.New("TLS options are set but TLS is off")
	}
	return nil
}

// Identity is a MongoDB user the provider authenticates as.
type Identity struct {
	Username string
	// Password is the user's password. Never logged, never in errors.
	Password string
	// AuthSource is the user's authentication database; DefaultAuthSource when empty.
	AuthSource string
	// Mechanism is MechanismSCRAMSHA256, MechanismSCRAMSHA1 or empty (negotiate).
	Mechanism string
}

func (id Identity) authSource() string {
	if id.AuthSource == "" {
		return DefaultAuthSource
	}
	return id.AuthSource
}

// String names the identity for messages: "user@authdb". No password.
func (id Identity) String() string {
	return id.Username + "@" + id.authSource()
}
