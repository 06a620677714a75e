package provider

import (
	"strings"
	"testing"

	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
)

func TestParseAccount(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "orders_app@admin on db1:27017", want: "orders_app@admin on db1:27017"},
		{in: "orders_app@orders on db1:27017,db2:27018", want: "orders_app@orders on db1:27017,db2:27018"},
		{in: "orders_app@admin on db1", want: "orders_app@admin on db1:27017"},
		{in: "me@example.com@admin on db1:1", want: "me@example.com@admin on db1:1"},
		{in: "orders_app on db1:27017", err: "not an account"},
		{in: "@admin on db1:27017", err: "not an account"},
		{in: "orders_app@ on db1:27017", err: "not an account"},
		{in: "orders_app@admin on ", err: "not an account"},
		{in: "orders_app@admin on hosts#0011223344556677", err: "not an account"},
	} {
		a, err := parseAccount(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseAccount(%q): error %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("parseAccount(%q): %v", tc.in, err)
		case a.importID() != tc.want:
			t.Errorf("parseAccount(%q) = %q, want %q", tc.in, a.importID(), tc.want)
		}
	}
}

// The import id is the tag every rotation writes: what a listing reads
// back must name the same account.
func TestAccountRoundTripsTheRotationTag(t *testing.T) {
	dep := mongodb.Deployment{Hosts: []string{"db1.example.com:27017", "db2.example.com:27017"}}
	tag := rotation.AccountTag(dep, mongodb.Identity{Username: "orders_app", AuthSource: "orders"})
	a, err := parseAccount(tag)
	if err != nil {
		t.Fatal(err)
	}
	if a.importID() != tag || a.username != "orders_app" || a.authDatabase != "orders" || a.seedList() != strings.Join(dep.Hosts, ",") {
		t.Errorf("parseAccount(%q) = %+v", tag, a)
	}
}
