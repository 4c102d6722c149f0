package apigw

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests here pin behaviour where API Gateway's REST APIs differ from
// what a generic proxy (or SAM CLI's local API) would do; docs/local.md lists
// each with its source.

func sha256Base64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// send sends req through tg and returns the response and its body.
func (tg *testGateway) send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func newRequest(t *testing.T, method, url, body string, header http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return req
}

func TestGatewayServesOnlyItsStage(t *testing.T) {
	tg := newTestGateway(t, testConfig(t), answer(allowStage), answer(backendOK))
	base := strings.TrimSuffix(tg.URL, "/prod")
	tests := []struct {
		name   string
		url    string
		status int
		body   string
	}{
		{"the route under the stage is served", base + "/prod/whoami", 200, `{"ok":true}`},
		{"the route without the stage is not the API's", base + "/whoami", 403, `{"message":"Forbidden"}`},
		{"another stage is not the API's", base + "/beta/whoami", 403, `{"message":"Forbidden"}`},
		{"a stage name prefix is not the stage", base + "/production/whoami", 403, `{"message":"Forbidden"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tg.send(t, newRequest(t, "GET", tt.url, "", http.Header{"Authorization": {goodToken}}))
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.body)
			}
		})
	}
}

func TestProxyEventHasAWSShape(t *testing.T) {
	tg := newTestGateway(t, testConfig(t), answer(allowStage), answer(backendOK))
	tg.do(t, "GET", "/whoami", goodToken)
	var ev map[string]any
	tg.backend.last(t, &ev)
	if v, ok := ev["body"]; !ok || v != nil {
		t.Errorf("body = %#v (present %v), want null for an empty body", v, ok)
	}
	if v, ok := ev["isBase64Encoded"]; !ok || v != false {
		t.Errorf("isBase64Encoded = %#v (present %v), want false", v, ok)
	}
	for _, k := range []string{"pathParameters", "stageVariables"} {
		if v, ok := ev[k]; !ok || v != nil {
			t.Errorf("%s = %#v (present %v), want null", k, v, ok)
		}
	}
	identity := ev["requestContext"].(map[string]any)["identity"].(map[string]any)
	for _, k := range []string{"cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "principalOrgId",
		"accessKey", "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user",
		"apiKey", "apiKeyId", "clientCert", "vpcId", "vpceId"} {
		if v, ok := identity[k]; !ok || v != nil {
			t.Errorf("identity.%s = %#v (present %v), want null", k, v, ok)
		}
	}
}

func TestGatewayFollowsBinaryMediaTypes(t *testing.T) {
	c := testConfig(t)
	c.Routes = append(c.Routes, Route{Method: "POST", Path: "/upload"})
	c.BinaryMediaTypes = []string{"image/png", "audio/*"}
	png := "\x89PNG\r\n\x1a\n\x00\xff"
	requests := []struct {
		name, contentType, body string
		wantBody                string
		wantBase64              bool
	}{
		{"a binary media type is base64-encoded", "image/png", png, base64.StdEncoding.EncodeToString([]byte(png)), true},
		{"media type parameters and case do not matter", "Image/PNG; q=1", "x", "eA==", true},
		{"a wildcard subtype matches", "audio/mpeg", "ab", "YWI=", true},
		{"text is passed as text", "text/plain", "héllo", "héllo", false},
		{"bytes that are not UTF-8 are not encoded without a binary type", "application/json", "a\xffb", "a\ufffdb", false},
		{"no content type is not binary", "", "x", "x", false},
	}
	for _, tt := range requests {
		t.Run("request: "+tt.name, func(t *testing.T) {
			tg := newTestGateway(t, c, answer(allowStage), answer(backendOK))
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			if resp, body := tg.send(t, newRequest(t, "POST", tg.URL+"/upload", tt.body, h)); resp.StatusCode != 200 {
				t.Fatalf("status %d %s", resp.StatusCode, body)
			}
			var ev ProxyEvent
			tg.backend.last(t, &ev)
			if ev.Body == nil || *ev.Body != tt.wantBody || ev.IsBase64Encoded != tt.wantBase64 {
				t.Errorf("body %v base64 %v, want %q %v", ev.Body, ev.IsBase64Encoded, tt.wantBody, tt.wantBase64)
			}
		})
	}
	const encoded = `{"statusCode":200,"headers":{"Content-Type":"image/png"},"body":"aGVsbG8=","isBase64Encoded":true}`
	responses := []struct {
		name, accept, want string
	}{
		{"a base64 body is decoded when the first Accept type is binary", "image/png", "hello"},
		{"a base64 body stays base64 when the client accepts JSON", "application/json", "aGVsbG8="},
		{"only the first Accept type counts", "application/json, image/png", "aGVsbG8="},
		{"without Accept the body stays base64", "", "aGVsbG8="},
	}
	for _, tt := range responses {
		t.Run("response: "+tt.name, func(t *testing.T) {
			tg := newTestGateway(t, c, answer(allowStage), answer(encoded))
			h := http.Header{"Authorization": {goodToken}}
			if tt.accept != "" {
				h.Set("Accept", tt.accept)
			}
			resp, body := tg.send(t, newRequest(t, "GET", tg.URL+"/whoami", "", h))
			if resp.StatusCode != 200 || body != tt.want {
				t.Errorf("got %d %q, want %q", resp.StatusCode, body, tt.want)
			}
		})
	}
}

func TestGatewayMergesHeadersAndMultiValueHeaders(t *testing.T) {
	tests := []struct {
		name    string
		headers string
		multi   string
		want    []string
	}{
		{"different values are merged into one list", `{"X-A":"1"}`, `{"X-A":["2","3"]}`, []string{"2", "3", "1"}},
		{"a pair in both appears once, as multiValueHeaders has it", `{"X-A":"2"}`, `{"X-A":["2","3"]}`, []string{"2", "3"}},
		{"keys differing only in case are one header", `{"x-a":"1"}`, `{"X-A":["2"]}`, []string{"2", "1"}},
		{"headers alone are kept", `{"X-A":"1"}`, `{}`, []string{"1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backend := `{"statusCode":200,"headers":` + tt.headers + `,"multiValueHeaders":` + tt.multi + `,"body":""}`
			tg := newTestGateway(t, testConfig(t), answer(allowStage), answer(backend))
			resp, _ := tg.do(t, "GET", "/whoami", goodToken)
			if got := resp.Header.Values("X-A"); !slices.Equal(got, tt.want) {
				t.Errorf("X-A = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGatewayAppendsToXForwardedFor(t *testing.T) {
	tests := []struct {
		name string
		sent []string
		want string
	}{
		{"without one the peer is the whole header", nil, "127.0.0.1"},
		{"the client's value comes first, then the peer", []string{"203.0.113.9"}, "203.0.113.9, 127.0.0.1"},
		{"a list and repeated headers are kept in order", []string{"198.51.100.1, 203.0.113.9", "192.0.2.4"}, "198.51.100.1, 203.0.113.9, 192.0.2.4, 127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTestGateway(t, testConfig(t), answer(allowStage), answer(backendOK))
			h := http.Header{"Authorization": {goodToken}, "X-Forwarded-For": tt.sent}
			tg.send(t, newRequest(t, "GET", tg.URL+"/whoami", "", h))
			var ev ProxyEvent
			tg.backend.last(t, &ev)
			if got := ev.Headers["X-Forwarded-For"]; got != tt.want {
				t.Errorf("X-Forwarded-For = %q, want %q", got, tt.want)
			}
			if got := ev.MultiValueHeaders["X-Forwarded-For"]; !slices.Equal(got, []string{tt.want}) {
				t.Errorf("multiValueHeaders X-Forwarded-For = %q", got)
			}
			if ev.RequestContext.Identity.SourceIP != "127.0.0.1" {
				t.Errorf("sourceIp = %q, want the peer", ev.RequestContext.Identity.SourceIP)
			}
		})
	}
}

func TestGatewayThrottlesTheStage(t *testing.T) {
	c := testConfig(t)
	c.Throttle = Throttle{Rate: 2, Burst: 3}
	tg := newTestGateway(t, c, answer(allowStage), answer(backendOK))
	steps := []struct {
		name    string
		advance time.Duration
		want    []int // statuses of back-to-back requests
	}{
		{"a full bucket lets a burst through, then answers 429", 0, []int{200, 200, 200, 429, 429}},
		{"half a second at 2/s refills one token", 500 * time.Millisecond, []int{200, 429}},
		{"a long pause refills up to the burst, not beyond", time.Minute, []int{200, 200, 200, 429}},
	}
	for _, s := range steps {
		tg.clock.Advance(s.advance)
		for i, want := range s.want {
			resp, body := tg.do(t, "GET", "/whoami", goodToken)
			if resp.StatusCode != want {
				t.Fatalf("%s: request %d: status %d, want %d", s.name, i, resp.StatusCode, want)
			}
			if want == 429 && (body != `{"message":"Too Many Requests"}` || resp.Header.Get("x-amzn-ErrorType") != "TooManyRequestsException") {
				t.Errorf("%s: 429 body %s, type %q", s.name, body, resp.Header.Get("x-amzn-ErrorType"))
			}
		}
	}
	st := tg.gw.Stats()
	if st.Throttled != 4 || st.BackendInvocations != 7 || st.AuthorizerInvocations != 1 {
		t.Errorf("stats = %+v, want 4 throttled, 7 backend invocations, 1 authorizer invocation", st)
	}
}

func TestThrottledAnswerUsesTheTemplatesDefault4XX(t *testing.T) {
	c := testConfig(t)
	c.Throttle = Throttle{Rate: 1, Burst: 1}
	c.Responses = map[string]GatewayResponse{ResponseDefault4XX: {Templates: map[string]string{"application/json": `{"error":$context.error.messageString}`}}}
	tg := newTestGateway(t, c, answer(allowStage), answer(backendOK))
	tg.do(t, "GET", "/whoami", goodToken)
	resp, body := tg.do(t, "GET", "/whoami", goodToken)
	if resp.StatusCode != 429 || body != `{"error":"Too Many Requests"}` {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}

func TestThrottleValidate(t *testing.T) {
	for _, th := range []Throttle{{Rate: 1}, {Burst: 1}, {Rate: -1, Burst: 1}} {
		if th.validate() == nil {
			t.Errorf("%+v accepted", th)
		}
	}
}
