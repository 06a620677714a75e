package keyvault

import "regexp"

// Key Vault's documented limits for secrets.
const (
	// MaxTags is the most tags one secret version may carry.
	MaxTags = 15
	// MaxTagNameLength and MaxTagValueLength bound each tag.
	MaxTagNameLength  = 512
	MaxTagValueLength = 256
	// MaxContentTypeLength bounds a secret's content type.
	MaxContentTypeLength = 255
	// MaxValueBytes bounds a secret's value.
	MaxValueBytes = 25 * 1024
)

// SecretNamePattern is Key Vault's rule for secret names.
var SecretNamePattern = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)

// Tags the provider stamps on every secret version it writes, so that state
// can be rebuilt from Key Vault alone and an auditor can tell which database
// account a secret belongs to. They count against MaxTags.
const (
	TagPrefix     = "segura-"
	TagCredential = TagPrefix + "credential"  // the credential: username@authdb on device
	TagRotatedAt  = TagPrefix + "rotated-at"  // RFC 3339 time of the rotation
	TagRotationID = TagPrefix + "rotation-id" // the rotation that wrote the version
	TagScope      = TagPrefix + "scope"       // the DSM scope: system/environment
	TagExposedAt  = TagPrefix + "exposed-at"  // when the password was last checked out
)

// ManagedTags lists the tags the provider adds, in a stable order: the most
// one version carries (internal/rotation writes them; a test in the provider
// package keeps the two lists equal).
var ManagedTags = []string{TagCredential, TagRotatedAt, TagRotationID, TagScope, TagExposedAt}
