// Package kvemulator emulates the Azure Key Vault secrets data plane and the
// part of Entra ID (Azure AD) that a client-secret credential uses, so that
// the real azsecrets client with a real azidentity.ClientSecretCredential can
// be tested without an Azure account. It is for tests and local stacks only.
//
// # Listeners
//
// Everything is HTTPS on 127.0.0.1 with a certificate issued by a CA that
// Start generates (ECDSA P-256; SANs 127.0.0.1, ::1, localhost) and writes to
// Options.Dir/kv-ca.pem. HTTP/2 is off so that faults can drop connections.
//
//   - The identity listener (AuthorityHost) serves Entra ID:
//     GET /{tenant}/v2.0/.well-known/openid-configuration,
//     GET /common/discovery/instance, GET /{tenant}/discovery/v2.0/keys and
//     POST /{tenant}/oauth2/v2.0/token (grant_type=client_credentials,
//     client_id, client_secret, scope=https://vault.azure.net/.default).
//     Tokens are ES256 JWTs (aud https://vault.azure.net, iss
//     https://sts.windows.net/{tenant}/, tid, appid, azp, oid, iat, nbf, exp).
//     A wrong secret answers 401 invalid_client (AADSTS7000215), an unknown
//     client 400 unauthorized_client (AADSTS700016); azidentity reports both
//     as *azidentity.AuthenticationFailedError.
//   - Every vault has its own listener, "https://127.0.0.1:PORT/", serving the
//     secrets API exactly as azsecrets v1.5.1 calls it (api-version
//     2026-04-01; 2025-07-01 and 7.0-7.6 are accepted too).
//   - The admin API is on the identity listener under AdminURL.
//
// # Client configuration
//
// MSAL sends instance discovery for an unknown authority host to
// login.microsoftonline.com, so credentials must set DisableInstanceDiscovery.
// A working setup:
//
//	transport := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.CACertPool()}}}
//	cred, _ := azidentity.NewClientSecretCredential(e.TenantID(), clientID, clientSecret,
//		&azidentity.ClientSecretCredentialOptions{
//			ClientOptions: azcore.ClientOptions{
//				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost()},
//				Transport: transport,
//			},
//			DisableInstanceDiscovery: true,
//		})
//	client, _ := azsecrets.NewClient(vaultURL, cred, &azsecrets.ClientOptions{
//		ClientOptions:                        azcore.ClientOptions{Transport: transport},
//		DisableChallengeResourceVerification: true,
//	})
//
// # Behaviour
//
// Requests without a valid token (missing, bad signature, wrong audience or
// tenant, expired) get 401 with
// WWW-Authenticate: Bearer authorization="{AuthorityHost}{tenant}", resource="https://vault.azure.net";
// a request with no Authorization header at all gets the recorded body
// {"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}.
// Authorization then follows the vault access policies set with
// SetAccessPolicy (403 Forbidden, innererror AccessDenied). Errors use the
// service's body {"error":{"code":...,"message":...}}: 404 SecretNotFound,
// 409 Conflict (name soft-deleted, or restore of an existing name), 403
// Forbidden/SecretDisabled when reading a disabled version, 400 BadParameter
// for invalid names (^[0-9a-zA-Z-]{1,127}$), values over 25,600 bytes, more
// than 15 tags, tag names over 512 or values over 256 characters, content
// types over 255 characters, bad maxresults (1-25) and unknown api-versions.
// Listing the versions of a name with no live secret (never set, purged or
// soft-deleted) is not a 404: it answers 200 with one empty page,
// {"value":[],"nextLink":null}, as the service does. Lists page with
// maxresults (default 25) and an absolute nextLink carrying $skiptoken. Delete is a soft delete (recoverable for 90 days: recover or
// purge); the deleted state is visible immediately, unlike the service where
// it can take a few seconds. The nbf and exp attributes are stored and
// returned but not enforced. Backups are opaque blobs (AES-GCM with a
// per-emulator key) restorable into any vault of the same emulator; restoring
// bytes that are not such a blob (tampered, from elsewhere, or arbitrary)
// answers 400 with the service's code "Malformed backup blob" and message
// "Backup blob is corrupt." (a value that is not base64url at all, which no
// SDK sends, is 400 BadParameter: that case is not recorded). Every vault
// answer carries the service's Cache-Control, Pragma, Expires,
// X-Content-Type-Options, Strict-Transport-Security and x-ms-request-id
// headers, and echoes x-ms-client-request-id.
//
// Throttling, when on (Options.Throttle, SetThrottle), follows the two
// classes of Key Vault's documented limits for "Secrets, managed storage
// account keys, and vault transactions" (maximum transactions allowed in 10
// seconds, per vault per region: "Secret CREATE secret" 300, "All other
// transactions" 4,000; https://learn.microsoft.com/en-us/azure/key-vault/general/service-limits,
// as published in MicrosoftDocs/azure-docs includes/key-vault-limits.md). Per
// vault, each class has its own sliding window: Limits.Creates counts Set
// Secret (PUT /secrets/{name}, a new version) and Limits.Others every other
// secrets operation (get, list, list versions, update properties, delete,
// get/list deleted, recover, backup, restore, purge). Beyond that the answer
// is 429 code Throttled with Retry-After in whole seconds until a slot of
// that class frees. As the throttling guidance
// (https://learn.microsoft.com/en-us/azure/key-vault/general/overview-throttling)
// says, requests answered 429 do not count towards the limits. Not
// simulated: the subscription-wide limit (five times the per-vault limit),
// the weighting of key and certificate operations (the emulator has
// secrets only) and the region (each emulator vault is its own region).
//
// # Request accounting
//
// RequestCounts reports how many requests the vaults answered, by operation
// name (OpSetSecret "SetSecret", OpGetSecret "GetSecret", ...; Throttled,
// Unauthorized and Invalid for requests refused before they ran), and
// CreateTimes when each vault accepted each create, so a test can check that
// no window of 10 seconds saw more than the limit (MaxCreatesPerWindow,
// MaxInWindow). ResetRequestCounts starts both over.
//
// # Faults
//
// InjectFault makes the next Count matching requests (or all, with Count 0,
// until ClearFaults) misbehave; see Fault for the actions. The two delay
// actions differ in what happens to a held write whose client gives up (its
// timeout or cancelled context closes the connection, or its process dies)
// before the hold ends: "delay" drops it, nothing is applied; "delay_land"
// applies it anyway when the delay ends or the fault is removed (the write
// was on the wire and lands after its client gave up). A client still
// waiting when the hold ends is served normally by both. Held reports how
// many calls a delay fault still holds: a dropped call leaves the count as
// soon as the emulator sees the disconnect. Close aborts held calls of both
// actions unanswered and unapplied. Vault faults only
// count requests that carry an Authorization header, so azsecrets' challenge
// probe never consumes one. Identity endpoints are affected only by faults
// with an empty Vault and a Path matching them (for example "/oauth2/").
//
// # Admin API
//
// JSON over HTTPS at AdminURL (same CA), for tooling that is not Go:
//
//	POST   {admin}/faults                 body: Fault as JSON ({"vault","method","path","count","action","status","code","message","retryAfter","body","contentType","delay":"30s"}) -> 201 {"id":"fault-1"}
//	GET    {admin}/faults                 -> active faults
//	                                      (action: status, delay, delay_land, drop, drop_after, body, corrupt_value)
//	DELETE {admin}/faults                 -> 204; also releases held requests
//	DELETE {admin}/faults/{id}            -> 204 (404 if unknown); removes one fault, releasing the calls it holds
//	GET    {admin}/throttle               -> {"enabled":false,"creates":300,"others":4000,"window":"10s"}
//	PUT    {admin}/throttle               body: {"enabled":true,"creates":300,"others":4000,"window":"10s"} (omitted fields unchanged) -> current settings
//	GET    {admin}/requests               -> {"SetSecret":2000,"GetSecret":1000,"Throttled":3,...} (RequestCounts)
//	DELETE {admin}/requests               -> 204 (ResetRequestCounts)
//	GET    {admin}/vaults/{name}/creates  -> ["2026-01-02T03:04:05.123456789Z",...] (CreateTimes, UTC, oldest first)
//	GET    {admin}/vaults                 -> [{"name":"orders","url":"https://127.0.0.1:PORT/"}]
//	PUT    {admin}/vaults/{name}          -> {"name":...,"url":...} (idempotent)
//	PUT    {admin}/clients/{clientId}     body: {"secret":"..."} -> 204
//	PUT    {admin}/vaults/{name}/access-policies/{clientId}  body: {"permissions":["get","list",...]} -> 204
//
// Errors are {"error":"..."} with status 400.
//
// # Sources
//
// The API surface is the one azsecrets v1.5.1 calls; limits, error codes
// and messages follow Key Vault's documentation. Where an answer of the real
// service was recorded, the emulator answers as recorded, byte for byte for
// the bodies. The recordings are the Azure SDK for .NET's session records of
// the live service, in the repository Azure/azure-sdk-for-net under
// sdk/keyvault/Azure.Security.KeyVault.Secrets/tests/SessionRecords/SecretClientLiveTests/
// (recorded 2023-03-01, api-version 7.4, x-ms-keyvault-service-version
// 1.9.713.1):
//
//   - GetSecretVersionsNonExisting.json: GET /secrets/{name}/versions for a
//     name that never existed answers 200 {"value":[],"nextLink":null}
//     (Content-Length 28), not 404. Its first entry, the unauthenticated
//     probe, answers 401 with WWW-Authenticate
//     Bearer authorization="https://login.windows.net/{tenant}", resource="https://vault.azure.net",
//     Content-Type application/json; charset=utf-8 and the body
//     {"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}
//     (Content-Length 97). Listing the versions of a soft-deleted secret is
//     not recorded; the emulator answers it the same way, as the live
//     secret list omits soft-deleted secrets too.
//   - RestoreMalformedBackup.json: POST /secrets/restore with
//     {"value":"bm9uLWV4aXN0aW5n"} (base64 of "non-existing") answers 400
//     {"error":{"code":"Malformed backup blob","message":"Backup blob is corrupt."}}
//     (Content-Length 78); its probe answers the same 401 as above.
//
// An older recording of RestoreMalformedBackup.json (2021, api-version 7.1)
// has the 401 message without the "AKV10000: " prefix; the emulator follows
// the newer one. TestRecordedExchanges replays these requests and compares.
package kvemulator
