package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/local/rie"
)

// An HTTP API (API Gateway's "v2" APIs), as a template defines one: routes by
// route key, a Lambda authorizer answering payload 2.0 simple responses or a
// JWT authorizer, Lambda proxy integrations with payload 2.0, and a stage
// with default and per-route throttling. HTTPGateway serves one stage of it.

// DefaultStageName is the HTTP API stage served at the root of the API's URL.
const DefaultStageName = "$default"

// DefaultRouteKey is the route that takes every request no other route matches.
const DefaultRouteKey = "$default"

// HTTPRoute is one route of an HTTP API.
type HTTPRoute struct {
	// Key is the route key: "GET /whoami", "ANY /items/{id}", "GET /{proxy+}" or "$default".
	Key string
	// Authorization is NONE, CUSTOM (the Lambda authorizer) or JWT.
	Authorization string
	// Scopes are the route's AuthorizationScopes (JWT only).
	Scopes []string
	// Throttle is the route's own RouteSettings; the zero value uses the stage's default.
	Throttle Throttle
	// Timeout is the integration's TimeoutInMillis; zero means 30s.
	Timeout time.Duration
}

// route is the key as a Route of the REST router; $default matches nothing there.
func (r HTTPRoute) route() (Route, bool) {
	method, path, ok := strings.Cut(r.Key, " ")
	return Route{Method: method, Path: path}, ok && r.Key != DefaultRouteKey
}

// JWTAuthorizer is an HTTP API JWT authorizer's configuration.
type JWTAuthorizer struct {
	Issuer   string   // the exact iss required
	Audience []string // accepted as aud, or as client_id when there is no aud
	// Keys are the issuer's signing keys (*jwks.Cache from its JWKS URL).
	Keys KeySource
}

// HTTPConfig describes the HTTP API stage the gateway stands in for.
type HTTPConfig struct {
	Routes []HTTPRoute
	// TTL is the Lambda authorizer's AuthorizerResultTtlInSeconds; zero disables its cache.
	TTL time.Duration
	// JWT is the JWT authorizer, for routes whose Authorization is JWT.
	JWT *JWTAuthorizer
	// Throttle is the stage's DefaultRouteSettings.
	Throttle Throttle

	Region, AccountID, APIID string
	// Stage is $default (no path segment) or a name, the first path segment.
	Stage string
	// AuthorizerTimeout bounds one authorizer invocation (default 10s).
	AuthorizerTimeout time.Duration
}

// Validate reports the first setting that would make the gateway misbehave.
func (c HTTPConfig) Validate() error {
	if len(c.Routes) == 0 {
		return errors.New("http api: no routes")
	}
	for _, r := range c.Routes {
		rt, ok := r.route()
		if err := rt.validate(); r.Key != DefaultRouteKey && (!ok || err != nil) {
			return fmt.Errorf("http api: route key %q: want $default or \"METHOD /path\"", r.Key)
		}
		switch {
		case r.Authorization == "JWT" && (c.JWT == nil || c.JWT.Issuer == "" || len(c.JWT.Audience) == 0 || c.JWT.Keys == nil):
			return fmt.Errorf("http api: route %s uses a JWT authorizer without issuer, audience and keys", r.Key)
		case r.Authorization != "NONE" && r.Authorization != "CUSTOM" && r.Authorization != "JWT":
			return fmt.Errorf("http api: route %s: authorization %q", r.Key, r.Authorization)
		}
		if err := r.Throttle.validate(); err != nil {
			return fmt.Errorf("http api: route %s: %w", r.Key, err)
		}
	}
	return validateStage("http api", c.TTL, c.Throttle, c.Region, c.AccountID, c.APIID, c.Stage)
}

// HTTPGateway is a local stand-in for one stage of an HTTP API.
type HTTPGateway struct {
	cfg      HTTPConfig
	d        Deps
	router   *router
	routes   map[Route]HTTPRoute
	fallback *HTTPRoute // the $default route
	buckets  map[string]*bucket
	cache    *simpleCache

	requests, throttled, authInvocations, authCacheHits, backendInvokes atomic.Int64
}

// NewHTTPGateway validates c and returns a gateway ready to serve. d.Authorizer
// may be nil when no route is CUSTOM.
func NewHTTPGateway(c HTTPConfig, d Deps) (*HTTPGateway, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if d.Backend == nil {
		return nil, errors.New("http api: a backend invoker is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.RequestID == nil {
		d.RequestID = newUUID
	}
	if c.AuthorizerTimeout <= 0 {
		c.AuthorizerTimeout = 10 * time.Second
	}
	g := &HTTPGateway{cfg: c, d: d, routes: map[Route]HTTPRoute{}, buckets: map[string]*bucket{},
		cache: &simpleCache{ttl: c.TTL, now: d.Now, entries: map[string]simpleEntry{}}}
	var rs []Route
	for i, r := range c.Routes {
		if r.Authorization == "CUSTOM" && d.Authorizer == nil {
			return nil, fmt.Errorf("http api: route %s uses the Lambda authorizer but none is given", r.Key)
		}
		t := c.Throttle
		if r.Throttle.Rate > 0 {
			t = r.Throttle
		}
		g.buckets[r.Key] = newBucket(t, d.Now)
		if rt, ok := r.route(); ok {
			rs = append(rs, rt)
			g.routes[rt] = r
		} else {
			g.fallback = &c.Routes[i]
		}
	}
	g.router = newRouter(rs)
	return g, nil
}

// Stats returns the counters so far.
func (g *HTTPGateway) Stats() Stats {
	return Stats{Requests: g.requests.Load(), Throttled: g.throttled.Load(), AuthorizerInvocations: g.authInvocations.Load(),
		AuthorizerCacheHits: g.authCacheHits.Load(), BackendInvocations: g.backendInvokes.Load()}
}

// HTTP API's own answers: {"message": …} JSON, with the status's text.
var (
	httpNotFound     = httpAnswer{404, "Not Found", "not_found"}
	httpUnauthorized = httpAnswer{401, "Unauthorized", "no_identity"}
	httpForbidden    = httpAnswer{403, "Forbidden", "forbidden"}
	httpThrottled    = httpAnswer{429, "Too Many Requests", "throttled"}
	httpTooLarge     = httpAnswer{413, "Request Entity Too Large", "request_too_large"}
	httpInternal     = httpAnswer{500, "Internal Server Error", "authorizer_failure"}
	httpBadGateway   = httpAnswer{500, "Internal Server Error", "integration_error"}
	httpTimeout      = httpAnswer{503, "Service Unavailable", "integration_timeout"}
)

type httpAnswer struct {
	status           int
	message, outcome string
}

func (a httpAnswer) reply(id string) reply {
	h := http.Header{"Content-Type": {"application/json"}, "Apigw-Requestid": {id}}
	body, _ := json.Marshal(map[string]string{"message": a.message})
	return reply{status: a.status, header: h, body: body, outcome: a.outcome, authz: "none"}
}

// ServeHTTP handles one request as an HTTP API would.
func (g *HTTPGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	start := g.d.Now()
	id := g.d.RequestID()
	rep := g.serve(r, id, start)
	for k, vs := range rep.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
	g.d.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("apiRequestId", id), slog.String("method", r.Method), slog.String("routeKey", rep.route),
		slog.Int("status", rep.status), slog.String("outcome", rep.outcome), slog.String("authorizer", rep.authz),
		slog.Int64("durationMs", g.d.Now().Sub(start).Milliseconds()))
}

// stagePath is path below the stage: all of it on $default, else what follows
// "/<stage>"; "" when path is not on the stage.
func (g *HTTPGateway) stagePath(path string) string {
	if g.cfg.Stage == DefaultStageName {
		return path
	}
	rest, ok := strings.CutPrefix(path, "/"+g.cfg.Stage)
	switch {
	case !ok || (rest != "" && rest[0] != '/'):
		return ""
	case rest == "":
		return "/"
	}
	return rest
}

func (g *HTTPGateway) serve(r *http.Request, id string, start time.Time) reply {
	path := g.stagePath(r.URL.Path)
	if path == "" {
		return httpNotFound.reply(id)
	}
	var route HTTPRoute
	var params map[string]string
	if rt, p, ok := g.router.match(r.Method, path); ok {
		route, params = g.routes[rt], p
	} else if g.fallback != nil {
		route = *g.fallback
	} else {
		return httpNotFound.reply(id)
	}
	rep := g.serveRoute(r, route, params, id, start)
	rep.route = route.Key
	return rep
}

func (g *HTTPGateway) serveRoute(r *http.Request, route HTTPRoute, params map[string]string, id string, start time.Time) reply {
	if !g.buckets[route.Key].take() {
		g.throttled.Add(1)
		return httpThrottled.reply(id)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxRequestBody))
	if err != nil {
		return httpTooLarge.reply(id)
	}
	ev := g.event(r, route, params, body, id, start)
	state := "none"
	switch route.Authorization {
	case "CUSTOM":
		var refused *httpAnswer
		if state, refused = g.authorizeLambda(r, &ev); refused != nil {
			rep := refused.reply(id)
			rep.authz = state
			return rep
		}
	case "JWT":
		jwt, refused := g.cfg.JWT.authorize(r.Context(), r.Header, route.Scopes, g.d.Now())
		if refused != nil {
			rep := refused.answer.reply(id)
			rep.outcome, rep.authz = refused.reason, "jwt"
			if refused.challenge != "" {
				rep.header.Set("Www-Authenticate", refused.challenge)
			}
			return rep
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: jwt}
		state = "jwt"
	}
	timeout := route.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	rep := g.integrate(r.Context(), ev, id, timeout)
	rep.authz = state
	return rep
}

// authorizeLambda answers the route's Lambda authorizer question for ev, from
// the cache keyed by the identity source when it can. An allowed request gets
// the authorizer's context in ev.
func (g *HTTPGateway) authorizeLambda(r *http.Request, ev *events.APIGatewayV2HTTPRequest) (string, *httpAnswer) {
	// The identity source is the Authorization header: missing or empty, it
	// is a 401 without invoking the authorizer.
	vs := r.Header.Values("Authorization")
	if len(vs) != 1 || vs[0] == "" {
		return "none", &httpUnauthorized
	}
	res, cached := g.cache.get(vs[0])
	state := "cached"
	if cached {
		g.authCacheHits.Add(1)
	} else {
		state = "invoked"
		var err error
		if res, err = g.invokeAuthorizer(r.Context(), vs[0], ev); err != nil {
			g.d.Logger.Warn("authorizer gave no simple response", "apiRequestId", ev.RequestContext.RequestID, "error", err)
			return state, &httpInternal
		}
		g.cache.put(vs[0], res)
	}
	if !res.IsAuthorized {
		return state, &httpForbidden
	}
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: res.Context}
	return state, nil
}

func (g *HTTPGateway) invokeAuthorizer(ctx context.Context, token string, ev *events.APIGatewayV2HTTPRequest) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	g.authInvocations.Add(1)
	req := events.APIGatewayV2CustomAuthorizerV2Request{
		Version: "2.0", Type: "REQUEST", IdentitySource: []string{token},
		RouteArn: arn.Method{Partition: arn.PartitionOf(g.cfg.Region), Region: g.cfg.Region, AccountID: g.cfg.AccountID, APIID: g.cfg.APIID,
			Stage: g.cfg.Stage, Verb: ev.RequestContext.HTTP.Method, Resource: strings.TrimPrefix(g.stagePath(ev.RawPath), "/")}.String(),
		RouteKey: ev.RouteKey, RawPath: ev.RawPath, RawQueryString: ev.RawQueryString, Cookies: ev.Cookies, Headers: ev.Headers,
		QueryStringParameters: ev.QueryStringParameters, PathParameters: ev.PathParameters, StageVariables: ev.StageVariables,
		RequestContext: ev.RequestContext,
	}
	var none events.APIGatewayV2CustomAuthorizerSimpleResponse
	payload, err := json.Marshal(req)
	if err != nil {
		return none, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.AuthorizerTimeout)
	defer cancel()
	out, err := g.d.Authorizer.Invoke(ctx, payload)
	if err != nil {
		return none, fmt.Errorf("invoke: %w", err)
	}
	if msg, isErr := rie.ParseError(out); isErr {
		return none, fmt.Errorf("function error %q", msg)
	}
	return parseSimpleResponse(out)
}

// parseSimpleResponse decodes a simple response strictly: isAuthorized must
// be a boolean; anything else is a response in an invalid format (500).
func parseSimpleResponse(b []byte) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	var resp struct {
		IsAuthorized *bool          `json:"isAuthorized"`
		Context      map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &resp); err != nil || resp.IsAuthorized == nil {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, fmt.Errorf("not a simple response: %.200s", b)
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: *resp.IsAuthorized, Context: resp.Context}, nil
}

// simpleCache holds the Lambda authorizer's simple responses, allowed or not,
// per identity source value for the TTL, bounded in entries.
type simpleCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]simpleEntry
}

type simpleEntry struct {
	res     events.APIGatewayV2CustomAuthorizerSimpleResponse
	expires time.Time
}

func (c *simpleCache) get(key string) (events.APIGatewayV2CustomAuthorizerSimpleResponse, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.now().Before(e.expires) {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, false
	}
	return e.res, true
}

func (c *simpleCache) put(key string, res events.APIGatewayV2CustomAuthorizerSimpleResponse) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= defaultCacheEntries {
		clear(c.entries)
	}
	c.entries[key] = simpleEntry{res: res, expires: c.now().Add(c.ttl)}
}
