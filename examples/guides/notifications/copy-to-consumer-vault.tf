# A consumer that cannot read the credential's own vault gets its own copy,
# written by another provider's write-only argument. rotation_count changes
# exactly when a rotation changes the password (unknown in a plan that
# rotates), so as value_wo_version it makes azurerm send the new password
# once after each rotation and never otherwise. The checkout is given the
# rotation, so Terraform opens it after the rotation in the same apply, and
# neither the password nor the copy's value is ever in plan or state.

variable "consumer_key_vault_id" {
  description = "Resource id of the consumer's Key Vault."
  type        = string
}

variable "consumer_secret_name" {
  type    = string
  default = "orders-db-password"
}

ephemeral "segura_credential_checkout" "orders_app" {
  rotation = segura_credential_rotation.orders_app
  # A copy made by a pipeline is not a person seeing the password: do not
  # start the policy's rotate_after_exposure_hours clock on every apply.
  mark_exposure = false
}

resource "azurerm_key_vault_secret" "orders_db_copy" {
  name             = var.consumer_secret_name
  key_vault_id     = var.consumer_key_vault_id
  content_type     = "text/plain"
  value_wo         = ephemeral.segura_credential_checkout.orders_app.password
  value_wo_version = segura_credential_rotation.orders_app.rotation_count
}
