package provider

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkApplyRotations measures one `terraform apply` that creates and
// rotates many credentials (default 100, SEGURA_BENCH_CREDENTIALS to
// change), each into its own secret, through the real terraform binary and
// the provider built as a plugin binary, on the local stack. It reports the
// apply's wall time, and the time of the plan that follows (which must be
// empty). Run with `make bench`.
func BenchmarkApplyRotations(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("needs the local stack: run with TF_ACC=1 (make bench does)")
	}
	n := 100
	if v := os.Getenv("SEGURA_BENCH_CREDENTIALS"); v != "" {
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 1 {
			b.Fatalf("SEGURA_BENCH_CREDENTIALS=%q: want a positive number", v)
		}
	}
	cfg := testAccConfig()
	vaultName, vaultURL := testAccVault()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ws := newCLIWorkspace(b)
		prefix := fmt.Sprintf("bench%d_%d", time.Now().UnixNano()%1e6, i)
		admin := testAccMongoAdmin(b, cfg.MongoDBURI)
		client := testAccSecretsClient(b, vaultURL)
		for j := 0; j < n; j++ {
			user := fmt.Sprintf("%s_%03d", prefix, j)
			pw := "Initial-Passw0rd-" + user
			if err := admin.Database("admin").RunCommand(context.Background(), bson.D{
				{Key: "createUser", Value: user}, {Key: "pwd", Value: pw}, {Key: "roles", Value: bson.A{}},
			}).Err(); err != nil {
				b.Fatal(err)
			}
			if _, err := client.SetSecret(context.Background(), strings.ReplaceAll(user, "_", "-"), azsecretsSet(pw), nil); err != nil {
				b.Fatal(err)
			}
		}
		hcl := testAccProviderConfig() + fmt.Sprintf(`
locals {
  users = [for i in range(%d) : format("%s_%%03d", i)]
}

resource "segura_device" "db" {
  name    = "bench"
  address = %q
}

resource "segura_credential" "app" {
  for_each = toset(local.users)
  device   = segura_device.db
  username = each.key
}

resource "segura_dsm_scope" "bench" {
  name        = "bench"
  system      = "bench"
  environment = "test"
}

resource "segura_dsm_application" "bench" {
  name       = "bench"
  scope      = segura_dsm_scope.bench
  tenant_id  = %q
  vault_name = %q
  vault_url  = %q
}

resource "segura_keyvault_sync" "app" {
  for_each    = toset(local.users)
  credential  = segura_credential.app[each.key]
  application = segura_dsm_application.bench
  secret_name = replace(each.key, "_", "-")
}

resource "segura_rotation_policy" "bench" {
  name           = "bench"
  frequency_days = 30
}

resource "segura_credential_rotation" "app" {
  for_each   = toset(local.users)
  credential = segura_credential.app[each.key]
  policy     = segura_rotation_policy.bench
  syncs      = [segura_keyvault_sync.app[each.key]]
}
`, n, prefix, cfg.MongoDBHostPort(), cfg.TenantID, vaultName, vaultURL)
		ws.Write(hcl)
		terraform := func(args ...string) (time.Duration, error) {
			start := time.Now()
			out, err := ws.Run(args...)
			if err != nil {
				return 0, fmt.Errorf("terraform %s: %v\n%s", args[0], err, tail([]byte(out), 4000))
			}
			return time.Since(start), nil
		}

		b.StartTimer()
		applyTime, err := terraform("apply", "-auto-approve", "-input=false")
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		// The plan after the apply must be empty: -detailed-exitcode exits 0.
		planTime, err := terraform("plan", "-detailed-exitcode", "-input=false")
		if err != nil {
			b.Fatalf("the plan after rotating %d credentials is not empty: %v", n, err)
		}
		b.ReportMetric(applyTime.Seconds(), "apply-s")
		b.ReportMetric(planTime.Seconds(), "plan-s")
		b.ReportMetric(float64(n), "credentials")
	}
}

func tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return "..." + string(b[len(b)-n:])
}
