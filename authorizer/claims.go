package authorizer

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
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

	// Room for the usual few groups and roles: decoding an array into a
	// slice reuses its capacity, so these cost no allocations of their own.
	groups, roles [4]string
}

// newClaims returns empty claims ready to decode into.
func newClaims() *claims {
	c := new(claims)
	c.Groups, c.Roles.arns = c.groups[:0], c.roles[:0]
	return c
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

// UnmarshalJSON implements json.Unmarshaler (encoding/json; v2 uses UnmarshalJSONFrom).
// null counts as present and empty, so it can never make a preferred role "listed".
func (r *roleList) UnmarshalJSON(b []byte) error {
	r.present, r.arns = true, r.arns[:0]
	switch {
	case bytes.Equal(b, []byte("null")):
		r.arns = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := unmarshal(b, &s); err != nil {
			return err
		}
		r.arns = splitRoles(r.arns, s)
		return nil
	}
	return unmarshal(b, &r.arns)
}

// splitRoles appends the roles of the comma-separated form of cognito:roles to arns.
func splitRoles(arns []string, s string) []string {
	for arn := range strings.SplitSeq(s, ",") {
		if arn = strings.TrimSpace(arn); arn != "" {
			arns = append(arns, arn)
		}
	}
	return arns
}

// validator holds the claim rules fixed at construction.
type validator struct {
	issuer  string
	clients []string
	skew    time.Duration
}

// check applies the claim rules at now. Role rules are separate (role) because
// their failure is a Deny of a known user, not an invalid token.
func (v *validator) check(c *claims, now time.Time) error {
	switch {
	case c.Iss != v.issuer:
		return ErrWrongIssuer
	case c.TokenUse != "id":
		// Access tokens carry no aud and no roles; named here, before aud, so the log says what they are.
		return ErrWrongTokenUse
	case !slices.Contains(v.clients, c.Aud):
		return ErrWrongAudience
	case c.Sub == "":
		return fmt.Errorf("%w: sub", ErrMissingClaim)
	case c.Exp == 0:
		return fmt.Errorf("%w: exp", ErrMissingClaim)
	case c.Iat == 0:
		return fmt.Errorf("%w: iat", ErrMissingClaim)
	}
	// Whole seconds on both sides: time.Unix would overflow on a far-future date, and for an
	// integer date d and any instant x, d <= x exactly when d <= floor(x).
	earliest, latest := now.Add(-v.skew).Unix(), now.Add(v.skew).Unix()
	switch {
	case c.Exp <= earliest:
		return ErrExpired
	case c.Iat > latest:
		return ErrIssuedInFuture
	case c.Nbf != 0 && c.Nbf > latest:
		return ErrNotYetValid
	}
	return nil
}

// role returns the preferred role of a valid token, or why there is none usable.
func role(c *claims) (string, error) {
	switch {
	case c.PreferredRole == "":
		return "", ErrNoRole
	case c.Roles.present && !slices.Contains(c.Roles.arns, c.PreferredRole):
		return "", ErrRoleNotListed
	}
	return c.PreferredRole, nil
}
