package backend

import (
	"fmt"
	"slices"
	"strings"
)

// What the backend trusts for the caller (Config.RoleSource, ROLE_SOURCE).
const (
	// RoleSourceRolegate reads only the context rolegate's authorizer wrote:
	// requestContext.authorizer (REST), requestContext.authorizer.lambda (HTTP API).
	RoleSourceRolegate = "rolegate"
	// RoleSourceJWT reads only the claims API Gateway's JWT authorizer
	// validated: requestContext.authorizer.claims (REST, with their JSON
	// types), requestContext.authorizer.jwt.claims (HTTP API, as strings).
	RoleSourceJWT = "jwt"
)

// claimsContext turns JWT authorizer claims into the context rolegate's
// authorizer would have written for them, after the checks rolegate's
// authorizer makes and a JWT authorizer does not: token_use is id (a JWT
// authorizer accepts access tokens on client_id), and iss is one of the
// configured pools' (a JWT authorizer may trust other issuers, whose tokens
// could carry made-up cognito:roles). The roles are then read as rolegate's.
// Each claim is read in its payload's one form: JSON types from a REST API;
// strings from an HTTP API, an array as "[a b]".
func claimsContext(req *Request, issuers []string) (map[string]any, error) {
	if req.claims == nil {
		return nil, fmt.Errorf("%w: no JWT authorizer claims", errBadContext)
	}
	var bad []string
	str := func(k string) string {
		v, ok := req.claims[k].(string)
		if _, present := req.claims[k]; present && !ok {
			bad = append(bad, k)
		}
		return v
	}
	list := func(k string) string {
		var items []string
		if req.claimStrings {
			s := str(k)
			inner, open := strings.CutPrefix(s, "[")
			inner, closed := strings.CutSuffix(inner, "]")
			if s != "" && !(open && closed) {
				bad = append(bad, k)
			}
			items = strings.Fields(inner)
		} else if v, present := req.claims[k]; present {
			a, ok := v.([]any)
			for _, e := range a {
				s, isStr := e.(string)
				ok = ok && isStr && !strings.Contains(s, ",")
				items = append(items, s)
			}
			if !ok {
				bad = append(bad, k)
			}
		}
		return strings.Join(items, ",")
	}
	ctx := map[string]any{"sub": str("sub"), "username": str("cognito:username"), "groups": list("cognito:groups"),
		"roles": list("cognito:roles"), "preferredRole": str("cognito:preferred_role")}
	verified := req.claims["email_verified"]
	if email := str("email"); email != "" && (verified == true || req.claimStrings && verified == "true") {
		ctx["email"] = email
	}
	switch use, iss := str("token_use"), str("iss"); {
	case len(bad) > 0:
		return nil, fmt.Errorf("%w: claims %v are not in the JWT authorizer's form", errBadContext, bad)
	case use != "id":
		return nil, fmt.Errorf("%w: token_use %q", errNotIDToken, use)
	case !slices.Contains(issuers, iss):
		return nil, fmt.Errorf("%w: iss %q", errWrongIssuer, iss)
	}
	return ctx, nil
}
