// Package problem is how the policy engines (password, schedule) report a
// setting a user must change: which field, and a sentence to act on. Both
// use this one type, so the provider turns either into plan-time
// diagnostics the same way.
package problem

import (
	"fmt"
	"slices"
)

// Problem is one violated rule. Field is the engine's Go struct field name
// ("Length", "Frequency"); Message is a sentence ending in a period.
type Problem struct {
	Field   string
	Message string
}

func (p Problem) String() string { return p.Field + ": " + p.Message }

// List collects problems in the order they are found.
type List []Problem

// Add appends a problem with a formatted message.
func (l *List) Add(field, format string, args ...any) {
	*l = append(*l, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Fields returns the distinct fields that have problems, sorted.
func Fields(problems []Problem) []string {
	var fields []string
	for _, p := range problems {
		if !slices.Contains(fields, p.Field) {
			fields = append(fields, p.Field)
		}
	}
	slices.Sort(fields)
	return fields
}
