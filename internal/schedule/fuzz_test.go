package schedule

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParseTimeOfDay checks that ParseTimeOfDay accepts exactly the
// strings "00:00".."23:59" and that String inverts it.
func FuzzParseTimeOfDay(f *testing.F) {
	for _, s := range []string{"00:00", "23:59", "24:00", "9:05", "09:5", "12:60", "", "１２:００", "+1:00", "09:05:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tod, err := ParseTimeOfDay(s)
		wellFormed := len(s) == 5 && s[2] == ':' && strings.Trim(s[:2]+s[3:], "0123456789") == "" &&
			s[:2] <= "23" && s[3:] <= "59"
		if wellFormed != (err == nil) {
			t.Fatalf("ParseTimeOfDay(%q) = %v, %v; well-formed = %v", s, tod, err, wellFormed)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\x00") {
				t.Fatalf("error contains a NUL byte")
			}
			return
		}
		if !tod.Valid() || tod.String() != s {
			t.Fatalf("ParseTimeOfDay(%q) = %v, which prints as %q", s, tod, tod.String())
		}
	})
}

// FuzzNext checks Next against its definition: strictly after last; the
// earliest of the max-age deadline, the exposure deadline and the first
// slot at or after the frequency deadline, where slots come from a
// minute-by-minute scan (bruteForceSnap) rather than from snap; and Due
// flips exactly at Next.
func FuzzNext(f *testing.F) {
	// lastUnix, frequency/max age/exposure minutes, exposure offset from
	// last in minutes, comma-separated times, weekday bit mask (bit 0 =
	// Sunday), zone index into testZones.
	f.Add(int64(1_774_143_000), uint32(7*24*60), uint32(0), uint32(0), int32(0), "02:30", uint8(1), uint8(2))  // Berlin, spring forward
	f.Add(int64(1_792_283_400), uint32(7*24*60), uint32(0), uint32(0), int32(0), "02:30", uint8(1), uint8(2))  // Berlin, fall back
	f.Add(int64(1_775_227_500), uint32(24*60), uint32(0), uint32(0), int32(0), "01:45", uint8(0), uint8(3))    // Lord Howe, fall back
	f.Add(int64(1_790_955_900), uint32(24*60), uint32(0), uint32(0), int32(0), "02:15", uint8(0), uint8(3))    // Lord Howe, spring forward
	f.Add(int64(1_772_868_600), uint32(24*60), uint32(0), uint32(0), int32(0), "02:30", uint8(0), uint8(1))    // New York, spring forward
	f.Add(int64(1_790_792_100), uint32(24*60), uint32(0), uint32(0), int32(0), "00:00", uint8(1<<1), uint8(4)) // Kathmandu, Mondays
	f.Add(int64(1_790_821_800), uint32(7*24*60), uint32(8*24*60), uint32(240), int32(3000), "02:30", uint8(1), uint8(0))
	f.Add(int64(1_790_821_800), uint32(0), uint32(90*24*60), uint32(60), int32(-10), "", uint8(0), uint8(0))
	f.Add(int64(1_790_821_800), uint32(36*60), uint32(0), uint32(0), int32(0), "", uint8(0b1000001), uint8(2))
	f.Fuzz(func(t *testing.T, lastUnix int64, frequencyMinutes, maxAgeMinutes, exposureMinutes uint32, exposedOffsetMinutes int32, timesSpec string, weekdayMask, zone uint8) {
		// Fold the inputs into the ranges that make a valid policy, so that
		// most executions reach the checks: 1970..2100, durations up to
		// 400 days, max age not below the frequency.
		const year2100 = 4_102_444_800
		const maxMinutes = 400 * 24 * 60
		lastUnix = (lastUnix%year2100 + year2100) % year2100
		p := Policy{
			Frequency:     time.Duration(frequencyMinutes%maxMinutes) * time.Minute,
			MaxAge:        time.Duration(maxAgeMinutes%maxMinutes) * time.Minute,
			AfterExposure: time.Duration(exposureMinutes%maxMinutes) * time.Minute,
			Location:      mustLocation(t, testZones[int(zone)%len(testZones)]),
		}
		if p.MaxAge > 0 && p.MaxAge < p.Frequency {
			p.MaxAge += p.Frequency
		}
		for _, s := range strings.Split(timesSpec, ",") {
			if tod, err := ParseTimeOfDay(s); err == nil && !slices.Contains(p.Times, tod) {
				p.Times = append(p.Times, tod)
			}
		}
		for d := time.Sunday; d <= time.Saturday; d++ {
			if weekdayMask&(1<<d) != 0 {
				p.Weekdays = append(p.Weekdays, d)
			}
		}
		if p.Frequency == 0 {
			p.Times, p.Weekdays = nil, nil
		}
		if problems := p.Validate(); problems != nil {
			t.Fatalf("folded policy %+v is invalid: %v", p, problems)
		}

		last := time.Unix(lastUnix, 0)
		var exposedAt *time.Time
		if exposedOffsetMinutes != 0 {
			e := last.Add(time.Duration(exposedOffsetMinutes) * time.Minute)
			exposedAt = &e
		}

		var want time.Time
		wantRule := RuleNone
		consider := func(rule Rule, at time.Time) {
			if want.IsZero() || at.Before(want) {
				want, wantRule = at, rule
			}
		}
		if p.MaxAge > 0 {
			consider(RuleMaxAge, last.Add(p.MaxAge))
		}
		if p.AfterExposure > 0 && exposedAt != nil && exposedAt.After(last) {
			consider(RuleExposure, exposedAt.Add(p.AfterExposure))
		}
		if p.Frequency > 0 {
			deadline := p.frequencyDeadline(last)
			// With slots, whole days count from last's date (up to a day
			// earlier than last + Frequency).
			slack := time.Duration(0)
			if len(p.Times) > 0 || len(p.Weekdays) > 0 {
				slack = day
			}
			if !deadline.After(last) || deadline.Sub(last) > p.Frequency+3*time.Hour || deadline.Sub(last) < p.Frequency-slack-3*time.Hour {
				t.Fatalf("frequency deadline %v is not about %v after %v", deadline, p.Frequency, last)
			}
			slot := deadline
			switch {
			case len(p.Times) > 0:
				slot = bruteForceSnap(p, deadline)
			case len(p.Weekdays) > 0:
				slot = bruteForceDayStart(p, deadline)
			}
			if slot.IsZero() {
				t.Fatalf("no slot within 16 days of %v", deadline)
			}
			consider(RuleFrequency, slot)
		}

		got := p.NextRotation(last, exposedAt)
		if !got.At.Equal(want) || got.Rule != wantRule {
			t.Fatalf("policy %+v, last %v, exposed %v: NextRotation = %v (%s), want %v (%s)",
				p, last, exposedAt, got.At, got.Rule, want, wantRule)
		}
		if want.IsZero() {
			return
		}
		if !got.At.After(last) {
			t.Fatalf("Next %v is not after last %v", got.At, last)
		}
		if due, reason := p.Due(got.At, last, exposedAt); !due || reason == "" {
			t.Fatalf("not due at Next: %q", reason)
		}
		if due, reason := p.Due(got.At.Add(-time.Nanosecond), last, exposedAt); due || reason == "" {
			t.Fatalf("due before Next: %q", reason)
		}
	})
}
