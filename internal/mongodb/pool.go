package mongodb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

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
	if d.WriteTimeout <= 0 {
		d.WriteTimeout = FallbackWriteTimeout
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
