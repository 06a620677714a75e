# Rotate orders_app's password at the first apply after the first Saturday
# 02:00 Berlin time that is 30 days or more after the last rotation, and at
# the latest 45 days after it or 8 hours after someone checked the password
# out. The first binding is the primary: its value is
# the password of record, read to log in before each rotation.
resource "segura_rotation_policy" "monthly" {
  name                        = "database-monthly"
  frequency_days              = 30
  allowed_weekdays            = ["saturday"]
  allowed_times               = ["02:00"]
  time_zone                   = "Europe/Berlin"
  max_age_days                = 45
  rotate_after_exposure_hours = 8
  password_length             = 32
  password_min_symbols        = 2
}

resource "segura_credential_rotation" "orders_app" {
  credential = segura_credential.orders_app
  policy     = segura_rotation_policy.monthly
  syncs = [
    segura_keyvault_sync.orders_app_password,   # primary
    segura_keyvault_sync.orders_app_connection, # same password, as a connection string
  ]

  # Change a value to rotate at the next apply, e.g. after an incident.
  triggers = {
    incident = "none"
  }
}

# For a first rotation when Key Vault does not hold the current password yet,
# pass it write-only from an ephemeral variable: it stays out of plan and state.
variable "orders_app_bootstrap_password" {
  type      = string
  default   = null
  sensitive = true
  ephemeral = true
}

resource "segura_credential_rotation" "reporting" {
  credential            = segura_credential.reporting
  policy                = segura_rotation_policy.monthly
  syncs                 = [segura_keyvault_sync.reporting]
  bootstrap_password_wo = var.orders_app_bootstrap_password
}

# The administrator changes its own password ...
resource "segura_credential_rotation" "admin" {
  credential = segura_credential.admin
  policy     = segura_rotation_policy.monthly
  syncs      = [segura_keyvault_sync.admin]
}

# ... and a credential with a parent is rotated by the parent. Passing the parent's
# own rotation makes Terraform rotate the parent first when both are due in
# one apply, so the child always logs in with the parent's current password.
# (For a parent whose password no rotation here manages, pass the binding
# that holds it instead: parent_sync = segura_keyvault_sync.admin.)
resource "segura_credential_rotation" "batch" {
  credential      = segura_credential.batch # has parent = segura_credential.admin
  policy          = segura_rotation_policy.monthly
  syncs           = [segura_keyvault_sync.batch]
  parent_rotation = segura_credential_rotation.admin
}
