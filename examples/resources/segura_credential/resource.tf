resource "segura_device" "orders_db" {
  name    = "orders-db-prod"
  address = "orders-db.internal.example.com"
}

# An administrator that may change other users' passwords.
resource "segura_credential" "admin" {
  device      = segura_device.orders_db # the whole resource, not its id
  username    = "segura_admin"
  description = "Rotation account with changePassword on every database"
}

# The application's account: its password is changed by the administrator.
resource "segura_credential" "orders_app" {
  device        = segura_device.orders_db
  username      = "orders_app"
  auth_database = "orders"
  mechanism     = "SCRAM-SHA-256"
  parent        = segura_credential.admin
  description   = "Used by the orders API"

  tags = {
    owner = "orders-team"
  }
}
