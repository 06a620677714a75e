package provider

import (
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
)

// providerData is built once per provider configuration in Configure and
// handed to every resource. Its pools are safe for Terraform's parallel walk.
type providerData struct {
	// KeyVault hands out one azsecrets client per (vault URL, identity).
	KeyVault *keyvault.Pool
	// MongoDB hands out one *mongo.Client per (deployment, identity).
	MongoDB *mongodb.Pool
	// ReplicationWait is rotation.Request.MajorityWait (zero: its default).
	ReplicationWait time.Duration

	// Environment is the Azure cloud name: public, usgovernment or china.
	Environment string
	// VaultDNSSuffix builds vault URLs from names: https://<name>.<suffix>/.
	VaultDNSSuffix string
	// DefaultTenantID is the provider's tenant (configured or from the
	// environment), empty when azidentity's chain decides.
	DefaultTenantID string
	// DisableChallengeResourceVerification is set for private clouds and the
	// local stack; vault URLs must then be given explicitly.
	DisableChallengeResourceVerification bool

	// Now is the clock; tests replace it.
	Now func() time.Time

	// parentChecks remembers, for the life of the provider process (one
	// terraform command), whether a parent's password logs in, so that a
	// parent with many children is checked once per plan, not once per child.
	parentChecks sync.Map // key string -> *parentCheck
}

type parentCheck struct {
	once   sync.Once
	status rotation.ParentStatus
	err    error
}

// checkParentOnce runs check once per key and returns its result.
func (d *providerData) checkParentOnce(key string, check func() (rotation.ParentStatus, error)) (rotation.ParentStatus, error) {
	v, _ := d.parentChecks.LoadOrStore(key, &parentCheck{})
	c, _ := v.(*parentCheck) // only *parentCheck is stored
	c.once.Do(func() { c.status, c.err = check() })
	return c.status, c.err
}

// VaultURLFor returns the public-cloud style URL of a vault name in the
// provider's Azure environment.
func (d *providerData) VaultURLFor(vaultName string) string {
	return fmt.Sprintf("https://%s.%s/", vaultName, d.VaultDNSSuffix)
}

// providerDataFrom converts the value the framework hands to a resource's
// Configure. It returns nil while the provider is not configured yet (the
// framework calls Configure early during validation), which resources must
// tolerate.
func providerDataFrom(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil
	}
	d, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("The segura provider expected *providerData, got %T. This is a bug in the provider; please report it.", v))
		return nil
	}
	return d
}

// httpsURL matches an absolute https URL.
var httpsURL = regexp.MustCompile(`^https://[^/\s]+(/\S*)?$`)

// parseDurationAttr parses a validated Go duration attribute; false when it
// is null, unknown or empty.
func parseDurationAttr(v types.String) (time.Duration, bool) {
	if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v.ValueString())
	if err != nil {
		return 0, false
	}
	return d, true
}
