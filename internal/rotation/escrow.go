package rotation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// The escrow secret does two jobs. It keeps the password a rotation is about
// to set in MongoDB, so a run that dies before writing the bound secrets
// loses nothing; and its versions coordinate rotations of one account that
// run at the same time (two workspaces, two CI jobs), whatever Terraform
// state each belongs to: versions are tagged with the account, not the
// resource. Of the versions that did not abort, the one staged last owns the
// account. A rotation checks that it still does before changing MongoDB,
// before and after each secret write, and when a login fails; it stops when
// a later one has staged (giving back a secret its in-flight write
// overwrote), and every rotation sees the same order, so at most one goes
// on. A rotation tries the passwords of enabled versions when the secrets'
// do not log in, which is how it takes over from one that died or stopped;
// a version stays enabled, and so readable, until it is certain its password
// is no longer MongoDB's.

// escrowLease is how long after staging a rotation may still be running:
// well above the resource's default 10-minute timeout.
const escrowLease = time.Hour

// enabledEscrows lists this credential's enabled escrow versions, newest
// first (ties in Key Vault's one-second timestamps broken by version id, the
// same way for every reader). A finished rotation disables its version, so
// these are the passwords of rotations that are running, stopped or died.
func (r *run) enabledEscrows(ctx context.Context) ([]keyvault.Secret, error) {
	e := r.req.Escrow
	versions, err := e.Vault.SecretVersions(ctx, e.SecretName)
	if errors.Is(err, keyvault.ErrSecretNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []keyvault.Secret
	for _, v := range versions {
		if v.Enabled && v.Tags[keyvault.TagCredential] == r.accountTag() {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return newerEscrow(out[i], out[j]) })
	return out, nil
}

// escrowCandidates returns the passwords of enabled escrow versions.
func (r *run) escrowCandidates(ctx context.Context) ([]candidate, []string) {
	e := r.req.Escrow
	pending, err := r.enabledEscrows(ctx)
	if err != nil {
		return nil, []string{fmt.Sprintf("escrow %s: %v", e.ID(), err)}
	}
	var out []candidate
	var notes []string
	for _, p := range pending {
		v, err := e.Vault.GetSecretValue(ctx, e.SecretName, p.Version)
		if err != nil {
			notes = append(notes, fmt.Sprintf("escrow %s version %s: %v", e.ID(), p.Version, err))
			continue
		}
		out = append(out, candidate{source: fmt.Sprintf("escrow %s version %s (rotation %s)", e.ID(), p.Version, p.Tags[keyvault.TagRotationID]), password: v.Value, escrowVersion: p.Version})
	}
	return out, notes
}

// stage writes the new password to the escrow secret. It is also the first
// write to the primary secret's vault, so a missing "set" permission stops
// the rotation here, before MongoDB changes.
func (r *run) stage(ctx context.Context, newPassword string) error {
	e := r.req.Escrow
	if r.adopted != "" {
		// Taking over: the earlier rotation, if it still runs, sees its
		// version is no longer pending and stops before its next write.
		if err := r.takeOver(ctx, r.adopted); err != nil {
			return r.fail(StagePreflight, "taking over the pending escrow version "+r.adopted+" of "+e.ID(), err,
				"Nothing was changed. The provider needs set permission on the escrow secret; fix that and apply again.")
		}
	}
	// The wall clock, not the request's (possibly injected) rotation time:
	// this orders simultaneous rotations.
	r.stagedAt = time.Now().UTC()
	s, err := e.Vault.SetSecretValue(ctx, e.SecretName, keyvault.SecretWrite{
		Value:       newPassword,
		ContentType: secretvalue.DefaultContentType(secretvalue.Password),
		Tags:        r.escrowTags(escrowPending),
	})
	if err != nil {
		return r.fail(StagePreflight, "staging the new password in the escrow secret "+e.ID(), err,
			"Nothing was changed in MongoDB. The provider needs get, list and set permission on the escrow secret in the primary secret's vault; fix that and apply again.")
	}
	r.escrowVersion = s.Version
	return nil
}

func (r *run) escrowTags(state string) map[string]string {
	return map[string]string{
		keyvault.TagCredential: r.accountTag(),
		keyvault.TagRotationID: r.result.RotationID,
		keyvault.TagRotatedAt:  r.result.RotatedAt.Format(time.RFC3339),
		TagEscrowStagedAt:      r.stagedAt.Format(time.RFC3339Nano),
		TagEscrowState:         state,
		TagEscrowFor:           r.req.Bindings[0].ID(),
	}
}

// otherRotationStagedLater returns the id of a rotation of this account
// that staged after ours and did not abort (it is running, or finished), or
// that took ours over; "" while this rotation still owns the account.
func (r *run) otherRotationStagedLater(ctx context.Context) (string, error) {
	e := r.req.Escrow
	versions, err := e.Vault.SecretVersions(ctx, e.SecretName)
	if err != nil {
		return "", err
	}
	var mine *keyvault.Secret
	for i, v := range versions {
		if v.Version == r.escrowVersion {
			mine = &versions[i]
		}
	}
	if mine == nil {
		return "", fmt.Errorf("this rotation's escrow version %s is gone", r.escrowVersion)
	}
	if mine.Tags[TagEscrowState] != escrowPending {
		// Retired by a rotation that took over from this one, which signed
		// the version "<its id>-takeover".
		if other, ok := strings.CutSuffix(mine.Tags[keyvault.TagRotationID], takeoverSuffix); ok {
			return other, nil
		}
		return "another rotation", nil
	}
	var newest *keyvault.Secret
	for i, v := range versions {
		state := v.Tags[TagEscrowState]
		if v.Version == r.escrowVersion || v.Tags[keyvault.TagCredential] != r.accountTag() ||
			(state != escrowPending && state != escrowDone) || !newerEscrow(v, *mine) {
			continue
		}
		if newest == nil || newerEscrow(v, *newest) {
			newest = &versions[i]
		}
	}
	if newest == nil {
		return "", nil
	}
	return strings.TrimSuffix(newest.Tags[keyvault.TagRotationID], takeoverSuffix), nil
}

// newerEscrow orders escrow versions by when they were staged: the
// TagEscrowStagedAt tag (nanoseconds, the staging machine's clock), else Key
// Vault's creation time (whole seconds), and ties by version id, the same way
// for every reader. Between machines whose clocks disagree, two rotations
// started within the skew may be ordered against real time; every reader
// still sees the same order, which is what keeps at most one going.
func newerEscrow(a, b keyvault.Secret) bool {
	ta, tb := stagedAt(a), stagedAt(b)
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	return a.Version > b.Version
}

func stagedAt(v keyvault.Secret) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, v.Tags[TagEscrowStagedAt]); err == nil {
		return t
	}
	return v.Created
}

// concurrentChange tells, after a failed updateUser or login, whether
// another rotation's escrowed password is the one MongoDB now accepts, and
// returns that rotation's id, its escrow version and the password.
func (r *run) concurrentChange(ctx context.Context) (other, version, password string, ok bool) {
	enabled, err := r.enabledEscrows(ctx)
	if err != nil {
		return "", "", "", false
	}
	e := r.req.Escrow
	for _, p := range enabled {
		if p.Version == r.escrowVersion {
			continue
		}
		v, err := e.Vault.GetSecretValue(ctx, e.SecretName, p.Version)
		if err == nil && r.req.Mongo.VerifyLogin(ctx, r.dep, r.account(v.Value)) == nil {
			return strings.TrimSuffix(p.Tags[keyvault.TagRotationID], takeoverSuffix), p.Version, v.Value, true
		}
	}
	return "", "", "", false
}

// takeOver marks an earlier rotation's escrow version as taken over by this
// one (signed "<our id>-takeover") and leaves it enabled: it holds the
// password MongoDB has until this rotation has changed it.
func (r *run) takeOver(ctx context.Context, version string) error {
	e := r.req.Escrow
	tags := r.escrowTags(escrowDone)
	tags[keyvault.TagRotationID] = r.result.RotationID + takeoverSuffix
	return e.Vault.UpdateSecretVersion(ctx, e.SecretName, version, tags, nil)
}

// finishEscrow marks our staged version with state (escrowDone when the
// rotation finished, escrowAborted when it changed nothing or rolled back)
// and disables it, so the vault keeps no readable extra copy. Failure is
// only a warning: the escrow then holds the current password, in the same
// vault as the primary secret.
func (r *run) finishEscrow(ctx context.Context, state string) {
	if r.escrowVersion == "" {
		return
	}
	r.retire(ctx, r.escrowVersion, r.escrowTags(state))
}

// retireEscrows disables, once the rotation has written and verified
// everything, the versions it took over and the pending versions staged more
// than escrowLease before it: they belong to rotations that died or stopped.
// A younger pending version may belong to a rotation still running, so it
// stays, readable, until a later rotation finds it old. It runs before
// finishEscrow disables ours.
func (r *run) retireEscrows(ctx context.Context) {
	enabled, err := r.enabledEscrows(ctx)
	if err != nil {
		r.result.Warnings = append(r.result.Warnings, fmt.Sprintf("could not list the escrow secret %s to retire old versions: %v", r.req.Escrow.ID(), err))
		return
	}
	var mine *keyvault.Secret
	for i, v := range enabled {
		if v.Version == r.escrowVersion {
			mine = &enabled[i]
		}
	}
	for _, v := range enabled {
		takenOver := v.Tags[TagEscrowState] != escrowPending
		// A pending version is retired only once the rotation that staged
		// it cannot still be running: its updateUser could otherwise land
		// after this rotation's, and the password it set would be lost.
		olderPending := !takenOver && mine != nil && newerEscrow(*mine, v) && stagedAt(v).Before(r.stagedAt.Add(-escrowLease))
		if v.Version == r.escrowVersion || (!takenOver && !olderPending) {
			continue
		}
		tags := make(map[string]string, len(v.Tags))
		for k, val := range v.Tags {
			tags[k] = val
		}
		tags[TagEscrowState] = escrowDone
		if olderPending {
			// Say who retired it: a rotation still running under it learns
			// whom to give its in-flight writes back to.
			tags[keyvault.TagRotationID] = r.result.RotationID + takeoverSuffix
		}
		r.retire(ctx, v.Version, tags)
	}
}

func (r *run) retire(ctx context.Context, version string, tags map[string]string) {
	e := r.req.Escrow
	disabled := false
	if err := e.Vault.UpdateSecretVersion(context.WithoutCancel(ctx), e.SecretName, version, tags, &disabled); err != nil {
		r.result.Warnings = append(r.result.Warnings, fmt.Sprintf("could not disable the escrow version %s of %s: %v", version, e.ID(), err))
	}
}
