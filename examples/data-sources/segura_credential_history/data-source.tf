# In the configuration that rotates: the history after this apply's rotation,
# for `terraform output orders_app_rotations`.
data "segura_credential_history" "orders_app" {
  secret_ids = [
    segura_keyvault_sync.orders_db_password.id, # the primary first
    segura_keyvault_sync.orders_db_uri.id,
  ]
  limit = 20

  # Read after the rotation when this apply rotates; otherwise at plan.
  depends_on = [segura_credential_rotation.orders_app]
}

output "orders_app_rotations" {
  value = data.segura_credential_history.orders_app.rotations
}

# In an auditor's own configuration, with an identity that has only the
# "list" permission on the vault (it can read no value): the secret ids are
# enough.
provider "segura" {
  alias = "audit"
}

data "segura_credential_history" "audit" {
  provider   = segura.audit
  secret_ids = ["https://orders-kv.vault.azure.net/secrets/orders-db-password"]
}

output "audit" {
  value = {
    total     = data.segura_credential_history.audit.total
    rotations = data.segura_credential_history.audit.rotations
  }
}
