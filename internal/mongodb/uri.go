package mongodb

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// Connection string options a device may add to the connection strings
// applications get (https://www.mongodb.com/docs/manual/reference/connection-string-options/).
// The list is what the official Go driver parses and validates, so a value
// it would refuse fails at plan; options it does not know are refused too,
// rather than handed to applications unchecked.

// optionUse says who applies an option.
type optionUse int

const (
	// forApplications: rendered into the applications' connection string
	// only. The provider's own client sets these itself (retryWrites stays
	// false for it, writes are w: "majority", reads from the primary, its
	// own timeouts and pool).
	forApplications optionUse = iota
	// forBoth: the provider's client applies it too, because reaching the
	// deployment depends on it (load balancer, SRV service, compression).
	forBoth
)

// knownOptions maps each accepted option, by lower-case name, to its
// canonical spelling and use.
var knownOptions = func() map[string]struct {
	name string
	use  optionUse
} {
	m := map[string]struct {
		name string
		use  optionUse
	}{}
	for _, n := range []string{
		"appName", "authMechanism", "retryWrites", "retryReads", "w", "journal",
		"readPreference", "readPreferenceTags", "maxStalenessSeconds", "readConcernLevel",
		"connectTimeoutMS", "socketTimeoutMS", "serverSelectionTimeoutMS", "timeoutMS", "heartbeatFrequencyMS",
		"localThresholdMS", "maxPoolSize", "minPoolSize", "maxIdleTimeMS", "maxConnecting",
		"directConnection", "serverMonitoringMode",
		"tlsCAFile", "tlsCertificateKeyFile", "tlsDisableOCSPEndpointCheck", "tlsDisableCertificateRevocationCheck",
	} {
		m[strings.ToLower(n)] = struct {
			name string
			use  optionUse
		}{n, forApplications}
	}
	for _, n := range []string{"compressors", "zlibCompressionLevel", "zstdCompressionLevel", "loadBalanced", "srvServiceName", "srvMaxHosts"} {
		m[strings.ToLower(n)] = struct {
			name string
			use  optionUse
		}{n, forBoth}
	}
	return m
}()

// refusedOptions are options a device may not carry in its options, with
// what to do instead.
var refusedOptions = map[string]string{
	"replicaset":                      "set the device's replica_set instead",
	"tls":                             "set the device's tls instead",
	"ssl":                             "set the device's tls instead",
	"authsource":                      "it is the credential's auth_database, which every connection string carries",
	"tlsinsecure":                     "the provider does not hand a verification bypass to applications; the provider's own is tls_insecure_skip_verify",
	"sslinsecure":                     "the provider does not hand a verification bypass to applications; the provider's own is tls_insecure_skip_verify",
	"tlsallowinvalidcertificates":     "the provider does not hand a verification bypass to applications; the provider's own is tls_insecure_skip_verify",
	"tlsallowinvalidhostnames":        "the provider does not hand a verification bypass to applications; the provider's own is tls_allow_invalid_hostnames",
	"tlscertificatekeyfilepassword":   "it is a secret, and options are stored in Terraform state; use an unencrypted key file",
	"sslclientcertificatekeypassword": "it is a secret, and options are stored in Terraform state; use an unencrypted key file",
	"authmechanismproperties":         "the provider's credentials are SCRAM passwords, which take no mechanism properties",
}

// OptionNames lists the accepted option names, sorted, for documentation.
func OptionNames() []string {
	out := make([]string, 0, len(knownOptions))
	for _, o := range knownOptions {
		out = append(out, o.name)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// ProviderOptionNames lists, sorted, the accepted options the provider's
// own client applies as well.
func ProviderOptionNames() []string {
	var out []string
	for _, n := range OptionNames() {
		if AppliedToProvider(n) {
			out = append(out, n)
		}
	}
	return out
}

// CanonicalOption returns the canonical spelling of a connection string
// option (names are case-insensitive), or an error that says why the option
// is not accepted and what to do instead.
func CanonicalOption(name string) (string, error) {
	lower := strings.ToLower(strings.TrimSpace(name))
	if o, ok := knownOptions[lower]; ok {
		return o.name, nil
	}
	if why, ok := refusedOptions[lower]; ok {
		return "", fmt.Errorf("option %q is not accepted here: %s", name, why)
	}
	return "", fmt.Errorf("option %q is not a connection string option the provider knows; use one of %s", name, strings.Join(OptionNames(), ", "))
}

// AppliedToProvider reports whether the provider's own client applies the
// option (by canonical or any-case name) as well as rendering it.
func AppliedToProvider(name string) bool {
	o, ok := knownOptions[strings.ToLower(name)]
	return ok && o.use == forBoth
}

// NormalizeOptions returns options keyed by canonical names. It fails on an
// unknown or refused name, or on two spellings of one option.
func NormalizeOptions(options map[string]string) (map[string]string, error) {
	if len(options) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(options))
	names := make([]string, 0, len(options))
	for n := range options {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c, err := CanonicalOption(n)
		if err != nil {
			return nil, err
		}
		if _, dup := out[c]; dup {
			return nil, fmt.Errorf("option %s is given twice (names are case-insensitive); keep one", c)
		}
		out[c] = options[n]
	}
	return out, nil
}

// CheckOption checks one option's value on its own, as the driver parses
// it. name must be canonical.
func CheckOption(name, value string) error {
	switch name {
	case "authMechanism":
		if !slices.Contains(Mechanisms, strings.ToUpper(value)) {
			return fmt.Errorf("option authMechanism is %q; the provider's credentials are passwords, so it must be %s", value, strings.Join(Mechanisms, " or "))
		}
		return nil
	case "srvServiceName":
		if len(value) < 1 || len(value) > 62 {
			return fmt.Errorf("option srvServiceName must be 1 to 62 characters (got %d)", len(value))
		}
		return nil
	case "srvMaxHosts":
		if n, err := strconv.Atoi(value); err != nil || n < 0 {
			return fmt.Errorf("option srvMaxHosts must be a whole number, 0 or more (got %q)", value)
		}
		return nil
	}
	uri := "mongodb://localhost/?" + name + "=" + url.QueryEscape(value)
	if _, err := connstring.ParseAndValidate(uri); err != nil {
		return optionError(name, err)
	}
	// The parser leaves read preference modes to the client options, which
	// check the other options only together (CheckOptions).
	if name == "readPreference" {
		if err := options.Client().ApplyURI(uri).Validate(); err != nil {
			return optionError(name, err)
		}
	}
	return nil
}

// CheckOptions checks the deployment's options, one by one and together
// with its hosts, replica set and TLS, as the driver would parse the
// connection string applications get. It needs no network: for an SRV seed
// list it does not resolve anything.
func CheckOptions(d Deployment) error {
	if len(d.Options) == 0 {
		return nil
	}
	names := make([]string, 0, len(d.Options))
	for n := range d.Options {
		if c, err := CanonicalOption(n); err != nil {
			return err
		} else if c != n {
			return fmt.Errorf("option %q is not in canonical form %q", n, c)
		}
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := CheckOption(n, d.Options[n]); err != nil {
			return err
		}
	}
	if !d.IsSRV() {
		for _, n := range []string{"srvServiceName", "srvMaxHosts"} {
			if _, ok := d.Options[n]; ok {
				return fmt.Errorf("option %s applies to a mongodb+srv:// seed list only; set srv_host, or remove the option", n)
			}
		}
	} else if v, ok := d.Options["srvMaxHosts"]; ok && v != "0" {
		if d.ReplicaSet != "" {
			return errors.New("option srvMaxHosts cannot be combined with a replica set name (the driver refuses it); remove one")
		}
		if strings.EqualFold(d.Options["loadBalanced"], "true") {
			return errors.New("option srvMaxHosts cannot be combined with loadBalanced=true (the driver refuses it); remove one")
		}
	}
	// Everything together, as the applications' driver will see it. An SRV
	// name would make the parser query DNS: a placeholder host stands in,
	// and the SRV-only options were checked above.
	check := Deployment{Hosts: d.Hosts, ReplicaSet: d.ReplicaSet, TLS: d.TLS, Options: map[string]string{}}
	if d.IsSRV() {
		check.Hosts = []string{"localhost"}
	}
	for n, v := range d.Options {
		if n != "srvServiceName" && n != "srvMaxHosts" {
			check.Options[n] = v
		}
	}
	// Placeholder credentials: authMechanism needs a user to be valid, and
	// every rendered connection string has one.
	if _, err := connstring.ParseAndValidate(check.ApplicationURI("user:password@", DefaultAuthSource)); err != nil {
		return fmt.Errorf("the options do not fit together with the device's hosts, replica set and TLS settings: %w", driverReason(err))
	}
	// The client options check what the parser leaves to them (read
	// preference modes, maxStalenessSeconds with primary, ...). The TLS
	// files are applications' paths, which would be read here: left out.
	delete(check.Options, "tlsCAFile")
	delete(check.Options, "tlsCertificateKeyFile")
	if err := options.Client().ApplyURI(check.ApplicationURI("user:password@", DefaultAuthSource)).Validate(); err != nil {
		return fmt.Errorf("the options do not fit together with the device's hosts, replica set and TLS settings: %w", driverReason(err))
	}
	return nil
}

func optionError(name string, err error) error {
	return fmt.Errorf("option %s: %w", name, driverReason(err))
}

// driverReason strips the parser's "error parsing uri: " prefix.
func driverReason(err error) error {
	msg := err.Error()
	for _, p := range []string{"error validating uri: ", "error parsing uri: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return errors.New(msg)
}

// ApplicationURI renders the connection string applications get:
// userinfo (already percent-encoded, with its trailing "@"; empty for none),
// the seed list or SRV name, then authSource, replicaSet, tls and the
// device's options, sorted by name. It never carries the provider's own TLS
// files or verification bypasses: those are paths and decisions on the
// machine running Terraform (an application that needs tlsCAFile or
// tlsCertificateKeyFile names its own in the options).
func (d Deployment) ApplicationURI(userinfo, authSource string) string {
	var b strings.Builder
	b.WriteString(d.scheme())
	b.WriteString(userinfo)
	b.WriteString(d.seed())
	b.WriteString("/?authSource=")
	b.WriteString(PercentEncode(authSource))
	if d.ReplicaSet != "" {
		b.WriteString("&replicaSet=")
		b.WriteString(PercentEncode(d.ReplicaSet))
	}
	switch {
	case d.TLS:
		b.WriteString("&tls=true")
	case d.IsSRV():
		b.WriteString("&tls=false")
	}
	names := make([]string, 0, len(d.Options))
	for n := range d.Options {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for _, n := range names {
		b.WriteByte('&')
		b.WriteString(PercentEncode(n))
		b.WriteByte('=')
		b.WriteString(PercentEncode(d.Options[n]))
	}
	return b.String()
}

// clientURI is the connection string the provider's own client is built
// from: the seed list or SRV name, TLS off for an SRV name without TLS (the
// scheme turns it on otherwise), and only the options the provider applies.
// Credentials, the replica set, timeouts and TLS settings are set on the
// client options afterwards, so they override what an SRV TXT record says.
func (d Deployment) clientURI() string {
	var q []string
	if d.IsSRV() && !d.TLS {
		q = append(q, "tls=false")
	}
	names := make([]string, 0, len(d.Options))
	for n := range d.Options {
		if AppliedToProvider(n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		q = append(q, PercentEncode(n)+"="+PercentEncode(d.Options[n]))
	}
	s := d.scheme() + d.seed() + "/"
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

// ResolveSRV looks up an SRV seed list as the driver does (SRV records for
// the hosts, the TXT record for replicaSet and loadBalanced) and returns
// the deployment as a plain seed list, for what needs the hosts one by one,
// such as the hello probe. A deployment that is not an SRV seed list comes
// back as it is. The device's replica_set, when set, wins over the TXT
// record's.
func ResolveSRV(d Deployment) (Deployment, error) {
	if !d.IsSRV() {
		return d, nil
	}
	if err := d.Validate(); err != nil {
		return d, &Error{Op: "resolve SRV records", Deployment: d, Kind: KindConfig, Err: err}
	}
	cs, err := connstring.ParseAndValidate(d.clientURI())
	if err != nil {
		return d, &Error{Op: "resolve SRV records", Deployment: d, Kind: KindUnreachable,
			Err: fmt.Errorf("looking up the SRV and TXT records of %s: %w", d.SRVHost, driverReason(err))}
	}
	out := d
	out.SRVHost = ""
	out.Hosts = slices.Clone(cs.Hosts)
	if out.ReplicaSet == "" {
		out.ReplicaSet = cs.ReplicaSet
	}
	out.Options = map[string]string{}
	for n, v := range d.Options {
		if n != "srvServiceName" && n != "srvMaxHosts" {
			out.Options[n] = v
		}
	}
	if cs.LoadBalancedSet && cs.LoadBalanced {
		out.Options["loadBalanced"] = "true"
	}
	return out, nil
}

// PercentEncode escapes every byte outside RFC 3986's unreserved set, as
// the connection string specification wants for credentials and option
// values (url.QueryEscape leaves sub-delimiters such as '$' and '+').
func PercentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
