package backend_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rolegate/rolegate/backend"
)

// stubSTS answers AssumeRole in memory and records what it was asked, for
// the fuzz target and benchmarks, where a loopback round trip per input
// would only measure the network stack.
type stubSTS struct {
	mu    sync.Mutex
	calls []*sts.AssumeRoleInput
}

func (s *stubSTS) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	s.mu.Lock()
	s.calls = append(s.calls, in)
	s.mu.Unlock()
	return &sts.AssumeRoleOutput{Credentials: &types.Credentials{
		AccessKeyId:     aws.String("ASIASTUBSTUBSTUBSTUB"),
		SecretAccessKey: aws.String("stub-secret"),
		SessionToken:    aws.String("stub-token"),
		Expiration:      aws.Time(time.Now().Add(time.Hour)),
	}}, nil
}

var sessionString = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// FuzzIdentity feeds arbitrary authorizer contexts (as JSON, the way they
// arrive) through ConfigFor and checks that a role is only ever assumed when
// it is exactly the string preferredRole, a well-formed role ARN, and inside
// the allowlist, and that every refusal is a clean 403 with no STS call.
func FuzzIdentity(f *testing.F) {
	for _, name := range []string{"backend-whoami.json", "backend-spoofed-role.json", "backend-claims-role.json", "backend-other-account.json"} {
		b, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		var ev struct {
			RequestContext struct{ Authorizer json.RawMessage } `json:"requestContext"`
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(ev.RequestContext.Authorizer), false)
		f.Add([]byte(ev.RequestContext.Authorizer), true)
	}
	for _, seed := range []string{
		`{"preferredRole":"arn:aws:iam::123456789012:role/rolegate-x","sub":"abcd"}`,
		`{"preferredRole":"arn:aws:iam::123456789012:role/rolegate-x:arn:aws:iam::999999999999:role/y","sub":"abcd"}`,
		`{"preferredRole":"arn:aws:iam::123456789012:role/rolegate-*","principalId":"abcd"}`,
		`{"preferredRole":["arn:aws:iam::123456789012:role/rolegate-x"],"sub":"abcd"}`,
		`{"preferredRole":"arn:aws:iam::123456789012:role/rolegate-x","sub":{"a":1}}`,
		`{"preferredRole":"arn:aws:iam::123456789012:role/rolegate-x","sub":"ab cd","username":"\u0000"}`,
		`{"claims":{"cognito:preferred_role":"arn:aws:iam::123456789012:role/rolegate-x"},"sub":"abcd"}`,
		`null`,
	} {
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, authorizer []byte, defaultAllowlist bool) {
		var m map[string]any
		if json.Unmarshal(authorizer, &m) != nil {
			return
		}
		prefix := "arn:aws:iam::123456789012:role/rolegate-"
		c := backend.Config{AllowedRoleARNs: []string{prefix + "*"}}
		if defaultAllowlist {
			prefix, c = "arn:aws:iam::123456789012:role/", backend.Config{}
		}
		stub := &stubSTS{}
		a, err := backend.NewAssumer(c, aws.Config{}, stub)
		if err != nil {
			t.Fatal(err)
		}
		req := withAuthorizer(m)
		cfg, id, err := a.ConfigFor(lambdaCtx(), req)
		if err != nil {
			if len(stub.calls) != 0 {
				t.Fatalf("refused (%v) after %d AssumeRole calls", err, len(stub.calls))
			}
			if cfg.Credentials != nil {
				t.Fatalf("refused (%v) but returned credentials", err)
			}
			if resp := backend.ErrorResponse(req, err); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("refusal %v answered %d, want 403", err, resp.StatusCode)
			}
			return
		}
		role, isString := m["preferredRole"].(string)
		if !isString || role != id.Role || !backend.ValidRoleARN(role) {
			t.Fatalf("assumed %q from preferredRole %#v", id.Role, m["preferredRole"])
		}
		if rest, ok := strings.CutPrefix(role, prefix); !ok || strings.Contains(rest, ":") {
			t.Fatalf("assumed %q outside the allowlist %q*", role, prefix)
		}
		if len(stub.calls) != 1 {
			t.Fatalf("%d AssumeRole calls, want 1", len(stub.calls))
		}
		in := stub.calls[0]
		user, _ := m["sub"].(string)
		if user == "" {
			user, _ = m["principalId"].(string)
		}
		if aws.ToString(in.RoleArn) != role || aws.ToString(in.SourceIdentity) != user || user == "" {
			t.Fatalf("AssumeRole(%q, SourceIdentity %q), want (%q, %q)", aws.ToString(in.RoleArn), aws.ToString(in.SourceIdentity), role, user)
		}
		if !sessionString.MatchString(aws.ToString(in.RoleSessionName)) {
			t.Fatalf("RoleSessionName %q is not acceptable to STS", aws.ToString(in.RoleSessionName))
		}
		if cfg.Credentials == nil {
			t.Fatal("success without credentials")
		}
	})
}
