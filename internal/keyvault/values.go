package keyvault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// The rotation engine reads and writes secret values through these methods.
// Values stay in memory only: they never reach errors, and callers must keep
// them out of logs and state.

// ErrSecretNotFound is wrapped by errors of reads of a secret (or version)
// that does not exist, and of SecretVersions when a secret has no versions.
var ErrSecretNotFound = errors.New("secret not found")

// SecretValue is one version of a secret: its properties and its value.
type SecretValue struct {
	Secret
	Value string
}

// SecretWrite is a new version to set.
type SecretWrite struct {
	Value       string
	ContentType string
	Tags        map[string]string
	// Expires sets the version's "exp" attribute so Azure's near-expiry
	// events fire; zero leaves it unset.
	Expires time.Time
}

// GetSecretValue reads version of secret name; version "" is the latest.
// It needs the "get" permission.
func (v *Vault) GetSecretValue(ctx context.Context, name, version string) (SecretValue, error) {
	if err := v.pace(ctx, budgetOther); err != nil {
		return SecretValue{}, v.classify(err, "get", name)
	}
	resp, err := v.client.GetSecret(ctx, name, version, nil)
	if err != nil {
		if isNotFound(err) {
			return SecretValue{}, &notFoundError{v.classify(err, "get", name)}
		}
		return SecretValue{}, v.classify(err, "get", name)
	}
	if resp.Value == nil || resp.ID == nil {
		// A 200 without a value is not Key Vault's answer to a get.
		return SecretValue{}, &RequestError{Vault: v.URL, Operation: fmt.Sprintf("get secret %q", name),
			Err: errors.New("the response has no value or id; check that the vault URL points at Key Vault and no proxy rewrites its answers")}
	}
	out := SecretValue{Secret: v.secretFrom(name, resp.ID, resp.Attributes, resp.ContentType, resp.Tags)}
	out.Value = *resp.Value
	return out, nil
}

// SetSecretValue writes a new version of secret name and returns its
// properties. It needs the "set" permission. It is the one call paced on the
// vault's create budget (Options.CreatesPer10s).
func (v *Vault) SetSecretValue(ctx context.Context, name string, w SecretWrite) (Secret, error) {
	params := azsecrets.SetSecretParameters{Value: &w.Value, Tags: toAzureTags(w.Tags)}
	if w.ContentType != "" {
		params.ContentType = &w.ContentType
	}
	if !w.Expires.IsZero() {
		exp := w.Expires.UTC()
		params.SecretAttributes = &azsecrets.SecretAttributes{Expires: &exp}
	}
	if err := v.pace(ctx, budgetCreate); err != nil {
		return Secret{}, v.classify(err, "set", name)
	}
	resp, err := v.client.SetSecret(ctx, name, params, nil)
	if err != nil {
		return Secret{}, v.classify(err, "set", name)
	}
	return v.secretFrom(name, resp.ID, resp.Attributes, resp.ContentType, resp.Tags), nil
}

// UpdateSecretVersion changes a version's tags and enabled flag (nil leaves
// it as is). It needs the "set" permission. Updating properties (the escrow's
// disable included) is an other transaction for Key Vault, not a create, so
// it is paced on the other budget.
func (v *Vault) UpdateSecretVersion(ctx context.Context, name, version string, tags map[string]string, enabled *bool) error {
	params := azsecrets.UpdateSecretPropertiesParameters{}
	if tags != nil {
		params.Tags = toAzureTags(tags)
	}
	if enabled != nil {
		params.SecretAttributes = &azsecrets.SecretAttributes{Enabled: enabled}
	}
	if err := v.pace(ctx, budgetOther); err != nil {
		return v.classify(err, "set", name)
	}
	if _, err := v.client.UpdateSecretProperties(ctx, name, version, params, nil); err != nil {
		return v.classify(err, "set", name)
	}
	return nil
}

// SecretVersions lists the properties of every version of secret name, in
// the order the vault returns them (not sorted). It needs "list".
//
// When the vault has no live secret of that name (never set, purged, or
// soft-deleted) the error wraps ErrSecretNotFound, whichever way the vault
// says so: Key Vault answers 200 with an empty list (recorded in the Azure
// SDK for .NET's GetSecretVersionsNonExisting.json, see internal/kvemulator),
// while other deployments and older emulators answer 404 SecretNotFound. A
// live secret always has at least one version (disabled ones are listed
// too), so an empty listing can mean nothing else. Pages may be empty and
// still carry a nextLink; only the whole listing counts.
func (v *Vault) SecretVersions(ctx context.Context, name string) ([]Secret, error) {
	var out []Secret
	pager := v.client.NewListSecretPropertiesVersionsPager(name, nil)
	for pager.More() {
		if err := v.pace(ctx, budgetOther); err != nil {
			return nil, v.classify(err, "list", name)
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			if isNotFound(err) {
				return nil, &notFoundError{v.classify(err, "list", name)}
			}
			return nil, v.classify(err, "list", name)
		}
		for _, p := range page.Value {
			if p == nil {
				continue
			}
			out = append(out, v.secretFrom(name, p.ID, p.Attributes, p.ContentType, p.Tags))
		}
	}
	if len(out) == 0 {
		return nil, &notFoundError{&RequestError{Vault: v.URL, Operation: fmt.Sprintf("list secret %q", name), Err: errNoVersions}}
	}
	return out, nil
}

// errNoVersions is why an empty version listing is a missing secret.
var errNoVersions = errors.New("the vault lists no version of it, so it has no such secret (never created, purged, or soft-deleted)")

// ListSecrets lists every secret in the vault with its current version's
// properties (tags, content type, attributes), in the vault's order. The
// list API names no version, so Version is empty. It needs "list".
func (v *Vault) ListSecrets(ctx context.Context) ([]Secret, error) {
	var out []Secret
	pager := v.client.NewListSecretPropertiesPager(nil)
	for pager.More() {
		if err := v.pace(ctx, budgetOther); err != nil {
			return nil, v.classify(err, "list", "")
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, v.classify(err, "list", "")
		}
		for _, p := range page.Value {
			if p == nil || p.ID == nil || (p.Managed != nil && *p.Managed) {
				continue // certificates' backing secrets are not ours to bind
			}
			s := v.secretFrom(p.ID.Name(), nil, p.Attributes, p.ContentType, p.Tags)
			out = append(out, s)
		}
	}
	return out, nil
}

// secretFrom turns the properties azsecrets returns into a Secret.
func (v *Vault) secretFrom(name string, id *azsecrets.ID, attrs *azsecrets.SecretAttributes, contentType *string, tags map[string]*string) Secret {
	out := Secret{Status: SecretExists, ID: SecretID(v.URL, name), Enabled: true, Tags: map[string]string{}}
	if id != nil {
		out.Version = id.Version()
	}
	if contentType != nil {
		out.ContentType = *contentType
	}
	if attrs != nil {
		out.Enabled = attrs.Enabled == nil || *attrs.Enabled
		if attrs.Updated != nil {
			out.Updated = *attrs.Updated
		}
		if attrs.Created != nil {
			out.Created = *attrs.Created
		}
		if attrs.Expires != nil {
			out.Expires = *attrs.Expires
		}
	}
	for k, val := range tags {
		if val != nil {
			out.Tags[k] = *val
		}
	}
	return out
}

func toAzureTags(tags map[string]string) map[string]*string {
	if tags == nil {
		return nil
	}
	out := make(map[string]*string, len(tags))
	for k, val := range tags {
		out[k] = &val
	}
	return out
}

// notFoundError marks a classified error as "not found" for errors.Is.
type notFoundError struct{ error }

func (e *notFoundError) Unwrap() error { return e.error }

func (e *notFoundError) Is(target error) bool { return target == ErrSecretNotFound }
