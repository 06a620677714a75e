# Break-glass rotation without a configuration change (Terraform >= 1.14):
#
#   terraform apply -invoke=action.segura_rotate.orders_app
#
# The next refresh of segura_credential_rotation.orders_app adopts the
# rotation as its own, so the plan after it is empty.
action "segura_rotate" "orders_app" {
  config {
    rotation = segura_credential_rotation.orders_app
    reason   = "INC-1234: password seen in a build log"
  }
}
