package mongosim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// userKey names a user: its name and the database it lives in.
type userKey struct{ db, user string }

func (k userKey) String() string { return k.user + "@" + k.db }

// entry is one user change in the log (the simulator's stand-in for the
// oplog entries of admin.system.users).
type entry struct {
	seq     int64
	op      string // createUser | updateUser | dropUser
	key     userKey
	cmd     bsoncore.Document // replayable command; holds the password: never logged
	at      time.Time         // when the primary (or router) applied it
	applied map[*member]bool
}

// userState is what a member holds for a user, folded from the log.
type userState struct {
	exists     bool
	pwd        string
	mechanisms []string // nil: the server's default (every enabled mechanism)
}

type replicator struct {
	s  *Sim
	mu sync.Mutex

	log         []*entry
	seq         int64
	changed     chan struct{} // closed and replaced on every change
	lag         map[*member]time.Duration
	userLag     map[*member]map[string]time.Duration
	lastApplied map[*member]time.Time
	refreshed   map[*member]time.Time // routers: last user-cache refresh
	baseline    map[userKey]userState

	locksMu   sync.Mutex
	userLocks map[userKey]*sync.Mutex
}

func newReplicator(s *Sim) *replicator {
	r := &replicator{
		s:           s,
		changed:     make(chan struct{}),
		lag:         map[*member]time.Duration{},
		userLag:     map[*member]map[string]time.Duration{},
		lastApplied: map[*member]time.Time{},
		refreshed:   map[*member]time.Time{},
		baseline: map[userKey]userState{
			{db: "admin", user: s.opts.AdminUsername}: {exists: true, pwd: s.opts.AdminPassword},
		},
		userLocks: map[userKey]*sync.Mutex{},
	}
	for _, m := range s.members {
		r.refreshed[m] = s.started
	}
	return r
}

// notifyLocked wakes every waiter; r.mu is held.
func (r *replicator) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *replicator) wake() {
	r.mu.Lock()
	r.notifyLocked()
	r.mu.Unlock()
}

// lockUser serialises changes to one user, so that the primary's FerretDB
// and the log agree on their order.
func (r *replicator) lockUser(k userKey) func() {
	r.locksMu.Lock()
	l := r.userLocks[k]
	if l == nil {
		l = &sync.Mutex{}
		r.userLocks[k] = l
	}
	r.locksMu.Unlock()
	l.Lock()
	return l.Unlock
}

// append logs a change the primary (or router) m has just applied.
func (r *replicator) append(m *member, op string, key userKey, cmd bsoncore.Document) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	e := &entry{seq: r.seq, op: op, key: key, cmd: cmd, at: time.Now(), applied: map[*member]bool{m: true}}
	r.log = append(r.log, e)
	r.lastApplied[m] = e.at
	r.notifyLocked()
	m.noteAdminChange(e)
	r.s.logger.Printf("log #%d %s %s on %s", e.seq, e.op, e.key, m.host)
	return e
}

// effectiveLag is how long member m waits before applying a change to user.
func (r *replicator) effectiveLagLocked(m *member, user string) time.Duration {
	if d, ok := r.userLag[m][user]; ok {
		return d
	}
	return r.lag[m]
}

// dueLocked reports whether m may apply e at now, and when it may if not.
func (r *replicator) dueLocked(m *member, e *entry, now time.Time) (bool, time.Time) {
	if r.s.mode == modeSharded {
		// A router's cache sees a change at its first refresh after it.
		if !e.at.After(r.refreshed[m]) {
			return true, time.Time{}
		}
		return false, r.nextRefresh(now)
	}
	at := e.at.Add(r.effectiveLagLocked(m, e.key.user))
	return !now.Before(at), at
}

// pendingLocked lists what m may apply now, in log order, and the earliest
// time something else becomes due. Changes to one user are applied in log
// order; a user's change waiting for its lag does not hold back others.
func (r *replicator) pendingLocked(m *member, now time.Time) ([]*entry, time.Time) {
	var todo []*entry
	var next time.Time
	blocked := map[userKey]bool{}
	for _, e := range r.log {
		if e.applied[m] || blocked[e.key] {
			continue
		}
		if ok, at := r.dueLocked(m, e, now); ok {
			todo = append(todo, e)
			continue
		} else if next.IsZero() || at.Before(next) {
			next = at
		}
		blocked[e.key] = true
	}
	return todo, next
}

// applier is member m's replication: it applies each logged change once
// due (after the member's lag, or at the router's next cache refresh).
func (r *replicator) applier(m *member) {
	defer r.s.wg.Done()
	for {
		select {
		case <-r.s.stopped:
			return
		default:
		}
		now := time.Now()
		r.mu.Lock()
		if r.s.mode == modeSharded {
			if t := r.lastRefresh(now); t.After(r.refreshed[m]) {
				r.refreshed[m] = t
			}
		}
		todo, next := r.pendingLocked(m, now)
		ch := r.changed
		r.mu.Unlock()
		if len(todo) > 0 {
			m.applyMu.Lock()
			for _, e := range todo {
				if r.isPending(m, e) {
					r.apply(m, e)
				}
			}
			m.applyMu.Unlock()
			continue
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = time.NewTimer(time.Until(next))
			fire = timer.C
		}
		select {
		case <-r.s.stopped:
		case <-ch:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// isPending: e is still in the log and not applied on m.
func (r *replicator) isPending(m *member, e *entry) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.applied[m] {
		return false
	}
	for _, x := range r.log {
		if x == e {
			return true
		}
	}
	return false
}

// apply runs a logged change on m's FerretDB as the administrator and marks
// it applied. m.applyMu is held.
func (r *replicator) apply(m *member, e *entry) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := m.runUserCommand(ctx, e.key, e.op, e.cmd)
	if err != nil {
		// A member whose user store diverged (createUser of a user it has,
		// updateUser of one it lacks) converges on the logged state.
		var st userState
		r.mu.Lock()
		st = r.stateLocked(e.key, r.log, e)
		r.mu.Unlock()
		if err2 := m.setUserState(ctx, e.key, st); err2 != nil {
			m.noteApplyError(fmt.Sprintf("#%d %s %s: %s", e.seq, e.op, e.key, redactErr(err2, e)))
		}
	}
	r.mu.Lock()
	e.applied[m] = true
	r.lastApplied[m] = time.Now()
	r.notifyLocked()
	r.mu.Unlock()
	m.noteAdminChange(e)
	r.s.logger.Printf("%s applied #%d %s %s", m.host, e.seq, e.op, e.key)
}

// catchUp applies on m every logged change it lacks, ignoring lag: what a
// candidate does before it becomes primary.
func (r *replicator) catchUp(m *member) error {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	r.mu.Lock()
	var todo []*entry
	for _, e := range r.log {
		if !e.applied[m] {
			todo = append(todo, e)
		}
	}
	r.mu.Unlock()
	for _, e := range todo {
		r.apply(m, e)
	}
	return nil
}

// rollBack makes newPrimary's state the set's: entries it has not applied
// are dropped from the log, and every member that had applied one of them
// gets each affected user back to its latest surviving state.
func (r *replicator) rollBack(newPrimary *member) (int, error) {
	ms := r.s.sortedMembers()
	for _, m := range ms {
		m.applyMu.Lock()
	}
	defer func() {
		for _, m := range ms {
			m.applyMu.Unlock()
		}
	}()
	r.mu.Lock()
	var kept, dropped []*entry
	for _, e := range r.log {
		if e.applied[newPrimary] {
			kept = append(kept, e)
		} else {
			dropped = append(dropped, e)
		}
	}
	affected := map[*member]map[userKey]bool{}
	for _, e := range dropped {
		for m, ok := range e.applied {
			if ok && m != newPrimary {
				if affected[m] == nil {
					affected[m] = map[userKey]bool{}
				}
				affected[m][e.key] = true
			}
		}
	}
	r.log = kept
	states := map[userKey]userState{}
	for _, keys := range affected {
		for k := range keys {
			states[k] = r.stateLocked(k, kept, nil)
		}
	}
	r.notifyLocked()
	r.mu.Unlock()

	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, m := range ms {
		for k := range affected[m] {
			st := states[k]
			if err := m.setUserState(ctx, k, st); err != nil {
				errs = append(errs, fmt.Errorf("roll back %s on %s: %s", k, m.host, redactPassword(err.Error(), st.pwd)))
				continue
			}
			m.noteAdminState(k, st)
			r.s.logger.Printf("%s rolled back %s", m.host, k)
		}
	}
	return len(dropped), errors.Join(errs...)
}

// stateLocked folds the baseline and the entries of k (up to and including
// upTo, if given) into the state a member holds.
func (r *replicator) stateLocked(k userKey, entries []*entry, upTo *entry) userState {
	st := r.baseline[k]
	for _, e := range entries {
		if e.key == k {
			st = st.apply(e.op, e.cmd)
		}
		if e == upTo {
			break
		}
	}
	return st
}

func (st userState) apply(op string, cmd bsoncore.Document) userState {
	switch op {
	case "createUser":
		st = userState{exists: true, pwd: stringField(cmd, "pwd"), mechanisms: stringArray(cmd, "mechanisms")}
	case "updateUser":
		if hasField(cmd, "pwd") {
			st.pwd = stringField(cmd, "pwd")
		}
		if hasField(cmd, "mechanisms") {
			st.mechanisms = stringArray(cmd, "mechanisms")
		}
	case "dropUser":
		st = userState{}
	}
	return st
}

func stringArray(doc bsoncore.Document, key string) []string {
	arr, ok := doc.Lookup(key).ArrayOK()
	if !ok {
		return nil
	}
	vals, _ := arr.Values()
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if s, ok := v.StringValueOK(); ok {
			out = append(out, s)
		}
	}
	return out
}

// appliedIndex is the highest sequence number up to which m has applied
// every logged entry.
func (r *replicator) appliedIndex(m *member) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var idx int64
	for _, e := range r.log {
		if !e.applied[m] {
			break
		}
		idx = e.seq
	}
	return idx
}

// waitSync waits until every member whose lag for this user is zero has
// applied e, so that a change is visible everywhere when the client gets
// its reply. It returns early if ctx ends.
func (r *replicator) waitSync(ctx context.Context, e *entry) {
	if r.s.mode != modeReplicaSet {
		return
	}
	for {
		r.mu.Lock()
		done := true
		if r.inLogLocked(e) {
			for _, m := range r.s.members {
				if !e.applied[m] && r.effectiveLagLocked(m, e.key.user) == 0 {
					done = false
				}
			}
		}
		ch := r.changed
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		case <-r.s.stopped:
			return
		}
	}
}

func (r *replicator) inLogLocked(e *entry) bool {
	for _, x := range r.log {
		if x == e {
			return true
		}
	}
	return false
}

// AwaitReplication waits until every member has applied every logged user
// change (lags included).
func (s *Sim) AwaitReplication(ctx context.Context) error {
	r := s.repl
	for {
		r.mu.Lock()
		done := true
		for _, e := range r.log {
			for _, m := range s.members {
				if !e.applied[m] {
					done = false
				}
			}
		}
		ch := r.changed
		r.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// SetLag makes host apply each user change d after the primary applied it.
// With lag 0 (the default) a change reaches the member before the
// primary's reply is sent.
func (s *Sim) SetLag(host string, d time.Duration) error {
	m, err := s.member(host)
	if err != nil {
		return err
	}
	s.repl.mu.Lock()
	s.repl.lag[m] = d
	s.repl.notifyLocked()
	s.repl.mu.Unlock()
	return nil
}

// SetUserLag overrides host's lag for changes to one user name (in any
// database), so that parallel tests on different users do not disturb each
// other. A real member applies its oplog in order; with per-user lags a
// member may apply one user's change before an older change to another.
func (s *Sim) SetUserLag(host, user string, d time.Duration) error {
	m, err := s.member(host)
	if err != nil {
		return err
	}
	s.repl.mu.Lock()
	if s.repl.userLag[m] == nil {
		s.repl.userLag[m] = map[string]time.Duration{}
	}
	s.repl.userLag[m][user] = d
	s.repl.notifyLocked()
	s.repl.mu.Unlock()
	return nil
}

func (r *replicator) clearLags() {
	r.mu.Lock()
	r.lag = map[*member]time.Duration{}
	r.userLag = map[*member]map[string]time.Duration{}
	r.notifyLocked()
	r.mu.Unlock()
}

// LogEntry describes one logged user change (never its password).
type LogEntry struct {
	Seq       int64     `json:"seq"`
	Op        string    `json:"op"`
	User      string    `json:"user"`
	DB        string    `json:"db"`
	At        time.Time `json:"at"`
	AppliedOn []string  `json:"appliedOn"`
}

// UserLog lists the logged user changes, oldest first.
func (s *Sim) UserLog() []LogEntry {
	r := s.repl
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]LogEntry, 0, len(r.log))
	for _, e := range r.log {
		le := LogEntry{Seq: e.seq, Op: e.op, User: e.key.user, DB: e.key.db, At: e.at}
		for _, m := range s.members {
			if e.applied[m] {
				le.AppliedOn = append(le.AppliedOn, m.host)
			}
		}
		out = append(out, le)
	}
	return out
}

// --- applying to a member's FerretDB ----------------------------------------

// genericArgs are the generic command arguments, which are not part of a
// user change and are not replayed on other members.
var genericArgs = map[string]bool{
	"writeConcern": true, "readConcern": true, "lsid": true, "txnNumber": true, "autocommit": true,
	"startTransaction": true, "maxTimeMS": true, "comment": true, "apiVersion": true,
	"apiStrict": true, "apiDeprecationErrors": true, "clientOperationKey": true,
}

// replayCommand is the change as it is replayed on the other members.
func replayCommand(cmd bsoncore.Document) bsoncore.Document {
	return filterFields(cmd, func(k string) bool {
		return !genericArgs[k] && !strings.HasPrefix(k, "$")
	})
}

// admin returns the simulator's administrator session on m's FerretDB.
func (m *member) admin() (*mongo.Client, error) {
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	if m.adminClient != nil && m.adminLogged == m.adminPwd {
		return m.adminClient, nil
	}
	if m.adminClient != nil {
		old := m.adminClient
		go func() { _ = old.Disconnect(context.Background()) }()
		m.adminClient = nil
	}
	c, err := mongo.Connect(options.Client().
		ApplyURI(m.fdb.URI()).
		SetDirect(true).
		SetAuth(options.Credential{Username: m.sim.opts.AdminUsername, Password: m.adminPwd, AuthSource: "admin"}).
		SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return nil, err
	}
	m.adminClient, m.adminLogged = c, m.adminPwd
	return c, nil
}

func (m *member) closeAdminClient() {
	m.adminMu.Lock()
	c := m.adminClient
	m.adminClient = nil
	m.adminMu.Unlock()
	if c != nil {
		_ = c.Disconnect(context.Background())
	}
}

// noteAdminChange follows the admin user's password on m.
func (m *member) noteAdminChange(e *entry) {
	if e.key.db != "admin" || e.key.user != m.sim.opts.AdminUsername {
		return
	}
	if e.op != "dropUser" && hasField(e.cmd, "pwd") {
		m.adminMu.Lock()
		m.adminPwd = stringField(e.cmd, "pwd")
		m.adminMu.Unlock()
	}
}

func (m *member) noteAdminState(k userKey, st userState) {
	if k.db == "admin" && k.user == m.sim.opts.AdminUsername && st.exists {
		m.adminMu.Lock()
		m.adminPwd = st.pwd
		m.adminMu.Unlock()
	}
}

func (m *member) noteApplyError(msg string) {
	m.adminMu.Lock()
	m.lastApplyErr = msg
	m.adminMu.Unlock()
	m.sim.logger.Printf("%s: %s", m.host, msg)
}

func (m *member) applyError() string {
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	return m.lastApplyErr
}

func (m *member) runUserCommand(ctx context.Context, k userKey, _ string, cmd bsoncore.Document) error {
	c, err := m.admin()
	if err != nil {
		return err
	}
	return c.Database(k.db).RunCommand(ctx, bson.Raw(cmd)).Err()
}

// setUserState makes m hold st for k: updateUser (or createUser if m lacks
// the user) with the password and mechanisms, or dropUser.
func (m *member) setUserState(ctx context.Context, k userKey, st userState) error {
	c, err := m.admin()
	if err != nil {
		return err
	}
	db := c.Database(k.db)
	if !st.exists {
		err := db.RunCommand(ctx, bson.D{{Key: "dropUser", Value: k.user}}).Err()
		if serverCode(err) == codeUserNotFound {
			return nil
		}
		return err
	}
	upd := bson.D{{Key: "updateUser", Value: k.user}, {Key: "pwd", Value: st.pwd}}
	if st.mechanisms != nil {
		upd = append(upd, bson.E{Key: "mechanisms", Value: st.mechanisms})
	}
	err = db.RunCommand(ctx, upd).Err()
	if serverCode(err) != codeUserNotFound {
		return err
	}
	create := bson.D{{Key: "createUser", Value: k.user}, {Key: "pwd", Value: st.pwd}, {Key: "roles", Value: bson.A{}}}
	if st.mechanisms != nil {
		create = append(create, bson.E{Key: "mechanisms", Value: st.mechanisms})
	}
	return db.RunCommand(ctx, create).Err()
}

func serverCode(err error) int32 {
	var se mongo.ServerError
	if errors.As(err, &se) {
		for _, c := range []int32{codeUserNotFound, codeUserAlreadyExists} {
			if se.HasErrorCode(int(c)) {
				return c
			}
		}
		return -1
	}
	return 0
}

// redactErr removes the entry's password from an error text.
func redactErr(err error, e *entry) string {
	return redactPassword(err.Error(), stringField(e.cmd, "pwd"))
}

func redactPassword(s, pwd string) string {
	if pwd == "" {
		return s
	}
	return strings.ReplaceAll(s, pwd, "xxx")
}
