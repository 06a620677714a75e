// Package password validates password-strength policies and generates
// passwords that satisfy them.
//
// Generated passwords are ASCII only: lower-case letters, upper-case letters,
// digits and a configurable set of printable ASCII symbols. Every such
// character passes SASLprep (RFC 4013) unchanged: SASLprep only maps
// non-ASCII spaces and "commonly mapped to nothing" code points and only
// prohibits control, private-use, non-character and similar code points,
// none of which are printable ASCII. A generated password therefore reaches
// MongoDB's SCRAM-SHA-256 exactly as it is stored in Key Vault.
package password

import (
	"strings"

	"github.com/segura-community/terraform-provider-segura/internal/problem"
)

// Length bounds for Policy.Length.
const (
	MinLength = 8
	MaxLength = 256
)

// DefaultSymbols is the symbol alphabet used when a configuration does not
// choose one.
//
// Every character in it is safe in the three places a rotated password
// usually ends up without quoting or escaping:
//
//   - URIs: "-", ".", "_" are RFC 3986 unreserved characters and "+", ",",
//     "=" are sub-delims, all of which may appear unescaped in the userinfo
//     part of a mongodb:// connection string. The characters the MongoDB
//     connection string specification requires to be percent-encoded in a
//     password (":", "/", "?", "#", "[", "]", "@", "%") are left out.
//   - POSIX shells: none of them is a metacharacter, a quote, a glob, a
//     history expansion ("!") or a parameter/tilde expansion ("$", "~"), so
//     `export PW=<password>` and `mongosh -p <password>` work unquoted.
//   - SASLprep: all are printable ASCII, which SASLprep neither maps nor
//     prohibits.
//
// Users who need more symbols (for a system demanding a particular one)
// set Policy.Symbols explicitly.
const DefaultSymbols = "-._+,="

// Lookalikes are the characters dropped from every class when
// Policy.ExcludeLookalikes is set: characters that are easy to confuse with
// another character when a person reads a password aloud or types it from a
// screen (0/O/o, 1/l/I/|, and the three quote-like marks).
const Lookalikes = "0Oo1lI|`'\""

// Character classes a password is built from.
const (
	lowerLetters = "abcdefghijklmnopqrstuvwxyz"
	upperLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits       = "0123456789"
)

// Policy is a password-strength rule set.
//
// A zero minimum means the class is allowed but not required: every class
// with a non-empty alphabet may appear anywhere in the password. An empty
// Symbols string means the password contains no symbols at all; callers
// that want the default set it to DefaultSymbols (the Terraform schema
// does).
type Policy struct {
	// Length is the number of characters, MinLength..MaxLength.
	Length int

	// MinLower, MinUpper, MinDigits and MinSymbols are the least number of
	// characters from each class; each is >= 0.
	MinLower, MinUpper, MinDigits, MinSymbols int

	// Symbols is the symbol alphabet: printable ASCII, not a letter, digit
	// or space, each character at most once.
	Symbols string

	// ExcludeLookalikes drops the characters in Lookalikes from every class.
	ExcludeLookalikes bool

	// NoRepeats forbids the same character twice in a row.
	NoRepeats bool
}

// Validate reports every rule the policy breaks, or nil when Generate can
// always satisfy it. Each problem's Field is a Policy field name ("Length",
// "MinLower", "MinUpper", "MinDigits", "MinSymbols", "Symbols",
// "ExcludeLookalikes", "NoRepeats").
func (p Policy) Validate() []problem.Problem {
	var problems problem.List
	add := problems.Add

	if p.Length < MinLength || p.Length > MaxLength {
		add("Length", "length must be between %d and %d characters, got %d.", MinLength, MaxLength, p.Length)
	}

	minimums := []struct {
		field string
		value int
	}{
		{"MinLower", p.MinLower},
		{"MinUpper", p.MinUpper},
		{"MinDigits", p.MinDigits},
		{"MinSymbols", p.MinSymbols},
	}
	sum, negative := 0, false
	for _, m := range minimums {
		if m.value < 0 {
			add(m.field, "the minimum must be 0 or more, got %d.", m.value)
			negative = true
			continue
		}
		sum += m.value
	}
	if !negative && sum > p.Length && p.Length >= MinLength && p.Length <= MaxLength {
		add("Length", "length %d is shorter than the sum of the class minimums (%d lower + %d upper + %d digits + %d symbols = %d); raise the length or lower a minimum.",
			p.Length, p.MinLower, p.MinUpper, p.MinDigits, p.MinSymbols, sum)
	}

	symbolsValid := true
	seen := make(map[rune]bool, len(p.Symbols))
	for i, r := range p.Symbols {
		switch {
		case r > 0x7e || r < 0x20:
			add("Symbols", "symbols must be printable ASCII; the character at byte %d (%U) is not.", i, r)
			symbolsValid = false
		case r == ' ':
			add("Symbols", "symbols must not contain a space.")
			symbolsValid = false
		case isASCIIAlnum(byte(r)):
			add("Symbols", "symbols must not contain letters or digits (found %q); those are controlled by MinLower, MinUpper and MinDigits.", r)
			symbolsValid = false
		case seen[r]:
			add("Symbols", "symbols lists %q more than once; list each symbol once so that every symbol is equally likely.", r)
			symbolsValid = false
		}
		seen[r] = true
	}

	if p.MinSymbols > 0 && p.Symbols == "" {
		add("Symbols", "symbols is empty but the minimum number of symbols is %d; set symbols (for example %q) or set the symbol minimum to 0.", p.MinSymbols, DefaultSymbols)
	}

	if !symbolsValid {
		return problems
	}

	symbolClass := p.symbolAlphabet()
	if p.ExcludeLookalikes && p.Symbols != "" && symbolClass == "" {
		add("ExcludeLookalikes", "every symbol in %q is a lookalike, so excluding lookalikes leaves no symbols; add symbols outside %q or stop excluding lookalikes.", p.Symbols, Lookalikes)
	}

	// With NoRepeats, a class of one character can only fill every other
	// position. Classes of two or more characters (and the union of all
	// classes, which always has dozens) can always avoid repeating the
	// previous character.
	if p.NoRepeats && len(symbolClass) == 1 && p.MinSymbols > 0 && 2*p.MinSymbols-1 > p.Length {
		add("NoRepeats", "with no repeats, %d copies of the only symbol %q need a length of at least %d, got %d; add symbols, lower the symbol minimum or allow repeats.",
			p.MinSymbols, symbolClass, 2*p.MinSymbols-1, p.Length)
	}

	return problems
}

// symbolAlphabet returns Symbols with lookalikes removed when the policy
// excludes them.
func (p Policy) symbolAlphabet() string {
	return p.filter(p.Symbols)
}

func (p Policy) filter(alphabet string) string {
	if !p.ExcludeLookalikes {
		return alphabet
	}
	var b strings.Builder
	for i := 0; i < len(alphabet); i++ {
		if strings.IndexByte(Lookalikes, alphabet[i]) < 0 {
			b.WriteByte(alphabet[i])
		}
	}
	return b.String()
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
