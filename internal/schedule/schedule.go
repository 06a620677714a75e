// Package schedule decides when a credential's password is next rotated.
//
// A Policy has two kinds of rules:
//
//   - The routine schedule: Frequency, restricted to allowed rotation slots
//     (Times and Weekdays in Location). A routine rotation happens at the
//     first allowed slot at or after the frequency deadline.
//   - Expiry rules: MaxAge and AfterExposure. These are hard deadlines and
//     ignore Times and Weekdays. A password past its maximum age is a
//     compliance failure, and a password that a person has seen should not
//     wait a week for a maintenance window; both are due at the exact
//     instant the rule expires.
//
// The next rotation is the earliest of the rules that apply.
//
// # Slots
//
// With Times set, a slot is an exact wall-clock minute (HH:MM:00) on an
// allowed weekday in Location; with Times empty, every instant of an allowed
// weekday is a slot (the day starts at local midnight); with neither set,
// every instant is a slot. A rotation at slot s is due when now >= s.
//
// Daylight saving time, for a slot's wall-clock time:
//
//   - Skipped (spring forward; 02:30 in Europe/Berlin on the last Sunday of
//     March, 02:15 in Australia/Lord_Howe when it moves from +10:30 to
//     +11:00): the slot is the instant the clocks jump past it (03:00 CEST
//     and 02:30 +11 respectively). The day keeps its slot.
//   - Repeated (fall back): the slot is the first occurrence only, so a
//     rotation never happens twice in one night.
//
// Weekdays are the calendar date in Location that the slot's wall-clock
// time belongs to.
//
// # Durations
//
// Frequency counts calendar days in Location: a frequency of 7 days after a
// rotation on Sunday at 02:30 is the next Sunday at 02:30 local time, even
// when the clocks changed in between (then 167 or 169 hours pass). Any part
// of Frequency shorter than a day is added as elapsed time. MaxAge and
// AfterExposure are elapsed time: a password's age is the time since it was
// set, whatever the clocks on the wall say.
package schedule

import (
	"fmt"
	"slices"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/problem"
)

const day = 24 * time.Hour

// Policy is a rotation schedule.
//
// The zero Policy never rotates. Next and Due assume a policy Validate
// accepts; durations that are zero or negative are treated as unset.
type Policy struct {
	// Frequency is the routine rotation interval; 0 means no routine
	// rotation. Whole days are calendar days in Location.
	Frequency time.Duration

	// Times are the allowed wall-clock start minutes for routine rotations;
	// empty means any time of day.
	Times []TimeOfDay

	// Weekdays are the allowed days for routine rotations; empty means
	// every day.
	Weekdays []time.Weekday

	// Location is the time zone Times and Weekdays are read in; nil means
	// UTC.
	Location *time.Location

	// MaxAge is the age a password must never exceed; 0 means no limit.
	// Due at last rotation + MaxAge, regardless of Times and Weekdays.
	MaxAge time.Duration

	// AfterExposure rotates a password this long after it was checked out
	// (an exposure after the last rotation); 0 means exposures do not
	// trigger rotation. Regardless of Times and Weekdays.
	AfterExposure time.Duration
}

// Validate reports every rule the policy breaks, or nil. Each problem's
// Field is a Policy field name ("Frequency", "Times", "Weekdays",
// "MaxAge", "AfterExposure").
//
// Beyond ranges and duplicates it rejects two contradictions:
//
//   - MaxAge shorter than Frequency: the routine schedule could never run,
//     every rotation would be a max-age rotation outside the allowed slots.
//     MaxAge equal to Frequency is accepted; then MaxAge decides whenever no
//     slot falls exactly on the frequency deadline, so such a policy should
//     not also set Times or Weekdays.
//   - Times or Weekdays without Frequency: they only restrict routine
//     rotations, so without a frequency they would silently do nothing.
func (p Policy) Validate() []problem.Problem {
	var problems problem.List
	add := problems.Add

	for _, d := range []struct {
		field, name string
		value       time.Duration
	}{
		{"Frequency", "frequency", p.Frequency},
		{"MaxAge", "max age", p.MaxAge},
		{"AfterExposure", "rotation after exposure", p.AfterExposure},
	} {
		switch {
		case d.value < 0:
			add(d.field, "%s must not be negative, got %s; use 0 to turn it off.", d.name, d.value)
		case d.value > 0 && d.value < time.Minute:
			add(d.field, "%s must be at least one minute (schedules have minute precision), got %s.", d.name, d.value)
		}
	}

	if p.MaxAge > 0 && p.Frequency > 0 && p.MaxAge < p.Frequency {
		add("MaxAge", "max age (%s) is shorter than the frequency (%s), so every rotation would be forced by max age and the frequency would never apply; raise max age or lower the frequency.",
			humanDuration(p.MaxAge), humanDuration(p.Frequency))
	}

	seenTimes := make(map[TimeOfDay]bool, len(p.Times))
	for _, t := range p.Times {
		switch {
		case !t.Valid():
			add("Times", "%02d:%02d is not a time of day; use 00:00 to 23:59.", t.Hour, t.Minute)
		case seenTimes[t]:
			add("Times", "%s is listed more than once; list each time once.", t)
		}
		seenTimes[t] = true
	}

	seenDays := make(map[time.Weekday]bool, len(p.Weekdays))
	for _, d := range p.Weekdays {
		switch {
		case d < time.Sunday || d > time.Saturday:
			add("Weekdays", "%d is not a day of the week; use monday to sunday.", int(d))
		case seenDays[d]:
			add("Weekdays", "%s is listed more than once; list each day once.", d)
		}
		seenDays[d] = true
	}

	if p.Frequency <= 0 {
		if len(p.Times) > 0 {
			add("Times", "allowed times only apply to routine rotations, and there is no frequency; set a frequency or remove the times (max age and rotation after exposure ignore them).")
		}
		if len(p.Weekdays) > 0 {
			add("Weekdays", "allowed days only apply to routine rotations, and there is no frequency; set a frequency or remove the days (max age and rotation after exposure ignore them).")
		}
	}

	return problems
}

func (p Policy) location() *time.Location {
	if p.Location == nil {
		return time.UTC
	}
	return p.Location
}

func (p Policy) allowsWeekday(d time.Weekday) bool {
	return len(p.Weekdays) == 0 || slices.Contains(p.Weekdays, d)
}

// Rule names the part of a policy that set a rotation time.
type Rule string

const (
	RuleNone      Rule = ""
	RuleFrequency Rule = "frequency"
	RuleMaxAge    Rule = "max_age"
	RuleExposure  Rule = "after_exposure"
)

// Rotation is the next rotation a policy calls for.
type Rotation struct {
	// At is when the rotation is due, in the policy's Location; zero when
	// the policy calls for no rotation.
	At time.Time
	// Rule is the rule that set At. On a tie the expiry rules win (max age
	// first, then exposure), as the stricter reason.
	Rule Rule
	// Deadline is the rule's own deadline before it was moved to an
	// allowed slot; equal to At for the expiry rules.
	Deadline time.Time
}

// Next returns when the next rotation is due after a rotation at last,
// given the checkout of the password that started its exposure (nil if
// none).
//
// exposedAt must be the first checkout after last, not the latest one:
// passing the latest would let repeated checkouts postpone the rotation
// forever. Checkouts at or before last are ignored (the password they
// exposed has been rotated away), so a caller may keep one "first checkout"
// timestamp and simply stop caring about it after the next rotation.
//
// last must be a real rotation time; for a credential never rotated, use
// Due, which reports it due at once.
//
// It is the earliest of:
//
//   - the first allowed slot at or after last + Frequency (calendar days,
//     counted from last's date when slots are set, so a late apply does not
//     delay the next slot);
//   - last + MaxAge, exactly;
//   - exposedAt + AfterExposure, exactly, if exposedAt is after last.
//
// The result is strictly after last, in the policy's Location. It is the
// zero Time when no rule applies (no Frequency, no MaxAge, and no exposure
// since last that AfterExposure turns into a rotation).
func (p Policy) Next(last time.Time, exposedAt *time.Time) time.Time {
	return p.NextRotation(last, exposedAt).At
}

// NextRotation is Next with the rule that decided it.
func (p Policy) NextRotation(last time.Time, exposedAt *time.Time) Rotation {
	var next Rotation
	consider := func(rule Rule, deadline, at time.Time) {
		if next.At.IsZero() || at.Before(next.At) {
			next = Rotation{At: at, Rule: rule, Deadline: deadline}
		}
	}
	if p.MaxAge > 0 {
		deadline := last.Add(p.MaxAge)
		consider(RuleMaxAge, deadline, deadline)
	}
	if p.AfterExposure > 0 && exposedAt != nil && exposedAt.After(last) {
		deadline := exposedAt.Add(p.AfterExposure)
		consider(RuleExposure, deadline, deadline)
	}
	if p.Frequency > 0 {
		deadline := p.frequencyDeadline(last)
		consider(RuleFrequency, deadline, p.snap(deadline))
	}
	if !next.At.IsZero() {
		loc := p.location()
		next.At = next.At.In(loc)
		next.Deadline = next.Deadline.In(loc)
	}
	return next
}

// frequencyDeadline is last plus Frequency, counting whole days as calendar
// days in Location (same wall-clock time, n dates later).
func (p Policy) frequencyDeadline(last time.Time) time.Time {
	days := int(p.Frequency / day)
	if days == 0 {
		return last.Add(p.Frequency)
	}
	local := last.In(p.location())
	h, m, s := local.Clock()
	ns := local.Nanosecond()
	if len(p.Times) > 0 || len(p.Weekdays) > 0 {
		// With slots, whole days count from the date of the last rotation,
		// not its time: a rotation applied late (09:00 for a 02:00 slot,
		// which a scheduled apply does every time) would otherwise push
		// every next slot a day later, so that "every 30 days" became 31
		// and "weekly on Saturday" every other Saturday.
		h, m, s, ns = 0, 0, 0, 0
	}
	deadline := wallInstant(dateOf(local).addDays(days), h, m, s, p.location()).
		Add(time.Duration(ns)).
		Add(p.Frequency % day)
	if !deadline.After(last) {
		// Only conceivable around a time zone skipping whole days; elapsed
		// time keeps Next strictly after last.
		return last.Add(p.Frequency)
	}
	return deadline
}

// snap returns the first allowed slot at or after t (see the package
// documentation for what a slot is).
func (p Policy) snap(t time.Time) time.Time {
	if len(p.Times) == 0 && len(p.Weekdays) == 0 {
		return t
	}
	loc := p.location()
	today := dateOf(t.In(loc))
	// Start a day early: a skipped wall time on the previous date can
	// resolve to a jump that lands at t. Look 15 days ahead: a week covers
	// every weekday, the rest covers zones that skipped whole days.
	for offset := -1; offset <= 15; offset++ {
		date := today.addDays(offset)
		if !p.allowsWeekday(date.weekday()) {
			continue
		}
		if len(p.Times) == 0 {
			switch {
			case offset < 0:
				continue
			case offset == 0:
				return t
			default:
				return wallInstant(date, 0, 0, 0, loc)
			}
		}
		var first time.Time
		for _, tod := range p.Times {
			if !tod.Valid() {
				continue
			}
			slot := wallInstant(date, tod.Hour, tod.Minute, 0, loc)
			if !slot.Before(t) && (first.IsZero() || slot.Before(first)) {
				first = slot
			}
		}
		if !first.IsZero() {
			return first
		}
	}
	// Only reachable when no weekday or time is valid, which Validate
	// rejects; rotating at the deadline beats never rotating.
	return t
}

// Reason is a human-readable explanation of a rotation decision, such as
// "rotation due: 30 days since the last rotation on 2026-10-01 02:30 UTC
// (policy frequency 30 days)".
type Reason = string

// Due reports whether a rotation is due at now after a rotation at last
// (zero if the credential was never rotated by this provider), given the
// first checkout of the password after last (nil if none; see Next), and
// why.
//
// Due is true exactly when now >= Next(last, exposedAt). The reason
// explains the rule in either case, so plans can show why a rotation is or
// is not happening.
func (p Policy) Due(now, last time.Time, exposedAt *time.Time) (bool, Reason) {
	if last.IsZero() {
		return true, "rotation due: no previous rotation is recorded"
	}
	next := p.NextRotation(last, exposedAt)
	if next.At.IsZero() {
		return false, "no rotation scheduled: the policy sets no frequency or max age, and no checkout since the last rotation calls for one"
	}
	loc := p.location()
	lastRotation := formatTime(last.In(loc))
	due := !now.Before(next.At)

	var reason string
	switch next.Rule {
	case RuleFrequency:
		slot := ""
		if !next.At.Equal(next.Deadline) {
			slot = fmt.Sprintf(", at the first allowed time %s", formatTime(next.At))
		}
		if due {
			reason = fmt.Sprintf("rotation due: %s since the last rotation on %s (policy frequency %s)%s",
				humanDuration(p.Frequency), lastRotation, humanDuration(p.Frequency), slot)
		} else {
			reason = fmt.Sprintf("rotation not due until %s: policy frequency %s after the last rotation on %s%s",
				formatTime(next.At), humanDuration(p.Frequency), lastRotation, slot)
		}
	case RuleMaxAge:
		if due {
			reason = fmt.Sprintf("rotation due: the password reached the policy max age of %s at %s (last rotation on %s); max age ignores allowed times and days",
				humanDuration(p.MaxAge), formatTime(next.At), lastRotation)
		} else {
			reason = fmt.Sprintf("rotation not due until %s: the password reaches the policy max age of %s then (last rotation on %s)",
				formatTime(next.At), humanDuration(p.MaxAge), lastRotation)
		}
	case RuleExposure:
		checkout := formatTime(exposedAt.In(loc))
		if due {
			reason = fmt.Sprintf("rotation due: the password was checked out on %s and the policy rotates %s after a checkout (due at %s)",
				checkout, humanDuration(p.AfterExposure), formatTime(next.At))
		} else {
			reason = fmt.Sprintf("rotation not due until %s: the password was checked out on %s and the policy rotates %s after a checkout",
				formatTime(next.At), checkout, humanDuration(p.AfterExposure))
		}
	}
	return due, reason
}

// humanDuration writes whole days and hours as words ("30 days", "4
// hours") and anything else as a Go duration.
func humanDuration(d time.Duration) string {
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	case d == time.Hour:
		return "1 hour"
	case d > 0 && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	default:
		return d.String()
	}
}

func formatTime(t time.Time) string {
	if t.Second() != 0 || t.Nanosecond() != 0 {
		return t.Format("2006-01-02 15:04:05 MST")
	}
	return t.Format("2006-01-02 15:04 MST")
}
