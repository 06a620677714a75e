package password

import (
	"errors"
	"testing"
)

// FuzzGenerate checks that Generate either rejects a policy Validate
// rejects, or returns a password satisfying every rule, or reports that the
// username cannot be avoided.
func FuzzGenerate(f *testing.F) {
	f.Add(32, 2, 2, 2, 2, DefaultSymbols, false, false, "orders_app", uint64(1))
	f.Add(8, 2, 2, 2, 2, DefaultSymbols, true, true, "app", uint64(2))
	f.Add(9, 0, 0, 0, 5, "#", false, true, "", uint64(3))
	f.Add(256, 0, 0, 100, 0, "", true, true, "root", uint64(4))
	f.Add(16, 0, 0, 0, 12, "-+", false, false, "-+-", uint64(5))
	f.Add(7, 0, 0, 0, 0, "", false, false, "", uint64(6))
	f.Add(12, 0, 0, 0, 1, "|'", true, false, "", uint64(7))
	f.Fuzz(func(t *testing.T, length, minLower, minUpper, minDigits, minSymbols int, symbols string, excludeLookalikes, noRepeats bool, username string, seed uint64) {
		p := Policy{
			Length:            length,
			MinLower:          minLower,
			MinUpper:          minUpper,
			MinDigits:         minDigits,
			MinSymbols:        minSymbols,
			Symbols:           symbols,
			ExcludeLookalikes: excludeLookalikes,
			NoRepeats:         noRepeats,
		}
		problems := p.Validate()
		pw, err := Generate(p, username, seeded(seed))
		switch {
		case len(problems) > 0:
			if !errors.As(err, new(*InvalidPolicyError)) {
				t.Fatalf("Validate() = %v but Generate() error = %v", problems, err)
			}
		case errors.Is(err, ErrContainsUsername):
			// Only possible when the username is built from forced
			// characters; the result must still be empty.
			if pw != "" {
				t.Fatal("Generate returned material alongside an error")
			}
		case err != nil:
			t.Fatalf("valid policy %+v: Generate() error = %v", p, err)
		default:
			if err := checkPassword(p, username, pw); err != nil {
				t.Fatalf("policy %+v, username %q: %q: %v", p, username, pw, err)
			}
		}
	})
}
