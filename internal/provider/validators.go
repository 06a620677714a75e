package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// positiveDuration accepts Go duration strings ("30s", "1m30s") greater than zero.
func positiveDuration() validator.String { return positiveDurationValidator{} }

type positiveDurationValidator struct{}

func (positiveDurationValidator) Description(context.Context) string {
	return "must be a positive Go duration such as 30s, 5m or 1h30m"
}

func (v positiveDurationValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v positiveDurationValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s %s; got %q.", req.Path, v.Description(ctx), req.ConfigValue.ValueString()))
	}
}

// withoutPrefix rejects strings that start with prefix, giving why.
func withoutPrefix(prefix, why string) validator.String { return withoutPrefixValidator{prefix, why} }

type withoutPrefixValidator struct{ prefix, why string }

func (v withoutPrefixValidator) Description(context.Context) string {
	return fmt.Sprintf("must not start with %q: %s", v.prefix, v.why)
}

func (v withoutPrefixValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v withoutPrefixValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if strings.HasPrefix(strings.ToLower(req.ConfigValue.ValueString()), strings.ToLower(v.prefix)) {
		resp.Diagnostics.AddAttributeError(req.Path, "Reserved name",
			fmt.Sprintf("%s %q %s.", req.Path, req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}
