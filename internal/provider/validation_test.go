package provider

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

// connectionCounter is a loopback TCP listener that counts and drops every
// connection. The invalid-configuration tests point every MongoDB host,
// vault URL and the Entra ID authority at it, so that a count above zero
// proves some check reached for the network instead of failing at plan.
type connectionCounter struct {
	addr  string
	count atomic.Int64
}

func newConnectionCounter(t *testing.T) *connectionCounter {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connectionCounter{addr: l.Addr().String()}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			c.count.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return c
}

// words builds a regexp matching the words in order, across the line breaks
// and "│" gutters Terraform puts into wrapped diagnostics.
func words(s string) *regexp.Regexp {
	parts := strings.Fields(s)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `[\s│]+`))
}

// offlineProvider is a provider block whose every endpoint is %[1]s (a
// connectionCounter's host:port).
const offlineProvider = `
provider "segura" {
  tenant_id      = "00000000-0000-0000-0000-00000000000a"
  client_id      = "00000000-0000-0000-0000-00000000000b"
  client_secret  = "not-a-real-secret"
  authority_host = "https://%[1]s/"
  mongodb = {
    connect_timeout          = "1s"
    server_selection_timeout = "1s"
  }
  key_vault = {
    max_retries                             = 0
    disable_challenge_resource_verification = true
  }
}
`

// validationBase is a valid configuration of every resource the cases below
// break one at a time; %[1]s is the counter's host:port.
const validationBase = offlineProvider + `
resource "segura_device" "db" {
  name            = "orders-db"
  address         = "%[1]s"
  probe_on_create = true
}

resource "segura_credential" "admin" {
  device   = segura_device.db
  username = "root"
}

resource "segura_credential" "app" {
  device   = segura_device.db
  username = "orders_app"
  parent   = segura_credential.admin
}

resource "segura_rotation_policy" "monthly" {
  name           = "monthly"
  frequency_days = 30
}

resource "segura_dsm_scope" "orders" {
  name        = "orders-prod"
  system      = "orders"
  environment = "production"
  tags        = { team = "payments" }
}

resource "segura_dsm_application" "orders" {
  name       = "orders-api"
  scope      = segura_dsm_scope.orders
  tenant_id  = "00000000-0000-0000-0000-00000000000a"
  vault_name = "orders-kv"
  vault_url  = "https://%[1]s/"
}

resource "segura_keyvault_sync" "orders" {
  credential  = segura_credential.app
  application = segura_dsm_application.orders
  secret_name = "orders-db-password"
}
`

// TestInvalidConfigurationsFailAtPlan breaks one rule per case on top of a
// valid configuration and checks that plan fails with that rule's own
// message, and that nothing contacted MongoDB, Key Vault or Entra ID.
func TestInvalidConfigurationsFailAtPlan(t *testing.T) {
	t.Parallel()
	counter := newConnectionCounter(t)
	tags := func(n int, prefix string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%q = \"v\"\n", fmt.Sprintf("%s%d", prefix, i))
		}
		return b.String()
	}

	cases := []struct {
		name   string
		config string // appended to validationBase
		want   *regexp.Regexp
	}{
		// segura_device
		{"device address and hosts", `
resource "segura_device" "bad" {
  name    = "bad"
  address = "db1"
  hosts   = ["db1", "db2"]
  replica_set = "rs0"
}`, words("Exactly one of these attributes must be configured: [address,hosts]")},
		{"device connection string as address", `
resource "segura_device" "bad" {
  name    = "bad"
  address = "mongodb://db1:27017"
}`, words("must be a host, not a connection string")},
		{"device port out of range", `
resource "segura_device" "bad" {
  name    = "bad"
  address = "db1"
  port    = 70000
}`, words("Attribute port value must be between 1 and 65535, got: 70000")},
		{"device host with bad port", `
resource "segura_device" "bad" {
  name        = "bad"
  hosts       = ["db1:0"]
}`, words(`has port "0", want a number from 1 to 65535`)},
		{"device CA file without TLS", `
resource "segura_device" "bad" {
  name        = "bad"
  address     = "db1"
  tls_ca_file = "/etc/ssl/mongo-ca.pem"
}`, words("tls_ca_file is set but tls is false")},
		{"device insecure TLS with a CA file", `
resource "segura_device" "bad" {
  name                     = "bad"
  address                  = "db1"
  tls                      = true
  tls_ca_file              = "/etc/ssl/mongo-ca.pem"
  tls_insecure_skip_verify = true
}`, words("tls_insecure_skip_verify = true ignores tls_ca_file")},
		{"device IPv6 address without brackets", `
resource "segura_device" "bad" {
  name    = "bad"
  address = "fd00::10"
}`, words("must bracket an IPv6 address, e.g. [fd00::10]")},
		{"device unsupported type", `
resource "segura_device" "bad" {
  name    = "bad"
  type    = "postgresql"
  address = "db1"
}`, words(`Attribute type value must be one of: ["mongodb"]`)},

		// segura_credential
		{"credential parent on another device", `
resource "segura_device" "other" {
  name    = "other"
  address = "other.example:27017"
}
resource "segura_credential" "bad" {
  device   = segura_device.other
  username = "reporting"
  parent   = segura_credential.admin
}`, words("parent must be a credential on the same device")},
		{"credential is its own parent", `
resource "segura_credential" "bad" {
  device   = segura_device.db
  username = "root"
  parent   = segura_credential.admin
}`, words("parent is the same account (root@admin)")},
		{"credential unknown mechanism", `
resource "segura_credential" "bad" {
  device    = segura_device.db
  username  = "reporting"
  mechanism = "SCRAM-SHA-512"
}`, words(`Attribute mechanism value must be one of: ["SCRAM-SHA-256" "SCRAM-SHA-1"]`)},
		{"credential invalid auth database", `
resource "segura_credential" "bad" {
  device        = segura_device.db
  username      = "reporting"
  auth_database = "orders.prod"
}`, words("auth_database must be a MongoDB database name")},
		{"credential username with surrounding space", `
resource "segura_credential" "bad" {
  device   = segura_device.db
  username = " reporting"
}`, words("username must be 1-256 characters without control characters or leading/trailing whitespace")},

		// segura_rotation_policy
		{"policy password too short", `
resource "segura_rotation_policy" "bad" {
  name            = "bad"
  frequency_days  = 30
  password_length = 6
}`, words("password_length: length must be between 8 and 256 characters, got 6")},
		{"policy length below class minimums", `
resource "segura_rotation_policy" "bad" {
  name                = "bad"
  frequency_days      = 30
  password_length     = 10
  password_min_lower  = 4
  password_min_upper  = 4
  password_min_digits = 4
}`, words("length 10 is shorter than the sum of the class minimums")},
		{"policy symbols required but empty", `
resource "segura_rotation_policy" "bad" {
  name                 = "bad"
  frequency_days       = 30
  password_min_symbols = 2
  password_symbols     = ""
}`, words("symbols is empty but the minimum number of symbols is 2")},
		{"policy symbol set with a letter", `
resource "segura_rotation_policy" "bad" {
  name             = "bad"
  frequency_days   = 30
  password_symbols = "-a"
}`, words("symbols must not contain letters or digits")},
		{"policy negative class minimum", `
resource "segura_rotation_policy" "bad" {
  name                = "bad"
  frequency_days      = 30
  password_min_digits = -1
}`, words("password_min_digits: the minimum must be 0 or more, got -1")},
		{"policy only lookalike symbols", `
resource "segura_rotation_policy" "bad" {
  name                        = "bad"
  frequency_days              = 30
  password_symbols            = "|"
  password_exclude_lookalikes = true
}`, words("excluding lookalikes leaves no symbols")},
		{"policy time not HH:MM", `
resource "segura_rotation_policy" "bad" {
  name           = "bad"
  frequency_days = 30
  allowed_times  = ["02:00", "25:00"]
}`, words("must be a 24-hour time of day as HH:MM")},
		{"policy unknown weekday", `
resource "segura_rotation_policy" "bad" {
  name             = "bad"
  frequency_days   = 30
  allowed_weekdays = ["monday", "funday"]
}`, words(`must be a day of the week: monday, tuesday`)},
		{"policy same weekday twice", `
resource "segura_rotation_policy" "bad" {
  name             = "bad"
  frequency_days   = 30
  allowed_weekdays = ["monday", "Mon"]
}`, words("Monday is listed more than once")},
		{"policy unknown time zone", `
resource "segura_rotation_policy" "bad" {
  name           = "bad"
  frequency_days = 30
  time_zone      = "Mars/Olympus_Mons"
}`, words(`time zone "Mars/Olympus_Mons" is not a known IANA time zone`)},
		{"policy zero frequency", `
resource "segura_rotation_policy" "bad" {
  name           = "bad"
  frequency_days = 0
}`, words("Attribute frequency_days value must be between 1 and 3650, got: 0")},
		{"policy negative exposure delay", `
resource "segura_rotation_policy" "bad" {
  name                        = "bad"
  frequency_days              = 30
  rotate_after_exposure_hours = -4
}`, words("Attribute rotate_after_exposure_hours value must be between 1 and 8760, got: -4")},
		{"policy max age shorter than frequency", `
resource "segura_rotation_policy" "bad" {
  name           = "bad"
  frequency_days = 30
  max_age_days   = 7
}`, words("max_age_days: max age (7 days) is shorter than the frequency (30 days)")},
		{"policy without any trigger", `
resource "segura_rotation_policy" "bad" {
  name = "bad"
}`, words("At least one of these attributes must be configured: [frequency_days,max_age_days,rotate_after_exposure_hours]")},

		// segura_dsm_scope
		{"scope too many tags", `
resource "segura_dsm_scope" "bad" {
  name        = "bad"
  system      = "orders"
  environment = "dev"
  tags        = {` + tags(maxUserSecretTags+1, "t") + `}
}`, words(fmt.Sprintf("has %d tags, but Key Vault allows %d tags per secret and the provider adds %d of its own",
			maxUserSecretTags+1, keyvault.MaxTags, len(keyvault.ManagedTags)))},
		{"scope reserved tag name", `
resource "segura_dsm_scope" "bad" {
  name        = "bad"
  system      = "orders"
  environment = "dev"
  tags        = { "segura-scope" = "mine" }
}`, words(`uses the tag name "segura-scope"; names starting with "segura-" are reserved`)},
		{"scope tag value too long", `
resource "segura_dsm_scope" "bad" {
  name        = "bad"
  system      = "orders"
  environment = "dev"
  tags        = { owner = "` + strings.Repeat("x", 257) + `" }
}`, words("has a value of 257 characters; Key Vault tag values are at most 256 characters")},

		// segura_dsm_application
		{"application client secret and its write-only twin", `
resource "segura_dsm_application" "bad" {
  name                     = "bad"
  scope                    = segura_dsm_scope.orders
  tenant_id                = "00000000-0000-0000-0000-00000000000a"
  client_id                = "00000000-0000-0000-0000-00000000000c"
  client_secret            = "one"
  client_secret_wo         = "two"
  client_secret_wo_version = 1
  vault_name               = "orders-kv"
  vault_url                = "https://%[1]s/"
}`, words(`Attribute "client_secret_wo" cannot be specified when "client_secret" is specified`)},
		{"application tenant is not a GUID", `
resource "segura_dsm_application" "bad" {
  name       = "bad"
  scope      = segura_dsm_scope.orders
  tenant_id  = "contoso.onmicrosoft.com"
  vault_name = "orders-kv"
  vault_url  = "https://%[1]s/"
}`, words("tenant_id must be a GUID")},
		{"application vault URL over http", `
resource "segura_dsm_application" "bad" {
  name       = "bad"
  scope      = segura_dsm_scope.orders
  tenant_id  = "00000000-0000-0000-0000-00000000000a"
  vault_name = "orders-kv"
  vault_url  = "http://%[1]s/"
}`, words("vault_url must be an https:// URL")},
		{"application challenge check disabled without vault URL", `
resource "segura_dsm_application" "bad" {
  name       = "bad"
  scope      = segura_dsm_scope.orders
  tenant_id  = "00000000-0000-0000-0000-00000000000a"
  vault_name = "orders-kv"
}`, words("disable_challenge_resource_verification, which is only allowed for vaults with an explicit vault_url")},

		// segura_keyvault_sync
		{"sync invalid secret name", `
resource "segura_keyvault_sync" "bad" {
  credential  = segura_credential.app
  application = segura_dsm_application.orders
  secret_name = "orders_db_password"
}`, words("secret_name must be 1-127 characters, each a letter, a digit or '-'")},
		{"sync content type too long", `
resource "segura_keyvault_sync" "bad" {
  credential   = segura_credential.app
  application  = segura_dsm_application.orders
  secret_name  = "orders-db-password-2"
  content_type = "` + strings.Repeat("c", 256) + `"
}`, words("Attribute content_type string length must be at most 255, got: 256")},
		{"sync unknown value format", `
resource "segura_keyvault_sync" "bad" {
  credential   = segura_credential.app
  application  = segura_dsm_application.orders
  secret_name  = "orders-db-password-2"
  value_format = "yaml"
}`, words(`Attribute value_format value must be one of:`)},
		{"sync tags and scope tags over the limit", `
resource "segura_dsm_scope" "many" {
  name        = "many"
  system      = "orders"
  environment = "dev"
  tags        = {` + tags(maxUserSecretTags-1, "scope") + `}
}
resource "segura_dsm_application" "many" {
  name       = "many"
  scope      = segura_dsm_scope.many
  tenant_id  = "00000000-0000-0000-0000-00000000000a"
  vault_name = "orders-kv"
  vault_url  = "https://%[1]s/"
}
resource "segura_keyvault_sync" "bad" {
  credential  = segura_credential.app
  application = segura_dsm_application.many
  secret_name = "orders-db-password-2"
  tags        = {` + tags(2, "sync") + `}
}`, words(fmt.Sprintf("every version written to the secret would carry %d tags", maxUserSecretTags+1+len(keyvault.ManagedTags)))},

		// provider
		{"provider negative MongoDB timeout", `
provider "segura" {
  alias = "bad"
  mongodb = {
    connect_timeout = "-5s"
  }
}
resource "segura_dsm_scope" "bad" {
  provider    = segura.bad
  name        = "bad"
  system      = "orders"
  environment = "dev"
}`, words("must be a positive Go duration")},
	}

	// The valid base must plan cleanly, or the cases would prove nothing.
	t.Run("valid base plans", func(t *testing.T) {
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps: []resource.TestStep{{
				Config:             fmt.Sprintf(validationBase, counter.addr),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			}},
		})
	})

	seen := map[string]string{}
	t.Run("cases", func(t *testing.T) {
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
						Config:      fmt.Sprintf(validationBase+c.config, counter.addr),
						PlanOnly:    true,
						ExpectError: c.want,
					}},
				})
			})
		}
	})

	if len(cases) < 25 {
		t.Errorf("%d invalid configurations; the issue asks for at least 25", len(cases))
	}
	if n := counter.count.Load(); n != 0 {
		t.Errorf("%d connections reached the MongoDB / Key Vault / Entra ID address during plan; validation must not touch the network", n)
	}
}

// testExamplePlans plans examples/resources/<resourceType>/resource.tf, as
// published in the docs, so that the examples stay valid.
func testExamplePlans(t *testing.T, resourceType string) {
	t.Helper()
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "resources", resourceType, "resource.tf"))
	if err != nil {
		t.Fatal(err)
	}
	counter := newConnectionCounter(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:             fmt.Sprintf(offlineProvider, counter.addr) + string(example),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
	if n := counter.count.Load(); n != 0 {
		t.Errorf("planning the example made %d network connections", n)
	}
}

func TestExamplesPlan(t *testing.T) {
	for _, r := range []string{"segura_device", "segura_credential", "segura_rotation_policy", "segura_dsm_scope"} {
		t.Run(r, func(t *testing.T) {
			t.Parallel()
			testExamplePlans(t, r)
		})
	}
}
