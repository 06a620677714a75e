// Package provider implements the segura Terraform provider with
// terraform-plugin-framework.
package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

var _ provider.Provider = (*seguraProvider)(nil)

type seguraProvider struct {
	version string
}

// New returns a constructor for the provider, as providerserver.Serve expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &seguraProvider{version: version}
	}
}

func (p *seguraProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "segura"
	resp.Version = p.version
}

func (p *seguraProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Rotates MongoDB credentials and keeps Azure Key Vault secrets in step with them.",
	}
}

func (p *seguraProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *seguraProvider) Resources(context.Context) []func() resource.Resource {
	return nil
}

func (p *seguraProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}
