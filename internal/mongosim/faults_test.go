package mongosim

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func updatePassword(ctx context.Context, c *mongo.Client, user, pw string) error {
	_, err := run(ctx, c, "admin", bson.D{{Key: "updateUser", Value: user}, {Key: "pwd", Value: pw}})
	return err
}

func inject(t *testing.T, f Fault) string {
	t.Helper()
	id, err := rs.InjectFault(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.RemoveFault(id) })
	return id
}

// TestFaultDropReply: the change applies (on every member) but the client
// gets a network error instead of the reply.
func TestFaultDropReply(t *testing.T) {
	t.Parallel()
	admin := adminClient(t, rs)
	user, newPw := userName(t), "After-Drop-Passw0rd"
	createUser(t, admin, user, "Before-Drop-Passw0rd")
	inject(t, Fault{Command: "updateUser", User: user, Count: 1, Action: FaultDropReply})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := updatePassword(ctx, admin, user, newPw)
	if !mongo.IsNetworkError(err) {
		t.Fatalf("want a network error, got %v", err)
	}
	for _, h := range rs.Hosts() {
		if err := login(rs.Member(h).URI(), user, newPw); err != nil {
			t.Errorf("%s: the dropped reply's change is applied: %v", h, err)
		}
	}
}

// TestFaultDropConnection: the connection closes before the command runs:
// a network error, and nothing changed.
func TestFaultDropConnection(t *testing.T) {
	t.Parallel()
	admin := adminClient(t, rs)
	user, oldPw := userName(t), "Unchanged-Passw0rd"
	createUser(t, admin, user, oldPw)
	inject(t, Fault{Command: "updateUser", User: user, Count: 1, Action: FaultDropConnection})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := updatePassword(ctx, admin, user, "Never-Applied-Passw0rd"); !mongo.IsNetworkError(err) {
		t.Fatalf("want a network error, got %v", err)
	}
	if err := login(rs.URI(), user, oldPw); err != nil {
		t.Errorf("the old password still works: %v", err)
	}
}

// TestFaultStall: the command is held until the client gives up, then
// applied anyway.
func TestFaultStall(t *testing.T) {
	t.Parallel()
	admin := adminClient(t, rs)
	user, newPw := userName(t), "Landed-Late-Passw0rd"
	createUser(t, admin, user, "Stalled-Old-Passw0rd")
	inject(t, Fault{Command: "updateUser", User: user, Count: 1, Action: FaultStall})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := updatePassword(ctx, admin, user, newPw)
	if err == nil || time.Since(start) < 400*time.Millisecond {
		t.Fatalf("want the client's timeout after ~500ms, got %v after %s", err, time.Since(start))
	}
	eventually(t, 10*time.Second, "the stalled change lands after the client gave up", func() error {
		return login(rs.URI(), user, newPw)
	})
}

// TestFaultDelayAndError: a delay holds the command, then it runs; an error
// fault answers the given code without running it.
func TestFaultDelayAndError(t *testing.T) {
	t.Parallel()
	admin := adminClient(t, rs)
	user := userName(t)
	createUser(t, admin, user, "Delay-Passw0rd-0")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	inject(t, Fault{Command: "updateUser", User: user, Count: 1, Action: FaultDelay, Delay: 700 * time.Millisecond})
	start := time.Now()
	if err := updatePassword(ctx, admin, user, "Delay-Passw0rd-1"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 700*time.Millisecond {
		t.Errorf("delayed updateUser answered after %s", took)
	}

	inject(t, Fault{Command: "updateUser", User: user, Count: 1, Action: FaultError, Code: 11602})
	err := updatePassword(ctx, admin, user, "Delay-Passw0rd-2")
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != 11602 || ce.Name != "InterruptedDueToReplStateChange" {
		t.Fatalf("want error 11602 InterruptedDueToReplStateChange, got %v", err)
	}
	if err := login(rs.URI(), user, "Delay-Passw0rd-1"); err != nil {
		t.Errorf("the refused change did not run: %v", err)
	}
	// Count 1: the next one runs.
	if err := updatePassword(ctx, admin, user, "Delay-Passw0rd-3"); err != nil {
		t.Errorf("after the fault: %v", err)
	}
}

// TestFaultInsideSCRAM: a connection dropped in the middle of the SCRAM
// conversation (at saslContinue) is a network error for the client, not an
// authentication failure.
func TestFaultInsideSCRAM(t *testing.T) {
	t.Parallel()
	admin := adminClient(t, rs)
	user, pw := userName(t), "Sasl-Passw0rd-1"
	createUser(t, admin, user, pw)
	inject(t, Fault{Command: "saslContinue", User: user, Count: 1, Action: FaultDropConnection})
	err := login(rs.URI(), user, pw)
	if err == nil || isAuthFailure(err) || !mongo.IsNetworkError(err) {
		t.Fatalf("want a network error, got %v", err)
	}
	if err := login(rs.URI(), user, pw); err != nil {
		t.Errorf("the next login: %v", err)
	}
}
