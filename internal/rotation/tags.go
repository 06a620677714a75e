package rotation

// Tags the engine stamps on every secret version it writes (DESIGN.md §2),
// so that state can be rebuilt from Key Vault alone and an auditor can tell
// which database account a secret belongs to. User tags may not start with
// TagPrefix, and count against Key Vault's 15 tags together with these.
const (
	TagPrefix = "segura-"

	// TagCredential is the segura_credential id ("<device>/<auth db>/<username>").
	TagCredential = "segura-credential"
	// TagRotatedAt is when the rotation that wrote the version ran (RFC 3339, UTC).
	TagRotatedAt = "segura-rotated-at"
	// TagRotationID identifies the rotation; versions with the same id hold
	// the same password.
	TagRotationID = "segura-rotation-id"
	// TagScope is the DSM scope ("system/environment") of the binding.
	TagScope = "segura-scope"
	// TagExposedAt records when the password was last checked out by a
	// person or a downstream provider, which starts a policy's
	// rotate-after-exposure delay.
	TagExposedAt = "segura-exposed-at"
)

// ProviderTags lists every tag name above: the most the provider adds to one
// version.
var ProviderTags = []string{TagCredential, TagRotatedAt, TagRotationID, TagScope, TagExposedAt}

// Escrow tags mark the pending copy of a password that is about to be set
// in MongoDB (see Escrow).
const (
	// TagEscrowState is "pending" while a rotation is between changing
	// MongoDB and finishing its Key Vault writes, "done" after.
	TagEscrowState = "segura-escrow-state"
	// TagEscrowFor is the versionless id of the primary secret the escrow
	// belongs to.
	TagEscrowFor = "segura-escrow-for"

	escrowPending = "pending"
	escrowDone    = "done"
)
