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
	// password and finishing, "done" after.
	TagEscrowState = keyvault.TagPrefix + "escrow-state"
	// TagEscrowFor is the versionless id of the primary secret the escrow
	// belongs to.
	TagEscrowFor = keyvault.TagPrefix + "escrow-for"

	escrowPending = "pending"
	escrowDone    = "done"
	// takeoverSuffix marks, in TagRotationID, a pending version that a later
	// rotation took over: "<later rotation id>-takeover".
	takeoverSuffix = "-takeover"
)
