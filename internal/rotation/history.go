package rotation

import (
	"sort"
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

// The audit trail: what every rotation attempt of a credential left in Key
// Vault, read back from tags alone (no value is ever read), for the
// segura_credential_history data source.
//
// A rotation leaves two kinds of trace. Every version it writes to a bound
// secret carries keyvault.TagRotationID (its id), TagRotatedAt and
// TagCredential; a roll-back writes the previous password again, tagged
// "<id>-rollback". And it stages its password first as a version of the
// escrow secret, whose TagEscrowState ends "done", "aborted" (it left
// nothing in MongoDB: refused, stopped for another rotation, or rolled
// back), or stays "pending" (running, or it died or stopped half-way; the
// next apply finishes from it). A rotation that takes over a pending
// version re-tags it "<its own id>-takeover", so the id of the rotation
// that staged it is no longer recorded anywhere unless that rotation also
// wrote a bound secret. No tag records why a rotation ran: the reason is in
// the rotation resource's last_rotation_reason and in the apply's log only.

// Outcome is how a rotation attempt ended, as far as the tags tell.
type Outcome string

// The outcomes RotationsOf reports.
const (
	// OutcomeCompleted: it wrote and verified every bound secret and
	// marked its escrow version done (or, with no escrow record, it wrote
	// versions and nothing rolled them back).
	OutcomeCompleted Outcome = "completed"
	// OutcomeRolledBack: it changed MongoDB and wrote some secrets, then a
	// Key Vault write failed and MongoDB and the written secrets were put
	// back on the previous password.
	OutcomeRolledBack Outcome = "rolled_back"
	// OutcomeAborted: it stopped without leaving its password in MongoDB
	// and wrote no bound secret (refused at the change, another rotation
	// was running, or rolled back before its first write).
	OutcomeAborted Outcome = "aborted"
	// OutcomePending: its escrow version is still pending and no later
	// rotation has finished: it is running, or it died or stopped half-way
	// and the next apply finishes it.
	OutcomePending Outcome = "pending"
	// OutcomeInterrupted: it did not finish (killed, stopped half-way, or
	// taken over), and a later rotation, RotationRecord.FinishedBy, did.
	OutcomeInterrupted Outcome = "interrupted"
	// OutcomeUnknown: the tags do not say how it ended (it is known only
	// as the rotation that took another over, and its own escrow version
	// is gone).
	OutcomeUnknown Outcome = "unknown"
)

// EscrowTakenOver is RotationRecord.EscrowState of a rotation whose escrow
// version a later rotation signed "<its id>-takeover".
const EscrowTakenOver = "taken over"

// BoundVersions are the versions of one bound secret.
type BoundVersions struct {
	// SecretID is the secret's versionless id.
	SecretID string
	Versions []keyvault.Secret
}

// WrittenVersion is one version a rotation wrote.
type WrittenVersion struct {
	SecretID string
	Version  string
	Created  time.Time
	// Rollback is set on a version its roll-back wrote: the previous
	// password again.
	Rollback bool

	binding int // index in RotationsOf's bound: the order of writes
}

// RotationRecord is one rotation attempt of a credential as the tags tell
// it. It holds no password.
type RotationRecord struct {
	// ID is the rotation id; empty for an interrupted rotation that wrote
	// no bound secret and whose escrow version a later rotation re-tagged
	// when it took over.
	ID string
	// RotatedAt is the TagRotatedAt of what it wrote: the rotation's
	// timestamp (zero when nothing it left carries one it owns).
	RotatedAt time.Time
	// StagedAt is when it staged its password in the escrow secret
	// (TagEscrowStagedAt, else the escrow version's creation time); zero
	// without an escrow record.
	StagedAt time.Time
	// Account is its TagCredential: user@authdb on the seed list.
	Account string
	Outcome Outcome
	// FinishedBy is, for OutcomeInterrupted, the id of the first later
	// rotation that completed.
	FinishedBy string
	// EscrowVersion and EscrowState are its escrow version and that
	// version's state (pending, done, aborted, or EscrowTakenOver); empty
	// without an escrow record.
	EscrowVersion string
	EscrowState   string
	// TookOver lists the escrow versions of earlier rotations this one
	// re-tagged as taken over (or retired as stale).
	TookOver []string
	// Written lists the bound-secret versions it wrote, roll-back versions
	// included, oldest first (within Key Vault's one second, in the order
	// of the bindings, a roll-back's last).
	Written []WrittenVersion

	// order is when it began by Key Vault's clock: the earliest creation
	// time of anything it left; tie broken by StagedAt, then ID.
	order time.Time
	// escrow is its own escrow version, when that still carries its id.
	escrow *keyvault.Secret
}

// RolledBack reports whether any of its versions is a roll-back's.
func (r RotationRecord) RolledBack() bool {
	for _, w := range r.Written {
		if w.Rollback {
			return true
		}
	}
	return false
}

// RotationsOf rebuilds the rotation attempts of a credential from the
// versions of its bound secrets and of its escrow secret (both in any
// order; escrow may be nil when there is none), newest first. Versions
// without a rotation id (seeded, or written outside Terraform) are not
// rotations and are left out.
func RotationsOf(bound []BoundVersions, escrow []keyvault.Secret) []RotationRecord {
	byID := map[string]*RotationRecord{}
	get := func(id string) *RotationRecord {
		r, ok := byID[id]
		if !ok {
			r = &RotationRecord{ID: id}
			byID[id] = r
		}
		return r
	}
	for bi, b := range bound {
		for _, v := range b.Versions {
			tag := v.Tags[keyvault.TagRotationID]
			if tag == "" {
				continue
			}
			id, rollback := strings.CutSuffix(tag, rollbackSuffix)
			if id == "" {
				continue
			}
			r := get(id)
			r.Written = append(r.Written, WrittenVersion{SecretID: b.SecretID, Version: v.Version, Created: v.Created, Rollback: rollback, binding: bi})
			r.note(v)
			if !rollback {
				// A roll-back's versions carry the rotation's time too,
				// but the rotation's own writes say it first.
				if at, err := time.Parse(time.RFC3339, v.Tags[keyvault.TagRotatedAt]); err == nil && (r.RotatedAt.IsZero() || at.Before(r.RotatedAt)) {
					r.RotatedAt = at
				}
			}
		}
	}

	// Escrow versions re-tagged by a later rotation, to place afterwards,
	// and when each signer re-tagged one (Key Vault's update time): where
	// a signer known from nothing else stands in time.
	var takenOver []keyvault.Secret
	signedAt := map[string]time.Time{}
	for i, v := range escrow {
		tag := v.Tags[keyvault.TagRotationID]
		if tag == "" {
			continue
		}
		if signer, ok := strings.CutSuffix(tag, takeoverSuffix); ok {
			takenOver = append(takenOver, v)
			s := get(signer)
			s.TookOver = append(s.TookOver, v.Version)
			if s.Account == "" {
				s.Account = v.Tags[keyvault.TagCredential] // the signer's tags
			}
			at := v.Updated
			if at.IsZero() {
				at = v.Created
			}
			signedAt[signer] = minTime(signedAt[signer], at)
			continue
		}
		r := get(tag)
		if r.escrow != nil && !newerEscrow(v, *r.escrow) {
			continue // one version per rotation; keep the latest if ever two
		}
		r.escrow = &escrow[i]
		r.EscrowVersion = v.Version
		r.EscrowState = v.Tags[TagEscrowState]
		r.StagedAt = stagedAt(v)
		r.note(v)
		if at, err := time.Parse(time.RFC3339, v.Tags[keyvault.TagRotatedAt]); err == nil && r.RotatedAt.IsZero() {
			r.RotatedAt = at
		}
	}
	for id, at := range signedAt {
		if r := byID[id]; r.order.IsZero() {
			r.order = at
		}
	}

	// Each re-tagged version belongs to a rotation that no longer has an
	// escrow record of its own: one that wrote bound secrets before it
	// stopped (and whose version was retired as stale later), or that is
	// known only as the signer of another takeover, else one known from
	// this version alone. Matched by time: the earliest such rotation that
	// began after the version was created (within Key Vault's one-second
	// resolution) and before the next re-tagged version was.
	sort.Slice(takenOver, func(i, j int) bool {
		if !takenOver[i].Created.Equal(takenOver[j].Created) {
			return takenOver[i].Created.Before(takenOver[j].Created)
		}
		return takenOver[i].Version < takenOver[j].Version
	})
	var orphans []*RotationRecord
	for _, r := range byID {
		if r.escrow == nil && !r.order.IsZero() {
			orphans = append(orphans, r)
		}
	}
	sort.Slice(orphans, func(i, j int) bool { return orphans[i].before(*orphans[j]) })
	for i, v := range takenOver {
		signer := strings.TrimSuffix(v.Tags[keyvault.TagRotationID], takeoverSuffix)
		var until time.Time
		if i+1 < len(takenOver) {
			until = takenOver[i+1].Created
		}
		var match *RotationRecord
		for j, o := range orphans {
			if o == nil || o.ID == signer || o.order.Before(v.Created.Add(-time.Second)) || (!until.IsZero() && !o.order.Before(until)) {
				continue
			}
			match, orphans[j] = o, nil
			break
		}
		if match == nil {
			match = &RotationRecord{Account: v.Tags[keyvault.TagCredential]}
			byID["\x00"+v.Version] = match // no id: keyed apart from every real one
		}
		match.EscrowVersion = v.Version
		match.EscrowState = EscrowTakenOver
		match.StagedAt = v.Created
		match.note(v)
		match.order = minTime(match.order, v.Created)
	}

	out := make([]RotationRecord, 0, len(byID))
	for _, r := range byID {
		sort.Slice(r.Written, func(i, j int) bool {
			a, b := r.Written[i], r.Written[j]
			if !a.Created.Equal(b.Created) {
				return a.Created.Before(b.Created)
			}
			if a.Rollback != b.Rollback {
				return !a.Rollback
			}
			if a.binding != b.binding {
				return a.binding < b.binding // within a second, in the order written
			}
			return a.Version < b.Version
		})
		sort.Strings(r.TookOver)
		r.Outcome = r.ownOutcome()
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].before(out[j]) })

	// An unfinished attempt was finished by the first rotation after it
	// that completed: that one started from whatever password logged in
	// (the escrow's, or a secret the attempt wrote) and left every secret
	// and MongoDB in step.
	for i := range out {
		if out[i].Outcome != OutcomePending {
			continue
		}
		for j := i + 1; j < len(out); j++ {
			if out[j].Outcome == OutcomeCompleted && out[j].ID != "" {
				out[i].Outcome, out[i].FinishedBy = OutcomeInterrupted, out[j].ID
				break
			}
		}
	}
	// Newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// ownOutcome is what a record's own traces say, before later rotations are
// taken into account.
func (r *RotationRecord) ownOutcome() Outcome {
	wrote := false
	for _, w := range r.Written {
		if !w.Rollback {
			wrote = true
		}
	}
	switch {
	case r.RolledBack():
		return OutcomeRolledBack
	case r.EscrowState == escrowAborted && wrote:
		// Rolled back, but no secret needed restoring (or restoring
		// failed): the escrow says MongoDB does not hold its password.
		return OutcomeRolledBack
	case r.EscrowState == escrowAborted:
		return OutcomeAborted
	case r.EscrowState == escrowPending || r.EscrowState == EscrowTakenOver:
		// Unfinished; RotationsOf turns it into OutcomeInterrupted once a
		// later rotation is seen completing.
		return OutcomePending
	case r.EscrowState == escrowDone || (r.EscrowState == "" && wrote):
		return OutcomeCompleted
	default:
		// Known only as the signer of a takeover, or an escrow version in
		// a state this provider does not write.
		return OutcomeUnknown
	}
}

// note records a version's account and creation time.
func (r *RotationRecord) note(v keyvault.Secret) {
	if r.Account == "" {
		r.Account = v.Tags[keyvault.TagCredential]
	}
	r.order = minTime(r.order, v.Created)
}

func (r RotationRecord) before(o RotationRecord) bool {
	if !r.order.Equal(o.order) {
		return r.order.Before(o.order)
	}
	if !r.StagedAt.Equal(o.StagedAt) {
		return r.StagedAt.Before(o.StagedAt)
	}
	if r.ID != o.ID {
		return r.ID < o.ID
	}
	return r.EscrowVersion < o.EscrowVersion
}

// minTime is the earlier of two times, a zero one counting as unset.
func minTime(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	default:
		return b
	}
}
