package kvemulator_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/segura-community/terraform-provider-segura/internal/kvemulator"
)

var versionPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestSecretLifecycle(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	client, _ := s.newClient(t, clientOptions{})
	ctx := ctxFor(t)

	nbf := time.Now().Add(-time.Hour).Truncate(time.Second)
	exp := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	first, err := client.SetSecret(ctx, "orders-db", azsecrets.SetSecretParameters{
		Value:       ptr("first-value"),
		ContentType: ptr("text/plain"),
		Tags:        map[string]*string{"credential": ptr("orders_app")},
		SecretAttributes: &azsecrets.SecretAttributes{
			NotBefore: &nbf,
			Expires:   &exp,
		},
	}, nil)
	if err != nil {
		t.Fatalf("SetSecret: %v", err)
	}
	if got := *first.Value; got != "first-value" {
		t.Errorf("SetSecret value = %q", got)
	}
	if !strings.HasPrefix(string(*first.ID), s.vaultURL+"secrets/orders-db/") {
		t.Errorf("SetSecret id = %q, want under %s", *first.ID, s.vaultURL)
	}
	if v := first.ID.Version(); !versionPattern.MatchString(v) {
		t.Errorf("version %q is not 32 lower-case hex digits", v)
	}
	if first.ID.Name() != "orders-db" {
		t.Errorf("ID.Name() = %q", first.ID.Name())
	}
	attrs := first.Attributes
	if attrs == nil || !*attrs.Enabled || !attrs.NotBefore.Equal(nbf) || !attrs.Expires.Equal(exp) ||
		attrs.Created == nil || attrs.Updated == nil || *attrs.RecoveryLevel != "Recoverable+Purgeable" || *attrs.RecoverableDays != 90 {
		t.Errorf("unexpected attributes %+v", attrs)
	}
	if first.KID != nil || first.Managed != nil {
		t.Errorf("kid/managed should be absent, got %v %v", first.KID, first.Managed)
	}
	if *first.ContentType != "text/plain" || *first.Tags["credential"] != "orders_app" {
		t.Errorf("content type/tags not echoed: %v %v", *first.ContentType, first.Tags)
	}

	second, err := client.SetSecret(ctx, "orders-db", azsecrets.SetSecretParameters{Value: ptr("second-value")}, nil)
	if err != nil {
		t.Fatalf("SetSecret (second version): %v", err)
	}
	if second.ID.Version() == first.ID.Version() {
		t.Fatal("second SetSecret did not create a new version")
	}

	latest, err := client.GetSecret(ctx, "orders-db", "", nil)
	if err != nil {
		t.Fatalf("GetSecret latest: %v", err)
	}
	if *latest.Value != "second-value" || latest.ID.Version() != second.ID.Version() {
		t.Errorf("latest = %q %s, want second-value %s", *latest.Value, latest.ID.Version(), second.ID.Version())
	}
	old, err := client.GetSecret(ctx, "orders-db", first.ID.Version(), nil)
	if err != nil {
		t.Fatalf("GetSecret by version: %v", err)
	}
	if *old.Value != "first-value" || *old.Tags["credential"] != "orders_app" {
		t.Errorf("first version = %q %v", *old.Value, old.Tags)
	}

	// Update properties of the first version: new tags and content type, disabled.
	updated, err := client.UpdateSecretProperties(ctx, "orders-db", first.ID.Version(), azsecrets.UpdateSecretPropertiesParameters{
		ContentType:      ptr("application/json"),
		Tags:             map[string]*string{"rotated": ptr("yes")},
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: ptr(false)},
	}, nil)
	if err != nil {
		t.Fatalf("UpdateSecretProperties: %v", err)
	}
	if updated.Value != nil {
		t.Error("UpdateSecretProperties must not return the value")
	}
	if *updated.ContentType != "application/json" || len(updated.Tags) != 1 || *updated.Tags["rotated"] != "yes" || *updated.Attributes.Enabled {
		t.Errorf("update not applied: %v %v enabled=%v", *updated.ContentType, updated.Tags, *updated.Attributes.Enabled)
	}
	if !updated.Attributes.Expires.Equal(exp) {
		t.Errorf("attributes not in the request must stay: exp = %v", updated.Attributes.Expires)
	}
	_, err = client.GetSecret(ctx, "orders-db", first.ID.Version(), nil)
	respErr := responseError(t, err, 403, "Forbidden")
	if !strings.Contains(respErr.Error(), "Operation get is not allowed on a disabled secret.") || !strings.Contains(respErr.Error(), "SecretDisabled") {
		t.Errorf("disabled error body: %v", respErr)
	}

	// Disabling the latest version makes a versionless get fail too.
	if _, err := client.UpdateSecretProperties(ctx, "orders-db", "", azsecrets.UpdateSecretPropertiesParameters{
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: ptr(false)},
	}, nil); err != nil {
		t.Fatalf("UpdateSecretProperties latest: %v", err)
	}
	_, err = client.GetSecret(ctx, "orders-db", "", nil)
	requireResponseError(t, err, 403, "Forbidden")
	if _, err := client.UpdateSecretProperties(ctx, "orders-db", second.ID.Version(), azsecrets.UpdateSecretPropertiesParameters{
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: ptr(true)},
	}, nil); err != nil {
		t.Fatalf("re-enabling: %v", err)
	}

	// Lists carry properties, never values.
	pager := client.NewListSecretPropertiesPager(nil)
	var listed []*azsecrets.SecretProperties
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("listing secrets: %v", err)
		}
		listed = append(listed, page.Value...)
	}
	if len(listed) != 1 || string(*listed[0].ID) != s.vaultURL+"secrets/orders-db" {
		t.Fatalf("listed secrets = %+v", listed)
	}
	versions := client.NewListSecretPropertiesVersionsPager("orders-db", nil)
	seen := map[string]bool{}
	for versions.More() {
		page, err := versions.NextPage(ctx)
		if err != nil {
			t.Fatalf("listing versions: %v", err)
		}
		for _, p := range page.Value {
			seen[p.ID.Version()] = true
		}
	}
	if len(seen) != 2 || !seen[first.ID.Version()] || !seen[second.ID.Version()] {
		t.Errorf("versions listed = %v", seen)
	}

	// Soft delete.
	deleted, err := client.DeleteSecret(ctx, "orders-db", nil)
	if err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	if deleted.RecoveryID == nil || *deleted.RecoveryID != s.vaultURL+"deletedsecrets/orders-db" {
		t.Errorf("recoveryId = %v", deleted.RecoveryID)
	}
	if deleted.DeletedDate == nil || deleted.ScheduledPurgeDate == nil ||
		deleted.ScheduledPurgeDate.Sub(*deleted.DeletedDate) != 90*24*time.Hour {
		t.Errorf("deletedDate %v scheduledPurgeDate %v", deleted.DeletedDate, deleted.ScheduledPurgeDate)
	}
	if deleted.Value != nil {
		t.Error("DeleteSecret must not return the value")
	}
	_, err = client.GetSecret(ctx, "orders-db", "", nil)
	requireResponseError(t, err, 404, "SecretNotFound")
	_, err = client.SetSecret(ctx, "orders-db", azsecrets.SetSecretParameters{Value: ptr("x")}, nil)
	respErr = responseError(t, err, 409, "Conflict")
	if !strings.Contains(respErr.Error(), "deleted but recoverable state") {
		t.Errorf("conflict message: %v", respErr)
	}

	deletedPager := client.NewListDeletedSecretPropertiesPager(nil)
	page, err := deletedPager.NextPage(ctx)
	if err != nil {
		t.Fatalf("listing deleted secrets: %v", err)
	}
	if len(page.Value) != 1 || *page.Value[0].RecoveryID != s.vaultURL+"deletedsecrets/orders-db" || page.Value[0].DeletedDate == nil {
		t.Fatalf("deleted secrets = %+v", page.Value)
	}
	gotDeleted, err := client.GetDeletedSecret(ctx, "orders-db", nil)
	if err != nil {
		t.Fatalf("GetDeletedSecret: %v", err)
	}
	if gotDeleted.ID.Version() != second.ID.Version() {
		t.Errorf("deleted secret id %s", *gotDeleted.ID)
	}

	recovered, err := client.RecoverDeletedSecret(ctx, "orders-db", nil)
	if err != nil {
		t.Fatalf("RecoverDeletedSecret: %v", err)
	}
	if recovered.ID.Version() != second.ID.Version() {
		t.Errorf("recovered id %s", *recovered.ID)
	}
	again, err := client.GetSecret(ctx, "orders-db", "", nil)
	if err != nil || *again.Value != "second-value" {
		t.Fatalf("GetSecret after recover: %v", err)
	}
	_, err = client.GetDeletedSecret(ctx, "orders-db", nil)
	requireResponseError(t, err, 404, "SecretNotFound")

	// Delete and purge: the name is free again.
	if _, err := client.DeleteSecret(ctx, "orders-db", nil); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	if _, err := client.PurgeDeletedSecret(ctx, "orders-db", nil); err != nil {
		t.Fatalf("PurgeDeletedSecret: %v", err)
	}
	_, err = client.GetDeletedSecret(ctx, "orders-db", nil)
	requireResponseError(t, err, 404, "SecretNotFound")
	_, err = client.PurgeDeletedSecret(ctx, "orders-db", nil)
	requireResponseError(t, err, 404, "SecretNotFound")
	fresh, err := client.SetSecret(ctx, "orders-db", azsecrets.SetSecretParameters{Value: ptr("fresh")}, nil)
	if err != nil {
		t.Fatalf("SetSecret after purge: %v", err)
	}
	count := 0
	for versions := client.NewListSecretPropertiesVersionsPager("orders-db", nil); versions.More(); {
		page, err := versions.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		count += len(page.Value)
	}
	if count != 1 || fresh.ID.Version() == second.ID.Version() {
		t.Errorf("purged secret kept %d versions", count)
	}
}

func TestBackupRestore(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	client, _ := s.newClient(t, clientOptions{})
	ctx := ctxFor(t)

	// Values long enough that random ciphertext cannot contain one by chance
	// (a two-byte value did, once in ~140 runs).
	const value = "billing-password-version-"
	for _, v := range []string{value + "1", value + "2", value + "3"} {
		if _, err := client.SetSecret(ctx, "billing", azsecrets.SetSecretParameters{Value: ptr(v), Tags: map[string]*string{"n": ptr(v)}}, nil); err != nil {
			t.Fatalf("SetSecret: %v", err)
		}
	}
	backup, err := client.BackupSecret(ctx, "billing", nil)
	if err != nil {
		t.Fatalf("BackupSecret: %v", err)
	}
	if len(backup.Value) == 0 || strings.Contains(string(backup.Value), value+"2") {
		t.Fatalf("backup blob should be opaque, got %d bytes", len(backup.Value))
	}

	_, err = client.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: backup.Value}, nil)
	respErr := responseError(t, err, 409, "Conflict")
	if !strings.Contains(respErr.Error(), "conflict restoring") {
		t.Errorf("restore over existing secret: %v", respErr)
	}

	if _, err := client.DeleteSecret(ctx, "billing", nil); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	_, err = client.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: backup.Value}, nil)
	requireResponseError(t, err, 409, "Conflict")

	if _, err := client.PurgeDeletedSecret(ctx, "billing", nil); err != nil {
		t.Fatalf("PurgeDeletedSecret: %v", err)
	}
	restored, err := client.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: backup.Value}, nil)
	if err != nil {
		t.Fatalf("RestoreSecret: %v", err)
	}
	if restored.ID.Name() != "billing" || *restored.Tags["n"] != value+"3" {
		t.Errorf("restored = %s %v", *restored.ID, restored.Tags)
	}
	got, err := client.GetSecret(ctx, "billing", "", nil)
	if err != nil || *got.Value != value+"3" {
		t.Fatalf("GetSecret after restore: %v", err)
	}
	versions := 0
	for pager := client.NewListSecretPropertiesVersionsPager("billing", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Value {
			versions++
			v, err := client.GetSecret(ctx, "billing", p.ID.Version(), nil)
			if err != nil || *v.Value != *p.Tags["n"] {
				t.Errorf("restored version %s: %v", p.ID.Version(), err)
			}
		}
	}
	if versions != 3 {
		t.Errorf("restored %d versions, want 3", versions)
	}

	// Restorable into another vault of the same emulator.
	otherURL, err := s.emulator.AddVault("other-kv")
	if err != nil {
		t.Fatal(err)
	}
	s.emulator.SetAccessPolicy("other-kv", adminClientID, kvemulator.AllPermissions...)
	other, _ := s.newClient(t, clientOptions{vaultURL: otherURL})
	if _, err := other.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: backup.Value}, nil); err != nil {
		t.Fatalf("RestoreSecret into other vault: %v", err)
	}
	if got, err := other.GetSecret(ctx, "billing", "", nil); err != nil || !strings.HasPrefix(string(*got.ID), otherURL) {
		t.Fatalf("GetSecret from other vault: %v", err)
	}

	tampered := append([]byte(nil), backup.Value...)
	tampered[len(tampered)-1] ^= 0xff
	_, err = client.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: tampered}, nil)
	respErr = responseError(t, err, 400, "Malformed backup blob")
	if !strings.Contains(respErr.Error(), "Backup blob is corrupt.") {
		t.Errorf("tampered backup: %v", respErr)
	}

	_, err = client.BackupSecret(ctx, "missing", nil)
	requireResponseError(t, err, 404, "SecretNotFound")
}

func TestPaging(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	client, _ := s.newClient(t, clientOptions{})
	ctx := ctxFor(t)

	const secrets, versions = 31, 27
	for i := range secrets {
		if _, err := client.SetSecret(ctx, "app-"+strconv.Itoa(i), azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Fatalf("SetSecret: %v", err)
		}
	}
	wantVersions := map[string]bool{}
	for range versions {
		resp, err := client.SetSecret(ctx, "rotating", azsecrets.SetSecretParameters{Value: ptr("v")}, nil)
		if err != nil {
			t.Fatalf("SetSecret: %v", err)
		}
		wantVersions[resp.ID.Version()] = true
	}
	for i := range 12 {
		name := "gone-" + strconv.Itoa(i)
		if _, err := client.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := client.DeleteSecret(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
	}

	for _, pageSize := range []int{0, 4, 25} {
		t.Run("maxresults="+strconv.Itoa(pageSize), func(t *testing.T) {
			var perCall []policy.Policy
			effective := 25
			if pageSize > 0 {
				perCall = []policy.Policy{maxResults(pageSize)}
				effective = pageSize
			}
			paged, _ := s.newClient(t, clientOptions{perCall: perCall})

			seen := map[string]int{}
			pages := 0
			for pager := paged.NewListSecretPropertiesPager(nil); pager.More(); {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatalf("listing secrets: %v", err)
				}
				pages++
				checkPage(t, s, len(page.Value), effective, page.NextLink)
				for _, p := range page.Value {
					seen[p.ID.Name()]++
				}
			}
			if len(seen) != secrets+1 {
				t.Errorf("saw %d secrets, want %d", len(seen), secrets+1)
			}
			for name, n := range seen {
				if n != 1 || strings.HasPrefix(name, "gone-") {
					t.Errorf("secret %s listed %d times", name, n)
				}
			}
			if want := (secrets + 1 + effective - 1) / effective; pages != want {
				t.Errorf("%d pages, want %d", pages, want)
			}

			seenVersions := map[string]int{}
			for pager := paged.NewListSecretPropertiesVersionsPager("rotating", nil); pager.More(); {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatalf("listing versions: %v", err)
				}
				checkPage(t, s, len(page.Value), effective, page.NextLink)
				for _, p := range page.Value {
					seenVersions[p.ID.Version()]++
				}
			}
			for v := range wantVersions {
				if seenVersions[v] != 1 {
					t.Errorf("version %s listed %d times", v, seenVersions[v])
				}
			}
			if len(seenVersions) != versions {
				t.Errorf("saw %d versions, want %d", len(seenVersions), versions)
			}

			seenDeleted := map[string]int{}
			for pager := paged.NewListDeletedSecretPropertiesPager(nil); pager.More(); {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatalf("listing deleted secrets: %v", err)
				}
				checkPage(t, s, len(page.Value), effective, page.NextLink)
				for _, p := range page.Value {
					seenDeleted[p.ID.Name()]++
				}
			}
			if len(seenDeleted) != 12 {
				t.Errorf("saw %d deleted secrets, want 12", len(seenDeleted))
			}
			for name, n := range seenDeleted {
				if n != 1 {
					t.Errorf("deleted secret %s listed %d times", name, n)
				}
			}
		})
	}

	t.Run("maxresults out of range", func(t *testing.T) {
		paged, _ := s.newClient(t, clientOptions{perCall: []policy.Policy{maxResults(26)}})
		_, err := paged.NewListSecretPropertiesPager(nil).NextPage(ctx)
		requireResponseError(t, err, 400, "BadParameter")
	})
}

// checkPage checks a page's size and that its nextLink is absolute.
func checkPage(t *testing.T, s *stack, size, pageSize int, nextLink *string) {
	t.Helper()
	if size > pageSize || size == 0 {
		t.Errorf("page of %d items with maxresults %d", size, pageSize)
	}
	if nextLink != nil && *nextLink != "" {
		if size != pageSize {
			t.Errorf("short page of %d items before a nextLink", size)
		}
		if !strings.HasPrefix(*nextLink, s.vaultURL) || !strings.Contains(*nextLink, "api-version=2026-04-01") ||
			!strings.Contains(*nextLink, "$skiptoken=") || !strings.Contains(*nextLink, "maxresults="+strconv.Itoa(pageSize)) {
			t.Errorf("nextLink %q is not an absolute vault URL with api-version, $skiptoken and maxresults", *nextLink)
		}
	}
}

func TestInputLimits(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	client, _ := s.newClient(t, clientOptions{})
	ctx := ctxFor(t)

	manyTags := map[string]*string{}
	for i := range 16 {
		manyTags["t"+strconv.Itoa(i)] = ptr("v")
	}
	fifteenTags := map[string]*string{}
	for i := range 15 {
		fifteenTags["t"+strconv.Itoa(i)] = ptr(strings.Repeat("v", 256))
	}
	tests := []struct {
		name   string
		secret string
		params azsecrets.SetSecretParameters
		ok     bool
	}{
		{"valid name at limit", strings.Repeat("a", 127), azsecrets.SetSecretParameters{Value: ptr("v")}, true},
		{"name too long", strings.Repeat("a", 128), azsecrets.SetSecretParameters{Value: ptr("v")}, false},
		{"underscore in name", "orders_db", azsecrets.SetSecretParameters{Value: ptr("v")}, false},
		{"dot in name", "orders.db", azsecrets.SetSecretParameters{Value: ptr("v")}, false},
		{"value at 25 KB", "big", azsecrets.SetSecretParameters{Value: ptr(strings.Repeat("x", 25600))}, true},
		{"value over 25 KB", "too-big", azsecrets.SetSecretParameters{Value: ptr(strings.Repeat("x", 25601))}, false},
		{"15 tags at max length", "tagged", azsecrets.SetSecretParameters{Value: ptr("v"), Tags: fifteenTags}, true},
		{"16 tags", "too-many-tags", azsecrets.SetSecretParameters{Value: ptr("v"), Tags: manyTags}, false},
		{"tag name 513 chars", "long-tag-name", azsecrets.SetSecretParameters{Value: ptr("v"), Tags: map[string]*string{strings.Repeat("k", 513): ptr("v")}}, false},
		{"tag value 257 chars", "long-tag-value", azsecrets.SetSecretParameters{Value: ptr("v"), Tags: map[string]*string{"k": ptr(strings.Repeat("v", 257))}}, false},
		{"content type 255 chars", "ct-ok", azsecrets.SetSecretParameters{Value: ptr("v"), ContentType: ptr(strings.Repeat("c", 255))}, true},
		{"content type 256 chars", "ct-long", azsecrets.SetSecretParameters{Value: ptr("v"), ContentType: ptr(strings.Repeat("c", 256))}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.SetSecret(ctx, tc.secret, tc.params, nil)
			if tc.ok {
				if err != nil {
					t.Fatalf("SetSecret: %v", err)
				}
				return
			}
			requireResponseError(t, err, 400, "BadParameter")
			if strings.Contains(tc.secret, "long") || strings.Contains(tc.secret, "many") || strings.Contains(tc.secret, "big") {
				_, err := client.GetSecret(ctx, tc.secret, "", nil)
				requireResponseError(t, err, 404, "SecretNotFound")
			}
		})
	}

	t.Run("update checks limits too", func(t *testing.T) {
		_, err := client.UpdateSecretProperties(ctx, "tagged", "", azsecrets.UpdateSecretPropertiesParameters{Tags: manyTags}, nil)
		requireResponseError(t, err, 400, "BadParameter")
		_, err = client.UpdateSecretProperties(ctx, "tagged", "", azsecrets.UpdateSecretPropertiesParameters{ContentType: ptr(strings.Repeat("c", 256))}, nil)
		requireResponseError(t, err, 400, "BadParameter")
	})
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s := startStack(t, kvemulator.Options{})
	client, _ := s.newClient(t, clientOptions{})
	ctx := ctxFor(t)
	if _, err := client.SetSecret(ctx, "present", azsecrets.SetSecretParameters{Value: ptr("v")}, nil); err != nil {
		t.Fatal(err)
	}

	_, err := client.GetSecret(ctx, "absent", "", nil)
	respErr := responseError(t, err, 404, "SecretNotFound")
	if !strings.Contains(respErr.Error(), "A secret with (name/id) absent was not found in this key vault") {
		t.Errorf("message: %v", respErr)
	}
	_, err = client.GetSecret(ctx, "present", strings.Repeat("0", 32), nil)
	requireResponseError(t, err, 404, "SecretNotFound")
	_, err = client.UpdateSecretProperties(ctx, "absent", "", azsecrets.UpdateSecretPropertiesParameters{ContentType: ptr("x")}, nil)
	requireResponseError(t, err, 404, "SecretNotFound")
	_, err = client.DeleteSecret(ctx, "absent", nil)
	requireResponseError(t, err, 404, "SecretNotFound")
	_, err = client.GetDeletedSecret(ctx, "present", nil)
	requireResponseError(t, err, 404, "SecretNotFound")
	_, err = client.RecoverDeletedSecret(ctx, "present", nil)
	requireResponseError(t, err, 404, "SecretNotFound")
	_, err = client.PurgeDeletedSecret(ctx, "present", nil)
	requireResponseError(t, err, 404, "SecretNotFound")
	// Listing versions is the exception, as on the service (recording
	// GetSecretVersionsNonExisting.json): a name with no live secret lists
	// as one empty page, whether it never existed or is soft-deleted.
	if _, err := client.DeleteSecret(ctx, "present", nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"absent", "present"} {
		pager := client.NewListSecretPropertiesVersionsPager(name, nil)
		page, err := pager.NextPage(ctx)
		if err != nil || len(page.Value) != 0 || pager.More() {
			t.Errorf("versions of %s: %d items, more %v, err %v; want one empty page", name, len(page.Value), pager.More(), err)
		}
	}
	// An invalid name is still a bad request.
	_, err = client.NewListSecretPropertiesVersionsPager("not_a_name", nil).NextPage(ctx)
	requireResponseError(t, err, 400, "BadParameter")
}
