package mongosim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func adminCall(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(rs.AdminURL(), "/")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// TestAdminEndpoint: status, faults, lag and grants over HTTP/JSON.
func TestAdminEndpoint(t *testing.T) {
	t.Parallel()
	code, data := adminCall(t, "GET", "/status", "")
	var st Status
	if code != 200 || json.Unmarshal(data, &st) != nil {
		t.Fatalf("GET /status: %d %s", code, data)
	}
	if st.Mode != "replicaSet" || st.SetName != "rs0" || st.Primary != rs.Primary() || len(st.Members) != 3 || st.Members[0].FerretDB == "" {
		t.Errorf("status: %+v", st)
	}

	admin := adminClient(t, rs)
	user := userName(t)
	createUser(t, admin, user, "Admin-Api-Passw0rd")
	code, data = adminCall(t, "POST", "/faults", `{"command":"updateUser","user":"`+user+`","count":1,"action":"error","code":13,"errmsg":"injected over HTTP"}`)
	if code != 201 || !strings.Contains(string(data), `"id":"fault-`) {
		t.Fatalf("POST /faults: %d %s", code, data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := updatePassword(ctx, admin, user, "Other-Admin-Passw0rd")
	var ce mongo.CommandError
	if !asCommandError(err, &ce) || ce.Code != 13 || ce.Name != "Unauthorized" || ce.Message != "injected over HTTP" {
		t.Errorf("the injected fault: %v", err)
	}

	sec := secondaries(rs)[0]
	if code, data := adminCall(t, "PUT", "/lag/"+sec+"/"+user, `{"lag":"1h"}`); code != 204 {
		t.Fatalf("PUT lag: %d %s", code, data)
	}
	_, data = adminCall(t, "GET", "/status", "")
	if !strings.Contains(string(data), `"`+user+`":"1h0m0s"`) {
		t.Errorf("status after PUT lag: %s", data)
	}
	if code, _ := adminCall(t, "PUT", "/lag/"+sec+"/"+user, `{"lag":"0s"}`); code != 204 {
		t.Errorf("PUT lag 0: %d", code)
	}
	if code, data := adminCall(t, "PUT", "/lag/nosuchhost:1", `{"lag":"1s"}`); code != 400 || !strings.Contains(string(data), "no member") {
		t.Errorf("PUT lag of an unknown member: %d %s", code, data)
	}

	if code, _ := adminCall(t, "PUT", "/grants/admin/"+user, `{"privileges":[{"db":"admin","actions":["changeOwnPassword"]}]}`); code != 204 {
		t.Errorf("PUT grants: %d", code)
	}
	if _, data := adminCall(t, "GET", "/grants", ""); !strings.Contains(string(data), user+"@admin") {
		t.Errorf("GET grants: %s", data)
	}
	if code, _ := adminCall(t, "DELETE", "/grants/admin/"+user, ""); code != 204 {
		t.Errorf("DELETE grants: %d", code)
	}
	if _, data := adminCall(t, "GET", "/log", ""); !strings.Contains(string(data), `"user":"`+user+`"`) || strings.Contains(string(data), "Passw0rd") {
		t.Errorf("GET /log: %s", data)
	}
}

// TestNoPasswordInLogs: what the simulator logs and reports never holds a
// password it was given.
func TestNoPasswordInLogs(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := adminClient(t, rs)
	user, pw1, pw2 := userName(t), "Never-Logged-Passw0rd-1", "Never-Logged-Passw0rd-2"
	createUser(t, admin, user, pw1)
	if err := rs.SetUserLag(secondaries(rs)[0], user, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := updatePassword(ctx, admin, user, pw2); err != nil {
		t.Fatal(err)
	}
	_ = rs.SetUserLag(secondaries(rs)[0], user, 0)
	if err := rs.AwaitReplication(ctx); err != nil {
		t.Fatal(err)
	}
	status, _ := json.Marshal(rs.Status())
	userLog, _ := json.Marshal(rs.UserLog())
	for _, text := range []string{rsLog.String(), string(status), string(userLog)} {
		for _, pw := range []string{pw1, pw2, rs.AdminPassword()} {
			if strings.Contains(text, pw) {
				t.Errorf("a password appears in the simulator's output: %s", text)
			}
		}
	}
	if !strings.Contains(rsLog.String(), "updateUser "+user+"@admin") {
		t.Errorf("the log should name the change: %s", rsLog.String())
	}
}

// TestRetryableWriteLabel: a retryable write refused with NotWritablePrimary
// carries the RetryableWriteError label (the driver retries on wire version
// 9+ only when labelled), so the driver retries it.
func TestRetryableWriteLabel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	user, pw := userName(t), "Retry-Passw0rd-1"
	createUser(t, adminClient(t, rs), user, pw) // never granted: unrestricted
	c := connect(t, rs.URI(), user, pw)
	// Refuse the user's next insert as a demoted primary would; the driver
	// retries once and succeeds because the fault is spent.
	id := inject(t, Fault{Command: "insert", User: user, Count: 1, Action: FaultError, Code: 10107, Errmsg: "not primary"})
	if _, err := c.Database("labels").Collection("docs").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Errorf("a retryable insert after one NotWritablePrimary: %v", err)
	}
	if rs.RemoveFault(id) {
		t.Error("the fault was never hit: the test proves nothing")
	}
}
