# Import by the primary secret's versionless id (or, on Terraform >= 1.12, by
# identity: vault_url and secret_name). The rotation history (last rotation,
# count) is rebuilt from the tags on the secret's versions. The first plan
# after import checks every configured binding: versions the last rotation
# wrote are adopted (no rotation), anything else is drift. That plan shows an
# in-place update of what Key Vault does not record (the credential, policy
# and syncs links, escrow_secret_name, next_rotation_at) and the adopted
# secret_versions; its apply writes nothing, and the plan after it is empty.
terraform import segura_credential_rotation.orders_app https://orders-kv.vault.azure.net/secrets/orders-app-password
