package apigw

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests here read a template, serve the gateway ReadAPI makes of it on
// loopback and send it requests: each setting of docs/local.md's fidelity
// table, as the running gateway applies it.

// templateGateway serves the API of apiTemplate plus extra.
func templateGateway(t *testing.T, extra string, authz, backend func([]byte) ([]byte, error)) (*testGateway, API) {
	t.Helper()
	a, err := readAPI(t, extra)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Config
	c.APIID = "abc123"
	return newTestGateway(t, c, authz, backend), a
}

func TestEventSaysTheClientCameOverHTTPSToTheAPIsName(t *testing.T) {
	tg := newTestGateway(t, testConfig(t), answer(allowStage), answer(backendOK))
	tg.do(t, "GET", "/whoami", goodToken)
	var ev ProxyEvent
	tg.backend.last(t, &ev)
	const domain = "abc123.execute-api.us-east-1.amazonaws.com"
	for k, want := range map[string]string{"Host": domain, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"} {
		if got := ev.Headers[k]; got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	rc := ev.RequestContext
	if rc.DomainName != domain || rc.DomainPrefix != "abc123" {
		t.Errorf("domainName %q, domainPrefix %q", rc.DomainName, rc.DomainPrefix)
	}
	if rc.ExtendedRequestID == rc.RequestID || !regexp.MustCompile(`^[A-Za-z0-9+/]{15}=$`).MatchString(rc.ExtendedRequestID) {
		t.Errorf("extendedRequestId %q (requestId %q): want a value of its own, of AWS's shape", rc.ExtendedRequestID, rc.RequestID)
	}
}

func TestEventCarriesATraceHeaderWhenTheStageTraces(t *testing.T) {
	tests := []struct {
		name    string
		tracing string
		sent    string
		want    string // a pattern; empty: no header
	}{
		{"a traced stage adds a trace header", "true", "", `^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`},
		{"a traced stage keeps the client's", "true", "Root=1-5759e988-bd862e3fe1be46a994272793", `^Root=1-5759e988-bd862e3fe1be46a994272793$`},
		{"an untraced stage adds none", "false", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, _ := templateGateway(t, `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {StageName: prod, TracingEnabled: `+tt.tracing+`}}
`, answer(allowStage), answer(backendOK))
			h := http.Header{"Authorization": {goodToken}}
			if tt.sent != "" {
				h.Set("X-Amzn-Trace-Id", tt.sent)
			}
			tg.send(t, newRequest(t, "GET", tg.URL+"/", "", h))
			var ev ProxyEvent
			tg.backend.last(t, &ev)
			got, ok := ev.Headers["X-Amzn-Trace-Id"]
			if tt.want == "" && ok || tt.want != "" && !regexp.MustCompile(tt.want).MatchString(got) {
				t.Errorf("X-Amzn-Trace-Id = %q (present %v), want %s", got, ok, tt.want)
			}
		})
	}
}

// ctxFunction is an Invoker that hands its answer the invocation's context.
type ctxFunction struct {
	answer func(context.Context, []byte) ([]byte, error)
}

func (f *ctxFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f.answer(ctx, payload)
}

// blockUntilDone is a backend that answers only when its context ends, and
// says how long it was given.
func blockUntilDone(given *time.Duration) func(context.Context, []byte) ([]byte, error) {
	return func(ctx context.Context, _ []byte) ([]byte, error) {
		if d, ok := ctx.Deadline(); ok {
			*given = time.Until(d)
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
}

func TestIntegrationTimeoutInMillisGivesA504(t *testing.T) {
	tpl := strings.Replace(apiTemplate, "Integration: {Type: AWS_PROXY,", "Integration: {Type: AWS_PROXY, TimeoutInMillis: 50,", 1)
	a, err := readTemplate(t, tpl)
	if err != nil {
		t.Fatal(err)
	}
	if a.Config.Routes[0].Timeout != 50*time.Millisecond {
		t.Fatalf("timeout = %s, want 50ms", a.Config.Routes[0].Timeout)
	}
	c := a.Config
	c.APIID = "abc123"
	var given time.Duration
	backend := &ctxFunction{answer: blockUntilDone(&given)}
	_, url := serveGateway(t, c, Deps{Authorizer: &stubFunction{answer: answer(allowStage)}, Backend: backend})
	resp, body := (&testGateway{}).send(t, newRequest(t, "GET", url+"/", "", http.Header{"Authorization": {goodToken}}))
	if resp.StatusCode != 504 || body != `{"message": "Endpoint request timed out"}` {
		t.Errorf("got %d %s, want 504", resp.StatusCode, body)
	}
	if given > 50*time.Millisecond || given <= 0 {
		t.Errorf("the backend was given %s, want at most the template's 50ms", given)
	}
}

func TestIntegrationTimeoutOutsideAPIGatewaysRangeIsRefused(t *testing.T) {
	tests := []struct {
		name, timeout, endpoint string
		ok                      bool
	}{
		{"below 50 ms", "49", "REGIONAL", false},
		{"29 s on an edge API", "29000", "EDGE", true},
		{"above 29 s on an edge API", "29001", "EDGE", false},
		{"above 29 s on a Regional API", "60000", "REGIONAL", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := strings.Replace(apiTemplate, "Integration: {Type: AWS_PROXY,", "Integration: {Type: AWS_PROXY, TimeoutInMillis: "+tt.timeout+",", 1)
			tpl = strings.Replace(tpl, "Api: {Type: AWS::ApiGateway::RestApi}", "Api: {Type: AWS::ApiGateway::RestApi, Properties: {EndpointConfiguration: {Types: ["+tt.endpoint+"]}}}", 1)
			_, err := readTemplate(t, tpl)
			if (err == nil) != tt.ok || err != nil && !strings.Contains(err.Error(), "TimeoutInMillis") {
				t.Errorf("err = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
