package keyvault

import (
	"context"
	"strings"
	"testing"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

// TestHostileResponses: whatever a vault (or something posing as one)
// answers, the provider gets an error that names the vault and the
// operation, never a panic, never the raw body, and never the secret.
func TestHostileResponses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.vault(t, Identity{})
	ctx := context.Background()
	if _, err := v.SetSecretValue(ctx, testSecretName, SecretWrite{Value: "S3cret-value-in-vault"}); err != nil {
		t.Fatal(err)
	}
	html := "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>S3cret-value-in-vault</body></html>"
	huge := strings.Repeat("x", MaxResponseBytes+10)
	for _, tc := range []struct {
		name  string
		fault kvemulator.Fault
		call  func() error
		want  []string
	}{
		{
			name:  "garbage JSON",
			fault: kvemulator.Fault{Action: "body", Status: 200, ContentType: "application/json", Body: `{"value": "x", "id": `},
			call:  func() error { _, err := v.GetSecretValue(ctx, testSecretName, ""); return err },
			want:  []string{f.vaultURL, "get secret"},
		},
		{
			name:  "HTML error page",
			fault: kvemulator.Fault{Action: "body", Status: 502, ContentType: "text/html", Body: html},
			call:  func() error { _, err := v.GetSecretValue(ctx, testSecretName, ""); return err },
			want:  []string{f.vaultURL, "502"},
		},
		{
			name:  "200 without a value",
			fault: kvemulator.Fault{Action: "body", Status: 200, ContentType: "application/json", Body: `{"attributes":{"enabled":true}}`},
			call:  func() error { _, err := v.GetSecretValue(ctx, testSecretName, ""); return err },
			want:  []string{f.vaultURL, "no value"},
		},
		{
			name:  "huge body",
			fault: kvemulator.Fault{Action: "body", Status: 200, ContentType: "application/json", Body: huge},
			call:  func() error { _, err := v.GetSecretValue(ctx, testSecretName, ""); return err },
			want:  []string{f.vaultURL, "larger than"},
		},
		{
			name:  "HTML page answering a write",
			fault: kvemulator.Fault{Action: "body", Status: 503, ContentType: "text/html", Body: html},
			call: func() error {
				_, err := v.SetSecretValue(ctx, testSecretName, SecretWrite{Value: "another-value"})
				return err
			},
			want: []string{f.vaultURL, "set secret"},
		},
		{
			name:  "garbage JSON listing versions",
			fault: kvemulator.Fault{Action: "body", Status: 200, ContentType: "application/json", Body: `[1,2,3]`},
			call:  func() error { _, err := v.SecretVersions(ctx, testSecretName); return err },
			want:  []string{f.vaultURL},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fault.Vault = testVaultName
			tc.fault.Path = "^/secrets/" + testSecretName
			tc.fault.Count = 1
			id := f.emu.InjectFault(tc.fault)
			defer f.emu.RemoveFault(id)
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not mention %q: %s", w, msg)
				}
			}
			if strings.Contains(msg, "S3cret-value-in-vault") {
				t.Errorf("error quotes the body's secret: %s", msg)
			}
			if len(msg) > 2000 {
				t.Errorf("error is %d characters long; it dumps the body", len(msg))
			}
		})
	}
	// The vault is untouched: the value read afterwards is the one written.
	got, err := v.GetSecretValue(ctx, testSecretName, "")
	if err != nil || got.Value != "S3cret-value-in-vault" {
		t.Fatalf("after the hostile answers: %v", err)
	}
}
