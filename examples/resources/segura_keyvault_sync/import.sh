# Import a binding by the secret's versionless id. Key Vault does not record
# which credential and application the binding links; the next apply takes
# them from the configuration without writing to the secret.
terraform import segura_keyvault_sync.orders_app_password https://kv-orders-prod.vault.azure.net/secrets/orders-db-password
