# Where things are. `make demo` fills these from the local stack's
# .devstack/devstack.json through TF_VAR_* environment variables; against real
# infrastructure, put them in a *.tfvars file or your CI's variables.

variable "mongodb_address" {
  description = "host:port of the MongoDB server that holds the orders_app user."
  type        = string
}

variable "vault_name" {
  description = "Key Vault holding orders-db-password, the password the orders API reads."
  type        = string
}

variable "vault_url" {
  description = "URL of vault_name. Leave null for Azure, where it is https://<vault_name>.vault.azure.net/."
  type        = string
  default     = null
}

variable "replica_vault_name" {
  description = "A second Key Vault, e.g. in the disaster-recovery region, that gets a connection string."
  type        = string
}

variable "replica_vault_url" {
  description = "URL of replica_vault_name; null for Azure."
  type        = string
  default     = null
}

variable "manual_rotation" {
  description = "Any value; setting a new one rotates the password at the next apply. make demo ROTATE=1 does."
  type        = string
  default     = "initial"
}

# How the provider signs in to Microsoft Entra ID. In CI prefer OIDC or a
# managed identity (see examples/provider); a client secret keeps this short.

variable "tenant_id" {
  type = string
}

variable "client_id" {
  type = string
}

variable "client_secret" {
  type      = string
  sensitive = true
}

variable "authority_host" {
  description = "Entra ID endpoint; null for the public cloud."
  type        = string
  default     = null
}

variable "key_vault_ca_cert_file" {
  description = "Extra CA bundle to trust for Key Vault and Entra ID; null for Azure."
  type        = string
  default     = null
}

variable "emulated_key_vault" {
  description = "true only for the local stack's emulator, whose vaults are not on a Key Vault domain."
  type        = bool
  default     = false
}
