package password

import (
	"errors"
	"fmt"
	"io"
)

// maxRejections bounds the rejection sampling in randomSource.intn. Each draw
// is rejected with probability below 1/2 (values are masked to the smallest
// power of two >= n), so an honest random source fails 64 draws in a row with
// probability below 2^-64. A broken source (all 0xff bytes, say) fails fast
// instead of spinning forever.
const maxRejections = 64

// ErrRandomSource reports a random source that keeps producing values
// outside the requested range, which a working random source does not do.
var ErrRandomSource = errors.New("the random source is not producing usable random bytes")

// randomSource draws unbiased integers from an io.Reader, reading it in
// blocks so that crypto/rand is not called once per character.
type randomSource struct {
	r   io.Reader
	buf [64]byte
	pos int
	end int
}

func newRandomSource(r io.Reader) *randomSource {
	return &randomSource{r: r}
}

func (s *randomSource) readByte() (byte, error) {
	if s.pos == s.end {
		n, err := io.ReadFull(s.r, s.buf[:])
		if err != nil {
			return 0, fmt.Errorf("reading random bytes: %w", err)
		}
		s.pos, s.end = 0, n
	}
	b := s.buf[s.pos]
	s.pos++
	return b, nil
}

// intn returns a uniformly distributed integer in [0, n), 1 <= n <= 1<<24.
//
// It reads just enough bytes for n-1, masks them to the bit length of n-1 and
// rejects values >= n: the rejection (not a modulo) is what keeps every
// result equally likely.
func (s *randomSource) intn(n int) (int, error) {
	if n <= 0 || n > 1<<24 {
		panic(fmt.Sprintf("password: intn(%d) out of range", n))
	}
	if n == 1 {
		return 0, nil
	}
	limit := uint32(n - 1)
	mask := uint32(1)
	for mask < limit {
		mask = mask<<1 | 1
	}
	byteCount := 1
	for limit>>(8*byteCount) != 0 {
		byteCount++
	}
	for range maxRejections {
		var v uint32
		for range byteCount {
			b, err := s.readByte()
			if err != nil {
				return 0, err
			}
			v = v<<8 | uint32(b)
		}
		v &= mask
		if v < uint32(n) {
			return int(v), nil
		}
	}
	return 0, fmt.Errorf("%w: %d draws in a row were out of range", ErrRandomSource, maxRejections)
}
