package mongodb

import "testing"

func TestPrivilegesAllowsOnDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		privs  Privileges
		action string
		db     string
		want   bool
	}{
		{"exact database", Privileges{{DB: "orders", Actions: []string{"changeOwnPassword"}}}, "changeOwnPassword", "orders", true},
		{"other database", Privileges{{DB: "admin", Actions: []string{"changePassword"}}}, "changePassword", "orders", false},
		{"every database", Privileges{{DB: "", Actions: []string{"changePassword"}}}, "changePassword", "orders", true},
		{"one collection only", Privileges{{DB: "orders", Collection: "items", Actions: []string{"changeOwnPassword"}}}, "changeOwnPassword", "orders", false},
		{"cluster only", Privileges{{Cluster: true, Actions: []string{"changePassword"}}}, "changePassword", "orders", false},
		{"any resource", Privileges{{AnyResource: true, Actions: []string{"anyAction"}}}, "changePassword", "orders", true},
		{"other action", Privileges{{DB: "orders", Actions: []string{"find", "insert"}}}, "changeOwnPassword", "orders", false},
		{"none", nil, "viewUser", "orders", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.privs.AllowsOnDatabase(tt.action, tt.db); got != tt.want {
				t.Errorf("AllowsOnDatabase(%q, %q) = %v, want %v", tt.action, tt.db, got, tt.want)
			}
		})
	}
}

// FerretDB lists no privileges: Login must say it does not know, so that
// callers skip the check rather than read "nothing granted".
func TestLoginOnAServerWithoutPrivileges(t *testing.T) {
	needServer(t)
	t.Parallel()
	p := NewPool(Defaults{})
	privs, known, err := p.Login(t.Context(), plainDeployment(), admin())
	if err != nil || known || privs != nil {
		t.Fatalf("Login = %v, %v, %v; want nil, false, nil", privs, known, err)
	}
	bad := admin()
	bad.Password = "not-the-password"
	if _, _, err := p.Login(t.Context(), plainDeployment(), bad); Classify(err) != KindAuthentication {
		t.Fatalf("Login with a wrong password: %v (%v), want %v", err, Classify(err), KindAuthentication)
	}
}
