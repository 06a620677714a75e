package localstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadConfigAndVaultName(t *testing.T) {
	path := filepath.Join(t.TempDir(), ConfigFile)
	st := Stack{Config: Config{
		MongoDBURI: "mongodb://127.0.0.1:27017/",
		VaultURL:   "https://127.0.0.1:8443/",
		Vaults:     map[string]string{"b-second": "https://127.0.0.1:8444/", "z-first": "https://127.0.0.1:8443"},
	}}
	if err := st.WriteConfig(path); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("devstack.json: %v, mode %v; want 0600 (it holds credentials)", err, info.Mode())
	}
	cfg, err := ReadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.VaultName(); got != "z-first" {
		t.Errorf("VaultName = %q, want the vault at vault_url, z-first", got)
	}
	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadConfig(path); err == nil || !strings.Contains(err.Error(), "is not a devstack configuration") {
		t.Errorf("ReadConfig of a broken file: %v", err)
	}
}

func TestRandomPassword(t *testing.T) {
	a, b := randomPassword(), randomPassword()
	if a == b || len(a) != len("initial-")+36 || !strings.HasPrefix(a, "initial-") {
		t.Errorf("randomPassword gave %d and %d characters, equal: %v", len(a), len(b), a == b)
	}
}
