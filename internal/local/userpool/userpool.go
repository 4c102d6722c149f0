// Package userpool does what an Amazon Cognito user pool does when it issues
// a token, for tests and local runs: it ranks a user's groups by precedence
// to pick cognito:preferred_role, builds the claims of ID and access tokens,
// and names users with a UUID-shaped sub. It holds no keys and signs nothing:
// minting lives in internal/mint.
package userpool

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/cognito"
)

// NoPrecedence is the Precedence of a group that sets none: Cognito ranks
// such a group after every group that has one.
const NoPrecedence = math.MaxInt

// Group is a user pool group and the IAM role it hands its members.
type Group struct {
	Name       string
	Precedence int    // lower wins; NoPrecedence when unset
	RoleARN    string // "" for a group without a role
}

// PreferredRole picks cognito:preferred_role for a member of groups, as
// Cognito does: the role of the group with the lowest Precedence. When that
// Precedence is shared by groups with different roles there is no preferred
// role, and "" is returned. Groups without a role take no part.
func PreferredRole(groups []Group) string {
	best, role, tie, seen := NoPrecedence, "", false, false
	for _, g := range groups {
		if g.RoleARN == "" {
			continue
		}
		switch {
		case !seen || g.Precedence < best:
			best, role, tie, seen = g.Precedence, g.RoleARN, false, true
		case g.Precedence == best && g.RoleARN != role:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return role
}

// Sub returns user's sub in a local or test pool: UUID-shaped and the same
// for the same pool and user, so a user keeps one identity across tokens.
func Sub(poolID, user string) string {
	sum := sha256.Sum256([]byte(poolID + "/" + user))
	return formatUUID(sum[:16])
}

// IDTokenLifetime is how long an ID token lives by default (the template's IdTokenValidity).
const IDTokenLifetime = time.Hour

// Token describes a token to build claims for.
type Token struct {
	PoolID   string // for sub
	Issuer   string // iss; the pool's Issuer when empty
	ClientID string // aud of an ID token, client_id of an access token
	User     string // cognito:username (ID) or username (access)
	Email    string // user@example.com when empty and User has no '@'; User when it has one
	Groups   []Group
	IssuedAt time.Time
	Lifetime time.Duration // IDTokenLifetime when 0
}

// IDClaims returns the claims Cognito puts in an ID token: sub, iss, aud,
// token_use "id", auth_time, iat, exp, cognito:username, a verified email,
// and, for members of groups, cognito:groups in the order given,
// cognito:roles (each role once) and cognito:preferred_role by precedence
// (absent on a tie). The map is the caller's to edit.
func (t Token) IDClaims() map[string]any {
	c := t.common()
	c["aud"] = t.ClientID
	c["token_use"] = "id"
	c["cognito:username"] = t.User
	c["email"] = t.email()
	c["email_verified"] = true
	if len(t.Groups) > 0 {
		names := make([]string, 0, len(t.Groups))
		var roles []string
		for _, g := range t.Groups {
			names = append(names, g.Name)
			if g.RoleARN != "" && !slices.Contains(roles, g.RoleARN) {
				roles = append(roles, g.RoleARN)
			}
		}
		c["cognito:groups"] = names
		if len(roles) > 0 {
			c["cognito:roles"] = roles
		}
		if p := PreferredRole(t.Groups); p != "" {
			c["cognito:preferred_role"] = p
		}
	}
	return c
}

// AccessClaims returns the claims of an access token: token_use "access",
// client_id and scope, no aud. rolegate's authorizer refuses it.
func (t Token) AccessClaims() map[string]any {
	c := t.common()
	c["client_id"] = t.ClientID
	c["token_use"] = "access"
	c["scope"] = "aws.cognito.signin.user.admin"
	c["username"] = t.User
	return c
}

func (t Token) common() map[string]any {
	iss := t.Issuer
	if iss == "" {
		iss = cognito.Issuer(t.PoolID)
	}
	life := t.Lifetime
	if life == 0 {
		life = IDTokenLifetime
	}
	at := t.IssuedAt.Unix()
	return map[string]any{
		"sub":        Sub(t.PoolID, t.User),
		"iss":        iss,
		"auth_time":  at,
		"iat":        at,
		"exp":        t.IssuedAt.Add(life).Unix(),
		"event_id":   randomUUID(),
		"origin_jti": randomUUID(),
		"jti":        randomUUID(),
	}
}

func (t Token) email() string {
	switch {
	case t.Email != "":
		return t.Email
	case strings.Contains(t.User, "@"):
		return t.User
	}
	return t.User + "@example.com"
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return formatUUID(b[:])
}

// formatUUID shapes 16 bytes as a version 4 UUID.
func formatUUID(b []byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
