package rotation

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
)

// The versions below are what the engine writes (see rotation.go and
// escrow.go), with Key Vault's whole-second creation times.

const (
	histAccount = "orders_app@admin on db1:27017"
	histPW      = "https://kv/secrets/orders-pw"
	histJSON    = "https://kv2/secrets/orders-json"
)

var histBase = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// at is the base time plus s seconds.
func at(s int) time.Time { return histBase.Add(time.Duration(s) * time.Second) }

// bound is a version a rotation wrote to a bound secret ("" id: not a
// rotation's, e.g. the seeded password).
func bound(version, id string, created int) keyvault.Secret {
	v := keyvault.Secret{Version: version, Created: at(created), Updated: at(created), Enabled: true, Tags: map[string]string{"owner": "platform"}}
	if id != "" {
		v.Tags[keyvault.TagRotationID] = id
		v.Tags[keyvault.TagCredential] = histAccount
		v.Tags[keyvault.TagRotatedAt] = at(created).Format(time.RFC3339)
	}
	return v
}

// staged is an escrow version as a rotation leaves it (escrowTags).
func staged(version, id, state string, created int, enabled bool) keyvault.Secret {
	return keyvault.Secret{Version: version, Created: at(created), Updated: at(created + 1), Enabled: enabled, Tags: map[string]string{
		keyvault.TagCredential: histAccount, keyvault.TagRotationID: id, keyvault.TagRotatedAt: at(created).Format(time.RFC3339),
		TagEscrowStagedAt: at(created).Add(123 * time.Millisecond).Format(time.RFC3339Nano), TagEscrowState: state, TagEscrowFor: histPW,
	}}
}

// takenOverBy is an escrow version staged at created and re-tagged at
// updated by signer, as stage (takeOver) leaves it: the signer's tags, with
// a zero staging time.
func takenOverBy(version, signer string, created, updated int) keyvault.Secret {
	v := staged(version, signer+takeoverSuffix, escrowDone, created, false)
	v.Updated = at(updated)
	v.Tags[keyvault.TagRotatedAt] = at(updated).Format(time.RFC3339)
	v.Tags[TagEscrowStagedAt] = time.Time{}.Format(time.RFC3339Nano)
	return v
}

// summary is a record in one line, for comparing.
func summary(r RotationRecord) string {
	var w []string
	for _, v := range r.Written {
		s := strings.TrimPrefix(v.SecretID, "https://") + "@" + v.Version
		if v.Rollback {
			s += "(rollback)"
		}
		w = append(w, s)
	}
	id := r.ID
	if id == "" {
		id = "?"
	}
	out := fmt.Sprintf("%s %s", id, r.Outcome)
	if r.FinishedBy != "" {
		out += " by " + r.FinishedBy
	}
	if r.EscrowVersion != "" {
		out += fmt.Sprintf(" escrow=%s:%s", r.EscrowVersion, r.EscrowState)
	}
	if len(r.TookOver) > 0 {
		out += " took_over=" + strings.Join(r.TookOver, ",")
	}
	if len(w) > 0 {
		out += " wrote=" + strings.Join(w, ",")
	}
	return out
}

func TestRotationsOf(t *testing.T) {
	t.Parallel()
	seed := bound("seed", "", 0)
	for _, tc := range []struct {
		name   string
		pw     []keyvault.Secret
		json   []keyvault.Secret
		escrow []keyvault.Secret
		want   []string // newest first
	}{
		{
			name:   "normal rotations",
			pw:     []keyvault.Secret{seed, bound("p1", "r1", 10), bound("p2", "r2", 20)},
			json:   []keyvault.Secret{bound("j1", "r1", 10), bound("j2", "r2", 21)},
			escrow: []keyvault.Secret{staged("e1", "r1", escrowDone, 9, false), staged("e2", "r2", escrowDone, 19, false)},
			want: []string{
				"r2 completed escrow=e2:done wrote=kv/secrets/orders-pw@p2,kv2/secrets/orders-json@j2",
				"r1 completed escrow=e1:done wrote=kv/secrets/orders-pw@p1,kv2/secrets/orders-json@j1",
			},
		},
		{
			// kv-403-on-set: the primary was written, the second secret
			// refused; MongoDB and the primary were put back.
			name:   "rolled back after the first write",
			pw:     []keyvault.Secret{seed, bound("p1", "r1", 10), bound("p2", "r2", 20), bound("p3", "r2-rollback", 21)},
			json:   []keyvault.Secret{bound("j1", "r1", 10)},
			escrow: []keyvault.Secret{staged("e1", "r1", escrowDone, 9, false), staged("e2", "r2", escrowAborted, 19, false)},
			want: []string{
				"r2 rolled_back escrow=e2:aborted wrote=kv/secrets/orders-pw@p2,kv/secrets/orders-pw@p3(rollback)",
				"r1 completed escrow=e1:done wrote=kv/secrets/orders-pw@p1,kv2/secrets/orders-json@j1",
			},
		},
		{
			name:   "rolled back with nothing to restore",
			pw:     []keyvault.Secret{seed, bound("p2", "r2", 20)},
			escrow: []keyvault.Secret{staged("e2", "r2", escrowAborted, 19, false)},
			want:   []string{"r2 rolled_back escrow=e2:aborted wrote=kv/secrets/orders-pw@p2"},
		},
		{
			name:   "aborted before any write",
			pw:     []keyvault.Secret{seed, bound("p1", "r1", 10)},
			escrow: []keyvault.Secret{staged("e1", "r1", escrowDone, 9, false), staged("e2", "r2", escrowAborted, 19, false)},
			want:   []string{"r2 aborted escrow=e2:aborted", "r1 completed escrow=e1:done wrote=kv/secrets/orders-pw@p1"},
		},
		{
			name:   "pending: running, or died after updateUser",
			pw:     []keyvault.Secret{seed, bound("p1", "r1", 10)},
			escrow: []keyvault.Secret{staged("e1", "r1", escrowDone, 9, false), staged("e2", "r2", escrowPending, 19, true)},
			want:   []string{"r2 pending escrow=e2:pending", "r1 completed escrow=e1:done wrote=kv/secrets/orders-pw@p1"},
		},
		{
			// sigkill-between-mongo-and-kv, then the next apply: r3 finds
			// r2's password in the escrow, takes the version over (its id
			// is gone with that) and rotates.
			name: "killed before writing, taken over by the next apply",
			pw:   []keyvault.Secret{seed, bound("p1", "r1", 10), bound("p3", "r3", 31)},
			json: []keyvault.Secret{bound("j1", "r1", 10), bound("j3", "r3", 31)},
			escrow: []keyvault.Secret{staged("e1", "r1", escrowDone, 9, false), takenOverBy("e2", "r3", 19, 30),
				staged("e3", "r3", escrowDone, 30, false)},
			want: []string{
				"r3 completed escrow=e3:done took_over=e2 wrote=kv/secrets/orders-pw@p3,kv2/secrets/orders-json@j3",
				"? interrupted by r3 escrow=e2:taken over",
				"r1 completed escrow=e1:done wrote=kv/secrets/orders-pw@p1,kv2/secrets/orders-json@j1",
			},
		},
		{
			// sigkill-write-lands-later: r2's primary write landed after
			// the kill, so r3 logs in with the primary and leaves r2's
			// escrow version alone (it is younger than the lease).
			name: "killed after writing the primary, finished by the next apply",
			pw:   []keyvault.Secret{seed, bound("p2", "r2", 20), bound("p3", "r3", 31)},
			json: []keyvault.Secret{bound("j3", "r3", 31)},
			escrow: []keyvault.Secret{staged("e2", "r2", escrowPending, 19, true),
				staged("e3", "r3", escrowDone, 30, false)},
			want: []string{
				"r3 completed escrow=e3:done wrote=kv/secrets/orders-pw@p3,kv2/secrets/orders-json@j3",
				"r2 interrupted by r3 escrow=e2:pending wrote=kv/secrets/orders-pw@p2",
			},
		},
		{
			// As above, and an hour later r4 retires r2's version as stale
			// (retireEscrows keeps its tags but signs it r4-takeover).
			name: "stale pending version retired by a later rotation",
			pw:   []keyvault.Secret{seed, bound("p2", "r2", 20), bound("p3", "r3", 31), bound("p4", "r4", 4000)},
			escrow: []keyvault.Secret{
				func() keyvault.Secret {
					v := staged("e2", "r4"+takeoverSuffix, escrowDone, 19, false)
					v.Updated = at(4001)
					return v
				}(),
				staged("e3", "r3", escrowDone, 30, false), staged("e4", "r4", escrowDone, 3999, false)},
			want: []string{
				"r4 completed escrow=e4:done took_over=e2 wrote=kv/secrets/orders-pw@p4",
				"r3 completed escrow=e3:done wrote=kv/secrets/orders-pw@p3",
				"r2 interrupted by r3 escrow=e2:taken over wrote=kv/secrets/orders-pw@p2",
			},
		},
		{
			// r2 dies, r3 takes it over and dies too, r4 takes r3 over.
			name: "two crashes in a row",
			pw:   []keyvault.Secret{seed, bound("p4", "r4", 40)},
			escrow: []keyvault.Secret{takenOverBy("e2", "r3", 20, 30), takenOverBy("e3", "r4", 30, 39),
				staged("e4", "r4", escrowDone, 39, false)},
			want: []string{
				"r4 completed escrow=e4:done took_over=e3 wrote=kv/secrets/orders-pw@p4",
				"r3 interrupted by r4 escrow=e3:taken over took_over=e2",
				"? interrupted by r4 escrow=e2:taken over",
			},
		},
		{
			name: "no escrow record (escrow renamed or not readable)",
			pw:   []keyvault.Secret{seed, bound("p1", "r1", 10), bound("p2", "r2", 20), bound("p3", "r2-rollback", 21)},
			want: []string{
				"r2 rolled_back wrote=kv/secrets/orders-pw@p2,kv/secrets/orders-pw@p3(rollback)",
				"r1 completed wrote=kv/secrets/orders-pw@p1",
			},
		},
		{
			name:   "a signer whose own escrow version is gone",
			escrow: []keyvault.Secret{takenOverBy("e2", "r3", 20, 30)},
			want:   []string{"r3 unknown took_over=e2", "? pending escrow=e2:taken over"},
		},
		{
			// Two rotations in one second: the nanosecond staging time
			// orders them.
			name: "same second",
			pw:   []keyvault.Secret{bound("p1", "r1", 10), bound("p2", "r2", 10)},
			escrow: []keyvault.Secret{
				func() keyvault.Secret {
					v := staged("e2", "r2", escrowDone, 10, false)
					v.Tags[TagEscrowStagedAt] = at(10).Add(900 * time.Millisecond).Format(time.RFC3339Nano)
					return v
				}(),
				staged("e1", "r1", escrowDone, 10, false)},
			want: []string{"r2 completed escrow=e2:done wrote=kv/secrets/orders-pw@p2", "r1 completed escrow=e1:done wrote=kv/secrets/orders-pw@p1"},
		},
		{
			name: "no rotation at all",
			pw:   []keyvault.Secret{seed},
			want: []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bv := []BoundVersions{{SecretID: histPW, Versions: tc.pw}, {SecretID: histJSON, Versions: tc.json}}
			got := []string{}
			for _, r := range RotationsOf(bv, tc.escrow) {
				got = append(got, summary(r))
				if r.Account != histAccount {
					t.Errorf("%s: account %q", summary(r), r.Account)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// TestRotationsOfTimes: rotated_at is the rotation's own tag, never the
// signer's time a takeover stamped on the version, and an interrupted
// rotation known from its escrow version alone starts when Key Vault
// created that version.
func TestRotationsOfTimes(t *testing.T) {
	t.Parallel()
	p3 := bound("p3", "r3", 31)
	p3.Tags[keyvault.TagRotatedAt] = at(30).Format(time.RFC3339) // the rotation's time, not the write's
	recs := RotationsOf([]BoundVersions{{SecretID: histPW, Versions: []keyvault.Secret{p3}}},
		[]keyvault.Secret{takenOverBy("e2", "r3", 19, 30), staged("e3", "r3", escrowDone, 30, false)})
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	r3, lost := recs[0], recs[1]
	if !r3.RotatedAt.Equal(at(30)) || !r3.StagedAt.Equal(at(30).Add(123*time.Millisecond)) {
		t.Errorf("r3: rotated at %s, staged at %s", r3.RotatedAt, r3.StagedAt)
	}
	if !lost.RotatedAt.IsZero() || !lost.StagedAt.Equal(at(19)) || lost.ID != "" {
		t.Errorf("interrupted: id %q rotated at %s, staged at %s", lost.ID, lost.RotatedAt, lost.StagedAt)
	}
	if r3.RolledBack() || lost.RolledBack() {
		t.Error("nothing was rolled back")
	}
}
