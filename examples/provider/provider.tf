# With nothing configured, the provider authenticates to Azure like the
# azurerm provider: ARM_* environment variables, then azidentity's default
# chain (workload identity, managed identity, Azure CLI).
provider "segura" {}

# A service principal from CI, with OIDC (workload identity federation):
#   ARM_TENANT_ID, ARM_CLIENT_ID, ARM_USE_OIDC=true and ARM_OIDC_TOKEN_FILE_PATH
# set by the pipeline. The same, written out:
provider "segura" {
  alias                = "ci"
  tenant_id            = "00000000-0000-0000-0000-000000000000"
  client_id            = "11111111-1111-1111-1111-111111111111"
  use_oidc             = true
  oidc_token_file_path = "/var/run/secrets/azure/tokens/azure-identity-token"

  key_vault = {
    max_retries     = 5
    retry_delay     = "2s"
    max_retry_delay = "30s"
  }

  mongodb = {
    connect_timeout          = "5s"
    server_selection_timeout = "10s"
    ca_cert_file             = "/etc/ssl/certs/internal-ca.pem"
  }
}

# A managed identity in the US government cloud.
provider "segura" {
  alias       = "usgov"
  use_msi     = true
  environment = "usgovernment"
}
