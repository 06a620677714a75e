package rotation

import "github.com/segura-community/terraform-provider-segura/internal/keyvault"

// The tags stamped on every written version are keyvault.ManagedTags
// (keyvault.TagCredential, TagRotatedAt, TagRotationID, TagScope, and
// TagExposedAt, which the checkout sets).

// Escrow tags mark the pending copy of a password that is about to be set in
// MongoDB (see Escrow). The escrow secret carries no binding's tags, so these
// do not count against a bound secret's tag budget.
const (
	// TagEscrowState is "pending" while a rotation is between staging the
	// password and finishing, then "done", or "aborted" when it stopped
	// without leaving its password in MongoDB.
	TagEscrowState = keyvault.TagPrefix + "escrow-state"
	// TagEscrowStagedAt is when the rotation staged the version (RFC 3339
	// with nanoseconds): the order of simultaneous rotations.
	TagEscrowStagedAt = keyvault.TagPrefix + "escrow-staged-at"
	// TagEscrowFor is the versionless id of the primary secret the escrow
	// belongs to.
	TagEscrowFor = keyvault.TagPrefix + "escrow-for"

	escrowPending = "pending"
	escrowDone    = "done"
	// escrowAborted marks a rotation that stopped without leaving its
	// password in MongoDB (refused, or rolled back): it owns nothing.
	escrowAborted = "aborted"
	// takeoverSuffix marks, in TagRotationID, a pending version that a later
	// rotation took over: "<later rotation id>-takeover".
	takeoverSuffix = "-takeover"
)
