package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/internal/testkit/clocktest"
)

// stubFunction is an Invoker that records payloads and answers with answer.
type stubFunction struct {
	mu       sync.Mutex
	payloads [][]byte
	answer   func(payload []byte) ([]byte, error)
}

func (s *stubFunction) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	s.mu.Lock()
	s.payloads = append(s.payloads, payload)
	s.mu.Unlock()
	return s.answer(payload)
}

func (s *stubFunction) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.payloads)
}

func (s *stubFunction) last(t *testing.T, v any) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.payloads) == 0 {
		t.Fatal("never invoked")
	}
	if err := json.Unmarshal(s.payloads[len(s.payloads)-1], v); err != nil {
		t.Fatal(err)
	}
}

func answer(body string) func([]byte) ([]byte, error) {
	return func([]byte) ([]byte, error) { return []byte(body), nil }
}

const (
	allowStage = `{"principalId":"sub-1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"]}]},"context":{"sub":"sub-1","username":"alice","preferredRole":"arn:aws:iam::123456789012:role/admins","n":7,"b":false}}`
	denyStage  = `{"principalId":"sub-1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke"],"Effect":"Deny","Resource":["arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"]}]},"context":{"sub":"sub-1"}}`
	allowBeta  = `{"principalId":"sub-1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["arn:aws:execute-api:us-east-1:123456789012:abc123/beta/*"]}]}}`
	backendOK  = `{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"ok\":true}"}`
	goodToken  = "Bearer aaa.bbb.ccc"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	id, err := NewIdentity("method.request.header.Authorization", bearerOrBare)
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Routes:   []Route{{Method: "GET", Path: "/whoami", Authorized: true}, {Method: "GET", Path: "/health"}},
		Identity: id, TTL: 300 * time.Second,
		Region: "us-east-1", AccountID: "123456789012", APIID: "abc123", Stage: "prod",
	}
}

type testGateway struct {
	URL        string
	gw         *Gateway
	authorizer *stubFunction
	backend    *stubFunction
	clock      *clocktest.Clock
}

func newTestGateway(t *testing.T, c Config, authz, backend func([]byte) ([]byte, error)) *testGateway {
	t.Helper()
	tg := &testGateway{authorizer: &stubFunction{answer: authz}, backend: &stubFunction{answer: backend}, clock: clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	tg.gw, tg.URL = serveGateway(t, c, Deps{Authorizer: tg.authorizer, Backend: tg.backend, Now: tg.clock.Now})
	return tg
}

// serveGateway serves a gateway built from c and d on loopback for the
// duration of t, and returns it with its stage's URL.
func serveGateway(t *testing.T, c Config, d Deps) (*Gateway, string) {
	t.Helper()
	gw, err := NewGateway(c, d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return gw, srv.URL + "/" + c.Stage
}

// do sends method path (below the stage) with auth as Authorization.
func (tg *testGateway) do(t *testing.T, method, path, auth string) (*http.Response, string) {
	t.Helper()
	h := http.Header{}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	return tg.send(t, newRequest(t, method, tg.URL+path, "", h))
}

func TestGatewayOutcomes(t *testing.T) {
	tests := []struct {
		name          string
		authz         func([]byte) ([]byte, error)
		backend       string
		method, path  string
		auth          string
		status        int
		body          string
		errorType     string
		authzCalls    int
		backendCalls  int
		bodyIsBackend bool
	}{
		{name: "an allowed token reaches the backend", authz: answer(allowStage), backend: backendOK,
			method: "GET", path: "/whoami", auth: goodToken, status: 200, body: `{"ok":true}`, authzCalls: 1, backendCalls: 1},
		{name: "a missing header is 401 without invoking the authorizer", authz: answer(allowStage), backend: backendOK,
			method: "GET", path: "/whoami", status: 401, body: `{"message":"Unauthorized"}`, errorType: "UnauthorizedException"},
		{name: "a header failing the validation expression is 401 without invoking the authorizer", authz: answer(allowStage), backend: backendOK,
			method: "GET", path: "/whoami", auth: "Basic dXNlcjpwdw==", status: 401, body: `{"message":"Unauthorized"}`},
		{name: "the authorizer's Unauthorized is 401", authz: answer(`{"errorMessage":"Unauthorized","errorType":"errorString"}`), backend: backendOK,
			method: "GET", path: "/whoami", auth: goodToken, status: 401, body: `{"message":"Unauthorized"}`, errorType: "UnauthorizedException", authzCalls: 1},
		{name: "a Deny policy is 403 with API Gateway's explicit-deny body", authz: answer(denyStage), backend: backendOK,
			method: "GET", path: "/whoami", auth: goodToken, status: 403,
			body: `{"Message":"User is not authorized to access this resource with an explicit deny"}`, errorType: "AccessDeniedException", authzCalls: 1},
		{name: "an Allow for another stage is an implicit deny", authz: answer(allowBeta), backend: backendOK,
			method: "GET", path: "/whoami", auth: goodToken, status: 403,
			body: `{"Message":"User is not authorized to access this resource"}`, authzCalls: 1},
		{name: "any other authorizer error is 500", authz: answer(`{"errorMessage":"keys unavailable","errorType":"errorString"}`), backend: backendOK,
			method: "GET", path: "/whoami", auth: goodToken, status: 500, body: `{"message": null}`, errorType: "AuthorizerConfigurationException", authzCalls: 1},
		{name: "an authorizer that cannot be invoked is 500", authz: func([]byte) ([]byte, error) { return nil, errors.New("connection refused") }, backend: backendOK,
			method: "GET", path: "/whoami", auth: goodToken, status: 500, errorType: "AuthorizerConfigurationException", authzCalls: 1},
		{name: "a policy with a nested context value is 500", authz: answer(`{"principalId":"p","policyDocument":{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}]},"context":{"x":{"y":1}}}`), backend: backendOK,
			method: "GET", path: "/whoami", auth: goodToken, status: 500, errorType: "AuthorizerConfigurationException", authzCalls: 1},
		{name: "a response without principalId is 500", authz: answer(`{"policyDocument":{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}]}}`), backend: backendOK,
			method: "GET", path: "/whoami", auth: goodToken, status: 500, authzCalls: 1},
		{name: "an unknown path without Authorization is 403 Missing Authentication Token", authz: answer(allowStage), backend: backendOK,
			method: "GET", path: "/nope", status: 403, body: `{"message":"Missing Authentication Token"}`, errorType: "MissingAuthenticationTokenException"},
		{name: "an unknown method on a known path without Authorization is 403 Missing Authentication Token", authz: answer(allowStage), backend: backendOK,
			method: "DELETE", path: "/whoami", status: 403, body: `{"message":"Missing Authentication Token"}`},
		{name: "an unknown path with a bearer token is 403 with the SigV4 parser's complaint", authz: answer(allowStage), backend: backendOK,
			method: "GET", path: "/nope", auth: goodToken, status: 403, errorType: "IncompleteSignatureException",
			body: `{"message":"Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '` + sha256Base64(goodToken) + `'."}`},
		{name: "an unknown method with a key=value Authorization asks for SigV4's parameters", authz: answer(allowStage), backend: backendOK,
			method: "DELETE", path: "/whoami", auth: "Custom a=b, c=d", status: 403, errorType: "IncompleteSignatureException",
			body: `{"message":"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."}`},
		{name: "an open route reaches the backend without a token", authz: answer(allowStage), backend: backendOK,
			method: "GET", path: "/health", status: 200, body: `{"ok":true}`, backendCalls: 1},
		{name: "a malformed proxy response is 502", authz: answer(allowStage), backend: `{"statusCode":200,"body":{"not":"a string"}}`,
			method: "GET", path: "/whoami", auth: goodToken, status: 502, body: `{"message": "Internal server error"}`, authzCalls: 1, backendCalls: 1},
		{name: "a proxy response without statusCode is 502", authz: answer(allowStage), backend: `{"body":"x"}`,
			method: "GET", path: "/whoami", auth: goodToken, status: 502, authzCalls: 1, backendCalls: 1},
		{name: "a backend function error is 502", authz: answer(allowStage), backend: `{"errorMessage":"boom","errorType":"x"}`,
			method: "GET", path: "/whoami", auth: goodToken, status: 502, body: `{"message": "Internal server error"}`, authzCalls: 1, backendCalls: 1},
		{name: "the backend's own status passes through", authz: answer(allowStage), backend: `{"statusCode":403,"headers":{},"body":"{\"message\":\"no role\"}"}`,
			method: "GET", path: "/whoami", auth: goodToken, status: 403, body: `{"message":"no role"}`, authzCalls: 1, backendCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTestGateway(t, testConfig(t), tt.authz, answer(tt.backend))
			resp, body := tg.do(t, tt.method, tt.path, tt.auth)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tt.status, body)
			}
			if tt.body != "" && body != tt.body {
				t.Errorf("body = %s, want %s", body, tt.body)
			}
			if tt.errorType != "" && resp.Header.Get("x-amzn-ErrorType") != tt.errorType {
				t.Errorf("x-amzn-ErrorType = %q, want %q", resp.Header.Get("x-amzn-ErrorType"), tt.errorType)
			}
			if resp.Header.Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId")
			}
			if n := tg.authorizer.calls(); n != tt.authzCalls {
				t.Errorf("authorizer invocations = %d, want %d", n, tt.authzCalls)
			}
			if n := tg.backend.calls(); n != tt.backendCalls {
				t.Errorf("backend invocations = %d, want %d", n, tt.backendCalls)
			}
			if s := tg.gw.Stats(); s.AuthorizerInvocations != int64(tt.authzCalls) || s.BackendInvocations != int64(tt.backendCalls) {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestGatewayProxyEvent(t *testing.T) {
	tg := newTestGateway(t, testConfig(t), answer(allowStage), answer(backendOK))
	req, _ := http.NewRequest("GET", tg.URL+"/whoami?preferredRole=evil&a=1&a=2", nil)
	req.Header.Set("Authorization", goodToken)
	req.Header.Set("X-Role", "arn:aws:iam::123456789012:role/evil")
	req.Header.Set("User-Agent", "test-agent")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	var authzEvent events.APIGatewayCustomAuthorizerRequest
	tg.authorizer.last(t, &authzEvent)
	if authzEvent.Type != "TOKEN" || authzEvent.AuthorizationToken != goodToken ||
		authzEvent.MethodArn != "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/whoami" {
		t.Errorf("authorizer event = %+v", authzEvent)
	}

	var ev ProxyEvent
	tg.backend.last(t, &ev)
	rc := ev.RequestContext
	checks := []struct{ name, got, want string }{
		{"resource", ev.Resource, "/whoami"},
		{"path", ev.Path, "/whoami"},
		{"httpMethod", ev.HTTPMethod, "GET"},
		{"requestContext.resourcePath", rc.ResourcePath, "/whoami"},
		{"requestContext.path", rc.Path, "/prod/whoami"},
		{"requestContext.stage", rc.Stage, "prod"},
		{"requestContext.accountId", rc.AccountID, "123456789012"},
		{"requestContext.apiId", rc.APIID, "abc123"},
		{"requestContext.requestId", rc.RequestID, resp.Header.Get("x-amzn-RequestId")},
		{"requestContext.identity.sourceIp", rc.Identity.SourceIP, "127.0.0.1"},
		{"requestContext.identity.userAgent", rc.Identity.UserAgent, "test-agent"},
		{"query (last value)", ev.QueryStringParameters["a"], "2"},
		{"header", ev.Headers["X-Role"], "arn:aws:iam::123456789012:role/evil"},
		{"authorizer.principalId", str(rc.Authorizer["principalId"]), "sub-1"},
		{"authorizer.username", str(rc.Authorizer["username"]), "alice"},
		{"authorizer.preferredRole", str(rc.Authorizer["preferredRole"]), "arn:aws:iam::123456789012:role/admins"},
		{"a numeric context value arrives as a string", str(rc.Authorizer["n"]), "7"},
		{"a boolean context value arrives as a string", str(rc.Authorizer["b"]), "false"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if _, ok := rc.Authorizer["integrationLatency"].(float64); !ok {
		t.Errorf("authorizer.integrationLatency = %#v, want a number", rc.Authorizer["integrationLatency"])
	}
	if got := ev.MultiValueQueryStringParameters["a"]; len(got) != 2 {
		t.Errorf("multiValueQueryStringParameters.a = %v", got)
	}
}

func str(v any) string { s, _ := v.(string); return s }

func TestGatewayCachesAuthorizerResultPerTokenForTTL(t *testing.T) {
	c := testConfig(t)
	c.Routes = append(c.Routes, Route{Method: "ANY", Path: "/items/{id}", Authorized: true})
	tg := newTestGateway(t, c, answer(allowStage), answer(backendOK))
	steps := []struct {
		name      string
		advance   time.Duration
		path      string
		auth      string
		wantCalls int
	}{
		{"the first call invokes the authorizer", 0, "/whoami", goodToken, 1},
		{"a repeat within the TTL uses the cache", 10 * time.Second, "/whoami", goodToken, 1},
		{"another method of the stage uses the cached policy", 0, "/items/7", goodToken, 1},
		{"the same JWT sent bare is another cache key", 0, "/whoami", "aaa.bbb.ccc", 2},
		{"just before the TTL the cache still answers", 289 * time.Second, "/whoami", goodToken, 2},
		{"at the TTL the authorizer runs again", time.Second, "/whoami", goodToken, 3},
	}
	for _, s := range steps {
		tg.clock.Advance(s.advance)
		resp, body := tg.do(t, "GET", s.path, s.auth)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d %s", s.name, resp.StatusCode, body)
		}
		if n := tg.authorizer.calls(); n != s.wantCalls {
			t.Errorf("%s: authorizer invocations = %d, want %d", s.name, n, s.wantCalls)
		}
	}
	var ev ProxyEvent
	tg.backend.last(t, &ev)
	if v := ev.RequestContext.Authorizer["integrationLatency"]; v != float64(0) {
		t.Errorf("integrationLatency on a cached result = %v, want 0", v)
	}
}

func TestGatewayCachedDenyIsEvaluatedPerMethod(t *testing.T) {
	c := testConfig(t)
	c.Routes = append(c.Routes, Route{Method: "DELETE", Path: "/whoami", Authorized: true})
	policy := `{"principalId":"p","policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"},{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/DELETE/*"}]}}`
	tg := newTestGateway(t, c, answer(policy), answer(backendOK))
	if resp, _ := tg.do(t, "GET", "/whoami", goodToken); resp.StatusCode != 200 {
		t.Errorf("GET status = %d, want 200", resp.StatusCode)
	}
	if resp, _ := tg.do(t, "DELETE", "/whoami", goodToken); resp.StatusCode != 403 {
		t.Errorf("DELETE status = %d, want 403", resp.StatusCode)
	}
	if n := tg.authorizer.calls(); n != 1 {
		t.Errorf("authorizer invocations = %d, want 1", n)
	}
}

func TestGatewayResponsesFromTheTemplate(t *testing.T) {
	c := testConfig(t)
	c.Responses = map[string]GatewayResponse{
		ResponseUnauthorized: {StatusCode: 401, Headers: map[string]string{"Access-Control-Allow-Origin": "*"},
			Templates: map[string]string{"application/json": `{"message":$context.error.messageString,"requestId":"$context.requestId"}`}},
		ResponseAccessDenied: {Templates: map[string]string{"application/json": `{"message":$context.error.messageString}`}},
		ResponseDefault5XX:   {Templates: map[string]string{"application/json": `{"message":$context.error.messageString,"type":"${context.error.responseType}"}`}},
	}
	tests := []struct {
		name, authz, auth string
		status            int
		body              string
	}{
		{"UNAUTHORIZED uses its template", allowStage, "", 401, `{"message":"Unauthorized","requestId":"req-1"}`},
		{"ACCESS_DENIED keeps the default status", denyStage, goodToken, 403, `{"message":"User is not authorized to access this resource with an explicit deny"}`},
		{"an authorizer failure falls back to DEFAULT_5XX", `{"errorMessage":"boom"}`, goodToken, 500, `{"message":null,"type":"AUTHORIZER_FAILURE"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &testGateway{authorizer: &stubFunction{answer: answer(tt.authz)}, backend: &stubFunction{answer: answer(backendOK)}}
			tg.gw, tg.URL = serveGateway(t, c, Deps{Authorizer: tg.authorizer, Backend: tg.backend, RequestID: func() string { return "req-1" }})
			resp, body := tg.do(t, "GET", "/whoami", tt.auth)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.body)
			}
			if tt.status == 401 && resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("header from the gateway response missing")
			}
		})
	}
}

func TestGatewayMapsProxyResponses(t *testing.T) {
	tests := []struct {
		name        string
		backend     string
		status      int
		body        string
		header, val string
	}{
		{"multi-value headers are all sent", `{"statusCode":200,"headers":{"X-A":"1"},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"]},"body":""}`, 200, "", "X-A", "1"},
		{"the backend's content type is kept", `{"statusCode":200,"headers":{"content-type":"text/plain"},"body":"hi"}`, 200, "hi", "Content-Type", "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTestGateway(t, testConfig(t), answer(allowStage), answer(tt.backend))
			resp, body := tg.do(t, "GET", "/whoami", goodToken)
			if resp.StatusCode != tt.status || body != tt.body || resp.Header.Get(tt.header) != tt.val {
				t.Errorf("got %d %q %s=%q", resp.StatusCode, body, tt.header, resp.Header.Get(tt.header))
			}
			if strings.Contains(tt.backend, "Set-Cookie") && len(resp.Header.Values("Set-Cookie")) != 2 {
				t.Errorf("Set-Cookie = %v", resp.Header.Values("Set-Cookie"))
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	good := testConfig(t)
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"no routes", func(c *Config) { c.Routes = nil }},
		{"a route without a leading slash", func(c *Config) { c.Routes = []Route{{Method: "GET", Path: "x"}} }},
		{"a greedy segment before the end", func(c *Config) { c.Routes = []Route{{Method: "GET", Path: "/{p+}/x"}} }},
		{"an authorized route without identity source", func(c *Config) { c.Identity = Identity{} }},
		{"a TTL over an hour", func(c *Config) { c.TTL = 2 * time.Hour }},
		{"a short account id", func(c *Config) { c.AccountID = "123" }},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.mutate(&c)
			if err := c.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
		})
	}
}

func TestRouterRanksLiteralsBeforeParameters(t *testing.T) {
	rt := newRouter([]Route{
		{Method: "ANY", Path: "/{proxy+}"},
		{Method: "GET", Path: "/items/{id}"},
		{Method: "GET", Path: "/items/special"},
		{Method: "GET", Path: "/"},
	})
	tests := []struct{ method, path, want, param string }{
		{"GET", "/items/special", "/items/special", ""},
		{"GET", "/items/42", "/items/{id}", "42"},
		{"POST", "/items/42", "/{proxy+}", "items/42"},
		{"GET", "/a/b/c", "/{proxy+}", "a/b/c"},
		{"GET", "/", "/", ""},
	}
	for _, tt := range tests {
		r, params, ok := rt.match(tt.method, tt.path)
		if !ok || r.Path != tt.want {
			t.Errorf("%s %s → %v %v, want %s", tt.method, tt.path, r, ok, tt.want)
			continue
		}
		if tt.param != "" && params["id"] != tt.param && params["proxy"] != tt.param {
			t.Errorf("%s %s params = %v", tt.method, tt.path, params)
		}
	}
}

var update = flag.Bool("update", false, "rewrite ../../../testdata/local-*.json golden files")

// TestProxyEventGolden pins the event the local gateway hands the backend in
// ../../../testdata/local-proxy-event.json, next to the backend's own samples of
// what API Gateway sends, so a reader can compare the two.
func TestProxyEventGolden(t *testing.T) {
	c := testConfig(t)
	c.Tracing = true // as deploy/template.yaml's stage has it
	tg := &testGateway{authorizer: &stubFunction{answer: answer(allowStage)}, backend: &stubFunction{answer: answer(backendOK)}, clock: clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	_, url := serveGateway(t, c, Deps{Authorizer: tg.authorizer, Backend: tg.backend, Now: tg.clock.Now,
		RequestID: func() string { return "5b9c1e7d-3a2f-4c8e-9d1b-2f3a4b5c6d7e" }})
	req, _ := http.NewRequest("GET", url+"/whoami?verbose=1", nil)
	req.Host = "127.0.0.1:3000"
	req.Header.Set("Authorization", goodToken)
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	var got map[string]any
	tg.backend.last(t, &got)
	const golden = "../../../testdata/local-proxy-event.json"
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestProxyEventGolden -update to create it)", err)
	}
	var want map[string]any
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("proxy event changed; run with -update if intended:\n%s", gotJSON)
	}
}

// FuzzParseProxyResponse feeds the bytes a backend function returns: never a
// panic, and a success always carries a valid status.
func FuzzParseProxyResponse(f *testing.F) {
	f.Add([]byte(backendOK))
	f.Add([]byte(`{"statusCode":200,"body":"aGk=","isBase64Encoded":true,"multiValueHeaders":{"A":["1","2"]}}`))
	f.Add([]byte(`{"statusCode":"200"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		status, h, _, err := parseProxyResponse(b, true)
		if err != nil {
			if !errors.Is(err, errMalformedProxyResponse) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if status < 100 || status > 599 || h.Get("Content-Type") == "" {
			t.Fatalf("status %d, headers %v", status, h)
		}
	})
}

// BenchmarkGatewayCachedRequest times the gateway's own work for a request
// whose authorizer result is cached, with in-process stub functions: the
// overhead the local gateway adds to each call.
func BenchmarkGatewayCachedRequest(b *testing.B) {
	id, err := NewIdentity("method.request.header.Authorization", bearerOrBare)
	if err != nil {
		b.Fatal(err)
	}
	c := Config{Routes: []Route{{Method: "GET", Path: "/whoami", Authorized: true}}, Identity: id, TTL: time.Hour,
		Region: "us-east-1", AccountID: "123456789012", APIID: "abc123", Stage: "prod"}
	gw, err := NewGateway(c, Deps{Authorizer: &stubFunction{answer: answer(allowStage)}, Backend: &stubFunction{answer: answer(backendOK)}})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/prod/whoami", nil)
	req.Header.Set("Authorization", goodToken)
	for b.Loop() {
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}
