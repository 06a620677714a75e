package kvemulator

import (
	"sort"
	"sync"
	"time"
)

// Names under which RequestCounts files the requests a vault answered. The
// operation names are those of the Key Vault secrets REST reference
// (https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/), except
// UpdateSecretProperties, which the reference calls "Update Secret" and
// azsecrets UpdateSecretProperties: the emulator uses the SDK's name so that
// "UpdateSecret" cannot be mistaken for a new version.
const (
	OpSetSecret              = "SetSecret"
	OpGetSecret              = "GetSecret"
	OpGetSecrets             = "GetSecrets"
	OpGetSecretVersions      = "GetSecretVersions"
	OpUpdateSecretProperties = "UpdateSecretProperties"
	OpDeleteSecret           = "DeleteSecret"
	OpGetDeletedSecret       = "GetDeletedSecret"
	OpGetDeletedSecrets      = "GetDeletedSecrets"
	OpRecoverDeletedSecret   = "RecoverDeletedSecret"
	OpPurgeDeletedSecret     = "PurgeDeletedSecret"
	OpBackupSecret           = "BackupSecret"
	OpRestoreSecret          = "RestoreSecret"

	// CountThrottled counts the 429 answers of the throttle.
	CountThrottled = "Throttled"
	// CountUnauthorized counts the 401 bearer challenges (azsecrets' probe
	// without a token included) and rejected tokens.
	CountUnauthorized = "Unauthorized"
	// CountInvalid counts requests answered 400, 404 or 405 before they
	// reached an operation: a missing or unknown api-version, an unknown
	// path, a method the path does not support.
	CountInvalid = "Invalid"
)

// maxCreateTimes bounds the per-vault record of accepted creates (about
// 24 MB at most); beyond it the oldest entries are dropped.
const maxCreateTimes = 1 << 20

// requestStats is one vault's request accounting.
type requestStats struct {
	mu          sync.Mutex
	counts      map[string]int
	createTimes []time.Time // oldest first
}

func (s *requestStats) count(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[string]int{}
	}
	s.counts[name]++
}

func (s *requestStats) created(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.createTimes) >= maxCreateTimes {
		s.createTimes = append(s.createTimes[:0:0], s.createTimes[len(s.createTimes)-maxCreateTimes+1:]...)
	}
	s.createTimes = append(s.createTimes, at)
}

func (s *requestStats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = nil
	s.createTimes = nil
}

// RequestCounts returns how many requests the vaults answered since Start or
// the last ResetRequestCounts, summed over every vault, keyed by operation
// name (OpSetSecret, OpGetSecret, ...) or by CountThrottled, CountUnauthorized
// and CountInvalid for the requests refused before they ran. A request is
// counted once, under the first of these that applies: Unauthorized (401),
// Invalid, Throttled (429), else its operation, whatever the operation then
// answered (200, 403 for a missing permission, 404, 409, ...). Requests that
// a fault answers, drops or holds until the client gives up never reach the
// vault and are not counted; identity (token) and admin requests are not
// counted either. Names with no request are absent.
func (e *Emulator) RequestCounts() map[string]int {
	out := map[string]int{}
	for _, v := range e.vaultList() {
		v.stats.mu.Lock()
		for name, n := range v.stats.counts {
			out[name] += n
		}
		v.stats.mu.Unlock()
	}
	return out
}

// ResetRequestCounts sets every vault's request counts to zero and forgets
// the recorded create times.
func (e *Emulator) ResetRequestCounts() {
	for _, v := range e.vaultList() {
		v.stats.reset()
	}
}

// CreateTimes returns, oldest first, when vaultName (case-insensitive)
// accepted each create (Set Secret, a new version) since Start or the last
// ResetRequestCounts: the instant the create passed the throttle, whether
// throttling is on or not, and before its permission or body was checked,
// so exactly the requests Limits.Creates counts. An unknown vault has none.
// At most the latest 1,048,576 are kept per vault.
func (e *Emulator) CreateTimes(vaultName string) []time.Time {
	e.mu.Lock()
	v := e.vaults[vaultKey(vaultName)]
	e.mu.Unlock()
	if v == nil {
		return nil
	}
	v.stats.mu.Lock()
	defer v.stats.mu.Unlock()
	return append([]time.Time(nil), v.stats.createTimes...)
}

// MaxCreatesPerWindow is the largest number of creates vaultName accepted
// within any window of the given length (half-open: a create exactly window
// after another falls outside it), from CreateTimes.
func (e *Emulator) MaxCreatesPerWindow(vaultName string, window time.Duration) int {
	return MaxInWindow(e.CreateTimes(vaultName), window)
}

// MaxInWindow is the largest number of the times that fall within any
// half-open window [t, t+window). The times need not be sorted.
func MaxInWindow(times []time.Time, window time.Duration) int {
	sorted := append([]time.Time(nil), times...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	best, start := 0, 0
	for end := range sorted {
		for !sorted[end].Before(sorted[start].Add(window)) {
			start++
		}
		best = max(best, end-start+1)
	}
	return best
}

// vaultList snapshots the vaults.
func (e *Emulator) vaultList() []*vault {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*vault, 0, len(e.vaults))
	for _, v := range e.vaults {
		out = append(out, v)
	}
	return out
}
