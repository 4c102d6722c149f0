package local

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"
)

// IDTokenLifetime is how long a minted ID token lives (the template's
// IdTokenValidity).
const IDTokenLifetime = time.Hour

// PreferredRole picks cognito:preferred_role for a member of groups, as
// Cognito does: the role of the group with the lowest Precedence. When the
// lowest Precedence is shared by groups with different roles there is no
// preferred role, and "" is returned. Groups without a role take no part.
func PreferredRole(groups []Group) string {
	best, role, tie := NoPrecedence, "", false
	seen := false
	for _, g := range groups {
		arn := g.RoleARN()
		if arn == "" {
			continue
		}
		switch {
		case !seen || g.Precedence < best:
			best, role, tie, seen = g.Precedence, arn, false, true
		case g.Precedence == best && arn != role:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return role
}

// TokenRequest describes an ID token to mint.
type TokenRequest struct {
	User   string
	Groups []string
	// Expired makes a token that expired an hour ago.
	Expired bool
	// Extra claims override the built ones; a nil value removes a claim.
	Extra map[string]any
}

// IDClaims builds the claims Cognito puts in an ID token of the local pool
// for req.User: cognito:groups, cognito:roles from the groups' roles, and
// cognito:preferred_role by precedence. An unknown group is an error, so a
// typo does not quietly mint a token without a role.
func (s Settings) IDClaims(iss *Issuer, req TokenRequest, now time.Time) (map[string]any, error) {
	if req.User == "" {
		return nil, fmt.Errorf("a user name is required")
	}
	var groups []Group
	for _, name := range req.Groups {
		g, ok := s.Group(name)
		if !ok {
			return nil, fmt.Errorf("unknown group %q (the template defines: %s)", name, strings.Join(s.GroupNames(), ", "))
		}
		if !slices.ContainsFunc(groups, func(x Group) bool { return x.Name == name }) {
			groups = append(groups, g)
		}
	}
	issued := now
	if req.Expired {
		issued = now.Add(-IDTokenLifetime - time.Hour)
	}
	email := req.User
	if !strings.Contains(email, "@") {
		email += "@example.com"
	}
	c := map[string]any{
		"sub":              iss.Sub(req.User),
		"iss":              iss.URL(),
		"aud":              iss.ClientID,
		"token_use":        "id",
		"auth_time":        issued.Unix(),
		"iat":              issued.Unix(),
		"exp":              issued.Add(IDTokenLifetime).Unix(),
		"cognito:username": req.User,
		"email":            email,
		"email_verified":   true,
		"event_id":         newUUID(),
		"origin_jti":       newUUID(),
		"jti":              newUUID(),
	}
	if len(groups) > 0 {
		names := make([]string, 0, len(groups))
		var roles []string
		for _, g := range groups {
			names = append(names, g.Name)
			if a := g.RoleARN(); a != "" && !slices.Contains(roles, a) {
				roles = append(roles, a)
			}
		}
		c["cognito:groups"] = names
		if len(roles) > 0 {
			c["cognito:roles"] = roles
		}
		if p := PreferredRole(groups); p != "" {
			c["cognito:preferred_role"] = p
		}
	}
	for k, v := range req.Extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c, nil
}

// Sub is user's sub in the local pool: UUID-shaped and stable, so the same
// user keeps one identity (and one cached STS session) across tokens.
func (i *Issuer) Sub(user string) string {
	sum := sha256.Sum256([]byte(i.PoolID + "/" + user))
	sum[6] = sum[6]&0x0f | 0x40
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// randomID returns n characters from alphabet, the shape of Cognito's ids.
func randomID(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
