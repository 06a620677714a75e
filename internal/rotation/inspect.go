package rotation

import (
	"context"
	"fmt"
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
}

// Inspect reads every binding's latest version and logs in to MongoDB with
// the primary secret's value. Only an unexpected Key Vault failure is an
// error; drift is reported in Status.
func Inspect(ctx context.Context, req InspectRequest) (*Status, error) {
	st := &Status{Latest: map[string]string{}, Adopted: map[string]string{}}
	var primaryValue keyvault.SecretValue
	for i, b := range req.Bindings {
		s, err := b.Vault.LatestSecret(ctx, b.SecretName)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", b.describe(), err)
		}
		switch s.Status {
		case keyvault.SecretMissing:
			st.Drift = append(st.Drift, fmt.Sprintf("secret %s was deleted outside Terraform", b.ID()))
			continue
		case keyvault.SecretSoftDeleted:
			st.Drift = append(st.Drift, fmt.Sprintf("secret %s was soft-deleted outside Terraform (recover or purge it before the next apply)", b.ID()))
			continue
		}
		st.Latest[b.ID()] = s.Version
		if i == 0 {
			primaryValue = s
		}
		if req.Written[b.ID()] == "" && req.LastRotationID != "" {
			if s.Tags[keyvault.TagRotationID] == req.LastRotationID {
				st.Adopted[b.ID()] = s.Version
			} else {
				st.Drift = append(st.Drift, fmt.Sprintf("secret %s has a version %s that the last rotation (%s) did not write", b.ID(), s.Version, req.LastRotationID))
			}
		}
		if want := req.Written[b.ID()]; want != "" && s.Version != want {
			st.Drift = append(st.Drift, fmt.Sprintf("secret %s has a version %s that the last rotation did not write (it wrote %s)", b.ID(), s.Version, want))
		}
	}

	primary, v := req.Bindings[0], primaryValue
	if st.Latest[primary.ID()] == "" {
		return st, nil
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
	if err := req.Mongo.VerifyLogin(ctx, req.Deployment, id); err != nil {
		if mongodb.Classify(err) == mongodb.KindAuthentication {
			st.Drift = append(st.Drift, fmt.Sprintf("the password in secret %s no longer logs in to MongoDB as %s", primary.ID(), req.Account.String()))
		} else {
			st.Unverified = err.Error()
		}
	}
	return st, nil
}
