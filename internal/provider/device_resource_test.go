package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/segura-community/terraform-provider-segura/internal/localstack"
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
