package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rolegate/rolegate/internal/arn"
)

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
			r, rerr := arn.ParseRole(tt.arn)
			if got := err == nil && rerr == nil && (allowlist{p}).allows(context.Background(), r); got != tt.want {
				t.Errorf("%q matches %q: %v, want %v (pattern error: %v)", tt.pattern, tt.arn, got, tt.want, err)
			}
		})
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.function != "" {
				ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{InvokedFunctionArn: tt.function})
			}
			r, err := arn.ParseRole(tt.role)
			if err != nil {
				t.Fatalf("test role %q: %v", tt.role, err)
			}
			if got := allowlist(nil).allows(ctx, r); got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReadIdentity(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/r"
	tests := []struct {
		name    string
		ctx     map[string]any
		want    Identity
		wantErr error
	}{
		{"the authorizer's flat context is read", map[string]any{
			"preferredRole": role, "roles": role, "sub": "s-1", "username": "alice", "principalId": "s-1", "groups": "g,h", "integrationLatency": 12.0,
			"email": "alice@example.com", "userPoolId": "eu-west-1_Tenant2", // a key the backend does not read is ignored
		}, Identity{Role: role, Roles: []string{role}, PreferredRole: role, Sub: "s-1", Username: "alice", Groups: []string{"g", "h"},
			Email: "alice@example.com"}, nil},
		{"a number for the email is refused", map[string]any{"preferredRole": role, "roles": role, "sub": "s-1", "email": 1.0},
			Identity{Sub: "s-1"}, errBadContext},
		{"principalId stands in for a missing sub", map[string]any{"preferredRole": role, "roles": role, "principalId": "p-1"},
			Identity{Role: role, Roles: []string{role}, PreferredRole: role, Sub: "p-1"}, nil},
		{"an explicit null is an absent value", map[string]any{"preferredRole": role, "roles": role, "sub": "s-1", "username": nil},
			Identity{Role: role, Roles: []string{role}, PreferredRole: role, Sub: "s-1"}, nil},
		{"a repeated role is listed once", map[string]any{"preferredRole": role, "roles": role + "," + role, "sub": "s-1"},
			Identity{Role: role, Roles: []string{role}, PreferredRole: role, Sub: "s-1"}, nil},
		{"a nil context has no role", nil, Identity{}, errNoRole},
		{"claims are never read", map[string]any{"sub": "s-1", "claims": map[string]any{"cognito:preferred_role": role}},
			Identity{Sub: "s-1"}, errNoRole},
		{"a differently cased key is not the role", map[string]any{"PreferredRole": role, "Roles": role, "sub": "s-1"},
			Identity{Sub: "s-1"}, errNoRole},
		{"a number is not converted", map[string]any{"preferredRole": role, "sub": 42.0}, Identity{}, errBadContext},
		{"a malformed role is refused", map[string]any{"preferredRole": "admin", "roles": "admin", "sub": "s-1"},
			Identity{PreferredRole: "admin", Sub: "s-1"}, errBadRole},
		{"a malformed preferred role is refused", map[string]any{"preferredRole": "admin", "roles": role, "sub": "s-1"},
			Identity{PreferredRole: "admin", Roles: []string{role}, Sub: "s-1"}, errBadContext},
		{"a preferred role outside roles is refused", map[string]any{"preferredRole": role + "x", "roles": role, "sub": "s-1"},
			Identity{PreferredRole: role + "x", Roles: []string{role}, Sub: "s-1"}, errBadContext},
		{"a preferred role without roles is refused", map[string]any{"preferredRole": role, "sub": "s-1"},
			Identity{PreferredRole: role, Sub: "s-1"}, errBadContext},
		{"roles without a preferred role ask for a choice", map[string]any{"preferredRole": "", "roles": role, "sub": "s-1"},
			Identity{Roles: []string{role}, Sub: "s-1"}, errChooseRole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := requestFromProxy(events.APIGatewayProxyRequest{RequestContext: events.APIGatewayProxyRequestContext{Authorizer: tt.ctx}})
			got, _, err := readIdentity(req)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("identity = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOutcomeTable(t *testing.T) {
	outcomes := map[string]int{"bad_request": 400, "forbidden": 403, "not_found": 404, "method_not_allowed": 405,
		"sts_error": 502, "aws_error": 502, "throttled": 503, "internal": 500}
	req := &Request{RequestID: "r-1"}
	for _, r := range []*rejection{
		errNoRole, errNoUser, errBadContext, errBadRole, errRoleNotAllowed, errAccessDenied, errNotFound, errMethod,
		errSTS, errThrottled, errAWSDenied, errAWS, errAWSThrottled, errInternal, errChooseRole, errNotYourRole, errAmbiguousRole, errManyHeaders,
	} {
		t.Run(r.reason, func(t *testing.T) {
			if outcomes[r.outcome] != r.status {
				t.Errorf("outcome %q with status %d: not one of the bounded outcomes %v", r.outcome, r.status, outcomes)
			}
			resp := errorResponse(req, fmt.Errorf("%w: with detail", r))
			want, _ := json.Marshal(errorBody{r.message, "r-1"})
			if resp.Status != r.status || string(resp.Body) != string(want) || resp.Header["Content-Type"] != "application/json" {
				t.Errorf("response %d %v %s, want %d %s", resp.Status, resp.Header, resp.Body, r.status, want)
			}
			if got := resp.Header["Retry-After"] != ""; got != (r.status == 503) {
				t.Errorf("Retry-After %q on a %d", resp.Header["Retry-After"], r.status)
			}
		})
	}
	if got := classify(errors.New("surprise")); got != errInternal {
		t.Errorf("an unknown error is %+v, want internal", got)
	}
}
