package keyvault

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// AccessError is a 401 or 403 from a vault: the identity authenticated (or
// tried to) but may not perform the operation.
type AccessError struct {
	Vault      string
	Identity   string
	Permission string // the secret permission the operation needs: get, list, set, ...
	Secret     string // empty for vault-wide operations
	StatusCode int
	Code       string // Key Vault's error code, e.g. Forbidden
}

func (e *AccessError) Error() string {
	what := "secrets in Key Vault " + e.Vault
	if e.Secret != "" {
		what = fmt.Sprintf("secret %q in Key Vault %s", e.Secret, e.Vault)
	}
	if e.StatusCode == http.StatusUnauthorized {
		return fmt.Sprintf("Key Vault %s did not accept the token of %s (HTTP 401 %s) for %s: check that the identity belongs to the vault's tenant",
			e.Vault, e.Identity, e.Code, what)
	}
	return fmt.Sprintf("%s is missing the %q secret permission on %s (HTTP %d %s): grant it in the vault's access policy, or a role such as Key Vault Secrets Officer when the vault uses Azure RBAC",
		e.Identity, e.Permission, what, e.StatusCode, e.Code)
}

// AuthenticationError means Microsoft Entra ID refused to issue a token: a
// wrong client secret, an unknown client id or tenant, or no usable credential.
type AuthenticationError struct {
	Vault    string
	Identity string
	Err      error
}

func (e *AuthenticationError) Error() string {
	return fmt.Sprintf("Microsoft Entra ID refused a token to %s for Key Vault %s: %s. Check the tenant id, client id and client secret (or the OIDC / managed identity settings)",
		e.Identity, e.Vault, summarizeAuthError(e.Err))
}

// summarizeAuthError reduces azidentity's multi-line report (request line,
// response dump, troubleshooting link) to Entra ID's error code and
// description when the response carries them.
func summarizeAuthError(err error) string {
	msg := err.Error()
	start, end := strings.Index(msg, "{"), strings.LastIndex(msg, "}")
	if start >= 0 && end > start {
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal([]byte(msg[start:end+1]), &body) == nil && body.Error != "" {
			if body.Description == "" {
				return body.Error
			}
			return body.Error + ": " + strings.TrimSpace(body.Description)
		}
	}
	return msg
}

func (e *AuthenticationError) Unwrap() error { return e.Err }

// RequestError is any other failure talking to a vault.
type RequestError struct {
	Vault     string
	Operation string
	Err       error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("Key Vault %s: %s failed: %s", e.Vault, e.Operation, describeCause(e.Err))
}

// describeCause says what went wrong in one line. azcore's own message for
// an HTTP error dumps the whole response body, which may be a proxy's HTML
// page or, from a hostile endpoint, anything at all; this keeps the status,
// Key Vault's error code and its message, and says what the body was.
func describeCause(err error) string {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err.Error()
	}
	out := fmt.Sprintf("HTTP %d", re.StatusCode)
	if re.ErrorCode != "" && re.ErrorCode != "UNAVAILABLE" {
		out += " " + re.ErrorCode
	}
	if re.RawResponse == nil {
		return out
	}
	body, _ := runtime.Payload(re.RawResponse)
	var kv struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	switch {
	case json.Unmarshal(body, &kv) == nil && kv.Error.Message != "":
		msg := kv.Error.Message
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		out += ": " + msg
	case strings.Contains(re.RawResponse.Header.Get("Content-Type"), "html"):
		out += " with an HTML page instead of a Key Vault answer (a proxy or gateway error?)"
	case len(body) > 0:
		out += fmt.Sprintf(" with a %d-byte body that is not a Key Vault error", len(body))
	}
	return out
}

func (e *RequestError) Unwrap() error { return e.Err }

func asResponseError(err error, target **azcore.ResponseError) bool { return errors.As(err, target) }

func (v *Vault) classify(err error, permission, secret string) error {
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) {
		return &AuthenticationError{Vault: v.URL, Identity: v.Identity, Err: authErr}
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) && (re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden) {
		return &AccessError{
			Vault:      v.URL,
			Identity:   v.Identity,
			Permission: permission,
			Secret:     secret,
			StatusCode: re.StatusCode,
			Code:       re.ErrorCode,
		}
	}
	op := permission + " secrets"
	if secret != "" {
		op = fmt.Sprintf("%s secret %q", permission, secret)
	}
	return &RequestError{Vault: v.URL, Operation: op, Err: err}
}
