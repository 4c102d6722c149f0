package localstack

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/userpool"
)

func role(name string) string { return "arn:aws:iam::123456789012:role/" + name }

// TestIDClaimsPreferredRole checks that the local issuer picks
// cognito:preferred_role as Cognito does, and leaves it out on a tie while
// still listing the roles (issue 11: such a user chooses with
// X-Rolegate-Role).
func TestIDClaimsPreferredRole(t *testing.T) {
	iss := newIssuer(t)
	s := Settings{Groups: []userpool.Group{
		{Name: "admins", Precedence: 1, RoleARN: role("admins")},
		{Name: "readers", Precedence: 10, RoleARN: role("readers")},
		{Name: "auditors", Precedence: 1, RoleARN: role("auditors")},
		{Name: "admins-too", Precedence: 1, RoleARN: role("admins")},
		{Name: "roleless", Precedence: 0},
		{Name: "r2", Precedence: 10, RoleARN: role("r2")},
		{Name: "unranked", Precedence: userpool.NoPrecedence, RoleARN: role("unranked")},
		{Name: "unranked2", Precedence: userpool.NoPrecedence, RoleARN: role("unranked2")},
	}}
	tests := []struct {
		name   string
		groups []string
		want   string
		roles  int
	}{
		{"no group gives no preferred role", nil, "", 0},
		{"one group gives its role", []string{"readers"}, role("readers"), 1},
		{"the lowest precedence wins", []string{"readers", "admins"}, role("admins"), 2},
		{"order does not matter", []string{"admins", "readers"}, role("admins"), 2},
		{"equal lowest precedence with different roles gives none, but the roles", []string{"admins", "auditors", "readers"}, "", 3},
		{"equal lowest precedence with the same role gives that role", []string{"admins", "admins-too"}, role("admins"), 1},
		{"a tie above the lowest precedence does not matter", []string{"readers", "r2", "admins"}, role("admins"), 3},
		{"a group without a role takes no part", []string{"roleless", "readers"}, role("readers"), 1},
		{"a group without precedence ranks after one with", []string{"unranked", "readers"}, role("readers"), 2},
		{"a group without precedence alone gives its role", []string{"unranked"}, role("unranked"), 1},
		{"two groups without precedence and different roles give none", []string{"unranked", "unranked2"}, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.IDClaims(iss, TokenRequest{User: "u", Groups: tt.groups}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			got, present := c["cognito:preferred_role"]
			if tt.want == "" && present || tt.want != "" && got != tt.want {
				t.Errorf("cognito:preferred_role = %v (present %v), want %q", got, present, tt.want)
			}
			roles, _ := c["cognito:roles"].([]string)
			if len(roles) != tt.roles {
				t.Errorf("cognito:roles = %v, want %d roles", roles, tt.roles)
			}
		})
	}
}

func TestIDClaims(t *testing.T) {
	s := DefaultSettings()
	iss := newIssuer(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

	c, err := s.IDClaims(iss, TokenRequest{User: "alice", Groups: []string{"readers", "admins"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"iss is the pool's Cognito URL", c["iss"], "https://cognito-idp.us-east-1.amazonaws.com/" + iss.PoolID},
		{"aud is the app client", c["aud"], iss.ClientID},
		{"token_use is id", c["token_use"], "id"},
		{"cognito:username is the user", c["cognito:username"], "alice"},
		{"email is derived", c["email"], "alice@example.com"},
		{"iat is now", c["iat"], now.Unix()},
		{"exp is an hour later", c["exp"], now.Add(time.Hour).Unix()},
		{"preferred role by precedence", c["cognito:preferred_role"], role("rolegate-local-admins")},
		{"sub is stable per user", c["sub"], userpool.Sub(iss.PoolID, "alice")},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if g := c["cognito:groups"].([]string); !slices.Equal(g, []string{"readers", "admins"}) {
		t.Errorf("cognito:groups = %v", g)
	}
	if r := c["cognito:roles"].([]string); !slices.Equal(r, []string{role("rolegate-local-readers"), role("rolegate-local-admins")}) {
		t.Errorf("cognito:roles = %v", r)
	}
	if userpool.Sub(iss.PoolID, "alice") == userpool.Sub(iss.PoolID, "bob") {
		t.Error("two users share a sub")
	}
}

func TestIDClaimsVariants(t *testing.T) {
	s := DefaultSettings()
	iss := newIssuer(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		req    TokenRequest
		check  func(t *testing.T, c map[string]any)
		errHas string
	}{
		{name: "an expired token expired before now", req: TokenRequest{User: "a", Groups: []string{"admins"}, Expired: true},
			check: func(t *testing.T, c map[string]any) {
				if exp := c["exp"].(int64); exp >= now.Unix() {
					t.Errorf("exp %d not before now %d", exp, now.Unix())
				}
			}},
		{name: "no group means no role claims", req: TokenRequest{User: "a"},
			check: func(t *testing.T, c map[string]any) {
				for _, k := range []string{"cognito:groups", "cognito:roles", "cognito:preferred_role"} {
					if _, ok := c[k]; ok {
						t.Errorf("%s present", k)
					}
				}
			}},
		{name: "extra claims override and nil removes", req: TokenRequest{User: "a", Groups: []string{"admins"}, Extra: map[string]any{"token_use": "access", "aud": nil, "custom:team": "blue"}},
			check: func(t *testing.T, c map[string]any) {
				if _, ok := c["aud"]; ok || c["token_use"] != "access" || c["custom:team"] != "blue" {
					t.Errorf("claims = %v", c)
				}
			}},
		{name: "a repeated group counts once", req: TokenRequest{User: "a", Groups: []string{"admins", "admins"}},
			check: func(t *testing.T, c map[string]any) {
				if g := c["cognito:groups"].([]string); len(g) != 1 {
					t.Errorf("groups = %v", g)
				}
			}},
		{name: "an unknown group is an error naming the known ones", req: TokenRequest{User: "a", Groups: []string{"admin"}}, errHas: "admins, readers"},
		{name: "a missing user is an error", req: TokenRequest{Groups: []string{"admins"}}, errHas: "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.IDClaims(iss, tt.req, now)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
