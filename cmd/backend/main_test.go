package main_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/backend/ststest"
	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/internal/local/rie/rietest"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
)

// TestBootstrapRefusesBadConfiguration checks that a misconfigured function
// fails its cold start, naming every problem, instead of failing requests.
func TestBootstrapRefusesBadConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	bin := rietest.Build(t, "./cmd/backend")
	logs := &syncbuf.Buffer{}
	fn := rietest.Start(t, rie.Options{Bootstrap: bin, Log: logs, Env: []string{
		"SESSION_TAGS=maybe", "METRICS_NAMESPACE=AWS/Lambda", "ALLOWED_ROLE_ARNS=rolegate-*",
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, err := fn.Invoke(ctx, []byte(`{"path":"/whoami","httpMethod":"GET"}`))
	if err == nil {
		if _, isErr := rie.ParseError(body); !isErr {
			t.Fatalf("a misconfigured function answered %s", body)
		}
	}
	// The function's output reaches the buffer behind the invoke response:
	// wait for it, not for time to pass.
	out, _ := logs.WaitFor(10*time.Second, func(s string) bool { return strings.Contains(s, "invalid configuration") })
	for _, want := range []string{"invalid configuration", "SESSION_TAGS", "METRICS_NAMESPACE", "ALLOWED_ROLE_ARNS"} {
		if !strings.Contains(out, want) {
			t.Errorf("the cold start did not say %q:\n%s", want, out)
		}
	}
}

// TestBootstrapServesHTTPAPIEvents runs the real bootstrap under the emulator on testdata's payload 2.0
// events, as an HTTP API sends them, in both ROLE_SOURCE modes, against a loopback STS.
func TestBootstrapServesHTTPAPIEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	srv := ststest.NewServer()
	t.Cleanup(srv.Close)
	bin := rietest.Build(t, "./cmd/backend")
	env := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + ststest.ExecAccessKeyID, "AWS_SECRET_ACCESS_KEY=" + ststest.ExecSecretAccessKey,
		"AWS_ENDPOINT_URL_STS=" + srv.URL, "ALLOWED_ROLE_ARNS=arn:aws:iam::123456789012:role/*"}
	for _, tt := range []struct {
		mode, file string
		env        []string
	}{
		{"rolegate", "backend-http-whoami.json", nil},
		{"jwt", "backend-http-jwt-whoami.json", []string{"ROLE_SOURCE=jwt", "USER_POOL_ID=us-east-1_AbCdEf123"}},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			fn := rietest.Start(t, rie.Options{Bootstrap: bin, Env: append(env, tt.env...)})
			sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			invoke := func(t *testing.T, ev []byte) events.APIGatewayV2HTTPResponse {
				t.Helper()
				body, err := fn.Invoke(context.Background(), ev)
				var resp events.APIGatewayV2HTTPResponse
				if err != nil || json.Unmarshal(body, &resp) != nil || resp.StatusCode == 0 {
					t.Fatalf("invoke: %v: %s", err, body)
				}
				return resp
			}
			if resp := invoke(t, sample); resp.StatusCode != 200 || !strings.Contains(resp.Body, `"role":"arn:aws:iam::123456789012:role/team/rolegate-admins"`) {
				t.Fatalf("answered %d %s", resp.StatusCode, resp.Body)
			}
			before := srv.Calls(ststest.AssumeRole)
			// The other mode's context is ignored: a 403 before any STS call.
			other := map[string]string{"rolegate": "backend-http-jwt-whoami.json", "jwt": "backend-http-whoami.json"}[tt.mode]
			otherEv, err := os.ReadFile(filepath.Join("..", "..", "testdata", other))
			if err != nil {
				t.Fatal(err)
			}
			if resp := invoke(t, otherEv); resp.StatusCode != 403 || srv.Calls(ststest.AssumeRole) != before {
				t.Fatalf("the other mode's event answered %d %s with %d AssumeRole calls", resp.StatusCode, resp.Body, srv.Calls(ststest.AssumeRole)-before)
			}
		})
	}
}
