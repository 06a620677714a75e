resource "segura_dsm_scope" "orders_prod" {
  name        = "orders-prod"
  system      = "orders"
  environment = "production"
  description = "Secrets of the orders service in production"

  # Stamped on every secret version synced through this scope.
  tags = {
    cost-center = "4711"
    owner       = "orders-team"
  }
}
