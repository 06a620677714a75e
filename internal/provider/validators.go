package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// stringCheck is a string validator made from a check function: what every
// custom rule here shares (null and unknown values pass, a failure is one
// attribute error naming the attribute, the rule and the value).
type stringCheck struct {
	summary     string // diagnostic summary, e.g. "Invalid time of day"
	description string // the rule, starting "must", for the docs and the error
	check       func(string) error
}

func (v stringCheck) Description(context.Context) string { return v.description }

func (v stringCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	value := req.ConfigValue.ValueString()
	if err := v.check(value); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, v.summary,
			fmt.Sprintf("Attribute %s %s, got %q: %v.", req.Path, v.description, value, err))
	}
}

// positiveDuration accepts Go duration strings ("30s", "1m30s") greater than zero.
func positiveDuration() validator.String {
	return stringCheck{"Invalid duration", "must be a positive Go duration such as 30s, 5m or 1h30m", func(s string) error {
		d, err := time.ParseDuration(s)
		if err == nil && d <= 0 {
			err = errors.New("not positive")
		}
		return err
	}}
}

// withoutPrefix rejects strings that start with prefix (in any case), giving why.
func withoutPrefix(prefix, why string) validator.String {
	return stringCheck{"Reserved name", fmt.Sprintf("must not start with %q: %s", prefix, why), func(s string) error {
		if strings.HasPrefix(strings.ToLower(s), strings.ToLower(prefix)) {
			return errors.New("reserved prefix")
		}
		return nil
	}}
}
