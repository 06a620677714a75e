package schedule

import (
	"fmt"
	"strings"
	"time"

	// Embed the IANA time zone database so that LoadLocation works on
	// machines (CI containers, Windows) without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// TimeOfDay is a wall-clock minute, 00:00..23:59, in a Policy's Location.
type TimeOfDay struct{ Hour, Minute int }

// String formats t as "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// Valid reports whether t is between 00:00 and 23:59.
func (t TimeOfDay) Valid() bool {
	return t.Hour >= 0 && t.Hour <= 23 && t.Minute >= 0 && t.Minute <= 59
}

// ParseTimeOfDay parses "HH:MM" on a 24-hour clock, 00:00..23:59, with
// exactly two ASCII digits on each side of the colon.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	if len(s) != 5 || s[2] != ':' || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[3]) || !isDigit(s[4]) {
		return TimeOfDay{}, fmt.Errorf("time of day %q is not in HH:MM form; use two digits for the hour and two for the minute, for example 02:30", s)
	}
	t := TimeOfDay{
		Hour:   int(s[0]-'0')*10 + int(s[1]-'0'),
		Minute: int(s[3]-'0')*10 + int(s[4]-'0'),
	}
	if !t.Valid() {
		return TimeOfDay{}, fmt.Errorf("time of day %q is out of range; use 00:00 to 23:59", s)
	}
	return t, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ParseWeekday parses an English day name, full ("monday") or three letters
// ("mon"), in any case.
func ParseWeekday(s string) (time.Weekday, error) {
	lower := strings.ToLower(s)
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if lower == name || lower == name[:3] {
			return d, nil
		}
	}
	return 0, fmt.Errorf("day of week %q is not recognised; use monday..sunday or mon..sun", s)
}

// LoadLocation loads an IANA time zone such as "Europe/Berlin" or "UTC".
//
// Unlike time.LoadLocation it rejects "" and "Local": both would make the
// schedule depend on the machine Terraform happens to run on.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("time zone %q is not allowed; use an IANA time zone name such as UTC or Europe/Berlin", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is not a known IANA time zone; use a name such as UTC, America/New_York or Europe/Berlin", name)
	}
	return loc, nil
}
