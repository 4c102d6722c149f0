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

// classify returns the outcome and the reason class that is logged for err
// (never the token or anything derived from it). nil is an Allow. An error that
// matches no sentinel is a bug: it is an error (500), never an Allow.
func classify(err error) (outcome, string) {
	switch {
	case err == nil:
		return outcomeAllow, "ok"
	case errors.Is(err, ErrNoRole):
		return outcomeDeny, "no_role"
	case errors.Is(err, ErrRoleNotListed):
		return outcomeDeny, "role_not_listed"
	case errors.Is(err, ErrKeysUnavailable):
		return outcomeError, "keys_unavailable"
	case errors.Is(err, ErrBadMethodARN):
		return outcomeError, "bad_method_arn"
	case errors.Is(err, ErrNoToken):
		return outcomeUnauthorized, "no_token"
	case errors.Is(err, ErrTooLarge):
		return outcomeUnauthorized, "too_large"
	case errors.Is(err, ErrMalformed):
		return outcomeUnauthorized, "malformed"
	case errors.Is(err, ErrAlgorithm):
		return outcomeUnauthorized, "algorithm"
	case errors.Is(err, ErrForbiddenHeader):
		return outcomeUnauthorized, "forbidden_header"
	case errors.Is(err, ErrUnknownKey):
		return outcomeUnauthorized, "unknown_key"
	case errors.Is(err, ErrBadSignature):
		return outcomeUnauthorized, "bad_signature"
	case errors.Is(err, ErrExpired):
		return outcomeUnauthorized, "expired"
	case errors.Is(err, ErrNotYetValid):
		return outcomeUnauthorized, "not_yet_valid"
	case errors.Is(err, ErrIssuedInFuture):
		return outcomeUnauthorized, "issued_in_future"
	case errors.Is(err, ErrWrongIssuer):
		return outcomeUnauthorized, "wrong_issuer"
	case errors.Is(err, ErrWrongAudience):
		return outcomeUnauthorized, "wrong_audience"
	case errors.Is(err, ErrWrongTokenUse):
		return outcomeUnauthorized, "wrong_token_use"
	case errors.Is(err, ErrMissingClaim):
		return outcomeUnauthorized, "missing_claim"
	}
	return outcomeError, "internal"
}
