package kvemulator

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Documented Key Vault secrets limits.
const (
	maxSecretValueBytes = 25 * 1024
	maxTags             = 15
	maxTagNameChars     = 512
	maxTagValueChars    = 256
	maxContentTypeChars = 255
	maxPageSize         = 25
	recoverableDays     = 90
	recoveryLevel       = "Recoverable+Purgeable"
	vaultLocation       = "local"
)

var secretNamePattern = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)

// supportedAPIVersions are the secrets data-plane versions the emulator
// answers; azsecrets v1.5.1 sends 2026-04-01.
var supportedAPIVersions = map[string]bool{
	"2026-04-01": true, "2025-07-01": true,
	"7.0": true, "7.1": true, "7.2": true, "7.3": true, "7.4": true, "7.5": true, "7.6": true,
}

type vault struct {
	e      *Emulator
	name   string
	url    string // "https://127.0.0.1:PORT/"
	server *http.Server

	mu      sync.Mutex
	secrets map[string]*secret // by lower-case name, active and soft-deleted
	creates slidingWindow
	others  slidingWindow

	stats requestStats
}

type secret struct {
	Name               string           `json:"name"`
	Versions           []*secretVersion `json:"versions"` // oldest first
	deleted            bool
	deletedDate        int64
	scheduledPurgeDate int64
}

type secretVersion struct {
	ID          string            `json:"id"`
	Value       string            `json:"value"`
	ContentType *string           `json:"contentType,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Enabled     bool              `json:"enabled"`
	NotBefore   *int64            `json:"nbf,omitempty"`
	Expires     *int64            `json:"exp,omitempty"`
	Created     int64             `json:"created"`
	Updated     int64             `json:"updated"`
}

func (s *secret) latest() *secretVersion { return s.Versions[len(s.Versions)-1] }

func (s *secret) version(id string) *secretVersion {
	for _, v := range s.Versions {
		if strings.EqualFold(v.ID, id) {
			return v
		}
	}
	return nil
}

func newVault(e *Emulator, name string) *vault {
	return &vault{e: e, name: name, secrets: map[string]*secret{}}
}

// Response shapes, as the service sends them.

type attributesJSON struct {
	Enabled         bool   `json:"enabled"`
	NotBefore       *int64 `json:"nbf,omitempty"`
	Expires         *int64 `json:"exp,omitempty"`
	Created         int64  `json:"created"`
	Updated         int64  `json:"updated"`
	RecoveryLevel   string `json:"recoveryLevel"`
	RecoverableDays int    `json:"recoverableDays"`
}

type secretJSON struct {
	Value              *string           `json:"value,omitempty"`
	ContentType        *string           `json:"contentType,omitempty"`
	ID                 string            `json:"id"`
	Attributes         attributesJSON    `json:"attributes"`
	Tags               map[string]string `json:"tags,omitempty"`
	RecoveryID         string            `json:"recoveryId,omitempty"`
	DeletedDate        int64             `json:"deletedDate,omitempty"`
	ScheduledPurgeDate int64             `json:"scheduledPurgeDate,omitempty"`
}

type listJSON struct {
	Value    []secretJSON `json:"value"`
	NextLink *string      `json:"nextLink"`
}

func (v *vault) secretID(name, version string) string {
	id := v.url + "secrets/" + name
	if version != "" {
		id += "/" + version
	}
	return id
}

func (v *vault) render(s *secret, sv *secretVersion, withVersion, withValue bool) secretJSON {
	out := secretJSON{
		ContentType: sv.ContentType,
		Attributes: attributesJSON{
			Enabled: sv.Enabled, NotBefore: sv.NotBefore, Expires: sv.Expires,
			Created: sv.Created, Updated: sv.Updated,
			RecoveryLevel: recoveryLevel, RecoverableDays: recoverableDays,
		},
		Tags: sv.Tags,
	}
	if withVersion {
		out.ID = v.secretID(s.Name, sv.ID)
	} else {
		out.ID = v.secretID(s.Name, "")
	}
	if withValue {
		value := sv.Value
		out.Value = &value
	}
	if s.deleted {
		out.RecoveryID = v.url + "deletedsecrets/" + s.Name
		out.DeletedDate = s.deletedDate
		out.ScheduledPurgeDate = s.scheduledPurgeDate
	}
	return out
}

// operation is one routed secrets request.
type operation struct {
	name   string // the REST reference's operation name, for RequestCounts
	perm   Permission
	create bool // Set Secret: counts against Limits.Creates, not Limits.Others
	run    func(w http.ResponseWriter) *apiError
}

// apiError is a Key Vault error response.
type apiError struct {
	status    int
	code      string
	message   string
	innerCode string
}

func (e *apiError) write(w http.ResponseWriter) {
	if e.innerCode != "" {
		writeErrorInner(w, e.status, e.code, e.message, e.innerCode)
		return
	}
	writeError(w, e.status, e.code, e.message)
}

func badParameter(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "BadParameter", message: fmt.Sprintf(format, args...)}
}

func secretNotFound(nameOrID string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "SecretNotFound", message: fmt.Sprintf(
		"A secret with (name/id) %s was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", nameOrID)}
}

// malformedBackup is the service's answer to restoring bytes that are not a
// backup it made (recording RestoreMalformedBackup.json): the code has spaces.
func malformedBackup() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "Malformed backup blob", message: "Backup blob is corrupt."}
}

func deletedSecretNotFound(name string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "SecretNotFound", message: "Deleted Secret not found: " + name}
}

func secretInDeletedState(name string) *apiError {
	return &apiError{status: http.StatusConflict, code: "Conflict", innerCode: "ObjectIsDeletedButRecoverable", message: fmt.Sprintf(
		"Secret %s is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.", name)}
}

func (v *vault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Headers the service sends on every answer, as recorded.
	h := w.Header()
	h.Set("x-ms-keyvault-service-version", "1.9.2795.1")
	h.Set("x-ms-keyvault-region", vaultLocation)
	h.Set("x-ms-request-id", uuid.NewString())
	h.Set("Expires", "-1")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Strict-Transport-Security", "max-age=31536000;includeSubDomains")
	if id := r.Header.Get("x-ms-client-request-id"); id != "" {
		h.Set("x-ms-client-request-id", id)
	}

	// The bearer challenge comes first, as on the real service: azsecrets'
	// challenge probe must see a 401 whatever else is wrong with the request.
	clientID, authErr := v.authenticate(r)
	if authErr != "" {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="%s%s", resource="%s"`, v.e.identityURL, v.e.tenantID, vaultResource))
		writeError(w, http.StatusUnauthorized, "Unauthorized", authErr)
		v.stats.count(CountUnauthorized)
		return
	}
	apiVersion := r.URL.Query().Get("api-version")
	if apiVersion == "" {
		badParameter("The request is missing the required query parameter 'api-version'.").write(w)
		v.stats.count(CountInvalid)
		return
	}
	if !supportedAPIVersions[apiVersion] {
		badParameter("The specified version (%s) is not recognized. Consider using the latest supported version (2026-04-01).", apiVersion).write(w)
		v.stats.count(CountInvalid)
		return
	}

	op, routeErr := v.route(r, apiVersion)
	if routeErr != nil {
		routeErr.write(w)
		v.stats.count(CountInvalid)
		return
	}
	if wait, throttled := v.admit(op.create); throttled {
		v.stats.count(CountThrottled)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		writeError(w, http.StatusTooManyRequests, "Throttled", "Request was not allowed because the vault is being throttled. Please retry after the time given in the Retry-After header. For help resolving this issue, please see https://aka.ms/kvthrottling")
		return
	}
	v.stats.count(op.name)
	if !v.e.hasPermission(v.name, clientID, op.perm) {
		(&apiError{status: http.StatusForbidden, code: "Forbidden", innerCode: "AccessDenied", message: fmt.Sprintf(
			"The user, group or application 'appid=%s;oid=%s;iss=%s' does not have secrets %s permission on key vault '%s;location=%s'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
			clientID, v.e.objectID(clientID), v.e.issuer(), op.perm, v.name, vaultLocation)}).write(w)
		return
	}
	if err := op.run(w); err != nil {
		err.write(w)
	}
}

// authenticate returns the client id of the request's bearer token, or the
// message of the 401 to answer.
func (v *vault) authenticate(r *http.Request) (string, string) {
	header := r.Header.Get("Authorization")
	if header == "" {
		// Recorded answer (GetSecretVersionsNonExisting.json, RestoreMalformedBackup.json).
		return "", "AKV10000: Request is missing a Bearer or PoP token."
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", "AKV10001: Unable to parse the Authorization header: the scheme must be Bearer."
	}
	clientID, err := v.e.verifyToken(strings.TrimSpace(token))
	if errors.Is(err, errTokenExpired) {
		return "", "AKV10016: Token expired. Request a new token and try again."
	}
	if err != nil {
		return "", "AKV10032: Invalid token: " + err.Error()
	}
	return clientID, ""
}

// admit applies the emulator's throttling limits to this vault: a create
// (Set Secret) counts against Limits.Creates, every other operation against
// Limits.Others, each class in its own sliding window. Accepted creates are
// recorded for CreateTimes whether throttling is on or not.
func (v *vault) admit(create bool) (time.Duration, bool) {
	enabled, limits := v.e.throttle.get()
	now := time.Now()
	if !enabled {
		if create {
			v.stats.created(now)
		}
		return 0, false
	}
	v.mu.Lock()
	window, limit := &v.others, limits.Others
	if create {
		window, limit = &v.creates, limits.Creates
	}
	ok, wait := window.admit(now, limit, limits.Window)
	v.mu.Unlock()
	if ok && create {
		v.stats.created(now)
	}
	return wait, !ok
}

func (v *vault) route(r *http.Request, apiVersion string) (*operation, *apiError) {
	segments := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	method := r.Method
	notAllowed := &apiError{status: http.StatusMethodNotAllowed, code: "BadParameter", message: fmt.Sprintf("The requested resource does not support http method '%s'.", method)}
	query := r.URL.Query()

	switch {
	case len(segments) == 1 && segments[0] == "secrets":
		if method != http.MethodGet {
			return nil, notAllowed
		}
		return &operation{name: OpGetSecrets, perm: PermList, run: func(w http.ResponseWriter) *apiError {
			return v.listSecrets(w, query, apiVersion)
		}}, nil
	case len(segments) == 2 && segments[0] == "secrets" && segments[1] == "restore" && method == http.MethodPost:
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		return &operation{name: OpRestoreSecret, perm: PermRestore, run: func(w http.ResponseWriter) *apiError {
			return v.restore(w, body)
		}}, nil
	case (len(segments) == 2 || len(segments) == 3 && segments[2] == "") && segments[0] == "secrets":
		name := segments[1]
		switch method {
		case http.MethodGet:
			return &operation{name: OpGetSecret, perm: PermGet, run: func(w http.ResponseWriter) *apiError { return v.get(w, name, "") }}, nil
		case http.MethodPut:
			if len(segments) == 3 {
				return nil, notAllowed
			}
			body, err := readBody(r)
			if err != nil {
				return nil, err
			}
			return &operation{name: OpSetSecret, perm: PermSet, create: true, run: func(w http.ResponseWriter) *apiError { return v.set(w, name, body) }}, nil
		case http.MethodPatch:
			body, err := readBody(r)
			if err != nil {
				return nil, err
			}
			return &operation{name: OpUpdateSecretProperties, perm: PermSet, run: func(w http.ResponseWriter) *apiError { return v.update(w, name, "", body) }}, nil
		case http.MethodDelete:
			if len(segments) == 3 {
				return nil, notAllowed
			}
			return &operation{name: OpDeleteSecret, perm: PermDelete, run: func(w http.ResponseWriter) *apiError { return v.delete(w, name) }}, nil
		}
		return nil, notAllowed
	case len(segments) == 3 && segments[0] == "secrets" && segments[2] == "versions" && method == http.MethodGet:
		name := segments[1]
		return &operation{name: OpGetSecretVersions, perm: PermList, run: func(w http.ResponseWriter) *apiError {
			return v.listVersions(w, name, query, apiVersion)
		}}, nil
	case len(segments) == 3 && segments[0] == "secrets" && segments[2] == "backup" && method == http.MethodPost:
		name := segments[1]
		return &operation{name: OpBackupSecret, perm: PermBackup, run: func(w http.ResponseWriter) *apiError { return v.backup(w, name) }}, nil
	case len(segments) == 3 && segments[0] == "secrets":
		name, version := segments[1], segments[2]
		switch method {
		case http.MethodGet:
			return &operation{name: OpGetSecret, perm: PermGet, run: func(w http.ResponseWriter) *apiError { return v.get(w, name, version) }}, nil
		case http.MethodPatch:
			body, err := readBody(r)
			if err != nil {
				return nil, err
			}
			return &operation{name: OpUpdateSecretProperties, perm: PermSet, run: func(w http.ResponseWriter) *apiError { return v.update(w, name, version, body) }}, nil
		}
		return nil, notAllowed
	case len(segments) == 1 && segments[0] == "deletedsecrets":
		if method != http.MethodGet {
			return nil, notAllowed
		}
		return &operation{name: OpGetDeletedSecrets, perm: PermList, run: func(w http.ResponseWriter) *apiError {
			return v.listDeleted(w, query, apiVersion)
		}}, nil
	case len(segments) == 2 && segments[0] == "deletedsecrets":
		name := segments[1]
		switch method {
		case http.MethodGet:
			return &operation{name: OpGetDeletedSecret, perm: PermGet, run: func(w http.ResponseWriter) *apiError { return v.getDeleted(w, name) }}, nil
		case http.MethodDelete:
			return &operation{name: OpPurgeDeletedSecret, perm: PermPurge, run: func(w http.ResponseWriter) *apiError { return v.purge(w, name) }}, nil
		}
		return nil, notAllowed
	case len(segments) == 3 && segments[0] == "deletedsecrets" && segments[2] == "recover":
		if method != http.MethodPost {
			return nil, notAllowed
		}
		name := segments[1]
		return &operation{name: OpRecoverDeletedSecret, perm: PermRecover, run: func(w http.ResponseWriter) *apiError { return v.recover(w, name) }}, nil
	}
	return nil, &apiError{status: http.StatusNotFound, code: "NotFound", message: fmt.Sprintf("The requested path %s was not found.", r.URL.Path)}
}

func readBody(r *http.Request) ([]byte, *apiError) {
	// Generous cap: a 25 KB value JSON-escaped stays far below it, and bigger
	// values must reach the size check to get its error.
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return nil, badParameter("The request body could not be read.")
	}
	return body, nil
}

func checkName(name string) *apiError {
	if !secretNamePattern.MatchString(name) {
		return badParameter("The request URI contains an invalid name: %s", name)
	}
	return nil
}

// active finds a secret that exists and is not soft-deleted, for the
// operations on live secrets; its 404 names the version asked for, if any.
// The caller holds v.mu.
func (v *vault) active(name, version string) (*secret, *apiError) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	s := v.secrets[lower(name)]
	if s == nil || s.deleted {
		if version != "" {
			return nil, secretNotFound(name + "/" + version)
		}
		return nil, secretNotFound(name)
	}
	return s, nil
}

// activeVersion finds a live secret's version: the one asked for, or the
// latest when version is "". The caller holds v.mu.
func (v *vault) activeVersion(name, version string) (*secret, *secretVersion, *apiError) {
	s, apiErr := v.active(name, version)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	if version == "" {
		return s, s.latest(), nil
	}
	if sv := s.version(version); sv != nil {
		return s, sv, nil
	}
	return nil, nil, secretNotFound(name + "/" + version)
}

func (v *vault) get(w http.ResponseWriter, name, version string) *apiError {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, sv, apiErr := v.activeVersion(name, version)
	if apiErr != nil {
		return apiErr
	}
	if !sv.Enabled {
		return &apiError{status: http.StatusForbidden, code: "Forbidden", message: "Operation get is not allowed on a disabled secret.", innerCode: "SecretDisabled"}
	}
	writeJSON(w, http.StatusOK, v.render(s, sv, true, true))
	return nil
}

// setRequest is the body of Set Secret.
type setRequest struct {
	Value       *string            `json:"value"`
	ContentType *string            `json:"contentType"`
	Tags        map[string]*string `json:"tags"`
	Attributes  *struct {
		Enabled   *bool        `json:"enabled"`
		NotBefore *json.Number `json:"nbf"`
		Expires   *json.Number `json:"exp"`
	} `json:"attributes"`
}

func decodeJSON(body []byte, v any) *apiError {
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.UseNumber()
	if err := decoder.Decode(v); err != nil {
		return badParameter("The request body is not valid JSON: %s", err.Error())
	}
	return nil
}

func unixSeconds(n *json.Number) (*int64, *apiError) {
	if n == nil {
		return nil, nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, badParameter("Invalid date value %s: dates are seconds since the Unix epoch.", n.String())
	}
	seconds := int64(f)
	return &seconds, nil
}

func checkTags(tags map[string]*string) (map[string]string, *apiError) {
	if tags == nil {
		return nil, nil
	}
	if len(tags) > maxTags {
		return nil, badParameter("The number of tags (%d) exceeds the maximum of %d tags.", len(tags), maxTags)
	}
	out := make(map[string]string, len(tags))
	for k, val := range tags {
		if k == "" || len([]rune(k)) > maxTagNameChars {
			return nil, badParameter("Tag name '%s' has an invalid length: tag names must be 1 to %d characters.", truncate(k, 40), maxTagNameChars)
		}
		value := ""
		if val != nil {
			value = *val
		}
		if len([]rune(value)) > maxTagValueChars {
			return nil, badParameter("The value of tag '%s' has an invalid length: tag values can have at most %d characters.", truncate(k, 40), maxTagValueChars)
		}
		out[k] = value
	}
	return out, nil
}

func checkContentType(contentType *string) *apiError {
	if contentType != nil && len([]rune(*contentType)) > maxContentTypeChars {
		return badParameter("Property contentType has an invalid length: content types can have at most %d characters.", maxContentTypeChars)
	}
	return nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

func newVersionID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (v *vault) set(w http.ResponseWriter, name string, body []byte) *apiError {
	if err := checkName(name); err != nil {
		return err
	}
	var req setRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Value == nil {
		return badParameter("Property value is required.")
	}
	if len(*req.Value) > maxSecretValueBytes {
		return badParameter("Property value has an invalid length: the secret value can be at most %d bytes, got %d.", maxSecretValueBytes, len(*req.Value))
	}
	if err := checkContentType(req.ContentType); err != nil {
		return err
	}
	tags, apiErr := checkTags(req.Tags)
	if apiErr != nil {
		return apiErr
	}
	now := time.Now().Unix()
	sv := &secretVersion{ID: newVersionID(), Value: *req.Value, ContentType: req.ContentType, Tags: tags, Enabled: true, Created: now, Updated: now}
	if a := req.Attributes; a != nil {
		if a.Enabled != nil {
			sv.Enabled = *a.Enabled
		}
		if sv.NotBefore, apiErr = unixSeconds(a.NotBefore); apiErr != nil {
			return apiErr
		}
		if sv.Expires, apiErr = unixSeconds(a.Expires); apiErr != nil {
			return apiErr
		}
	}

	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.secrets[lower(name)]
	switch {
	case s == nil:
		s = &secret{Name: name}
		v.secrets[lower(name)] = s
	case s.deleted:
		return secretInDeletedState(name)
	}
	s.Versions = append(s.Versions, sv)
	writeJSON(w, http.StatusOK, v.render(s, sv, true, true))
	return nil
}

func (v *vault) update(w http.ResponseWriter, name, version string, body []byte) *apiError {
	if err := checkName(name); err != nil {
		return err
	}
	// Members that are present replace what is stored; null clears.
	var fields map[string]json.RawMessage
	if err := decodeJSON(body, &fields); err != nil {
		return err
	}
	var req setRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if err := checkContentType(req.ContentType); err != nil {
		return err
	}
	tags, apiErr := checkTags(req.Tags)
	if apiErr != nil {
		return apiErr
	}
	var attributeFields map[string]json.RawMessage
	if raw, ok := fields["attributes"]; ok && !isNull(raw) {
		if err := decodeJSON(raw, &attributeFields); err != nil {
			return err
		}
	}
	var notBefore, expires *int64
	if req.Attributes != nil {
		if notBefore, apiErr = unixSeconds(req.Attributes.NotBefore); apiErr != nil {
			return apiErr
		}
		if expires, apiErr = unixSeconds(req.Attributes.Expires); apiErr != nil {
			return apiErr
		}
	}

	v.mu.Lock()
	defer v.mu.Unlock()
	s, sv, apiErr := v.activeVersion(name, version)
	if apiErr != nil {
		return apiErr
	}
	if _, ok := fields["contentType"]; ok {
		sv.ContentType = req.ContentType
	}
	if _, ok := fields["tags"]; ok {
		sv.Tags = tags
	}
	if _, ok := attributeFields["enabled"]; ok && req.Attributes.Enabled != nil {
		sv.Enabled = *req.Attributes.Enabled
	}
	if _, ok := attributeFields["nbf"]; ok {
		sv.NotBefore = notBefore
	}
	if _, ok := attributeFields["exp"]; ok {
		sv.Expires = expires
	}
	sv.Updated = time.Now().Unix()
	writeJSON(w, http.StatusOK, v.render(s, sv, true, false))
	return nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func (v *vault) delete(w http.ResponseWriter, name string) *apiError {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, apiErr := v.active(name, "")
	if apiErr != nil {
		return apiErr
	}
	now := time.Now()
	s.deleted = true
	s.deletedDate = now.Unix()
	s.scheduledPurgeDate = now.Add(recoverableDays * 24 * time.Hour).Unix()
	writeJSON(w, http.StatusOK, v.render(s, s.latest(), true, false))
	return nil
}

// softDeleted finds the soft-deleted secret the deleted-secret operations
// (get, recover, purge) act on. The caller holds v.mu.
func (v *vault) softDeleted(name string) (*secret, *apiError) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	s := v.secrets[lower(name)]
	if s == nil || !s.deleted {
		return nil, deletedSecretNotFound(name)
	}
	return s, nil
}

func (v *vault) getDeleted(w http.ResponseWriter, name string) *apiError {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, apiErr := v.softDeleted(name)
	if apiErr != nil {
		return apiErr
	}
	writeJSON(w, http.StatusOK, v.render(s, s.latest(), true, false))
	return nil
}

func (v *vault) recover(w http.ResponseWriter, name string) *apiError {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, apiErr := v.softDeleted(name)
	if apiErr != nil {
		return apiErr
	}
	s.deleted = false
	s.deletedDate, s.scheduledPurgeDate = 0, 0
	writeJSON(w, http.StatusOK, v.render(s, s.latest(), true, false))
	return nil
}

func (v *vault) purge(w http.ResponseWriter, name string) *apiError {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, apiErr := v.softDeleted(name); apiErr != nil {
		return apiErr
	}
	delete(v.secrets, lower(name))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Listing.

type pageItem struct {
	key  string // sort key, also the paging marker
	item secretJSON
}

type skipToken struct {
	NextMarker     string `json:"NextMarker"`
	TargetLocation int    `json:"TargetLocation"`
}

// page writes the items after the $skiptoken marker, at most maxresults of
// them, with an absolute nextLink when more remain.
func (v *vault) page(w http.ResponseWriter, path string, query url.Values, apiVersion string, items []pageItem) *apiError {
	pageSize := maxPageSize
	if raw := query.Get("maxresults"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageSize {
			return badParameter("Invalid value for maxresults: %s. The value must be between 1 and %d.", raw, maxPageSize)
		}
		pageSize = n
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
	start := 0
	if raw := query.Get("$skiptoken"); raw != "" {
		marker, err := decodeSkipToken(raw)
		if err != nil {
			return badParameter("The $skiptoken is invalid.")
		}
		start = sort.Search(len(items), func(i int) bool { return items[i].key > marker })
	}
	end := min(start+pageSize, len(items))
	out := listJSON{Value: make([]secretJSON, 0, end-start)}
	for _, it := range items[start:end] {
		out.Value = append(out.Value, it.item)
	}
	if end < len(items) {
		next := fmt.Sprintf("%s%s?api-version=%s&$skiptoken=%s&maxresults=%d",
			v.url, path, url.QueryEscape(apiVersion), encodeSkipToken(items[end-1].key), pageSize)
		out.NextLink = &next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func encodeSkipToken(marker string) string {
	inner := base64.RawURLEncoding.EncodeToString([]byte(marker))
	token, _ := json.Marshal(skipToken{NextMarker: inner})
	return base64.RawURLEncoding.EncodeToString(token)
}

func decodeSkipToken(raw string) (string, error) {
	token, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return "", err
	}
	var st skipToken
	if err := json.Unmarshal(token, &st); err != nil {
		return "", err
	}
	marker, err := base64.RawURLEncoding.DecodeString(st.NextMarker)
	return string(marker), err
}

func (v *vault) listSecrets(w http.ResponseWriter, query url.Values, apiVersion string) *apiError {
	v.mu.Lock()
	items := make([]pageItem, 0, len(v.secrets))
	for key, s := range v.secrets {
		if !s.deleted {
			items = append(items, pageItem{key: key, item: v.render(s, s.latest(), false, false)})
		}
	}
	v.mu.Unlock()
	return v.page(w, "secrets", query, apiVersion, items)
}

// listVersions lists a live secret's versions. A name with no live secret
// (never set, purged or soft-deleted) lists as an empty page, 200
// {"value":[],"nextLink":null}, not 404: that is the service's answer in the
// recording GetSecretVersionsNonExisting.json (see the package doc).
func (v *vault) listVersions(w http.ResponseWriter, name string, query url.Values, apiVersion string) *apiError {
	if err := checkName(name); err != nil {
		return err
	}
	v.mu.Lock()
	var items []pageItem
	if s := v.secrets[lower(name)]; s != nil && !s.deleted {
		name = s.Name
		items = make([]pageItem, 0, len(s.Versions))
		for i, sv := range s.Versions {
			items = append(items, pageItem{key: fmt.Sprintf("%010d", i), item: v.render(s, sv, true, false)})
		}
	}
	v.mu.Unlock()
	return v.page(w, "secrets/"+url.PathEscape(name)+"/versions", query, apiVersion, items)
}

func (v *vault) listDeleted(w http.ResponseWriter, query url.Values, apiVersion string) *apiError {
	v.mu.Lock()
	items := make([]pageItem, 0)
	for key, s := range v.secrets {
		if s.deleted {
			items = append(items, pageItem{key: key, item: v.render(s, s.latest(), false, false)})
		}
	}
	v.mu.Unlock()
	return v.page(w, "deletedsecrets", query, apiVersion, items)
}

// Backup and restore.

type backupValue struct {
	Value string `json:"value"`
}

func (v *vault) backup(w http.ResponseWriter, name string) *apiError {
	v.mu.Lock()
	s, apiErr := v.active(name, "")
	if apiErr != nil {
		v.mu.Unlock()
		return apiErr
	}
	plain, err := json.Marshal(s)
	v.mu.Unlock()
	if err != nil {
		return &apiError{status: http.StatusInternalServerError, code: "InternalServerError", message: "Backup failed."}
	}
	blob, err := v.e.sealBackup(plain)
	if err != nil {
		return &apiError{status: http.StatusInternalServerError, code: "InternalServerError", message: "Backup failed."}
	}
	writeJSON(w, http.StatusOK, backupValue{Value: base64.RawURLEncoding.EncodeToString(blob)})
	return nil
}

func (v *vault) restore(w http.ResponseWriter, body []byte) *apiError {
	var req backupValue
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Value == "" {
		return badParameter("Property value is required.")
	}
	blob, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(req.Value, "="))
	if err != nil {
		return badParameter("Backup blob is not valid base64url.")
	}
	plain, err := v.e.openBackup(blob)
	if err != nil {
		return malformedBackup()
	}
	var restored secret
	if err := json.Unmarshal(plain, &restored); err != nil || len(restored.Versions) == 0 || !secretNamePattern.MatchString(restored.Name) {
		return malformedBackup()
	}

	v.mu.Lock()
	defer v.mu.Unlock()
	if existing := v.secrets[lower(restored.Name)]; existing != nil {
		if existing.deleted {
			return secretInDeletedState(restored.Name)
		}
		return &apiError{status: http.StatusConflict, code: "Conflict", message: fmt.Sprintf(
			"There was a conflict restoring the secret '%s'. This can happen if the secret already exists in the vault or was deleted and is pending purge.", v.secretID(restored.Name, ""))}
	}
	v.secrets[lower(restored.Name)] = &restored
	writeJSON(w, http.StatusOK, v.render(&restored, restored.latest(), true, false))
	return nil
}
