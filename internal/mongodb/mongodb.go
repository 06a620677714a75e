// Package mongodb is the provider's MongoDB access engine: it builds driver
// clients for a deployment (seed list, replica set, TLS) and an identity
// (SCRAM user), shares them across Terraform's parallel graph walk, and runs
// the few commands the provider needs: an unauthenticated hello probe, a
// fresh-login check, usersInfo and updateUser.
//
// Passwords pass through this package but never appear in its errors: every
// error names the deployment (hosts, replica set, TLS) and the user, never the
// password.
package mongodb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/auth"
)

// DefaultPort is the port used for a host given without one.
const DefaultPort = 27017

// DefaultAuthSource is the database users authenticate against when none is given.
const DefaultAuthSource = "admin"

// SCRAM mechanisms the provider supports. An empty mechanism lets the driver
// negotiate (SCRAM-SHA-256 when the server offers it).
const (
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA1   = "SCRAM-SHA-1"
)

// Mechanisms lists the accepted values for Identity.Mechanism.
var Mechanisms = []string{MechanismSCRAMSHA256, MechanismSCRAMSHA1}

// Fallback timeouts when Defaults leaves them zero. They are shorter than the
// driver's 30 s because a plan waiting half a minute per unreachable device is
// worse than a clear "unreachable" error.
const (
	FallbackConnectTimeout         = 10 * time.Second
	FallbackServerSelectionTimeout = 15 * time.Second
)

// Defaults are the provider-level MongoDB settings every client inherits.
type Defaults struct {
	// ConnectTimeout bounds the TCP + TLS handshake to one host.
	ConnectTimeout time.Duration
	// ServerSelectionTimeout bounds how long an operation waits for a
	// suitable server (it is what an unreachable deployment costs).
	ServerSelectionTimeout time.Duration
	// CAFile is a PEM bundle trusted for TLS deployments that name no CA of
	// their own. Empty means the system roots.
	CAFile string
}

// Deployment says where a MongoDB deployment is and how to reach it. It
// carries no credentials.
type Deployment struct {
	// Hosts is the seed list, "host" or "host:port" each.
	Hosts []string
	// ReplicaSet is the replica set name; empty for a standalone server.
	ReplicaSet string
	// TLS turns on TLS for every connection.
	TLS bool
	// TLSCAFile is a PEM bundle for this deployment; it overrides Defaults.CAFile.
	TLSCAFile string
	// TLSInsecure skips certificate verification (tests and break-glass only).
	TLSInsecure bool
}

// String renders the deployment as a credential-free connection string, for
// messages and cache keys.
func (d Deployment) String() string {
	q := url.Values{}
	if d.ReplicaSet != "" {
		q.Set("replicaSet", d.ReplicaSet)
	}
	if d.TLS {
		q.Set("tls", "true")
		if d.TLSCAFile != "" {
			q.Set("tlsCAFile", d.TLSCAFile)
		}
		if d.TLSInsecure {
			q.Set("tlsInsecure", "true")
		}
	}
	s := "mongodb://" + strings.Join(d.normalizedHosts(), ",") + "/"
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// normalizedHosts returns the hosts with the default port made explicit, so
// that "db" and "db:27017" are the same deployment.
func (d Deployment) normalizedHosts() []string {
	out := make([]string, 0, len(d.Hosts))
	for _, h := range d.Hosts {
		out = append(out, NormalizeHost(h, DefaultPort))
	}
	return out
}

// NormalizeHost adds port to host when it has none. IPv6 literals must be
// bracketed ("[::1]" or "[::1]:27017").
func NormalizeHost(host string, port int) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
}

// Validate reports configuration mistakes that need no network to find.
func (d Deployment) Validate() error {
	if len(d.Hosts) == 0 {
		return errors.New("the deployment has no hosts")
	}
	for _, h := range d.Hosts {
		host, port, err := net.SplitHostPort(NormalizeHost(h, DefaultPort))
		if err != nil || host == "" {
			return fmt.Errorf("host %q is not a host name, IP address or host:port", h)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("host %q has port %q, want 1-65535", h, port)
		}
	}
	if !d.TLS && (d.TLSCAFile != "" || d.TLSInsecure) {
		return errors.New("TLS options are set but TLS is off")
	}
	return nil
}

// Identity is a MongoDB user the provider authenticates as.
type Identity struct {
	Username string
	// Password is the user's password. Never logged, never in errors.
	Password string
	// AuthSource is the user's authentication database; DefaultAuthSource when empty.
	AuthSource string
	// Mechanism is MechanismSCRAMSHA256, MechanismSCRAMSHA1 or empty (negotiate).
	Mechanism string
}

func (id Identity) authSource() string {
	if id.AuthSource == "" {
		return DefaultAuthSource
	}
	return id.AuthSource
}

// String names the identity for messages: "user@authdb". No password.
func (id Identity) String() string {
	return id.Username + "@" + id.authSource()
}

// Pool hands out one *mongo.Client per (deployment, identity) and is safe for
// concurrent use. A *mongo.Client is itself a connection pool, so sharing it
// across resources keeps a large plan from opening a connection per resource.
type Pool struct {
	defaults Defaults
	// salt keys the cache hash so the map never holds a plain digest of a
	// password that could be brute-forced from a memory dump.
	salt []byte

	mu      sync.Mutex
	clients map[string]*pooledClient
}

type pooledClient struct {
	once   sync.Once
	client *mongo.Client
	err    error
}

// NewPool returns an empty pool that builds clients with d.
func NewPool(d Defaults) *Pool {
	if d.ConnectTimeout <= 0 {
		d.ConnectTimeout = FallbackConnectTimeout
	}
	if d.ServerSelectionTimeout <= 0 {
		d.ServerSelectionTimeout = FallbackServerSelectionTimeout
	}
	salt := make([]byte, 32)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails on supported platforms.
	return &Pool{defaults: d, salt: salt, clients: map[string]*pooledClient{}}
}

// Defaults returns the settings the pool builds clients with.
func (p *Pool) Defaults() Defaults { return p.defaults }

func (p *Pool) cacheKey(dep Deployment, id Identity) string {
	h := sha256.New()
	h.Write(p.salt)
	for _, part := range []string{dep.String(), id.Username, id.authSource(), id.Mechanism, id.Password} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Client returns the shared client for dep authenticated as id, creating it on
// first use. The driver authenticates lazily, so a wrong password surfaces on
// the first command, classified by the helpers in this package.
func (p *Pool) Client(dep Deployment, id Identity) (*mongo.Client, error) {
	key := p.cacheKey(dep, id)
	p.mu.Lock()
	pc, ok := p.clients[key]
	if !ok {
		pc = &pooledClient{}
		p.clients[key] = pc
	}
	p.mu.Unlock()

	pc.once.Do(func() {
		pc.client, pc.err = p.connect(dep, &id, false)
	})
	if pc.err != nil {
		// Do not cache a failure to build the client (e.g. an unreadable CA
		// file the user is about to fix).
		p.mu.Lock()
		if p.clients[key] == pc {
			delete(p.clients, key)
		}
		p.mu.Unlock()
	}
	return pc.client, pc.err
}

// Forget disconnects and drops the shared client for (dep, id), if any. Call
// it after changing id's password so the stale client is not reused.
func (p *Pool) Forget(ctx context.Context, dep Deployment, id Identity) {
	key := p.cacheKey(dep, id)
	p.mu.Lock()
	pc, ok := p.clients[key]
	delete(p.clients, key)
	p.mu.Unlock()
	if ok && pc.client != nil {
		_ = pc.client.Disconnect(ctx)
	}
}

// Close disconnects every shared client.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	clients := p.clients
	p.clients = map[string]*pooledClient{}
	p.mu.Unlock()
	var errs []error
	for _, pc := range clients {
		if pc.client != nil {
			errs = append(errs, pc.client.Disconnect(ctx))
		}
	}
	return errors.Join(errs...)
}

// Len reports how many shared clients the pool holds.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}

// connect builds (but does not dial) a client. direct forces a direct
// connection to the single host in dep, used by the per-host probe.
func (p *Pool) connect(dep Deployment, id *Identity, direct bool) (*mongo.Client, error) {
	if err := dep.Validate(); err != nil {
		return nil, &Error{Op: "configure client", Deployment: dep, Kind: KindConfig, Err: err}
	}
	opts := options.Client().
		SetHosts(dep.normalizedHosts()).
		SetConnectTimeout(p.defaults.ConnectTimeout).
		SetServerSelectionTimeout(p.defaults.ServerSelectionTimeout).
		SetAppName("terraform-provider-segura").
		// Rotation must not be retried blindly: a retried updateUser after a
		// lost reply is harmless, but the caller decides that, not the driver.
		SetRetryWrites(false)
	switch {
	case direct:
		opts.SetDirect(true)
	case dep.ReplicaSet != "":
		opts.SetReplicaSet(dep.ReplicaSet)
	case len(dep.Hosts) == 1:
		opts.SetDirect(true)
	}
	if dep.TLS {
		cfg, err := p.tlsConfig(dep)
		if err != nil {
			return nil, &Error{Op: "configure TLS", Deployment: dep, Kind: KindConfig, Err: err}
		}
		opts.SetTLSConfig(cfg)
	}
	if id != nil {
		opts.SetAuth(options.Credential{
			AuthMechanism: id.Mechanism,
			AuthSource:    id.authSource(),
			Username:      id.Username,
			Password:      id.Password,
			PasswordSet:   true,
		})
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		return nil, &Error{Op: "configure client", Deployment: dep, Kind: KindConfig, Err: err}
	}
	return c, nil
}

func (p *Pool) tlsConfig(dep Deployment) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if dep.TLSInsecure {
		cfg.InsecureSkipVerify = true // #nosec G402 -- explicit user opt-in, documented as unsafe.
		return cfg, nil
	}
	caFile := dep.TLSCAFile
	if caFile == "" {
		caFile = p.defaults.CAFile
	}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caFile)
	}
	cfg.RootCAs = roots
	return cfg, nil
}

// HostStatus is what one seed host answered to hello.
type HostStatus struct {
	Host string
	// SetName is the replica set the host belongs to ("" for a standalone).
	SetName string
	// Writable is true for a primary or standalone.
	Writable bool
	Err      error
}

// Probe checks that the deployment answers: it sends hello, without
// credentials, to every seed host in parallel. It succeeds when at least one
// host answers and every host that answers belongs to dep.ReplicaSet (or to
// no replica set when none is configured). Hosts that are down are tolerated
// as long as one answers: a replica set member under maintenance must not
// block a plan.
func (p *Pool) Probe(ctx context.Context, dep Deployment) error {
	statuses, err := p.Hello(ctx, dep)
	if err != nil {
		return err
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
			return &Error{Op: "probe", Deployment: dep, Kind: KindConfig,
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
		return &Error{Op: "probe", Deployment: dep, Kind: kind,
			Err: fmt.Errorf("no host answered hello: %s", strings.Join(problems, "; "))}
	}
	return nil
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
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&reply); err != nil {
		st.Err = err
		return st
	}
	st.SetName = reply.SetName
	st.Writable = reply.IsWritablePrimary
	return st
}

// VerifyLogin performs a fresh SCRAM login as id on a new, unshared client and
// runs ping. It is the proof that a password works: a pooled client may hold
// connections authenticated before the password changed.
func (p *Pool) VerifyLogin(ctx context.Context, dep Deployment, id Identity) error {
	c, err := p.connect(dep, &id, false)
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	if err := c.Ping(ctx, readpref.PrimaryPreferred()); err != nil {
		return wrap("log in", dep, id.String(), err)
	}
	return nil
}

// User is a MongoDB user as usersInfo reports it.
type User struct {
	Username   string
	Database   string
	Mechanisms []string
}

// UserInfo looks username up in database db, authenticated as as. It returns
// (nil, nil) when the user does not exist. It logs in on a client of its
// own, as ChangePassword does: as is often a password about to change (a
// rotation reads the user's mechanisms as the user, before updateUser), and
// a shared client kept for it would outlive it, one per rotation.
func (p *Pool) UserInfo(ctx context.Context, dep Deployment, as Identity, db, username string) (*User, error) {
	c, err := p.connect(dep, &as, false)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	filter := bson.D{{Key: "user", Value: username}, {Key: "db", Value: db}}
	users, err := p.usersInfo(ctx, c, dep, as, db, filter, "look up user "+username+"@"+db+" as "+as.String())
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Username == username && (u.Database == "" || u.Database == db) {
			u.Database = db
			return &u, nil
		}
	}
	return nil, nil
}

// Users lists every user of the deployment (usersInfo forAllDBs on admin,
// which needs viewUser on every database), authenticated as as, sorted by
// database and name.
func (p *Pool) Users(ctx context.Context, dep Deployment, as Identity) ([]User, error) {
	c, err := p.Client(dep, as)
	if err != nil {
		return nil, err
	}
	users, err := p.usersInfo(ctx, c, dep, as, DefaultAuthSource, bson.D{{Key: "forAllDBs", Value: true}}, "list users as "+as.String())
	if err != nil {
		return nil, err
	}
	sort.Slice(users, func(i, j int) bool {
		if users[i].Database != users[j].Database {
			return users[i].Database < users[j].Database
		}
		return users[i].Username < users[j].Username
	})
	return users, nil
}

// usersInfo runs {usersInfo: filter} in db on c, logged in as as; op names
// it in errors.
func (p *Pool) usersInfo(ctx context.Context, c *mongo.Client, dep Deployment, as Identity, db string, filter bson.D, op string) ([]User, error) {
	var reply struct {
		Users []struct {
			User       string   `bson:"user"`
			DB         string   `bson:"db"`
			Mechanisms []string `bson:"mechanisms"`
		} `bson:"users"`
	}
	if err := c.Database(db).RunCommand(ctx, bson.D{{Key: "usersInfo", Value: filter}}).Decode(&reply); err != nil {
		p.forgetIfRejected(ctx, dep, as, err)
		return nil, wrap(op, dep, as.String(), err)
	}
	out := make([]User, 0, len(reply.Users))
	for _, u := range reply.Users {
		out = append(out, User{Username: u.User, Database: u.DB, Mechanisms: u.Mechanisms})
	}
	return out, nil
}

// ChangePassword sets user's password with updateUser in user's auth
// database, authenticated as as (the user itself or a parent credential).
// mechanisms, when non-empty, restricts the SCRAM mechanisms the server keeps
// credentials for.
//
// It logs in afresh on a client of its own rather than borrowing a shared
// one: a connection authenticated before someone else changed the password
// would still run the command, so two rotations of one account could both
// "succeed". On a fresh login, a self-rotation changes the password only if
// it is still the one the caller knows.
func (p *Pool) ChangePassword(ctx context.Context, dep Deployment, as Identity, user Identity, newPassword string, mechanisms []string) error {
	if newPassword == "" {
		return &Error{Op: "change password", Deployment: dep, Kind: KindConfig, Err: errors.New("new password is empty")}
	}
	c, err := p.connect(dep, &as, false)
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	cmd := bson.D{{Key: "updateUser", Value: user.Username}, {Key: "pwd", Value: newPassword}}
	if len(mechanisms) > 0 {
		cmd = append(cmd, bson.E{Key: "mechanisms", Value: slices.Clone(mechanisms)})
	}
	if err := c.Database(user.authSource()).RunCommand(ctx, cmd).Err(); err != nil {
		return wrap("change the password of "+user.String()+" as "+as.String(), dep, as.String(), err)
	}
	return nil
}

// forgetIfRejected drops the shared client of an identity the server refused
// to authenticate, so that wrong passwords do not accumulate idle clients.
func (p *Pool) forgetIfRejected(ctx context.Context, dep Deployment, id Identity, err error) {
	if Classify(err) == KindAuthentication {
		p.Forget(context.WithoutCancel(ctx), dep, id)
	}
}

// Kind classifies a failure so callers can say what to do about it.
type Kind int

// Failure kinds.
const (
	// KindOther is anything not classified below.
	KindOther Kind = iota
	// KindConfig is a mistake in the deployment settings (bad host, CA file, replica set name).
	KindConfig
	// KindUnreachable means no server could be reached in time.
	KindUnreachable
	// KindAuthentication means the server rejected the username/password.
	KindAuthentication
	// KindUnauthorized means the login worked but the user may not run the command.
	KindUnauthorized
	// KindUserNotFound means updateUser named a user that does not exist.
	KindUserNotFound
)

func (k Kind) String() string {
	switch k {
	case KindConfig:
		return "configuration error"
	case KindUnreachable:
		return "unreachable"
	case KindAuthentication:
		return "authentication failed"
	case KindUnauthorized:
		return "not authorized"
	case KindUserNotFound:
		return "user not found"
	default:
		return "error"
	}
}

// Server error codes from src/mongo/base/error_codes.yml.
const (
	codeUserNotFound         = 11
	codeUnauthorized         = 13
	codeAuthenticationFailed = 18
)

// Classify maps a driver error to a Kind.
func Classify(err error) Kind {
	if err == nil {
		return KindOther
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var authErr *auth.Error
	if errors.As(err, &authErr) {
		return KindAuthentication
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		switch {
		case se.HasErrorCode(codeAuthenticationFailed):
			return KindAuthentication
		case se.HasErrorCode(codeUnauthorized):
			return KindUnauthorized
		case se.HasErrorCode(codeUserNotFound):
			return KindUserNotFound
		}
	}
	var ne net.Error
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) || errors.Is(err, mongo.ErrClientDisconnected) ||
		strings.Contains(err.Error(), "server selection error") {
		return KindUnreachable
	}
	return KindOther
}

// Error is what this package returns: the operation, the deployment (without
// credentials), who was acting, and the classified cause.
type Error struct {
	Op         string
	Deployment Deployment
	Identity   string
	Kind       Kind
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "MongoDB %s: %s", e.Deployment.String(), e.Op)
	if e.Identity != "" && !strings.Contains(e.Op, " as ") {
		fmt.Fprintf(&b, " as %s", e.Identity)
	}
	fmt.Fprintf(&b, ": %s", e.Kind)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func wrap(op string, dep Deployment, identity string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Op: op, Deployment: dep, Identity: identity, Kind: Classify(err), Err: err}
}
