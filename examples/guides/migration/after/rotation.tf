# Step 4, when you choose: the first rotation. Creating this resource
# rotates at once: it logs in with the password the secret holds (the one
# random_password generated), sets a new one in MongoDB and writes it as a
# new version of the secret. From then on the policy decides.
resource "segura_rotation_policy" "monthly" {
  name           = "database-monthly"
  frequency_days = 30
  max_age_days   = 45
}

resource "segura_credential_rotation" "orders_app" {
  credential = segura_credential.orders_app
  policy     = segura_rotation_policy.monthly
  syncs      = [segura_keyvault_sync.orders_db]

  # Change it to rotate at the next apply, whatever the policy says.
  triggers = {
    manual = var.manual_rotation
  }
}

variable "manual_rotation" {
  type    = string
  default = "0"
}
