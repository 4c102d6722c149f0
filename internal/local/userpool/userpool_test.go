package userpool_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/userpool"
)

func TestPreferredRole(t *testing.T) {
	const a, b = "arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b"
	tests := []struct {
		name   string
		groups []userpool.Group
		want   string
	}{
		{"no groups, no role", nil, ""},
		{"one group", []userpool.Group{{"x", 1, a}}, a},
		{"the lowest precedence wins", []userpool.Group{{"x", 5, a}, {"y", 1, b}}, b},
		{"a group without precedence loses", []userpool.Group{{"x", userpool.NoPrecedence, a}, {"y", 9, b}}, b},
		{"a tie between two roles has no preferred role", []userpool.Group{{"x", 1, a}, {"y", 1, b}}, ""},
		{"a tie on the same role keeps it", []userpool.Group{{"x", 1, a}, {"y", 1, a}}, a},
		{"a group without a role takes no part", []userpool.Group{{"x", 0, ""}, {"y", 3, b}}, b},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := userpool.PreferredRole(tt.groups); got != tt.want {
				t.Errorf("PreferredRole = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIDClaims(t *testing.T) {
	const a, b = "arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b"
	at := time.Unix(1_800_000_000, 0)
	tok := userpool.Token{PoolID: "us-east-1_P", ClientID: "client", User: "alice", IssuedAt: at,
		Groups: []userpool.Group{{"x", 2, a}, {"y", 1, b}, {"z", 3, a}}}
	c := tok.IDClaims()
	want := map[string]any{
		"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_P", "aud": "client", "token_use": "id",
		"cognito:username": "alice", "email": "alice@example.com", "email_verified": true,
		"iat": at.Unix(), "exp": at.Add(time.Hour).Unix(), "cognito:preferred_role": b,
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %v, want %v", k, c[k], v)
		}
	}
	if !slices.Equal(c["cognito:groups"].([]string), []string{"x", "y", "z"}) || !slices.Equal(c["cognito:roles"].([]string), []string{a, b}) {
		t.Errorf("groups, roles = %v, %v", c["cognito:groups"], c["cognito:roles"])
	}
	if c["sub"] != userpool.Sub("us-east-1_P", "alice") || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(c["sub"].(string)) {
		t.Errorf("sub = %v: want the stable UUID-shaped sub", c["sub"])
	}
	if userpool.Sub("us-east-1_P", "bob") == c["sub"] || userpool.Sub("us-east-1_Q", "alice") == c["sub"] {
		t.Error("sub does not depend on pool and user")
	}

	tok.Groups = []userpool.Group{{"x", 1, a}, {"y", 1, b}}
	if c := tok.IDClaims(); c["cognito:preferred_role"] != nil || len(c["cognito:roles"].([]string)) != 2 {
		t.Errorf("a precedence tie: preferred_role = %v, roles = %v", c["cognito:preferred_role"], c["cognito:roles"])
	}
	acc := tok.AccessClaims()
	if acc["token_use"] != "access" || acc["aud"] != nil || acc["client_id"] != "client" {
		t.Errorf("access claims = %v", acc)
	}
}
