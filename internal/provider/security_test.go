package provider

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// TestInsecureTLSWarnsAtEveryPlan: turning certificate verification off is
// possible, but never quiet.
func TestInsecureTLSWarnsAtEveryPlan(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	ws := newCLIWorkspace(t)
	ws.Write(testAccProviderConfig() + `
resource "segura_device" "legacy" {
  name                     = "legacy-db"
  address                  = "db.internal.example:27017"
  tls                      = true
  tls_insecure_skip_verify = true
}
`)
	out := ws.MustRun("validate")
	if !testAccErrorPattern("Warning: TLS certificate verification is OFF", "legacy-db", "impersonate", "tls_ca_file").MatchString(out) {
		t.Fatalf("terraform validate did not warn about tls_insecure_skip_verify:\n%s", out)
	}
}

// TestMaskSecrets: values handed to maskSecrets never reach a log line, as
// a field value or inside a message.
func TestMaskSecrets(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	const clientSecret, bootstrap = "client-secret-value-1234", "Bootstrap-Passw0rd-5678"
	ctx = maskSecrets(ctx, clientSecret, "", bootstrap)
	tflog.Info(ctx, "configured with "+clientSecret, map[string]any{"secret": clientSecret, "nested": "pw=" + bootstrap})
	tflog.Debug(ctx, "bootstrap "+bootstrap)
	if buf.Len() == 0 {
		t.Fatal("nothing was logged; the test proves nothing")
	}
	for _, s := range []string{clientSecret, bootstrap} {
		if strings.Contains(buf.String(), s) {
			t.Errorf("a masked value reached the log:\n%s", buf.String())
		}
	}
}
