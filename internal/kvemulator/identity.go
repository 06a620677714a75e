package kvemulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// signingKeyID names the emulator's token signing key in the JWKS.
const signingKeyID = "kvemulator-es256"

// identityHandler serves the subset of Entra ID that MSAL for Go uses for a
// client-credentials flow against a custom authority host.
func (e *Emulator) identityHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == "/common/discovery/instance":
			e.serveInstanceDiscovery(w, r)
			return
		case strings.HasSuffix(path, "/v2.0/.well-known/openid-configuration"):
			e.serveOpenIDConfiguration(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/v2.0/.well-known/openid-configuration"))
			return
		case strings.HasSuffix(path, "/discovery/v2.0/keys"):
			e.serveKeys(w)
			return
		case strings.HasSuffix(path, "/oauth2/v2.0/token"):
			e.serveToken(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/oauth2/v2.0/token"))
			return
		}
		writeAADError(w, http.StatusNotFound, "invalid_request", 900561, "The endpoint only accepts POST requests to known paths.")
	})
}

func (e *Emulator) host() string {
	return strings.TrimSuffix(strings.TrimPrefix(e.identityURL, "https://"), "/")
}

func (e *Emulator) serveInstanceDiscovery(w http.ResponseWriter, _ *http.Request) {
	host := e.host()
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": fmt.Sprintf("https://%s/%s/v2.0/.well-known/openid-configuration", host, e.tenantID),
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host,
			"preferred_cache":   host,
			"aliases":           []string{host},
		}},
	})
}

func (e *Emulator) knownTenant(tenant string) bool {
	return strings.EqualFold(tenant, e.tenantID)
}

func (e *Emulator) serveOpenIDConfiguration(w http.ResponseWriter, _ *http.Request, tenant string) {
	if !e.knownTenant(tenant) {
		writeAADError(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	base := e.identityURL + e.tenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "kvemulator.local",
		"grant_types_supported":                 []string{"client_credentials"},
	})
}

func (e *Emulator) serveKeys(w http.ResponseWriter) {
	ecdhKey, err := e.signingKey.PublicKey.ECDH()
	if err != nil {
		writeAADError(w, http.StatusInternalServerError, "temporarily_unavailable", 50001, "Signing key unavailable.")
		return
	}
	point := ecdhKey.Bytes() // 0x04 || X || Y
	x, y := point[1:33], point[33:65]
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": signingKeyID,
		"x": base64.RawURLEncoding.EncodeToString(x),
		"y": base64.RawURLEncoding.EncodeToString(y),
	}}})
}

// accessTokenClaims are the claims of an Entra ID v1 app-only access token
// that Key Vault looks at.
type accessTokenClaims struct {
	jwt.RegisteredClaims
	AppID    string `json:"appid"`
	AZP      string `json:"azp,omitempty"`
	OID      string `json:"oid"`
	TenantID string `json:"tid"`
	IDType   string `json:"idtyp"`
	Version  string `json:"ver"`
}

// objectID is the service principal's object id, stable per client id.
func (e *Emulator) objectID(clientID string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("kvemulator:"+e.tenantID+":"+clientID)).String()
}

func (e *Emulator) issuer() string { return "https://sts.windows.net/" + e.tenantID + "/" }

func (e *Emulator) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodPost {
		writeAADError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests.")
		return
	}
	if !e.knownTenant(tenant) {
		writeAADError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeAADError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	grantType := r.PostForm.Get("grant_type")
	if grantType == "" {
		writeAADError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if grantType != "client_credentials" {
		writeAADError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", grantType))
		return
	}
	clientID := r.PostForm.Get("client_id")
	if clientID == "" {
		writeAADError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	want, known := e.clientSecret(clientID)
	if !known {
		writeAADError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, e.tenantID))
		return
	}
	got := r.PostForm.Get("client_secret")
	if got == "" {
		writeAADError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	// Compare digests so the comparison takes the same time whatever the lengths.
	gotSum, wantSum := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(gotSum[:], wantSum[:]) != 1 {
		writeAADError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
		return
	}
	resource, ok := vaultScope(r.PostForm.Get("scope"))
	if !ok {
		writeAADError(w, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", r.PostForm.Get("scope")))
		return
	}

	now := time.Now()
	claims := accessTokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    e.issuer(),
			Subject:   e.objectID(clientID),
			Audience:  jwt.ClaimStrings{resource},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(e.tokenLifetime)),
			ID:        uuid.NewString(),
		},
		AppID:    clientID,
		AZP:      clientID,
		OID:      e.objectID(clientID),
		TenantID: e.tenantID,
		IDType:   "app",
		Version:  "1.0",
	}
	token := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	token.Header["kid"] = signingKeyID
	signed, err := token.SignedString(e.signingKey)
	if err != nil {
		writeAADError(w, http.StatusInternalServerError, "temporarily_unavailable", 50001, "Token signing failed.")
		return
	}
	lifetime := int(e.tokenLifetime.Round(time.Second) / time.Second)
	if lifetime < 1 {
		lifetime = 1
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     lifetime,
		"ext_expires_in": lifetime,
		"access_token":   signed,
	})
}

// vaultScope accepts the Key Vault ".default" scope (plus OpenID scopes MSAL
// may add) and returns the token audience.
func vaultScope(scope string) (string, bool) {
	found := false
	for _, s := range strings.Fields(scope) {
		switch s {
		case "openid", "profile", "offline_access":
		case vaultResource + "/.default", vaultResource + "//.default":
			found = true
		default:
			return "", false
		}
	}
	return vaultResource, found
}

var errTokenExpired = errors.New("the token is expired")

// verifyToken checks a bearer token's signature, issuer, audience, tenant and
// lifetime and returns the client (app) id it was issued to.
func (e *Emulator) verifyToken(raw string) (string, error) {
	if appID, ok, err := e.tokens.lookup(raw); ok {
		return appID, err
	}
	appID, exp, err := e.verifyTokenSignature(raw)
	if err == nil {
		e.tokens.store(raw, appID, exp)
	}
	return appID, err
}

// verifiedTokens remembers the tokens whose signature and claims were
// checked, so that each request does not verify an ECDSA signature again
// (clients send the same token for an hour); only the expiry is checked on
// a hit. It forgets everything when it holds maxVerifiedTokens.
type verifiedTokens struct {
	mu     sync.Mutex
	tokens map[string]verifiedToken
}

type verifiedToken struct {
	appID   string
	expires time.Time
}

const maxVerifiedTokens = 4096

func (c *verifiedTokens) lookup(raw string) (string, bool, error) {
	c.mu.Lock()
	t, ok := c.tokens[raw]
	c.mu.Unlock()
	if !ok {
		return "", false, nil
	}
	if !time.Now().Before(t.expires) {
		return "", true, errTokenExpired
	}
	return t.appID, true, nil
}

func (c *verifiedTokens) store(raw, appID string, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil || len(c.tokens) >= maxVerifiedTokens {
		c.tokens = map[string]verifiedToken{}
	}
	c.tokens[raw] = verifiedToken{appID: appID, expires: expires}
}

// verifyTokenSignature checks a token's signature and claims and returns its
// client id and expiry.
func (e *Emulator) verifyTokenSignature(raw string) (string, time.Time, error) {
	claims := &accessTokenClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		return &e.signingKey.PublicKey, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithAudience(vaultResource),
		jwt.WithIssuer(e.issuer()),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return "", time.Time{}, errTokenExpired
	}
	if err != nil {
		return "", time.Time{}, err
	}
	if !strings.EqualFold(claims.TenantID, e.tenantID) || claims.AppID == "" {
		return "", time.Time{}, errors.New("the token was issued for another tenant")
	}
	return claims.AppID, claims.ExpiresAt.Time, nil
}

func writeAADError(w http.ResponseWriter, status int, code string, aadsts int, description string) {
	traceID, correlationID := uuid.NewString(), uuid.NewString()
	timestamp := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, description, traceID, correlationID, timestamp),
		"error_codes":       []int{aadsts},
		"timestamp":         timestamp,
		"trace_id":          traceID,
		"correlation_id":    correlationID,
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	})
}
