# The configuration the CI guide's pipelines run: one credential rotated
# into Key Vault, state in an azurerm backend, Azure reached by workload
# identity federation (OIDC). Nothing here is a secret: the pipeline sets
# ARM_USE_OIDC, ARM_CLIENT_ID and ARM_TENANT_ID, and GitHub Actions or the
# AzureCLI task of Azure DevOps hands over the OIDC token.

terraform {
  required_version = ">= 1.11"
  required_providers {
    segura = {
      source = "segura-community/segura"
    }
  }

  # Partial configuration: the pipeline passes the storage account with
  # -backend-config. use_oidc and use_azuread_auth reach the state blob with
  # the same federated identity (Storage Blob Data Contributor on the
  # container), so no storage account key exists anywhere.
  backend "azurerm" {
    use_oidc         = true
    use_azuread_auth = true
    key              = "segura/orders.tfstate"
  }
}

# Authenticates from ARM_USE_OIDC=true, ARM_TENANT_ID and ARM_CLIENT_ID with
# the token of ARM_OIDC_TOKEN (Azure DevOps) or of GitHub's
# ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN. No client
# secret.
provider "segura" {
  mongodb = {
    connect_timeout          = "5s"
    server_selection_timeout = "15s"
  }
}

variable "tenant_id" {
  description = "Microsoft Entra ID tenant of the Key Vault."
  type        = string
}

variable "vault_name" {
  description = "Name of the Key Vault that holds the password."
  type        = string
}

variable "vault_url" {
  description = "URL of that vault, https://<name>.vault.azure.net/."
  type        = string
}

variable "mongodb_address" {
  description = "host:port of the MongoDB server."
  type        = string
}

variable "username" {
  description = "The MongoDB user whose password is rotated."
  type        = string
  default     = "orders_app"
}

variable "secret_name" {
  description = "The Key Vault secret that holds its password (it must exist, holding the current password)."
  type        = string
  default     = "orders-db-password"
}

resource "segura_device" "orders_db" {
  name    = "orders-db"
  address = var.mongodb_address
}

resource "segura_credential" "orders_app" {
  device   = segura_device.orders_db
  username = var.username
}

# Due at the first 02:00 UTC at least 30 days after the last rotation: the
# scheduled apply at 02:05 rotates then.
resource "segura_rotation_policy" "monthly" {
  name           = "database-monthly"
  frequency_days = 30
  allowed_times  = ["02:00"]
  max_age_days   = 45
}

resource "segura_dsm_scope" "orders" {
  name        = "orders-prod"
  system      = "orders"
  environment = "prod"
}

resource "segura_dsm_application" "orders" {
  name       = "orders-api"
  scope      = segura_dsm_scope.orders
  tenant_id  = var.tenant_id
  vault_name = var.vault_name
  vault_url  = var.vault_url
}

resource "segura_keyvault_sync" "orders_db_password" {
  credential  = segura_credential.orders_app
  application = segura_dsm_application.orders
  secret_name = var.secret_name
}

resource "segura_credential_rotation" "orders_app" {
  credential = segura_credential.orders_app
  policy     = segura_rotation_policy.monthly
  syncs      = [segura_keyvault_sync.orders_db_password]
}

output "next_rotation_at" {
  value = segura_credential_rotation.orders_app.next_rotation_at
}
