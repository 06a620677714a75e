package mongodb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/auth"
)

// Kind classifies a failure so callers can say what to do about it.
type Kind int

// Failure kinds.
const (
	// KindOther is anything not classified below.
	KindOther Kind = iota
	// KindConfig is a mistake in the deployment settings (bad host, CA file, replica set name).
	KindConfig
	// KindUnreachable means no server could be reached in time.
	KindUnreachable
	// KindAuthentication means the server rejected the username/password.
	KindAuthentication
	// KindUnauthorized means the login worked but the user may not run the command.
	KindUnauthorized
	// KindUserNotFound means updateUser named a user that does not exist.
	KindUserNotFound
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
	default:
		return "error"
	}
}

// Server error codes from src/mongo/base/error_codes.yml.
const (
	codeUserNotFound         = 11
	codeUnauthorized         = 13
	codeAuthenticationFailed = 18
)

// Classify maps a driver error to a Kind.
func Classify(err error) Kind {
	if err == nil {
		return KindOther
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var authErr *auth.Error
	if errors.As(err, &authErr) {
		return KindAuthentication
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		switch {
		case se.HasErrorCode(codeAuthenticationFailed):
			return KindAuthentication
		case se.HasErrorCode(codeUnauthorized):
			return KindUnauthorized
		case se.HasErrorCode(codeUserNotFound):
			return KindUserNotFound
		}
	}
	var ne net.Error
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) || errors.Is(err, mongo.ErrClientDisconnected) ||
		strings.Contains(err.Error(), "server selection error") {
		return KindUnreachable
	}
	return KindOther
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
