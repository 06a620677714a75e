package mongosim

import (
	"fmt"
	"time"
)

// A sharded cluster's routers (mongos) cache users; a change made through
// one router is written to the config servers and invalidates that
// router's cache at once, while every other router keeps its cached users
// until its user-cache invalidator next finds the cache generation changed,
// which it checks every userCacheInvalidationIntervalSecs (default 30)
// seconds. Each router's FerretDB stands for its cache: a change through
// router R is applied to R's FerretDB at once and to the others' at their
// next refresh tick (Options.UserCacheInterval, ticks at Start + k*interval).

// lastRefresh is the last refresh tick at or before now.
func (r *replicator) lastRefresh(now time.Time) time.Time {
	return r.s.started.Add(now.Sub(r.s.started).Truncate(r.s.opts.UserCacheInterval))
}

// nextRefresh is the first refresh tick after now.
func (r *replicator) nextRefresh(now time.Time) time.Time {
	return r.lastRefresh(now).Add(r.s.opts.UserCacheInterval)
}

// refreshRouter makes router m reload its user cache now, as
// invalidateUserCache does, and returns once it has.
func (r *replicator) refreshRouter(m *member) {
	r.mu.Lock()
	now := time.Now()
	r.refreshed[m] = now
	r.notifyLocked()
	r.mu.Unlock()
	for {
		r.mu.Lock()
		pending := false
		for _, e := range r.log {
			if !e.applied[m] && !e.at.After(now) {
				pending = true
			}
		}
		ch := r.changed
		r.mu.Unlock()
		if !pending {
			return
		}
		select {
		case <-ch:
		case <-r.s.stopped:
			return
		}
	}
}

// RefreshUserCache makes a router see every user change made through the
// others, as the invalidateUserCache command does on it, and returns once
// the router's FerretDB holds them.
func (s *Sim) RefreshUserCache(host string) error {
	if s.mode != modeSharded {
		return fmt.Errorf("mongosim: RefreshUserCache needs routers (Options.Routers), not %s", s.describe())
	}
	m, err := s.member(host)
	if err != nil {
		return err
	}
	s.repl.refreshRouter(m)
	return nil
}
