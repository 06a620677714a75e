// Acceptance tests for the segura provider.
//
// They run only with TF_ACC=1 and need a terraform binary: TF_ACC_TERRAFORM_PATH,
// or `terraform` on PATH (the Makefile sets both). TF_ACC_TERRAFORM_PATH may
// name an OpenTofu binary (make test runs the compatibility tests on the
// OpenTofu build of internal/opentofu); TestMain then registers the provider
// under OpenTofu's registry host (prepareTerraformCLI).
//
// By default TestMain starts the local stack once for the whole package
// (FerretDB with SCRAM authentication and the Key Vault / Entra ID emulator,
// see internal/localstack) and every test shares it. To run the same tests
// against real infrastructure instead, set all of:
//
//	SEGURA_TEST_MONGODB_URI             mongodb://host:port/ (no credentials)
//	SEGURA_TEST_MONGODB_ADMIN_USERNAME  a user that may createUser / updateUser
//	SEGURA_TEST_MONGODB_ADMIN_PASSWORD
//	SEGURA_TEST_VAULT_URL               https://<vault>.vault.azure.net/
//	SEGURA_TEST_TENANT_ID               service principal with get, list, set,
//	SEGURA_TEST_CLIENT_ID               delete, recover and purge on the vault(s)
//	SEGURA_TEST_CLIENT_SECRET
//
// and optionally SEGURA_TEST_VAULT_URL_2 (a second vault), SEGURA_TEST_MONGODB_TLS_URI,
// SEGURA_TEST_MONGODB_CA_CERT_FILE, SEGURA_TEST_AUTHORITY_HOST and SEGURA_TEST_CA_CERT_FILE
// (private clouds). Tests that need fault injection skip themselves then.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/localstack"
)

// testAccProtoV6ProviderFactories serves the provider in-process to the
// terraform binary the acceptance tests drive.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"segura": providerserver.NewProtocol6WithError(New("test")()),
}

// testStackConfig is what the acceptance tests know about the MongoDB
// deployment and the Key Vault(s) they run against: the local stack's
// Config, or the same fields filled from SEGURA_TEST_* variables.
type testStackConfig = localstack.Config

// testAccEnv is the stack the acceptance tests run against. Local is true
// for the local stack (localstack_test.go then exposes it via testAccStack).
var testAccEnv struct {
	Config testStackConfig
	Local  bool
}

// startLocalStack starts the local stack in dir, fills testAccEnv and returns
// how to stop it. It is set by localstack_test.go.
var startLocalStack func(ctx context.Context, dir string) (stop func(), err error)

// testAccConfig returns the endpoints and credentials of the stack the
// acceptance tests run against.
func testAccConfig() testStackConfig { return testAccEnv.Config }

// testAccProviderConfig returns the provider block for the stack.
func testAccProviderConfig() string {
	return testAccProviderConfigWith(testAccEnv.Config.ClientID, testAccEnv.Config.ClientSecret)
}

// testAccProviderConfigWith returns the provider block authenticating as
// another client of the same tenant.
func testAccProviderConfigWith(clientID, clientSecret string) string {
	c := testAccEnv.Config
	var b strings.Builder
	b.WriteString("provider \"segura\" {\n")
	fmt.Fprintf(&b, "  tenant_id     = %s\n", strconv.Quote(c.TenantID))
	fmt.Fprintf(&b, "  client_id     = %s\n", strconv.Quote(clientID))
	fmt.Fprintf(&b, "  client_secret = %s\n", strconv.Quote(clientSecret))
	if c.AuthorityHost != "" {
		fmt.Fprintf(&b, "  authority_host = %s\n", strconv.Quote(c.AuthorityHost))
	}
	// Fast failure on a dead deployment keeps the suite short.
	b.WriteString("  mongodb = {\n    connect_timeout = \"5s\"\n    server_selection_timeout = \"5s\"\n")
	if c.MongoDBCACertFile != "" {
		fmt.Fprintf(&b, "    ca_cert_file = %s\n", strconv.Quote(c.MongoDBCACertFile))
	}
	b.WriteString("  }\n")
	b.WriteString("  key_vault = {\n    max_retries = 2\n    retry_delay = \"200ms\"\n    max_retry_delay = \"2s\"\n")
	if c.CACertFile != "" {
		fmt.Fprintf(&b, "    ca_cert_file = %s\n", strconv.Quote(c.CACertFile))
	}
	if testAccEnv.Local {
		// The emulator's vaults live on 127.0.0.1, not on a Key Vault domain.
		b.WriteString("    disable_challenge_resource_verification = true\n")
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// testAccName returns a unique, Key Vault- and MongoDB-safe name for a test object.
func testAccName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1_000_000_000_000)
}

// testAccPreCheck skips an acceptance test that arranges remote objects
// before resource.Test (which would skip it anyway) when TF_ACC is unset.
func testAccPreCheck(t testing.TB) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
}

// testAccVault returns the name and URL of the stack's first vault.
func testAccVault() (name, url string) {
	return testAccVaultOf(testAccEnv.Config.VaultURL)
}

// testAccVaultOf names a vault URL of the stack: its key in Config.Vaults
// for the local stack, else the first DNS label of its host.
func testAccVaultOf(url string) (name, vaultURL string) {
	for n, u := range testAccEnv.Config.Vaults {
		if u == url && vaultNamePattern.MatchString(n) {
			return n, url
		}
	}
	host := strings.TrimPrefix(url, "https://")
	host, _, _ = strings.Cut(host, "/")
	host, _, _ = strings.Cut(host, ".")
	return host, url
}

// testAccSecretsClient returns an azsecrets client for vaultURL acting as the
// stack's full-access identity, for tests that arrange or break secrets out
// of band.
func testAccSecretsClient(t testing.TB, vaultURL string) *azsecrets.Client {
	t.Helper()
	testAccPreCheck(t)
	c := testAccEnv.Config
	client, err := keyvault.UnpacedClient(vaultURL,
		keyvault.Endpoint{AuthorityHost: c.AuthorityHost, CACertFile: c.CACertFile, OffKeyVaultDomain: testAccEnv.Local},
		keyvault.Identity{TenantID: c.TenantID, ClientID: c.ClientID, ClientSecret: c.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// testAccPutSecret writes a version of secret name and returns its version.
// The secret is deleted and purged when the test ends.
func testAccPutSecret(t *testing.T, vaultURL, name, value string) string {
	t.Helper()
	client := testAccSecretsClient(t, vaultURL)
	resp, err := client.SetSecret(context.Background(), name, azsecrets.SetSecretParameters{Value: &value}, nil)
	if err != nil {
		t.Fatalf("writing secret %s: %v", name, err)
	}
	t.Cleanup(func() { testAccDeleteSecret(t, vaultURL, name, true) })
	return resp.ID.Version()
}

// testAccDeleteSecret deletes secret name (ignoring "not found") and, with
// purge, purges it so the name can be reused.
func testAccDeleteSecret(t *testing.T, vaultURL, name string, purge bool) {
	t.Helper()
	client := testAccSecretsClient(t, vaultURL)
	ctx := context.Background()
	if _, err := client.DeleteSecret(ctx, name, nil); err != nil && !testAccIsNotFound(err) {
		t.Errorf("deleting secret %s: %v", name, err)
	}
	if purge {
		if _, err := client.PurgeDeletedSecret(ctx, name, nil); err != nil && !testAccIsNotFound(err) {
			t.Errorf("purging secret %s: %v", name, err)
		}
	}
}

func testAccIsNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == 404
}

// testAccErrorPattern matches Terraform's error output containing every part
// in order; Terraform wraps long lines, so spaces in a part match any run of
// white space.
func testAccErrorPattern(parts ...string) *regexp.Regexp {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		words := strings.Fields(p)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		quoted[i] = strings.Join(words, `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, `.*`))
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if os.Getenv("TF_ACC") == "" {
		// Unit tests only; resource.Test skips acceptance tests by itself.
		return m.Run()
	}
	if err := checkTerraformBinary(); err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests:", err)
		return 1
	}
	cliDir, err := os.MkdirTemp("", "segura-provider-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests:", err)
		return 1
	}
	defer os.RemoveAll(cliDir)
	if err := prepareTerraformCLI(cliDir); err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests:", err)
		return 1
	}
	// make test runs this package once per binary of SEGURA_TEST_TERRAFORM.
	if cli := testAccCLI(); cli.OpenTofu() {
		fmt.Fprintf(os.Stderr, "acceptance tests: running on %s; the in-process provider is registry address %s/hashicorp/segura\n",
			cli, os.Getenv(resource.EnvTfAccProviderHost))
	} else {
		fmt.Fprintln(os.Stderr, "acceptance tests: running on", cli)
	}
	logDir, err := os.MkdirTemp("", "segura-provider-logs-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests:", err)
		return 1
	}
	defer os.RemoveAll(logDir)
	defer removeTestAccPlugin()
	tracing, err := startHygieneLogs(logDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests:", err)
		return 1
	}
	code := runAcceptanceTests(m)
	if tracing {
		if err := checkHygieneLogs(logDir); err != nil {
			fmt.Fprintln(os.Stderr, "secret hygiene: FAIL:", err)
			return 1
		}
	}
	return code
}

func runAcceptanceTests(m *testing.M) int {
	if cfg, ok := realInfrastructureFromEnv(); ok {
		testAccEnv.Config = cfg
		return m.Run()
	}
	if startLocalStack == nil {
		fmt.Fprintln(os.Stderr, "acceptance tests: this build has no local stack; set the SEGURA_TEST_* variables documented in provider_test.go")
		return 1
	}
	dir, err := os.MkdirTemp("", "segura-provider-acc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	started := time.Now()
	stop, err := startLocalStack(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance tests: starting the local stack:", err)
		return 1
	}
	defer stop()
	fmt.Fprintf(os.Stderr, "acceptance tests: local stack ready in %s\n", time.Since(started).Round(time.Millisecond))
	return m.Run()
}

// checkTerraformBinary makes a missing terraform a clear failure instead of
// terraform-plugin-testing trying (and failing) to download one.
func checkTerraformBinary() error {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("TF_ACC_TERRAFORM_PATH=%s: %w; point it at a terraform >= 1.11 binary", p, err)
		}
		return nil
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		return fmt.Errorf("TF_ACC is set but no terraform binary was found: set TF_ACC_TERRAFORM_PATH or put terraform >= 1.11 on PATH (nothing can be downloaded here)")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	return os.Setenv("TF_ACC_TERRAFORM_PATH", abs)
}

// prepareTerraformCLI adjusts the environment of the test process for the
// binary the acceptance tests drive:
//
//   - A TF_CLI_CONFIG_FILE that names no file (as these machines export it)
//     is pointed at an empty file in dir. Terraform only warns on stderr;
//     OpenTofu prints the warning on stdout, before the output of `version
//     -json`, which terraform-exec then cannot parse.
//   - On OpenTofu, terraform-plugin-testing must register the in-process
//     provider under OpenTofu's default registry, registry.opentofu.org:
//     `segura` with no required_providers entry means
//     registry.opentofu.org/hashicorp/segura there, and the reattach address
//     registry.terraform.io/hashicorp/segura would not match it
//     (TF_ACC_PROVIDER_HOST, unless set already).
func prepareTerraformCLI(dir string) error {
	if p := os.Getenv("TF_CLI_CONFIG_FILE"); p != "" {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			empty := filepath.Join(dir, "empty.tfrc")
			if err := os.WriteFile(empty, nil, 0o600); err != nil {
				return err
			}
			if err := os.Setenv("TF_CLI_CONFIG_FILE", empty); err != nil {
				return err
			}
		}
	}
	if testAccCLI().OpenTofu() && os.Getenv(resource.EnvTfAccProviderHost) == "" {
		return os.Setenv(resource.EnvTfAccProviderHost, "registry.opentofu.org")
	}
	return nil
}

// realInfrastructureFromEnv reads the SEGURA_TEST_* variables documented at
// the top of this file; ok only when MongoDB and Key Vault are both named.
func realInfrastructureFromEnv() (testStackConfig, bool) {
	c := testStackConfig{
		MongoDBURI:           os.Getenv("SEGURA_TEST_MONGODB_URI"),
		MongoDBAdminUsername: os.Getenv("SEGURA_TEST_MONGODB_ADMIN_USERNAME"),
		MongoDBAdminPassword: os.Getenv("SEGURA_TEST_MONGODB_ADMIN_PASSWORD"),
		MongoDBTLSURI:        os.Getenv("SEGURA_TEST_MONGODB_TLS_URI"),
		MongoDBCACertFile:    os.Getenv("SEGURA_TEST_MONGODB_CA_CERT_FILE"),
		VaultURL:             os.Getenv("SEGURA_TEST_VAULT_URL"),
		CACertFile:           os.Getenv("SEGURA_TEST_CA_CERT_FILE"),
		TenantID:             os.Getenv("SEGURA_TEST_TENANT_ID"),
		ClientID:             os.Getenv("SEGURA_TEST_CLIENT_ID"),
		ClientSecret:         os.Getenv("SEGURA_TEST_CLIENT_SECRET"),
		AuthorityHost:        os.Getenv("SEGURA_TEST_AUTHORITY_HOST"),
	}
	if c.MongoDBURI == "" || c.VaultURL == "" {
		return c, false
	}
	c.Vaults = map[string]string{"primary": c.VaultURL}
	if v := os.Getenv("SEGURA_TEST_VAULT_URL_2"); v != "" {
		c.Vaults["secondary"] = v
	}
	return c, true
}

func TestProviderSchemaIsValid(t *testing.T) {
	t.Parallel()
	server, err := testAccProtoV6ProviderFactories["segura"]()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("%s: %s: %s", d.Severity, d.Summary, d.Detail)
	}
	if resp.Provider == nil || len(resp.Provider.Block.Attributes) == 0 {
		t.Fatal("provider schema has no attributes")
	}
}

// secretParams is a SetSecret body holding value.
func secretParams(value string) azsecrets.SetSecretParameters {
	return azsecrets.SetSecretParameters{Value: &value}
}

// knownvalueFunc checks a string attribute against a value only known once
// an earlier step has run.
func knownvalueFunc(want func() string) knownvalue.Check { return lateString{want} }

type lateString struct{ want func() string }

func (c lateString) CheckValue(v any) error {
	got, ok := v.(string)
	if !ok {
		return fmt.Errorf("expected a string value, got %T", v)
	}
	if got != c.want() {
		return fmt.Errorf("expected value %q, got %q", c.want(), got)
	}
	return nil
}

func (c lateString) String() string { return c.want() }

// clearAzureEnv unsets every variable the provider reads, for the test.
func clearAzureEnv(t *testing.T) {
	for _, e := range []string{"ARM_TENANT_ID", "ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_USE_OIDC", "ARM_OIDC_TOKEN",
		"ARM_OIDC_TOKEN_FILE_PATH", "ARM_USE_MSI", "ARM_ENVIRONMENT", "AZURE_TENANT_ID", "AZURE_CLIENT_ID",
		"AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "ARM_OIDC_REQUEST_URL", "ARM_OIDC_REQUEST_TOKEN",
		"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"} {
		t.Setenv(e, "")
	}
}

func TestAzureSettingsFallbacks(t *testing.T) {
	clearAzureEnv(t)
	t.Setenv("AZURE_TENANT_ID", "tenant-from-azure")
	t.Setenv("ARM_TENANT_ID", "tenant-from-arm")
	t.Setenv("AZURE_CLIENT_ID", "client-from-azure")
	t.Setenv("ARM_CLIENT_SECRET", "secret-from-arm")
	t.Setenv("ARM_USE_MSI", "true")
	t.Setenv("ARM_ENVIRONMENT", "China")

	var diags diag.Diagnostics
	got := providerModel{ClientID: types.StringValue("client-from-config")}.azure(&diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	want := azureSettings{
		TenantID:     "tenant-from-arm",    // ARM_* before AZURE_*
		ClientID:     "client-from-config", // configuration before the environment
		ClientSecret: "secret-from-arm",
		UseMSI:       true,
		Environment:  "china",
	}
	if got != want {
		t.Errorf("settings\n got %+v\nwant %+v", got, want)
	}

	t.Setenv("ARM_USE_OIDC", "yes please")
	diags = nil
	providerModel{}.azure(&diags)
	if !diags.HasError() || !strings.Contains(diags[0].Detail(), "ARM_USE_OIDC") {
		t.Errorf("an unparsable ARM_USE_OIDC must be an error naming it, got %v", diags)
	}

	clearAzureEnv(t)
	t.Setenv("ARM_ENVIRONMENT", "germany")
	diags = nil
	providerModel{}.azure(&diags)
	if !diags.HasError() || !strings.Contains(diags[0].Detail(), "germany") {
		t.Errorf("an unknown ARM_ENVIRONMENT must be an error naming it, got %v", diags)
	}
}

func TestAzureCredentialChoice(t *testing.T) {
	t.Parallel()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("header.payload.signature\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		settings azureSettings
		wantType string
		wantErr  string
	}{
		{"oidc token file", azureSettings{TenantID: "t", ClientID: "c", UseOIDC: true, OIDCTokenFilePath: tokenFile, ClientSecret: "ignored"}, "*azidentity.ClientAssertionCredential", ""},
		{"oidc without token", azureSettings{TenantID: "t", ClientID: "c", UseOIDC: true}, "", "oidc_token"},
		{"oidc from a token endpoint", azureSettings{TenantID: "t", ClientID: "c", UseOIDC: true, OIDCRequestURL: "https://token.example/?x=1", OIDCRequestToken: "r"}, "*azidentity.ClientAssertionCredential", ""},
		{"oidc endpoint without its token", azureSettings{TenantID: "t", ClientID: "c", UseOIDC: true, OIDCRequestURL: "https://token.example/"}, "", "oidc_request_token"},
		{"oidc without client", azureSettings{TenantID: "t", UseOIDC: true, OIDCToken: "x"}, "", "client_id"},
		{"client secret", azureSettings{TenantID: "t", ClientID: "c", ClientSecret: "s"}, "*azidentity.ClientSecretCredential", ""},
		{"client secret without tenant", azureSettings{ClientID: "c", ClientSecret: "s"}, "", "tenant_id"},
		{"managed identity", azureSettings{UseMSI: true, ClientID: "c"}, "*azidentity.ManagedIdentityCredential", ""},
		{"nothing", azureSettings{}, "*azidentity.DefaultAzureCredential", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cred, name, err := tc.settings.credential(azcore.ClientOptions{}, false)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want an error naming %s, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", cred); got != tc.wantType {
				t.Errorf("credential %s, want %s", got, tc.wantType)
			}
			if name == "" || strings.Contains(name, "ignored") {
				t.Errorf("credential description %q", name)
			}
		})
	}
}

// TestOIDCRequestToken fetches the OIDC token the way GitHub Actions hands it
// out: a GET on ACTIONS_ID_TOKEN_REQUEST_URL with the Entra ID audience and
// the request token as bearer.
func TestOIDCRequestToken(t *testing.T) {
	clearAzureEnv(t)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer request-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("audience") != "api://AzureADTokenExchange" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "bad query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"count":1,"value":"header.payload.signature"}`))
	}))
	defer server.Close()
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", server.URL+"/token?api-version=2.0")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token")

	var diags diag.Diagnostics
	s := providerModel{UseOIDC: types.BoolValue(true)}.azure(&diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	assertion, err := s.oidcAssertion()
	if err != nil {
		t.Fatal(err)
	}
	got, err := assertion(context.Background())
	if err != nil || got != "header.payload.signature" {
		t.Fatalf("assertion = %q, %v", got, err)
	}

	s.OIDCRequestToken = "wrong"
	assertion, _ = s.oidcAssertion()
	if _, err := assertion(context.Background()); err == nil || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("a refused request must say so without quoting the request token, got %v", err)
	}
}

// TestAccProviderEnvironmentCredentials configures the provider from ARM_*
// variables alone. It sets process environment, so it does not run in
// parallel with the other tests of the package.
func TestAccProviderEnvironmentCredentials(t *testing.T) {
	testAccPreCheck(t)
	c := testAccConfig()
	clearAzureEnv(t)
	t.Setenv("ARM_TENANT_ID", c.TenantID)
	t.Setenv("ARM_CLIENT_ID", c.ClientID)
	t.Setenv("ARM_CLIENT_SECRET", c.ClientSecret)
	providerBlock := "provider \"segura\" {\n"
	if c.AuthorityHost != "" {
		providerBlock += fmt.Sprintf("  authority_host = %q\n", c.AuthorityHost)
	}
	providerBlock += "  key_vault = {\n"
	if c.CACertFile != "" {
		providerBlock += fmt.Sprintf("    ca_cert_file = %q\n", c.CACertFile)
	}
	if testAccEnv.Local {
		providerBlock += "    disable_challenge_resource_verification = true\n"
	}
	providerBlock += "  }\n}\n"
	name := testAccName("acc-env")
	vaultName, vaultURL := testAccVault()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: providerBlock + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, "")},
			{
				PreConfig:   func() { t.Setenv("ARM_CLIENT_SECRET", "not-the-secret") },
				Config:      providerBlock + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, ""),
				PlanOnly:    true,
				ExpectError: testAccErrorPattern("Azure authentication failed", "client "+c.ClientID),
			},
			{
				PreConfig: func() { t.Setenv("ARM_CLIENT_SECRET", c.ClientSecret) },
				Config:    providerBlock + testAccScopeHCL(name, nil) + testAccApplicationHCL(name, vaultName, vaultURL, ""),
			},
		},
	})
}

// TestAccProviderUnknownSetting: a provider setting only known after apply
// is refused with a message naming it.
func TestAccProviderUnknownSetting(t *testing.T) {
	t.Parallel()
	name := testAccName("acc-unknown")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: testAccScopeHCL(name, nil) + `
# terraform_data is built into Terraform; its output is unknown until apply.
resource "terraform_data" "tenant" {
  input = "00000000-0000-0000-0000-000000000001"
}

provider "segura" {
  tenant_id = terraform_data.tenant.output
}
`,
				PlanOnly:    true,
				ExpectError: testAccErrorPattern("Provider setting not known at plan time", "tenant_id"),
			},
		},
	})
}
