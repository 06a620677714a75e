# What the last rotation did. No password is ever in state or outputs.

output "rotation_id" {
  description = "Id of the last rotation, also tagged on every version it wrote."
  value       = segura_credential_rotation.orders_app.last_rotation_id
}

output "rotation_reason" {
  value = segura_credential_rotation.orders_app.last_rotation_reason
}

output "rotation_count" {
  value = segura_credential_rotation.orders_app.rotation_count
}

output "last_rotated_at" {
  value = segura_credential_rotation.orders_app.last_rotated_at
}

output "next_rotation_at" {
  value = segura_credential_rotation.orders_app.next_rotation_at
}

output "secret_versions" {
  description = "Version written by the last rotation, by versionless secret id."
  value       = segura_credential_rotation.orders_app.secret_versions
}
