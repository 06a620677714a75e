package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// InspectRequest asks whether a credential's secrets and MongoDB still agree
// with what the last rotation wrote.
type InspectRequest struct {
	Mongo      *mongodb.Pool
	Deployment mongodb.Deployment
	Account    mongodb.Identity // Password ignored
	Bindings   []Binding        // Bindings[0] is the primary
	// Written maps each binding's versionless secret id to the version the
	// last rotation wrote.
	Written map[string]string
	// LastRotationID, when set, is the last rotation's id (from its tags):
	// a binding missing from Written whose latest version that rotation
	// wrote is adopted rather than reported, which is how an imported
	// rotation learns the versions of its other bindings.
	LastRotationID string
	// Escrow, when its Vault is set, lets Inspect adopt a rotation this
	// resource did not make: see Status.Adopted.
	Escrow Escrow
	// SelfRotation says the account changes its own password, so its
	// privileges to do so are checked on the login (Status.MissingPrivilege).
	SelfRotation bool
}

// AdoptedRotation is a rotation of the same credential that the caller did
// not make (the segura_rotate action's, or an apply whose state was lost)
// and that finished: every bound secret's latest version carries its id, its
// escrow version is no longer enabled, and the primary's value logs in.
type AdoptedRotation struct {
	ID        string
	RotatedAt time.Time
	// Versions maps each binding's versionless secret id to the version the
	// rotation wrote.
	Versions map[string]string
}

// Status is what Inspect found. It holds no password.
type Status struct {
	// Drift lists, in words, every way reality differs from the last
	// rotation; empty when nothing drifted.
	Drift []string
	// Latest maps each binding's versionless secret id to its latest version
	// ("" when the secret is missing or soft-deleted).
	Latest map[string]string
	// Adopted maps the versionless ids of bindings missing from
	// InspectRequest.Written to the version the last rotation wrote there.
	Adopted map[string]string
	// ExposedAt is when the primary secret's password was last checked out,
	// from its keyvault.TagExposedAt tag; nil if never.
	ExposedAt *time.Time
	// Unverified explains why the login check could not run (MongoDB
	// unreachable); empty when it ran.
	Unverified string
	// MissingPrivilege, for a self-rotating account whose password logs in,
	// names the action the server says the account lacks to change its own
	// password ("" when nothing is missing or the server lists no
	// privileges): the next rotation would fail at preflight.
	MissingPrivilege string
	// LoginRefused is set when MongoDB refused the primary secret's value
	// (one of the Drift entries says so): applications reading Key Vault
	// are refused now.
	LoginRefused bool
	// Rotation is set when the latest versions are a finished rotation the
	// caller did not make; they are then not reported as drift, and the
	// caller records that rotation as the last one.
	Rotation *AdoptedRotation
}

// Inspect reads every binding's latest version and logs in to MongoDB with
// the primary secret's value. Only an unexpected Key Vault failure is an
// error; drift is reported in Status.
func Inspect(ctx context.Context, req InspectRequest) (*Status, error) {
	st := &Status{Latest: map[string]string{}, Adopted: map[string]string{}}
	var primaryValue keyvault.SecretValue
	// Drift from versions the last rotation did not write is held back
	// until it is known whether another finished rotation wrote them.
	var notWritten []string
	foreign := map[string]string{} // binding id -> rotation id of its latest version, where not ours
	for i, b := range req.Bindings {
		s, err := b.Vault.LatestSecret(ctx, b.SecretName)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", b.describe(), err)
		}
		switch s.Status {
		case keyvault.SecretMissing:
			d := fmt.Sprintf("secret %s was deleted outside Terraform", b.ID())
			if req.Written[b.ID()] != "" || b.CreateIfMissing {
				d += "; the next apply writes it again with the password that still logs in (from another binding or the escrow)"
			}
			st.Drift = append(st.Drift, d)
			continue
		case keyvault.SecretSoftDeleted:
			st.Drift = append(st.Drift, fmt.Sprintf("secret %s was soft-deleted outside Terraform (recover or purge it before the next apply)", b.ID()))
			continue
		}
		st.Latest[b.ID()] = s.Version
		if i == 0 {
			primaryValue = s
		}
		tag := s.Tags[keyvault.TagRotationID]
		if req.Written[b.ID()] == "" && req.LastRotationID != "" {
			if tag == req.LastRotationID {
				st.Adopted[b.ID()] = s.Version
			} else {
				notWritten = append(notWritten, fmt.Sprintf("secret %s has a version %s that the last rotation (%s) did not write", b.ID(), s.Version, req.LastRotationID))
				foreign[b.ID()] = tag
			}
		}
		if want := req.Written[b.ID()]; want != "" && s.Version != want {
			notWritten = append(notWritten, fmt.Sprintf("secret %s has a version %s that the last rotation did not write (it wrote %s)", b.ID(), s.Version, want))
			foreign[b.ID()] = tag
		}
	}

	primary, v := req.Bindings[0], primaryValue
	if st.Latest[primary.ID()] == "" {
		st.Drift = append(st.Drift, notWritten...)
		return st, nil
	}
	if len(notWritten) > 0 {
		pending, listed := pendingEscrows(ctx, req)
		if listed {
			st.Rotation = adoptable(req, st.Latest, primaryValue, foreign, pending)
		}
		if st.Rotation == nil {
			notWritten = interrupted(req, notWritten, foreign, pending)
			st.Drift = append(st.Drift, notWritten...)
		}
	}
	if at, ok := v.Tags[keyvault.TagExposedAt]; ok {
		if t, err := time.Parse(time.RFC3339, at); err == nil {
			st.ExposedAt = &t
		}
	}
	pw, err := secretvalue.Parse(primary.Format, v.Value)
	if err != nil {
		st.Drift = append(st.Drift, fmt.Sprintf("secret %s: %v", primary.ID(), err))
		return st, nil
	}
	id := req.Account
	id.Password = pw
	// On a sharded cluster, the router a rotation pins its decisions to: a
	// router whose user cache has not refreshed yet would report drift that
	// is not there.
	dep := req.Deployment
	if routers := req.Mongo.Routers(ctx, dep); len(routers) > 0 {
		dep = dep.PinnedTo(routers[0])
	}
	privs, known, err := req.Mongo.Login(ctx, dep, id)
	if err == nil && known && req.SelfRotation {
		st.MissingPrivilege = MissingPrivilege(privs, req.Account, false)
	}
	if err != nil {
		if st.Rotation != nil {
			// Only a rotation whose password logs in is adopted.
			st.Rotation = nil
			st.Drift = append(st.Drift, notWritten...)
		}
		if mongodb.Classify(err) == mongodb.KindAuthentication {
			st.LoginRefused = true
			st.Drift = append(st.Drift, fmt.Sprintf("the password in secret %s no longer logs in to MongoDB as %s", primary.ID(), req.Account.String()))
		} else {
			st.Unverified = err.Error()
		}
	}
	return st, nil
}

// interrupted rewords the drift of versions that a rotation of this
// provider wrote and did not finish (its escrow version is still enabled):
// not "a version the last rotation did not write", but what it is and what
// the next apply does about it.
func interrupted(req InspectRequest, drift []string, foreign map[string]string, pending map[string]bool) []string {
	var out []string
	said := map[string]bool{}
	for _, d := range drift {
		reworded := false
		for id, rot := range foreign {
			if rot != "" && pending[rot] && strings.Contains(d, "secret "+id+" ") {
				if !said[rot] {
					out = append(out, fmt.Sprintf("rotation %s was interrupted (it wrote secret %s, and its escrow version in %s is still pending); the next apply finishes it", rot, id, req.Escrow.ID()))
					said[rot] = true
				}
				reworded = true
				break
			}
		}
		if !reworded {
			out = append(out, d)
		}
	}
	return out
}

// adoptable returns the finished rotation that wrote every binding's latest
// version, or nil: when a binding's latest version carries no rotation id or
// another one, when that rotation is a roll-back, or when its escrow version
// is still enabled (it is running, or died before finishing: the next apply
// finishes it).
func adoptable(req InspectRequest, latest map[string]string, primary keyvault.SecretValue, foreign map[string]string, pending map[string]bool) *AdoptedRotation {
	id := primary.Tags[keyvault.TagRotationID]
	if id == "" || strings.HasSuffix(id, rollbackSuffix) || pending[id] {
		return nil
	}
	for _, other := range foreign {
		if other != id {
			return nil
		}
	}
	versions := map[string]string{}
	for _, b := range req.Bindings {
		// Every binding must hold that rotation's version: one still
		// holding our last rotation's was not written by it.
		if _, moved := foreign[b.ID()]; !moved || latest[b.ID()] == "" {
			return nil
		}
		versions[b.ID()] = latest[b.ID()]
	}
	at, err := time.Parse(time.RFC3339, primary.Tags[keyvault.TagRotatedAt])
	if err != nil {
		return nil
	}
	return &AdoptedRotation{ID: id, RotatedAt: at, Versions: versions}
}

// pendingEscrows lists the rotation ids of the enabled escrow versions:
// rotations that are running, or died before finishing. listed is false when
// the escrow is unknown or could not be read, and nothing may be adopted.
func pendingEscrows(ctx context.Context, req InspectRequest) (pending map[string]bool, listed bool) {
	pending = map[string]bool{}
	if req.Escrow.Vault == nil {
		return pending, false
	}
	escrows, err := req.Escrow.Vault.SecretVersions(ctx, req.Escrow.SecretName)
	if err != nil && !errors.Is(err, keyvault.ErrSecretNotFound) {
		return pending, false
	}
	for _, e := range escrows {
		if e.Enabled {
			pending[e.Tags[keyvault.TagRotationID]] = true
		}
	}
	return pending, true
}

// ParentStatus is what ParentLogs learnt about a parent that logs in.
type ParentStatus struct {
	// Privileges are the parent session's privileges, when Known.
	Privileges mongodb.Privileges
	Known      bool
}

// ParentLogs checks that the parent's password of record (the latest value
// of its Source binding) logs in as the parent, and reads the parent's
// privileges on that login. It returns an error classified by
// mongodb.Classify when MongoDB refused or could not be reached, and a Key
// Vault error when the secret could not be read. A child's refresh uses it
// to warn that its next rotation would fail.
func ParentLogs(ctx context.Context, mongo *mongodb.Pool, dep mongodb.Deployment, p Parent) (ParentStatus, error) {
	v, err := p.Source.Vault.GetSecretValue(ctx, p.Source.SecretName, "")
	if err != nil {
		return ParentStatus{}, fmt.Errorf("reading %s: %w", p.Source.describe(), err)
	}
	pw, err := secretvalue.Parse(p.Source.Format, v.Value)
	if err != nil {
		return ParentStatus{}, fmt.Errorf("%s: %w", p.Source.describe(), err)
	}
	id := p.Account
	id.Password = pw
	privs, known, err := mongo.Login(ctx, dep, id)
	return ParentStatus{Privileges: privs, Known: known}, err
}
