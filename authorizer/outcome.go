package authorizer

import "errors"

// outcome is what API Gateway is told: an Allow or Deny policy, the
// "Unauthorized" error (401), or any other error (500).
type outcome string

const (
	allowed      outcome = "allow"
	denied       outcome = "deny"
	unauthorized outcome = "unauthorized"
	failed       outcome = "error"
)

// rejection is why a token is not Allowed: the outcome it gets and the reason
// class that is logged and counted for it (never the token or anything derived
// from it). Errors of this package are rejections, wrapped with detail.
type rejection struct {
	outcome outcome
	reason  string
}

func (r *rejection) Error() string { return "authorizer: " + r.reason }

// The rejections. Adding a claim check is one value here and one check.
var (
	errNoToken         = &rejection{unauthorized, "no_token"}
	errTooLarge        = &rejection{unauthorized, "too_large"}
	errMalformed       = &rejection{unauthorized, "malformed"}
	errAlgorithm       = &rejection{unauthorized, "algorithm"}
	errForbiddenHeader = &rejection{unauthorized, "forbidden_header"}
	errUnknownKey      = &rejection{unauthorized, "unknown_key"}
	errBadSignature    = &rejection{unauthorized, "bad_signature"}
	errExpired         = &rejection{unauthorized, "expired"}
	errNotYetValid     = &rejection{unauthorized, "not_yet_valid"}
	errIssuedInFuture  = &rejection{unauthorized, "issued_in_future"}
	errWrongIssuer     = &rejection{unauthorized, "wrong_issuer"}
	errWrongAudience   = &rejection{unauthorized, "wrong_audience"}
	errWrongTokenUse   = &rejection{unauthorized, "wrong_token_use"}
	errMissingClaim    = &rejection{unauthorized, "missing_claim"}
	errNoRole          = &rejection{denied, "no_role"}
	errRoleNotListed   = &rejection{denied, "role_not_listed"}
	errBadRole         = &rejection{denied, "bad_role"}
	errKeysUnavailable = &rejection{failed, "keys_unavailable"}
	errBadMethodARN    = &rejection{failed, "bad_method_arn"}
	errBadEvent        = &rejection{failed, "bad_event"}
	errInternal        = &rejection{failed, "internal"}
)

// classify returns the rejection err wraps. An error that wraps none is a bug:
// an error (500), never an Allow.
func classify(err error) *rejection {
	if r, ok := errors.AsType[*rejection](err); ok {
		return r
	}
	return errInternal
}
