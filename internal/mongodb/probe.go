package mongodb

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// HostStatus is what one seed host answered to hello.
type HostStatus struct {
	Host string
	// SetName is the replica set the host belongs to ("" for a standalone).
	SetName string
	// Writable is true for a primary, a standalone or a router.
	Writable bool
	// Router is true for a mongos of a sharded cluster (hello's msg is
	// "isdbgrid").
	Router bool
	Err    error
}

// Probe checks that the deployment answers: it sends hello, without
// credentials, to every seed host in parallel. It succeeds when at least one
// host answers and every host that answers belongs to dep.ReplicaSet (or to
// no replica set when none is configured). Hosts that are down are tolerated
// as long as one answers: a replica set member under maintenance must not
// block a plan. warning is set when no host that answered can take writes
// (no primary among them): a rotation needs the primary.
func (p *Pool) Probe(ctx context.Context, dep Deployment) (warning string, err error) {
	statuses, err := p.Hello(ctx, dep)
	if err != nil {
		return "", err
	}
	var answered int
	var problems []string
	for _, st := range statuses {
		if st.Err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", st.Host, st.Err))
			continue
		}
		answered++
		if st.SetName != dep.ReplicaSet {
			want := "no replica set"
			if dep.ReplicaSet != "" {
				want = fmt.Sprintf("replica set %q", dep.ReplicaSet)
			}
			got := "is a standalone server"
			if st.SetName != "" {
				got = fmt.Sprintf("belongs to replica set %q", st.SetName)
			}
			return "", &Error{Op: "probe", Deployment: dep, Kind: KindConfig,
				Err: fmt.Errorf("host %s %s, but the device is configured with %s", st.Host, got, want)}
		}
	}
	if answered == 0 {
		kind := KindUnreachable
		for _, st := range statuses {
			if k := Classify(st.Err); k != KindUnreachable {
				kind = k
			}
		}
		return "", &Error{Op: "probe", Deployment: dep, Kind: kind,
			Err: fmt.Errorf("no host answered hello: %s", strings.Join(problems, "; "))}
	}
	var answeredHosts []string
	for _, st := range statuses {
		if st.Err != nil {
			continue
		}
		if st.Writable {
			return "", nil
		}
		answeredHosts = append(answeredHosts, st.Host)
	}
	return fmt.Sprintf("no host that answered (%s) is a writable primary: the replica set has no primary now, or the primary is not in the seed list. "+
		"A rotation changes the password on the primary: list every member in hosts (with replica_set set, the driver finds the primary among them).",
		strings.Join(answeredHosts, ", ")), nil
}

// Hello sends hello, without credentials, to every seed host directly and
// reports each answer.
func (p *Pool) Hello(ctx context.Context, dep Deployment) ([]HostStatus, error) {
	if err := dep.Validate(); err != nil {
		return nil, &Error{Op: "probe", Deployment: dep, Kind: KindConfig, Err: err}
	}
	hosts := dep.normalizedHosts()
	out := make([]HostStatus, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = p.helloOne(ctx, dep, h)
		}()
	}
	wg.Wait()
	return out, nil
}

func (p *Pool) helloOne(ctx context.Context, dep Deployment, host string) HostStatus {
	one := dep
	one.Hosts = []string{host}
	st := HostStatus{Host: host}
	// Dial first: the driver turns a refused connection into a server
	// selection timeout, which would make a typo in the address cost the
	// whole ServerSelectionTimeout instead of failing at once.
	dialer := net.Dialer{Timeout: p.defaults.ConnectTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		st.Err = err
		return st
	}
	_ = conn.Close()
	c, err := p.connect(one, nil, true)
	if err != nil {
		st.Err = err
		return st
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	var reply struct {
		SetName           string `bson:"setName"`
		IsWritablePrimary bool   `bson:"isWritablePrimary"`
		Msg               string `bson:"msg"`
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&reply); err != nil {
		st.Err = err
		return st
	}
	st.SetName = reply.SetName
	st.Writable = reply.IsWritablePrimary
	st.Router = reply.Msg == "isdbgrid"
	return st
}

// Routers lists the hosts of dep that answer hello as mongos routers of a
// sharded cluster, in seed order (none for a replica set or a single host).
// Each router caches users for up to userCacheInvalidationIntervalSecs
// (30 s by default), so a change made through one and a login through
// another can disagree for that long: a rotation pins every decision to one
// of them (PinnedTo) and waits for the others (AwaitLogin).
func (p *Pool) Routers(ctx context.Context, dep Deployment) []string {
	if dep.ReplicaSet != "" {
		return nil
	}
	if dep.IsSRV() {
		// A sharded cluster behind mongodb+srv:// lists its routers in DNS.
		resolved, err := ResolveSRV(dep)
		if err != nil || resolved.ReplicaSet != "" {
			return nil
		}
		dep = resolved
	}
	if len(dep.Hosts) < 2 {
		return nil
	}
	statuses, err := p.Hello(ctx, dep)
	if err != nil {
		return nil
	}
	var out []string
	for _, st := range statuses {
		if st.Err == nil && st.Router {
			out = append(out, st.Host)
		}
	}
	return out
}

// PinnedTo returns dep reached through host alone (a direct connection),
// also when dep names its seed list by SRV.
func (d Deployment) PinnedTo(host string) Deployment {
	d.Hosts = []string{host}
	d.SRVHost = ""
	return d
}
