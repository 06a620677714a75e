package secretvalue

import (
	"encoding/json"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
)

var replicaSetAccount = Account{
	Deployment: mongodb.Deployment{Hosts: []string{"db1.example.net", "db2.example.net:27018"}, ReplicaSet: "rs0", TLS: true},
	Username:   "orders@app",
	AuthSource: "orders",
}

// Passwords with every character class the generator can emit and the ones
// the connection-string spec says must be escaped.
var trickyPasswords = []string{
	"plain",
	"p@ss:w/rd?#[]%",
	"$+&'()*,;=!~-._",
	`"quoted"\backslash{}`,
	"ends with space ",
	"%41 is not A",
}

func TestRoundTrip(t *testing.T) {
	for _, f := range Formats {
		for _, pw := range trickyPasswords {
			value, err := Render(f, replicaSetAccount, pw)
			if err != nil {
				t.Fatalf("%s: render: %v", f, err)
			}
			got, err := Parse(f, value)
			if err != nil {
				t.Fatalf("%s: parse %q: %v", f, value, err)
			}
			if got != pw {
				t.Errorf("%s: round trip of %q gave %q", f, pw, got)
			}
		}
	}
}

// TestConnectionStringIsValidForTheDriver checks the rendered URI with the
// official driver's own parser and validator: credentials, hosts, auth
// source, replica set and TLS all come back as intended.
func TestConnectionStringIsValidForTheDriver(t *testing.T) {
	value, err := Render(ConnectionString, replicaSetAccount, "p@ss:w/rd?#[]%$+")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := connstring.ParseAndValidate(value)
	if err != nil {
		t.Fatalf("driver rejects %q: %v", value, err)
	}
	if cs.Username != "orders@app" || cs.Password != "p@ss:w/rd?#[]%$+" {
		t.Errorf("credentials: got %q / %q", cs.Username, cs.Password)
	}
	if strings.Join(cs.Hosts, ",") != "db1.example.net:27017,db2.example.net:27018" {
		t.Errorf("hosts: got %v", cs.Hosts)
	}
	if cs.AuthSource != "orders" || cs.ReplicaSet != "rs0" || !cs.SSL {
		t.Errorf("options: authSource %q, replicaSet %q, tls %v", cs.AuthSource, cs.ReplicaSet, cs.SSL)
	}

	standalone := Account{Deployment: mongodb.Deployment{Hosts: []string{"127.0.0.1:40001"}}, Username: "app"}
	value, _ = Render(ConnectionString, standalone, "x")
	if value != "mongodb://app:x@127.0.0.1:40001/?authSource=admin" {
		t.Errorf("standalone URI: got %q", value)
	}
}

func TestJSONFields(t *testing.T) {
	value, err := Render(JSON, replicaSetAccount, "pw")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(value), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"username": "orders@app", "password": "pw", "host": "db1.example.net", "port": float64(27017),
		"auth_database": "orders", "replica_set": "rs0", "tls": true,
		"hosts": []any{"db1.example.net:27017", "db2.example.net:27018"},
	}
	for k, v := range want {
		if gotJSON, wantJSON := mustJSON(got[k]), mustJSON(v); gotJSON != wantJSON {
			t.Errorf("%s: got %s, want %s", k, gotJSON, wantJSON)
		}
	}
}

// TestParseErrorsNeverQuoteTheValue feeds values that are not in the
// expected format and checks that the error says so without echoing them.
func TestParseErrorsNeverQuoteTheValue(t *testing.T) {
	cases := []struct {
		f     Format
		value string
	}{
		{Password, ""},
		{ConnectionString, "not-a-uri-S3cret"},
		{ConnectionString, "mongodb://app@host/?authSource=admin"},
		{ConnectionString, "mongodb://app:S3cret@host:99999/"},
		{JSON, "S3cret"},
		{JSON, `{"username":"app"}`},
		{JSON, `{"password":""}`},
		{Format("xml"), "S3cret"},
	}
	for _, c := range cases {
		_, err := Parse(c.f, c.value)
		if err == nil {
			t.Errorf("%s %q: parsed without error", c.f, c.value)
			continue
		}
		if strings.Contains(err.Error(), "S3cret") {
			t.Errorf("%s: error quotes the value: %v", c.f, err)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, pw := range trickyPasswords {
		f.Add(pw, "app", "admin")
	}
	f.Fuzz(func(t *testing.T, pw, user, authDB string) {
		if pw == "" || !printableASCII(pw) || user == "" || !printableASCII(user) || !printableASCII(authDB) {
			t.Skip() // the generator emits printable ASCII only
		}
		acct := Account{Deployment: mongodb.Deployment{Hosts: []string{"127.0.0.1:27017"}}, Username: user, AuthSource: authDB}
		for _, format := range Formats {
			value, err := Render(format, acct, pw)
			if err != nil {
				t.Fatalf("%s: render: %v", format, err)
			}
			got, err := Parse(format, value)
			if err != nil {
				t.Fatalf("%s: parse: %v", format, err)
			}
			if got != pw {
				t.Fatalf("%s: round trip changed the password", format)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("mongodb://a:b@h/?authSource=admin")
	f.Add(`{"password":"x"}`)
	f.Add("<html><body>Service Unavailable</body></html>")
	f.Fuzz(func(t *testing.T, value string) {
		for _, format := range Formats {
			pw, err := Parse(format, value)
			if err == nil && pw == "" {
				t.Fatalf("%s: parse succeeded with an empty password", format)
			}
			if err != nil && len(value) >= 6 && strings.Contains(err.Error(), value) {
				t.Fatalf("%s: error quotes the value", format)
			}
		}
	})
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var srvAccount = Account{
	Deployment: mongodb.Deployment{SRVHost: "orders.ab1cd.example.net", TLS: true, Options: map[string]string{"retryWrites": "false", "w": "majority"}},
	Username:   "orders_app",
	AuthSource: "admin",
}

// TestSRVConnectionString: an SRV device renders a mongodb+srv:// URI with
// the device's options, and every format's password reads back without any
// DNS lookup (the driver's parser would resolve a mongodb+srv:// name; no
// DNS server answers for this one, so a lookup would fail the parse).
func TestSRVConnectionString(t *testing.T) {
	for _, pw := range trickyPasswords {
		value, err := Render(ConnectionString, srvAccount, pw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(value, "mongodb+srv://orders_app:") ||
			!strings.HasSuffix(value, "@orders.ab1cd.example.net/?authSource=admin&tls=true&retryWrites=false&w=majority") {
			t.Errorf("SRV URI: got %q", value)
		}
		for _, f := range Formats {
			v, err := Render(f, srvAccount, pw)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := Parse(f, v); err != nil || got != pw {
				t.Errorf("%s: round trip of %q gave %q, %v", f, pw, got, err)
			}
		}
	}
	// Options reach the plain seed list's URI too, and the driver reads them.
	acct := replicaSetAccount
	acct.Deployment.Options = map[string]string{"retryWrites": "false", "readPreference": "secondaryPreferred"}
	value, _ := Render(ConnectionString, acct, "pw")
	cs, err := connstring.ParseAndValidate(value)
	if err != nil {
		t.Fatal(err)
	}
	if !cs.RetryWritesSet || cs.RetryWrites || cs.ReadPreference != "secondaryPreferred" {
		t.Errorf("options did not reach the connection string: %q", value)
	}
}

func TestSRVJSON(t *testing.T) {
	value, err := Render(JSON, srvAccount, "pw")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(value), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"username": "orders_app", "password": "pw", "srv_host": "orders.ab1cd.example.net", "tls": true, "auth_database": "admin",
		"hosts": []any{}, "host": "", "port": float64(0), "options": map[string]any{"retryWrites": "false", "w": "majority"},
	}
	for k, v := range want {
		if gotJSON, wantJSON := mustJSON(got[k]), mustJSON(v); gotJSON != wantJSON {
			t.Errorf("%s: got %s, want %s", k, gotJSON, wantJSON)
		}
	}
}
