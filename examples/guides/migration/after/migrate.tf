# Step 1 of the migration, applied once and then deleted (step 3).
#
# The removed blocks make Terraform forget the old resources without
# destroying them (Terraform >= 1.7): the secret stays in Key Vault with all
# its versions. Without them, deleting the resource blocks would plan a
# destroy, and azurerm_key_vault_secret's destroy deletes the secret.
removed {
  from = azurerm_key_vault_secret.orders_db
  lifecycle {
    destroy = false
  }
}

removed {
  from = random_password.orders_db
  lifecycle {
    destroy = false
  }
}

removed {
  from = time_rotating.orders_db
  lifecycle {
    destroy = false
  }
}

# The binding takes the existing secret over as it is: import reads its
# properties and writes nothing.
import {
  to = segura_keyvault_sync.orders_db
  id = "${var.vault_url}secrets/${var.secret_name}"
}

# The old provider stays configured until the removed blocks are applied:
# Terraform still reads its resources' state. (random and time need no
# configuration; the three need no required_providers entry either, since
# their resource types name them.)
provider "azurerm" {
  features {}
}
