package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
)

const readers = "arn:aws:iam::123456789012:role/rolegate-readers"

// TestHelloRunsAsTheCallersRole is the test docs/build-your-api.md walks
// through: the route behind the adapter, a loopback STS from backend/ststest,
// and an event as rolegate's authorizer leaves it.
func TestHelloRunsAsTheCallersRole(t *testing.T) {
	fakeSTS := ststest.NewServer()
	defer fakeSTS.Close()
	base := fakeSTS.Config()
	h, err := backend.New(backend.Config{AllowedRoleARNs: []string{readers}}, base, sts.NewFromConfig(base))
	if err != nil {
		t.Fatal(err)
	}
	handle := h.Proxy(backend.Route{Method: http.MethodGet, Path: "/hello", Func: hello})
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: "GET", Resource: "/hello", Path: "/hello",
		QueryStringParameters: map[string]string{"name": "team"},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r-1", Authorizer: map[string]any{
			"sub": "7c1f3e2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b", "username": "alice", "groups": "readers",
			"roles": readers, "preferredRole": readers,
		}},
	}
	resp, _ := handle(context.Background(), ev)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"runsAs":"`+ststest.ARN(readers, "alice")+`"`) {
		t.Fatalf("GET /hello: %d %s", resp.StatusCode, resp.Body)
	}
	ev.QueryStringParameters["name"] = strings.Repeat("x", 65)
	if resp, _ := handle(context.Background(), ev); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a long name: %d %s", resp.StatusCode, resp.Body)
	}
	for _, c := range fakeSTS.Log() { // the route's work never runs as the execution role
		if c.Action == ststest.GetCallerIdentity && c.AccessKeyID == ststest.ExecAccessKeyID {
			t.Errorf("GetCallerIdentity signed by the execution role")
		}
	}
}
