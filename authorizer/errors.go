package authorizer

import "errors"

// Sentinel errors, one per outcome. Handle maps them to API Gateway results in
// one place (see respond): token errors become "Unauthorized" (401), ErrNoRole
// and ErrRoleNotListed become a Deny policy (403), ErrKeysUnavailable and
// ErrBadMethodARN become a different error (500). Compare with errors.Is.
var (
	// ErrNoToken means authorizationToken is empty.
	ErrNoToken = errors.New("authorizer: no token")
	// ErrTooLarge means authorizationToken is over the size cap; it is refused before any parsing work.
	ErrTooLarge = errors.New("authorizer: token too large")
	// ErrMalformed means the token is not a bare or Bearer compact JWS of three canonical base64url parts with a
	// JSON header and claims of the expected types.
	ErrMalformed = errors.New("authorizer: malformed token")
	// ErrAlgorithm means the header's alg is not RS256, or differs from the JWK's alg.
	ErrAlgorithm = errors.New("authorizer: algorithm not allowed")
	// ErrForbiddenHeader means the header carries crit, jku, x5u, jwk or x5c.
	ErrForbiddenHeader = errors.New("authorizer: forbidden header parameter")
	// ErrUnknownKey means the header has no kid, or the pool's key set has no usable key with that kid.
	ErrUnknownKey = errors.New("authorizer: unknown signing key")
	// ErrBadSignature means the RS256 signature does not verify.
	ErrBadSignature = errors.New("authorizer: bad signature")
	// ErrExpired means exp is not after now minus the clock skew.
	ErrExpired = errors.New("authorizer: token expired")
	// ErrNotYetValid means nbf is after now plus the clock skew.
	ErrNotYetValid = errors.New("authorizer: token not yet valid")
	// ErrIssuedInFuture means iat is after now plus the clock skew.
	ErrIssuedInFuture = errors.New("authorizer: token issued in the future")
	// ErrWrongIssuer means iss is not the configured issuer.
	ErrWrongIssuer = errors.New("authorizer: wrong issuer")
	// ErrWrongAudience means aud is not one of the configured app client ids.
	ErrWrongAudience = errors.New("authorizer: wrong audience")
	// ErrWrongTokenUse means token_use is not "id": access tokens are refused.
	ErrWrongTokenUse = errors.New("authorizer: wrong token_use")
	// ErrMissingClaim means a required claim (sub, exp, iat) is absent or empty.
	ErrMissingClaim = errors.New("authorizer: missing claim")
	// ErrNoRole means a valid token has no cognito:preferred_role (Deny).
	ErrNoRole = errors.New("authorizer: no preferred role")
	// ErrRoleNotListed means cognito:preferred_role is not in cognito:roles (Deny).
	ErrRoleNotListed = errors.New("authorizer: preferred role not in cognito:roles")
	// ErrKeysUnavailable means no key set could be obtained: our problem, not the caller's (500).
	ErrKeysUnavailable = errors.New("authorizer: signing keys unavailable")
	// ErrBadMethodARN means methodArn is not an execute-api method ARN (500: API Gateway never sends one).
	ErrBadMethodARN = errors.New("authorizer: malformed methodArn")
)

// outcome is what API Gateway is told.
type outcome string

const (
	outcomeAllow        outcome = "allow"
	outcomeDeny         outcome = "deny"
	outcomeUnauthorized outcome = "unauthorized"
	outcomeError        outcome = "error"
)

// verdict is an index into verdicts: a class of outcome.
type verdict int

// verdicts are the classes classify chooses from: each sentinel with the
// outcome it gets and the reason class that is logged for it (never the token
// or anything derived from it). They are tested in this order; the first is
// nil's and the last is for an error that matches no sentinel. Read-only: the
// Handler pre-formats a log prefix for each.
var verdicts = [...]struct {
	err     error
	outcome outcome
	reason  string
}{
	{nil, outcomeAllow, "ok"},
	{ErrNoRole, outcomeDeny, "no_role"},
	{ErrRoleNotListed, outcomeDeny, "role_not_listed"},
	{ErrKeysUnavailable, outcomeError, "keys_unavailable"},
	{ErrBadMethodARN, outcomeError, "bad_method_arn"},
	{ErrNoToken, outcomeUnauthorized, "no_token"},
	{ErrTooLarge, outcomeUnauthorized, "too_large"},
	{ErrMalformed, outcomeUnauthorized, "malformed"},
	{ErrAlgorithm, outcomeUnauthorized, "algorithm"},
	{ErrForbiddenHeader, outcomeUnauthorized, "forbidden_header"},
	{ErrUnknownKey, outcomeUnauthorized, "unknown_key"},
	{ErrBadSignature, outcomeUnauthorized, "bad_signature"},
	{ErrExpired, outcomeUnauthorized, "expired"},
	{ErrNotYetValid, outcomeUnauthorized, "not_yet_valid"},
	{ErrIssuedInFuture, outcomeUnauthorized, "issued_in_future"},
	{ErrWrongIssuer, outcomeUnauthorized, "wrong_issuer"},
	{ErrWrongAudience, outcomeUnauthorized, "wrong_audience"},
	{ErrWrongTokenUse, outcomeUnauthorized, "wrong_token_use"},
	{ErrMissingClaim, outcomeUnauthorized, "missing_claim"},
	// A bug: an error (500), never an Allow.
	{nil, outcomeError, "internal"},
}

// classify returns the verdict for err: nil is an Allow, and an error that
// matches no sentinel is the last verdict, an error.
func classify(err error) verdict {
	if err == nil {
		return 0
	}
	for i := 1; i < len(verdicts)-1; i++ {
		if errors.Is(err, verdicts[i].err) {
			return verdict(i)
		}
	}
	return verdict(len(verdicts) - 1)
}
