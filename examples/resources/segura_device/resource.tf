# A standalone server over TLS, checked with an unauthenticated `hello` when created.
resource "segura_device" "orders_db" {
  name            = "orders-db-prod"
  address         = "orders-db.internal.example.com"
  tls             = true
  site            = "westeurope"
  vendor          = "MongoDB Inc."
  model           = "MongoDB 8.0 Community"
  probe_on_create = true

  tags = {
    team = "payments"
  }
}

# A replica set over TLS with a private CA.
resource "segura_device" "inventory_rs" {
  name        = "inventory-rs-prod"
  hosts       = ["mongo-0.internal.example.com", "mongo-1.internal.example.com", "mongo-2.internal.example.com"]
  port        = 27017
  replica_set = "rs0"
  tls         = true
  tls_ca_file = "/etc/ssl/certs/internal-ca.pem"
}

# A mongodb+srv:// seed list (TLS on by default), with options for the
# connection strings applications get.
resource "segura_device" "payments_rs" {
  name        = "payments-rs-prod"
  srv_host    = "payments-rs.db.internal.example.com"
  tls_ca_file = "/etc/ssl/certs/internal-ca.pem"

  options = {
    retryWrites = "false"
    w           = "majority"
  }
}
