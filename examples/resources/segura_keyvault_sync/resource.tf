resource "segura_device" "orders_db" {
  name    = "orders-db-prod"
  address = "orders-db.internal.example.com"
}

resource "segura_credential" "orders_app" {
  device   = segura_device.orders_db
  username = "orders_app"
}

resource "segura_dsm_scope" "orders_prod" {
  name        = "orders-prod"
  system      = "orders"
  environment = "production"
}

resource "segura_dsm_application" "orders_api" {
  name       = "orders-api-prod"
  scope      = segura_dsm_scope.orders_prod
  tenant_id  = "00000000-0000-0000-0000-000000000000"
  vault_name = "kv-orders-prod"
}

# The secret "orders-db-password" must already exist in the vault.
resource "segura_keyvault_sync" "orders_app_password" {
  credential  = segura_credential.orders_app # whole objects, not ids
  application = segura_dsm_application.orders_api
  secret_name = "orders-db-password"
}

# A connection string for the application, created by the first rotation.
resource "segura_keyvault_sync" "orders_app_uri" {
  credential        = segura_credential.orders_app
  application       = segura_dsm_application.orders_api
  secret_name       = "orders-db-uri"
  value_format      = "connection_string"
  create_if_missing = true

  tags = {
    consumer = "orders-api"
  }
}
