# After the migration: the same secret, bound to the MongoDB account whose
# password it holds. Nothing here writes the secret or changes MongoDB; the
# first rotation is step 4 (rotation.tf), when you choose.

terraform {
  required_version = ">= 1.11"
  required_providers {
    segura = {
      source = "segura-community/segura"
    }
  }
}

provider "segura" {}

variable "tenant_id" {
  type = string
}

variable "vault_name" {
  type = string
}

variable "vault_url" {
  description = "https://<vault_name>.vault.azure.net/, with the trailing slash."
  type        = string
}

variable "secret_name" {
  type    = string
  default = "orders-db-password"
}

variable "mongodb_address" {
  type = string
}

variable "username" {
  type    = string
  default = "orders_app"
}

resource "segura_device" "orders_db" {
  name    = "orders-db"
  address = var.mongodb_address
}

resource "segura_credential" "orders_app" {
  device   = segura_device.orders_db
  username = var.username
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

# The secret azurerm_key_vault_secret.orders_db wrote, imported by
# migrate.tf. content_type matches what azurerm wrote, so the import plans no
# change to it.
resource "segura_keyvault_sync" "orders_db" {
  credential   = segura_credential.orders_app
  application  = segura_dsm_application.orders
  secret_name  = var.secret_name
  content_type = "text/plain"
}
