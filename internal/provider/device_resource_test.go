package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/segura-community/terraform-provider-segura/internal/localstack"
	"github.com/segura-community/terraform-provider-segura/internal/testcert"
)

// checkRefConsistency fails when a reference shape names a field the
// upstream resource does not have, or has with another type: the downstream
// nested attribute would then silently receive null.
func checkRefConsistency(t *testing.T, r fwresource.Resource, ref map[string]attr.Type) {
	t.Helper()
	var resp fwresource.SchemaResponse
	r.Schema(context.Background(), fwresource.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("schema: %v", resp.Diagnostics)
	}
	for name, typ := range ref {
		a, ok := resp.Schema.Attributes[name]
		if !ok {
			t.Errorf("reference field %q is not an attribute of the resource", name)
			continue
		}
		if got := a.GetType(); !got.Equal(typ) {
			t.Errorf("reference field %q has type %s, the resource attribute %s", name, typ, got)
		}
	}
}

func TestDeviceRefMatchesDeviceSchema(t *testing.T) {
	t.Parallel()
	checkRefConsistency(t, NewDeviceResource(), deviceRefAttrTypes())
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	good := []string{"db", "db.example.com", "db-1.internal:27018", "10.0.0.5", "10.0.0.5:1", "[::1]", "[2001:db8::1]:27017", "mongo_primary"}
	for _, h := range good {
		if msg := checkHost(h); msg != "" {
			t.Errorf("checkHost(%q) = %q, want ok", h, msg)
		}
	}
	bad := map[string]string{
		"":                            "must not be empty",
		"mongodb://db:27017":          "connection string",
		"user@db":                     "connection string",
		"db:0":                        "port",
		"db:99999":                    "port",
		"db:http":                     "port",
		"::1":                         "bracket",
		"db example":                  "host name",
		"-leading-hyphen.example.com": "host name",
		"mongodb+srv://c.example.net": "set srv_host to its host name",
	}
	for h, want := range bad {
		if msg := checkHost(h); !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(msg) {
			t.Errorf("checkHost(%q) = %q, want a message containing %q", h, msg, want)
		}
	}
}

func testAccDeviceConfig(name, address, site string) string {
	return testAccProviderConfig() + fmt.Sprintf(`
resource "segura_device" "test" {
  name            = %q
  address         = %q
  site            = %q
  vendor          = "FerretDB"
  probe_on_create = true
  tags = {
    team = "payments"
  }
}
`, name, address, site)
}

func TestAccDevice(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-device")
	address := testAccConfig().MongoDBHostPort()
	sameID := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccDeviceConfig(name, address, "dc-1"),
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue("segura_device.test", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("segura_device.test", tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{36}$`))),
					statecheck.ExpectKnownValue("segura_device.test", tfjsonpath.New("type"), knownvalue.StringExact("mongodb")),
					statecheck.ExpectKnownValue("segura_device.test", tfjsonpath.New("port"), knownvalue.Int64Exact(27017)),
					statecheck.ExpectKnownValue("segura_device.test", tfjsonpath.New("tls"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("segura_device.test", tfjsonpath.New("site"), knownvalue.StringExact("dc-1")),
				},
			},
			{
				Config: testAccDeviceConfig(name+"-renamed", address, "dc-2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("segura_device.test", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue("segura_device.test", tfjsonpath.New("id")),
					statecheck.ExpectKnownValue("segura_device.test", tfjsonpath.New("name"), knownvalue.StringExact(name+"-renamed")),
					statecheck.ExpectKnownValue("segura_device.test", tfjsonpath.New("site"), knownvalue.StringExact("dc-2")),
				},
			},
		},
	})
}

// TestAccDeviceReplicaSetSeedListTLS registers the TLS listener as a seed
// list and probes it with the device's own CA bundle.
func TestAccDeviceTLS(t *testing.T) {
	t.Parallel()
	c := testAccConfig()
	if c.MongoDBTLSURI == "" || c.MongoDBCACertFile == "" {
		t.Skip("the stack has no MongoDB TLS listener")
	}
	host, port, err := net.SplitHostPort(localstack.HostPort(c.MongoDBTLSURI))
	if err != nil {
		t.Fatal(err)
	}
	config := func(probe bool) string {
		return testAccProviderConfig() + fmt.Sprintf(`
resource "segura_device" "tls" {
  name            = %q
  hosts           = [%q]
  port            = %s
  tls             = true
  tls_ca_file     = %q
  probe_on_create = %t
}
`, testAccName("acc-device-tls"), host, port, c.MongoDBCACertFile, probe)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config(true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("segura_device.tls", tfjsonpath.New("hosts"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(host)})),
					statecheck.ExpectKnownValue("segura_device.tls", tfjsonpath.New("port"), knownvalue.Int64Exact(mustAtoi(t, port))),
				},
			},
			{
				Config: config(false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("segura_device.tls", plancheck.ResourceActionUpdate)},
				},
			},
		},
	})
}

// TestAccDeviceProbeUnreachable: nothing listens on the address, so the probe
// fails the apply with an error naming the device and the way out.
func TestAccDeviceProbeUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      testAccDeviceConfig(testAccName("acc-device-dead"), dead, "nowhere"),
				ExpectError: regexp.MustCompile(`(?s)reachability probe.*` + regexp.QuoteMeta(dead) + `.*probe_on_create = false`),
			},
		},
	})
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return int64(n)
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{
		"localhost:27017": true, "LOCALHOST.:1": true, "db.localhost:27017": true, "127.0.0.1:27017": true, "127.3.2.1:1": true,
		"[::1]:27017": true, "10.0.0.5:27017": false, "db.internal.example:27017": false, "[fd00::1]:27017": false, "localhost.example.com:1": false,
	} {
		if got := isLoopback(h); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", h, got, want)
		}
	}
}

// testClientCertFiles writes a client certificate with its key (good), the
// certificate alone (certOnly), and returns their paths.
func testClientCertFiles(t *testing.T) (good, certOnly string) {
	t.Helper()
	ca, err := testcert.NewCA("segura device test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.LoopbackServerCert(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good, certOnly = filepath.Join(dir, "client.pem"), filepath.Join(dir, "cert-only.pem")
	if err := os.WriteFile(good, append(append([]byte{}, c.CertPEM...), c.KeyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certOnly, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return good, certOnly
}

// TestAccDeviceConnectionSettingsFailAtPlan: each mistake in the connection
// settings of issue 11 (SRV seed lists, client certificates, host name
// checks, connection string options, hosted services the provider cannot
// rotate) fails terraform plan with a message that names what failed and
// what to do, and nothing touches the network.
func TestAccDeviceConnectionSettingsFailAtPlan(t *testing.T) {
	t.Parallel()
	counter := newConnectionCounter(t)
	goodCert, certOnly := testClientCertFiles(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	cases := []struct {
		name, config string
		want         *regexp.Regexp
	}{
		{"SRV host and hosts", `
  srv_host = "cluster0.example.net"
  hosts    = ["db1.example.net"]`, words("segura_device: hosts and srv_host are both set, but a mongodb+srv:// seed list comes from DNS. Exactly one of address, hosts and srv_host must be set: remove hosts or srv_host.")},
		{"no seed at all", ``, words("Exactly one of these attributes must be configured: [address,hosts]. Or set srv_host to the host name of a mongodb+srv:// seed list.")},
		{"SRV host with a port attribute", `
  srv_host = "cluster0.example.net"
  tls      = true
  port     = 27018`, words(`port is set, but srv_host "cluster0.example.net" takes every server's port from its SRV records; remove port.`)},
		{"SRV host with a port", `
  srv_host = "cluster0.example.net:27017"`, words("must not carry a port: the SRV records give every server's port")},
		{"SRV host as a connection string", `
  srv_host = "mongodb+srv://cluster0.example.net/?tls=true"`, words("must be the DNS name alone, e.g. cluster0.example.net, not a connection string")},
		{"SRV URI as address", `
  address = "mongodb+srv://cluster0.example.net"`, words("for a mongodb+srv:// seed list set srv_host to its host name instead")},
		{"SRV host that is an IP address", `
  srv_host = "10.0.0.5"`, words("must be a DNS name with SRV records, not an IP address")},
		{"client certificate file missing", fmt.Sprintf(`
  address                  = "db1.example.net"
  tls                      = true
  tls_certificate_key_file = %q`, missing), words(`segura_device "bad": tls_certificate_key_file cannot be used: reading the client certificate file: open ` + missing + `: no such file or directory. Point it at a PEM file`)},
		{"client certificate without its key", fmt.Sprintf(`
  address                  = "db1.example.net"
  tls                      = true
  tls_certificate_key_file = %q`, certOnly), words(`tls_certificate_key_file cannot be used: ` + certOnly + ` holds no PEM PRIVATE KEY block; it must hold the client certificate and its private key`)},
		{"client certificate without TLS", fmt.Sprintf(`
  address                  = "db1.example.net"
  tls_certificate_key_file = %q`, goodCert), words("tls_certificate_key_file is set but tls is false; set tls = true or remove tls_certificate_key_file.")},
		{"client certificate on SRV with TLS off", fmt.Sprintf(`
  srv_host                 = "cluster0.example.net"
  tls                      = false
  tls_certificate_key_file = %q`, goodCert), words("tls_certificate_key_file is set but tls is false")},
		{"allow invalid hostnames without TLS", `
  address                     = "db1.example.net"
  tls_allow_invalid_hostnames = true`, words("tls_allow_invalid_hostnames is true but tls is false; set tls = true or remove tls_allow_invalid_hostnames.")},
		{"allow invalid hostnames and insecure", `
  address                     = "db1.example.net"
  tls                         = true
  tls_allow_invalid_hostnames = true
  tls_insecure_skip_verify    = true`, words("tls_insecure_skip_verify = true skips all certificate verification, host names included; keep tls_allow_invalid_hostnames")},
		{"unknown option", `
  address = "db1.example.net"
  options = { uuidRepresentation = "standard" }`, words(`option "uuidRepresentation" is not a connection string option the provider knows; use one of appName, authMechanism`)},
		{"option with its own attribute", `
  address = "db1.example.net"
  options = { replicaSet = "rs0" }`, words(`option "replicaSet" is not accepted here: set the device's replica_set instead.`)},
		{"option that is a secret", `
  address = "db1.example.net"
  tls     = true
  options = { tlsCertificateKeyFilePassword = "hunter2" }`, words("it is a secret, and options are stored in Terraform state")},
		{"option value the driver refuses", `
  address = "db1.example.net"
  options = { retryWrites = "sometimes" }`, words("option retryWrites:")},
		{"read preference the driver does not know", `
  address = "db1.example.net"
  options = { readPreference = "closest" }`, words("option readPreference: unknown read preference closest")},
		{"non-SCRAM mechanism", `
  address = "db1.example.net"
  options = { authMechanism = "MONGODB-X509" }`, words(`option authMechanism is "MONGODB-X509"; the provider's credentials are passwords, so it must be SCRAM-SHA-256 or SCRAM-SHA-1`)},
		{"SRV option on a seed list", `
  address = "db1.example.net"
  options = { srvServiceName = "mongodb" }`, words("option srvServiceName applies to a mongodb+srv:// seed list only; set srv_host, or remove the option")},
		{"one option spelled twice", `
  address = "db1.example.net"
  options = { retryWrites = "false", RETRYWRITES = "true" }`, words("are the same option retryWrites (names are case-insensitive); keep one.")},
		{"options that do not fit the hosts", `
  hosts   = ["db1.example.net", "db2.example.net"]
  options = { directConnection = "true" }`, words(`segura_device "bad": the options do not fit together with the device's hosts, replica set and TLS settings`)},
		{"MongoDB Atlas", `
  srv_host = "cluster0.ab1cd.mongodb.net"`, phrases(`MongoDB Atlas passwords cannot be rotated by this provider`, `segura_device "bad": cluster0.ab1cd.mongodb.net is MongoDB Atlas, where the provider cannot rotate passwords`,
			`Change these passwords with the Atlas Administration API's "Update One Database User in One Project"`)},
		{"Azure Cosmos DB RU", `
  address = "orders.mongo.cosmos.azure.com:10255"
  tls     = true`, phrases(`segura_device "bad": orders.mongo.cosmos.azure.com:10255 is Azure Cosmos DB for MongoDB (RU)`, `az cosmosdb keys regenerate`, `az cosmosdb mongodb user definition update`)},
	}
	seen := map[string]string{}
	for _, c := range cases {
		if other, dup := seen[c.want.String()]; dup {
			t.Errorf("cases %q and %q expect the same message", c.name, other)
		}
		seen[c.want.String()] = c.name
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      fmt.Sprintf(offlineProvider, counter.addr) + "\nresource \"segura_device\" \"bad\" {\n  name = \"bad\"" + c.config + "\n}\n",
					PlanOnly:    true,
					ExpectError: c.want,
				}},
			})
		})
	}
	t.Cleanup(func() {
		if n := counter.count.Load(); n != 0 {
			t.Errorf("%d connections during plan; validation must not touch the network", n)
		}
	})
}

// TestAccDeviceSRVAndOptions applies devices with the new connection
// settings (no probe, so no network: an SRV name is resolved only when a
// rotation or probe connects) and checks what credentials receive: tls
// defaults to true with srv_host, the SRV name, client certificate, host
// name setting and options reach the credential's device, and changing an
// option updates both in place.
func TestAccDeviceSRVAndOptions(t *testing.T) {
	t.Parallel()
	counter := newConnectionCounter(t)
	goodCert, _ := testClientCertFiles(t)
	config := func(w string) string {
		return fmt.Sprintf(offlineProvider, counter.addr) + fmt.Sprintf(`
resource "segura_device" "srv" {
  name                        = "orders-rs"
  srv_host                    = "orders-rs.db.internal.example"
  tls_certificate_key_file    = %q
  tls_allow_invalid_hostnames = true
  options = {
    retryWrites    = "false"
    w              = %q
    srvServiceName = "mongodb"
  }
}

resource "segura_device" "plain" {
  name  = "orders-local"
  hosts = ["127.0.0.1:27017", "localhost:27018"]
}

resource "segura_credential" "app" {
  device   = segura_device.srv
  username = "orders_app"
}
`, goodCert, w)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config("majority"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("segura_device.srv", tfjsonpath.New("tls"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("segura_device.plain", tfjsonpath.New("tls"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("device").AtMapKey("srv_host"), knownvalue.StringExact("orders-rs.db.internal.example")),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("device").AtMapKey("tls"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("device").AtMapKey("tls_certificate_key_file"), knownvalue.StringExact(goodCert)),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("device").AtMapKey("tls_allow_invalid_hostnames"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("device").AtMapKey("options"), knownvalue.MapExact(map[string]knownvalue.Check{
						"retryWrites": knownvalue.StringExact("false"), "w": knownvalue.StringExact("majority"), "srvServiceName": knownvalue.StringExact("mongodb"),
					})),
				},
			},
			{
				Config: config("1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("segura_device.srv", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("segura_credential.app", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("segura_device.plain", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("segura_credential.app", tfjsonpath.New("device").AtMapKey("options").AtMapKey("w"), knownvalue.StringExact("1")),
				},
			},
		},
	})
	if n := counter.count.Load(); n != 0 {
		t.Errorf("%d network connections; devices without probe_on_create must not connect", n)
	}
}

// TestAccDevicePlanWarnings: what the provider can only warn about is said
// on every plan, through the real binary: passwords over a non-loopback
// connection without TLS (naming the device and those hosts, not the
// loopback ones), a skipped host name check, and the conditions of hosted
// services where rotation works with conditions. The warnings come back on
// the plan after apply, which has nothing to change (exit code 0).
func TestAccDevicePlanWarnings(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	counter := newConnectionCounter(t)
	ws := newCLIWorkspace(t)
	ws.Write(fmt.Sprintf(offlineProvider, counter.addr) + `
resource "segura_device" "cleartext" {
  name  = "legacy-cleartext"
  hosts = ["db1.internal.example:27017", "127.0.0.1:27018", "10.1.2.3"]
}

resource "segura_device" "cleartext_srv" {
  name     = "legacy-srv"
  srv_host = "rs.internal.example"
  tls      = false
}

resource "segura_device" "local" {
  name  = "loopback-only"
  hosts = ["127.0.0.1:27017", "localhost:27018", "[::1]:27019"]
}

resource "segura_device" "by_ip" {
  name                        = "reached-by-ip"
  address                     = "10.1.2.4:27017"
  tls                         = true
  tls_allow_invalid_hostnames = true
}

resource "segura_device" "docdb" {
  name    = "orders-docdb"
  address = "orders.cluster-c1a2b3.eu-west-1.docdb.amazonaws.com:27017"
  tls     = true
}

resource "segura_device" "vcore" {
  name     = "orders-vcore"
  srv_host = "orders.global.mongocluster.cosmos.azure.com"
}
`)
	type warning struct{ summary, detail string }
	expected := []struct {
		summary string
		detail  []string
	}{
		{"Passwords would cross the network unencrypted", []string{`segura_device "legacy-cleartext" connects to db1.internal.example:27017, 10.1.2.3:27017 without TLS`, "in the clear", "set tls = true"}},
		{"Passwords would cross the network unencrypted", []string{`segura_device "legacy-srv" connects to mongodb+srv://rs.internal.example without TLS`}},
		{"TLS host name verification is OFF", []string{`segura_device "reached-by-ip"`, "as long as a trusted CA signed it"}},
		{"Amazon DocumentDB: rotation works only under conditions", []string{`segura_device "orders-docdb"`, "admin database only", "5.0.1", "primary user", "docs.aws.amazon.com"}},
		{"Azure DocumentDB (Azure Cosmos DB for MongoDB vCore): rotation works only under conditions", []string{`segura_device "orders-vcore"`, "built-in administrator", "SCRAM-SHA-256", "learn.microsoft.com"}},
	}
	// check finds every expected warning, once per device (Terraform may
	// report one twice: validate, then plan), and no cleartext warning for
	// the TLS, loopback-only or vCore devices.
	check := func(what string, got []warning) {
		t.Helper()
		unique := map[warning]bool{}
		for _, w := range got {
			unique[warning{w.summary, strings.Join(strings.Fields(w.detail), " ")}] = true
		}
		for _, e := range expected {
			found := false
			for w := range unique {
				ok := w.summary == e.summary
				for _, d := range e.detail {
					ok = ok && strings.Contains(w.detail, d)
				}
				found = found || ok
			}
			if !found {
				t.Errorf("%s: no warning %q with %q among %v", what, e.summary, e.detail, unique)
			}
		}
		cleartext := 0
		for w := range unique {
			if w.summary != "Passwords would cross the network unencrypted" {
				continue
			}
			cleartext++
			for _, bad := range []string{"127.0.0.1", "localhost", "[::1]", "loopback-only", "reached-by-ip", "orders-vcore", "orders-docdb"} {
				if strings.Contains(w.detail, bad) {
					t.Errorf("%s: the cleartext warning names %s: %s", what, bad, w.detail)
				}
			}
		}
		if cleartext != 2 {
			t.Errorf("%s: %d cleartext warnings, want 2", what, cleartext)
		}
	}
	validate := func() []warning {
		var v struct {
			Diagnostics []struct{ Severity, Summary, Detail string }
		}
		out := ws.MustRun("validate", "-json")
		if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &v); err != nil {
			t.Fatalf("validate -json: %v\n%s", err, out)
		}
		var list []warning
		for _, d := range v.Diagnostics {
			if d.Severity == "warning" {
				list = append(list, warning{d.Summary, d.Detail})
			}
		}
		return list
	}
	plan := func(args ...string) ([]warning, error) {
		out, err := ws.Run(append([]string{"plan", "-json"}, args...)...)
		var got []warning
		for _, line := range strings.Split(out, "\n") {
			var m struct {
				Type       string
				Diagnostic struct{ Severity, Summary, Detail string }
			}
			if json.Unmarshal([]byte(line), &m) == nil && m.Type == "diagnostic" && m.Diagnostic.Severity == "warning" {
				got = append(got, warning{m.Diagnostic.Summary, m.Diagnostic.Detail})
			}
		}
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, out)
		}
		return got, err
	}
	check("terraform validate", validate())
	got, err := plan()
	if err != nil {
		t.Fatal(err)
	}
	check("terraform plan", got)
	if out := ws.MustRun("plan"); !words("Warning: Passwords would cross the network unencrypted").MatchString(out) {
		t.Errorf("the human-readable plan does not show the cleartext warning:\n%s", out)
	}
	ws.MustRun("apply", "-auto-approve")
	got, err = plan("-detailed-exitcode")
	if err != nil {
		t.Fatalf("plan after apply (want exit 0, no changes): %v", err)
	}
	check("terraform plan after apply", got)
	if n := counter.count.Load(); n != 0 {
		t.Errorf("%d network connections", n)
	}
}

// phrases matches each part in order, anywhere after the previous one, with
// the words of a part separated by whitespace and the "│" gutters
// Terraform puts into wrapped diagnostics (as words does).
func phrases(parts ...string) *regexp.Regexp {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = strings.TrimPrefix(words(p).String(), "(?s)")
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, `.*`))
}

// TestSRVDeviceAccount: a credential on an SRV device has an account (its
// identity and import id) that names the SRV seed list, and importing that
// id gives a placeholder device with the same srv_host.
func TestSRVDeviceAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dev := deviceRef{
		ID: types.StringValue("d"), Name: types.StringValue("orders"), Type: types.StringValue("mongodb"),
		Address: types.StringNull(), Hosts: types.ListNull(types.StringType), Port: types.Int64Value(27017), ReplicaSet: types.StringNull(),
		TLS: types.BoolValue(true), TLSCAFile: types.StringNull(), TLSInsecureSkipVerify: types.BoolValue(false),
		SRVHost: types.StringValue("orders.db.example.net"), TLSCertificateKeyFile: types.StringNull(), TLSAllowInvalidHosts: types.BoolValue(false),
		Options: types.MapNull(types.StringType),
	}
	obj, d := types.ObjectValueFrom(ctx, deviceRefAttrTypes(), dev)
	if d.HasError() {
		t.Fatal(d)
	}
	cred := credentialRef{boundCredentialRef: boundCredentialRef{ID: types.StringValue("c"), Username: types.StringValue("app"), AuthDatabase: types.StringValue("orders"), Mechanism: types.StringNull()}, Device: obj}
	a, ok := credentialAccount(ctx, cred)
	if !ok || a.importID() != "app@orders on mongodb+srv://orders.db.example.net" {
		t.Fatalf("account %+v (ok %v), import id %q", a, ok, a.importID())
	}
	back, err := parseAccount(a.importID())
	if err != nil || back.seedList() != a.seedList() {
		t.Fatalf("parseAccount(%q) = %+v, %v", a.importID(), back, err)
	}
	placeholder, d := importedDeviceRef(back)
	if d.HasError() {
		t.Fatal(d)
	}
	ref, _, _ := refFromObject[deviceRef](ctx, placeholder)
	if ref.SRVHost.ValueString() != "orders.db.example.net" || !ref.Address.IsNull() {
		t.Errorf("imported device: srv_host %s, address %s", ref.SRVHost, ref.Address)
	}
	dep, d := dev.deployment(ctx)
	if d.HasError() || !dep.IsSRV() || len(dep.Hosts) != 0 || !dep.TLS {
		t.Errorf("deployment of an SRV device: %+v", dep)
	}
}

// TestGuideMongoDBSetupPlans plans every terraform block of the MongoDB
// setup guide (docs/guides/mongodb-setup.md) together, offline, so the
// guide's examples stay valid; the client certificate the guide names is
// replaced by a real one, since the plan reads it.
func TestGuideMongoDBSetupPlans(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "guides", "mongodb-setup.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(data), "```terraform\n")[1:] {
		block, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatal("unterminated terraform block in the guide")
		}
		blocks = append(blocks, block)
	}
	if len(blocks) < 8 {
		t.Fatalf("%d terraform blocks in the guide; expected its examples", len(blocks))
	}
	goodCert, _ := testClientCertFiles(t)
	config := strings.ReplaceAll(strings.Join(blocks, "\n"), "/etc/segura/ledger-client.pem", goodCert)
	counter := newConnectionCounter(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:             fmt.Sprintf(offlineProvider, counter.addr) + config,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
	if n := counter.count.Load(); n != 0 {
		t.Errorf("planning the guide's examples made %d network connections", n)
	}
}
