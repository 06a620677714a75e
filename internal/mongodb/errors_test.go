package mongodb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/auth"
)

func TestClassifyByServerCode(t *testing.T) {
	t.Parallel()
	cmd := func(code int32, name string) error { return mongo.CommandError{Code: code, Name: name, Message: name} }
	wce := mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: 64, Name: "WriteConcernFailed", Message: "waiting for replication timed out"}}
	wceStepDown := mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: 11602, Name: "InterruptedDueToReplStateChange"}}
	tests := []struct {
		name       string
		err        error
		kind       Kind
		notApplied bool
	}{
		{"authentication failed", cmd(18, "AuthenticationFailed"), KindAuthentication, true},
		{"unauthorized", cmd(13, "Unauthorized"), KindUnauthorized, true},
		{"user not found", cmd(11, "UserNotFound"), KindUserNotFound, true},
		{"bad value", cmd(2, "BadValue"), KindRefused, true},
		{"command not supported", cmd(115, "CommandNotSupported"), KindRefused, true},
		{"Atlas", cmd(8000, "AtlasError"), KindRefused, true},
		{"not writable primary", cmd(10107, "NotWritablePrimary"), KindNotPrimary, true},
		{"not primary, no secondaryOk", cmd(13435, "NotPrimaryNoSecondaryOk"), KindNotPrimary, true},
		{"primary stepped down mid-command", cmd(189, "PrimarySteppedDown"), KindNotPrimary, false},
		{"interrupted by a step-down", cmd(11602, "InterruptedDueToReplStateChange"), KindNotPrimary, false},
		{"max time expired", cmd(50, "MaxTimeMSExpired"), KindUnreachable, false},
		{"shutdown in progress", cmd(91, "ShutdownInProgress"), KindUnreachable, false},
		{"write concern error", wce, KindWriteConcern, false},
		{"write concern error from a step-down", wceStepDown, KindWriteConcern, false},
		{"wrapped in our Error", &Error{Kind: KindUnauthorized, Err: cmd(13, "Unauthorized")}, KindUnauthorized, true},
		{"deadline", fmt.Errorf("run: %w", context.DeadlineExceeded), KindUnreachable, false},
		{"connection closed", fmt.Errorf("read: %w", io.EOF), KindOther, false},
		// An auth.Error alone is not a wrong password: the driver wraps every
		// failure of a SASL conversation in one.
		{"SASL failure without a server code", &auth.Error{}, KindOther, false},
		{"nil", nil, KindOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.err); got != tt.kind {
				t.Errorf("Classify = %v, want %v", got, tt.kind)
			}
			if got := NotApplied(tt.err); got != tt.notApplied {
				t.Errorf("NotApplied = %v, want %v", got, tt.notApplied)
			}
		})
	}
}

func TestServerCode(t *testing.T) {
	t.Parallel()
	code, name, ok := ServerCode(fmt.Errorf("x: %w", mongo.CommandError{Code: 13, Name: "Unauthorized"}))
	if !ok || code != 13 || name != "Unauthorized" {
		t.Errorf("ServerCode = %d %q %v", code, name, ok)
	}
	if _, _, ok := ServerCode(errors.New("plain")); ok {
		t.Error("ServerCode found a code in a plain error")
	}
}
