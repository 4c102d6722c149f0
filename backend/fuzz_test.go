package backend_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/internal/arn"
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

// forgetfulSTS answers AssumeRole with credentials of real sizes (STS session
// tokens run to about a kilobyte) and keeps no record, which would weigh on
// the heap.
type forgetfulSTS struct{}

func (forgetfulSTS) AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return &sts.AssumeRoleOutput{Credentials: &types.Credentials{
		AccessKeyId:     aws.String(strings.Clone("ASIASTUBSTUBSTUBSTUB")),
		SecretAccessKey: aws.String(strings.Repeat("s", 40)),
		SessionToken:    aws.String(strings.Repeat("t", 1100)),
		Expiration:      aws.Time(time.Now().Add(time.Hour)),
	}}, nil
}

var (
	sessionString = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	tagValue      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
)

// FuzzRoleChoice feeds arbitrary authorizer contexts (as JSON, the way they
// arrive) and X-Rolegate-Role headers through ConfigFor and checks that a
// role is only ever assumed when it is one of the context's roles, chosen by
// the header's exact ARN or unique name, or else preferredRole, and inside
// the allowlist; and that every refusal is a clean 403 with no STS call.
func FuzzRoleChoice(f *testing.F) {
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
		f.Add([]byte(ev.RequestContext.Authorizer), "", uint8(0), false)
		f.Add([]byte(ev.RequestContext.Authorizer), "rolegate-readers", uint8(1), true)
	}
	const x, y = "arn:aws:iam::123456789012:role/rolegate-x", "arn:aws:iam::123456789012:role/team/rolegate-x"
	for _, seed := range []struct {
		ctx, header string
		mode        uint8
	}{
		{`{"preferredRole":"` + x + `","roles":"` + x + `","sub":"abcd"}`, "", 0},
		{`{"preferredRole":"","roles":"` + x + `,` + y + `","sub":"abcd"}`, "rolegate-x", 1},
		{`{"preferredRole":"","roles":"` + x + `,` + y + `","sub":"abcd"}`, y, 2},
		{`{"preferredRole":"` + x + `","roles":"` + x + `,` + y + `","sub":"abcd"}`, y, 3},
		{`{"preferredRole":"` + x + `","roles":"` + x + `","sub":"abcd"}`, "arn:aws:iam::123456789012:role/rolegate-admins", 4},
		{`{"preferredRole":"` + x + `:arn:aws:iam::999999999999:role/y","roles":"` + x + `","sub":"abcd"}`, "", 0},
		{`{"preferredRole":"arn:aws:iam::123456789012:role/rolegate-*","roles":"arn:aws:iam::123456789012:role/rolegate-*","principalId":"abcd"}`, "", 0},
		{`{"preferredRole":["` + x + `"],"sub":"abcd"}`, "", 0},
		{`{"preferredRole":"` + x + `","roles":"` + x + `","sub":"ab cd","username":"\u0000"}`, "", 0},
		{`{"claims":{"cognito:preferred_role":"` + x + `"},"sub":"abcd"}`, x, 1},
		{`null`, x, 1},
	} {
		f.Add([]byte(seed.ctx), seed.header, seed.mode, false)
	}
	f.Fuzz(func(t *testing.T, authorizer []byte, header string, mode uint8, defaultAllowlist bool) {
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
		h, err := backend.New(c, aws.Config{}, stub)
		if err != nil {
			t.Fatal(err)
		}
		req := withAuthorizer(m)
		switch mode % 5 { // 0: no header
		case 1:
			req.Headers = map[string]string{backend.RoleHeader: header}
		case 2:
			req = withHeader(req, backend.RoleHeader, header)
		case 3:
			req = withHeader(req, backend.RoleHeader, header, header)
		case 4:
			req = withHeader(req, "x-rolegate-ROLE", header)
		}
		cfg, id, err := h.ConfigFor(lambdaCtx(), req)
		if err != nil {
			if len(stub.calls) != 0 {
				t.Fatalf("refused (%v) after %d AssumeRole calls", err, len(stub.calls))
			}
			if cfg.Credentials != nil {
				t.Fatalf("refused (%v) but returned credentials", err)
			}
			if status := backend.ErrorStatus(err); status != http.StatusForbidden {
				t.Fatalf("refusal %v answered %d, want 403", err, status)
			}
			return
		}
		// The test's own reading of the context: what the role must come from.
		rolesValue, _ := m["roles"].(string)
		roles := strings.Split(rolesValue, ",")
		preferred, _ := m["preferredRole"].(string)
		name := func(r string) string { return r[strings.LastIndexByte(r, '/')+1:] }
		_, parseErr := arn.ParseRole(id.Role)
		switch {
		case !slices.Contains(roles, id.Role) || parseErr != nil:
			t.Fatalf("assumed %q, not one of the validated roles %q", id.Role, rolesValue)
		case mode%5 == 3:
			t.Fatalf("assumed %q with the header sent twice", id.Role)
		case mode%5 == 0 && id.Role != preferred:
			t.Fatalf("assumed %q without a header, preferredRole is %q", id.Role, preferred)
		case mode%5 != 0 && header != id.Role && header != name(id.Role):
			t.Fatalf("assumed %q for the header %q", id.Role, header)
		case mode%5 != 0 && header == name(id.Role) && slices.ContainsFunc(roles, func(r string) bool { return r != id.Role && name(r) == header }):
			t.Fatalf("assumed %q for the ambiguous name %q among %q", id.Role, header, rolesValue)
		}
		if rest, ok := strings.CutPrefix(id.Role, prefix); !ok || strings.Contains(rest, ":") {
			t.Fatalf("assumed %q outside the allowlist %q*", id.Role, prefix)
		}
		if len(stub.calls) != 1 {
			t.Fatalf("%d AssumeRole calls, want 1", len(stub.calls))
		}
		in := stub.calls[0]
		user, _ := m["sub"].(string)
		if user == "" {
			user, _ = m["principalId"].(string)
		}
		if aws.ToString(in.RoleArn) != id.Role || aws.ToString(in.SourceIdentity) != user || user == "" {
			t.Fatalf("AssumeRole(%q, SourceIdentity %q), want (%q, %q)", aws.ToString(in.RoleArn), aws.ToString(in.SourceIdentity), id.Role, user)
		}
		if !sessionString.MatchString(aws.ToString(in.RoleSessionName)) {
			t.Fatalf("RoleSessionName %q is not acceptable to STS", aws.ToString(in.RoleSessionName))
		}
		for _, tag := range in.Tags {
			if !tagValue.MatchString(aws.ToString(tag.Value)) {
				t.Fatalf("tag %s=%q is not acceptable to STS", aws.ToString(tag.Key), aws.ToString(tag.Value))
			}
		}
		if len(in.Tags) == 0 || aws.ToString(in.Tags[0].Key) != "sub" || aws.ToString(in.Tags[0].Value) != user {
			t.Fatalf("tags %v: want sub=%q first", in.Tags, user)
		}
		if cfg.Credentials == nil {
			t.Fatal("success without credentials")
		}
	})
}
