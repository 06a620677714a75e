# Check the current password out for a downstream provider or a write-only
# argument, without it ever entering plan or state. The first checkout after
# a rotation is recorded on the secret, so a policy's
# rotate_after_exposure_hours makes the next rotation due that long after it.
#
# Pass the rotation, not the binding: the checkout then opens after the
# rotation, so in an apply that rotates, consumers get the new password.
ephemeral "segura_credential_checkout" "orders_app" {
  rotation = segura_credential_rotation.orders_app
}

locals {
  # Usable wherever Terraform accepts ephemeral values: provider blocks,
  # write-only arguments, other ephemeral resources.
  orders_app_password = ephemeral.segura_credential_checkout.orders_app.password
}
