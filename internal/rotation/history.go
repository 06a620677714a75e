package rotation

import (
	"strings"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

// History is what the tags on a secret's versions say about the rotations
// that wrote them: enough to rebuild a rotation's state by import.
type History struct {
	// Count is the number of distinct rotations (roll-backs excluded).
	Count          int
	LastRotationID string
	LastRotatedAt  time.Time
	// LastVersion is the version the last rotation wrote.
	LastVersion string
}

// rollbackSuffix marks versions written by a roll-back: they restore an older
// password and are not a rotation of their own.
const rollbackSuffix = "-rollback"

// HistoryOf reads the rotation tags of versions (in any order).
func HistoryOf(versions []keyvault.Secret) History {
	var h History
	var lastCreated time.Time
	seen := map[string]bool{}
	for _, v := range versions {
		id := v.Tags[keyvault.TagRotationID]
		if id == "" || strings.HasSuffix(id, rollbackSuffix) {
			continue
		}
		if !seen[id] {
			seen[id] = true
			h.Count++
		}
		at, err := time.Parse(time.RFC3339, v.Tags[keyvault.TagRotatedAt])
		if err != nil {
			continue
		}
		// Rotations in the same second are told apart by creation time.
		if at.After(h.LastRotatedAt) || (at.Equal(h.LastRotatedAt) && v.Created.After(lastCreated)) {
			h.LastRotatedAt, h.LastRotationID, h.LastVersion, lastCreated = at, id, v.Version, v.Created
		}
	}
	return h
}
