package mongodb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Kind classifies a failure so callers can say what to do about it.
type Kind int

// Failure kinds.
const (
	// KindOther is anything not classified below.
	KindOther Kind = iota
	// KindConfig is a mistake in the deployment settings (bad host, CA file, replica set name).
	KindConfig
	// KindUnreachable means no suitable server could be reached in time, or
	// the connection broke or timed out (inside a SASL conversation too):
	// nothing is known about what the server did.
	KindUnreachable
	// KindAuthentication means the server rejected the username/password
	// (AuthenticationFailed, code 18, and only that).
	KindAuthentication
	// KindUnauthorized means the login worked but the user may not run the command.
	KindUnauthorized
	// KindUserNotFound means updateUser named a user that does not exist.
	KindUserNotFound
	// KindNotPrimary means the server that answered is not (or no longer)
	// the primary of its replica set.
	KindNotPrimary
	// KindWriteConcern means the command applied on the primary but the
	// server could not confirm it reached the write concern (a
	// writeConcernError): applied, durability pending, never "not applied".
	KindWriteConcern
	// KindRefused means the server answered the command with another error
	// code (Error.Code says which).
	KindRefused
)

func (k Kind) String() string {
	switch k {
	case KindConfig:
		return "configuration error"
	case KindUnreachable:
		return "unreachable"
	case KindAuthentication:
		return "authentication failed"
	case KindUnauthorized:
		return "not authorized"
	case KindUserNotFound:
		return "user not found"
	case KindNotPrimary:
		return "not the primary"
	case KindWriteConcern:
		return "applied on the primary, replication to a majority not confirmed"
	case KindRefused:
		return "refused by the server"
	default:
		return "error"
	}
}

// Server error codes, from the server's src/mongo/base/error_codes.yml.
const (
	codeHostUnreachable                 = 6
	codeHostNotFound                    = 7
	codeUserNotFound                    = 11
	codeUnauthorized                    = 13
	codeAuthenticationFailed            = 18
	codeMaxTimeMSExpired                = 50
	codeWriteConcernFailed              = 64
	codeNetworkTimeout                  = 89
	codeShutdownInProgress              = 91
	codeUnsatisfiableWriteConcern       = 100
	codePrimarySteppedDown              = 189
	codeExceededTimeLimit               = 262
	codeSocketException                 = 9001
	codeNotWritablePrimary              = 10107
	codeInterruptedAtShutdown           = 11600
	codeInterrupted                     = 11601
	codeInterruptedDueToReplStateChange = 11602
	codeNotPrimaryNoSecondaryOk         = 13435
	codeNotPrimaryOrSecondary           = 13436
)

// notPrimaryCodes are the SDAM specification's "not writable primary" and
// "node is recovering" codes: the host that answered cannot take writes.
var notPrimaryCodes = []int32{codeNotWritablePrimary, codeNotPrimaryNoSecondaryOk, codeNotPrimaryOrSecondary,
	codePrimarySteppedDown, codeInterruptedDueToReplStateChange}

// outcomeUnknownCodes are the error replies after which a write may still
// have applied: the transactions specification's "unknown commit result"
// set (the retryable-write codes plus WriteConcernFailed and
// MaxTimeMSExpired), i.e. the command was interrupted by a step-down,
// shutdown or time limit part-way, or the reply describes the network.
var outcomeUnknownCodes = []int32{codeHostUnreachable, codeHostNotFound, codeMaxTimeMSExpired, codeWriteConcernFailed,
	codeNetworkTimeout, codeShutdownInProgress, codeUnsatisfiableWriteConcern, codePrimarySteppedDown, codeExceededTimeLimit,
	codeSocketException, codeInterruptedAtShutdown, codeInterrupted, codeInterruptedDueToReplStateChange}

// Classify maps a driver error to a Kind. Server codes decide, not Go types:
// the driver wraps every failure inside a SASL conversation, a broken
// connection or a timeout included, in an auth.Error, and only the server's
// AuthenticationFailed says the password is wrong.
func Classify(err error) Kind {
	if err == nil {
		return KindOther
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var we mongo.WriteException
	if errors.As(err, &we) && we.WriteConcernError != nil && len(we.WriteErrors) == 0 {
		return KindWriteConcern
	}
	if code, _, ok := ServerCode(err); ok {
		switch {
		case code == codeAuthenticationFailed:
			return KindAuthentication
		case code == codeUnauthorized:
			return KindUnauthorized
		case code == codeUserNotFound:
			return KindUserNotFound
		case slices.Contains(notPrimaryCodes, code):
			return KindNotPrimary
		case slices.Contains(outcomeUnknownCodes, code):
			return KindUnreachable
		default:
			return KindRefused
		}
	}
	var ne net.Error
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) || errors.As(err, &ne) || errors.Is(err, mongo.ErrClientDisconnected) ||
		strings.Contains(err.Error(), "server selection error") {
		return KindUnreachable
	}
	return KindOther
}

// NotApplied reports whether err proves that the write it came from did not
// run: the login before it was refused, or the server answered it with an
// error code after which nothing can have applied. A broken connection, a
// timeout, a step-down mid-command or a writeConcernError prove nothing of
// the sort (the write may have applied, or may still), so they answer false.
func NotApplied(err error) bool {
	if err == nil {
		return false
	}
	switch Classify(err) {
	case KindAuthentication, KindUnauthorized, KindUserNotFound, KindRefused, KindConfig:
		return true
	case KindNotPrimary:
		code, _, _ := ServerCode(err)
		return code != codePrimarySteppedDown && code != codeInterruptedDueToReplStateChange
	default:
		return false
	}
}

// ServerCode returns the server's error code and code name in err, if the
// server answered with one ("" name when it gave none).
func ServerCode(err error) (int32, string, bool) {
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code != 0 {
		return ce.Code, ce.Name, true
	}
	var we mongo.WriteException
	if errors.As(err, &we) {
		if we.WriteConcernError != nil {
			return int32(we.WriteConcernError.Code), we.WriteConcernError.Name, true // #nosec G115 -- int32 on the wire.
		}
		if len(we.WriteErrors) > 0 {
			return int32(we.WriteErrors[0].Code), "", true // #nosec G115 -- int32 on the wire.
		}
	}
	return 0, "", false
}

// Error is what this package returns: the operation, the deployment (without
// credentials), who was acting, and the classified cause.
type Error struct {
	Op         string
	Deployment Deployment
	Identity   string
	Kind       Kind
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "MongoDB %s: %s", e.Deployment.String(), e.Op)
	if e.Identity != "" && !strings.Contains(e.Op, " as ") {
		fmt.Fprintf(&b, " as %s", e.Identity)
	}
	fmt.Fprintf(&b, ": %s", e.Kind)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func wrap(op string, dep Deployment, identity string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Op: op, Deployment: dep, Identity: identity, Kind: Classify(err), Err: err}
}
