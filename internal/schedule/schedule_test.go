package schedule

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/problem"
)

func mustLocation(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func times(t testing.TB, specs ...string) []TimeOfDay {
	t.Helper()
	var out []TimeOfDay
	for _, s := range specs {
		tod, err := ParseTimeOfDay(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tod)
	}
	return out
}

func TestParseTimeOfDay(t *testing.T) {
	t.Parallel()
	valid := map[string]TimeOfDay{
		"00:00": {0, 0},
		"23:59": {23, 59},
		"09:05": {9, 5},
		"12:30": {12, 30},
	}
	for s, want := range valid {
		got, err := ParseTimeOfDay(s)
		if err != nil || got != want {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), s)
		}
	}
	for _, s := range []string{
		"", "24:00", "23:60", "99:99", "9:05", "09:5", "0905", "09.05", "09:05:00",
		" 09:05", "09:05 ", "+9:05", "-1:00", "09:-5", "１２:００", "ab:cd", "09:05\n",
	} {
		if got, err := ParseTimeOfDay(s); err == nil {
			t.Errorf("ParseTimeOfDay(%q) = %v, want an error", s, got)
		} else if !strings.Contains(err.Error(), "HH:MM") && !strings.Contains(err.Error(), "00:00 to 23:59") {
			t.Errorf("ParseTimeOfDay(%q) error %q does not say what is accepted", s, err)
		}
	}
}

func TestParseWeekday(t *testing.T) {
	t.Parallel()
	valid := map[string]time.Weekday{
		"monday": time.Monday, "Mon": time.Monday, "TUESDAY": time.Tuesday, "tue": time.Tuesday,
		"Wednesday": time.Wednesday, "wed": time.Wednesday, "thursday": time.Thursday, "THU": time.Thursday,
		"friday": time.Friday, "fri": time.Friday, "saturday": time.Saturday, "sat": time.Saturday,
		"sunday": time.Sunday, "Sun": time.Sunday,
	}
	for s, want := range valid {
		if got, err := ParseWeekday(s); err != nil || got != want {
			t.Errorf("ParseWeekday(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "mo", "thurs", "tues", "monday ", " mon", "montag", "1", "sundays"} {
		if got, err := ParseWeekday(s); err == nil {
			t.Errorf("ParseWeekday(%q) = %v, want an error", s, got)
		}
	}
}

func TestLoadLocation(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"} {
		if _, err := LoadLocation(name); err != nil {
			t.Errorf("LoadLocation(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "Local", "Mars/Olympus_Mons", "europe/berlin "} {
		if _, err := LoadLocation(name); err == nil {
			t.Errorf("LoadLocation(%q) succeeded, want an error", name)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	sunday := []time.Weekday{time.Sunday}
	tests := []struct {
		name       string
		policy     Policy
		wantFields []string
	}{
		{"zero policy", Policy{}, nil},
		{"full policy", Policy{Frequency: 30 * day, Times: times(t, "02:30", "14:00"), Weekdays: []time.Weekday{time.Saturday, time.Sunday}, MaxAge: 90 * day, AfterExposure: 4 * time.Hour}, nil},
		{"max age equals frequency", Policy{Frequency: 30 * day, MaxAge: 30 * day}, nil},
		{"max age only", Policy{MaxAge: 90 * day}, nil},
		{"exposure only", Policy{AfterExposure: time.Hour}, nil},
		{"one minute", Policy{Frequency: time.Minute, MaxAge: time.Minute, AfterExposure: time.Minute}, nil},
		{"negative frequency", Policy{Frequency: -day}, []string{"Frequency"}},
		{"sub-minute frequency", Policy{Frequency: 30 * time.Second}, []string{"Frequency"}},
		{"negative max age", Policy{MaxAge: -time.Hour}, []string{"MaxAge"}},
		{"sub-minute max age", Policy{MaxAge: time.Nanosecond}, []string{"MaxAge"}},
		{"negative exposure", Policy{AfterExposure: -time.Minute}, []string{"AfterExposure"}},
		{"sub-minute exposure", Policy{AfterExposure: time.Second}, []string{"AfterExposure"}},
		{"max age shorter than frequency", Policy{Frequency: 30 * day, MaxAge: 29 * day}, []string{"MaxAge"}},
		{"time out of range", Policy{Frequency: day, Times: []TimeOfDay{{24, 0}}}, []string{"Times"}},
		{"negative minute", Policy{Frequency: day, Times: []TimeOfDay{{1, -1}}}, []string{"Times"}},
		{"duplicate time", Policy{Frequency: day, Times: times(t, "02:30", "03:00", "02:30")}, []string{"Times"}},
		{"weekday out of range", Policy{Frequency: day, Weekdays: []time.Weekday{7}}, []string{"Weekdays"}},
		{"negative weekday", Policy{Frequency: day, Weekdays: []time.Weekday{-1}}, []string{"Weekdays"}},
		{"duplicate weekday", Policy{Frequency: day, Weekdays: []time.Weekday{time.Monday, time.Monday}}, []string{"Weekdays"}},
		{"times without frequency", Policy{MaxAge: day, Times: times(t, "02:30")}, []string{"Times"}},
		{"weekdays without frequency", Policy{AfterExposure: time.Hour, Weekdays: sunday}, []string{"Weekdays"}},
		{"several problems", Policy{Frequency: -1, MaxAge: -1, Weekdays: sunday}, []string{"Frequency", "MaxAge", "Weekdays"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			problems := tc.policy.Validate()
			for _, p := range problems {
				if p.Message == "" || !strings.HasSuffix(p.Message, ".") {
					t.Errorf("problem %q has no actionable sentence: %q", p.Field, p.Message)
				}
			}
			fields := problem.Fields(problems)
			want := slices.Clone(tc.wantFields)
			slices.Sort(want)
			if !slices.Equal(fields, want) {
				t.Errorf("Validate() fields = %v, want %v (problems: %v)", fields, want, problems)
			}
		})
	}
}

type nextCase struct {
	name      string
	policy    Policy
	last      string
	exposedAt string // RFC 3339, or "" for none
	want      string // RFC 3339, or "" for the zero time
	wantRule  Rule
}

func nextCases(t testing.TB) []nextCase {
	berlin := mustLocation(t, "Europe/Berlin")
	newYork := mustLocation(t, "America/New_York")
	lordHowe := mustLocation(t, "Australia/Lord_Howe")
	kathmandu := mustLocation(t, "Asia/Kathmandu")
	sunday := []time.Weekday{time.Sunday}
	weeklySunday0230 := Policy{Frequency: 7 * day, Times: times(t, "02:30"), Weekdays: sunday}
	return []nextCase{
		// UTC, no slots.
		{"frequency only", Policy{Frequency: 30 * day}, "2026-10-01T02:30:00Z", "", "2026-10-31T02:30:00Z", RuleFrequency},
		{"frequency under a day", Policy{Frequency: 6 * time.Hour}, "2026-10-01T02:30:00Z", "", "2026-10-01T08:30:00Z", RuleFrequency},
		{"frequency with a sub-day part", Policy{Frequency: 36 * time.Hour}, "2026-10-01T02:30:00Z", "", "2026-10-02T14:30:00Z", RuleFrequency},
		{"fractional seconds kept", Policy{Frequency: day}, "2026-10-01T02:30:15.5Z", "", "2026-10-02T02:30:15.5Z", RuleFrequency},
		{"zero policy", Policy{}, "2026-10-01T02:30:00Z", "", "", RuleNone},

		// Times.
		{"allowed time later that day", Policy{Frequency: day, Times: times(t, "04:00")}, "2026-10-01T02:30:00Z", "", "2026-10-02T04:00:00Z", RuleFrequency},
		// With slots, days count from the last rotation's date: a rotation
		// applied after its slot does not push the next one a day later.
		{"allowed time passed, next day", Policy{Frequency: day, Times: times(t, "01:00")}, "2026-10-01T02:30:00Z", "", "2026-10-02T01:00:00Z", RuleFrequency},
		{"deadline exactly on a slot", Policy{Frequency: day, Times: times(t, "02:30")}, "2026-10-01T02:30:00Z", "", "2026-10-02T02:30:00Z", RuleFrequency},
		{"one second past a slot", Policy{Frequency: day, Times: times(t, "02:30")}, "2026-10-01T02:30:01Z", "", "2026-10-02T02:30:00Z", RuleFrequency},
		{"a late apply keeps the slot", Policy{Frequency: 30 * day, Times: times(t, "02:00")}, "2026-10-01T09:14:00Z", "", "2026-10-31T02:00:00Z", RuleFrequency},
		{"earliest of unsorted times", Policy{Frequency: day, Times: times(t, "23:00", "03:00", "02:00")}, "2026-10-01T02:30:00Z", "", "2026-10-02T02:00:00Z", RuleFrequency},

		// Weekdays (2026-10-01 is a Thursday).
		{"weekday only, deadline on another day", Policy{Frequency: day, Weekdays: []time.Weekday{time.Monday}}, "2026-10-01T02:30:00Z", "", "2026-10-05T00:00:00Z", RuleFrequency},
		{"weekday only, deadline on the day", Policy{Frequency: day, Weekdays: []time.Weekday{time.Friday}}, "2026-10-01T02:30:00Z", "", "2026-10-02T00:00:00Z", RuleFrequency},
		{"weekly on Saturday, applied at 09:00", Policy{Frequency: 7 * day, Times: times(t, "02:00"), Weekdays: []time.Weekday{time.Saturday}}, "2026-10-03T09:00:00Z", "", "2026-10-10T02:00:00Z", RuleFrequency},
		{"weekday and time", weeklySunday0230, "2026-10-01T02:30:00Z", "", "2026-10-11T02:30:00Z", RuleFrequency},
		{"two weekdays, New York evening", Policy{Frequency: day, Times: times(t, "22:00"), Weekdays: []time.Weekday{time.Tuesday, time.Saturday}, Location: newYork},
			"2026-10-01T22:00:00-04:00", "", "2026-10-03T22:00:00-04:00", RuleFrequency},
		{"Kathmandu Monday midnight is Sunday in UTC", Policy{Frequency: day, Times: times(t, "00:00"), Weekdays: []time.Weekday{time.Monday}, Location: kathmandu},
			"2026-10-01T00:00:00+05:45", "", "2026-10-05T00:00:00+05:45", RuleFrequency},
		{"Kathmandu weekday only", Policy{Frequency: day, Weekdays: []time.Weekday{time.Monday}, Location: kathmandu},
			"2026-10-01T12:00:00+05:45", "", "2026-10-05T00:00:00+05:45", RuleFrequency},

		// Calendar days across DST, no slots: same wall-clock time.
		{"Berlin spring, 7 days are 167 hours", Policy{Frequency: 7 * day, Location: berlin}, "2026-03-25T12:00:00+01:00", "", "2026-04-01T12:00:00+02:00", RuleFrequency},
		{"Berlin autumn, 7 days are 169 hours", Policy{Frequency: 7 * day, Location: berlin}, "2026-10-21T12:00:00+02:00", "", "2026-10-28T12:00:00+01:00", RuleFrequency},

		// Skipped wall times: the slot fires when the clocks jump.
		{"Berlin weekly slot skipped by spring forward", withLocation(weeklySunday0230, berlin), "2026-03-22T02:30:00+01:00", "", "2026-03-29T03:00:00+02:00", RuleFrequency},
		{"New York 02:30 skipped", Policy{Frequency: day, Times: times(t, "02:30"), Location: newYork}, "2026-03-07T02:30:00-05:00", "", "2026-03-08T03:00:00-04:00", RuleFrequency},
		{"Lord Howe 30-minute spring forward", Policy{Frequency: day, Times: times(t, "02:15"), Location: lordHowe}, "2026-10-03T02:15:00+10:30", "", "2026-10-04T02:30:00+11:00", RuleFrequency},
		{"slot after the gap is unaffected", Policy{Frequency: day, Times: times(t, "03:30"), Location: berlin}, "2026-03-28T03:30:00+01:00", "", "2026-03-29T03:30:00+02:00", RuleFrequency},

		// Repeated wall times: the first occurrence, once.
		{"Berlin weekly slot in the repeated hour", withLocation(weeklySunday0230, berlin), "2026-10-18T02:30:00+02:00", "", "2026-10-25T02:30:00+02:00", RuleFrequency},
		{"Berlin second occurrence is not a slot", Policy{Frequency: time.Minute, Times: times(t, "02:30"), Location: berlin}, "2026-10-25T02:45:00+02:00", "", "2026-10-26T02:30:00+01:00", RuleFrequency},
		{"New York 01:30 repeated", Policy{Frequency: day, Times: times(t, "01:30"), Location: newYork}, "2026-10-31T01:30:00-04:00", "", "2026-11-01T01:30:00-04:00", RuleFrequency},
		{"Lord Howe 30-minute fall back", Policy{Frequency: day, Times: times(t, "01:45"), Location: lordHowe}, "2026-04-04T01:45:00+11:00", "", "2026-04-05T01:45:00+11:00", RuleFrequency},

		// Max age: a hard limit that ignores slots.
		{"max age before the next slot", Policy{Frequency: 7 * day, Times: times(t, "02:30"), Weekdays: sunday, MaxAge: 8 * day}, "2026-10-01T02:30:00Z", "", "2026-10-09T02:30:00Z", RuleMaxAge},
		{"max age after the next slot", Policy{Frequency: 7 * day, Times: times(t, "02:30"), Weekdays: sunday, MaxAge: 30 * day}, "2026-10-01T02:30:00Z", "", "2026-10-11T02:30:00Z", RuleFrequency},
		{"max age only", Policy{MaxAge: 90 * day}, "2026-10-01T02:30:00Z", "", "2026-12-30T02:30:00Z", RuleMaxAge},
		{"max age is elapsed time across DST", Policy{MaxAge: 7 * day, Location: berlin}, "2026-03-25T12:00:00+01:00", "", "2026-04-01T13:00:00+02:00", RuleMaxAge},
		{"max age wins a tie", Policy{Frequency: 30 * day, MaxAge: 30 * day}, "2026-10-01T02:30:00Z", "", "2026-10-31T02:30:00Z", RuleMaxAge},

		// Exposure: a hard limit that ignores slots, only after the last rotation.
		{"exposure after last", Policy{Frequency: 7 * day, Times: times(t, "02:30"), Weekdays: sunday, AfterExposure: 4 * time.Hour}, "2026-10-01T02:30:00Z", "2026-10-03T10:00:00Z", "2026-10-03T14:00:00Z", RuleExposure},
		{"exposure before last ignored", Policy{Frequency: 7 * day, Times: times(t, "02:30"), Weekdays: sunday, AfterExposure: 4 * time.Hour}, "2026-10-01T02:30:00Z", "2026-09-30T10:00:00Z", "2026-10-11T02:30:00Z", RuleFrequency},
		{"exposure at last ignored", Policy{AfterExposure: 4 * time.Hour}, "2026-10-01T02:30:00Z", "2026-10-01T02:30:00Z", "", RuleNone},
		{"exposure only, no exposure", Policy{AfterExposure: time.Hour}, "2026-10-01T02:30:00Z", "", "", RuleNone},
		{"exposure later than frequency", Policy{Frequency: day, AfterExposure: 48 * time.Hour}, "2026-10-01T02:30:00Z", "2026-10-01T03:00:00Z", "2026-10-02T02:30:00Z", RuleFrequency},
		{"exposure beats max age", Policy{MaxAge: 90 * day, AfterExposure: time.Hour}, "2026-10-01T02:30:00Z", "2026-11-01T00:00:00Z", "2026-11-01T01:00:00Z", RuleExposure},
	}
}

func withLocation(p Policy, loc *time.Location) Policy {
	p.Location = loc
	return p
}

func TestNext(t *testing.T) {
	t.Parallel()
	for _, tc := range nextCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if problems := tc.policy.Validate(); problems != nil {
				t.Fatalf("test policy is invalid: %v", problems)
			}
			last := mustTime(t, tc.last)
			var exposedAt *time.Time
			if tc.exposedAt != "" {
				e := mustTime(t, tc.exposedAt)
				exposedAt = &e
			}
			got := tc.policy.NextRotation(last, exposedAt)
			if tc.want == "" {
				if !got.At.IsZero() || got.Rule != RuleNone {
					t.Fatalf("NextRotation() = %v (%s), want no rotation", got.At, got.Rule)
				}
				return
			}
			want := mustTime(t, tc.want)
			if !got.At.Equal(want) || got.Rule != tc.wantRule {
				t.Errorf("NextRotation() = %s (%s), want %s (%s)", got.At.Format(time.RFC3339Nano), got.Rule, want.Format(time.RFC3339Nano), tc.wantRule)
			}
			if !got.At.After(last) {
				t.Errorf("Next %v is not after last %v", got.At, last)
			}
			if got.At.Location() != tc.policy.location() {
				t.Errorf("Next is in %v, want the policy location %v", got.At.Location(), tc.policy.location())
			}
			if next := tc.policy.Next(last, exposedAt); !next.Equal(got.At) {
				t.Errorf("Next() = %v, NextRotation().At = %v", next, got.At)
			}
			// Due flips exactly at Next.
			if due, reason := tc.policy.Due(got.At.Add(-time.Nanosecond), last, exposedAt); due {
				t.Errorf("due a nanosecond before Next: %s", reason)
			}
			if due, reason := tc.policy.Due(got.At, last, exposedAt); !due {
				t.Errorf("not due at Next: %s", reason)
			}
		})
	}
}

func TestDueReasons(t *testing.T) {
	t.Parallel()
	berlin := mustLocation(t, "Europe/Berlin")
	last := mustTime(t, "2026-10-01T02:30:00Z")
	exposed := mustTime(t, "2026-10-03T10:00:00Z")
	tests := []struct {
		name      string
		policy    Policy
		now       string
		last      time.Time
		exposedAt *time.Time
		wantDue   bool
		want      string // exact reason, or a substring when wantExact is false
		wantExact bool
	}{
		{"frequency due", Policy{Frequency: 30 * day}, "2026-10-31T02:30:00Z", last, nil, true,
			"rotation due: 30 days since the last rotation on 2026-10-01 02:30 UTC (policy frequency 30 days)", true},
		{"frequency not due", Policy{Frequency: 30 * day}, "2026-10-31T02:29:59Z", last, nil, false,
			"rotation not due until 2026-10-31 02:30 UTC: policy frequency 30 days after the last rotation on 2026-10-01 02:30 UTC", true},
		{"frequency moved to a slot", Policy{Frequency: 7 * day, Times: times(t, "02:30"), Weekdays: []time.Weekday{time.Sunday}, Location: berlin}, "2026-10-11T02:30:00+02:00", last, nil, true,
			"rotation due: 7 days since the last rotation on 2026-10-01 04:30 CEST (policy frequency 7 days), at the first allowed time 2026-10-11 02:30 CEST", true},
		{"max age due", Policy{Frequency: 30 * day, MaxAge: 30 * day}, "2026-11-05T00:00:00Z", last, nil, true,
			"rotation due: the password reached the policy max age of 30 days at 2026-10-31 02:30 UTC (last rotation on 2026-10-01 02:30 UTC); max age ignores allowed times and days", true},
		{"max age not due", Policy{MaxAge: 90 * day}, "2026-11-05T00:00:00Z", last, nil, false, "reaches the policy max age of 90 days", false},
		{"exposure due", Policy{AfterExposure: 4 * time.Hour}, "2026-10-03T14:00:00Z", last, &exposed, true,
			"rotation due: the password was checked out on 2026-10-03 10:00 UTC and the policy rotates 4 hours after a checkout (due at 2026-10-03 14:00 UTC)", true},
		{"exposure not due", Policy{AfterExposure: 4 * time.Hour}, "2026-10-03T13:00:00Z", last, &exposed, false, "checked out on 2026-10-03 10:00 UTC", false},
		{"never rotated", Policy{Frequency: 30 * day}, "2026-10-01T00:00:00Z", time.Time{}, nil, true, "rotation due: no previous rotation is recorded", true},
		{"no rule applies", Policy{AfterExposure: time.Hour}, "2030-01-01T00:00:00Z", last, nil, false, "no rotation scheduled", false},
		{"seconds shown when present", Policy{Frequency: time.Hour}, "2026-10-01T03:00:00Z", mustTime(t, "2026-10-01T02:00:07Z"), nil, false, "2026-10-01 03:00:07 UTC", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			due, reason := tc.policy.Due(mustTime(t, tc.now), tc.last, tc.exposedAt)
			if due != tc.wantDue {
				t.Errorf("Due() = %v (%s), want %v", due, reason, tc.wantDue)
			}
			if tc.wantExact && reason != tc.want {
				t.Errorf("reason:\n got %q\nwant %q", reason, tc.want)
			}
			if !tc.wantExact && !strings.Contains(reason, tc.want) {
				t.Errorf("reason %q does not contain %q", reason, tc.want)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		day: "1 day", 30 * day: "30 days", time.Hour: "1 hour", 36 * time.Hour: "36 hours",
		90 * time.Minute: "1h30m0s", time.Minute: "1m0s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

var testZones = []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu"}

// isSlot reports whether instant u (a whole minute) is an allowed slot of a
// policy with Times set, by reading wall clocks rather than constructing
// them as wallInstant does:
//
//   - u shows an allowed minute on an allowed day, and no earlier instant
//     within two hours showed the same wall time (first occurrence); or
//   - the clocks jump at u past an allowed minute of an allowed day.
func isSlot(p Policy, u time.Time) bool {
	loc := p.location()
	local := u.In(loc)
	wall := wallAsUTC(local)
	allowedWall := func(w time.Time) bool {
		return p.allowsWeekday(w.Weekday()) && slices.Contains(p.Times, TimeOfDay{w.Hour(), w.Minute()})
	}
	if allowedWall(wall) {
		repeated := false
		for _, back := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
			if wallAsUTC(u.Add(-back).In(loc)).Equal(wall) {
				repeated = true
			}
		}
		if !repeated {
			return true
		}
	}
	gapStart := wallAsUTC(u.Add(-time.Minute).In(loc)).Add(time.Minute)
	for w := gapStart; w.Before(wall); w = w.Add(time.Minute) {
		if allowedWall(w) {
			return true
		}
	}
	return false
}

// bruteForceSnap finds the first slot at or after t by scanning, for
// policies with Times set.
func bruteForceSnap(p Policy, t time.Time) time.Time {
	u := t.Truncate(time.Minute)
	if u.Before(t) {
		u = u.Add(time.Minute)
	}
	for limit := t.Add(16 * day); u.Before(limit); u = u.Add(time.Minute) {
		if isSlot(p, u) {
			return u
		}
	}
	return time.Time{}
}

// bruteForceDayStart finds the first instant at or after t on an allowed
// weekday, for policies with only Weekdays set.
func bruteForceDayStart(p Policy, t time.Time) time.Time {
	loc := p.location()
	if p.allowsWeekday(t.In(loc).Weekday()) {
		return t
	}
	for u := t.Truncate(time.Minute).Add(time.Minute); u.Before(t.Add(16 * day)); u = u.Add(time.Minute) {
		if p.allowsWeekday(u.In(loc).Weekday()) {
			return u
		}
	}
	return time.Time{}
}

func checkSnap(t *testing.T, p Policy, deadline time.Time) {
	t.Helper()
	got := p.snap(deadline)
	var want time.Time
	switch {
	case len(p.Times) > 0:
		want = bruteForceSnap(p, deadline)
	case len(p.Weekdays) > 0:
		want = bruteForceDayStart(p, deadline)
	default:
		want = deadline
	}
	if !got.Equal(want) {
		t.Fatalf("snap(%s) in %v with times %v, days %v = %s, brute force says %s",
			deadline.In(p.location()).Format(time.RFC3339), p.location(), p.Times, p.Weekdays,
			got.In(p.location()).Format(time.RFC3339), want.In(p.location()).Format(time.RFC3339))
	}
}

// TestSnapMatchesBruteForce compares snap with a minute-by-minute scan
// around every 2026 DST transition of the test zones and at random instants.
func TestSnapMatchesBruteForce(t *testing.T) {
	t.Parallel()
	timeChoices := times(t, "00:00", "00:30", "01:30", "01:45", "02:00", "02:15", "02:30", "02:59", "03:00", "12:00", "23:59")
	for i, zone := range testZones {
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, uint64(i)))
			loc := mustLocation(t, zone)
			// Instants near each transition in 2026, plus random ones.
			var instants []time.Time
			for u := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); u.Year() == 2026; {
				_, end := u.In(loc).ZoneBounds()
				if end.IsZero() || end.Year() != 2026 {
					break
				}
				for _, d := range []time.Duration{-3 * time.Hour, -90 * time.Minute, -time.Hour, -30 * time.Minute, -time.Minute, 0, time.Minute, 30 * time.Minute, time.Hour} {
					instants = append(instants, end.Add(d))
				}
				u = end
			}
			for range 40 {
				instants = append(instants, time.Unix(rng.Int64N(4_000_000_000), 0).Truncate(time.Minute).Add(time.Duration(rng.IntN(2))*time.Second))
			}
			for range 60 {
				p := Policy{Frequency: day, Location: loc}
				for _, tod := range timeChoices {
					if rng.IntN(4) == 0 {
						p.Times = append(p.Times, tod)
					}
				}
				for d := time.Sunday; d <= time.Saturday; d++ {
					if rng.IntN(3) == 0 {
						p.Weekdays = append(p.Weekdays, d)
					}
				}
				for _, at := range instants {
					checkSnap(t, p, at)
				}
			}
		})
	}
}

func TestNextAlwaysAfterLast(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, zone := range testZones {
		loc := mustLocation(t, zone)
		for range 2000 {
			p := Policy{
				Frequency: time.Duration(rng.IntN(3)) * time.Duration(1+rng.IntN(60*24*40)) * time.Minute,
				MaxAge:    time.Duration(rng.IntN(2)) * time.Duration(1+rng.IntN(60*24*90)) * time.Minute,
				Location:  loc,
			}
			if p.Frequency > 0 {
				if rng.IntN(2) == 0 {
					p.Times = times(t, "02:30")
				}
				if rng.IntN(2) == 0 {
					p.Weekdays = []time.Weekday{time.Weekday(rng.IntN(7))}
				}
				if p.MaxAge > 0 && p.MaxAge < p.Frequency {
					p.MaxAge = p.Frequency
				}
			}
			if problems := p.Validate(); problems != nil {
				t.Fatalf("%+v: %v", p, problems)
			}
			last := time.Unix(rng.Int64N(4_000_000_000), rng.Int64N(1e9))
			next := p.Next(last, nil)
			if p.Frequency == 0 && p.MaxAge == 0 {
				if !next.IsZero() {
					t.Fatalf("%+v: Next = %v, want zero", p, next)
				}
				continue
			}
			if !next.After(last) {
				t.Fatalf("%+v: Next(%v) = %v, not after last", p, last, next)
			}
		}
	}
}

// TestFrequencyDeadlineKeepsWallClock checks the calendar-day rule: n days
// later at the same local time, unless that time is skipped, in which case
// the instant the clocks jump.
func TestFrequencyDeadlineKeepsWallClock(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, zone := range testZones {
		loc := mustLocation(t, zone)
		for range 3000 {
			days := 1 + rng.IntN(60)
			p := Policy{Frequency: time.Duration(days) * day, Location: loc}
			last := time.Unix(1_700_000_000+rng.Int64N(400_000_000), 0).In(loc)
			got := p.frequencyDeadline(last).In(loc)
			wantDate := dateOf(last).addDays(days)
			if dateOf(got) == wantDate && got.Hour() == last.Hour() && got.Minute() == last.Minute() && got.Second() == last.Second() {
				continue
			}
			// Otherwise the wall time must be skipped on that date, and got
			// the first instant after the gap.
			before := got.Add(-time.Second)
			wantWall := time.Date(wantDate.Year, wantDate.Month, wantDate.Day, last.Hour(), last.Minute(), last.Second(), 0, time.UTC)
			if !wallAsUTC(before).Before(wantWall) || !wallAsUTC(got).After(wantWall) {
				t.Fatalf("%s: %d days after %s gave %s", zone, days, last.Format(time.RFC3339), got.Format(time.RFC3339))
			}
		}
	}
}
