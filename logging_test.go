package main

import (
	"os"
	"testing"
)

func TestTerraformKeepsProviderLogs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		wantKept bool
	}{
		{"nothing set", nil, false},
		{"TF_LOG empty", map[string]string{"TF_LOG": ""}, false},
		{"TF_LOG off", map[string]string{"TF_LOG": "off"}, false},
		{"TF_LOG trace", map[string]string{"TF_LOG": "TRACE"}, true},
		{"TF_LOG json", map[string]string{"TF_LOG": "json"}, true},
		{"TF_LOG invalid means trace", map[string]string{"TF_LOG": "verbose"}, true},
		{"TF_LOG_PROVIDER wins over TF_LOG", map[string]string{"TF_LOG": "TRACE", "TF_LOG_PROVIDER": "OFF"}, false},
		{"TF_LOG_PROVIDER alone", map[string]string{"TF_LOG_PROVIDER": "debug"}, true},
		{"TF_LOG_CORE is core only", map[string]string{"TF_LOG_CORE": "TRACE"}, false},
		{"TF_LOG_PATH alone logs nothing", map[string]string{"TF_LOG_PATH": "/tmp/x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := terraformKeepsProviderLogs(func(k string) string { return tc.env[k] })
			if got != tc.wantKept {
				t.Errorf("terraformKeepsProviderLogs(%v) = %v, want %v", tc.env, got, tc.wantKept)
			}
		})
	}
}

func TestSilenceDiscardedLogs(t *testing.T) {
	for _, name := range pluginLogLevelEnv {
		t.Setenv(name, "")
	}
	t.Setenv("TF_LOG", "")
	t.Setenv("TF_LOG_PROVIDER", "")
	// t.Setenv cannot unset: set a user's explicit choice for one and
	// check it is kept, then check the others are turned off once unset.
	t.Setenv("TF_LOG_SDK_FRAMEWORK", "DEBUG")
	for _, name := range pluginLogLevelEnv {
		if name != "TF_LOG_SDK_FRAMEWORK" {
			unsetenv(t, name)
		}
	}
	silenceDiscardedLogs(false)
	for _, name := range pluginLogLevelEnv {
		want := "OFF"
		if name == "TF_LOG_SDK_FRAMEWORK" {
			want = "DEBUG"
		}
		if got := getenv(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	for _, tc := range []struct {
		name  string
		tfLog string
		debug bool
	}{
		{"kept when Terraform keeps them", "TRACE", false},
		{"kept in debug mode", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TF_LOG", tc.tfLog)
			unsetenv(t, "TF_LOG_SDK")
			silenceDiscardedLogs(tc.debug)
			if got := getenv("TF_LOG_SDK"); got != "" {
				t.Errorf("TF_LOG_SDK = %q with TF_LOG=%q and debug %v, want it left unset", got, tc.tfLog, tc.debug)
			}
		})
	}
}

func getenv(name string) string {
	v, _ := os.LookupEnv(name)
	return v
}

// unsetenv removes name for the rest of the test; t.Setenv first records
// the value to restore.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}
