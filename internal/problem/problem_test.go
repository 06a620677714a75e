package problem

import (
	"slices"
	"testing"
)

func TestListAndFields(t *testing.T) {
	t.Parallel()
	var l List
	l.Add("Times", "time %q is given twice.", "02:30")
	l.Add("Frequency", "frequency must be positive, got %d.", -1)
	l.Add("Times", "times need a frequency.")
	if got := l[0].String(); got != `Times: time "02:30" is given twice.` {
		t.Errorf("String() = %q", got)
	}
	if got := Fields(l); !slices.Equal(got, []string{"Frequency", "Times"}) {
		t.Errorf("Fields() = %v", got)
	}
	if Fields(nil) != nil {
		t.Error("Fields(nil) is not nil")
	}
}
