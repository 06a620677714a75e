package provider

// Dual-account (zero-downtime) mode of segura_credential_rotation: with
// alternate_credential set, two accounts on one device take turns
// (internal/rotation/dual.go). Nothing about them is stored in state but
// active_account and next_account: which account is active is read from the
// primary secret's versions at every refresh and plan, and each account's
// password of record is the newest version of the primary secret that names
// it.
//
// Each rotation changes the standby's password and switches every binding to
// it, unless the password of the active account was checked out (then it is
// changed in place, at once). A rotation that would change the standby's
// password before the policy's overlap ends (applications were told to stop
// using it at the previous switch) waits, except when waiting is wrong: the
// active account's Key Vault value no longer logs in (the rotation is the
// repair), a rotation of the standby stopped half-way (finishing it cuts
// nothing more), the standby's password was checked out, or the resource is
// created; force_within_overlap rotates anyway.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/mongodb"
	"github.com/segura-community/terraform-provider-segura/internal/rotation"
	"github.com/segura-community/terraform-provider-segura/internal/schedule"
	"github.com/segura-community/terraform-provider-segura/internal/secretvalue"
)

// dual reports whether the model is in dual-account mode.
func (m credentialRotationResourceModel) dual() bool {
	return !m.AlternateCredential.IsNull()
}

// dualKnown reports whether the plan knows what a dual-account view needs:
// the credential, the policy and the bindings whole, and the alternate's
// account (a new alternate's id is not known yet, and not needed).
func dualKnown(ctx context.Context, m credentialRotationResourceModel) bool {
	for _, v := range []attr.Value{m.Credential, m.Policy, m.Syncs} {
		if tv, err := v.ToTerraformValue(ctx); err != nil || !tv.IsFullyKnown() {
			return false
		}
	}
	alt, ok, _ := refFromObject[rotationCredentialRef](ctx, m.AlternateCredential)
	if !ok || !known(alt.Username, alt.AuthDatabase, alt.Parent) {
		return false
	}
	if p, ok, _ := alt.parent(ctx); ok && !known(p.ID) {
		return false
	}
	return true
}

// dualSetup is the engine's view of the two accounts.
type dualSetup struct {
	accounts [2]mongodb.Identity
	parents  [2]*rotation.Parent
	names    [2]string // user@authdb
}

func (s dualSetup) index(name string) (int, bool) {
	for i, n := range s.names {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// dualSetupOf builds the two accounts from the model and the request that
// request() built for the credential.
func dualSetupOf(ctx context.Context, m credentialRotationResourceModel, rq rotation.Request, who string) (dualSetup, diag.Diagnostics) {
	var s dualSetup
	alt, diags := requireRef[rotationCredentialRef](ctx, m.AlternateCredential, who, "alternate_credential")
	if diags.HasError() {
		return s, diags
	}
	s.accounts = [2]mongodb.Identity{rq.Account, alt.identity()}
	s.parents[0] = rq.Parent
	if _, hasParent, _ := alt.parent(ctx); hasParent {
		// ValidateConfig made sure it is the credential's parent.
		s.parents[1] = rq.Parent
	}
	s.names = [2]string{s.accounts[0].String(), s.accounts[1].String()}
	return s, diags
}

// dualView reads which account is active (light: from Key Vault only).
func (r *credentialRotationResource) dualView(ctx context.Context, rq rotation.Request, s dualSetup, light bool) (*rotation.DualView, error) {
	return rotation.ViewDual(ctx, rotation.DualViewRequest{Mongo: rq.Mongo, Deployment: rq.Deployment, Accounts: s.accounts, Parents: s.parents,
		Primary: rq.Bindings[0], Escrow: rq.Escrow, Light: light})
}

// dualKind is why a dual-account rotation would happen.
type dualKind int

const (
	dualNone dualKind = iota
	dualRoutine
	dualTriggers
	dualSyncs
	dualDrift
	dualOutage
	dualInterrupted
	dualStandbyExposed
	dualInitial
)

type dualInput struct {
	now     time.Time
	policy  schedule.Policy
	overlap *time.Duration // nil: one rotation period
	force   bool
	last    time.Time // the last rotation; zero when none is recorded
	view    *rotation.DualView
	names   [2]string
	kind    dualKind // dualNone: decideDual looks at the schedule
	reason  string
}

type dualDecision struct {
	rotate bool
	// target is the account the rotation changes (or the next one will).
	target int
	// reason is last_rotation_reason when rotating, else
	// pending_rotation_reason: a deferral, or "" when nothing is pending.
	reason string
	// nextAt is next_rotation_at when not rotating (zero: null).
	nextAt time.Time
	// warning, when set, is what the plan says beyond the attributes.
	warning, warningSummary string
}

// overlapEnd is when the overlap of an account told to stop at since ends:
// since + overlap_hours, or by default the routine rotation after since.
// Zero when since is (the standby was never active) or there is no overlap.
func overlapEnd(since time.Time, p schedule.Policy, overlap *time.Duration) time.Time {
	switch {
	case since.IsZero():
		return time.Time{}
	case overlap != nil && *overlap <= 0:
		return time.Time{}
	case overlap != nil:
		return since.Add(*overlap)
	}
	return p.Next(since, nil)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func hoursOrDays(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d >= 24*time.Hour:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

// deferredPrefix starts a pending_rotation_reason that waits for an overlap.
const deferredPrefix = "deferred until "

var deferredPattern = regexp.MustCompile(`(?s)^deferred until (\S+), the end of the overlap of (\S+) \(applications were told to stop using its password on \S+\): (.*)$`)

type deferral struct {
	until   time.Time
	account string
	reason  string
}

func parseDeferral(s string) *deferral {
	m := deferredPattern.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339, m[1])
	if err != nil {
		return nil
	}
	return &deferral{until: t, account: m[2], reason: m[3]}
}

// decideDual decides whether a dual-account rotation happens now, which
// account it changes, and why; or why it waits, and until when.
func decideDual(in dualInput) dualDecision {
	v, p := in.view, in.policy
	active, standby := v.Active, v.Standby()
	an, sn := in.names[active], in.names[standby]

	// A checked-out password of the active account is changed in place, at
	// once: a password a person has seen gets no overlap.
	var activeExposure time.Time
	if p.AfterExposure > 0 && v.ActiveExposedAt != nil && (in.last.IsZero() || v.ActiveExposedAt.After(in.last)) {
		activeExposure = v.ActiveExposedAt.Add(p.AfterExposure)
		if !in.now.Before(activeExposure) && in.kind != dualInitial {
			d := dualDecision{rotate: true, target: active, warningSummary: "Exposed password changed in place",
				reason: fmt.Sprintf("the password of the active account %s was checked out on %s and the policy rotates %s after a checkout: "+
					"it is changed in place, not switched, so it stops working at once for every application that holds it "+
					"(a password a person has seen gets no overlap); the standby %s is not touched", an, stamp(*v.ActiveExposedAt), hoursOrDays(p.AfterExposure), sn)}
			d.warning = d.reason
			return d
		}
	}
	var standbyExposure time.Time
	if p.AfterExposure > 0 && v.StandbyExposedAt != nil {
		standbyExposure = v.StandbyExposedAt.Add(p.AfterExposure)
	}
	kind, reason := in.kind, in.reason
	if kind == dualNone && !standbyExposure.IsZero() && !in.now.Before(standbyExposure) {
		kind = dualStandbyExposed
		reason = fmt.Sprintf("the password of the standby %s was checked out on %s and the policy rotates %s after a checkout",
			sn, stamp(*v.StandbyExposedAt), hoursOrDays(p.AfterExposure))
	}
	if kind == dualNone && !in.last.IsZero() {
		if due, why := p.Due(in.now, in.last, nil); due {
			kind, reason = dualRoutine, why
		}
	}
	end := overlapEnd(v.StandbySince, p, in.overlap)
	cuts := !end.IsZero() && in.now.Before(end)

	if kind == dualNone {
		// Nothing pending: when is the next rotation, and of which account?
		next, target := time.Time{}, standby
		if !in.last.IsZero() {
			next = p.Next(in.last, nil)
			if !next.IsZero() && !in.force && end.After(next) {
				next = end
			}
		}
		consider := func(t time.Time, who int) {
			if !t.IsZero() && (next.IsZero() || t.Before(next)) {
				next, target = t, who
			}
		}
		consider(standbyExposure, standby)
		consider(activeExposure, active)
		return dualDecision{target: target, nextAt: next}
	}
	if kind == dualInterrupted || !cuts {
		return dualDecision{rotate: true, target: standby, reason: reason}
	}
	cut := fmt.Sprintf("this cuts short the overlap of %s, whose password applications were told to stop using on %s and which the policy keeps valid until %s",
		sn, stamp(v.StandbySince), stamp(end))
	rotateCut := func(why string) dualDecision {
		text := reason + "; " + cut + ": " + why
		return dualDecision{rotate: true, target: standby, reason: text, warningSummary: "Rotation cuts the overlap short", warning: text}
	}
	switch {
	case kind == dualInitial:
		return rotateCut("creating the resource rotates at once")
	case kind == dualOutage:
		return rotateCut(fmt.Sprintf("applications reading Key Vault are refused now, and switching them to %s is the repair", sn))
	case kind == dualStandbyExposed:
		return rotateCut("on purpose, since a password a person has seen must stop working")
	case in.force:
		return rotateCut("force_within_overlap = true")
	}
	text := fmt.Sprintf("%s%s, the end of the overlap of %s (applications were told to stop using its password on %s): %s",
		deferredPrefix, stamp(end), sn, stamp(v.StandbySince), reason)
	return dualDecision{target: standby, reason: text, nextAt: end, warningSummary: "Rotation waits for the overlap",
		warning: fmt.Sprintf("%s, but rotating now would change the password of the standby %s, which applications were told to stop using on %s; "+
			"the policy keeps it valid until %s (overlap_hours, or one rotation period by default). The rotation waits until then "+
			"(next_rotation_at; pending_rotation_reason says why). Applications keep using %s meanwhile. Set force_within_overlap = true to rotate now "+
			"and cut the overlap short.", reason, sn, stamp(v.StandbySince), stamp(end), an)}
}

// dualInputOf gathers decideDual's inputs from a model.
func dualInputOf(ctx context.Context, m credentialRotationResourceModel, now time.Time, v *rotation.DualView, s dualSetup) dualInput {
	in := dualInput{now: now, view: v, names: s.names, force: m.ForceWithinOverlap.ValueBool()}
	if pol, ok, _ := refFromObject[policyRef](ctx, m.Policy); ok {
		in.policy, _ = pol.schedulePolicy(ctx)
		in.overlap = pol.overlap()
	}
	in.last, _ = m.lastRotated()
	return in
}

// readDual is Read in dual-account mode: it finds the active account,
// checks it as Read does a single account, checks the standby, and records
// what the next rotation will do.
func (r *credentialRotationResource) readDual(ctx context.Context, state *credentialRotationResourceModel, rq rotation.Request, who string, written map[string]string, resp *resource.ReadResponse) {
	s, d := dualSetupOf(ctx, *state, rq, who)
	resp.Diagnostics.Append(d...)
	if d.HasError() {
		return
	}
	view, err := r.dualView(ctx, rq, s, false)
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return
	}
	active := s.accounts[view.Active]
	st, err := rotation.Inspect(ctx, rotation.InspectRequest{Mongo: rq.Mongo, Deployment: rq.Deployment, Account: active, Bindings: rq.Bindings,
		Written: written, Escrow: rq.Escrow, SelfRotation: s.parents[view.Active] == nil})
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return
	}
	if a := st.Rotation; a != nil {
		state.adopt(ctx, a, &resp.Diagnostics)
	}
	inspectRq := rq
	inspectRq.Account = active
	inspectWarnings(who, inspectRq, st, &resp.Diagnostics)
	for _, w := range view.Warnings {
		resp.Diagnostics.AddWarning("Dual-account rotation: check the accounts", who+": "+w)
	}
	if view.Unverified != "" && st.Unverified == "" {
		resp.Diagnostics.AddWarning("Could not check the standby against MongoDB", who+": "+view.Unverified)
	}
	if p := s.parents[view.Active]; p != nil {
		activeRq := rq
		activeRq.Account, activeRq.Parent = active, p
		r.warnIfParentLocked(ctx, activeRq, who, &resp.Diagnostics)
	}

	in := dualInputOf(ctx, *state, r.data.Now(), view, s)
	switch {
	case view.Interrupted != "":
		in.kind = dualInterrupted
		in.reason = fmt.Sprintf("rotation %s was interrupted after it changed the password of the standby %s in MongoDB (the password is kept in the escrow secret %s); "+
			"it wrote no binding, so applications keep using %s; the next apply finishes it", view.Interrupted, s.names[view.Standby()], rq.Escrow.ID(), s.names[view.Active])
	case st.LoginRefused:
		in.kind, in.reason = dualOutage, strings.Join(st.Drift, "; ")
	case len(st.Drift) > 0:
		in.kind, in.reason = dualDrift, strings.Join(st.Drift, "; ")
	default:
		// A triggers change or a new binding that waits for the overlap
		// cannot be seen again: keep it.
		if d := parseDeferral(state.PendingReason.ValueString()); d != nil && (d.reason == reasonTriggers || d.reason == reasonSyncsChanged) {
			in.kind, in.reason = dualTriggers, d.reason
		}
	}
	dec := decideDual(in)
	state.ActiveAccount = types.StringValue(s.names[view.Active])
	state.NextAccount = types.StringValue(s.names[dec.target])
	state.ExposedAt = types.StringNull()
	if view.ActiveExposedAt != nil {
		state.ExposedAt = types.StringValue(stamp(*view.ActiveExposedAt))
	}
	state.PendingReason = types.StringValue(dec.reason)
	if !dec.rotate {
		state.NextRotationAt = types.StringNull()
		if !dec.nextAt.IsZero() {
			state.NextRotationAt = types.StringValue(stamp(dec.nextAt))
		}
	}
	r.finishRead(ctx, state, st, resp)
}

// planDual is ModifyPlan in dual-account mode (or when it is turned on or
// off), for a resource that exists. It reports whether it set the plan.
//
// importDrift is what checkImported found for a rotation just imported
// (whose refresh could check nothing).
func (r *credentialRotationResource) planDual(ctx context.Context, plan *credentialRotationResourceModel, state credentialRotationResourceModel, written map[string]string, importDrift string, bootstraps [2]bool, resp *resource.ModifyPlanResponse) bool {
	if !plan.dual() {
		if state.dual() && state.ActiveAccount.ValueString() != "" {
			cred, ok, _ := refFromObject[rotationCredentialRef](ctx, plan.Credential)
			if ok && state.ActiveAccount.ValueString() != cred.identity().String() {
				resp.Diagnostics.AddWarning("Dual-account mode turned off",
					fmt.Sprintf("segura_credential_rotation: alternate_credential is removed while %s is the active account. The next refresh finds that the Key Vault value "+
						"is not the password of %s, and the next rotation switches every binding back to it (from the versions of its password the primary secret keeps); "+
						"%s keeps its password.", state.ActiveAccount.ValueString(), cred.identity().String(), state.ActiveAccount.ValueString()))
			}
		}
		return false
	}
	if !dualKnown(ctx, *plan) {
		return false // upstream resources change in this apply: decided at apply
	}
	who := "segura_credential_rotation"
	var names [2]string
	if cred, ok, _ := refFromObject[rotationCredentialRef](ctx, plan.Credential); ok {
		names[0] = cred.identity().String()
	}
	if alt, ok, _ := refFromObject[rotationCredentialRef](ctx, plan.AlternateCredential); ok {
		names[1] = alt.identity().String()
	}
	index := func(name string) (int, bool) { return dualSetup{names: names}.index(name) }
	now := r.data.Now()
	rotateTo := func(target int, reason string) {
		plan.markRotating(reason)
		plan.ActiveAccount = types.StringValue(names[target])
		plan.NextAccount = types.StringValue(names[1-target])
	}
	imported := state.Credential.IsNull()
	if state.dual() && !imported && state.AlternateCredential.Equal(plan.AlternateCredential) {
		next, hasNext := index(state.NextAccount.ValueString())
		pending := state.PendingReason.ValueString()
		retriggered := !plan.Triggers.Equal(state.Triggers)
		if d := parseDeferral(pending); d != nil && (!retriggered || d.reason == reasonTriggers) {
			if !plan.ForceWithinOverlap.ValueBool() {
				plan.PendingReason = state.PendingReason
				plan.NextRotationAt = state.NextRotationAt
				resp.Diagnostics.AddWarning("Rotation waits for the overlap",
					fmt.Sprintf("%s: %s. Set force_within_overlap = true to rotate now and cut the overlap of %s short.", who, pending, d.account))
				resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
				return true
			}
			if hasNext {
				reason := d.reason + "; this cuts short the overlap of " + d.account + ", which lasts until " + stamp(d.until) + ": force_within_overlap = true"
				rotateTo(next, reason)
				resp.Diagnostics.AddWarning("Rotation cuts the overlap short", who+": "+reason)
				resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
				return true
			}
		} else if d == nil && pending != "" && hasNext {
			rotateTo(next, pending)
			if active, ok := index(state.ActiveAccount.ValueString()); ok && next == active {
				resp.Diagnostics.AddWarning("Exposed password changed in place", who+": "+pending)
			} else if strings.Contains(pending, "; this cuts short the overlap of ") {
				resp.Diagnostics.AddWarning("Rotation cuts the overlap short", who+": "+pending)
			}
			resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
			return true
		}
	}

	noPending := state
	noPending.PendingReason = types.StringValue("")
	kind, kindReason := dualNone, ""
	switch reason := r.rotationReason(ctx, *plan, noPending, written, &resp.Diagnostics); reason {
	case "":
		if state.dual() && !imported && state.AlternateCredential.Equal(plan.AlternateCredential) {
			// Nothing due or pending: what refresh found stands.
			plan.ActiveAccount, plan.NextAccount = state.ActiveAccount, state.NextAccount
			plan.NextRotationAt, plan.PendingReason = state.NextRotationAt, state.PendingReason
			resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
			return true
		}
	case reasonTriggers:
		kind, kindReason = dualTriggers, reason
	case reasonSyncsChanged:
		kind, kindReason = dualSyncs, reason
	}
	rq, who, d := r.request(ctx, *plan)
	resp.Diagnostics.Append(d...)
	if d.HasError() {
		return false
	}
	s, d := dualSetupOf(ctx, *plan, rq, who)
	resp.Diagnostics.Append(d...)
	if d.HasError() {
		return false
	}
	view, err := r.dualView(ctx, rq, s, true)
	if err != nil {
		resp.Diagnostics.Append(keyVaultErrorDiagnostic(who, err))
		return false
	}
	in := dualInputOf(ctx, *plan, now, view, s)
	in.kind, in.reason = kind, kindReason
	if imported && importDrift != "" {
		in.kind, in.reason = dualDrift, importDrift
	}
	migrating := !state.dual() && !imported
	if migrating {
		// Single-account refresh found drift or a due rotation: the first
		// dual rotation does it.
		if p := state.PendingReason.ValueString(); p != "" && in.kind == dualNone {
			in.kind, in.reason = dualDrift, p
		}
	}
	dec := decideDual(in)
	if dec.rotate {
		rotateTo(dec.target, dec.reason)
	} else {
		plan.ActiveAccount = types.StringValue(s.names[view.Active])
		plan.NextAccount = types.StringValue(s.names[dec.target])
		plan.PendingReason = types.StringValue(dec.reason)
		plan.NextRotationAt = types.StringNull()
		if !dec.nextAt.IsZero() {
			plan.NextRotationAt = types.StringValue(stamp(dec.nextAt))
		}
	}
	if dec.warning != "" {
		resp.Diagnostics.AddWarning(dec.warningSummary, who+": "+dec.warning)
	}
	if migrating {
		resp.Diagnostics.AddWarning("Dual-account mode turned on", who+": "+migrationNote(s, view, dec, bootstraps))
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	return true
}

// migrationNote says what turning dual-account mode on does.
func migrationNote(s dualSetup, v *rotation.DualView, dec dualDecision, bootstraps [2]bool) string {
	active, standby := s.names[v.Active], s.names[v.Standby()]
	var b strings.Builder
	if dec.rotate {
		fmt.Fprintf(&b, "this apply rotates (%s): it ", dec.reason)
	} else {
		when := "when the policy next makes a rotation due"
		if !dec.nextAt.IsZero() {
			when = "at " + stamp(dec.nextAt) + " (next_rotation_at)"
		}
		fmt.Fprintf(&b, "nothing is rotated by this apply. The first dual-account rotation, %s, ", when)
	}
	fmt.Fprintf(&b, "changes the password of %s and writes its username and new password to every binding, so applications switch to %s as they re-read the secret; "+
		"the password of %s is not touched and keeps logging in until the rotation after that changes it. ", standby, standby, active)
	switch {
	case v.StandbyVersion != "":
		fmt.Fprintf(&b, "The current password of %s is read from version %s of the primary secret.", standby, v.StandbyVersion)
	case s.parents[v.Standby()] != nil:
		fmt.Fprintf(&b, "Its parent %s changes it, so its current password is not needed.", s.parents[v.Standby()].Account.String())
	case bootstraps[v.Standby()]:
		fmt.Fprintf(&b, "No version of the primary secret holds the password of %s yet: that rotation logs in with the bootstrap password the configuration gives.", standby)
	default:
		attr := "alternate_bootstrap_password_wo"
		if v.Standby() == 0 {
			attr = "bootstrap_password_wo"
		}
		fmt.Fprintf(&b, "Key Vault does not hold the current password of %s: set %s to it for that rotation (write-only, kept out of state and plan), or give it a parent credential.", standby, attr)
	}
	return b.String()
}

// planDualCreate fills the dual-account attributes of a create's plan: the
// first rotation changes the standby of what Key Vault holds now.
func (r *credentialRotationResource) planDualCreate(ctx context.Context, plan *credentialRotationResourceModel, bootstraps [2]bool, resp *resource.ModifyPlanResponse) {
	plan.ActiveAccount, plan.NextAccount = types.StringUnknown(), types.StringUnknown()
	if !dualKnown(ctx, *plan) {
		return
	}
	rq, who, d := r.request(ctx, *plan)
	if d.HasError() {
		return // reported at apply
	}
	s, d := dualSetupOf(ctx, *plan, rq, who)
	if d.HasError() {
		return
	}
	view, err := r.dualView(ctx, rq, s, true)
	if err != nil {
		return
	}
	in := dualInputOf(ctx, *plan, r.data.Now(), view, s)
	in.kind, in.reason = dualInitial, reasonInitial
	dec := decideDual(in)
	plan.LastRotationReason = types.StringValue(dec.reason)
	plan.ActiveAccount = types.StringValue(s.names[dec.target])
	plan.NextAccount = types.StringValue(s.names[1-dec.target])
	if dec.warning != "" {
		resp.Diagnostics.AddWarning(dec.warningSummary, who+": "+dec.warning)
	}
	resp.Diagnostics.AddWarning("Dual-account rotation: the first rotation", who+": "+migrationNote(s, view, dec, bootstraps))
}

// settleDual fills active_account and next_account that the plan could not
// know (an upstream value was unknown) in an apply that does not rotate.
func (r *credentialRotationResource) settleDual(ctx context.Context, m *credentialRotationResourceModel) {
	if !m.ActiveAccount.IsUnknown() && !m.NextAccount.IsUnknown() && !m.NextRotationAt.IsUnknown() {
		return
	}
	m.ActiveAccount, m.NextAccount = types.StringNull(), types.StringNull()
	if !m.dual() {
		return
	}
	rq, who, d := r.request(ctx, *m)
	if d.HasError() {
		return
	}
	s, d := dualSetupOf(ctx, *m, rq, who)
	if d.HasError() {
		return
	}
	view, err := r.dualView(ctx, rq, s, true)
	if err != nil {
		return // the next refresh fills them
	}
	dec := decideDual(dualInputOf(ctx, *m, r.data.Now(), view, s))
	m.ActiveAccount = types.StringValue(s.names[view.Active])
	m.NextAccount = types.StringValue(s.names[dec.target])
	if m.NextRotationAt.IsUnknown() {
		m.NextRotationAt = types.StringNull()
		if !dec.nextAt.IsZero() {
			m.NextRotationAt = types.StringValue(stamp(dec.nextAt))
		}
	}
}

// inspectAsActive points rq at the active account, for Inspect.
func (r *credentialRotationResource) inspectAsActive(ctx context.Context, m credentialRotationResourceModel, rq *rotation.Request, who string) {
	s, d := dualSetupOf(ctx, m, *rq, who)
	if d.HasError() {
		return
	}
	if view, err := r.dualView(ctx, *rq, s, true); err == nil {
		rq.Account, rq.Parent = s.accounts[view.Active], s.parents[view.Active]
	}
}

// bootstrapsSet reports which bootstrap passwords the configuration gives
// (write-only: read from the configuration, never from the plan).
func bootstrapsSet(ctx context.Context, config tfsdkConfig) [2]bool {
	var out [2]bool
	for i, name := range []string{"bootstrap_password_wo", "alternate_bootstrap_password_wo"} {
		var v types.String
		if d := config.GetAttribute(ctx, path.Root(name), &v); !d.HasError() {
			out[i] = !v.IsNull() && !v.IsUnknown() && v.ValueString() != ""
		}
	}
	return out
}

type tfsdkConfig interface {
	GetAttribute(context.Context, path.Path, interface{}) diag.Diagnostics
}

// dualRequest turns the credential's request into the dual-account one:
// the account to change (plan's active_account when known, else the
// standby), its parent and bootstrap password, and the accounts.
func (r *credentialRotationResource) dualRequest(ctx context.Context, m credentialRotationResourceModel, req *rotation.Request, who string, bootstraps [2]string) (dualSetup, diag.Diagnostics) {
	s, diags := dualSetupOf(ctx, m, *req, who)
	if diags.HasError() {
		return s, diags
	}
	view, err := r.dualView(ctx, *req, s, true)
	if err != nil {
		diags.Append(keyVaultErrorDiagnostic(who, err))
		return s, diags
	}
	target := view.Standby()
	if i, ok := s.index(m.ActiveAccount.ValueString()); ok && !m.ActiveAccount.IsUnknown() {
		target = i
	}
	req.Account, req.Parent, req.BootstrapPassword = s.accounts[target], s.parents[target], bootstraps[target]
	req.Dual = &rotation.Dual{Accounts: s.accounts, Active: view.Active}
	return s, diags
}

// afterDual records a dual-account rotation's result in the model.
func (r *credentialRotationResource) afterDual(ctx context.Context, m *credentialRotationResourceModel, req rotation.Request, s dualSetup, res *rotation.Result) {
	target, _ := s.index(res.Account)
	m.ActiveAccount = types.StringValue(s.names[target])
	m.NextAccount = types.StringValue(s.names[1-target])
	view, err := r.dualView(ctx, req, s, true)
	if err != nil {
		return // next_rotation_at as the schedule alone says; the next refresh corrects it
	}
	dec := decideDual(dualInputOf(ctx, *m, req.Now, view, s))
	m.NextRotationAt = types.StringNull()
	if !dec.nextAt.IsZero() {
		m.NextRotationAt = types.StringValue(stamp(dec.nextAt))
	}
	m.NextAccount = types.StringValue(s.names[dec.target])
}

// dualPreflightAdvice adds, to a rotation that found no password for the
// standby, which input gives it.
func dualPreflightAdvice(err error, req rotation.Request, s dualSetup) string {
	if req.Dual == nil || !strings.Contains(err.Error(), "no known password logs in") {
		return ""
	}
	attr := "alternate_bootstrap_password_wo"
	if req.Account.String() == s.names[0] {
		attr = "bootstrap_password_wo"
	}
	return fmt.Sprintf(" Dual-account mode: this rotation changes %s, the account applications are not using; its password of record is the newest version of the primary secret "+
		"that names it, and it has none that logs in. Set %s to its current password (write-only), or give it a parent credential, and check that the user exists "+
		"with the same roles as %s.", req.Account.String(), attr, req.Dual.Accounts[req.Dual.Active].String())
}

// validateDual checks alternate_credential at plan time: another credential
// of the same device, with the same parent (or none), and bindings whose
// format carries the username.
func validateDual(ctx context.Context, cfg credentialRotationResourceModel, cred rotationCredentialRef, resp *resource.ValidateConfigResponse) {
	const who = "segura_credential_rotation"
	if cfg.AlternateCredential.IsNull() {
		for _, a := range []struct {
			name string
			set  bool
		}{
			{"alternate_bootstrap_password_wo", !cfg.AlternateBootstrapPasswordWO.IsNull()},
			{"force_within_overlap", !cfg.ForceWithinOverlap.IsNull() && !cfg.ForceWithinOverlap.IsUnknown() && cfg.ForceWithinOverlap.ValueBool()},
		} {
			if a.set {
				resp.Diagnostics.AddAttributeError(path.Root(a.name), a.name+" without alternate_credential",
					fmt.Sprintf("%s: %s only applies in dual-account mode; set alternate_credential, or remove %s.", who, a.name, a.name))
			}
		}
		return
	}
	if !cfg.Syncs.IsUnknown() && !cfg.Syncs.IsNull() {
		objs, d := syncObjects(ctx, cfg.Syncs)
		resp.Diagnostics.Append(d...)
		for i, obj := range objs {
			s, ok, _ := refFromObject[syncRef](ctx, obj)
			if !ok || s.ValueFormat.IsUnknown() {
				continue
			}
			if f := secretvalue.Format(s.ValueFormat.ValueString()); f == secretvalue.Password || s.ValueFormat.IsNull() {
				resp.Diagnostics.AddAttributeError(path.Root("syncs").AtListIndex(i), "Dual-account mode needs a format with the username",
					fmt.Sprintf("%s: syncs[%d] has value_format = %q, which holds the bare password. In dual-account mode (alternate_credential) "+
						"every rotation switches applications to the other account: they must read the username and the password together, "+
						"from one version, or they would pair one account's username with the other's password. Use value_format = \"json\" "+
						"or \"connection_string\" for this binding (and read the username from it), or remove alternate_credential.",
						who, i, secretvalue.Password))
			}
		}
	}
	if cfg.AlternateCredential.IsUnknown() {
		return
	}
	alt, ok, d := refFromObject[rotationCredentialRef](ctx, cfg.AlternateCredential)
	resp.Diagnostics.Append(d...)
	if !ok {
		return
	}
	if known(alt.ID, cred.ID) && alt.ID.Equal(cred.ID) {
		resp.Diagnostics.AddAttributeError(path.Root("alternate_credential"), "Alternate credential is the credential",
			fmt.Sprintf("%s: alternate_credential is credential %s itself; pass the second account of the pair, a segura_credential with another username on the same device.", who, cred.ID.ValueString()))
		return
	}
	if known(alt.Username, cred.Username, alt.AuthDatabase, cred.AuthDatabase) && alt.identity().String() == cred.identity().String() {
		resp.Diagnostics.AddAttributeError(path.Root("alternate_credential"), "Alternate credential is the same account",
			fmt.Sprintf("%s: alternate_credential names the same MongoDB account (%s) as credential; the two accounts of a pair need different usernames.", who, cred.identity().String()))
	}
	cd, ok1, _ := cred.device(ctx)
	ad, ok2, _ := alt.device(ctx)
	if ok1 && ok2 && known(cd.ID, ad.ID) && !cd.ID.Equal(ad.ID) {
		resp.Diagnostics.AddAttributeError(path.Root("alternate_credential"), "Alternate credential on another device",
			fmt.Sprintf("%s: alternate_credential is on device %s, credential on %s; the two accounts of a pair must be on the same device, since applications switch between them with the same connection settings.",
				who, ad.ID.ValueString(), cd.ID.ValueString()))
	}
	if alt.Parent.IsUnknown() || cred.Parent.IsUnknown() {
		return
	}
	ap, altHas, _ := alt.parent(ctx)
	cp, credHas, _ := cred.parent(ctx)
	if altHas && (!credHas || (known(ap.ID, cp.ID) && !ap.ID.Equal(cp.ID))) {
		resp.Diagnostics.AddAttributeError(path.Root("alternate_credential"), "Alternate credential with another parent",
			fmt.Sprintf("%s: alternate_credential has the parent %s, but credential has %s. In dual-account mode both accounts are changed by the same parent "+
				"(whose password parent_rotation or parent_sync gives), or the alternate changes its own password: give it credential's parent, or none.",
				who, ap.ID.ValueString(), map[bool]string{true: cp.ID.ValueString(), false: "none"}[credHas]))
	}
}

// usernameInValue returns the username a json or connection_string value
// carries ("" for the bare password, or when it has none). In dual-account
// mode it is the active account's, which the binding's credential is only
// half of the time.
func usernameInValue(f secretvalue.Format, value string) string {
	switch f {
	case secretvalue.JSON:
		var v struct {
			Username string `json:"username"`
		}
		if json.Unmarshal([]byte(value), &v) == nil {
			return v.Username
		}
	case secretvalue.ConnectionString:
		rest, ok := strings.CutPrefix(value, "mongodb://")
		if !ok {
			rest, ok = strings.CutPrefix(value, "mongodb+srv://")
		}
		if !ok {
			return ""
		}
		authority, _, _ := strings.Cut(rest, "/")
		at := strings.LastIndex(authority, "@")
		if at < 0 {
			return ""
		}
		user, _, _ := strings.Cut(authority[:at], ":")
		if u, err := url.PathUnescape(user); err == nil {
			return u
		}
	}
	return ""
}
