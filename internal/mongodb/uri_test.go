package mongodb

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/dns"
)

// TestApplicationURI: the connection string applications get, for a seed
// list and for an SRV name, with the device's options sorted and
// percent-encoded after authSource, replicaSet and tls; the driver's own
// parser reads every non-SRV one back as intended.
func TestApplicationURI(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		dep  Deployment
		want string
	}{
		{"standalone", Deployment{Hosts: []string{"db"}}, "mongodb://u:p@db:27017/?authSource=orders"},
		{"replica set over TLS", Deployment{Hosts: []string{"a", "b:27018"}, ReplicaSet: "rs0", TLS: true, TLSCAFile: "/ca.pem", TLSAllowInvalidHostnames: true},
			"mongodb://u:p@a:27017,b:27018/?authSource=orders&replicaSet=rs0&tls=true"},
		{"options", Deployment{Hosts: []string{"db"}, Options: map[string]string{
			"retryWrites": "false", "w": "majority", "readPreferenceTags": "dc:ny,rack:1", "appName": "orders api", "compressors": "zstd,snappy",
		}}, "mongodb://u:p@db:27017/?authSource=orders&appName=orders%20api&compressors=zstd%2Csnappy&readPreferenceTags=dc%3Any%2Crack%3A1&retryWrites=false&w=majority"},
		{"SRV", Deployment{SRVHost: "cluster0.ab1cd.mongodb.net", TLS: true, Options: map[string]string{"retryWrites": "true"}},
			"mongodb+srv://u:p@cluster0.ab1cd.mongodb.net/?authSource=orders&tls=true&retryWrites=true"},
		{"SRV without TLS says so", Deployment{SRVHost: "rs.db.internal.example"}, "mongodb+srv://u:p@rs.db.internal.example/?authSource=orders&tls=false"},
		{"SRV name with trailing dot", Deployment{SRVHost: "rs.db.internal.example.", TLS: true}, "mongodb+srv://u:p@rs.db.internal.example/?authSource=orders&tls=true"},
	}
	for _, c := range cases {
		got := c.dep.ApplicationURI("u:p@", "orders")
		if got != c.want {
			t.Errorf("%s: ApplicationURI = %q, want %q", c.name, got, c.want)
			continue
		}
		if c.dep.IsSRV() {
			continue // parsing would query DNS
		}
		cs, err := connstring.ParseAndValidate(got)
		if err != nil {
			t.Errorf("%s: the driver refuses %q: %v", c.name, got, err)
			continue
		}
		if cs.AuthSource != "orders" || cs.ReplicaSet != c.dep.ReplicaSet || cs.SSL != c.dep.TLS {
			t.Errorf("%s: parsed back authSource %q replicaSet %q tls %v", c.name, cs.AuthSource, cs.ReplicaSet, cs.SSL)
		}
		if v, ok := c.dep.Options["readPreferenceTags"]; ok && (len(cs.ReadPreferenceTagSets) != 1 || cs.ReadPreferenceTagSets[0]["dc"] != "ny") {
			t.Errorf("%s: readPreferenceTags %q parsed back as %v", c.name, v, cs.ReadPreferenceTagSets)
		}
		if _, ok := c.dep.Options["compressors"]; ok && !slices.Equal(cs.Compressors, []string{"zstd", "snappy"}) {
			t.Errorf("%s: compressors parsed back as %v", c.name, cs.Compressors)
		}
		if c.dep.Options["retryWrites"] == "false" && (!cs.RetryWritesSet || cs.RetryWrites) {
			t.Errorf("%s: retryWrites=false did not reach the applications' driver", c.name)
		}
	}
}

// TestClientURI: the provider's own client is built from the seed list (or
// SRV name) and only the options that decide how to reach the deployment;
// retryWrites, w, readPreference and the like never reach it.
func TestClientURI(t *testing.T) {
	t.Parallel()
	opts := map[string]string{"retryWrites": "true", "w": "1", "readPreference": "secondary", "appName": "x", "compressors": "zlib", "maxPoolSize": "1"}
	cases := []struct {
		dep  Deployment
		want string
	}{
		{Deployment{Hosts: []string{"a", "[::1]:27018"}, Options: opts}, "mongodb://a:27017,[::1]:27018/?compressors=zlib"},
		{Deployment{SRVHost: "c.example.net", TLS: true, Options: map[string]string{"srvServiceName": "mongo-ro", "retryWrites": "true"}}, "mongodb+srv://c.example.net/?srvServiceName=mongo-ro"},
		{Deployment{SRVHost: "c.example.net"}, "mongodb+srv://c.example.net/?tls=false"},
		{Deployment{Hosts: []string{"db"}, TLS: true}, "mongodb://db:27017/"},
	}
	for _, c := range cases {
		if got := c.dep.clientURI(); got != c.want {
			t.Errorf("clientURI of %+v = %q, want %q", c.dep, got, c.want)
		}
	}
}

func TestCanonicalOptionAndNormalize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"retrywrites": "retryWrites", "RETRYWRITES": "retryWrites", "authMechanism": "authMechanism", "loadbalanced": "loadBalanced", " w ": "w"} {
		if got, err := CanonicalOption(in); err != nil || got != want {
			t.Errorf("CanonicalOption(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	refused := map[string]string{
		"replicaSet":                    "replica_set",
		"tls":                           "device's tls",
		"ssl":                           "device's tls",
		"authSource":                    "auth_database",
		"tlsInsecure":                   "tls_insecure_skip_verify",
		"tlsAllowInvalidHostnames":      "tls_allow_invalid_hostnames",
		"tlsCertificateKeyFilePassword": "secret",
		"uuidRepresentation":            "not a connection string option the provider knows",
	}
	for in, want := range refused {
		_, err := CanonicalOption(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), in) {
			t.Errorf("CanonicalOption(%q) = %v; want an error naming it and %q", in, err, want)
		}
	}
	got, err := NormalizeOptions(map[string]string{"RetryWrites": "false", "w": "majority"})
	if err != nil || got["retryWrites"] != "false" || got["w"] != "majority" || len(got) != 2 {
		t.Errorf("NormalizeOptions = %v, %v", got, err)
	}
	if _, err := NormalizeOptions(map[string]string{"retryWrites": "false", "retrywrites": "true"}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("two spellings of one option: %v, want an error", err)
	}
}

// TestCheckOptions: values the driver would refuse, and combinations it
// would refuse, fail without any network.
func TestCheckOptions(t *testing.T) {
	t.Parallel()
	good := []Deployment{
		{Hosts: []string{"db"}, Options: map[string]string{"retryWrites": "false", "w": "majority", "authMechanism": "SCRAM-SHA-256", "readPreference": "secondaryPreferred", "maxStalenessSeconds": "120"}},
		{SRVHost: "c.example.net", TLS: true, Options: map[string]string{"srvServiceName": "mongodb", "srvMaxHosts": "2", "retryWrites": "false"}},
		{Hosts: []string{"lb.example"}, Options: map[string]string{"loadBalanced": "true"}},
		{Hosts: []string{"db"}, TLS: true, Options: map[string]string{"tlsCAFile": "/etc/app/ca.pem", "tlsCertificateKeyFile": "/etc/app/client.pem"}},
	}
	for _, d := range good {
		if err := CheckOptions(d); err != nil {
			t.Errorf("CheckOptions(%v) = %v, want nil", d.Options, err)
		}
	}
	bad := []struct {
		dep  Deployment
		want string
	}{
		{Deployment{Hosts: []string{"db"}, Options: map[string]string{"retryWrites": "maybe"}}, "retryWrites"},
		{Deployment{Hosts: []string{"db"}, Options: map[string]string{"authMechanism": "MONGODB-X509"}}, "passwords"},
		{Deployment{Hosts: []string{"db"}, Options: map[string]string{"maxPoolSize": "-1"}}, "maxPoolSize"},
		{Deployment{Hosts: []string{"db"}, Options: map[string]string{"readPreference": "nearest-ish"}}, "readPreference"},
		{Deployment{Hosts: []string{"db"}, Options: map[string]string{"srvServiceName": "mongodb"}}, "srv_host"},
		{Deployment{SRVHost: "c.example.net", ReplicaSet: "rs0", Options: map[string]string{"srvMaxHosts": "2"}}, "replica set"},
		{Deployment{SRVHost: "c.example.net", Options: map[string]string{"srvServiceName": strings.Repeat("s", 63)}}, "1 to 62"},
		{Deployment{Hosts: []string{"a", "b"}, Options: map[string]string{"directConnection": "true"}}, "fit together"},
		{Deployment{Hosts: []string{"a", "b"}, Options: map[string]string{"loadBalanced": "true"}}, "fit together"},
		{Deployment{Hosts: []string{"db"}, Options: map[string]string{"retrywrites": "false"}}, "canonical"},
	}
	for _, c := range bad {
		err := CheckOptions(c.dep)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckOptions(%v) = %v, want an error containing %q", c.dep.Options, err, c.want)
		}
	}
}

func TestCheckSRVHost(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"cluster0.ab1cd.mongodb.net", "rs.internal.example.", "my_svc.example.com"} {
		if msg := CheckSRVHost(ok); msg != "" {
			t.Errorf("CheckSRVHost(%q) = %q, want ok", ok, msg)
		}
	}
	for in, want := range map[string]string{
		"":                                "empty",
		"cluster0.example.net:27017":      "port",
		"mongodb+srv://cluster0.example":  "connection string",
		"user@cluster0.example.net":       "connection string",
		"a.example.net,b.example.net":     "one DNS name",
		"10.0.0.5":                        "IP address",
		"[fd00::1]":                       "IP address",
		"localhost":                       "DNS name",
		"bad_label-.example.net":          "DNS name",
		"-lead.example.net":               "DNS name",
		strings.Repeat("a", 64) + ".net":  "DNS name",
		"cluster0.example.net/?tls=false": "connection string",
	} {
		if msg := CheckSRVHost(in); !strings.Contains(msg, want) {
			t.Errorf("CheckSRVHost(%q) = %q, want a message containing %q", in, msg, want)
		}
	}
}

func TestDeploymentValidateSRVAndTLS(t *testing.T) {
	t.Parallel()
	bad := map[string]Deployment{
		"hosts and SRV":                       {Hosts: []string{"db"}, SRVHost: "c.example.net"},
		"SRV with port":                       {SRVHost: "c.example.net:27017"},
		"client certificate without TLS":      {Hosts: []string{"db"}, TLSCertificateKeyFile: "/c.pem"},
		"allow invalid hostnames without TLS": {Hosts: []string{"db"}, TLSAllowInvalidHostnames: true},
		"both bypasses":                       {Hosts: []string{"db"}, TLS: true, TLSInsecure: true, TLSAllowInvalidHostnames: true},
		"refused option":                      {Hosts: []string{"db"}, Options: map[string]string{"replicaSet": "rs0"}},
	}
	for name, d := range bad {
		if err := d.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", name)
		}
	}
	for name, d := range map[string]Deployment{
		"SRV over TLS": {SRVHost: "c.example.net", TLS: true, TLSCertificateKeyFile: "/c.pem"},
		"SRV plain":    {SRVHost: "c.example.net"},
	} {
		if err := d.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", name, err)
		}
	}
}

// TestDeploymentStringSeparatesConnections: every setting that changes how
// the provider's client connects is in String, the pool's cache key; the
// options only applications use are not.
func TestDeploymentStringSeparatesConnections(t *testing.T) {
	t.Parallel()
	base := Deployment{Hosts: []string{"db"}, TLS: true}
	variants := []Deployment{
		{SRVHost: "db.example.net", TLS: true},
		{Hosts: []string{"db"}, TLS: true, TLSCertificateKeyFile: "/c.pem"},
		{Hosts: []string{"db"}, TLS: true, TLSAllowInvalidHostnames: true},
		{Hosts: []string{"db"}, TLS: true, Options: map[string]string{"compressors": "zlib"}},
	}
	seen := map[string]bool{base.String(): true}
	for _, v := range variants {
		if seen[v.String()] {
			t.Errorf("%+v has the same String as another deployment: %s", v, v.String())
		}
		seen[v.String()] = true
	}
	appOnly := Deployment{Hosts: []string{"db"}, TLS: true, Options: map[string]string{"retryWrites": "true", "w": "1"}}
	if appOnly.String() != base.String() {
		t.Errorf("application-only options changed the client key: %s vs %s", appOnly.String(), base.String())
	}
	if got := (Deployment{SRVHost: "c.example.net"}).String(); got != "mongodb+srv://c.example.net/?tls=false" {
		t.Errorf("SRV without TLS: String = %q", got)
	}
	if got := (Deployment{SRVHost: "c.example.net"}).Address(); got != "mongodb+srv://c.example.net" {
		t.Errorf("Address = %q", got)
	}
}

// fakeSRV swaps the driver's resolver (x/mongo/driver/dns.DefaultResolver,
// which the connection string parser and the SRV poller use) for records
// held in memory, and records the SRV queries. Tests that use it do not run
// in parallel: the resolver is global.
type fakeSRV struct {
	srv     map[string][]*net.SRV // "_service._tcp.name" -> records
	txt     map[string][]string
	queries []string
}

func installFakeSRV(t *testing.T, f *fakeSRV) {
	t.Helper()
	oldSRV, oldTXT := dns.DefaultResolver.LookupSRV, dns.DefaultResolver.LookupTXT
	dns.DefaultResolver.LookupSRV = func(service, proto, name string) (string, []*net.SRV, error) {
		q := "_" + service + "._" + proto + "." + name
		f.queries = append(f.queries, q)
		if recs, ok := f.srv[q]; ok {
			return q, recs, nil
		}
		return "", nil, &net.DNSError{Err: "no such host", Name: q, IsNotFound: true}
	}
	dns.DefaultResolver.LookupTXT = func(name string) ([]string, error) {
		if recs, ok := f.txt[name]; ok {
			return recs, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	t.Cleanup(func() { dns.DefaultResolver.LookupSRV, dns.DefaultResolver.LookupTXT = oldSRV, oldTXT })
}

// TestClientOptionsResolveSRV: the provider's client for an SRV device is
// the driver's own mongodb+srv:// resolution (SRV records for the hosts,
// the TXT record's replicaSet), with the provider's settings on top: its
// TLS configuration, the credential's authSource over the TXT record's,
// retryWrites false whatever the options say, no direct connection.
func TestClientOptionsResolveSRV(t *testing.T) {
	installFakeSRV(t, &fakeSRV{
		srv: map[string][]*net.SRV{
			"_mongodb._tcp.cluster0.segura.test": {{Target: "n1.cluster0.segura.test.", Port: 27017}, {Target: "n2.cluster0.segura.test.", Port: 27018}},
			"_ro._tcp.cluster0.segura.test":      {{Target: "n3.cluster0.segura.test.", Port: 27019}},
		},
		txt: map[string][]string{"cluster0.segura.test": {"replicaSet=atlas-rs0&authSource=admin"}},
	})
	p := NewPool(Defaults{})
	dep := Deployment{SRVHost: "cluster0.segura.test", TLS: true, Options: map[string]string{"retryWrites": "true"}}
	opts, err := p.clientOptions(dep, &Identity{Username: "app", Password: "pw", AuthSource: "orders"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(opts.Hosts, []string{"n1.cluster0.segura.test:27017", "n2.cluster0.segura.test:27018"}) {
		t.Errorf("hosts = %v, want the SRV targets", opts.Hosts)
	}
	if opts.ReplicaSet == nil || *opts.ReplicaSet != "atlas-rs0" {
		t.Errorf("replica set = %v, want the TXT record's atlas-rs0", opts.ReplicaSet)
	}
	if opts.Auth == nil || opts.Auth.AuthSource != "orders" || opts.Auth.Username != "app" {
		t.Errorf("auth = %+v, want the identity's, authSource orders", opts.Auth)
	}
	if opts.RetryWrites == nil || *opts.RetryWrites {
		t.Error("retryWrites is not false for the provider's client")
	}
	if opts.Direct != nil && *opts.Direct {
		t.Error("an SRV client is a direct connection")
	}
	if opts.TLSConfig == nil || opts.TLSConfig.MinVersion != 0x0303 {
		t.Errorf("TLS config = %+v, want the provider's (TLS 1.2+)", opts.TLSConfig)
	}

	// The device's replica_set and srvServiceName win over the defaults.
	dep = Deployment{SRVHost: "cluster0.segura.test", ReplicaSet: "mine", Options: map[string]string{"srvServiceName": "ro"}}
	opts, err = p.clientOptions(dep, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(opts.Hosts, []string{"n3.cluster0.segura.test:27019"}) || *opts.ReplicaSet != "mine" {
		t.Errorf("with srvServiceName=ro: hosts %v, replica set %v", opts.Hosts, *opts.ReplicaSet)
	}
	if opts.TLSConfig != nil {
		t.Error("tls = false on an SRV device still turned TLS on")
	}
	if opts.Auth != nil {
		t.Errorf("no identity, yet auth %+v (from the TXT record's authSource)", opts.Auth)
	}

	// Resolved for the per-host probe.
	resolved, err := ResolveSRV(Deployment{SRVHost: "cluster0.segura.test", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	if resolved.IsSRV() || !slices.Equal(resolved.Hosts, []string{"n1.cluster0.segura.test:27017", "n2.cluster0.segura.test:27018"}) ||
		resolved.ReplicaSet != "atlas-rs0" || !resolved.TLS {
		t.Errorf("ResolveSRV = %+v", resolved)
	}

	// A name without records: unreachable, naming the name.
	_, err = p.clientOptions(Deployment{SRVHost: "gone.segura.test"}, nil, false)
	if Classify(err) != KindUnreachable || !strings.Contains(err.Error(), "gone.segura.test") {
		t.Errorf("unknown SRV name: %v (kind %v), want unreachable naming it", err, Classify(err))
	}
	_, err = ResolveSRV(Deployment{SRVHost: "gone.segura.test"})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindUnreachable || !strings.Contains(err.Error(), "gone.segura.test") {
		t.Errorf("ResolveSRV of an unknown name: %v", err)
	}
	// A direct connection to an SRV name is a configuration error.
	if _, err := p.clientOptions(Deployment{SRVHost: "cluster0.segura.test"}, nil, true); Classify(err) != KindConfig {
		t.Errorf("direct SRV: %v", err)
	}
}

// TestClientOptionsSeedList: a plain seed list keeps the provider's
// settings (direct connection for one host, replica set, retryWrites false)
// and gets only the options that decide how to reach the servers.
func TestClientOptionsSeedList(t *testing.T) {
	t.Parallel()
	p := NewPool(Defaults{})
	opts, err := p.clientOptions(Deployment{Hosts: []string{"db"}, Options: map[string]string{"compressors": "zlib", "retryWrites": "true", "w": "0"}}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(opts.Hosts, []string{"db:27017"}) || opts.Direct == nil || !*opts.Direct {
		t.Errorf("hosts %v direct %v", opts.Hosts, opts.Direct)
	}
	if !slices.Equal(opts.Compressors, []string{"zlib"}) {
		t.Errorf("compressors = %v", opts.Compressors)
	}
	if *opts.RetryWrites || opts.WriteConcern != nil {
		t.Errorf("retryWrites %v, write concern %v: application options reached the provider's client", *opts.RetryWrites, opts.WriteConcern)
	}
	opts, err = p.clientOptions(Deployment{Hosts: []string{"lb.example"}, Options: map[string]string{"loadBalanced": "true"}}, nil, true)
	if err != nil {
		t.Fatalf("load balanced, direct asked: %v", err)
	}
	if opts.Direct != nil && *opts.Direct {
		t.Error("load balanced and direct together: the driver refuses that")
	}
	opts, err = p.clientOptions(Deployment{Hosts: []string{"a", "b"}, ReplicaSet: "rs0"}, nil, false)
	if err != nil || *opts.ReplicaSet != "rs0" || (opts.Direct != nil && *opts.Direct) {
		t.Errorf("replica set: %v %+v", err, opts)
	}
}
