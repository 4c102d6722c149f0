package jwkstest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/local/userpool"

	"github.com/rolegate/rolegate/internal/local/mint"
)

// IDClaims returns the claims of a Cognito ID token for user, issued now by the issuer's clock and valid for an
// hour, as userpool.Token builds them. With groups it adds cognito:groups, cognito:roles (one role per group, in order)
// and cognito:preferred_role, the role of the first group: each group's precedence is its position. The map is the
// caller's to edit before minting.
func (i *Issuer) IDClaims(user string, groups ...string) map[string]any {
	return i.token(user, groups).IDClaims()
}

// AccessClaims returns the claims of a Cognito access token for user: token_use "access", client_id and scope, no
// aud. The authorizer must refuse it.
func (i *Issuer) AccessClaims(user string) map[string]any { return i.token(user, nil).AccessClaims() }

func (i *Issuer) token(user string, groups []string) userpool.Token {
	t := userpool.Token{PoolID: i.PoolID, ClientID: i.ClientID, User: user, IssuedAt: i.now()}
	for n, g := range groups {
		t.Groups = append(t.Groups, userpool.Group{Name: g, Precedence: n, RoleARN: i.Role(g)})
	}
	return t
}

// Sub returns user's sub: UUID-shaped and the same for the same pool and user, so tests can predict it.
func (i *Issuer) Sub(user string) string { return userpool.Sub(i.PoolID, user) }

// Role returns the role ARN the issuer gives group.
func (i *Issuer) Role(group string) string {
	if r, ok := i.roles[group]; ok {
		return r
	}
	return "arn:aws:iam::123456789012:role/rolegate-" + group
}

// Mint signs claims with the current key: a token the pool really issued.
func (i *Issuer) Mint(t testing.TB, claims map[string]any) string {
	t.Helper()
	return i.MintWith(t, nil, claims, nil)
}

// MintPadded signs claims with the current key after padding them, in an "address" attribute (one a user may
// write), so that the token is size bytes or up to three less: the near-maximum tokens a user can make for
// themselves.
func (i *Issuer) MintPadded(t testing.TB, claims map[string]any, size int) string {
	t.Helper()
	k := i.Key()
	fixed := i.fixedLen(t, k)
	claims["address"] = map[string]any{"formatted": ""}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("jwkstest: %v", err)
	}
	pad := ((size-fixed)*3/4 - len(payload))
	if pad < 0 {
		t.Fatalf("jwkstest: the claims alone make a token over %d bytes", size)
	}
	claims["address"] = map[string]any{"formatted": strings.Repeat("x", pad)}
	return i.MintWith(t, k, claims, nil)
}

// fixedLen is the length of k's tokens but for their payload part: the same for every token of k, so measured once
// on an empty payload.
func (i *Issuer) fixedLen(t testing.TB, k *mint.PrivateKey) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	if n, ok := i.fixed[k]; ok {
		return n
	}
	probe, err := mint.Sign(k, []byte("{}"), nil)
	if err != nil {
		t.Fatalf("jwkstest: minting: %v", err)
	}
	i.fixed[k] = len(probe) - len("e30") // base64url("{}")
	return i.fixed[k]
}

// MintWith signs claims with k (nil: the current key) and extra protected headers, as mint.Sign does: a nil value
// removes kid or typ, and a *mint.PrivateKey value becomes a public JWK (for a "jwk" header).
func (i *Issuer) MintWith(t testing.TB, k *mint.PrivateKey, claims map[string]any, hdr map[string]any) string {
	t.Helper()
	if k == nil {
		k = i.Key()
	}
	tok, err := mint.Sign(k, claims, hdr)
	if err != nil {
		t.Fatalf("jwkstest: minting: %v", err)
	}
	return tok
}
