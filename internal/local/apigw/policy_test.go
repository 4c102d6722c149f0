package apigw

import (
	"errors"
	"testing"
)

const testMethodArn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/whoami"

func TestPolicyEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   Decision
	}{
		{"an Allow on the whole stage allows the method",
			`{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"}]}`, Allow},
		{"an Allow on the exact method ARN allows it",
			`{"Statement":[{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["` + testMethodArn + `"]}]}`, Allow},
		{"a single statement object is accepted",
			`{"Statement":{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}}`, Allow},
		{"an Allow for another stage is an implicit deny",
			`{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123/beta/*"}]}`, ImplicitDeny},
		{"an Allow for another API is an implicit deny",
			`{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:other/prod/*"}]}`, ImplicitDeny},
		{"an Allow for another method is an implicit deny",
			`{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/*"}]}`, ImplicitDeny},
		{"an Allow for another action is an implicit deny",
			`{"Statement":[{"Action":"execute-api:ManageConnections","Effect":"Allow","Resource":"*"}]}`, ImplicitDeny},
		{"an empty statement list is an implicit deny",
			`{"Version":"2012-10-17","Statement":[]}`, ImplicitDeny},
		{"a Deny on the whole stage denies",
			`{"Statement":[{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"}]}`, ExplicitDeny},
		{"an explicit Deny wins over an Allow listed before it",
			`{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"},{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"arn:aws:execute-api:*:*:abc123/*/GET/whoami"}]}`, ExplicitDeny},
		{"a Deny for another method leaves the Allow standing",
			`{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"},{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"arn:aws:execute-api:*:*:abc123/*/DELETE/*"}]}`, Allow},
		{"the action wildcard execute-api:* matches Invoke",
			`{"Statement":[{"Action":"execute-api:*","Effect":"Allow","Resource":"*"}]}`, Allow},
		{"action names compare case-insensitively",
			`{"Statement":[{"Action":"Execute-API:invoke","Effect":"Allow","Resource":"*"}]}`, Allow},
		{"resources compare case-sensitively",
			`{"Statement":[{"Action":"*","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:ABC123/prod/*"}]}`, ImplicitDeny},
		{"? matches exactly one character",
			`{"Statement":[{"Action":"*","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc12?/prod/GET/whoami"}]}`, Allow},
		{"? does not match an empty run",
			`{"Statement":[{"Action":"*","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123?/prod/GET/whoami"}]}`, ImplicitDeny},
		{"* inside the ARN spans slashes",
			`{"Statement":[{"Action":"*","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123/*"}]}`, Allow},
		{"a trailing path after the method ARN does not match",
			`{"Statement":[{"Action":"*","Effect":"Allow","Resource":"` + testMethodArn + `/x"}]}`, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tt.policy))
			if err != nil {
				t.Fatalf("ParsePolicy: %v", err)
			}
			if got := p.Evaluate(InvokeAction, testMethodArn); got != tt.want {
				t.Errorf("Evaluate = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParsePolicyRefusesWhatItCannotEvaluate(t *testing.T) {
	tests := []struct{ name, policy string }{
		{"a policy that is not an object", `[]`},
		{"a policy without Statement", `{"Version":"2012-10-17"}`},
		{"a statement list of strings", `{"Statement":["x"]}`},
		{"NotResource, which could turn a Deny into an Allow", `{"Statement":[{"Action":"*","Effect":"Deny","NotResource":"x"}]}`},
		{"NotAction", `{"Statement":[{"NotAction":"*","Effect":"Allow","Resource":"*"}]}`},
		{"a Condition", `{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*","Condition":{}}]}`},
		{"an Effect other than Allow or Deny", `{"Statement":[{"Action":"*","Effect":"allow","Resource":"*"}]}`},
		{"a statement without Resource", `{"Statement":[{"Action":"*","Effect":"Allow"}]}`},
		{"a numeric Action", `{"Statement":[{"Action":1,"Effect":"Allow","Resource":"*"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParsePolicy([]byte(tt.policy)); !errors.Is(err, errBadPolicy) {
				t.Errorf("ParsePolicy error = %v, want errBadPolicy", err)
			}
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbb", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxcyyb", false},
		{"?", "é", true},
		{"a?c", "ac", false},
		{"**", "x", true},
		{"abc", "abcd", false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func BenchmarkPolicyEvaluate(b *testing.B) {
	p, err := ParsePolicy([]byte(`{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if p.Evaluate(InvokeAction, testMethodArn) != Allow {
			b.Fatal("not allowed")
		}
	}
}

// FuzzParseAuthorizerResponse feeds the bytes an authorizer function returns:
// parsing never panics, and an Allow needs a well-formed Allow statement.
func FuzzParseAuthorizerResponse(f *testing.F) {
	f.Add([]byte(`{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"a":"b","n":1,"t":true}}`))
	f.Add([]byte(`{"errorMessage":"Unauthorized","errorType":"errorString"}`))
	f.Add([]byte(`{"principalId":"u","policyDocument":{"Statement":{"Action":["*"],"Effect":"Deny","Resource":["*"]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := parseAuthorizerResponse(b)
		if err != nil {
			if !errors.Is(err, errUnauthorized) && !errors.Is(err, errAuthorizerFailure) && !errors.Is(err, errAuthorizerConfig) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if res.Policy.Evaluate(InvokeAction, testMethodArn) == Allow {
			found := false
			for _, s := range res.Policy.Statements {
				found = found || s.Effect == "Allow"
			}
			if !found {
				t.Fatal("Allow without an Allow statement")
			}
		}
	})
}
