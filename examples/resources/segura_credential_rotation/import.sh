# Import by the primary secret's versionless id. The rotation history
# (last rotation, count) is rebuilt from the tags on the secret's versions.
# The first plan after import checks every configured binding: versions the
# last rotation wrote are adopted (no rotation), anything else is drift.
terraform import segura_credential_rotation.orders_app https://orders-kv.vault.azure.net/secrets/orders-app-password
