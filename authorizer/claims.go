package authorizer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/arn"
)

// claims are the ID token claims the authorizer uses, decoded once, after the
// signature verifies. Types are strict: a string exp, a non-integer date, an
// array aud or a non-string sub make the whole token malformed.
type claims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	TokenUse string `json:"token_use"`
	// Cognito ID tokens carry aud as one string. An array, even of one, is
	// refused rather than guessing which member was meant.
	Aud string `json:"aud"`
	// NumericDates as integers: Cognito never emits fractions, and 0 (or null) reads as absent.
	Exp int64 `json:"exp"`
	Iat int64 `json:"iat"`
	Nbf int64 `json:"nbf"`

	Username      string   `json:"cognito:username"`
	Email         string   `json:"email"`
	EmailVerified verified `json:"email_verified"`
	Groups        []string `json:"cognito:groups"`
	Roles         roleList `json:"cognito:roles"`
	PreferredRole string   `json:"cognito:preferred_role"`
}

// verified is email_verified: true only for the JSON boolean true or the string
// "true" (Cognito emits both). Anything else, absent included, is unverified.
type verified bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *verified) UnmarshalJSON(b []byte) error {
	*v = verified(string(b) == "true" || string(b) == `"true"`)
	return nil
}

// roleList is cognito:roles: an array of role ARNs, or the same comma-separated in one string.
type roleList struct {
	present bool
	arns    []string
}

// UnmarshalJSON implements json.Unmarshaler. null counts as present and
// empty, so it can never make a preferred role "listed".
func (r *roleList) UnmarshalJSON(b []byte) error {
	r.present, r.arns = true, nil
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		for arn := range strings.SplitSeq(s, ",") {
			if arn = strings.TrimSpace(arn); arn != "" {
				r.arns = append(r.arns, arn)
			}
		}
		return nil
	}
	return json.Unmarshal(b, &r.arns)
}

// check applies the claim rules at now. Role rules are separate (roles) because
// their failure is a Deny of a known user, not an invalid token.
func (h *Handler) check(c *claims, now time.Time) error {
	// The issuer was checked before the signature (Handler.verify): it chose the keys.
	switch {
	case c.TokenUse != "id":
		// Access tokens carry no aud and no roles; named here, before aud, so the log says what they are.
		return errWrongTokenUse
	case !slices.Contains(h.clients, c.Aud):
		return errWrongAudience
	case c.Sub == "":
		return fmt.Errorf("%w: sub", errMissingClaim)
	case c.Exp == 0:
		return fmt.Errorf("%w: exp", errMissingClaim)
	case c.Iat == 0:
		return fmt.Errorf("%w: iat", errMissingClaim)
	}
	// Whole seconds on both sides: time.Unix would overflow on a far-future date, and for an
	// integer date d and any instant x, d <= x exactly when d <= floor(x).
	earliest, latest := now.Add(-h.skew).Unix(), now.Add(h.skew).Unix()
	switch {
	case c.Exp <= earliest:
		return errExpired
	case c.Iat > latest:
		return errIssuedInFuture
	case c.Nbf != 0 && c.Nbf > latest:
		return errNotYetValid
	}
	return nil
}

// roles returns the roles a valid token's user may run with, and the preferred
// one among them: "" when Cognito set none (groups tied on precedence). The
// roles are cognito:roles, or the preferred role alone when that claim is
// absent. Every one must be an IAM role ARN without ',' (the context list's
// separator, which IAM allows in names): one bad role denies the token, since
// the pool that signed it is misconfigured.
func roles(c *claims) (preferred string, all []string, err error) {
	all = c.Roles.arns
	if !c.Roles.present && c.PreferredRole != "" {
		all = []string{c.PreferredRole}
	}
	switch {
	case c.Roles.present && c.PreferredRole != "" && !slices.Contains(all, c.PreferredRole):
		return "", nil, errRoleNotListed
	case len(all) == 0:
		return "", nil, errNoRole
	}
	for _, r := range all {
		if _, err := arn.ParseRole(r); err != nil || strings.Contains(r, ",") {
			return "", nil, fmt.Errorf("%w (%d bytes)", errBadRole, len(r))
		}
	}
	return c.PreferredRole, all, nil
}
