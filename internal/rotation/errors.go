package rotation

import "fmt"

// Stage is the protocol step a rotation failed in.
type Stage string

// The protocol's stages.
const (
	StagePreflight Stage = "preflight"
	StageChange    Stage = "MongoDB change"
	StageWrite     Stage = "Key Vault write"
	StageVerify    Stage = "verification"
)

// Error is a failed rotation: what it was doing, why it failed, what state
// MongoDB is in, and what to do (or what the next apply will do). It never
// holds a password.
type Error struct {
	// RotationID is the rotation's id, as in the segura-rotation-id tag of
	// its escrow version (and of every secret it wrote).
	RotationID string
	Account    string // user@authdb
	Stage      Stage
	Action     string
	Err        error
	MongoDB    string // e.g. "unchanged", "has the new password"
	Advice     string
}

func (e *Error) Error() string {
	return fmt.Sprintf("rotation %s of %s failed during %s, %s: %v. MongoDB %s. %s", e.RotationID, e.Account, e.Stage, e.Action, e.Err, e.MongoDB, e.Advice)
}

func (e *Error) Unwrap() error { return e.Err }

// ConcurrentChangeError means a bound secret has a newer latest version than
// the one seen when the change was planned.
type ConcurrentChangeError struct {
	Secret, Planned, Found string
}

func (e *ConcurrentChangeError) Error() string {
	found := e.Found
	if found == "" {
		found = "none"
	}
	return fmt.Sprintf("secret %s changed since the plan: its latest version is %s, the plan saw %s", e.Secret, found, e.Planned)
}

func (r *run) fail(stage Stage, action string, err error, advice string) error {
	return &Error{RotationID: r.result.RotationID, Account: r.req.Account.String(), Stage: stage, Action: action, Err: err, MongoDB: r.mongoState, Advice: advice}
}

// ConcurrentRotationError means another rotation of the same credential
// staged a password in the escrow secret while this one ran.
type ConcurrentRotationError struct {
	Escrow string
	Other  string // the other rotation's id
}

func (e *ConcurrentRotationError) Error() string {
	return fmt.Sprintf("rotation %s of the same credential staged its password in %s while this one ran", e.Other, e.Escrow)
}

// takenOver records that another rotation owns the account now, so the error
// does not claim MongoDB holds this rotation's password.
func (r *run) takenOver(other string) *ConcurrentRotationError {
	r.markTakenOver(other)
	return &ConcurrentRotationError{Escrow: r.req.Escrow.ID(), Other: other}
}

func (r *run) markTakenOver(other string) {
	r.mongoState = fmt.Sprintf("is in the hands of rotation %s, which took over this credential and may have set its own password", other)
}
