package rotation

// Zero-downtime (dual-account) mode (DESIGN.md §3): two accounts on one
// device, with the same roles, take turns. The account applications use, the
// active one, is the one the primary secret's newest provider-written version
// names in keyvault.TagCredential (a version without that tag holds the
// password of the resource's own credential, as before dual mode). A rotation
// changes the other account, the standby, with the same protocol as a
// single-account rotation (preflight, escrow, updateUser, write, verify), and
// writes the standby's username and new password to every binding, so that
// it becomes the active one; the previously active account's password is not
// touched and keeps logging in until the next rotation changes it.
//
// The standby's password of record is the newest version of the primary
// secret that holds its password (tagged with its account): nothing about
// either account is kept in Terraform state. Its candidates at preflight are
// those versions, its pending escrow versions (a rotation of it that died
// after updateUser) and its bootstrap password; a parent, when it has one,
// changes it without them.
//
// A roll-back restores every binding already written to the value it held
// before (the active account's, which still logs in), then puts the
// standby's previous password back in MongoDB when it is known; when it is
// not, the standby keeps the new password, which stays in the escrow for the
// next rotation. Either way no application is refused: they all read the
// active account, whose password the rotation never changed.
//
// A Request whose Account is the active account itself changes that
// account's password in place, as a single-account rotation does: it is the
// answer to an exposed (checked-out) password, which must stop working at
// once rather than after an overlap.

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/segura-community/terraform-provider-segura/internal/keyvault"
	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// Dual makes a Request a dual-account rotation. Request.Account is the
// account to change: normally the standby (the rotation then switches every
// binding to it), or the active account itself (a change in place).
type Dual struct {
	// Accounts are the two accounts; Accounts[0] is the resource's own
	// credential, whose password a version that names no account holds.
	// Passwords are ignored.
	Accounts [2]mongodb.Identity
	// Active is the index of the account applications use now
	// (DualView.Active).
	Active int
}

// switching reports whether this is a dual-account rotation that changes the
// standby and switches the bindings to it.
func (r *run) switching() bool {
	d := r.req.Dual
	return d != nil && d.Accounts[d.Active].String() != r.req.Account.String()
}

// VersionAccount returns the index in accounts of the account whose password
// a version with these tags holds: the one keyvault.TagCredential names
// (by AccountTag, or by its "user@authdb on " prefix, which survives a
// change of the device's address), else 0: a version that names no account,
// or another one, belongs to accounts[0], the resource's own credential.
func VersionAccount(tags map[string]string, dep mongodb.Deployment, accounts ...mongodb.Identity) int {
	tag := tags[keyvault.TagCredential]
	if tag == "" {
		return 0
	}
	for i, a := range accounts {
		if tag == AccountTag(dep, a) || strings.HasPrefix(tag, a.String()+" on ") {
			return i
		}
	}
	return 0
}

// belongsTo reports whether v holds the password of account (dual mode).
func (r *run) belongsTo(v keyvault.Secret, account mongodb.Identity) bool {
	d := r.req.Dual
	return d.Accounts[VersionAccount(v.Tags, r.req.Deployment, d.Accounts[:]...)].String() == account.String()
}

// newestFirst sorts versions of a bound secret newest first: by Key Vault's
// creation time, which has whole seconds; within a second by when the
// rotation that wrote them staged its escrow version (nanoseconds, from
// escrow, the escrow secret's versions), a roll-back after the write it
// undoes, then by the rotation time in their tags and by version id, the
// same way for every reader.
func newestFirst(versions, escrow []keyvault.Secret) {
	staged := map[string]time.Time{}
	for _, e := range escrow {
		id := strings.TrimSuffix(e.Tags[keyvault.TagRotationID], takeoverSuffix)
		if t := stagedAt(e); id != "" && (staged[id].IsZero() || t.Before(staged[id])) {
			staged[id] = t
		}
	}
	sort.SliceStable(versions, func(i, j int) bool {
		a, b := versions[i], versions[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		ida, rba := strings.CutSuffix(a.Tags[keyvault.TagRotationID], rollbackSuffix)
		idb, rbb := strings.CutSuffix(b.Tags[keyvault.TagRotationID], rollbackSuffix)
		if sa, sb := staged[ida], staged[idb]; !sa.Equal(sb) {
			return sa.After(sb)
		}
		if ida == idb && rba != rbb {
			return rba
		}
		if ta, tb := rotatedAt(a), rotatedAt(b); !ta.Equal(tb) {
			return ta.After(tb)
		}
		return a.Version > b.Version
	})
}

// escrowVersions lists the escrow secret's versions (nil when it has none
// or cannot be read: the order then falls back to the tags).
func escrowVersions(ctx context.Context, e Escrow) []keyvault.Secret {
	if e.Vault == nil {
		return nil
	}
	versions, _ := e.Vault.SecretVersions(ctx, e.SecretName)
	return versions
}

// rotatedAt is the rotation time in v's tags, else Key Vault's creation time.
func rotatedAt(v keyvault.Secret) time.Time {
	if t, err := time.Parse(time.RFC3339, v.Tags[keyvault.TagRotatedAt]); err == nil {
		return t
	}
	return v.Created
}

// dualCandidates lists the passwords that might be the standby's current
// one: the newest versions of the primary secret that hold its password
// (the first is its password of record, what a roll-back restores), its
// pending escrow versions after the newest, then its bootstrap password.
// The bound secrets' latest values are the active account's and are not
// tried.
func (r *run) dualCandidates(ctx context.Context) ([]candidate, []string) {
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
	primary := r.req.Bindings[0]
	versions, err := primary.Vault.SecretVersions(ctx, primary.SecretName)
	if err != nil && !errors.Is(err, keyvault.ErrSecretNotFound) {
		notes = append(notes, fmt.Sprintf("listing the versions of %s: %v", primary.describe(), err))
	}
	var own []keyvault.Secret
	for _, v := range versions {
		if v.Enabled && v.Version != r.latest[0].Version && r.belongsTo(v, r.req.Account) {
			own = append(own, v)
		}
	}
	newestFirst(own, escrowVersions(ctx, r.req.Escrow))
	if len(own) == 0 && err == nil {
		notes = append(notes, fmt.Sprintf("%s holds no version of %s's password yet", primary.describe(), r.req.Account.String()))
	}
	escrowed, escrowNotes := r.escrowCandidates(ctx)
	notes = append(notes, escrowNotes...)
	for i, v := range own {
		if i == maxTaggedCandidates {
			break
		}
		s, err := primary.Vault.GetSecretValue(ctx, primary.SecretName, v.Version)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s version %s: %v", primary.describe(), v.Version, err))
			continue
		}
		pw, err := secretvalue.Parse(primary.Format, s.Value)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s version %s: %v", primary.describe(), v.Version, err))
			continue
		}
		add(candidate{source: fmt.Sprintf("%s version %s (the password of record of %s)", primary.describe(), v.Version, r.req.Account.String()), password: pw, primary: len(out) == 0})
		if len(out) == 1 {
			for _, c := range escrowed {
				add(c)
			}
		}
	}
	for _, c := range escrowed {
		add(c)
	}
	if r.req.BootstrapPassword != "" {
		add(candidate{source: "the bootstrap password of " + r.req.Account.String(), password: r.req.BootstrapPassword})
	}
	return out, notes
}

// dualRollback ends a switching rotation whose write of binding failed
// after MongoDB changed the standby's password. Every binding already
// written (and the failed one, if its write may have landed) gets back the
// value it held before: the active account's, which this rotation never
// changed, so no application is refused whatever else fails. Then, when
// every binding is restored and the standby's previous password is known,
// MongoDB gets it back (and the escrow is aborted); otherwise the standby
// keeps the new password, which stays in the escrow for the next rotation.
func (r *run) dualRollback(ctx context.Context, newPassword string, failed int, cause error) error {
	b := r.req.Bindings[failed]
	what := "writing the new password to " + b.describe()
	active := r.req.Dual.Accounts[r.req.Dual.Active].String()
	restore := append([]int(nil), r.written...)
	if latest, err := b.Vault.SecretProperties(ctx, b.SecretName); err != nil || latest.Version != r.latest[failed].Version {
		restore = append(restore, failed)
	}
	var restored, stuck []string
	for _, i := range restore {
		wb, prev := r.req.Bindings[i], r.latest[i]
		if prev.Status != keyvault.SecretExists {
			stuck = append(stuck, fmt.Sprintf("%s did not exist before this rotation and holds the new password of %s", wb.describe(), r.req.Account.String()))
			continue
		}
		v, err := r.restoreValue(ctx, wb, prev)
		switch {
		case err == nil:
			restored = append(restored, fmt.Sprintf("%s restored to its previous value as version %s", wb.describe(), v))
		case r.holdsValue(ctx, wb, prev.Value):
			restored = append(restored, fmt.Sprintf("%s holds its previous value (read back after a lost reply)", wb.describe()))
		default:
			stuck = append(stuck, fmt.Sprintf("%s may hold the new password of %s (restoring it failed: %v)", wb.describe(), r.req.Account.String(), err))
		}
	}
	r.result.Versions = map[string]string{}
	advice := fmt.Sprintf("Applications keep %s, whose password this rotation did not change", active)
	if len(restored) > 0 {
		advice += "; " + strings.Join(restored, "; ")
	}
	if len(stuck) > 0 {
		// Those secrets may be read: the standby keeps the password they hold.
		r.mongoState = "has the new password of the standby " + r.req.Account.String() + " (not rolled back: " + strings.Join(stuck, "; ") + ")"
		return r.fail(StageWrite, what, cause, fmt.Sprintf("%s. MongoDB keeps the new password of %s, which is kept in the escrow secret %s and logs in; the next plan shows the secrets that differ and the next apply finds the password in the escrow and finishes.",
			advice, r.req.Account.String(), r.req.Escrow.ID()))
	}
	if r.accountOld == "" {
		r.mongoState = "has the new password of the standby " + r.req.Account.String() + ", which no application uses"
		return r.fail(StageWrite, what, cause, fmt.Sprintf("%s. MongoDB keeps the new password of %s (its previous one is not known, so it was not rolled back); it is kept in the escrow secret %s, and the next apply finds it there and finishes.",
			advice, r.req.Account.String(), r.req.Escrow.ID()))
	}
	actorPw := newPassword
	if r.req.Parent != nil {
		actorPw = r.actorPassword
	}
	if err := r.req.Mongo.ChangePassword(ctx, r.dep, r.actor(actorPw), r.account(""), r.accountOld, r.mechs); err != nil && mongodb.Classify(err) != mongodb.KindWriteConcern {
		r.mongoState = "has the new password of the standby " + r.req.Account.String() + ", which no application uses"
		return r.fail(StageWrite, what, cause, fmt.Sprintf("%s. Putting the previous password of %s back in MongoDB failed (%v); its new password is kept in the escrow secret %s, and the next apply finds it there and finishes.",
			advice, r.req.Account.String(), err, r.req.Escrow.ID()))
	}
	if err := r.req.Mongo.VerifyLogin(ctx, r.dep, r.account(r.accountOld)); err != nil {
		r.mongoState = "is in an unknown state for the standby " + r.req.Account.String()
		return r.fail(StageWrite, what, cause, fmt.Sprintf("%s. MongoDB was given the previous password of %s back, but it does not log in (%v); the new one is kept in the escrow secret %s, and the next apply tries both and finishes.",
			advice, r.req.Account.String(), err, r.req.Escrow.ID()))
	}
	r.mongoState = "has the previous password of the standby " + r.req.Account.String() + " again (rolled back and verified)"
	r.finishEscrow(ctx, escrowAborted)
	return r.fail(StageWrite, what, cause, fmt.Sprintf("Rolled back: %s. Nothing is pending: every secret holds the password MongoDB accepts, and both accounts keep the passwords they had. Fix the cause and apply again to rotate.", advice))
}

// restoreValue writes prev's value again as the latest version of b,
// naming the account prev named, and signed as this rotation's roll-back.
func (r *run) restoreValue(ctx context.Context, b Binding, prev keyvault.SecretValue) (string, error) {
	tags := make(map[string]string, len(b.Tags)+4)
	for k, v := range b.Tags {
		tags[k] = v
	}
	tags[keyvault.TagCredential] = prev.Tags[keyvault.TagCredential]
	if tags[keyvault.TagCredential] == "" {
		tags[keyvault.TagCredential] = AccountTag(r.req.Deployment, r.req.Dual.Accounts[r.req.Dual.Active])
	}
	tags[keyvault.TagRotationID] = r.result.RotationID + rollbackSuffix
	tags[keyvault.TagRotatedAt] = r.result.RotatedAt.Format(time.RFC3339)
	if b.Scope != "" {
		tags[keyvault.TagScope] = b.Scope
	}
	w := keyvault.SecretWrite{Value: prev.Value, ContentType: prev.ContentType, Tags: tags, Expires: prev.Expires}
	if w.ContentType == "" {
		w.ContentType = b.contentType()
	}
	s, err := b.Vault.SetSecretValue(ctx, b.SecretName, w)
	if err != nil {
		return "", err
	}
	return s.Version, nil
}

// holdsValue reports whether b's latest value is value.
func (r *run) holdsValue(ctx context.Context, b Binding, value string) bool {
	v, err := b.Vault.GetSecretValue(ctx, b.SecretName, "")
	return err == nil && subtle.ConstantTimeCompare([]byte(v.Value), []byte(value)) == 1
}

// DualViewRequest asks which of two accounts applications use, and what the
// other one's password of record is.
type DualViewRequest struct {
	Mongo      *mongodb.Pool
	Deployment mongodb.Deployment
	// Accounts[0] is the resource's credential, Accounts[1] the alternate.
	// Passwords are ignored.
	Accounts [2]mongodb.Identity
	// Parents, when set, change the accounts' passwords; a standby with a
	// parent needs no password of record.
	Parents [2]*Parent
	Primary Binding
	Escrow  Escrow
	// Light reads Key Vault only: no login, no usersInfo.
	Light bool
}

// DualView is what a dual-account refresh learnt. It holds no password.
type DualView struct {
	// Active is the index of the account applications use now: the one the
	// primary secret's latest version names (keyvault.TagCredential), else
	// the one the newest version that names one names, else 0.
	Active int
	// ActiveVersion is the version of the primary secret that holds the
	// active account's password ("" when the secret has none).
	ActiveVersion string
	// StandbyVersion is the standby's password of record: the newest version
	// of the primary secret that holds its password ("" when none does).
	StandbyVersion string
	// StandbySince is when applications were told to stop using the
	// standby: the rotation time of the first version of the active
	// account's current run of versions. Zero when the standby has never
	// been active (its overlap protects nobody).
	StandbySince time.Time
	// ActiveExposedAt and StandbyExposedAt are the checkouts
	// (keyvault.TagExposedAt) of each account's password of record.
	ActiveExposedAt, StandbyExposedAt *time.Time
	// StandbyRefused is true when the standby's password of record, tried
	// against MongoDB, was refused (its next rotation needs a bootstrap
	// password, a parent or the escrow).
	StandbyRefused bool
	// Interrupted is the id of a rotation of the standby that changed its
	// password in MongoDB and stopped before writing any binding: its
	// escrowed password is the one MongoDB accepts. The next rotation
	// finishes it (cutting nothing: the standby's old password is already
	// gone).
	Interrupted string
	// Warnings are problems the next rotation would run into, or that an
	// operator should know before it: different roles, missing privileges,
	// a standby that does not exist.
	Warnings []string
	// Unverified says why the MongoDB checks could not run ("" when they
	// ran or Light was set).
	Unverified string
}

// Standby is the index of the account the next switching rotation changes.
func (v *DualView) Standby() int { return 1 - v.Active }

// ViewDual reads the primary secret's versions and, unless Light, checks the
// standby against MongoDB. Only a Key Vault failure is an error.
func ViewDual(ctx context.Context, req DualViewRequest) (*DualView, error) {
	p := req.Primary
	latest, err := p.Vault.SecretProperties(ctx, p.SecretName)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p.describe(), err)
	}
	versions, err := p.Vault.SecretVersions(ctx, p.SecretName)
	if err != nil && !errors.Is(err, keyvault.ErrSecretNotFound) {
		return nil, fmt.Errorf("listing the versions of %s: %w", p.describe(), err)
	}
	var enabled []keyvault.Secret
	rolledBack := map[string]bool{}
	for _, v := range versions {
		if !v.Enabled {
			continue
		}
		enabled = append(enabled, v)
		if id, ok := strings.CutSuffix(v.Tags[keyvault.TagRotationID], rollbackSuffix); ok {
			rolledBack[id] = true
		}
	}
	newestFirst(enabled, escrowVersions(ctx, req.Escrow))
	// The latest version first, whatever the clocks say.
	if latest.Status == keyvault.SecretExists {
		for i, v := range enabled {
			if v.Version == latest.Version {
				enabled = append(append([]keyvault.Secret{v}, enabled[:i]...), enabled[i+1:]...)
				break
			}
		}
	}
	owner := func(v keyvault.Secret) int { return VersionAccount(v.Tags, req.Deployment, req.Accounts[:]...) }
	view := &DualView{}
	// The active account: named by the newest version that names one.
	// Versions that name none on top of it (pasted by a person) do not make
	// the credential active: applications got the other one's password last.
	// Inspect reports them as drift.
	for i, v := range enabled {
		if v.Tags[keyvault.TagCredential] != "" {
			view.Active = owner(v)
			enabled = enabled[i:]
			break
		}
	}
	inRun := true
	for _, v := range enabled {
		o := owner(v)
		if rolledBack[v.Tags[keyvault.TagRotationID]] && o != view.Active {
			continue // written by a rotation that was rolled back: never in use
		}
		if o == view.Active {
			if inRun {
				if view.ActiveVersion == "" {
					view.ActiveVersion = v.Version
					view.ActiveExposedAt = exposedAt(v)
				}
				view.StandbySince = rotatedAt(v)
			}
			continue
		}
		inRun = false
		view.StandbyVersion = v.Version
		view.StandbyExposedAt = exposedAt(v)
		break
	}
	if inRun {
		view.StandbySince = time.Time{} // the standby was never active
	}
	if req.Light {
		return view, nil
	}
	view.check(ctx, req)
	return view, nil
}

func exposedAt(v keyvault.Secret) *time.Time {
	if t, err := time.Parse(time.RFC3339, v.Tags[keyvault.TagExposedAt]); err == nil {
		return &t
	}
	return nil
}

// check tries the standby's password of record against MongoDB, looks for
// an interrupted rotation of it, and compares the two accounts' roles.
func (view *DualView) check(ctx context.Context, req DualViewRequest) {
	p := req.Primary
	active, standby := req.Accounts[view.Active], req.Accounts[view.Standby()]
	dep := req.Deployment
	if routers := req.Mongo.Routers(ctx, dep); len(routers) > 0 {
		dep = dep.PinnedTo(routers[0])
	}
	read := func(version string) string {
		if version == "" {
			return ""
		}
		s, err := p.Vault.GetSecretValue(ctx, p.SecretName, version)
		if err != nil {
			return ""
		}
		pw, err := secretvalue.Parse(p.Format, s.Value)
		if err != nil {
			return ""
		}
		return pw
	}
	standbyPw := read(view.StandbyVersion)
	logsIn := false
	if standbyPw != "" {
		id := standby
		id.Password = standbyPw
		privs, known, err := req.Mongo.Login(ctx, dep, id)
		switch {
		case err == nil:
			logsIn = true
			if known && req.Parents[view.Standby()] == nil {
				if missing := MissingPrivilege(privs, standby, false); missing != "" {
					view.Warnings = append(view.Warnings, fmt.Sprintf("MongoDB says the standby %s lacks the %s action on its database, so the next rotation, which changes its password, would fail at preflight (nothing would change). %s",
						standby.String(), missing, PrivilegeAdvice(standby, nil)))
				}
			}
		case mongodb.Classify(err) == mongodb.KindAuthentication:
			view.StandbyRefused = true
		default:
			view.Unverified = err.Error()
			return
		}
	}
	if !logsIn {
		view.Interrupted = interruptedOf(ctx, req, dep, standby)
	}
	if view.Interrupted != "" {
		view.StandbyRefused = false
	}
	if view.StandbyRefused || (view.StandbyVersion == "" && view.Interrupted == "") {
		why := "no version of " + p.ID() + " holds its password yet (it has never been active)"
		if view.StandbyRefused {
			why = "its password of record (version " + view.StandbyVersion + " of " + p.ID() + ") no longer logs in"
		}
		if req.Parents[view.Standby()] == nil {
			view.Warnings = append(view.Warnings, fmt.Sprintf("the next rotation changes the standby %s, and %s: that rotation needs its current password as a bootstrap password "+
				"(alternate_bootstrap_password_wo, or bootstrap_password_wo for the credential itself) or a parent credential that changes it; without either it fails at preflight, changing nothing. "+
				"Check that the user exists, with the same roles as %s.", standby.String(), why, active.String()))
		}
	}
	// Roles: each account reads its own (usersInfo needs no privilege for
	// the user itself).
	activePw := read(view.ActiveVersion)
	if activePw == "" || !logsIn {
		return
	}
	a, errA := userRoles(ctx, req.Mongo, dep, active, activePw)
	s, errS := userRoles(ctx, req.Mongo, dep, standby, standbyPw)
	if errA == nil && errS == nil && !slices.Equal(a, s) {
		view.Warnings = append(view.Warnings, fmt.Sprintf("the two accounts have different roles (%s: %s; %s: %s): applications gain or lose rights each time a rotation switches them. Grant both the same roles.",
			active.String(), roleList(a), standby.String(), roleList(s)))
	}
}

func roleList(roles []string) string {
	if len(roles) == 0 {
		return "none"
	}
	return strings.Join(roles, ", ")
}

// interruptedOf returns the rotation id of an enabled, pending escrow
// version of account whose password MongoDB accepts ("" when none).
func interruptedOf(ctx context.Context, req DualViewRequest, dep mongodb.Deployment, account mongodb.Identity) string {
	e := req.Escrow
	if e.Vault == nil {
		return ""
	}
	versions, err := e.Vault.SecretVersions(ctx, e.SecretName)
	if err != nil {
		return ""
	}
	tag := AccountTag(req.Deployment, account)
	var pending []keyvault.Secret
	for _, v := range versions {
		if v.Enabled && v.Tags[keyvault.TagCredential] == tag && v.Tags[TagEscrowState] == escrowPending {
			pending = append(pending, v)
		}
	}
	sort.Slice(pending, func(i, j int) bool { return newerEscrow(pending[i], pending[j]) })
	for _, v := range pending {
		s, err := e.Vault.GetSecretValue(ctx, e.SecretName, v.Version)
		if err != nil {
			continue
		}
		id := account
		id.Password = s.Value
		if req.Mongo.VerifyLogin(ctx, dep, id) == nil {
			return strings.TrimSuffix(v.Tags[keyvault.TagRotationID], takeoverSuffix)
		}
	}
	return ""
}

// userRoles reads account's roles (role@db, sorted) with usersInfo,
// authenticated as the account itself, on a shared client dropped at once.
func userRoles(ctx context.Context, pool *mongodb.Pool, dep mongodb.Deployment, account mongodb.Identity, pw string) ([]string, error) {
	id := account
	id.Password = pw
	c, err := pool.Client(dep, id)
	if err != nil {
		return nil, err
	}
	defer pool.Forget(context.WithoutCancel(ctx), dep, id)
	db := authDB(account)
	var reply struct {
		Users []struct {
			Roles []struct {
				Role string `bson:"role"`
				DB   string `bson:"db"`
			} `bson:"roles"`
		} `bson:"users"`
	}
	cmd := bson.D{{Key: "usersInfo", Value: bson.D{{Key: "user", Value: account.Username}, {Key: "db", Value: db}}}}
	if err := c.Database(db).RunCommand(ctx, cmd).Decode(&reply); err != nil {
		return nil, err
	}
	if len(reply.Users) == 0 {
		return nil, errors.New("user not found")
	}
	out := []string{}
	for _, r := range reply.Users[0].Roles {
		out = append(out, r.Role+"@"+r.DB)
	}
	sort.Strings(out)
	return out, nil
}
