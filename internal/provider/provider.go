// Package provider implements the segura Terraform provider with
// terraform-plugin-framework.
package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
)

var (
	_ provider.Provider                       = (*seguraProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*seguraProvider)(nil)
	_ provider.ProviderWithActions            = (*seguraProvider)(nil)
	_ provider.ProviderWithListResources      = (*seguraProvider)(nil)
)

type seguraProvider struct {
	version string
	// now is the clock rotation schedules are judged by; tests inject one,
	// as hashicorp/terraform-provider-time does, instead of sleeping.
	now func() time.Time
}

// New returns a constructor for the provider, as providerserver.Serve expects.
func New(version string) func() provider.Provider {
	return newWithClock(version, time.Now)
}

func newWithClock(version string, now func() time.Time) func() provider.Provider {
	return func() provider.Provider {
		return &seguraProvider{version: version, now: now}
	}
}

// providerModel is the provider block. Azure attributes mirror the azurerm
// provider's names and ARM_* environment variables.
type providerModel struct {
	TenantID          types.String `tfsdk:"tenant_id"`
	ClientID          types.String `tfsdk:"client_id"`
	ClientSecret      types.String `tfsdk:"client_secret"`
	UseOIDC           types.Bool   `tfsdk:"use_oidc"`
	OIDCToken         types.String `tfsdk:"oidc_token"`
	OIDCTokenFilePath types.String `tfsdk:"oidc_token_file_path"`
	OIDCRequestURL    types.String `tfsdk:"oidc_request_url"`
	OIDCRequestToken  types.String `tfsdk:"oidc_request_token"`
	UseMSI            types.Bool   `tfsdk:"use_msi"`
	Environment       types.String `tfsdk:"environment"`
	AuthorityHost     types.String `tfsdk:"authority_host"`
	KeyVault          types.Object `tfsdk:"key_vault"`
	MongoDB           types.Object `tfsdk:"mongodb"`
}

type providerKeyVaultModel struct {
	CACertFile                           types.String `tfsdk:"ca_cert_file"`
	DisableChallengeResourceVerification types.Bool   `tfsdk:"disable_challenge_resource_verification"`
	MaxRetries                           types.Int64  `tfsdk:"max_retries"`
	RetryDelay                           types.String `tfsdk:"retry_delay"`
	MaxRetryDelay                        types.String `tfsdk:"max_retry_delay"`
}

type providerMongoDBModel struct {
	ConnectTimeout         types.String `tfsdk:"connect_timeout"`
	ServerSelectionTimeout types.String `tfsdk:"server_selection_timeout"`
	WriteTimeout           types.String `tfsdk:"write_timeout"`
	ReplicationWait        types.String `tfsdk:"replication_wait"`
	CACertFile             types.String `tfsdk:"ca_cert_file"`
}

// Key Vault retry defaults: azcore's own defaults, written out so the docs
// can state them.
const (
	defaultKeyVaultMaxRetries    = 3
	defaultKeyVaultRetryDelay    = 4 * time.Second
	defaultKeyVaultMaxRetryDelay = 60 * time.Second
)

// azureEnvironment is one of the Azure clouds the provider knows by name.
type azureEnvironment struct {
	cloud          cloud.Configuration
	vaultDNSSuffix string
}

var azureEnvironments = map[string]azureEnvironment{
	"public":       {cloud: cloud.AzurePublic, vaultDNSSuffix: "vault.azure.net"},
	"usgovernment": {cloud: cloud.AzureGovernment, vaultDNSSuffix: "vault.usgovcloudapi.net"},
	"china":        {cloud: cloud.AzureChina, vaultDNSSuffix: "vault.azure.cn"},
}

func (p *seguraProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "segura"
	resp.Version = p.version
}

func (p *seguraProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Rotates MongoDB credentials and keeps Azure Key Vault secrets in step with them.\n\n" +
			"Every attribute is optional. Azure authentication follows the azurerm provider: " +
			"`ARM_TENANT_ID`, `ARM_CLIENT_ID`, `ARM_CLIENT_SECRET`, `ARM_USE_OIDC`, `ARM_OIDC_TOKEN`, " +
			"`ARM_OIDC_TOKEN_FILE_PATH`, `ARM_USE_MSI` and `ARM_ENVIRONMENT` fill in attributes that are not set, " +
			"then azidentity's `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` and `AZURE_FEDERATED_TOKEN_FILE`. " +
			"With no credential configured at all the provider uses azidentity's default credential chain " +
			"(environment, workload identity, managed identity, Azure CLI, Azure Developer CLI).",
		Attributes: map[string]schema.Attribute{
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Microsoft Entra ID tenant to authenticate in. Falls back to `ARM_TENANT_ID`, then `AZURE_TENANT_ID`.",
			},
			"client_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Client (application) id of the service principal or user-assigned managed identity. Falls back to `ARM_CLIENT_ID`, then `AZURE_CLIENT_ID`.",
			},
			"client_secret": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Client secret of the service principal. Provider configuration is never stored in state; prefer `ARM_CLIENT_SECRET`, OIDC or a managed identity over writing it in configuration. Falls back to `ARM_CLIENT_SECRET`, then `AZURE_CLIENT_SECRET`.",
			},
			"use_oidc": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Authenticate with an OIDC token (workload identity federation) from `oidc_token`, `oidc_token_file_path` or `oidc_request_url`. Falls back to `ARM_USE_OIDC`.",
			},
			"oidc_token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "OIDC token to exchange for an Entra ID token when `use_oidc` is true. Falls back to `ARM_OIDC_TOKEN`.",
				Validators:          []validator.String{stringvalidator.ConflictsWith(path.MatchRoot("oidc_token_file_path"))},
			},
			"oidc_token_file_path": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "File holding the OIDC token; read again on every token request, so a rotated token file keeps working. Falls back to `ARM_OIDC_TOKEN_FILE_PATH`, then `AZURE_FEDERATED_TOKEN_FILE`.",
			},
			"oidc_request_url": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Token endpoint of the CI system to request the OIDC token from, as GitHub Actions provides. " +
					"Falls back to `ARM_OIDC_REQUEST_URL`, then `ACTIONS_ID_TOKEN_REQUEST_URL`.",
			},
			"oidc_request_token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Bearer token for `oidc_request_url`. Falls back to `ARM_OIDC_REQUEST_TOKEN`, then `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.",
			},
			"use_msi": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Authenticate with a managed identity (user-assigned when `client_id` is set). Falls back to `ARM_USE_MSI`.",
			},
			"environment": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Azure cloud: `public` (default), `usgovernment` or `china`. It selects the Entra ID authority " +
					"and the Key Vault DNS suffix used to build vault URLs from vault names. Falls back to `ARM_ENVIRONMENT`.",
				Validators: []validator.String{stringvalidator.OneOf("public", "usgovernment", "china")},
			},
			"authority_host": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Custom Microsoft Entra ID authority host, e.g. `https://login.example.internal/`, for private " +
					"clouds and the local test stack. Instance discovery is turned off when it is set.",
				Validators: []validator.String{stringvalidator.RegexMatches(httpsURL, "must be an https:// URL")},
			},
			"key_vault": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Key Vault client settings shared by every resource.",
				Attributes: map[string]schema.Attribute{
					"ca_cert_file": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "PEM bundle trusted, in addition to the system roots, for Key Vault and the authority host (private clouds, the local test stack).",
					},
					"disable_challenge_resource_verification": schema.BoolAttribute{
						Optional: true,
						MarkdownDescription: "Accept a bearer challenge whose resource is not a Key Vault domain. Only allowed for " +
							"`segura_dsm_application`s that give an explicit `vault_url`; never needed in the public clouds.",
					},
					"max_retries": schema.Int64Attribute{
						Optional:            true,
						MarkdownDescription: fmt.Sprintf("Retries of a failed Key Vault request (throttling, 5xx, network errors); `Retry-After` is honoured. Default %d; 0 disables retries.", defaultKeyVaultMaxRetries),
						Validators:          []validator.Int64{int64validator.Between(0, 20)},
					},
					"retry_delay": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: fmt.Sprintf("Initial back-off between retries, as a Go duration (`500ms`, `4s`). Default `%s`.", defaultKeyVaultRetryDelay),
						Validators:          []validator.String{positiveDuration()},
					},
					"max_retry_delay": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: fmt.Sprintf("Upper bound of the back-off between retries, as a Go duration. Default `%s`.", defaultKeyVaultMaxRetryDelay),
						Validators:          []validator.String{positiveDuration()},
					},
				},
			},
			"mongodb": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Defaults for every MongoDB connection.",
				Attributes: map[string]schema.Attribute{
					"connect_timeout": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: fmt.Sprintf("Time allowed for the TCP and TLS handshake with one host, as a Go duration. Default `%s`.", mongodb.FallbackConnectTimeout),
						Validators:          []validator.String{positiveDuration()},
					},
					"server_selection_timeout": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: fmt.Sprintf("Time an operation waits for a suitable server, i.e. what an unreachable deployment costs, as a Go duration. Default `%s`.", mongodb.FallbackServerSelectionTimeout),
						Validators:          []validator.String{positiveDuration()},
					},
					"write_timeout": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: fmt.Sprintf("Time the provider waits for one password change (`updateUser` with write concern `majority`) before it treats the outcome as unknown, as a Go duration. "+
							"The server is told to give up sooner (`maxTimeMS` two thirds of it, `wtimeout` half of it), so on a healthy connection the server's answer says what happened. Default `%s`.", mongodb.FallbackWriteTimeout),
						Validators: []validator.String{positiveDuration()},
					},
					"replication_wait": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: fmt.Sprintf("On a replica set, how long a rotation waits for a password change applied on the primary to reach a majority of members before it rolls the change back, as a Go duration. "+
							"Key Vault is written only once a majority has the change, so a failover cannot undo a password applications already read. Default `%s`.", rotation.DefaultMajorityWait),
						Validators: []validator.String{positiveDuration()},
					},
					"ca_cert_file": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "PEM bundle trusted for TLS deployments that name no CA of their own. Default: the system roots.",
					},
				},
			},
		},
	}
}

// azureSettings is the provider block with environment fallbacks applied.
type azureSettings struct {
	TenantID, ClientID, ClientSecret string
	UseOIDC                          bool
	OIDCToken, OIDCTokenFilePath     string
	OIDCRequestURL, OIDCRequestToken string
	UseMSI                           bool
	Environment                      string
	AuthorityHost                    string
}

// firstSet returns the configured value, else the first non-empty
// environment variable.
func firstSet(v types.String, envs ...string) string {
	if !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" {
		return v.ValueString()
	}
	for _, e := range envs {
		if s := os.Getenv(e); s != "" {
			return s
		}
	}
	return ""
}

func boolOrEnv(v types.Bool, env string, diags *diag.Diagnostics) bool {
	if !v.IsNull() && !v.IsUnknown() {
		return v.ValueBool()
	}
	s := os.Getenv(env)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		diags.AddError("Invalid environment variable "+env,
			fmt.Sprintf("The segura provider reads %s as a boolean, but it is %q. Set it to true or false.", env, s))
	}
	return b
}

func (m providerModel) azure(diags *diag.Diagnostics) azureSettings {
	s := azureSettings{
		TenantID:          firstSet(m.TenantID, "ARM_TENANT_ID", "AZURE_TENANT_ID"),
		ClientID:          firstSet(m.ClientID, "ARM_CLIENT_ID", "AZURE_CLIENT_ID"),
		ClientSecret:      firstSet(m.ClientSecret, "ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET"),
		UseOIDC:           boolOrEnv(m.UseOIDC, "ARM_USE_OIDC", diags),
		OIDCToken:         firstSet(m.OIDCToken, "ARM_OIDC_TOKEN"),
		OIDCTokenFilePath: firstSet(m.OIDCTokenFilePath, "ARM_OIDC_TOKEN_FILE_PATH", "AZURE_FEDERATED_TOKEN_FILE"),
		OIDCRequestURL:    firstSet(m.OIDCRequestURL, "ARM_OIDC_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_URL"),
		OIDCRequestToken:  firstSet(m.OIDCRequestToken, "ARM_OIDC_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
		UseMSI:            boolOrEnv(m.UseMSI, "ARM_USE_MSI", diags),
		Environment:       strings.ToLower(firstSet(m.Environment, "ARM_ENVIRONMENT")),
		AuthorityHost:     m.AuthorityHost.ValueString(),
	}
	if s.Environment == "" {
		s.Environment = "public"
	}
	if _, ok := azureEnvironments[s.Environment]; !ok {
		diags.AddAttributeError(path.Root("environment"), "Unknown Azure environment",
			fmt.Sprintf("The segura provider knows the Azure environments public, usgovernment and china; got %q (from the environment attribute or ARM_ENVIRONMENT).", s.Environment))
	}
	return s
}

// credential builds the provider's Azure credential and a description of it
// for error messages. No request is made here: azidentity authenticates on
// the first token request.
func (s azureSettings) credential(opts azcore.ClientOptions, disableInstanceDiscovery bool) (azcore.TokenCredential, string, error) {
	switch {
	case s.UseOIDC:
		if s.TenantID == "" || s.ClientID == "" {
			return nil, "", fmt.Errorf("use_oidc needs tenant_id and client_id (or ARM_TENANT_ID and ARM_CLIENT_ID)")
		}
		assertion, err := s.oidcAssertion()
		if err != nil {
			return nil, "", err
		}
		c, err := azidentity.NewClientAssertionCredential(s.TenantID, s.ClientID, assertion, &azidentity.ClientAssertionCredentialOptions{
			ClientOptions: opts, DisableInstanceDiscovery: disableInstanceDiscovery,
		})
		return c, "OIDC " + keyvault.DescribeIdentity(s.TenantID, s.ClientID), err
	case s.ClientSecret != "":
		if s.TenantID == "" || s.ClientID == "" {
			return nil, "", fmt.Errorf("client_secret needs tenant_id and client_id (or ARM_TENANT_ID and ARM_CLIENT_ID)")
		}
		c, err := azidentity.NewClientSecretCredential(s.TenantID, s.ClientID, s.ClientSecret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: opts, DisableInstanceDiscovery: disableInstanceDiscovery,
		})
		return c, keyvault.DescribeIdentity(s.TenantID, s.ClientID), err
	case s.UseMSI:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		name := "the system-assigned managed identity"
		if s.ClientID != "" {
			o.ID = azidentity.ClientID(s.ClientID)
			name = "managed identity " + s.ClientID
		}
		c, err := azidentity.NewManagedIdentityCredential(o)
		return c, name, err
	default:
		c, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: opts, TenantID: s.TenantID, DisableInstanceDiscovery: disableInstanceDiscovery,
		})
		return c, "the default Azure credential chain", err
	}
}

// oidcAssertion returns where the OIDC token comes from, in azurerm's order:
// the token itself, a token file (read on every call: Kubernetes rotates it),
// or a request to the CI system's token endpoint (GitHub Actions).
func (s azureSettings) oidcAssertion() (func(context.Context) (string, error), error) {
	switch {
	case s.OIDCToken != "":
		token := s.OIDCToken
		return func(context.Context) (string, error) { return token, nil }, nil
	case s.OIDCTokenFilePath != "":
		file := s.OIDCTokenFilePath
		return func(context.Context) (string, error) {
			b, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("reading the OIDC token file: %w", err)
			}
			return strings.TrimSpace(string(b)), nil
		}, nil
	case s.OIDCRequestURL != "" && s.OIDCRequestToken != "":
		requestURL, requestToken := s.OIDCRequestURL, s.OIDCRequestToken
		return func(ctx context.Context) (string, error) {
			return requestOIDCToken(ctx, requestURL, requestToken)
		}, nil
	default:
		return nil, fmt.Errorf("use_oidc needs oidc_token, oidc_token_file_path, or oidc_request_url with oidc_request_token " +
			"(or ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH, or ARM_OIDC_REQUEST_URL with ARM_OIDC_REQUEST_TOKEN, which GitHub Actions sets as ACTIONS_ID_TOKEN_REQUEST_*)")
	}
}

// oidcAudience is the audience Entra ID expects on federated tokens.
const oidcAudience = "api://AzureADTokenExchange"

// requestOIDCToken asks a CI system's token endpoint (GitHub Actions'
// ACTIONS_ID_TOKEN_REQUEST_URL) for an OIDC token for Entra ID.
func requestOIDCToken(ctx context.Context, requestURL, requestToken string) (string, error) {
	u, err := url.Parse(requestURL)
	if err != nil {
		return "", fmt.Errorf("parsing the OIDC request URL: %w", err)
	}
	q := u.Query()
	q.Set("audience", oidcAudience)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+requestToken)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("requesting an OIDC token from %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("requesting an OIDC token from %s: HTTP %d", u.Host, resp.StatusCode)
	}
	var body struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil || body.Value == "" {
		return "", fmt.Errorf("requesting an OIDC token from %s: the answer holds no token", u.Host)
	}
	return body.Value, nil
}

func (p *seguraProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	diags := &resp.Diagnostics
	if unknown := unknownAttributes(req.Config.Raw); len(unknown) > 0 {
		for _, name := range unknown {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Provider setting not known at plan time",
				fmt.Sprintf("The segura provider's %s depends on a value that is only known after apply. The provider builds its "+
					"clients before planning, so set it from a variable, a data source or the environment instead.", name))
		}
		return
	}

	var kv providerKeyVaultModel
	if !m.KeyVault.IsNull() && !m.KeyVault.IsUnknown() {
		resp.Diagnostics.Append(m.KeyVault.As(ctx, &kv, basetypes.ObjectAsOptions{})...)
	}
	var mg providerMongoDBModel
	if !m.MongoDB.IsNull() && !m.MongoDB.IsUnknown() {
		resp.Diagnostics.Append(m.MongoDB.As(ctx, &mg, basetypes.ObjectAsOptions{})...)
	}
	az := m.azure(diags)
	if resp.Diagnostics.HasError() {
		return
	}
	env := azureEnvironments[az.Environment]

	cloudCfg := env.cloud
	if az.AuthorityHost != "" {
		cloudCfg.ActiveDirectoryAuthorityHost = az.AuthorityHost
	}
	httpClient, err := keyvault.HTTPClientWithCA(kv.CACertFile.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("key_vault").AtName("ca_cert_file"), "Unusable Key Vault CA bundle",
			fmt.Sprintf("The segura provider could not load the CA bundle for Key Vault and Entra ID: %s. Point ca_cert_file at a readable PEM file.", err))
		return
	}
	clientOpts := azcore.ClientOptions{Cloud: cloudCfg}
	if httpClient != nil {
		clientOpts.Transport = httpClient
	}
	cred, credName, err := az.credential(clientOpts, az.AuthorityHost != "")
	if err != nil {
		resp.Diagnostics.AddError("Azure credential not usable",
			fmt.Sprintf("The segura provider could not build its Azure credential: %s.", err))
		return
	}

	retry := policy.RetryOptions{
		MaxRetries:    defaultKeyVaultMaxRetries,
		RetryDelay:    defaultKeyVaultRetryDelay,
		MaxRetryDelay: defaultKeyVaultMaxRetryDelay,
	}
	if !kv.MaxRetries.IsNull() {
		retry.MaxRetries = int32(kv.MaxRetries.ValueInt64())
		if retry.MaxRetries == 0 {
			retry.MaxRetries = -1 // azcore: -1 means no retries, 0 means its default
		}
	}
	if d, ok := parseDurationAttr(kv.RetryDelay); ok {
		retry.RetryDelay = d
	}
	if d, ok := parseDurationAttr(kv.MaxRetryDelay); ok {
		retry.MaxRetryDelay = d
	}
	if retry.MaxRetryDelay < retry.RetryDelay {
		resp.Diagnostics.AddAttributeError(path.Root("key_vault").AtName("max_retry_delay"), "Retry bounds out of order",
			fmt.Sprintf("key_vault.max_retry_delay (%s) must not be shorter than key_vault.retry_delay (%s).", retry.MaxRetryDelay, retry.RetryDelay))
		return
	}

	mongoDefaults := mongodb.Defaults{CAFile: mg.CACertFile.ValueString()}
	if d, ok := parseDurationAttr(mg.ConnectTimeout); ok {
		mongoDefaults.ConnectTimeout = d
	}
	if d, ok := parseDurationAttr(mg.ServerSelectionTimeout); ok {
		mongoDefaults.ServerSelectionTimeout = d
	}
	if d, ok := parseDurationAttr(mg.WriteTimeout); ok {
		mongoDefaults.WriteTimeout = d
	}
	replicationWait, _ := parseDurationAttr(mg.ReplicationWait)

	data := &providerData{
		KeyVault: keyvault.NewPool(keyvault.Options{
			Cloud:                                cloudCfg,
			HTTPClient:                           httpClient,
			Retry:                                retry,
			DisableChallengeResourceVerification: kv.DisableChallengeResourceVerification.ValueBool(),
			DisableInstanceDiscovery:             az.AuthorityHost != "",
		}, cred, credName),
		MongoDB:                              mongodb.NewPool(mongoDefaults),
		ReplicationWait:                      replicationWait,
		Environment:                          az.Environment,
		VaultDNSSuffix:                       env.vaultDNSSuffix,
		DefaultTenantID:                      az.TenantID,
		DisableChallengeResourceVerification: kv.DisableChallengeResourceVerification.ValueBool(),
		Now:                                  p.now,
	}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.EphemeralResourceData = data
	resp.ActionData = data
	resp.ListResourceData = data
}

// unknownAttributes lists the top-level provider attributes that are, or
// contain, values unknown at plan time.
func unknownAttributes(config tftypes.Value) []string {
	var attrs map[string]tftypes.Value
	if err := config.As(&attrs); err != nil {
		return nil
	}
	var out []string
	for name, v := range attrs {
		if !v.IsFullyKnown() {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func (p *seguraProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewDeviceResource,
		NewCredentialResource,
		NewRotationPolicyResource,
		NewDSMScopeResource,
		NewDSMApplicationResource,
		NewKeyVaultSyncResource,
		NewCredentialRotationResource,
	}
}

// EphemeralResources lists the ephemeral resources (Terraform >= 1.10).
func (p *seguraProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		NewCredentialCheckoutEphemeralResource,
	}
}

// Actions are served to Terraform >= 1.14; older releases and OpenTofu
// never ask for them and get everything else as before.
func (p *seguraProvider) Actions(context.Context) []func() action.Action {
	return []func() action.Action{NewRotateAction}
}

// ListResources are served to `terraform query` (Terraform >= 1.14).
func (p *seguraProvider) ListResources(context.Context) []func() list.ListResource {
	return []func() list.ListResource{NewCredentialList, NewKeyVaultSyncList}
}

func (p *seguraProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewCredentialHistoryDataSource}
}
