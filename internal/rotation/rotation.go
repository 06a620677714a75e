// Package rotation runs the apply-time rotation of one MongoDB credential
// into its Key Vault secrets (DESIGN.md §3):
//
//  1. preflight: read every bound secret's properties, find the current
//     password (Key Vault, escrow, or a bootstrap password) and prove it
//     logs in, before anything changes;
//  2. generate the new password from the policy;
//  3. stage it in the escrow secret, then updateUser in MongoDB;
//  4. write it, in each binding's format, as a new version of every bound
//     secret;
//  5. verify: a fresh SCRAM login with the new password, and a read-back of
//     every written version compared in constant time.
//
// A Key Vault write that fails after MongoDB changed rolls MongoDB and the
// secrets already written back to the previous password, so no application
// reading any of the secrets is locked out. When a roll-back is impossible,
// or the process dies between steps 3 and 4, the new password is still in
// the escrow secret and the next rotation finds it there (Inspect reports
// the drift, Rotate converges). The engine knows nothing of Terraform.
package rotation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/password"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// Binding is one Key Vault secret that holds the credential's password.
type Binding struct {
	// Label names the binding in messages, e.g. `segura_keyvault_sync.orders`.
	Label      string
	Vault      *keyvault.Vault
	SecretName string
	Format     secretvalue.Format
	// ContentType of written versions; empty uses the format's default.
	ContentType string
	// Tags are the user's and the scope's tags; the engine adds keyvault.ManagedTags.
	Tags map[string]string
	// Scope is the value of keyvault.TagScope.
	Scope string
	// CreateIfMissing lets the first write create the secret.
	CreateIfMissing bool
	// ExpectedVersion is the latest version this workspace saw when it
	// planned; if the secret has moved on since, someone else wrote it and
	// the rotation stops. Empty skips the check.
	ExpectedVersion string
}

// ID is the binding's versionless secret id.
func (b Binding) ID() string { return keyvault.SecretID(b.Vault.URL, b.SecretName) }

func (b Binding) describe() string {
	if b.Label != "" {
		return fmt.Sprintf("%s (%s)", b.Label, b.ID())
	}
	return b.ID()
}

func (b Binding) contentType() string {
	if b.ContentType != "" {
		return b.ContentType
	}
	return secretvalue.DefaultContentType(b.Format)
}

// Escrow is where a new password is staged, in the primary secret's vault,
// before MongoDB changes: if the process dies before the bound secrets are
// written, the password MongoDB now expects is still retrievable. Its version
// is disabled once the rotation finishes, so no readable copy is left.
type Escrow struct {
	Vault      *keyvault.Vault
	SecretName string
}

// ID is the escrow's versionless secret id.
func (e Escrow) ID() string { return keyvault.SecretID(e.Vault.URL, e.SecretName) }

// Parent is a credential allowed to change the account's password, and the
// binding its own current password is read from.
type Parent struct {
	Account mongodb.Identity // Password is ignored: it is read from Source
	Source  Binding
	// Escrow, when its Vault is set, is the parent's own escrow secret: a
	// parent rotating at the same moment has its new password there before
	// it reaches Source.
	Escrow Escrow
}

// parentWait bounds how long a rotation waits for a parent that is rotating
// at the same moment (its password changed in MongoDB, not yet in Key
// Vault); a rotation takes well under a second.
const (
	parentWait     = 15 * time.Second
	parentPollStep = 250 * time.Millisecond
)

// Request is one rotation.
type Request struct {
	Mongo      *mongodb.Pool
	Deployment mongodb.Deployment
	// Account is the credential being rotated; its Password is ignored.
	Account mongodb.Identity
	// Parent, when set, changes the password; otherwise the account changes
	// its own, authenticated with its current password.
	Parent *Parent
	// Bindings are the secrets to write; Bindings[0] is the primary, whose
	// value is the password of record.
	Bindings []Binding
	Escrow   Escrow
	Policy   password.Policy
	// VersionLifetime sets "exp" on written versions (the policy's maximum
	// age); zero writes no expiry.
	VersionLifetime time.Duration
	// BootstrapPassword is tried when no Key Vault value logs in, for the
	// first rotation of an account whose password is not in Key Vault yet.
	BootstrapPassword string
	// Written maps bindings' versionless secret ids to the version the last
	// rotation wrote there (the resource's state). When no latest value logs
	// in (someone wrote a wrong value over it), those versions, then the
	// primary's newest versions that a rotation tagged, are tried before
	// giving up.
	Written map[string]string
	// Now is the rotation's timestamp.
	Now time.Time
	// Progress, when set, hears each step as it completes, in words with no
	// password (the segura_rotate action shows them while it runs).
	Progress func(message string)
	// MajorityWait bounds how long a change applied on the primary may take
	// to reach a majority of a replica set before it is rolled back;
	// DefaultMajorityWait when zero.
	MajorityWait time.Duration
	// RouterCacheWait bounds how long a rotation on a sharded cluster waits
	// for every router to accept the new password before it writes Key
	// Vault anyway (with a warning); DefaultRouterCacheWait when zero.
	RouterCacheWait time.Duration
	// Dual, when set, makes this a dual-account rotation (dual.go): Account
	// is the standby, whose password of record is in the primary secret's
	// versions, and every binding switches to it.
	Dual *Dual
}

// Defaults of Request's waits.
const (
	DefaultMajorityWait = time.Minute
	// DefaultRouterCacheWait is the server's default
	// userCacheInvalidationIntervalSecs (30 s) with a margin.
	DefaultRouterCacheWait = 35 * time.Second
)

func (req Request) majorityWait() time.Duration {
	if req.MajorityWait > 0 {
		return req.MajorityWait
	}
	return DefaultMajorityWait
}

func (req Request) routerCacheWait() time.Duration {
	if req.RouterCacheWait > 0 {
		return req.RouterCacheWait
	}
	return DefaultRouterCacheWait
}

// Result is what a rotation did; it holds no password.
type Result struct {
	RotationID string
	RotatedAt  time.Time
	// Versions maps each binding's versionless secret id to the version written.
	Versions map[string]string
	// PasswordSource says where the previous password was found.
	PasswordSource string
	// Account is the account whose password changed (user@authdb).
	Account string
	// Warnings are problems that did not fail the rotation.
	Warnings []string
}

// Rotate runs the protocol. On error, the returned error is an *Error that
// says what state MongoDB and each secret are in and what the next rotation
// will do.
func Rotate(ctx context.Context, req Request) (*Result, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	r := &run{req: req, result: &Result{RotationID: newRotationID(), RotatedAt: req.Now.UTC(), Versions: map[string]string{}, Account: req.Account.String()}}
	if err := r.preflight(ctx); err != nil {
		return nil, err
	}
	r.readMechanisms(ctx)
	r.progress("preflight passed: the current password logs in and every bound secret is readable")
	newPassword, err := password.Generate(req.Policy, req.Account.Username, nil)
	if err != nil {
		return nil, r.fail(StagePreflight, "generating the new password", err, "Fix the rotation policy and apply again.")
	}
	if err := r.stage(ctx, newPassword); err != nil {
		return nil, err
	}
	if other, err := r.otherRotationStagedLater(ctx); err != nil || other != "" {
		r.finishEscrow(ctx, escrowAborted)
		if err == nil {
			// Before any change: MongoDB is untouched, as the error says.
			err = &ConcurrentRotationError{Escrow: r.req.Escrow.ID(), Other: other}
		}
		return nil, r.fail(StagePreflight, "checking that no other rotation of this credential is running", err,
			"Nothing was changed. Another apply is rotating this credential at the same moment; run terraform plan again once it has finished.")
	}
	r.progress(fmt.Sprintf("rotation %s: new password staged in escrow %s", r.result.RotationID, req.Escrow.ID()))
	if err := r.change(ctx, newPassword); err != nil {
		return nil, err
	}
	r.progress(fmt.Sprintf("rotation %s: MongoDB now holds the new password of %s", r.result.RotationID, req.Account.String()))
	if err := r.write(ctx, newPassword); err != nil {
		return nil, err
	}
	r.progress(fmt.Sprintf("rotation %s: written to %d Key Vault secret(s)", r.result.RotationID, len(req.Bindings)))
	if err := r.verify(ctx, newPassword); err != nil {
		return nil, err
	}
	r.retireEscrows(ctx)
	r.finishEscrow(ctx, escrowDone)
	r.progress(fmt.Sprintf("rotation %s: verified (fresh login, every secret read back)", r.result.RotationID))
	return r.result, nil
}

func (r *run) progress(message string) {
	if r.req.Progress != nil {
		r.req.Progress(message)
	}
}

func (req Request) validate() error {
	switch {
	case req.Mongo == nil:
		return errors.New("rotation: no MongoDB pool")
	case len(req.Bindings) == 0:
		return errors.New("rotation: no Key Vault secret is bound to the credential")
	case req.Escrow.Vault == nil || req.Escrow.SecretName == "":
		return errors.New("rotation: no escrow secret")
	case req.Now.IsZero():
		return errors.New("rotation: no timestamp")
	}
	for _, b := range req.Bindings {
		if b.Vault == nil {
			return fmt.Errorf("rotation: binding %s has no vault", b.Label)
		}
	}
	if req.Parent != nil && req.Parent.Source.Vault == nil {
		return errors.New("rotation: the parent credential's secret has no vault")
	}
	return nil
}

// run carries one rotation's progress, so failures can say exactly what
// changed.
type run struct {
	req    Request
	result *Result

	// accountOld is the account's password before the rotation: what a
	// self-rotation authenticates with, and what a roll-back restores.
	accountOld string
	// actorPassword is the parent's password (parent rotations only).
	actorPassword string

	latest        []keyvault.SecretValue // each binding's latest version at preflight
	escrowVersion string
	stagedAt      time.Time
	adopted       string // pending escrow version of an earlier rotation whose password is the current one
	mongoState    string
	written       []int // indexes of bindings written with the new password
	// mechs are the SCRAM mechanisms updateUser keeps credentials for: the
	// ones the user has (usersInfo), read at preflight.
	mechs []string
	// preflightLogin is the preflight's successful login of the actor,
	// which also looked the account up (usersInfo on the same connection,
	// so the mechanisms cost no login of their own); nil when it did not
	// happen.
	preflightLogin *mongodb.Session
	// dep is where every MongoDB command of the rotation goes: the device's
	// deployment, pinned to one router on a sharded cluster (routers, in
	// seed order; the first is the pinned one), so that no decision mixes
	// the user caches of two routers.
	dep     mongodb.Deployment
	routers []string
}

func (r *run) actor(pw string) mongodb.Identity {
	if r.req.Parent != nil {
		id := r.req.Parent.Account
		id.Password = r.actorPassword
		return id
	}
	id := r.req.Account
	id.Password = pw
	return id
}

func (r *run) account(pw string) mongodb.Identity {
	id := r.req.Account
	id.Password = pw
	return id
}

// preflight changes nothing: it checks every secret, and finds and proves the
// password the change will authenticate with.
func (r *run) preflight(ctx context.Context) error {
	r.mongoState = "unchanged"
	r.dep = r.req.Deployment
	if r.routers = r.req.Mongo.Routers(ctx, r.req.Deployment); len(r.routers) > 0 {
		r.dep = r.req.Deployment.PinnedTo(r.routers[0])
	}
	for _, b := range r.req.Bindings {
		s, err := b.Vault.LatestSecret(ctx, b.SecretName)
		if err != nil {
			return r.fail(StagePreflight, "reading "+b.describe(), err, "Nothing was changed. Fix the Key Vault access and apply again.")
		}
		switch s.Status {
		case keyvault.SecretSoftDeleted:
			return r.fail(StagePreflight, "checking "+b.describe(), errors.New("the secret is soft-deleted"),
				"Nothing was changed. Recover the secret (az keyvault secret recover) or purge it, then apply again.")
		case keyvault.SecretMissing:
			// A secret this provider wrote before (Written) and someone
			// deleted and purged is written again, like one allowed to be
			// missing: the password comes from the other bindings.
			if !b.CreateIfMissing && r.req.Written[b.ID()] == "" {
				return r.fail(StagePreflight, "checking "+b.describe(), errors.New("the secret does not exist"),
					"Nothing was changed. Create the secret first, as the integration guide requires, or set create_if_missing = true on the binding.")
			}
		}
		r.latest = append(r.latest, s)
		if b.ExpectedVersion != "" && s.Version != b.ExpectedVersion {
			return r.fail(StagePreflight, "checking "+b.describe(), &ConcurrentChangeError{Secret: b.ID(), Planned: b.ExpectedVersion, Found: s.Version},
				"Nothing was changed. Another apply or a person wrote the secret after this plan was made: run terraform plan again and review before applying.")
		}
	}

	candidates, notes := r.candidates(ctx)
	if r.req.Parent != nil {
		return r.preflightParent(ctx, candidates)
	}
	var tried []string
	for batch := 0; batch < 2; batch++ {
		if batch == 1 {
			// Only when every latest value failed: reading older versions
			// costs Key Vault calls that a healthy rotation does not need.
			more, moreNotes := r.writtenCandidates(ctx, candidates)
			candidates, notes = more, append(notes, moreNotes...)
		}
		for _, c := range candidates {
			session, err := r.loginAndFindAccount(ctx, r.account(c.password))
			if err == nil {
				r.accountOld = c.password
				r.result.PasswordSource = c.source
				r.adopted = c.escrowVersion
				return r.checkPrivileges(session.Privileges, session.PrivilegesKnown)
			}
			if k := mongodb.Classify(err); k != mongodb.KindAuthentication {
				return r.fail(StagePreflight, "logging in to MongoDB as "+r.req.Account.String(), err, "Nothing was changed. "+r.advice(err))
			}
			tried = append(tried, c.source+": login refused")
		}
	}
	tried = append(tried, notes...)
	return r.fail(StagePreflight, "finding the current password of "+r.req.Account.String(),
		fmt.Errorf("no known password logs in (%s)", strings.Join(tried, "; ")),
		"Nothing was changed. Set bootstrap_password_wo to the account's current password, or rotate it through a parent credential, and apply again.")
}

func (r *run) preflightParent(ctx context.Context, candidates []candidate) error {
	p := r.req.Parent
	v, err := p.Source.Vault.GetSecretValue(ctx, p.Source.SecretName, "")
	if err != nil {
		return r.fail(StagePreflight, "reading the parent credential's password from "+p.Source.describe(), err,
			"Nothing was changed. Make sure the parent's secret exists and the provider may get it, then apply again.")
	}
	pw, err := secretvalue.Parse(p.Source.Format, v.Value)
	if err != nil {
		return r.fail(StagePreflight, "reading the parent credential's password from "+p.Source.describe(), err,
			"Nothing was changed. Fix the parent binding's value_format or the secret's value, then apply again.")
	}
	r.actorPassword = pw
	session, err := r.loginAndFindAccount(ctx, r.actor(""))
	if err != nil {
		if mongodb.Classify(err) != mongodb.KindAuthentication || !r.awaitParentPassword(ctx) {
			advice := r.advice(err)
			if mongodb.Classify(err) == mongodb.KindAuthentication {
				advice = fmt.Sprintf("The password in %s does not log in as the parent, and no rotation of the parent was seen finishing within %s. "+
					"Fix the parent first (its own segura_credential_rotation, or the secret's value), then apply again.", p.Source.describe(), parentWait)
			}
			return r.fail(StagePreflight, "logging in to MongoDB as the parent credential "+p.Account.String(), err, "Nothing was changed. "+advice)
		}
	}
	// The account's own old password is only needed to roll back; the
	// primary secret's value is what applications have, so that is what a
	// roll-back restores, whether or not it still logs in.
	for _, c := range candidates {
		if c.primary {
			r.accountOld = c.password
			r.result.PasswordSource = c.source
			break
		}
	}
	if err != nil {
		// The parent's password came from its escrow (awaitParentPassword):
		// its privileges are read with that one.
		session, _ = r.loginAndFindAccount(ctx, r.actor(""))
	}
	return r.checkPrivileges(session.Privileges, session.PrivilegesKnown)
}

// loginAndFindAccount is the preflight's fresh login as the actor (the
// account, or its parent), which also reads the account's user document on
// the same connection for readMechanisms.
func (r *run) loginAndFindAccount(ctx context.Context, as mongodb.Identity) (mongodb.Session, error) {
	s, err := r.req.Mongo.LoginAndFindUser(ctx, r.dep, as, r.accountDatabase(), r.req.Account.Username)
	if err == nil {
		r.preflightLogin = &s
	}
	return s, err
}

// accountDatabase is the account's authentication database, where its
// user document is.
func (r *run) accountDatabase() string {
	if db := r.req.Account.AuthSource; db != "" {
		return db
	}
	return mongodb.DefaultAuthSource
}

// checkPrivileges fails the preflight, before anything is staged, when the
// server lists the acting user's privileges and they do not allow the
// change: changeOwnPassword (or changePassword) on the account's database
// for a self-rotation, changePassword on the account's database for a
// parent (the target user's database: userAdmin on admin does not cover a
// user in orders). A server that lists none (known false) is not checked.
func (r *run) checkPrivileges(privs mongodb.Privileges, known bool) error {
	if !known {
		return nil
	}
	if missing := MissingPrivilege(privs, r.req.Account, r.req.Parent != nil); missing != "" {
		actor := r.req.Account.String()
		if r.req.Parent != nil {
			actor = "the parent " + r.req.Parent.Account.String()
		}
		return r.fail(StagePreflight, "checking the privileges of "+actor,
			fmt.Errorf("%s lacks the %s action on the database %s", actor, missing, authDB(r.req.Account)),
			"Nothing was changed: no escrow was staged and no secret was written. "+r.privilegeAdvice())
	}
	return nil
}

// MissingPrivilege returns the action privs lack to change account's
// password ("" when nothing is missing): changeOwnPassword for the account
// itself (changePassword also does), changePassword on the account's
// database for a parent.
func MissingPrivilege(privs mongodb.Privileges, account mongodb.Identity, byParent bool) string {
	db := authDB(account)
	switch {
	case privs.AllowsOnDatabase("changePassword", db):
		return ""
	case byParent:
		return "changePassword"
	case privs.AllowsOnDatabase("changeOwnPassword", db):
		return ""
	default:
		return "changeOwnPassword"
	}
}

func authDB(id mongodb.Identity) string {
	if id.AuthSource == "" {
		return mongodb.DefaultAuthSource
	}
	return id.AuthSource
}

// awaitParentPassword finds the parent's current password after the one
// preflight read stopped logging in: a parent rotating at the same moment
// (same apply, another workspace) has it in its escrow, then in its secret.
// It polls both, for up to parentWait while the parent's escrow shows a
// rotation in flight (else once), and reports whether a password that logs
// in as the parent was found (it becomes the actor's password).
func (r *run) awaitParentPassword(ctx context.Context) bool {
	p := r.req.Parent
	deadline := time.Now().Add(parentWait)
	tried := map[string]bool{r.actorPassword: true}
	for {
		inFlight := false
		var pws []string
		if v, err := p.Source.Vault.GetSecretValue(ctx, p.Source.SecretName, ""); err == nil {
			if pw, err := secretvalue.Parse(p.Source.Format, v.Value); err == nil {
				pws = append(pws, pw)
			}
		}
		if e := p.Escrow; e.Vault != nil {
			if versions, err := e.Vault.SecretVersions(ctx, e.SecretName); err == nil {
				for _, v := range versions {
					if !v.Enabled || v.Tags[keyvault.TagCredential] != AccountTag(r.req.Deployment, p.Account) {
						continue
					}
					inFlight = inFlight || time.Since(stagedAt(v)) < escrowLease
					if s, err := e.Vault.GetSecretValue(ctx, e.SecretName, v.Version); err == nil {
						pws = append(pws, s.Value)
					}
				}
			}
		}
		for _, pw := range pws {
			if tried[pw] {
				continue
			}
			tried[pw] = true
			id := p.Account
			id.Password = pw
			if r.req.Mongo.VerifyLogin(ctx, r.dep, id) == nil {
				r.actorPassword = pw
				return true
			}
		}
		if !inFlight || time.Now().After(deadline) || sleep(ctx, parentPollStep) != nil {
			return false
		}
		// A password seen once may log in later (the parent's updateUser
		// lands after its escrow is staged): try them all again.
		tried = map[string]bool{r.actorPassword: true}
	}
}

type candidate struct {
	source   string
	password string
	primary  bool
	// escrowVersion is set when the password comes from a pending escrow
	// version of an earlier rotation, which this one then takes over.
	escrowVersion string
}

// candidates lists the passwords that might be the account's current one,
// most likely first: the primary secret, pending escrows (newest first), the
// other secrets, the bootstrap password. notes says why a source gave nothing.
func (r *run) candidates(ctx context.Context) ([]candidate, []string) {
	if r.switching() {
		return r.dualCandidates(ctx)
	}
	var out []candidate
	var notes []string
	seen := map[string]bool{}
	add := func(c candidate) {
		if c.password == "" || seen[c.password] {
			return
		}
		seen[c.password] = true
		out = append(out, c)
	}
	for i, b := range r.req.Bindings {
		v := r.latest[i]
		if v.Status != keyvault.SecretExists {
			notes = append(notes, fmt.Sprintf("%s: the secret does not exist yet", b.describe()))
		} else if pw, err := secretvalue.Parse(b.Format, v.Value); err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", b.describe(), err))
		} else {
			add(candidate{source: fmt.Sprintf("%s version %s", b.describe(), v.Version), password: pw, primary: i == 0})
		}
		if i == 0 {
			escrowed, escrowNotes := r.escrowCandidates(ctx)
			notes = append(notes, escrowNotes...)
			for _, c := range escrowed {
				add(c)
			}
		}
	}
	if r.req.BootstrapPassword != "" {
		add(candidate{source: "the bootstrap password", password: r.req.BootstrapPassword})
	}
	return out, notes
}

// maxTaggedCandidates bounds how many of the primary's older tagged
// versions a preflight reads when no latest value logs in.
const maxTaggedCandidates = 5

// writtenCandidates lists passwords not yet tried (tried holds the ones
// that were) that this provider wrote: the versions the last rotation wrote
// (Request.Written), then the primary's newest versions that carry a
// rotation id, newest first. A human who pasted a wrong value over the
// latest version does not lock the account out while one of these logs in.
func (r *run) writtenCandidates(ctx context.Context, tried []candidate) ([]candidate, []string) {
	if r.switching() {
		return nil, nil // dualCandidates read the standby's versions already
	}
	seen := map[string]bool{}
	for _, c := range tried {
		seen[c.password] = true
	}
	var out []candidate
	var notes []string
	read := func(b Binding, version, why string) {
		v, err := b.Vault.GetSecretValue(ctx, b.SecretName, version)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s version %s: %v", b.describe(), version, err))
			return
		}
		pw, err := secretvalue.Parse(b.Format, v.Value)
		if err != nil || seen[pw] {
			return
		}
		seen[pw] = true
		out = append(out, candidate{source: fmt.Sprintf("%s version %s (%s)", b.describe(), version, why), password: pw})
	}
	done := map[string]bool{}
	for i, b := range r.req.Bindings {
		if v := r.req.Written[b.ID()]; v != "" && v != r.latest[i].Version {
			read(b, v, "written by the last rotation")
			done[b.ID()+"/"+v] = true
		}
	}
	primary := r.req.Bindings[0]
	versions, err := primary.Vault.SecretVersions(ctx, primary.SecretName)
	if err != nil && !errors.Is(err, keyvault.ErrSecretNotFound) {
		return out, append(notes, fmt.Sprintf("listing the versions of %s: %v", primary.describe(), err))
	}
	var tagged []keyvault.Secret
	for _, v := range versions {
		id := v.Tags[keyvault.TagRotationID]
		if v.Enabled && id != "" && !strings.HasSuffix(id, rollbackSuffix) && v.Version != r.latest[0].Version && !done[primary.ID()+"/"+v.Version] &&
			(r.req.Dual == nil || r.belongsTo(v, r.req.Account)) {
			tagged = append(tagged, v)
		}
	}
	sort.Slice(tagged, func(i, j int) bool { return tagged[i].Created.After(tagged[j].Created) })
	for i, v := range tagged {
		if i == maxTaggedCandidates {
			break
		}
		read(primary, v.Version, "written by rotation "+v.Tags[keyvault.TagRotationID])
	}
	return out, notes
}

// change runs updateUser and decides, from the server's answer and, when
// that is lost, from logins on the primary, what MongoDB now holds:
//
//   - nil: a majority has the new password;
//   - a writeConcernError, or a lost reply after which the new password logs
//     in on the primary: applied, durability pending: wait for a majority;
//   - an error code that proves updateUser never ran (mongodb.NotApplied):
//     nothing changed, the escrow is aborted;
//   - anything else (a broken connection, a timeout, a step-down mid-command):
//     unknown. Even when the previous password still logs in on the primary
//     the command may still apply, so the escrow stays pending.
func (r *run) change(ctx context.Context, newPassword string) error {
	err := r.req.Mongo.ChangePassword(ctx, r.dep, r.actor(r.accountOld), r.account(""), newPassword, r.mechs)
	// A refused login means updateUser never ran: the password it logged in
	// with (the account's or the parent's) changed after preflight.
	refused := mongodb.Classify(err) == mongodb.KindAuthentication
	if refused && r.req.Parent != nil && r.awaitParentPassword(ctx) {
		// The parent rotated after our preflight: change with its new password.
		err = r.req.Mongo.ChangePassword(ctx, r.dep, r.actor(""), r.account(""), newPassword, r.mechs)
		refused = mongodb.Classify(err) == mongodb.KindAuthentication
	}
	switch {
	case err == nil:
		return r.changed(ctx, newPassword)
	case mongodb.Classify(err) == mongodb.KindWriteConcern:
		return r.awaitMajority(ctx, newPassword, err)
	case !refused && mongodb.NotApplied(err):
		return r.refusedByServer(ctx, err)
	}
	// The outcome is unknown: ask the primary which password it takes. A
	// command that lost its connection may be applying at this very moment,
	// so when neither password logs in the question is asked again.
	for check := 0; !refused && check < outcomeChecks; check++ {
		if check > 0 && sleep(ctx, time.Duration(check)*outcomeCheckBackoff) != nil {
			break
		}
		newErr := r.req.Mongo.VerifyLogin(ctx, r.dep, r.account(newPassword))
		if newErr == nil {
			// The change went through even though the reply was lost;
			// whether a majority has it is not known.
			return r.awaitMajority(ctx, newPassword, err)
		}
		if r.accountOld == "" {
			break
		}
		oldErr := r.req.Mongo.VerifyLogin(ctx, r.dep, r.account(r.accountOld))
		if oldErr == nil {
			// The primary still has the previous password, but a command
			// that timed out or lost its connection may still apply: the
			// escrow keeps the new password until a later rotation is
			// certain it is not MongoDB's.
			r.mongoState = "still accepted the previous password on the primary when checked, but the updateUser whose connection broke or timed out may yet apply"
			return r.fail(StageChange, "changing the password in MongoDB", err,
				fmt.Sprintf("No bound secret was written, and applications keep the previous password. The new password stays pending in the escrow secret %s, in case the command applies late; the next plan shows which password MongoDB takes, and the next apply tries both and finishes from whichever it accepts.",
					r.req.Escrow.ID()))
		}
		if mongodb.Classify(newErr) != mongodb.KindAuthentication || mongodb.Classify(oldErr) != mongodb.KindAuthentication {
			break // the primary cannot be asked now
		}
	}
	// Rotations that started together may still be moving the password
	// (each makes at most two updateUser calls), so a miss is retried a
	// few times before giving up on naming the other rotation.
	for attempt := 1; ; attempt++ {
		if other, version, theirs, ok := r.concurrentChange(ctx); ok {
			switch r.adoptAndRetry(ctx, version, theirs, newPassword) {
			case adoptedChanged:
				return r.changed(ctx, newPassword)
			case adoptedNoMajority:
				return r.awaitMajority(ctx, newPassword, err)
			}
			r.finishEscrow(ctx, escrowAborted)
			return r.fail(StageChange, "changing the password in MongoDB", r.takenOver(other),
				"Another rotation changed the password at the same time (its escrowed password logs in); this one changed nothing and wrote no secret. Run terraform plan again once the other apply has finished.")
		}
		if !refused || attempt == concurrentChangeAttempts || sleep(ctx, time.Duration(attempt)*concurrentChangeBackoff) != nil {
			break
		}
	}
	if refused {
		r.mongoState = MongoNotChangedLoginRefused
		r.finishEscrow(ctx, escrowAborted)
		if p := r.req.Parent; p != nil {
			return r.fail(StageChange, "changing the password in MongoDB", err,
				fmt.Sprintf("The parent %s's password was changed after this rotation's preflight, and no password in %s or the parent's escrow %s logged in as the parent within %s; this rotation wrote no secret. "+
					"Check the parent's own rotation (terraform plan shows whether its Key Vault value still logs in), then apply again.", p.Account.String(), p.Source.describe(), p.Escrow.SecretName, parentWait))
		}
		return r.fail(StageChange, "changing the password in MongoDB", err,
			"The password this rotation logged in with was changed after its preflight, by another rotation or by a person; this one wrote no secret. Run terraform plan again: it shows whether the Key Vault value still logs in, and the next apply starts from any password the bound secrets, the escrow or bootstrap_password_wo hold.")
	}
	r.mongoState = "is in an unknown state (neither password could be verified on the primary)"
	return r.fail(StageChange, "changing the password in MongoDB", err,
		fmt.Sprintf("No bound secret was written. The new password is kept in the escrow secret %s; the next apply tries it and the previous password and finishes the rotation.", r.req.Escrow.ID()))
}

// refusedByServer ends a rotation whose updateUser the server answered with
// an error that proves it did not run: nothing changed.
func (r *run) refusedByServer(ctx context.Context, err error) error {
	code, name, _ := mongodb.ServerCode(err)
	r.mongoState = fmt.Sprintf("was not changed (the server refused updateUser with code %d %s, so it never ran)", code, name)
	r.finishEscrow(ctx, escrowAborted)
	return r.fail(StageChange, "changing the password in MongoDB", err,
		"No secret was written and applications keep the previous password. "+r.advice(err))
}

// changed is reached once a majority has the new password: on a sharded
// cluster it then waits for the other routers, whose user caches may still
// refuse it.
func (r *run) changed(ctx context.Context, newPassword string) error {
	r.mongoState = "has the new password"
	if len(r.routers) > 1 {
		if stale := r.req.Mongo.AwaitLogin(ctx, r.dep, r.account(newPassword), r.routers[1:], r.req.routerCacheWait(), majorityPollStep); len(stale) > 0 {
			r.result.Warnings = append(r.result.Warnings, fmt.Sprintf(
				"the routers %s still refused the new password of %s %s after the change (their user cache refreshes every userCacheInvalidationIntervalSecs, 30 s by default); "+
					"the previous password keeps working there until they refresh, and applications that read the new one from Key Vault may be refused through them until then.",
				strings.Join(stale, ", "), r.req.Account.String(), r.req.routerCacheWait()))
		}
	}
	return nil
}

// awaitMajority is reached when updateUser applied on the primary but a
// majority was not confirmed (a writeConcernError, or a lost reply after
// which the new password logs in on the primary). Key Vault must not get a
// password a failover can undo, so the same change is sent again with
// w: "majority" (a later write confirmed on a majority implies the earlier
// one) until a majority confirms, for up to MajorityWait; past that MongoDB
// is rolled back to the previous password, which every lagging member
// still has.
func (r *run) awaitMajority(ctx context.Context, newPassword string, cause error) error {
	r.mongoState = "has the new password on the primary, not yet confirmed on a majority of members"
	deadline := time.Now().Add(r.req.majorityWait())
	actorPw := newPassword
	if r.req.Parent != nil {
		actorPw = r.actorPassword
	}
	for time.Now().Before(deadline) {
		err := r.req.Mongo.ChangePassword(ctx, r.dep, r.actor(actorPw), r.account(""), newPassword, r.mechs)
		if err == nil {
			return r.changed(ctx, newPassword)
		}
		cause = err
		if mongodb.NotApplied(err) || sleep(ctx, majorityPollStep) != nil {
			break
		}
	}
	what := fmt.Sprintf("waiting up to %s for a majority of members to confirm the change", r.req.majorityWait())
	if r.accountOld == "" {
		return r.fail(StageChange, what, cause, fmt.Sprintf("No bound secret was written. The new password is kept in the escrow secret %s; the next apply finds it and finishes once the replica set is healthy (check rs.status() for members that are down or lagging).", r.req.Escrow.ID()))
	}
	rbErr := r.req.Mongo.ChangePassword(ctx, r.dep, r.actor(actorPw), r.account(""), r.accountOld, r.mechs)
	if rbErr != nil && mongodb.Classify(rbErr) != mongodb.KindWriteConcern {
		return r.fail(StageChange, what, cause, fmt.Sprintf("Rolling back to the previous password also failed (%v). No bound secret was written; the new password is kept in the escrow secret %s, and the next apply tries both passwords and finishes.", rbErr, r.req.Escrow.ID()))
	}
	if err := r.req.Mongo.VerifyLogin(ctx, r.dep, r.account(r.accountOld)); err != nil {
		return r.fail(StageChange, what, cause, fmt.Sprintf("MongoDB was rolled back but the previous password does not log in on the primary (%v). No bound secret was written; the new password is kept in the escrow secret %s, and the next apply tries both passwords and finishes.", err, r.req.Escrow.ID()))
	}
	r.mongoState = "has the previous password again on the primary (rolled back and verified), which every lagging member still has"
	r.finishEscrow(ctx, escrowAborted)
	return r.fail(StageChange, what, cause,
		"No secret was written, so Key Vault never held a password a failover could undo, and applications keep the previous one. Check the replica set (rs.status(): members down or lagging, a write concern it cannot meet), then apply again.")
}

// majorityPollStep is how often awaitMajority and the router wait try again.
const majorityPollStep = 500 * time.Millisecond

// outcomeChecks is how many times a rotation whose updateUser outcome is
// unknown asks the primary which password it takes, while it refuses both.
const (
	outcomeChecks       = 3
	outcomeCheckBackoff = 300 * time.Millisecond
)

// MongoNotChangedLoginRefused is Error.MongoDB when the login for updateUser
// was refused, so this rotation cannot have changed the password.
const MongoNotChangedLoginRefused = "was not changed by this rotation (its login was refused, so updateUser never ran)"

const (
	concurrentChangeAttempts = 4
	concurrentChangeBackoff  = 100 * time.Millisecond
)

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// adoptAndRetry handles a self-rotation whose updateUser failed because an
// earlier rotation, which this one staged after and so owns the account
// over, had just changed the password: it takes that rotation's password
// (from its escrow) as the current one and changes it again, so the account
// does not wait for a later apply. It says whether the change went through,
// and whether a majority confirmed it.
func (r *run) adoptAndRetry(ctx context.Context, version, theirs, newPassword string) adoption {
	if r.req.Parent != nil {
		return notAdopted // a parent's change does not fail for that reason
	}
	if other, err := r.otherRotationStagedLater(ctx); err != nil || other != "" {
		return notAdopted // a later rotation owns the account (or it cannot be told): leave it
	}
	if r.takeOver(ctx, version) != nil {
		return notAdopted
	}
	result := adoptedChanged
	if err := r.req.Mongo.ChangePassword(ctx, r.dep, r.actor(theirs), r.account(""), newPassword, r.mechs); err != nil {
		if mongodb.Classify(err) != mongodb.KindWriteConcern {
			return notAdopted
		}
		result = adoptedNoMajority
	}
	r.accountOld, r.adopted = theirs, version
	return result
}

// adoption is what adoptAndRetry did.
type adoption int

const (
	notAdopted        adoption = iota
	adoptedChanged             // a majority has the new password
	adoptedNoMajority          // applied on the primary, a majority not confirmed
)

// write sets the new password as a new version of every bound secret. The
// first failure (after azcore's retries) rolls everything back.
func (r *run) write(ctx context.Context, newPassword string) error {
	for i, b := range r.req.Bindings {
		if other, err := r.otherRotationStagedLater(ctx); err == nil && other != "" {
			// The later rotation found our password (escrowed or written)
			// and owns the credential now: writing on would race it.
			return r.fail(StageWrite, "writing the new password to "+b.describe(), r.takenOver(other),
				fmt.Sprintf("MongoDB had the new password of this rotation, kept in the escrow secret %s, when rotation %s started and took over; this one stopped without writing more so as not to overwrite it. Run terraform plan again once the other apply has finished: it converges from whichever password MongoDB accepts.",
					r.req.Escrow.ID(), other))
		}
		v, err := r.writeBinding(ctx, b, newPassword, r.result.RotationID)
		if err != nil {
			return r.rollback(ctx, newPassword, i, err)
		}
		r.result.Versions[b.ID()] = v
		r.written = append(r.written, i)
		if other, err := r.otherRotationStagedLater(ctx); err == nil && other != "" {
			// Taken over while this write was in flight: it may have
			// landed after the other rotation's, so give the secret back.
			return r.yield(ctx, b, other)
		}
	}
	return nil
}

// yield repairs a secret this rotation wrote after another rotation took
// over: if the other has already written the secret, its value becomes the
// latest again; if not, its own write, still to come, will be.
func (r *run) yield(ctx context.Context, b Binding, other string) error {
	cause := r.takenOver(other)
	what := "writing the new password to " + b.describe()
	versions, err := b.Vault.SecretVersions(ctx, b.SecretName)
	if err != nil {
		return r.fail(StageWrite, what, cause, fmt.Sprintf("Rotation %s took over while this write was in flight, and listing the secret's versions to give it back failed (%v). The next plan shows any drift and the next apply converges.", other, err))
	}
	var theirs *keyvault.Secret
	for i, v := range versions {
		if v.Tags[keyvault.TagRotationID] == other && (theirs == nil || v.Created.After(theirs.Created)) {
			theirs = &versions[i]
		}
	}
	if theirs == nil {
		return r.fail(StageWrite, what, cause, fmt.Sprintf("Rotation %s took over while this write was in flight and has not written this secret yet; its write will supersede this one. This rotation stopped; run terraform plan again once the other apply has finished.", other))
	}
	value, err := b.Vault.GetSecretValue(ctx, b.SecretName, theirs.Version)
	if err == nil {
		_, err = b.Vault.SetSecretValue(ctx, b.SecretName, keyvault.SecretWrite{Value: value.Value, ContentType: value.ContentType, Tags: value.Tags, Expires: value.Expires})
	}
	if err != nil {
		return r.fail(StageWrite, what, cause, fmt.Sprintf("Rotation %s took over while this write was in flight, and this write landed after its own; copying its version %s back failed (%v). The next plan shows the drift and the next apply converges.", other, theirs.Version, err))
	}
	return r.fail(StageWrite, what, cause, fmt.Sprintf("Rotation %s took over while this write was in flight; this write landed after the other's, so the other's value (version %s) was written again as the latest. This rotation stopped; the other one owns the credential.", other, theirs.Version))
}

func (r *run) writeBinding(ctx context.Context, b Binding, pw, rotationID string) (string, error) {
	value, err := secretvalue.Render(b.Format, secretvalue.Account{Deployment: r.req.Deployment, Username: r.req.Account.Username, AuthSource: r.req.Account.AuthSource}, pw)
	if err != nil {
		return "", err
	}
	tags := make(map[string]string, len(b.Tags)+4)
	for k, v := range b.Tags {
		tags[k] = v
	}
	tags[keyvault.TagCredential] = r.accountTag()
	tags[keyvault.TagRotationID] = rotationID
	tags[keyvault.TagRotatedAt] = r.result.RotatedAt.Format(time.RFC3339)
	if b.Scope != "" {
		tags[keyvault.TagScope] = b.Scope
	}
	w := keyvault.SecretWrite{Value: value, ContentType: b.contentType(), Tags: tags}
	if r.req.VersionLifetime > 0 {
		w.Expires = r.result.RotatedAt.Add(r.req.VersionLifetime)
	}
	s, err := b.Vault.SetSecretValue(ctx, b.SecretName, w)
	if err != nil {
		return "", err
	}
	return s.Version, nil
}

// rollback puts MongoDB and every secret already written back on the
// previous password, so that applications reading any of them keep working.
func (r *run) rollback(ctx context.Context, newPassword string, failed int, cause error) error {
	b := r.req.Bindings[failed]
	what := "writing the new password to " + b.describe()
	if other, err := r.otherRotationStagedLater(ctx); err != nil || other != "" {
		// Rolling MongoDB back now could undo the change of a rotation that
		// took over, and lock its secrets out.
		if other == "" {
			other = "another rotation (the escrow could not be read: " + err.Error() + ")"
		}
		r.markTakenOver(other)
		return r.fail(StageWrite, what, cause, fmt.Sprintf("Rotation %s has taken over this credential, so MongoDB was not rolled back; this rotation's password stays in the escrow secret %s. Run terraform plan again once the other apply has finished: it converges from whichever password MongoDB accepts.", other, r.req.Escrow.ID()))
	}
	if r.switching() {
		return r.dualRollback(ctx, newPassword, failed, cause)
	}
	if r.accountOld == "" {
		return r.fail(StageWrite, what, cause, r.pendingAdvice(failed))
	}
	actorPw := newPassword // self-rotation: the account now logs in with the new password
	if r.req.Parent != nil {
		actorPw = r.actorPassword
	}
	// A writeConcernError still means the primary has the previous password
	// again, which the login below proves; the members that lag never lost it.
	if err := r.req.Mongo.ChangePassword(ctx, r.dep, r.actor(actorPw), r.account(""), r.accountOld, r.mechs); err != nil && mongodb.Classify(err) != mongodb.KindWriteConcern {
		return r.fail(StageWrite, what, cause, "Rolling MongoDB back also failed ("+err.Error()+"). "+r.pendingAdvice(failed))
	}
	if err := r.req.Mongo.VerifyLogin(ctx, r.dep, r.account(r.accountOld)); err != nil {
		return r.fail(StageWrite, what, cause, "MongoDB was rolled back but the previous password does not log in ("+err.Error()+"). "+r.pendingAdvice(failed))
	}
	r.mongoState = "has the previous password again (rolled back and verified)"
	// Restore what was written, and the failed write too when the secret
	// moved on: a write can land even though its reply was lost.
	restore := append([]int(nil), r.written...)
	if latest, err := b.Vault.SecretProperties(ctx, b.SecretName); err != nil || latest.Version != r.latest[failed].Version {
		restore = append(restore, failed)
	}
	var restored, stuck []string
	for _, i := range restore {
		wb := r.req.Bindings[i]
		v, err := r.writeBinding(ctx, wb, r.accountOld, r.result.RotationID+rollbackSuffix)
		switch {
		case err == nil:
			restored = append(restored, fmt.Sprintf("%s restored to the previous password as version %s", wb.describe(), v))
		case r.holds(ctx, wb, r.accountOld):
			restored = append(restored, fmt.Sprintf("%s holds the previous password (read back after a lost reply)", wb.describe()))
		default:
			stuck = append(stuck, fmt.Sprintf("%s may hold the new password, which no longer works (%v)", wb.describe(), err))
		}
	}
	r.result.Versions = map[string]string{}
	advice := "Rolled back: MongoDB has the previous password again (verified)"
	if len(restored) > 0 {
		advice += "; " + strings.Join(restored, "; ")
	}
	if len(stuck) > 0 {
		advice += "; " + strings.Join(stuck, "; ") + ". The next plan shows those secrets no longer log in, and the next apply, finding the previous password in the other secrets or given bootstrap_password_wo, rotates again."
	} else {
		advice += ". Nothing is pending: every secret holds the password MongoDB accepts. Fix the cause and apply again to rotate."
	}
	// The escrow holds the new password, which MongoDB no longer accepts.
	r.finishEscrow(ctx, escrowAborted)
	return r.fail(StageWrite, what, cause, advice)
}

// holds reports whether b's latest value is pw.
func (r *run) holds(ctx context.Context, b Binding, pw string) bool {
	v, err := b.Vault.GetSecretValue(ctx, b.SecretName, "")
	if err != nil {
		return false
	}
	got, err := secretvalue.Parse(b.Format, v.Value)
	return err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(pw)) == 1
}

// pendingAdvice describes a rotation left with MongoDB on the new password.
func (r *run) pendingAdvice(failed int) string {
	var parts []string
	for _, i := range r.written {
		parts = append(parts, r.req.Bindings[i].describe()+" holds the new password")
	}
	for i := failed; i < len(r.req.Bindings); i++ {
		parts = append(parts, r.req.Bindings[i].describe()+" still holds the previous password, which no longer works")
	}
	return fmt.Sprintf("MongoDB has the new password, which is kept in the escrow secret %s. %s. The next apply finds the new password there and finishes writing every secret.",
		r.req.Escrow.ID(), strings.Join(parts, "; "))
}

// verify proves the rotation: a fresh SCRAM login with the new password, and
// every written version read back equal to what was written.
func (r *run) verify(ctx context.Context, newPassword string) error {
	if err := r.req.Mongo.VerifyLogin(ctx, r.dep, r.account(newPassword)); err != nil {
		other, cerr := r.otherRotationStagedLater(ctx)
		if cerr != nil || other == "" {
			other, _, _, _ = r.concurrentChange(ctx)
		}
		if other != "" {
			return r.fail(StageVerify, "logging in to MongoDB with the new password", r.takenOver(other),
				fmt.Sprintf("Rotation %s changed the password again at the same time; its password is kept in the escrow secret %s, so the next plan shows the drift and the next apply converges from it. Run terraform plan again once the other apply has finished.", other, r.req.Escrow.ID()))
		}
		return r.fail(StageVerify, "logging in to MongoDB with the new password", err,
			fmt.Sprintf("Every secret was written. The new password is also kept in the escrow secret %s; the next apply checks which password MongoDB accepts and converges.", r.req.Escrow.ID()))
	}
	for _, b := range r.req.Bindings {
		version := r.result.Versions[b.ID()]
		got, err := b.Vault.GetSecretValue(ctx, b.SecretName, version)
		if err != nil {
			return r.fail(StageVerify, fmt.Sprintf("reading back version %s of %s", version, b.describe()), err,
				fmt.Sprintf("MongoDB has the new password (verified), also kept in the escrow secret %s. The next plan re-reads the secret and the next apply rewrites it if it differs.", r.req.Escrow.ID()))
		}
		if latest, err := b.Vault.SecretProperties(ctx, b.SecretName); err == nil && latest.Version != version {
			return r.fail(StageVerify, "checking the latest version of "+b.describe(),
				&ConcurrentChangeError{Secret: b.ID(), Planned: version, Found: latest.Version},
				fmt.Sprintf("MongoDB has the new password (verified), also kept in the escrow secret %s, but someone wrote the secret after this rotation. The next plan shows the drift and the next apply converges from whichever password MongoDB accepts.", r.req.Escrow.ID()))
		}
		pw, err := secretvalue.Parse(b.Format, got.Value)
		if err != nil || subtle.ConstantTimeCompare([]byte(pw), []byte(newPassword)) != 1 {
			return r.fail(StageVerify, fmt.Sprintf("reading back version %s of %s", version, b.describe()), errors.New("the value read back differs from the value written"),
				fmt.Sprintf("MongoDB has the new password (verified), also kept in the escrow secret %s. The next plan detects the secret does not log in and the next apply rewrites it.", r.req.Escrow.ID()))
		}
	}
	return nil
}

// accountTag names the account in keyvault.TagCredential: the same for
// every workspace that rotates it (escrow coordination depends on that),
// and readable by an auditor: "user@authdb on host:port,...". Key Vault tag
// values hold 256 characters; a longer seed list is replaced by its hash.
func (r *run) accountTag() string { return AccountTag(r.req.Deployment, r.req.Account) }

// AccountTag is the keyvault.TagCredential value on every version a rotation
// of account on dep writes (user@authdb on the seed list), which is how
// rotations of one account find each other, and how a listing tells which
// MongoDB users are managed already.
func AccountTag(dep mongodb.Deployment, account mongodb.Identity) string {
	hosts := strings.Join(dep.Hosts, ",")
	if dep.IsSRV() {
		hosts = dep.Address() // "mongodb+srv://name": only DNS knows the hosts
	}
	tag := account.String() + " on " + hosts
	if len(tag) > keyvault.MaxTagValueLength {
		sum := sha256.Sum256([]byte(hosts))
		tag = account.String() + " on hosts#" + hex.EncodeToString(sum[:8])
	}
	if len(tag) > keyvault.MaxTagValueLength {
		tag = tag[:keyvault.MaxTagValueLength]
	}
	return tag
}

func mechanisms(id mongodb.Identity) []string {
	if id.Mechanism == "" {
		return nil
	}
	return []string{id.Mechanism}
}

// readMechanisms reads the SCRAM mechanisms the user has credentials for,
// so that updateUser keeps exactly those: it builds credentials only for
// the mechanisms it is given and drops the others, so sending SCRAM-SHA-256
// alone would lock out every client pinned to SCRAM-SHA-1. The mechanism the
// credential logs in with is always kept. When usersInfo cannot be read
// (a parent without viewUser), the rotation goes on with that mechanism
// alone and says so.
func (r *run) readMechanisms(ctx context.Context) {
	r.mechs = mechanisms(r.req.Account)
	db := r.accountDatabase()
	var u *mongodb.User
	var err error
	if s := r.preflightLogin; s != nil {
		u, err = s.User, s.UserErr
	} else {
		u, err = r.req.Mongo.UserInfo(ctx, r.dep, r.actor(r.accountOld), db, r.req.Account.Username)
	}
	if err != nil || u == nil || len(u.Mechanisms) == 0 {
		why := "the user was not found"
		if err != nil {
			why = err.Error()
		}
		if len(r.mechs) > 0 {
			r.result.Warnings = append(r.result.Warnings, fmt.Sprintf("could not read the SCRAM mechanisms of %s (%s), so updateUser kept %s only; "+
				"clients pinned to another mechanism must log in with it. Grant viewUser on %s to the credential that changes the password.",
				r.req.Account.String(), why, strings.Join(r.mechs, ", "), db))
		}
		return
	}
	var keep []string
	for _, m := range u.Mechanisms {
		if strings.HasPrefix(m, "SCRAM-") {
			keep = append(keep, m)
		}
	}
	for _, m := range r.mechs {
		if !slices.Contains(keep, m) {
			keep = append(keep, m)
		}
	}
	r.mechs = keep
}

// advice says what to do about a MongoDB failure of this rotation, from
// the server's code: who needs which privilege on which database, which
// host is not the primary, which server refused what.
func (r *run) advice(err error) string {
	switch mongodb.Classify(err) {
	case mongodb.KindUnreachable:
		return "Check that the device's address, port and TLS settings are right and that it is up (on a replica set: that a primary is elected), then apply again."
	case mongodb.KindNotPrimary:
		return "The host that answered is not the primary of its replica set: set replica_set on the device and list the members in hosts, so the provider finds the primary, then apply again."
	case mongodb.KindUnauthorized:
		return r.privilegeAdvice()
	case mongodb.KindUserNotFound:
		return "The user does not exist in its auth database: create it, or fix the credential's username / auth_database."
	case mongodb.KindAuthentication:
		return "The password was refused: set bootstrap_password_wo to the current password, or fix the parent's secret."
	case mongodb.KindRefused:
		if svc, ok := mongodb.HostedServiceByAnswer(err); ok {
			return svc.Advice()
		}
		code, name, _ := mongodb.ServerCode(err)
		return fmt.Sprintf("The server refused the command with code %d %s, which proves it did not run; fix what its message says (a hosted service may not allow password changes through the wire protocol: see the MongoDB setup guide), then apply again.", code, name)
	default:
		return "Fix the cause and apply again."
	}
}

// privilegeAdvice gives the mongosh commands that grant what a rotation
// needs: changeOwnPassword on the account's database for a self-rotation,
// changePassword (and viewUser, to keep the user's SCRAM mechanisms) on the
// account's database for a parent.
func (r *run) privilegeAdvice() string {
	return PrivilegeAdvice(r.req.Account, parentAccount(r.req.Parent))
}

func parentAccount(p *Parent) *mongodb.Identity {
	if p == nil {
		return nil
	}
	return &p.Account
}

// PrivilegeAdvice says, with the mongosh commands, how to grant what
// changing account's password needs, done by parent (nil: by itself).
func PrivilegeAdvice(account mongodb.Identity, parent *mongodb.Identity) string {
	db := authDB(account)
	if parent != nil {
		return fmt.Sprintf("The parent %s needs the changePassword action on the database %s, the target user's database (userAdmin on admin does not cover a user in another database), and viewUser there to keep the user's SCRAM mechanisms. "+
			"Grant them in mongosh: db.getSiblingDB(%q).createRole({role: \"seguraRotateUsers\", privileges: [{resource: {db: %q, collection: \"\"}, actions: [\"changePassword\", \"viewUser\"]}], roles: []}); "+
			"db.getSiblingDB(%q).grantRolesToUser(%q, [{role: \"seguraRotateUsers\", db: %q}]). Then apply again.",
			parent.String(), db, db, db, authDB(*parent), parent.Username, db)
	}
	return fmt.Sprintf("%s needs the changeOwnPassword action on its database %s to change its own password (built-in roles such as readWrite do not grant it). "+
		"Grant it in mongosh: db.getSiblingDB(%q).createRole({role: \"seguraChangeOwnPassword\", privileges: [{resource: {db: %q, collection: \"\"}, actions: [\"changeOwnPassword\"]}], roles: []}); "+
		"db.getSiblingDB(%q).grantRolesToUser(%q, [{role: \"seguraChangeOwnPassword\", db: %q}]). Or rotate it through a parent credential. Then apply again.",
		account.String(), db, db, db, db, account.Username, db)
}

func newRotationID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
