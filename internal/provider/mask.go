package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// maskSecrets returns a context whose tflog output replaces every given value
// (a client secret, a bootstrap or checked-out password) with "***", in
// messages and in field values. Nothing in the provider logs these on
// purpose; this keeps a future log line, or a library's, from leaking them.
func maskSecrets(ctx context.Context, values ...string) context.Context {
	for _, v := range values {
		if v == "" {
			continue
		}
		ctx = tflog.MaskAllFieldValuesStrings(ctx, v)
		ctx = tflog.MaskMessageStrings(ctx, v)
	}
	return ctx
}
