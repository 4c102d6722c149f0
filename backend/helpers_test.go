package backend_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/emf/emftest"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
)

const (
	readers    = "arn:aws:iam::123456789012:role/rolegate-readers"
	admins     = "arn:aws:iam::123456789012:role/team/rolegate-admins"
	aliceSub   = "7c1f3e2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b"
	bobSub     = "2e4c6a8b-1d3f-4a5b-9c7d-8e0f1a2b3c4d"
	functionID = "arn:aws:lambda:us-east-1:123456789012:function:rolegate-backend"
)

// fixture is a handler wired to a fake STS, with its log captured.
type fixture struct {
	h    *backend.Handler
	sts  *ststest.Server
	logs *syncbuf.Buffer
}

func newFixture(t testing.TB, c backend.Config, opts ...backend.Option) *fixture {
	t.Helper()
	srv := ststest.NewServer()
	t.Cleanup(srv.Close)
	base := srv.Config()
	logs := &syncbuf.Buffer{}
	h, err := backend.New(c, base, sts.NewFromConfig(base), append([]backend.Option{
		backend.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{h: h, sts: srv, logs: logs}
}

// lambdaCtx is the context the Lambda runtime gives an invocation of the
// function in account 123456789012.
func lambdaCtx() context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       "lambda-request-1",
		InvokedFunctionArn: functionID,
	})
}

// whoamiEvent is GET /whoami with the flat context rolegate's authorizer
// writes for a user whose one role is role.
func whoamiEvent(role, sub, username string) events.APIGatewayProxyRequest {
	return rolesEvent(role, []string{role}, sub, username)
}

// rolesEvent is GET /whoami for a user with several roles, one preferred.
func rolesEvent(preferred string, roles []string, sub, username string) events.APIGatewayProxyRequest {
	return withAuthorizer(map[string]any{
		"principalId":        sub,
		"sub":                sub,
		"username":           username,
		"groups":             "readers",
		"preferredRole":      preferred,
		"roles":              strings.Join(roles, ","),
		"integrationLatency": 312.0, // JSON numbers decode to float64
	})
}

// withHeader returns req with the header name: value, as API Gateway passes
// it, in both header maps.
func withHeader(req events.APIGatewayProxyRequest, name string, values ...string) events.APIGatewayProxyRequest {
	if req.Headers == nil {
		req.Headers, req.MultiValueHeaders = map[string]string{}, map[string][]string{}
	}
	req.Headers[name] = values[len(values)-1]
	req.MultiValueHeaders[name] = values
	return req
}

func withAuthorizer(a map[string]any) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		Resource:   "/whoami",
		Path:       "/whoami",
		HTTPMethod: "GET",
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:  "apigw-request-1",
			Authorizer: a,
		},
	}
}

// readEvent loads a proxy event from the repository's testdata.
func readEvent(t testing.TB, name string) events.APIGatewayProxyRequest {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

func (f *fixture) handle(t testing.TB, ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := f.h.Handle(ctx, req)
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	return resp
}

// lastLog validates the last log line as an EMF document and returns it.
func (f *fixture) lastLog(t testing.TB) emftest.Document {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	d, err := emftest.Validate([]byte(lines[len(lines)-1]))
	if err != nil {
		t.Fatalf("log line %q: %v", lines[len(lines)-1], err)
	}
	return d
}

// assertNoExecWork fails if any GetCallerIdentity (user work) was signed with
// the execution role's key.
func (f *fixture) assertNoExecWork(t testing.TB) {
	t.Helper()
	for _, c := range f.sts.Log() {
		if c.Action == ststest.GetCallerIdentity && c.AccessKeyID == ststest.ExecAccessKeyID {
			t.Fatalf("user work ran with the execution role: %+v", c)
		}
	}
}

// assertNoSecrets fails if any issued secret, session token or the execution
// secret appears in text.
func (f *fixture) assertNoSecrets(t testing.TB, what, text string) {
	t.Helper()
	if strings.Contains(text, ststest.ExecSecretAccessKey) {
		t.Fatalf("%s contains the execution secret", what)
	}
	for _, c := range f.sts.Issued() {
		if strings.Contains(text, c.SecretAccessKey) || strings.Contains(text, c.SessionToken) || strings.Contains(text, c.AccessKeyID) {
			t.Fatalf("%s contains issued credentials", what)
		}
	}
}
