package schedule

import "time"

// civilDate is a calendar date without a time zone.
type civilDate struct {
	Year  int
	Month time.Month
	Day   int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// addDays moves a date by n calendar days, computed in UTC so that no
// daylight-saving rule gets involved.
func (d civilDate) addDays(n int) civilDate {
	return dateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

func (d civilDate) weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// wallInstant returns the instant at which the clocks in loc show the given
// date and time (to the second), resolving daylight-saving edge cases:
//
//   - A wall time that occurs twice (the hour repeated when clocks go back)
//     resolves to its first occurrence, so that a slot fires once.
//   - A wall time that does not occur (the hour skipped when clocks go
//     forward) resolves to the instant the clocks jump past it: in
//     Europe/Berlin on the last Sunday of March, 02:30 becomes 03:00 CEST
//     (01:00 UTC). The rotation happens as soon as the skipped time has
//     passed, never a day later.
//
// time.Date leaves both cases unspecified ("not guaranteed"), so this
// function decides them explicitly.
func wallInstant(d civilDate, hour, minute, second int, loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, hour, minute, second, 0, loc)
	want := time.Date(d.Year, d.Month, d.Day, hour, minute, second, 0, time.UTC)
	got := wallAsUTC(t)

	if got.Equal(want) {
		// The wall time exists. If the zone period containing t began with
		// the clocks going back, an earlier instant may show the same wall
		// time; prefer it.
		start, _ := t.ZoneBounds()
		if start.IsZero() {
			return t
		}
		_, offset := t.Zone()
		_, previousOffset := start.Add(-time.Nanosecond).Zone()
		if previousOffset > offset {
			earlier := t.Add(-time.Duration(previousOffset-offset) * time.Second)
			if earlier.Before(start) && wallAsUTC(earlier).Equal(want) {
				return earlier
			}
		}
		return t
	}

	// The wall time falls in a gap. time.Date resolved it with the offset
	// from one side of the gap; the gap ends where t's zone period starts
	// (t landed after the gap) or where it ends (t landed before the gap).
	start, end := t.ZoneBounds()
	if got.After(want) {
		return start
	}
	return end
}

// wallAsUTC returns the wall clock shown by t in its location, as a UTC
// time, so that wall clocks can be compared.
func wallAsUTC(t time.Time) time.Time {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d, h, mi, s, t.Nanosecond(), time.UTC)
}
