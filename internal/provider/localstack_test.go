package provider

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/segura-community/terraform-provider-segura/internal/ferretdb"
	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
	"github.com/segura-community/terraform-provider-segura/internal/localstack"
)

// testAccLocalStack gives tests that inject faults or add identities access
// to the local stack's servers.
type testAccLocalStack struct {
	Config   testStackConfig
	KeyVault *kvemulator.Emulator
	MongoDB  *ferretdb.Server
}

var testAccLocal testAccLocalStack

// testAccStack returns the local stack; it skips the test when the suite runs
// against real infrastructure.
func testAccStack(t *testing.T) *testAccLocalStack {
	t.Helper()
	testAccPreCheck(t)
	if !testAccEnv.Local {
		t.Skip("needs the local stack (fault injection / extra identities); running against real infrastructure")
	}
	return &testAccLocal
}

func init() {
	startLocalStack = func(ctx context.Context, dir string) (func(), error) {
		st, err := localstack.Start(ctx, localstack.Options{Dir: dir, Vaults: []string{"segura-dev", "segura-dev-2"}, MongoDBTLS: true})
		if err != nil {
			return nil, err
		}
		testAccEnv.Config = st.Config
		testAccEnv.Local = true
		testAccLocal = testAccLocalStack{Config: testAccEnv.Config, KeyVault: st.KeyVault, MongoDB: st.MongoDB}
		return func() {
			if err := st.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "acceptance tests: stopping the local stack:", err)
			}
		}, nil
	}
}
