resource "segura_dsm_scope" "orders_prod" {
  name        = "orders-prod"
  system      = "orders"
  environment = "production"
}

# The vault the orders API reads its database password from, reached with the
# provider's own Azure credential. vault_url is computed from vault_name and
# the provider's environment: https://kv-orders-prod.vault.azure.net/.
resource "segura_dsm_application" "orders_api" {
  name                = "orders-api-prod"
  scope               = segura_dsm_scope.orders_prod # the whole resource, not its id
  tenant_id           = "00000000-0000-0000-0000-000000000000"
  subscription_id     = "22222222-2222-2222-2222-222222222222"
  resource_group_name = "rg-orders-prod"
  vault_name          = "kv-orders-prod"
}

# A vault that needs a service principal of its own. The write-only secret
# (Terraform >= 1.11) is never stored; bump the version after rotating it.
variable "legacy_vault_client_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "segura_dsm_application" "legacy_billing" {
  name                     = "billing-legacy"
  scope                    = segura_dsm_scope.orders_prod
  tenant_id                = "00000000-0000-0000-0000-000000000000"
  client_id                = "33333333-3333-3333-3333-333333333333"
  client_secret_wo         = var.legacy_vault_client_secret
  client_secret_wo_version = 1
  vault_name               = "kv-billing-legacy"
}
