# Import a binding by the secret's versionless id (or, on Terraform >= 1.12,
# by identity: vault_url and secret_name). Key Vault does not record which
# credential and application the binding links, nor whether it may be
# missing: the first plan after import shows those as an in-place update
# (value_format and content_type are taken from the secret's content type),
# and the apply takes them from the configuration without writing to the
# secret.
terraform import segura_keyvault_sync.orders_app_password https://kv-orders-prod.vault.azure.net/secrets/orders-db-password
