# Quickstart: rotate the password of the MongoDB user orders_app and keep two
# Key Vault secrets in step with it. `make demo` applies this against the
# local stack; README.md explains.
#
# Prerequisite (as in the integration guide): the user exists and its current
# password is already in Key Vault as the secret orders-db-password. The first
# apply logs in with that password, then rotates it.

terraform {
  required_version = ">= 1.11"
  required_providers {
    segura = {
      source = "segura-community/segura"
    }
  }
}

provider "segura" {
  tenant_id      = var.tenant_id
  client_id      = var.client_id
  client_secret  = var.client_secret
  authority_host = var.authority_host

  key_vault = {
    ca_cert_file                            = var.key_vault_ca_cert_file
    disable_challenge_resource_verification = var.emulated_key_vault
  }

  mongodb = {
    connect_timeout          = "5s"
    server_selection_timeout = "10s"
  }
}

# 1. The managed system: one MongoDB server. The probe checks it answers
#    (an unauthenticated `hello`) when the device is created.
resource "segura_device" "orders_db" {
  name            = "orders-db"
  address         = var.mongodb_address
  site            = "local"
  vendor          = "FerretDB"
  model           = "FerretDB 1.24 (MongoDB wire protocol)"
  probe_on_create = true
}

# 2. The managed account on it. Without a `parent`, the account changes its
#    own password, logging in with the current one from Key Vault.
resource "segura_credential" "orders_app" {
  device        = segura_device.orders_db # the whole resource, not its id
  username      = "orders_app"
  auth_database = "admin"
  mechanism     = "SCRAM-SHA-256"
  description   = "Used by the orders API"
}

# 3. When and how: due at the first weekday 02:00 Berlin time at least 30
#    days after the last rotation (the next apply from then on rotates), and
#    never older than 45 days; 32 characters from every class.
resource "segura_rotation_policy" "monthly" {
  name             = "database-monthly"
  frequency_days   = 30
  allowed_times    = ["02:00"]
  allowed_weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]
  time_zone        = "Europe/Berlin"
  max_age_days     = 45

  password_length      = 32
  password_min_symbols = 1
}

# 4. A DevOps Secret Manager scope: system + environment. Its tags are
#    stamped on every secret version the rotation writes.
resource "segura_dsm_scope" "orders" {
  name        = "orders-demo"
  system      = "orders"
  environment = "demo"

  tags = {
    owner = "orders-team"
  }
}

# 5. The Key Vaults the secrets live in, reached with the provider's
#    credential. Creating an application checks the vault answers and lets
#    the provider list secrets.
resource "segura_dsm_application" "orders_api" {
  name       = "orders-api"
  scope      = segura_dsm_scope.orders
  tenant_id  = var.tenant_id
  vault_name = var.vault_name
  vault_url  = var.vault_url
}

resource "segura_dsm_application" "orders_replica" {
  name       = "orders-api-replica"
  scope      = segura_dsm_scope.orders
  tenant_id  = var.tenant_id
  vault_name = var.replica_vault_name
  vault_url  = var.replica_vault_url
}

# 6. Bindings: which secret holds the credential's password, in what format.
#    The first holds the bare password and must exist already: it is the
#    password of record.
resource "segura_keyvault_sync" "orders_db_password" {
  credential  = segura_credential.orders_app
  application = segura_dsm_application.orders_api
  secret_name = "orders-db-password"
}

# The second holds a mongodb:// connection string for the application, in
# the other vault; the first rotation creates it.
resource "segura_keyvault_sync" "orders_db_uri" {
  credential        = segura_credential.orders_app
  application       = segura_dsm_application.orders_replica
  secret_name       = "orders-db-uri"
  value_format      = "connection_string"
  create_if_missing = true

  tags = {
    consumer = "orders-api"
  }
}

# 7. The rotation. Creating it rotates at once: MongoDB first (updateUser),
#    then a new version of every bound secret, then a fresh login with the new
#    password and a read-back of every secret. Later plans are empty until
#    the policy makes a rotation due (or a secret drifted); then they show an
#    in-place update with the reason.
resource "segura_credential_rotation" "orders_app" {
  credential = segura_credential.orders_app
  policy     = segura_rotation_policy.monthly
  syncs = [
    segura_keyvault_sync.orders_db_password, # the first is the primary
    segura_keyvault_sync.orders_db_uri,
  ]

  # Changing any value here rotates at the next apply, whatever the
  # schedule says: the lever for "this password leaked, rotate now".
  triggers = {
    manual = var.manual_rotation
  }
}
