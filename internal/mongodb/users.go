package mongodb

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// VerifyLogin performs a fresh SCRAM login as id on a new, unshared client and
// runs ping on the primary. It is the proof that a password works: a pooled
// client may hold connections authenticated before the password changed.
//
// The login is on the primary, never on a secondary: a secondary applies
// user changes after a lag, so the old password still logs in there for a
// while, and a decision about which password MongoDB holds taken from it
// could throw away the only copy of the new one. With no primary reachable
// the error is KindUnreachable: unknown, not "refused".
func (p *Pool) VerifyLogin(ctx context.Context, dep Deployment, id Identity) error {
	c, err := p.connect(dep, &id, false)
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	if err := c.Ping(ctx, readpref.Primary()); err != nil {
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
	return p.findUser(ctx, c, dep, as, db, username)
}

// findUser is UserInfo on c, logged in as as.
func (p *Pool) findUser(ctx context.Context, c *mongo.Client, dep Deployment, as Identity, db, username string) (*User, error) {
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
//
// The command carries writeConcern {w: "majority", wtimeout} and a maxTimeMS,
// both shorter than the client's own wait (Defaults.WriteTimeout), so that a
// nil error means a majority of a replica set has the change (a w:1 change
// can be rolled back by a failover after Key Vault already holds the new
// password). The error classifies the outcome: NotApplied(err) when the
// server proved it did not run, KindWriteConcern when it applied on the
// primary but a majority was not confirmed in time, anything else unknown.
func (p *Pool) ChangePassword(ctx context.Context, dep Deployment, as Identity, user Identity, newPassword string, mechanisms []string) error {
	if newPassword == "" {
		return &Error{Op: "change password", Deployment: dep, Kind: KindConfig, Err: errors.New("new password is empty")}
	}
	c, err := p.connect(dep, &as, false)
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.WithoutCancel(ctx)) }()
	wait := p.defaults.WriteTimeout
	cmd := bson.D{{Key: "updateUser", Value: user.Username}, {Key: "pwd", Value: newPassword}}
	if len(mechanisms) > 0 {
		cmd = append(cmd, bson.E{Key: "mechanisms", Value: slices.Clone(mechanisms)})
	}
	cmd = append(cmd,
		bson.E{Key: "writeConcern", Value: bson.D{{Key: "w", Value: "majority"}, {Key: "wtimeout", Value: (wait / 2).Milliseconds()}}},
		bson.E{Key: "maxTimeMS", Value: (wait * 2 / 3).Milliseconds()})
	cctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := c.Database(user.authSource()).RunCommand(cctx, cmd).Err(); err != nil {
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

// AwaitLogin waits, polling every step, until id logs in on each of hosts
// (each reached alone) or within runs out, and returns the hosts that still
// refused it then. It is how a rotation on a sharded cluster waits for the
// routers whose user cache still holds the previous password.
func (p *Pool) AwaitLogin(ctx context.Context, dep Deployment, id Identity, hosts []string, within, step time.Duration) []string {
	deadline := time.Now().Add(within)
	pending := slices.Clone(hosts)
	for {
		var still []string
		for _, h := range pending {
			if p.VerifyLogin(ctx, dep.PinnedTo(h), id) != nil {
				still = append(still, h)
			}
		}
		pending = still
		if len(pending) == 0 || !time.Now().Add(step).Before(deadline) {
			return pending
		}
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return pending
		case <-t.C:
		}
	}
}
