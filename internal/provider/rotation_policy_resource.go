package provider

import (
	"context"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // embed the IANA database so time_zone validates the same on every machine

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/segura-community/terraform-provider-segura/internal/password"
	"github.com/segura-community/terraform-provider-segura/internal/problem"
	"github.com/segura-community/terraform-provider-segura/internal/schedule"
)

var (
	_ resource.Resource                     = (*rotationPolicyResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*rotationPolicyResource)(nil)
	_ resource.ResourceWithConfigValidators = (*rotationPolicyResource)(nil)
)

// Defaults of the password strength attributes.
const (
	defaultPasswordLength    = 32
	defaultPasswordMinLower  = 1
	defaultPasswordMinUpper  = 1
	defaultPasswordMinDigits = 1
	defaultTimeZone          = "UTC"
)

// NewRotationPolicyResource returns the segura_rotation_policy resource.
func NewRotationPolicyResource() resource.Resource {
	return &rotationPolicyResource{stateOnlyResource{name: "segura_rotation_policy"}}
}

// rotationPolicyResource says when and how a credential is rotated. It is
// pure configuration: every rule is checked at plan time by the same
// password and schedule engines that the rotation uses, and nothing remote
// is touched.
type rotationPolicyResource struct {
	stateOnlyResource
}

type rotationPolicyResourceModel struct {
	ID                        types.String `tfsdk:"id"`
	Name                      types.String `tfsdk:"name"`
	Description               types.String `tfsdk:"description"`
	FrequencyDays             types.Int64  `tfsdk:"frequency_days"`
	AllowedTimes              types.List   `tfsdk:"allowed_times"`
	AllowedWeekdays           types.Set    `tfsdk:"allowed_weekdays"`
	TimeZone                  types.String `tfsdk:"time_zone"`
	MaxAgeDays                types.Int64  `tfsdk:"max_age_days"`
	RotateAfterExposureHours  types.Int64  `tfsdk:"rotate_after_exposure_hours"`
	OverlapHours              types.Int64  `tfsdk:"overlap_hours"`
	PasswordLength            types.Int64  `tfsdk:"password_length"`
	PasswordMinLower          types.Int64  `tfsdk:"password_min_lower"`
	PasswordMinUpper          types.Int64  `tfsdk:"password_min_upper"`
	PasswordMinDigits         types.Int64  `tfsdk:"password_min_digits"`
	PasswordMinSymbols        types.Int64  `tfsdk:"password_min_symbols"`
	PasswordSymbols           types.String `tfsdk:"password_symbols"`
	PasswordExcludeLookalikes types.Bool   `tfsdk:"password_exclude_lookalikes"`
	PasswordNoRepeats         types.Bool   `tfsdk:"password_no_repeats"`
}

func (r *rotationPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_rotation_policy"
}

// weekdayNames are the accepted allowed_weekdays values.
var weekdayNames = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

func (r *rotationPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "When and how a credential is rotated: frequency, allowed times of day and weekdays in an IANA time zone, " +
			"expiry by age or after exposure, and password strength. The policy is pure configuration: every rule is validated at " +
			"plan time and nothing remote is touched. `segura_credential_rotation` receives it as a whole object.",
		Attributes: map[string]schema.Attribute{
			"id": randomIDAttribute("policy"),
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the policy, e.g. `database-30-days`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "What the policy is for.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtMost(1024)},
			},
			"frequency_days": schema.Int64Attribute{
				MarkdownDescription: "Rotate every this many days (counted from the last rotation), at the next allowed time and weekday. " +
					"At least one of `frequency_days`, `max_age_days` and `rotate_after_exposure_hours` must be set.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(1, 3650)},
			},
			"allowed_times": schema.ListAttribute{
				MarkdownDescription: "Times of day (`HH:MM`, 24-hour, in `time_zone`) at which a routine rotation falls due, e.g. `[\"02:00\", \"14:30\"]`. " +
					"Each is an instant, not a window: the rotation is due from the first allowed time, on an allowed weekday, at or after " +
					"`frequency_days` since the last rotation (`next_rotation_at`) and stays due, so the first plan and apply from then on " +
					"rotate, however late: for `02:00`, a scheduled apply at 09:00 rotates at 09:00. The next period counts whole days from " +
					"the date of that rotation, so a late apply does not delay the next slot: the next rotation is due at 02:00 " +
					"`frequency_days` days after that date. A time skipped by a daylight-saving change falls due when the clocks jump past it; " +
					"a repeated one, at its first occurrence. `max_age_days` and `rotate_after_exposure_hours` ignore allowed times. " +
					"Requires `frequency_days`. Unset means any time of day.",
				ElementType: types.StringType,
				Optional:    true,
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(timeOfDay()),
				},
			},
			"allowed_weekdays": schema.SetAttribute{
				MarkdownDescription: "Days of the week (dates in `time_zone`) on which a routine rotation falls due: any of `" + strings.Join(weekdayNames, "`, `") + "` (or their first three letters). " +
					"Like `allowed_times` they say when the rotation becomes due, not when it may run: it is due at the first allowed time " +
					"on an allowed day at or after `frequency_days` since the last rotation (without `allowed_times`: at that instant if it " +
					"is on an allowed day, else at 00:00 of the next allowed day), and an apply on a later day, allowed or not, rotates. " +
					"The next period counts whole days from the date of that rotation: `frequency_days = 7` with `saturday` and `02:00` " +
					"and applies at 09:00 rotates every Saturday. `max_age_days` and `rotate_after_exposure_hours` ignore allowed days. Requires `frequency_days`. " +
					"Unset means every day.",
				ElementType: types.StringType,
				Optional:    true,
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(weekday()),
				},
			},
			"time_zone": schema.StringAttribute{
				MarkdownDescription: "IANA time zone, e.g. `Europe/Berlin`, in which `allowed_times` and `allowed_weekdays` are read and `frequency_days` counts calendar days (7 days after a rotation at 02:30 is 02:30 local time a week later, across a daylight-saving change too). `max_age_days` and `rotate_after_exposure_hours` are elapsed time and do not depend on it. Defaults to `UTC`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultTimeZone),
				Validators:          []validator.String{timeZone()},
			},
			"max_age_days": schema.Int64Attribute{
				MarkdownDescription: "Rotate as soon as the password is this many days old, regardless of `allowed_times` and `allowed_weekdays`. Unset means no hard limit.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 3650)},
			},
			"rotate_after_exposure_hours": schema.Int64Attribute{
				MarkdownDescription: "Rotate this many hours after the password was checked out (exposed), e.g. by the ephemeral resource. Unset means exposure does not trigger a rotation.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 8760)},
			},
			"overlap_hours": schema.Int64Attribute{
				MarkdownDescription: "Dual-account mode only (`alternate_credential` on `segura_credential_rotation`): the minimum time an " +
					"account's password stays valid after a rotation told applications to stop using it (switched every binding to the other " +
					"account). A rotation that would change it sooner (a `triggers` change, drift, a new binding, or a routine rotation when " +
					"this is longer than the period) waits until then: the plan says so in `pending_rotation_reason` and `next_rotation_at`, " +
					"unless the rotation sets `force_within_overlap`. A rotation after a checkout (`rotate_after_exposure_hours`) never waits: " +
					"a password a person has seen must stop working. Unset means one rotation period: until the routine rotation that follows " +
					"the switch (`frequency_days` at the allowed times, else `max_age_days`), which then never waits; a policy with neither has " +
					"no period, and no overlap unless this is set. `0` turns the guarantee off.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, 87600)},
			},
			"password_length": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Length of generated passwords, %d-%d, at least the sum of the class minimums. Defaults to `%d`.", password.MinLength, password.MaxLength, defaultPasswordLength),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultPasswordLength),
			},
			"password_min_lower": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Minimum number of lower-case letters. Defaults to `%d`.", defaultPasswordMinLower),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultPasswordMinLower),
			},
			"password_min_upper": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Minimum number of upper-case letters. Defaults to `%d`.", defaultPasswordMinUpper),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultPasswordMinUpper),
			},
			"password_min_digits": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Minimum number of digits. Defaults to `%d`.", defaultPasswordMinDigits),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultPasswordMinDigits),
			},
			"password_min_symbols": schema.Int64Attribute{
				MarkdownDescription: "Minimum number of symbols from `password_symbols`. Defaults to `0` (symbols may still appear).",
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(0),
			},
			"password_symbols": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Symbols generated passwords may contain: printable ASCII, no letters, digits or spaces, each once. "+
					"Defaults to `%s`, which is safe unescaped in connection strings and shells. Set to `\"\"` for no symbols; "+
					"it must not be empty when `password_min_symbols` is above 0.", password.DefaultSymbols),
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(password.DefaultSymbols),
			},
			"password_exclude_lookalikes": schema.BoolAttribute{
				MarkdownDescription: fmt.Sprintf("Leave out characters that are easy to confuse (`%s`). Defaults to `false`.", password.Lookalikes),
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"password_no_repeats": schema.BoolAttribute{
				MarkdownDescription: "Never put the same character twice in a row. Defaults to `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
		},
	}
}

func (r *rotationPolicyResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.AtLeastOneOf(path.MatchRoot("frequency_days"), path.MatchRoot("max_age_days"), path.MatchRoot("rotate_after_exposure_hours")),
	}
}

// passwordFieldAttribute maps password.Problem.Field to the attribute.
var passwordFieldAttribute = map[string]string{
	"Length":            "password_length",
	"MinLower":          "password_min_lower",
	"MinUpper":          "password_min_upper",
	"MinDigits":         "password_min_digits",
	"MinSymbols":        "password_min_symbols",
	"Symbols":           "password_symbols",
	"ExcludeLookalikes": "password_exclude_lookalikes",
	"NoRepeats":         "password_no_repeats",
}

// scheduleFieldAttribute maps schedule.Problem.Field to the attribute.
var scheduleFieldAttribute = map[string]string{
	"Frequency":     "frequency_days",
	"Times":         "allowed_times",
	"Weekdays":      "allowed_weekdays",
	"Location":      "time_zone",
	"MaxAge":        "max_age_days",
	"AfterExposure": "rotate_after_exposure_hours",
}

// ValidateConfig runs the password and schedule engines' own rule checks on
// the configuration, so plan-time validation and rotation-time behaviour
// cannot disagree. Attribute-level validators have already checked formats.
func (r *rotationPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg rotationPolicyResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	if pw, ok := cfg.passwordPolicy(); ok {
		addPolicyProblems(&resp.Diagnostics, "Invalid password strength", pw.Validate(), passwordFieldAttribute, "password_length")
	}
	if sp, ok := cfg.schedulePolicy(ctx); ok {
		addPolicyProblems(&resp.Diagnostics, "Invalid rotation schedule", sp.Validate(), scheduleFieldAttribute, "frequency_days")
	}
}

// addPolicyProblems reports an engine's problems on the attributes their
// fields map to (fallback for a field the map does not know).
func addPolicyProblems(diags *diag.Diagnostics, summary string, problems []problem.Problem, fieldAttribute map[string]string, fallback string) {
	for _, p := range problems {
		attr, known := fieldAttribute[p.Field]
		if !known {
			attr = fallback
		}
		diags.AddAttributeError(path.Root(attr), summary, fmt.Sprintf("segura_rotation_policy: %s: %s", attr, attrMessage(p.Message)))
	}
}

// attrMessage rewrites the engines' Go field names into attribute names so
// messages name what the user wrote.
func attrMessage(msg string) string {
	replacer := strings.NewReplacer(
		"MinLower", "password_min_lower", "MinUpper", "password_min_upper",
		"MinDigits", "password_min_digits", "MinSymbols", "password_min_symbols",
		"ExcludeLookalikes", "password_exclude_lookalikes", "NoRepeats", "password_no_repeats",
		"MaxAge", "max_age_days", "AfterExposure", "rotate_after_exposure_hours",
	)
	return replacer.Replace(msg)
}

func known(vs ...interface{ IsUnknown() bool }) bool {
	for _, v := range vs {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

// passwordPolicy converts the configuration; ok is false while a value is
// unknown (it is checked again at apply when it is known). Null values take
// the schema defaults, since ValidateConfig sees the configuration before
// defaults are applied.
func (m rotationPolicyResourceModel) passwordPolicy() (password.Policy, bool) {
	if !known(m.PasswordLength, m.PasswordMinLower, m.PasswordMinUpper, m.PasswordMinDigits, m.PasswordMinSymbols,
		m.PasswordSymbols, m.PasswordExcludeLookalikes, m.PasswordNoRepeats) {
		return password.Policy{}, false
	}
	intOr := func(v types.Int64, def int) int {
		if v.IsNull() {
			return def
		}
		return int(v.ValueInt64())
	}
	symbols := password.DefaultSymbols
	if !m.PasswordSymbols.IsNull() {
		symbols = m.PasswordSymbols.ValueString()
	}
	return password.Policy{
		Length:            intOr(m.PasswordLength, defaultPasswordLength),
		MinLower:          intOr(m.PasswordMinLower, defaultPasswordMinLower),
		MinUpper:          intOr(m.PasswordMinUpper, defaultPasswordMinUpper),
		MinDigits:         intOr(m.PasswordMinDigits, defaultPasswordMinDigits),
		MinSymbols:        intOr(m.PasswordMinSymbols, 0),
		Symbols:           symbols,
		ExcludeLookalikes: m.PasswordExcludeLookalikes.ValueBool(),
		NoRepeats:         m.PasswordNoRepeats.ValueBool(),
	}, true
}

// schedulePolicy converts the configuration; ok is false while a value is
// unknown or malformed (attribute validators report malformed values).
func (m rotationPolicyResourceModel) schedulePolicy(ctx context.Context) (schedule.Policy, bool) {
	if !known(m.FrequencyDays, m.AllowedTimes, m.AllowedWeekdays, m.TimeZone, m.MaxAgeDays, m.RotateAfterExposureHours) {
		return schedule.Policy{}, false
	}
	const day = 24 * time.Hour
	var p schedule.Policy
	if !m.FrequencyDays.IsNull() {
		p.Frequency = time.Duration(m.FrequencyDays.ValueInt64()) * day
	}
	if !m.MaxAgeDays.IsNull() {
		p.MaxAge = time.Duration(m.MaxAgeDays.ValueInt64()) * day
	}
	if !m.RotateAfterExposureHours.IsNull() {
		p.AfterExposure = time.Duration(m.RotateAfterExposureHours.ValueInt64()) * time.Hour
	}
	var times, weekdays []string
	if m.AllowedTimes.ElementsAs(ctx, &times, false).HasError() || m.AllowedWeekdays.ElementsAs(ctx, &weekdays, false).HasError() {
		return p, false
	}
	for _, s := range times {
		t, err := schedule.ParseTimeOfDay(s)
		if err != nil {
			return p, false
		}
		p.Times = append(p.Times, t)
	}
	for _, s := range weekdays {
		d, err := schedule.ParseWeekday(s)
		if err != nil {
			return p, false
		}
		p.Weekdays = append(p.Weekdays, d)
	}
	tz := defaultTimeZone
	if !m.TimeZone.IsNull() {
		tz = m.TimeZone.ValueString()
	}
	loc, err := schedule.LoadLocation(tz)
	if err != nil {
		return p, false
	}
	p.Location = loc
	return p, true
}

// timeOfDay accepts HH:MM (24-hour), parsed by the schedule engine.
func timeOfDay() validator.String {
	return stringCheck{"Invalid time of day", "must be a 24-hour time of day as HH:MM, e.g. 02:00 or 14:30", func(s string) error {
		_, err := schedule.ParseTimeOfDay(s)
		return err
	}}
}

// timeZone accepts IANA time zone names that load on this machine.
func timeZone() validator.String {
	return stringCheck{"Invalid time zone", "must be an IANA time zone name such as UTC, Europe/Berlin or America/Sao_Paulo", func(s string) error {
		_, err := schedule.LoadLocation(s)
		return err
	}}
}

// weekday accepts what the schedule engine parses: an English day name,
// full or three letters, in any case.
func weekday() validator.String {
	return stringCheck{"Invalid day of the week", "must be a day of the week: " + strings.Join(weekdayNames, ", ") + " (or their first three letters)", func(s string) error {
		_, err := schedule.ParseWeekday(s)
		return err
	}}
}

// overlap is overlap_hours as a duration; nil when unset (one rotation
// period) or unknown.
func (m rotationPolicyResourceModel) overlap() *time.Duration {
	if m.OverlapHours.IsNull() || m.OverlapHours.IsUnknown() {
		return nil
	}
	d := time.Duration(m.OverlapHours.ValueInt64()) * time.Hour
	return &d
}
