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
	// Hosts is the seed list, "host" or "host:port" each. Exactly one of
	// Hosts and SRVHost is set.
	Hosts []string
	// SRVHost is the DNS name of a mongodb+srv:// seed list, without a
	// port: the driver looks up its SRV records (_mongodb._tcp.<SRVHost>,
	// or the srvServiceName option's service) for the hosts and its TXT
	// record for replicaSet, authSource and loadBalanced, and TLS is on
	// unless TLS is false.
	SRVHost string
	// ReplicaSet is the replica set name; empty for a standalone server (or,
	// with SRVHost, for whatever the TXT record says).
	ReplicaSet string
	// TLS turns on TLS for every connection.
	TLS bool
	// TLSCAFile is a PEM bundle for this deployment; it overrides Defaults.CAFile.
	TLSCAFile string
	// TLSCertificateKeyFile is a PEM file holding the client certificate
	// and its (unencrypted) private key, presented to the servers, as
	// mongod's and the drivers' tlsCertificateKeyFile.
	TLSCertificateKeyFile string
	// TLSInsecure skips certificate verification (tests and break-glass only).
	TLSInsecure bool
	// TLSAllowInvalidHostnames verifies the servers' certificate chains
	// against the trusted CAs but not that they name the host connected to.
	TLSAllowInvalidHostnames bool
	// Options are extra connection string options for the connection
	// strings applications get, by canonical name (CanonicalOption). The
	// provider's own client applies only those AppliedToProvider marks; the
	// others (retryWrites, w, readPreference, ...) it controls itself.
	Options map[string]string
}

// IsSRV reports whether the deployment is a mongodb+srv:// seed list.
func (d Deployment) IsSRV() bool { return d.SRVHost != "" }

// String renders the deployment as a credential-free connection string, for
// messages and cache keys: the seed list (or mongodb+srv:// name), the
// replica set, the TLS settings and the options the provider's client
// applies.
func (d Deployment) String() string {
	q := url.Values{}
	if d.ReplicaSet != "" {
		q.Set("replicaSet", d.ReplicaSet)
	}
	switch {
	case d.TLS:
		q.Set("tls", "true")
		if d.TLSCAFile != "" {
			q.Set("tlsCAFile", d.TLSCAFile)
		}
		if d.TLSCertificateKeyFile != "" {
			q.Set("tlsCertificateKeyFile", d.TLSCertificateKeyFile)
		}
		if d.TLSInsecure {
			q.Set("tlsInsecure", "true")
		}
		if d.TLSAllowInvalidHostnames {
			q.Set("tlsAllowInvalidHostnames", "true")
		}
	case d.IsSRV():
		q.Set("tls", "false") // mongodb+srv:// turns TLS on unless told otherwise
	}
	for name, value := range d.Options {
		if AppliedToProvider(name) {
			q.Set(name, value)
		}
	}
	s := d.scheme() + d.seed() + "/"
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func (d Deployment) scheme() string {
	if d.IsSRV() {
		return "mongodb+srv://"
	}
	return "mongodb://"
}

// seed is the host part of a connection string: the SRV name, or the hosts
// with their ports.
func (d Deployment) seed() string {
	if d.IsSRV() {
		return strings.TrimSuffix(d.SRVHost, ".")
	}
	return strings.Join(d.normalizedHosts(), ",")
}

// Address names where the deployment is in one string, for tags and
// messages: "host:port,host:port", or "mongodb+srv://name" for an SRV seed
// list (whose hosts only DNS knows).
func (d Deployment) Address() string {
	if d.IsSRV() {
		return d.scheme() + d.seed()
	}
	return d.seed()
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

// CheckSRVHost reports what is wrong with name as the host of a
// mongodb+srv:// connection string, or "" when nothing is: it must be a DNS
// name (not an IP address) without a port, as the connection string
// specification requires.
func CheckSRVHost(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case strings.Contains(name, "://") || strings.Contains(name, "@") || strings.Contains(name, "/"):
		return fmt.Sprintf("must be the DNS name alone, e.g. cluster0.example.net, not a connection string (got %q)", name)
	case strings.Contains(name, ","):
		return fmt.Sprintf("must be one DNS name: a mongodb+srv:// seed list names one host, whose SRV records list the servers (got %q)", name)
	}
	if _, _, err := net.SplitHostPort(name); err == nil || strings.Count(name, ":") == 1 {
		return fmt.Sprintf("must not carry a port: the SRV records give every server's port (got %q)", name)
	}
	if net.ParseIP(strings.Trim(name, "[]")) != nil {
		return fmt.Sprintf("must be a DNS name with SRV records, not an IP address (got %q)", name)
	}
	if !dnsNamePattern(strings.TrimSuffix(name, ".")) {
		return fmt.Sprintf("must be a DNS name: labels of letters, digits and hyphens separated by dots (got %q)", name)
	}
	return ""
}

func dnsNamePattern(name string) bool {
	labels := strings.Split(name, ".")
	if len(labels) < 2 || len(name) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			letterOrDigit := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
			if !letterOrDigit && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// Validate reports configuration mistakes that need no network to find.
func (d Deployment) Validate() error {
	switch {
	case d.IsSRV() && len(d.Hosts) > 0:
		return errors.New("the deployment has both a seed list and an SRV host name; give one")
	case d.IsSRV():
		if msg := CheckSRVHost(d.SRVHost); msg != "" {
			return fmt.Errorf("SRV host %s", msg)
		}
	case len(d.Hosts) == 0:
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
	if !d.TLS && (d.TLSCAFile != "" || d.TLSInsecure || d.TLSCertificateKeyFile != "" || d.TLSAllowInvalidHostnames) {
		return errors.New("TLS options are set but TLS is off")
	}
	if d.TLSInsecure && d.TLSAllowInvalidHostnames {
		return errors.New("TLS verification is both off and on without host names; give one")
	}
	return CheckOptions(d)
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
