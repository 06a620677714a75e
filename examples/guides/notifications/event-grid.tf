# Key Vault publishes its events to Event Grid through a system topic of the
# vault. Two subscriptions: every new version of a bound secret (a rotation,
# or its roll-back, wrote it) goes to the consumers' restart hook; a bound
# secret near or past its expiry goes to the team that runs the rotation
# pipeline. Written for the azurerm provider, next to the segura resources of
# the configuration (segura_keyvault_sync.orders_db_password and friends).

variable "resource_group_name" {
  type = string
}

variable "location" {
  type = string
}

variable "key_vault_resource_id" {
  description = "Resource id of the vault the bound secrets live in."
  type        = string
}

variable "restart_webhook_url" {
  description = "Endpoint that restarts or notifies the consumers (an Azure Function, a Logic App, an Automation webhook, ...)."
  type        = string
}

variable "oncall_webhook_url" {
  description = "Endpoint that alerts the team when a bound secret nears or passes its expiry."
  type        = string
}

locals {
  # The bound secrets' names: the subject of a Key Vault event is the name of
  # the secret. The escrow secret (<primary>-escrow) is left out on purpose:
  # its versions are staging copies no consumer reads.
  bound_secrets = [
    segura_keyvault_sync.orders_db_password.secret_name,
    segura_keyvault_sync.orders_db_uri.secret_name,
  ]
}

resource "azurerm_eventgrid_system_topic" "orders_kv" {
  name                = "orders-kv-events"
  resource_group_name = var.resource_group_name
  location            = var.location
  source_resource_id  = var.key_vault_resource_id
  topic_type          = "Microsoft.KeyVault.vaults"
}

resource "azurerm_eventgrid_system_topic_event_subscription" "rotated" {
  name                 = "orders-db-password-rotated"
  system_topic         = azurerm_eventgrid_system_topic.orders_kv.name
  resource_group_name  = var.resource_group_name
  included_event_types = ["Microsoft.KeyVault.SecretNewVersionCreated"]

  advanced_filter {
    string_in {
      key    = "subject"
      values = local.bound_secrets
    }
  }

  webhook_endpoint {
    url = var.restart_webhook_url
  }

  retry_policy {
    max_delivery_attempts = 30
    event_time_to_live    = 1440
  }
}

resource "azurerm_eventgrid_system_topic_event_subscription" "expiring" {
  name                 = "orders-db-password-expiring"
  system_topic         = azurerm_eventgrid_system_topic.orders_kv.name
  resource_group_name  = var.resource_group_name
  included_event_types = ["Microsoft.KeyVault.SecretNearExpiry", "Microsoft.KeyVault.SecretExpired"]

  advanced_filter {
    string_in {
      key    = "subject"
      values = local.bound_secrets
    }
  }

  webhook_endpoint {
    url = var.oncall_webhook_url
  }
}
