package apigw

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/local/rie"
)

// Invoker invokes one Lambda function synchronously, as Lambda's Invoke API
// does: the payload in, the function's response or its error object
// ({"errorMessage":…}) out. *rie.Function is one.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Config describes the REST API stage the gateway stands in for.
type Config struct {
	Routes []Route
	// Identity is the TOKEN authorizer's identity source and validation.
	Identity Identity
	// TTL is AuthorizerResultTtlInSeconds; zero disables the result cache.
	TTL time.Duration
	// Responses are the API's gateway responses by response type.
	Responses map[string]GatewayResponse
	// BinaryMediaTypes are the RestApi's, e.g. image/png or */*.
	BinaryMediaTypes []string
	// Throttle is the stage's rate limit; the zero value is none.
	Throttle Throttle

	Region    string // e.g. us-east-1
	AccountID string // 12 digits
	APIID     string // the REST API id in methodArn and requestContext
	Stage     string // the stage name, e.g. prod: the first path segment

	// AuthorizerTimeout bounds one authorizer invocation (default 10s).
	AuthorizerTimeout time.Duration
	// IntegrationTimeout bounds one backend invocation where the route sets
	// no Timeout (default 29s, API Gateway's default).
	IntegrationTimeout time.Duration
	// APIKeys are the keys the stage's usage plans accept.
	APIKeys []APIKey
	// ResourcePolicy is the RestApi's Policy, nil for none. Its
	// "execute-api:/…" resources stand for this API's.
	ResourcePolicy *Policy
	// StageVariables are the stage's Variables, the event's stageVariables.
	StageVariables map[string]string
	// Tracing is the stage's TracingEnabled: the event then carries an
	// X-Amzn-Trace-Id header.
	Tracing bool
}

// methodARN is the execute-api ARN of verb on path (below the stage).
func (c Config) methodARN(verb, path string) arn.Method {
	return arn.Method{Partition: arn.PartitionOf(c.Region), Region: c.Region, AccountID: c.AccountID,
		APIID: c.APIID, Stage: c.Stage, Verb: verb, Resource: strings.TrimPrefix(path, "/")}
}

// DomainName is the API's default endpoint name, as API Gateway puts it in
// the event's Host header and requestContext.domainName:
// {apiId}.execute-api.{region}.amazonaws.com (another suffix in China).
func (c Config) DomainName() string {
	return c.APIID + ".execute-api." + c.Region + "." + arn.DNSSuffix(c.Region)
}

// Validate reports the first setting that would make the gateway misbehave.
func (c Config) Validate() error {
	if len(c.Routes) == 0 {
		return errors.New("gateway: no routes")
	}
	for _, r := range c.Routes {
		if err := r.validate(); err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
		if r.Authorized && c.Identity.Header == "" {
			return fmt.Errorf("gateway: route %s uses the authorizer but no identity source is set", r)
		}
	}
	return validateStage("gateway", c.TTL, c.Throttle, c.Region, c.AccountID, c.APIID, c.Stage)
}

// validateStage checks what a REST and an HTTP API stage share: the
// authorizer cache TTL, the stage's throttle, and the names its ARNs and
// URLs are made of. kind prefixes the error.
func validateStage(kind string, ttl time.Duration, th Throttle, region, account, apiID, stage string) error {
	if ttl < 0 || ttl > time.Hour {
		return fmt.Errorf("%s: authorizer TTL %s outside 0..3600s", kind, ttl)
	}
	if err := th.validate(); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if region == "" || len(account) != 12 || apiID == "" || stage == "" || strings.Contains(stage, "/") {
		return fmt.Errorf("%s: region, 12-digit account id, API id and stage are required", kind)
	}
	return nil
}

// Deps are the gateway's collaborators.
type Deps struct {
	Authorizer Invoker // the TOKEN authorizer function
	Backend    Invoker // the proxy integration function
	Now        func() time.Time
	Logger     *slog.Logger
	// RequestID makes request ids; default random UUIDs.
	RequestID func() string
}

// Gateway is a local stand-in for one stage of an API Gateway REST API with a
// Lambda TOKEN authorizer and Lambda proxy integrations.
type Gateway struct {
	cfg    Config
	d      Deps
	router *router
	cache  *resultCache
	bucket *bucket
	binary mediaTypes
	policy *Policy // the resource policy, its resources written out

	requests        atomic.Int64
	throttled       atomic.Int64
	authInvocations atomic.Int64
	authCacheHits   atomic.Int64
	backendInvokes  atomic.Int64
}

// Stats counts what the gateway did since it started.
type Stats struct {
	Requests              int64
	Throttled             int64 // answered 429 by the stage's rate limit
	AuthorizerInvocations int64
	AuthorizerCacheHits   int64
	BackendInvocations    int64
}

// NewGateway validates c and returns a gateway ready to serve.
func NewGateway(c Config, d Deps) (*Gateway, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if d.Authorizer == nil || d.Backend == nil {
		return nil, errors.New("gateway: authorizer and backend invokers are required")
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
	if c.IntegrationTimeout <= 0 {
		c.IntegrationTimeout = 29 * time.Second
	}
	var policy *Policy
	if c.ResourcePolicy != nil {
		m := c.methodARN("", "")
		policy = c.ResourcePolicy.withAPI(strings.TrimSuffix(m.StageARN(), "/"+m.Stage))
	}
	return &Gateway{
		cfg: c, d: d, router: newRouter(c.Routes), policy: policy,
		cache:  newResultCache(c.TTL, d.Now, 0),
		bucket: newBucket(c.Throttle, d.Now),
		binary: mediaTypes(c.BinaryMediaTypes),
	}, nil
}

// Stats returns the counters so far.
func (g *Gateway) Stats() Stats {
	return Stats{
		Requests:              g.requests.Load(),
		Throttled:             g.throttled.Load(),
		AuthorizerInvocations: g.authInvocations.Load(),
		AuthorizerCacheHits:   g.authCacheHits.Load(),
		BackendInvocations:    g.backendInvokes.Load(),
	}
}

// maxRequestBody is API Gateway's payload limit.
const maxRequestBody = 10 << 20

// reply is one HTTP answer plus what the log line says about it.
type reply struct {
	status  int
	header  http.Header
	body    []byte
	outcome string // reason class
	authz   string // none, invoked, cached
	route   string
}

// ServeHTTP handles one request as API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		slog.String("apiRequestId", id),
		slog.String("method", r.Method),
		slog.String("route", rep.route),
		slog.Int("status", rep.status),
		slog.String("outcome", rep.outcome),
		slog.String("authorizer", rep.authz),
		slog.Int64("durationMs", g.d.Now().Sub(start).Milliseconds()),
	)
}

func (g *Gateway) fail(e gatewayError, id, outcome string) reply {
	status, h, body := e.render(g.cfg.Responses, id)
	return reply{status: status, header: h, body: body, outcome: outcome, authz: "none"}
}

func (g *Gateway) serve(r *http.Request, id string, start time.Time) reply {
	path, ok := strings.CutPrefix(r.URL.Path, "/"+g.cfg.Stage)
	if !ok || (path != "" && path[0] != '/') {
		return g.fail(errResponseNoStage, id, "no_stage")
	}
	if path == "" {
		path = "/"
	}
	route, params, ok := g.router.match(r.Method, path)
	if !ok {
		// Without a method, API Gateway reads an Authorization header as a
		// SigV4 one, and tells its parser's complaint instead.
		if auth := r.Header.Get("Authorization"); auth != "" {
			return g.fail(incompleteSignature(auth), id, "no_route")
		}
		return g.fail(errResponseMissingToken, id, "no_route")
	}
	rep := g.serveRoute(request{r: r, path: path, route: route, params: params, id: id, start: start})
	rep.route = route.String()
	return rep
}

func (g *Gateway) serveRoute(q request) reply {
	if !g.bucket.take() {
		g.throttled.Add(1)
		return g.fail(errResponseThrottled, q.id, "throttled")
	}
	r := q.r
	var err error
	if q.body, err = io.ReadAll(http.MaxBytesReader(nil, r.Body, maxRequestBody)); err != nil {
		return g.fail(errResponseTooLarge, q.id, "request_too_large")
	}
	q.methodArn = g.cfg.methodARN(r.Method, q.path).String()
	if g.policy != nil {
		q.resource = g.policy.Evaluate(InvokeAction, q.methodArn)
		// Before any authorizer an explicit Deny refuses; a method without
		// one needs the policy's Allow.
		if q.resource == ExplicitDeny || (!q.route.Authorized && q.resource != Allow) {
			denied := resourcePolicyDenied(q.methodArn, g.cfg.AccountID, q.resource == ExplicitDeny)
			return g.fail(denied, q.id, "resource_policy_"+q.resource.String())
		}
	}
	authzState := "none"
	if q.route.Authorized {
		var refused *authFailure
		if authzState, refused = g.authorize(&q); refused != nil {
			rep := g.fail(refused.answer, q.id, refused.outcome)
			rep.authz = authzState
			return rep
		}
	}
	if q.route.APIKeyRequired {
		// After the authorizer: inferred, see docs/local.md.
		k, ok := g.apiKeyFor(r.Header.Get("X-API-Key"))
		if !ok {
			rep := g.fail(errResponseInvalidAPIKey, q.id, "invalid_api_key")
			rep.authz = authzState
			return rep
		}
		q.apiKey = apiKeyUse{value: &k.Value, id: &k.ID}
	}
	timeout := q.route.Timeout
	if timeout <= 0 {
		timeout = g.cfg.IntegrationTimeout
	}
	rep := g.integrate(r.Context(), g.proxyEvent(q), q.id, firstAccept(r.Header), timeout)
	rep.authz = authzState
	return rep
}

// authorize runs (or reuses) the authorizer for q's identity and evaluates
// its policy for q's method. It reports whether the authorizer ran or was
// cached, and why the request is refused; an allowed request gets its
// authorizer context in q.authz.
func (g *Gateway) authorize(q *request) (state string, refused *authFailure) {
	token, err := g.cfg.Identity.Token(q.r.Header)
	if err != nil {
		return "none", errNoIdentity
	}
	methodArn := q.methodArn
	ctx := q.r.Context()
	res, cached, err := g.cache.do(ctx, token, func() (*authorizerResult, error) {
		return g.invokeAuthorizer(ctx, token, methodArn)
	})
	state = "invoked"
	if cached {
		state = "cached"
		g.authCacheHits.Add(1)
	}
	if err != nil {
		// Anything unclassified (a context cancelled while waiting on
		// another request's invocation) is a failure, never an Allow.
		f := errAuthorizerFailure
		errors.As(err, &f)
		if f != errUnauthorized {
			g.d.Logger.Warn("authorizer gave no policy", "apiRequestId", q.id, "error", err)
		}
		return state, f
	}
	decision := res.Policy.Evaluate(InvokeAction, methodArn)
	if g.policy != nil {
		decision = combine(q.resource, decision)
	}
	switch decision {
	case ExplicitDeny:
		return state, errExplicitDeny
	case ImplicitDeny:
		return state, errImplicitDeny
	}
	q.authz = make(map[string]any, len(res.Context)+2)
	for k, v := range res.Context {
		q.authz[k] = v
	}
	q.authz["principalId"] = res.PrincipalID
	latency := int64(0)
	if !cached {
		latency = res.latency.Milliseconds()
	}
	q.authz["integrationLatency"] = latency
	return state, nil
}

func (g *Gateway) invokeAuthorizer(ctx context.Context, token, methodArn string) (*authorizerResult, error) {
	g.authInvocations.Add(1)
	payload, err := json.Marshal(events.APIGatewayCustomAuthorizerRequest{
		Type: "TOKEN", AuthorizationToken: token, MethodArn: methodArn,
	})
	if err != nil {
		return nil, err
	}
	// Other requests may be waiting on this invocation; one client hanging
	// up must not fail them all.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.AuthorizerTimeout)
	defer cancel()
	t0 := g.d.Now()
	out, err := g.d.Authorizer.Invoke(ctx, payload)
	if err != nil {
		return nil, fmt.Errorf("%w: invoke: %v", errAuthorizerFailure, err)
	}
	res, err := parseAuthorizerResponse(out)
	if err != nil {
		return nil, err
	}
	res.latency = g.d.Now().Sub(t0)
	return res, nil
}

// integrate invokes the backend, for at most timeout, and maps its proxy
// response back to HTTP.
// accept is the request's first Accept type, which decides whether a
// base64-encoded response body is decoded.
func (g *Gateway) integrate(ctx context.Context, ev ProxyEvent, id, accept string, timeout time.Duration) reply {
	payload, err := json.Marshal(ev)
	if err != nil {
		return g.fail(errResponseBadIntegration, id, "integration_error")
	}
	g.backendInvokes.Add(1)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := g.d.Backend.Invoke(ctx, payload)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return g.fail(errResponseIntegrationTimeout, id, "integration_timeout")
		}
		g.d.Logger.Warn("backend invoke failed", "apiRequestId", id, "error", err)
		return g.fail(errResponseBadIntegration, id, "integration_error")
	}
	if _, isErr := rie.ParseError(out); isErr {
		return g.fail(errResponseBadIntegration, id, "integration_function_error")
	}
	status, h, body, err := parseProxyResponse(out, g.binary.matches(accept))
	if err != nil {
		g.d.Logger.Warn("malformed Lambda proxy response", "apiRequestId", id, "error", err)
		return g.fail(errResponseBadIntegration, id, "integration_malformed")
	}
	h.Set("x-amzn-RequestId", id)
	return reply{status: status, header: h, body: body, outcome: "integrated"}
}

// errMalformedProxyResponse is API Gateway's "Malformed Lambda proxy response".
var errMalformedProxyResponse = errors.New("malformed Lambda proxy response")

// parseProxyResponse decodes a Lambda proxy response strictly, as a REST API
// does: unknown fields, a missing status or a non-string body are malformed.
// A body marked isBase64Encoded is decoded only when binary is set (the
// request accepts a binary media type); otherwise the client gets the base64
// text, as from API Gateway.
func parseProxyResponse(b []byte, binary bool) (int, http.Header, []byte, error) {
	var resp struct {
		StatusCode        *int                `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Body              *string             `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %v", errMalformedProxyResponse, err)
	}
	if resp.StatusCode == nil || *resp.StatusCode < 100 || *resp.StatusCode > 599 {
		return 0, nil, nil, fmt.Errorf("%w: statusCode missing or out of range", errMalformedProxyResponse)
	}
	// API Gateway merges the two maps into one list per header; a pair
	// present in both appears once, as multiValueHeaders has it.
	h := http.Header{}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		if !slices.Contains(h.Values(k), v) {
			h.Add(k, v)
		}
	}
	// Framing is the gateway's business, not the function's.
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	h.Del("Connection")
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	var body []byte
	if resp.Body != nil {
		body = []byte(*resp.Body)
		if resp.IsBase64Encoded && binary {
			dec, err := base64.StdEncoding.DecodeString(*resp.Body)
			if err != nil {
				return 0, nil, nil, fmt.Errorf("%w: body is not base64", errMalformedProxyResponse)
			}
			body = dec
		}
	}
	return *resp.StatusCode, h, body, nil
}

// newUUID returns a random (version 4) UUID, the shape of API Gateway's
// request ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
