package password

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/problem"
)

// seeded returns a deterministic random reader so that statistical tests
// cannot flake.
func seeded(seed uint64) io.Reader {
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	return rand.NewChaCha8(key)
}

// checkPassword returns every way pw breaks p or contains username.
func checkPassword(p Policy, username, pw string) error {
	var errs []error
	if len(pw) != p.Length {
		errs = append(errs, fmt.Errorf("length %d, want %d", len(pw), p.Length))
	}
	symbols := p.Symbols
	var lower, upper, digit, symbol int
	for i := 0; i < len(pw); i++ {
		c := pw[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower++
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= '0' && c <= '9':
			digit++
		case strings.IndexByte(symbols, c) >= 0:
			symbol++
		default:
			errs = append(errs, fmt.Errorf("character %q at %d is in no class", c, i))
		}
		if c < 0x21 || c > 0x7e {
			errs = append(errs, fmt.Errorf("character %q at %d is not printable ASCII", c, i))
		}
		if p.ExcludeLookalikes && strings.IndexByte(Lookalikes, c) >= 0 {
			errs = append(errs, fmt.Errorf("lookalike %q at %d", c, i))
		}
		if p.NoRepeats && i > 0 && pw[i-1] == c {
			errs = append(errs, fmt.Errorf("repeated %q at %d", c, i))
		}
	}
	for _, m := range []struct {
		name      string
		got, want int
	}{{"lower", lower, p.MinLower}, {"upper", upper, p.MinUpper}, {"digits", digit, p.MinDigits}, {"symbols", symbol, p.MinSymbols}} {
		if m.got < m.want {
			errs = append(errs, fmt.Errorf("%d %s, want at least %d", m.got, m.name, m.want))
		}
	}
	if len([]rune(username)) >= 3 && strings.Contains(strings.ToLower(pw), strings.ToLower(username)) {
		errs = append(errs, fmt.Errorf("contains the username %q", username))
	}
	return errors.Join(errs...)
}

var validPolicies = []struct {
	name     string
	policy   Policy
	username string
}{
	{"minimal length, no minimums", Policy{Length: 8}, ""},
	{"all classes", Policy{Length: 32, MinLower: 2, MinUpper: 2, MinDigits: 2, MinSymbols: 2, Symbols: DefaultSymbols}, "orders_app"},
	{"minimums fill the length", Policy{Length: 8, MinLower: 2, MinUpper: 2, MinDigits: 2, MinSymbols: 2, Symbols: DefaultSymbols}, "app"},
	{"max length", Policy{Length: 256, MinSymbols: 10, Symbols: DefaultSymbols}, "admin"},
	{"no repeats at max length", Policy{Length: 256, MinDigits: 100, NoRepeats: true}, "root"},
	{"no repeats, one-char symbols packed", Policy{Length: 9, MinSymbols: 5, Symbols: "#", NoRepeats: true}, ""},
	{"no repeats, two-char symbols packed", Policy{Length: 12, MinSymbols: 12, Symbols: "#%", NoRepeats: true}, ""},
	{"lookalikes excluded", Policy{Length: 40, MinLower: 5, MinUpper: 5, MinDigits: 5, MinSymbols: 5, Symbols: "|!'\"#`", ExcludeLookalikes: true}, "svc"},
	{"lookalikes and no repeats, digits only", Policy{Length: 64, MinDigits: 64, ExcludeLookalikes: true, NoRepeats: true}, "123"},
	{"wide symbol set", Policy{Length: 20, MinSymbols: 20, Symbols: `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~` + "`"}, ""},
	{"symbols allowed, not required", Policy{Length: 16, Symbols: DefaultSymbols}, "db-user"},
}

func TestGenerateSatisfiesPolicy(t *testing.T) {
	t.Parallel()
	for i, tc := range validPolicies {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if problems := tc.policy.Validate(); problems != nil {
				t.Fatalf("Validate() = %v, want no problems", problems)
			}
			rng := seeded(uint64(i))
			for draw := range 1000 {
				pw, err := Generate(tc.policy, tc.username, rng)
				if err != nil {
					t.Fatalf("draw %d: Generate() error: %v", draw, err)
				}
				if err := checkPassword(tc.policy, tc.username, pw); err != nil {
					t.Fatalf("draw %d: %q breaks the policy: %v", draw, pw, err)
				}
			}
		})
	}
}

func TestGenerateUsesCryptoRandByDefault(t *testing.T) {
	t.Parallel()
	p := Policy{Length: 32, MinLower: 1, MinUpper: 1, MinDigits: 1, MinSymbols: 1, Symbols: DefaultSymbols}
	seen := make(map[string]bool)
	for range 100 {
		pw, err := Generate(p, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkPassword(p, "", pw); err != nil {
			t.Fatal(err)
		}
		if seen[pw] {
			t.Fatal("crypto/rand produced the same 32-character password twice")
		}
		seen[pw] = true
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		policy     Policy
		wantFields []string
	}{
		{"too short", Policy{Length: 7}, []string{"Length"}},
		{"too long", Policy{Length: 257}, []string{"Length"}},
		{"zero length", Policy{}, []string{"Length"}},
		{"negative minimum", Policy{Length: 8, MinDigits: -1}, []string{"MinDigits"}},
		{"every minimum negative", Policy{Length: 8, MinLower: -1, MinUpper: -1, MinDigits: -1, MinSymbols: -1, Symbols: "-"}, []string{"MinLower", "MinUpper", "MinDigits", "MinSymbols"}},
		{"minimums exceed length", Policy{Length: 8, MinLower: 3, MinUpper: 3, MinDigits: 3}, []string{"Length"}},
		{"symbols required but empty", Policy{Length: 8, MinSymbols: 1}, []string{"Symbols"}},
		{"symbol is a letter", Policy{Length: 8, Symbols: "-a"}, []string{"Symbols"}},
		{"symbol is a digit", Policy{Length: 8, Symbols: "5"}, []string{"Symbols"}},
		{"symbol is a space", Policy{Length: 8, Symbols: "- "}, []string{"Symbols"}},
		{"symbol is a control character", Policy{Length: 8, Symbols: "-\t"}, []string{"Symbols"}},
		{"symbol is DEL", Policy{Length: 8, Symbols: "-\x7f"}, []string{"Symbols"}},
		{"symbol is not ASCII", Policy{Length: 8, Symbols: "-§"}, []string{"Symbols"}},
		{"symbol is invalid UTF-8", Policy{Length: 8, Symbols: "-\xff"}, []string{"Symbols"}},
		{"duplicate symbol", Policy{Length: 8, Symbols: "-+-"}, []string{"Symbols"}},
		{"lookalikes empty the symbols", Policy{Length: 8, MinSymbols: 1, Symbols: "|'`", ExcludeLookalikes: true}, []string{"ExcludeLookalikes"}},
		{"lookalikes empty optional symbols", Policy{Length: 8, Symbols: "|", ExcludeLookalikes: true}, []string{"ExcludeLookalikes"}},
		{"no repeats infeasible with one symbol", Policy{Length: 8, MinSymbols: 5, Symbols: "#", NoRepeats: true}, []string{"NoRepeats"}},
		{"no repeats infeasible after lookalike removal", Policy{Length: 10, MinSymbols: 6, Symbols: "|#", ExcludeLookalikes: true, NoRepeats: true}, []string{"NoRepeats"}},
		{"length and minimums both wrong", Policy{Length: 300, MinLower: -2}, []string{"Length", "MinLower"}},
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
			if _, err := Generate(tc.policy, "", seeded(1)); !errors.As(err, new(*InvalidPolicyError)) {
				t.Errorf("Generate() error = %v, want *InvalidPolicyError", err)
			}
		})
	}
}

func TestValidateAcceptsBoundaries(t *testing.T) {
	t.Parallel()
	for _, p := range []Policy{
		{Length: 8},
		{Length: 256},
		{Length: 9, MinSymbols: 5, Symbols: "#", NoRepeats: true},
		{Length: 8, MinLower: 8},
		{Length: 8, Symbols: `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~` + "`"},
		{Length: 8, Symbols: "|-", MinSymbols: 1, ExcludeLookalikes: true},
	} {
		if problems := p.Validate(); problems != nil {
			t.Errorf("%+v: Validate() = %v, want none", p, problems)
		}
	}
}

func TestDefaultSymbolsAreSafe(t *testing.T) {
	t.Parallel()
	// Characters that need escaping in a mongodb:// userinfo, that a POSIX
	// shell interprets unquoted, or that readers confuse.
	const unsafe = `:/?#[]@%` + `!$&()*;<>|'"\` + "`~{}^ " + Lookalikes
	for _, c := range DefaultSymbols {
		if strings.ContainsRune(unsafe, c) {
			t.Errorf("DefaultSymbols contains %q", c)
		}
	}
	if problems := (Policy{Length: 8, MinSymbols: 1, Symbols: DefaultSymbols, ExcludeLookalikes: true}).Validate(); problems != nil {
		t.Errorf("DefaultSymbols do not validate: %v", problems)
	}
}

func TestContainsUsername(t *testing.T) {
	t.Parallel()
	tests := []struct {
		password, username string
		want               bool
	}{
		{"xxAdMinxx", "admin", true},
		{"xxadminxx", "ADMIN", true},
		{"abcdefgh", "abc", true},
		{"abcdefgh", "fgh", true},
		{"abcdefgh", "ab", false}, // too short to matter
		{"abcdefgh", "", false},
		{"abcdefgh", "abd", false},
		{"x-y_zABC", "-Y_", true},
	}
	for _, tc := range tests {
		if got := containsUsername(tc.password, tc.username); got != tc.want {
			t.Errorf("containsUsername(%q, %q) = %v, want %v", tc.password, tc.username, got, tc.want)
		}
	}
}

func TestGenerateAvoidsUsername(t *testing.T) {
	t.Parallel()
	// Two symbols make up 12 of 16 characters, so roughly a third of raw
	// draws contain "-+-"; Generate must redraw every one of them.
	p := Policy{Length: 16, MinSymbols: 12, Symbols: "-+"}
	rng := seeded(7)
	for draw := range 1000 {
		pw, err := Generate(p, "-+-", rng)
		if err != nil {
			t.Fatalf("draw %d: %v", draw, err)
		}
		if strings.Contains(pw, "-+-") {
			t.Fatalf("draw %d contains the username", draw)
		}
	}

	// Case-insensitive: any of the eight case variants of "abc" appears in
	// about 0.85% of raw 256-character draws, so 2,000 draws exercise the
	// redraw many times.
	p = Policy{Length: 256}
	for draw := range 2000 {
		pw, err := Generate(p, "aBc", rng)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(pw), "abc") {
			t.Fatalf("draw %d contains the username in some case", draw)
		}
	}
}

func TestGenerateUnavoidableUsername(t *testing.T) {
	t.Parallel()
	p := Policy{Length: 16, MinSymbols: 16, Symbols: "-"}
	pw, err := Generate(p, "---", seeded(1))
	if !errors.Is(err, ErrContainsUsername) {
		t.Fatalf("Generate() = %q, %v; want ErrContainsUsername", pw, err)
	}
	if pw != "" || strings.Contains(err.Error(), strings.Repeat("-", 4)) {
		t.Errorf("the error or result leaks generated material: %q, %q", pw, err)
	}
}

// permutationReader returns every byte value exactly once per 256 bytes, in
// the scattered order k*167 mod 256, forever. Over whole cycles an unbiased
// sampler must return every value in [0, n) exactly equally often; a modulo
// reduction would not. (A plain 0, 1, 2, ... counter would put up to 127
// rejected values in a row, which the sampler rightly treats as a broken
// source.)
type permutationReader struct{ k int }

func (r *permutationReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.k * 167)
		r.k++
	}
	return len(p), nil
}

func TestIntnHasNoModuloBias(t *testing.T) {
	t.Parallel()
	// Alphabets, shuffles and layouts never exceed 256 choices, so every
	// draw is a single byte.
	for n := 1; n <= 256; n++ {
		src := newRandomSource(&permutationReader{})
		mask := 1
		for mask < n {
			mask <<= 1
		}
		// One cycle of 256 bytes masked to [0, mask) holds each accepted
		// value 256/mask times; draw two whole cycles' worth.
		draws := n * (256 / mask) * 2
		counts := make([]int, n)
		for range draws {
			v, err := src.intn(n)
			if err != nil {
				t.Fatalf("intn(%d): %v", n, err)
			}
			counts[v]++
		}
		for v, c := range counts {
			if c != draws/n {
				t.Fatalf("intn(%d) returned %d %d times, want exactly %d: biased", n, v, c, draws/n)
			}
		}
	}
}

type constantReader byte

func (r constantReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy source unplugged") }

func TestGenerateBrokenRandomSource(t *testing.T) {
	t.Parallel()
	p := Policy{Length: 32, MinLower: 2, MinUpper: 2, MinDigits: 2, MinSymbols: 2, Symbols: DefaultSymbols, NoRepeats: true}
	tests := []struct {
		name    string
		rng     io.Reader
		wantErr error // nil: the result must satisfy the policy
	}{
		// 0xff masked is always the largest value of the mask, out of range
		// for any alphabet that is not a power of two: rejection sampling
		// must give up instead of spinning.
		{"all 0xff", constantReader(0xff), ErrRandomSource},
		// 0x00 is always in range: the output is degenerate but must still
		// follow every rule, including NoRepeats.
		{"all 0x00", constantReader(0x00), nil},
		{"read error", failingReader{}, nil},
		{"short stream", bytes.NewReader(make([]byte, 10)), io.ErrUnexpectedEOF},
		{"empty stream", bytes.NewReader(nil), io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			done := make(chan struct{})
			var pw string
			var err error
			go func() {
				defer close(done)
				pw, err = Generate(p, "", tc.rng)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Generate did not return: unbounded retries on a broken random source")
			}
			switch {
			case tc.name == "read error":
				if err == nil || !strings.Contains(err.Error(), "entropy source unplugged") {
					t.Errorf("Generate() error = %v, want the reader's error", err)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("Generate() error = %v, want %v", err, tc.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("Generate() error = %v", err)
				}
				if err := checkPassword(p, "", pw); err != nil {
					t.Errorf("degenerate output breaks the policy: %v", err)
				}
			}
			if err != nil && pw != "" {
				t.Errorf("Generate returned material alongside an error")
			}
		})
	}
}

// chiSquareCritical approximates the chi-square quantile for df degrees of
// freedom at z = 6 standard deviations (Wilson–Hilferty), which puts a
// false alarm near 1e-9: generous, and the seeded reader makes the test
// deterministic anyway.
func chiSquareCritical(df int) float64 {
	const z = 6.0
	d := float64(df)
	return d * math.Pow(1-2/(9*d)+z*math.Sqrt(2/(9*d)), 3)
}

func chiSquare(observed []int, expected []float64) float64 {
	var sum float64
	for i := range observed {
		diff := float64(observed[i]) - expected[i]
		sum += diff * diff / expected[i]
	}
	return sum
}

func TestChiSquareDetectsModuloBias(t *testing.T) {
	t.Parallel()
	// The check used below must be sharp enough to catch the classic bug:
	// byte % 26.
	rng := seeded(3)
	const draws = 100_000
	counts := make([]int, 26)
	buf := make([]byte, draws)
	if _, err := io.ReadFull(rng, buf); err != nil {
		t.Fatal(err)
	}
	for _, b := range buf {
		counts[int(b)%26]++
	}
	expected := make([]float64, 26)
	for i := range expected {
		expected[i] = draws / 26.0
	}
	if stat := chiSquare(counts, expected); stat <= chiSquareCritical(25) {
		t.Fatalf("chi-square %.1f did not flag modulo bias (critical %.1f)", stat, chiSquareCritical(25))
	}
	// And an unbiased sampler over the same bytes passes.
	src := newRandomSource(seeded(3))
	clear(counts)
	for range draws {
		v, err := src.intn(26)
		if err != nil {
			t.Fatal(err)
		}
		counts[v]++
	}
	if stat := chiSquare(counts, expected); stat > chiSquareCritical(25) {
		t.Fatalf("chi-square %.1f flags the unbiased sampler (critical %.1f)", stat, chiSquareCritical(25))
	}
}

func TestGenerateDistribution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy Policy
	}{
		{"all classes", Policy{Length: 12, MinLower: 2, MinUpper: 2, MinDigits: 2, MinSymbols: 2, Symbols: DefaultSymbols}},
		{"no minimums", Policy{Length: 8, Symbols: DefaultSymbols}},
		{"lookalikes excluded", Policy{Length: 10, MinDigits: 3, MinSymbols: 1, Symbols: "#|", ExcludeLookalikes: true}},
	}
	const draws = 20_000
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGenerator(tc.policy)
			alphabet := g.alphabets[classAny]
			// Expected count of each character over all draws: its share of
			// its class's required positions plus its share of the free
			// positions.
			expected := make([]float64, len(alphabet))
			index := make(map[byte]int, len(alphabet))
			for j := 0; j < len(alphabet); j++ {
				index[alphabet[j]] = j
				for class := range classAny {
					if strings.IndexByte(g.alphabets[class], alphabet[j]) >= 0 {
						expected[j] = draws * (float64(g.minimums[class])/float64(len(g.alphabets[class])) +
							float64(g.minimums[classAny])/float64(len(alphabet)))
					}
				}
			}
			counts := make([]int, len(alphabet))
			// Class of the character at each position: the shuffle must
			// put every class equally often at every position.
			byPosition := make([][]int, classAny)
			for class := range byPosition {
				byPosition[class] = make([]int, tc.policy.Length)
			}
			rng := seeded(uint64(100 + i))
			for range draws {
				pw, err := Generate(tc.policy, "", rng)
				if err != nil {
					t.Fatal(err)
				}
				for pos := 0; pos < len(pw); pos++ {
					j, ok := index[pw[pos]]
					if !ok {
						t.Fatalf("unexpected character %q", pw[pos])
					}
					counts[j]++
					for class := range classAny {
						if strings.IndexByte(g.alphabets[class], pw[pos]) >= 0 {
							byPosition[class][pos]++
						}
					}
				}
			}
			if stat, crit := chiSquare(counts, expected), chiSquareCritical(len(alphabet)-1); stat > crit {
				t.Errorf("character frequencies: chi-square %.1f > %.1f", stat, crit)
			}
			for class, positions := range byPosition {
				total := 0
				for _, c := range positions {
					total += c
				}
				if total == 0 {
					continue
				}
				uniform := make([]float64, len(positions))
				for pos := range uniform {
					uniform[pos] = float64(total) / float64(len(positions))
				}
				if stat, crit := chiSquare(positions, uniform), chiSquareCritical(len(positions)-1); stat > crit {
					t.Errorf("class %d by position: chi-square %.1f > %.1f: positions are not uniformly shuffled", class, stat, crit)
				}
			}
		})
	}
}

func TestOneSymbolLayoutIsUniform(t *testing.T) {
	t.Parallel()
	// Length 9 with 5 copies of a single symbol and no repeats forces the
	// symbols onto every other position. Length 10 allows 6 non-adjacent
	// layouts (choose 5 of 6 gaps); each must be equally likely.
	p := Policy{Length: 10, MinSymbols: 5, Symbols: "#", NoRepeats: true}
	layouts := map[string]int{}
	rng := seeded(11)
	const draws = 12_000
	for range draws {
		pw, err := Generate(p, "", rng)
		if err != nil {
			t.Fatal(err)
		}
		mask := []byte(pw)
		for i := range mask {
			if mask[i] != '#' {
				mask[i] = '.'
			}
		}
		layouts[string(mask)]++
	}
	// Free positions draw from the union, which includes "#", but in every
	// five-symbol layout of length 10 each free position touches a "#", so
	// NoRepeats keeps it out and every output has exactly five.
	var observed []int
	for layout, c := range layouts {
		if strings.Count(layout, "#") != 5 {
			t.Fatalf("layout %s has %d symbols, want 5", layout, strings.Count(layout, "#"))
		}
		observed = append(observed, c)
	}
	if len(observed) != 6 {
		t.Fatalf("saw %d five-symbol layouts, want 6: %v", len(observed), layouts)
	}
	total := 0
	for _, c := range observed {
		total += c
	}
	expected := slices.Repeat([]float64{float64(total) / 6}, 6)
	if stat, crit := chiSquare(observed, expected), chiSquareCritical(5); stat > crit {
		t.Errorf("layouts are not uniform: chi-square %.1f > %.1f: %v", stat, crit, layouts)
	}
}

func BenchmarkGenerate(b *testing.B) {
	p := Policy{Length: 32, MinLower: 2, MinUpper: 2, MinDigits: 2, MinSymbols: 2, Symbols: DefaultSymbols}
	for b.Loop() {
		if _, err := Generate(p, "orders_app", nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateNoRepeatsMaxLength(b *testing.B) {
	p := Policy{Length: 256, MinLower: 2, MinUpper: 2, MinDigits: 2, MinSymbols: 2, Symbols: DefaultSymbols, NoRepeats: true, ExcludeLookalikes: true}
	for b.Loop() {
		if _, err := Generate(p, "orders_app", nil); err != nil {
			b.Fatal(err)
		}
	}
}
