package backend

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestValidRoleARN(t *testing.T) {
	tests := []struct {
		name string
		arn  string
		want bool
	}{
		{"a role in the commercial partition is valid", "arn:aws:iam::123456789012:role/rolegate-readers", true},
		{"a role with a path is valid", "arn:aws:iam::123456789012:role/teams/data/reader", true},
		{"a role in GovCloud is valid", "arn:aws-us-gov:iam::123456789012:role/r", true},
		{"a role in China is valid", "arn:aws-cn:iam::123456789012:role/r", true},
		{"a name with every allowed symbol is valid", "arn:aws:iam::123456789012:role/a_b+c=d,e.f@g-h", true},
		{"a 64-character name is valid", "arn:aws:iam::123456789012:role/" + strings.Repeat("n", 64), true},
		{"a 65-character name is not", "arn:aws:iam::123456789012:role/" + strings.Repeat("n", 65), false},
		{"a 512-character path is valid", "arn:aws:iam::123456789012:role/" + strings.Repeat("p", 510) + "/n", true},
		{"a 513-character path is not", "arn:aws:iam::123456789012:role/" + strings.Repeat("p", 511) + "/n", false},
		{"an empty string is not", "", false},
		{"a bare role name is not", "rolegate-readers", false},
		{"a user is not a role", "arn:aws:iam::123456789012:user/alice", false},
		{"an assumed-role session is not a role", "arn:aws:sts::123456789012:assumed-role/r/alice", false},
		{"an 11-digit account is not", "arn:aws:iam::12345678901:role/r", false},
		{"a 13-digit account is not", "arn:aws:iam::1234567890123:role/r", false},
		{"a lettered account is not", "arn:aws:iam::12345678901a:role/r", false},
		{"a region in an IAM ARN is not", "arn:aws:iam:us-east-1:123456789012:role/r", false},
		{"an unknown partition is not", "arn:gcp:iam::123456789012:role/r", false},
		{"a partition with capitals is not", "arn:AWS:iam::123456789012:role/r", false},
		{"a partition ending in a dash is not", "arn:aws-:iam::123456789012:role/r", false},
		{"an empty name is not", "arn:aws:iam::123456789012:role/", false},
		{"a trailing slash is not", "arn:aws:iam::123456789012:role/p/", false},
		{"a double slash is not", "arn:aws:iam::123456789012:role/p//n", false},
		{"a wildcard is not", "arn:aws:iam::123456789012:role/*", false},
		{"a space is not", "arn:aws:iam::123456789012:role/read ers", false},
		{"a colon in the name is not", "arn:aws:iam::123456789012:role/a:b", false},
		{"a non-ASCII letter is not", "arn:aws:iam::123456789012:role/r\u00e9le", false},
		{"a NUL is not", "arn:aws:iam::123456789012:role/r\x00", false},
		{"an over-long ARN is not", "arn:aws:iam::123456789012:role/" + strings.Repeat("p/", 1100) + "n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidRoleARN(tt.arn); got != tt.want {
				t.Errorf("ValidRoleARN(%q) = %v, want %v", tt.arn, got, tt.want)
			}
		})
	}
}

func TestAllowlistPatterns(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/team/rolegate-readers"
	tests := []struct {
		name    string
		pattern string
		arn     string
		want    bool
	}{
		{"an exact ARN matches itself", role, role, true},
		{"a star matches the rest of the resource, slashes included", "arn:aws:iam::123456789012:role/*", role, true},
		{"a star matches a name prefix", "arn:aws:iam::123456789012:role/team/rolegate-*", role, true},
		{"a star in the middle matches", "arn:aws:iam::123456789012:role/*/rolegate-readers", role, true},
		{"a star matches any account", "arn:aws:iam::*:role/team/rolegate-readers", role, true},
		{"a star matches an empty run", "arn:aws:iam::123456789012:role/team/rolegate-readers*", role, true},
		{"several stars backtrack", "arn:aws:iam::123456789012:role/*e*e*s", role, true},
		{"a different name does not match", "arn:aws:iam::123456789012:role/team/rolegate-admins", role, false},
		{"a different account does not match", "arn:aws:iam::999999999999:role/*", role, false},
		{"a prefix without a star does not match", "arn:aws:iam::123456789012:role/team", role, false},
		{"a star cannot cross a colon into the account", "arn:aws:iam::*", role, false},
		{"a star in the account cannot swallow the resource", "arn:aws:iam::*role/*", role, false},
		{"a pattern with fewer fields does not match", "arn:aws:iam::123456789012", role, false},
		{"a question mark is not a wildcard", "arn:aws:iam::123456789012:role/team/rolegate-reader?", role, false},
		{"a bracket is not a character class", "arn:aws:iam::123456789012:role/team/rolegate-reader[s]", role, false},
		{"another partition does not match", "arn:aws-cn:iam::123456789012:role/*", role, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// a pattern refused at start-up matches nothing either
			p, err := compilePattern(tt.pattern)
			r, ok := splitRoleARN(tt.arn)
			if got := err == nil && ok && p.match(r); got != tt.want {
				t.Errorf("%q matches %q: %v, want %v (pattern error: %v)", tt.pattern, tt.arn, got, tt.want, err)
			}
		})
	}
}

func TestCompiledFieldsMatchLikeTheirGlob(t *testing.T) {
	// every glob over {a, b, *} against every string over {a, b}, up to 5
	// characters: the literal and prefix shortcuts must agree with the walk
	words := func(alphabet string) []string {
		all, level := []string{""}, []string{""}
		for range 5 {
			var next []string
			for _, w := range level {
				for _, c := range alphabet {
					next = append(next, w+string(c))
				}
			}
			all, level = append(all, next...), next
		}
		return all
	}
	inputs := words("ab")
	for _, glob := range words("ab*") {
		p := newFieldPattern(glob)
		for _, s := range inputs {
			if got, want := p.match(s), matchField(glob, s); got != want {
				t.Fatalf("compiled %q matches %q: %v, the glob says %v", glob, s, got, want)
			}
		}
	}
}

func TestDefaultAllowlistIsTheFunctionsAccount(t *testing.T) {
	tests := []struct {
		name     string
		function string // invoked function ARN; "" means no Lambda context
		role     string
		want     bool
	}{
		{"a role in the function's account is allowed", "arn:aws:lambda:us-east-1:123456789012:function:backend", "arn:aws:iam::123456789012:role/r", true},
		{"an alias-qualified function ARN works too", "arn:aws:lambda:us-east-1:123456789012:function:backend:live", "arn:aws:iam::123456789012:role/p/r", true},
		{"a role in another account is refused", "arn:aws:lambda:us-east-1:123456789012:function:backend", "arn:aws:iam::999999999999:role/r", false},
		{"a role in another partition is refused", "arn:aws-cn:lambda:cn-north-1:123456789012:function:backend", "arn:aws:iam::123456789012:role/r", false},
		{"without a Lambda context everything is refused", "", "arn:aws:iam::123456789012:role/r", false},
		{"a malformed function ARN refuses everything", "arn:aws:lambda:us-east-1:1234:function:backend", "arn:aws:iam::123456789012:role/r", false},
		{"a non-Lambda ARN refuses everything", "arn:aws:iam::123456789012:role/backend", "arn:aws:iam::123456789012:role/r", false},
	}
	// shared sees every function ARN in turn, twice: an ARN it remembers
	// must never answer for another.
	shared := new(allowlist)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.function != "" {
				ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{InvokedFunctionArn: tt.function})
			}
			r, ok := splitRoleARN(tt.role)
			if !ok {
				t.Fatalf("test role %q is malformed", tt.role)
			}
			if got := new(allowlist).allows(ctx, r); got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
			for i := range 2 {
				if got := shared.allows(ctx, r); got != tt.want {
					t.Errorf("allowed after other function ARNs (check %d) = %v, want %v", i, got, tt.want)
				}
			}
		})
	}
}

func TestParseIdentity(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/r"
	tests := []struct {
		name    string
		ctx     map[string]any
		want    Identity
		wantErr error
	}{
		{"the authorizer's flat context is read", map[string]any{
			"preferredRole": role, "sub": "s-1", "username": "alice", "principalId": "s-1", "groups": "g", "integrationLatency": 12.0,
		}, Identity{Role: role, Sub: "s-1", Username: "alice", PrincipalID: "s-1"}, nil},
		{"principalId stands in for a missing sub", map[string]any{"preferredRole": role, "principalId": "p-1"},
			Identity{Role: role, PrincipalID: "p-1"}, nil},
		{"an explicit null is an absent value", map[string]any{"preferredRole": role, "sub": "s-1", "username": nil},
			Identity{Role: role, Sub: "s-1"}, nil},
		{"a nil context has no role", nil, Identity{}, ErrNoRole},
		{"claims are never read", map[string]any{"sub": "s-1", "claims": map[string]any{"cognito:preferred_role": role}},
			Identity{Sub: "s-1"}, ErrNoRole},
		{"a differently cased key is not the role", map[string]any{"PreferredRole": role, "sub": "s-1"},
			Identity{Sub: "s-1"}, ErrNoRole},
		{"a number is not converted", map[string]any{"preferredRole": role, "sub": 42.0}, Identity{Role: role}, ErrBadContext},
		{"a malformed role is refused", map[string]any{"preferredRole": "admin", "sub": "s-1"},
			Identity{Role: "admin", Sub: "s-1"}, ErrBadRole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIdentity(tt.ctx)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("identity = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSessionName(t *testing.T) {
	tests := []struct {
		name string
		id   Identity
		want string
	}{
		{"a clean username is used as is", Identity{Username: "alice", Sub: "s-1"}, "alice"},
		{"an email username is allowed", Identity{Username: "alice@example.com"}, "alice@example.com"},
		{"spaces and other characters become dashes", Identity{Username: "Alice Smith/ops"}, "Alice-Smith-ops"},
		{"a non-ASCII letter becomes one dash", Identity{Username: "jos\u00e9"}, "jos-"},
		{"a long username is cut to 64", Identity{Username: strings.Repeat("x", 100)}, strings.Repeat("x", 64)},
		{"a one-letter username falls back to the sub", Identity{Username: "a", Sub: "sub-1"}, "sub-1"},
		{"no username uses the sub", Identity{Sub: "7c1f3e2a-5b4d"}, "7c1f3e2a-5b4d"},
		{"no usable name at all uses a fixed one", Identity{Username: "a", Sub: "b"}, "rolegate-user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sessionName(tt.id); got != tt.want {
				t.Errorf("sessionName = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorOutcomes(t *testing.T) {
	for _, o := range outcomes {
		if got := classify(o.err); got.status != o.status {
			t.Errorf("%v: status %d, want %d", o.err, got.status, o.status)
		}
	}
	if got := classify(errors.New("surprise")); got.status != 500 || got.reason != "internal" {
		t.Errorf("unknown error: %+v, want 500 internal", got)
	}
}
