# Import by the primary secret's versionless id. The rotation history
# (last rotation, count) is rebuilt from the tags on the secret's versions.
terraform import segura_credential_rotation.orders_app https://orders-kv.vault.azure.net/secrets/orders-app-password
