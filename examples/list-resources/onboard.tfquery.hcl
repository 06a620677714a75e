# Onboarding existing credentials in bulk (Terraform >= 1.14):
#
#   terraform query                                    # what would be adopted
#   terraform query -generate-config-out=generated.tf  # resource + import blocks
#
# The generated configuration plans and imports as it is; then replace the
# literal device, credential and application objects in it with references
# to your segura_device, segura_credential and segura_dsm_application.

# MongoDB users of the device that no rotation manages yet (no secret in the
# vaults below carries their segura-credential tag).
list "segura_credential" "unmanaged" {
  provider         = segura
  include_resource = true
  config {
    device          = { id = "orders-db", name = "orders-db", address = "orders-db.example.com:27017" }
    admin_username  = "platform_admin" # needs viewUser on every database
    admin_secret_id = "https://orders.vault.azure.net/secrets/orders-admin-password"
    vault_urls      = ["https://orders.vault.azure.net/"]
  }
}

# Secrets a rotation of this provider wrote (from another workspace, or a
# state that was lost).
list "segura_keyvault_sync" "tagged" {
  provider         = segura
  include_resource = true
  config {
    vault_url   = "https://orders.vault.azure.net/"
    name_prefix = "orders-"
  }
}
