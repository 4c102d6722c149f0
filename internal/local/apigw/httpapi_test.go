package apigw

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/internal/cfn"
	"github.com/rolegate/rolegate/internal/testkit/clocktest"
	"github.com/rolegate/rolegate/jwks"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

const (
	authorized   = `{"isAuthorized":true,"context":{"sub":"sub-1","preferredRole":"arn:aws:iam::123456789012:role/admins"}}`
	unauthorized = `{"isAuthorized":false}`
	echoEvent    = `{"statusCode":200,"headers":{"content-type":"text/plain"},"cookies":["a=1"],"body":"ok"}`
)

type httpFixture struct {
	gw            *HTTPGateway
	authz, backed *stubFunction
	clock         *clocktest.Clock
}

func newHTTPFixture(t *testing.T, edit func(*HTTPConfig), authzAnswer string) *httpFixture {
	t.Helper()
	c := HTTPConfig{
		Routes: []HTTPRoute{{Key: "GET /whoami", Authorization: "CUSTOM"}, {Key: "GET /open/{id}", Authorization: "NONE"}},
		TTL:    300 * time.Second, Region: "us-east-1", AccountID: "123456789012", APIID: "abc123", Stage: "prod",
	}
	if edit != nil {
		edit(&c)
	}
	f := &httpFixture{authz: &stubFunction{answer: answer(authzAnswer)}, backed: &stubFunction{answer: answer(echoEvent)},
		clock: clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
	var err error
	if f.gw, err = NewHTTPGateway(c, Deps{Authorizer: f.authz, Backend: f.backed, Now: f.clock.Now, RequestID: func() string { return "req-1" }}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *httpFixture) do(method, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.gw.ServeHTTP(w, r)
	return w
}

func wantAnswer(t *testing.T, w *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if w.Code != status || strings.TrimSpace(w.Body.String()) != body {
		t.Fatalf("answered %d %s, want %d %s", w.Code, w.Body, status, body)
	}
}

func TestHTTPLambdaAuthorizer(t *testing.T) {
	t.Run("a missing Authorization header is 401 without invoking the authorizer", func(t *testing.T) {
		f := newHTTPFixture(t, nil, authorized)
		wantAnswer(t, f.do("GET", "/prod/whoami"), 401, `{"message":"Unauthorized"}`)
		wantAnswer(t, f.do("GET", "/prod/whoami", "Authorization", ""), 401, `{"message":"Unauthorized"}`)
		if f.authz.calls() != 0 || f.backed.calls() != 0 {
			t.Fatalf("%d authorizer and %d backend invocations, want none", f.authz.calls(), f.backed.calls())
		}
	})
	t.Run("isAuthorized false is 403 and the backend is not invoked", func(t *testing.T) {
		f := newHTTPFixture(t, nil, unauthorized)
		wantAnswer(t, f.do("GET", "/prod/whoami", "Authorization", "Bearer x"), 403, `{"message":"Forbidden"}`)
		if f.backed.calls() != 0 {
			t.Fatal("the backend was invoked")
		}
	})
	for _, bad := range []string{`{"errorMessage":"Unauthorized","errorType":"errorString"}`, `{"isAuthorized":"true"}`, `{"principalId":"x"}`, `null`} {
		t.Run("an authorizer answering "+bad+" is 500", func(t *testing.T) {
			f := newHTTPFixture(t, nil, bad)
			wantAnswer(t, f.do("GET", "/prod/whoami", "Authorization", "Bearer x"), 500, `{"message":"Internal Server Error"}`)
		})
	}
	t.Run("an authorized request reaches the backend as a payload 2.0 event with the context under lambda", func(t *testing.T) {
		f := newHTTPFixture(t, nil, authorized)
		w := f.do("GET", "/prod/whoami?a=1&a=2", "Authorization", "Bearer x", "X-Rolegate-Role", "readers", "Cookie", "c1=v1; c2=v2")
		if w.Code != 200 || w.Body.String() != "ok" || w.Header().Get("Set-Cookie") != "a=1" || w.Header().Get("Content-Type") != "text/plain" {
			t.Fatalf("answered %d %v %s", w.Code, w.Header(), w.Body)
		}
		var ev events.APIGatewayV2HTTPRequest
		f.backed.last(t, &ev)
		rc := ev.RequestContext
		if ev.Version != "2.0" || ev.RouteKey != "GET /whoami" || ev.RawPath != "/prod/whoami" || ev.RawQueryString != "a=1&a=2" ||
			ev.QueryStringParameters["a"] != "1,2" || ev.Headers["x-rolegate-role"] != "readers" || ev.Headers["cookie"] != "" ||
			!slices.Equal(ev.Cookies, []string{"c1=v1", "c2=v2"}) || rc.Stage != "prod" || rc.HTTP.Method != "GET" || rc.HTTP.Path != "/prod/whoami" ||
			rc.Authorizer == nil || rc.Authorizer.Lambda["preferredRole"] != "arn:aws:iam::123456789012:role/admins" || rc.Authorizer.JWT != nil {
			t.Fatalf("event %+v", ev)
		}
		var req events.APIGatewayV2CustomAuthorizerV2Request
		f.authz.last(t, &req)
		if req.Version != "2.0" || req.Type != "REQUEST" || !slices.Equal(req.IdentitySource, []string{"Bearer x"}) ||
			req.RouteArn != "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/whoami" {
			t.Fatalf("authorizer event %+v", req)
		}
	})
	t.Run("the cache is keyed by the identity source, for the TTL, refusals included", func(t *testing.T) {
		f := newHTTPFixture(t, nil, unauthorized)
		f.do("GET", "/prod/whoami", "Authorization", "Bearer x")
		f.do("GET", "/prod/whoami", "Authorization", "Bearer x")
		if f.authz.calls() != 1 {
			t.Fatalf("%d invocations for one token, want 1", f.authz.calls())
		}
		f.do("GET", "/prod/whoami", "Authorization", "Bearer y")
		f.clock.Advance(300 * time.Second)
		f.do("GET", "/prod/whoami", "Authorization", "Bearer x")
		if f.authz.calls() != 3 || f.gw.Stats().AuthorizerCacheHits != 1 {
			t.Fatalf("%d invocations, %d hits; want 3 and 1", f.authz.calls(), f.gw.Stats().AuthorizerCacheHits)
		}
	})
	t.Run("a route without authorizer gets no authorizer context", func(t *testing.T) {
		f := newHTTPFixture(t, nil, authorized)
		f.do("GET", "/prod/open/7", "Authorization", "Bearer x")
		var ev events.APIGatewayV2HTTPRequest
		f.backed.last(t, &ev)
		if f.authz.calls() != 0 || ev.RequestContext.Authorizer != nil || ev.PathParameters["id"] != "7" || ev.RouteKey != "GET /open/{id}" {
			t.Fatalf("event %+v", ev)
		}
	})
}

func TestHTTPRoutesAndStages(t *testing.T) {
	t.Run("another path or method, or no stage prefix, is 404", func(t *testing.T) {
		f := newHTTPFixture(t, nil, authorized)
		for _, p := range [][2]string{{"GET", "/prod/other"}, {"POST", "/prod/whoami"}, {"GET", "/whoami"}, {"GET", "/production/whoami"}} {
			wantAnswer(t, f.do(p[0], p[1], "Authorization", "Bearer x"), 404, `{"message":"Not Found"}`)
		}
	})
	t.Run("the $default stage serves at the root and the $default route takes the rest", func(t *testing.T) {
		f := newHTTPFixture(t, func(c *HTTPConfig) {
			c.Stage = DefaultStageName
			c.Routes = append(c.Routes, HTTPRoute{Key: DefaultRouteKey, Authorization: "NONE"})
		}, authorized)
		f.do("GET", "/whoami", "Authorization", "Bearer x")
		var ev events.APIGatewayV2HTTPRequest
		f.backed.last(t, &ev)
		if ev.RawPath != "/whoami" || ev.RouteKey != "GET /whoami" || ev.RequestContext.Stage != "$default" {
			t.Fatalf("event %+v", ev)
		}
		f.do("DELETE", "/anything/else")
		f.backed.last(t, &ev)
		if ev.RouteKey != "$default" {
			t.Fatalf("route key %q, want $default", ev.RouteKey)
		}
	})
	t.Run("throttling follows the stage default and the route's own settings", func(t *testing.T) {
		f := newHTTPFixture(t, func(c *HTTPConfig) {
			c.Throttle = Throttle{Rate: 1, Burst: 1}
			c.Routes[1].Throttle = Throttle{Rate: 1, Burst: 2}
		}, authorized)
		wantAnswer(t, f.do("GET", "/prod/whoami", "Authorization", "Bearer x"), 200, "ok")
		wantAnswer(t, f.do("GET", "/prod/whoami", "Authorization", "Bearer x"), 429, `{"message":"Too Many Requests"}`)
		wantAnswer(t, f.do("GET", "/prod/open/1"), 200, "ok")
		wantAnswer(t, f.do("GET", "/prod/open/1"), 200, "ok")
		wantAnswer(t, f.do("GET", "/prod/open/1"), 429, `{"message":"Too Many Requests"}`)
		f.clock.Advance(time.Second)
		wantAnswer(t, f.do("GET", "/prod/whoami", "Authorization", "Bearer x"), 200, "ok")
	})
}

func TestHTTPResponses(t *testing.T) {
	for _, tt := range []struct{ name, out, body, contentType string }{
		{"a structured response is used as it says", `{"statusCode":201,"headers":{"Content-Type":"text/plain"},"body":"made"}`, "made", "text/plain"},
		{"a base64 body is decoded", `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, "hi", ""},
		{"JSON without a statusCode is a 200 of that JSON", `{"arn":"x"}`, `{"arn":"x"}`, "application/json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newHTTPFixture(t, nil, authorized)
			f.backed.answer = answer(tt.out)
			w := f.do("GET", "/prod/open/1")
			if w.Body.String() != tt.body || w.Header().Get("Content-Type") != tt.contentType {
				t.Fatalf("answered %d %v %s", w.Code, w.Header(), w.Body)
			}
		})
	}
	for _, bad := range []string{`{"errorMessage":"boom"}`, `{"statusCode":"200"}`, `{"statusCode":700}`, `not json`} {
		t.Run("a backend answering "+bad+" is 500", func(t *testing.T) {
			f := newHTTPFixture(t, nil, authorized)
			f.backed.answer = answer(bad)
			wantAnswer(t, f.do("GET", "/prod/open/1"), 500, `{"message":"Internal Server Error"}`)
		})
	}
}

func TestHTTPJWTAuthorizer(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	now := iss.Now()
	jwt := &JWTAuthorizer{Issuer: iss.Issuer(), Audience: []string{iss.ClientID}, Keys: jwks.NewCache([]string{iss.URL})}
	f := newHTTPFixture(t, func(c *HTTPConfig) {
		c.JWT = jwt
		c.Routes = []HTTPRoute{{Key: "GET /whoami", Authorization: "JWT"}, {Key: "GET /scoped", Authorization: "JWT", Scopes: []string{"rolegate/read"}}}
	}, authorized)
	f.clock = clocktest.New(now)
	f.gw.d.Now = f.clock.Now
	id := iss.IDClaims("alice", "admins", "readers")
	edit := func(change map[string]any) map[string]any {
		c := iss.IDClaims("alice", "admins", "readers")
		for k, v := range change {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	access := iss.AccessClaims("alice")
	for _, tt := range []struct {
		name, path, token string
		status            int
	}{
		{"no token is 401", "/prod/whoami", "", 401},
		{"a tampered token is 401", "/prod/whoami", jwkstest.Tamper(iss.Mint(t, id)), 401},
		{"alg none is 401", "/prod/whoami", iss.MintAlgNone(t, id), 401},
		{"HS256 is 401", "/prod/whoami", iss.MintHS256(t, id, []byte("secret")), 401},
		{"another issuer is 401", "/prod/whoami", iss.Mint(t, edit(map[string]any{"iss": "https://example.com"})), 401},
		{"another audience is 401", "/prod/whoami", iss.Mint(t, edit(map[string]any{"aud": "other"})), 401},
		{"an expired token is 401", "/prod/whoami", iss.Mint(t, edit(map[string]any{"exp": now.Add(-time.Second).Unix()})), 401},
		{"a token without exp is 401", "/prod/whoami", iss.Mint(t, edit(map[string]any{"exp": nil})), 401},
		{"a token not valid before a future nbf is 401", "/prod/whoami", iss.Mint(t, edit(map[string]any{"nbf": now.Add(time.Minute).Unix()})), 401},
		{"a token issued in the future is 401", "/prod/whoami", iss.Mint(t, edit(map[string]any{"iat": now.Add(time.Minute).Unix()})), 401},
		{"an access token passes on client_id (the backend refuses it by token_use)", "/prod/whoami", iss.Mint(t, access), 200},
		{"an ID token on a route with scopes is 403", "/prod/scoped", iss.Mint(t, id), 403},
		{"a valid ID token passes", "/prod/whoami", iss.Mint(t, id), 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("GET", tt.path, "Authorization", "Bearer "+tt.token)
			if tt.token == "" {
				w = f.do("GET", tt.path)
			}
			if w.Code != tt.status {
				t.Fatalf("answered %d %s (%v), want %d", w.Code, w.Body, w.Header(), tt.status)
			}
			if tt.status == 401 && !strings.HasPrefix(w.Header().Get("Www-Authenticate"), "Bearer") {
				t.Errorf("no Bearer challenge: %v", w.Header())
			}
		})
	}
	t.Run("the claims reach the backend as strings, arrays bracketed and space-separated", func(t *testing.T) {
		f.do("GET", "/prod/whoami", "Authorization", iss.Mint(t, id))
		var ev events.APIGatewayV2HTTPRequest
		f.backed.last(t, &ev)
		jc := ev.RequestContext.Authorizer.JWT
		if jc == nil || ev.RequestContext.Authorizer.Lambda != nil {
			t.Fatalf("authorizer %+v", ev.RequestContext.Authorizer)
		}
		if jc.Claims["cognito:groups"] != "[admins readers]" || jc.Claims["cognito:roles"] != "["+iss.Role("admins")+" "+iss.Role("readers")+"]" ||
			jc.Claims["token_use"] != "id" || jc.Claims["exp"] != json.Number(jc.Claims["exp"]).String() || jc.Claims["email_verified"] != "true" {
			t.Fatalf("claims %v", jc.Claims)
		}
	})
}

// TestReadHTTPAPITemplate reads deploy/http-api.yaml as the local stack does, for each Authorizer value.
func TestReadHTTPAPITemplate(t *testing.T) {
	b, err := os.ReadFile("../../../deploy/http-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := cfn.ParseTemplate(b)
	if err != nil {
		t.Fatal(err)
	}
	r := Resolver{Template: tmpl, Deployment: Deployment{StackName: "s", Region: "us-east-1", AccountID: "123456789012"}}
	for _, tt := range []struct{ authorizer, auth, fn, pool string }{
		{"", "CUSTOM", "AuthorizerFunction", ""},
		{"rolegate", "CUSTOM", "AuthorizerFunction", ""},
		{"jwt", "JWT", "", "UserPool"},
	} {
		t.Run("Authorizer="+tt.authorizer, func(t *testing.T) {
			a, err := ReadHTTPAPI(r, tt.authorizer)
			if err != nil {
				t.Fatal(err)
			}
			c := a.Config
			if len(c.Routes) != 1 || c.Routes[0].Key != "GET /whoami" || c.Routes[0].Authorization != tt.auth || c.Stage != "prod" ||
				c.Throttle != (Throttle{Rate: 50, Burst: 100}) || a.AuthorizerFunction != tt.fn || a.BackendFunction != "BackendFunction" ||
				a.JWTIssuerPool != tt.pool || (tt.auth == "CUSTOM" && c.TTL != 300*time.Second) || c.Routes[0].Timeout != 12*time.Second {
				t.Fatalf("read %+v", a)
			}
		})
	}
	if _, err := ReadHTTPAPI(r, "cognito"); err == nil {
		t.Error("an Authorizer value the template does not allow was accepted")
	}
}

var _ http.Handler = (*HTTPGateway)(nil)
