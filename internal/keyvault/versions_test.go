package keyvault

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

// TestSecretVersionsOfAMissingSecret: a secret that does not exist is
// ErrSecretNotFound whether the vault lists it as empty (the service, and the
// emulator, per the recording GetSecretVersionsNonExisting.json) or answers
// 404 (a deployment that still does), and whether it never existed, is
// soft-deleted or was purged.
func TestSecretVersionsOfAMissingSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.vault(t, Identity{})
	ctx := context.Background()

	check := func(t *testing.T, what string, wantCause string) {
		t.Helper()
		versions, err := v.SecretVersions(ctx, testSecretName)
		if !errors.Is(err, ErrSecretNotFound) {
			t.Fatalf("%s: want ErrSecretNotFound, got %d versions and %T %v", what, len(versions), err, err)
		}
		if versions != nil {
			t.Errorf("%s: %d versions returned with the error", what, len(versions))
		}
		var reqErr *RequestError
		if !errors.As(err, &reqErr) {
			t.Errorf("%s: want a *RequestError, got %T", what, err)
		}
		for _, want := range []string{f.vaultURL, `list secret "` + testSecretName + `"`, wantCause} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", what, err, want)
			}
		}
	}

	t.Run("empty list", func(t *testing.T) {
		check(t, "never created", "no such secret")
		if _, err := v.SetSecretValue(ctx, testSecretName, SecretWrite{Value: "v1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Client().DeleteSecret(ctx, testSecretName, nil); err != nil {
			t.Fatal(err)
		}
		check(t, "soft-deleted", "no such secret")
		if _, err := v.Client().PurgeDeletedSecret(ctx, testSecretName, nil); err != nil {
			t.Fatal(err)
		}
		check(t, "purged", "no such secret")
	})

	t.Run("404", func(t *testing.T) {
		id := f.emu.InjectFault(kvemulator.Fault{Vault: testVaultName, Method: "GET", Path: "^/secrets/" + testSecretName + "/versions$", Count: 1,
			Action: kvemulator.FaultStatus, Status: 404, Code: "SecretNotFound", Message: "A secret with (name/id) " + testSecretName + " was not found in this key vault."})
		defer f.emu.RemoveFault(id)
		check(t, "a deployment answering 404", "HTTP 404 SecretNotFound")
	})
}

// TestSecretVersionsPaging: every page counts, including an empty first page
// that carries a nextLink (the service may send those), so a listing is
// empty only when no page had a version.
func TestSecretVersionsPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.vault(t, Identity{})
	ctx := context.Background()
	const n = 30 // more than one page of 25
	for i := range n {
		if _, err := v.Client().SetSecret(ctx, testSecretName, azsecrets.SetSecretParameters{Value: to.Ptr("v" + strconv.Itoa(i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	versions, err := v.SecretVersions(ctx, testSecretName)
	if err != nil || len(versions) != n {
		t.Fatalf("%d versions, %v; want %d", len(versions), err, n)
	}
	seen := map[string]bool{}
	for _, s := range versions {
		if s.Status != SecretExists || s.Version == "" || s.ID != f.vaultURL+"secrets/"+testSecretName || seen[s.Version] {
			t.Errorf("version %+v", s)
		}
		seen[s.Version] = true
	}

	id := f.emu.InjectFault(kvemulator.Fault{Vault: testVaultName, Method: "GET", Path: "^/secrets/" + testSecretName + "/versions$", Count: 1,
		Action: kvemulator.FaultBody, Status: 200, ContentType: "application/json; charset=utf-8",
		Body: `{"value":[],"nextLink":"` + f.vaultURL + `secrets/` + testSecretName + `/versions?api-version=7.4"}`})
	defer f.emu.RemoveFault(id)
	versions, err = v.SecretVersions(ctx, testSecretName)
	if err != nil || len(versions) != n {
		t.Fatalf("after an empty first page with a nextLink: %d versions, %v; want %d", len(versions), err, n)
	}
}

// TestSecretVersionsNeedsList: a missing "list" permission is an access
// error, not a missing secret.
func TestSecretVersionsNeedsList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.vault(t, Identity{TenantID: f.emu.TenantID(), ClientID: getOnlyID, ClientSecret: getOnlySecret})
	_, err := v.SecretVersions(context.Background(), testSecretName)
	var accessErr *AccessError
	if !errors.As(err, &accessErr) || accessErr.Permission != "list" || errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("want an *AccessError for list, got %T %v", err, err)
	}
}
