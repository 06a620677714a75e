package provider

// Resource identity (Terraform >= 1.12; OpenTofu 1.12 too): an object that
// names the remote thing a resource manages, so that
//
//	import {
//	  to       = segura_keyvault_sync.orders
//	  identity = { vault_url = "https://orders.vault.azure.net/", secret_name = "orders-db-password" }
//	}
//
// works without composing an id string. A Key Vault sync and a rotation are
// both identified by a secret: the bound secret, and the rotation's primary
// secret. Older Terraform releases never send or ask for identities and
// import by id as before.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

// secretIdentityModel is the identity of a resource that is known by one Key
// Vault secret.
type secretIdentityModel struct {
	VaultURL   types.String `tfsdk:"vault_url"`
	SecretName types.String `tfsdk:"secret_name"`
}

func secretIdentitySchema(secret string) identityschema.Schema {
	return identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"vault_url": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "URL of the vault that holds " + secret + ", e.g. `https://orders.vault.azure.net/`.",
			},
			"secret_name": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "Name of " + secret + ".",
			},
		},
	}
}

// secretIdentity is the identity of the secret with versionless id; ok is
// false while the id is not known.
func secretIdentity(id types.String) (secretIdentityModel, bool) {
	if id.IsNull() || id.IsUnknown() {
		return secretIdentityModel{}, false
	}
	vaultURL, name, err := keyvault.ParseSecretID(id.ValueString())
	if err != nil {
		return secretIdentityModel{}, false
	}
	return secretIdentityModel{VaultURL: types.StringValue(vaultURL), SecretName: types.StringValue(name)}, true
}

// setSecretIdentity records the identity of the secret with versionless id
// (nothing while it is unknown, or when the caller has no identity to set).
func setSecretIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, id types.String) diag.Diagnostics {
	m, ok := secretIdentity(id)
	if identity == nil || !ok {
		return nil
	}
	return identity.Set(ctx, m)
}

// importSecretID returns the versionless secret id an import names: the
// import id (`terraform import`, or an import block's `id`), else the
// identity (an import block's `identity`).
func importSecretID(ctx context.Context, req resource.ImportStateRequest) (string, diag.Diagnostics) {
	if req.ID != "" || req.Identity == nil {
		return req.ID, nil
	}
	var m secretIdentityModel
	diags := req.Identity.Get(ctx, &m)
	if diags.HasError() {
		return "", diags
	}
	if m.VaultURL.ValueString() == "" || m.SecretName.ValueString() == "" {
		diags.AddError("Incomplete import identity", "the identity must set both vault_url and secret_name.")
		return "", diags
	}
	return keyvault.SecretID(m.VaultURL.ValueString(), m.SecretName.ValueString()), diags
}
