package password

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/segura-community/terraform-provider-segura/internal/problem"
)

// maxUsernameAttempts bounds how often Generate draws a fresh password
// because the previous one contained the username. For any valid policy and
// a username of three or more characters the chance of a single draw
// containing it is far below 1%, so running out of attempts means the
// username is made of the few characters the policy forces (for example a
// username of symbols only), not bad luck.
const maxUsernameAttempts = 100

// minUsernameLength is the shortest username Generate keeps out of
// passwords. Shorter names (one or two characters) would appear by chance in
// a large share of passwords, and excluding them adds nothing.
const minUsernameLength = 3

// ErrContainsUsername is returned when Generate cannot produce a password
// without the username in it.
var ErrContainsUsername = errors.New("every generated password contained the username")

// InvalidPolicyError is returned by Generate for a policy that Validate
// rejects.
type InvalidPolicyError struct {
	Problems []problem.Problem
}

func (e *InvalidPolicyError) Error() string {
	messages := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		messages[i] = p.String()
	}
	return "invalid password policy: " + strings.Join(messages, " ")
}

// Generate returns a new password that satisfies p and does not contain
// username (compared case-insensitively, for usernames of three or more
// characters). rng is the source of randomness; nil means crypto/rand.Reader.
// Tests pass a seeded reader.
//
// How a password is built:
//
//  1. Each position gets a class label: MinLower "lower" labels, MinUpper
//     "upper", MinDigits "digit", MinSymbols "symbol", and "any" for the
//     rest. The labels are shuffled with Fisher–Yates using unbiased indexes,
//     so required characters are equally likely to be anywhere.
//  2. Each position is filled with a character drawn uniformly from its
//     label's alphabet ("any" draws from the union of all classes).
//
// With NoRepeats, a position draws uniformly from its alphabet minus the
// character before it (and minus the next position's character when that
// position belongs to a one-character class). When the symbol alphabet has a
// single character, its positions are chosen uniformly among the layouts in
// which no two of them are adjacent.
//
// Errors never contain generated material.
func Generate(p Policy, username string, rng io.Reader) (string, error) {
	if problems := p.Validate(); len(problems) > 0 {
		return "", &InvalidPolicyError{Problems: problems}
	}
	if rng == nil {
		rng = rand.Reader
	}
	g := newGenerator(p)
	src := newRandomSource(rng)

	for range maxUsernameAttempts {
		password, err := g.generate(src)
		if err != nil {
			return "", err
		}
		if !containsUsername(password, username) {
			return password, nil
		}
	}
	return "", fmt.Errorf("%w after %d attempts; the username is made of characters the policy requires, so choose different symbols or minimums", ErrContainsUsername, maxUsernameAttempts)
}

// containsUsername reports whether password contains username, ignoring
// case, for usernames of at least minUsernameLength characters.
func containsUsername(password, username string) bool {
	if utf8.RuneCountInString(username) < minUsernameLength {
		return false
	}
	return strings.Contains(strings.ToLower(password), strings.ToLower(username))
}

// Class labels, indexes into generator.alphabets.
const (
	classLower = iota
	classUpper
	classDigit
	classSymbol
	classAny
	classCount
)

type generator struct {
	policy    Policy
	alphabets [classCount]string
	minimums  [classCount]int
}

func newGenerator(p Policy) *generator {
	g := &generator{policy: p}
	g.alphabets[classLower] = p.filter(lowerLetters)
	g.alphabets[classUpper] = p.filter(upperLetters)
	g.alphabets[classDigit] = p.filter(digits)
	g.alphabets[classSymbol] = p.symbolAlphabet()
	g.alphabets[classAny] = g.alphabets[classLower] + g.alphabets[classUpper] + g.alphabets[classDigit] + g.alphabets[classSymbol]
	g.minimums = [classCount]int{p.MinLower, p.MinUpper, p.MinDigits, p.MinSymbols, 0}
	g.minimums[classAny] = p.Length - p.MinLower - p.MinUpper - p.MinDigits - p.MinSymbols
	return g
}

func (g *generator) generate(src *randomSource) (string, error) {
	labels, err := g.layout(src)
	if err != nil {
		return "", err
	}
	password := make([]byte, len(labels))
	var excludeBuf [2]byte
	for i, label := range labels {
		alphabet := g.alphabets[label]
		exclude := excludeBuf[:0]
		if g.policy.NoRepeats {
			if i > 0 {
				exclude = append(exclude, password[i-1])
			}
			if i+1 < len(labels) && len(g.alphabets[labels[i+1]]) == 1 {
				exclude = append(exclude, g.alphabets[labels[i+1]][0])
			}
		}
		c, err := pick(src, alphabet, exclude)
		if err != nil {
			return "", err
		}
		password[i] = c
	}
	return string(password), nil
}

// layout returns one class label per position, uniformly shuffled.
func (g *generator) layout(src *randomSource) ([]int, error) {
	n := g.policy.Length
	singleSymbol := g.policy.NoRepeats && len(g.alphabets[classSymbol]) == 1 && g.minimums[classSymbol] > 0

	others := make([]int, 0, n)
	for class := range classCount {
		if singleSymbol && class == classSymbol {
			continue
		}
		for range g.minimums[class] {
			others = append(others, class)
		}
	}
	if err := shuffle(src, others); err != nil {
		return nil, err
	}
	if !singleSymbol {
		return others, nil
	}

	// Choose m pairwise non-adjacent positions out of n uniformly: choose m
	// of n-m+1 slots uniformly, sort them, and spread the k-th one by k.
	// This is a bijection onto the non-adjacent layouts.
	m := g.minimums[classSymbol]
	slots := make([]int, n-m+1)
	for i := range slots {
		slots[i] = i
	}
	for i := range m {
		j, err := src.intn(len(slots) - i)
		if err != nil {
			return nil, err
		}
		slots[i], slots[i+j] = slots[i+j], slots[i]
	}
	chosen := slots[:m]
	slices.Sort(chosen)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1
	}
	for k, s := range chosen {
		labels[s+k] = classSymbol
	}
	next := 0
	for i := range labels {
		if labels[i] == -1 {
			labels[i] = others[next]
			next++
		}
	}
	return labels, nil
}

// shuffle is a Fisher–Yates shuffle with unbiased indexes.
func shuffle(src *randomSource, s []int) error {
	for i := len(s) - 1; i > 0; i-- {
		j, err := src.intn(i + 1)
		if err != nil {
			return err
		}
		s[i], s[j] = s[j], s[i]
	}
	return nil
}

// pick draws a character uniformly from alphabet minus the bytes in exclude.
// Callers guarantee at least one character remains.
func pick(src *randomSource, alphabet string, exclude []byte) (byte, error) {
	excluded := 0
	for i := range exclude {
		if strings.IndexByte(alphabet, exclude[i]) >= 0 && slices.Index(exclude[:i], exclude[i]) < 0 {
			excluded++
		}
	}
	k, err := src.intn(len(alphabet) - excluded)
	if err != nil {
		return 0, err
	}
	for i := 0; i < len(alphabet); i++ {
		if slices.Contains(exclude, alphabet[i]) {
			continue
		}
		if k == 0 {
			return alphabet[i], nil
		}
		k--
	}
	panic("password: pick ran past the alphabet")
}
