package authorizer

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	gocache "github.com/patrickmn/go-cache"

	"github.com/rolegate/rolegate/jwks"
)

// KeySource returns the pool's verification key for a kid. *jwks.Cache implements it.
// An error wrapping jwks.ErrKeyNotFound means the token is bad (401); any other
// error means the keys are unavailable (500).
type KeySource interface {
	Key(ctx context.Context, kid string) (*jwks.Key, error)
}

// Defaults for the decision cache.
const (
	// DefaultCacheTTL bounds how long a decision is reused; never past the token's exp.
	DefaultCacheTTL = 5 * time.Minute
	// DefaultCacheEntries bounds the cache's memory: at most this many tokens (each ≤ MaxTokenBytes).
	DefaultCacheEntries = 10000
)

// Handler answers API Gateway TOKEN authorizer events. Build it with New.
type Handler struct {
	keys KeySource
	v    validator
	now  func() time.Time
	log  *slog.Logger

	cache      *gocache.Cache // nil: every token is validated afresh
	cacheTTL   time.Duration
	maxEntries int
}

// Option configures a Handler.
type Option func(*Handler)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// WithLogger sets where decisions are logged (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithDecisionCache sets how long and how many decisions are cached by token.
// ttl <= 0 or entries <= 0 turns the cache off.
func WithDecisionCache(ttl time.Duration, entries int) Option {
	return func(h *Handler) { h.cacheTTL, h.maxEntries = ttl, entries }
}

// New returns a Handler for cfg verifying with keys. cfg must pass Validate:
// New panics otherwise, since a misconfigured authorizer must not start.
func New(cfg Config, keys KeySource, opts ...Option) *Handler {
	if err := cfg.Validate(); err != nil {
		panic("authorizer: invalid config: " + err.Error())
	}
	h := &Handler{
		keys: keys,
		v: validator{
			issuer:  cfg.ExpectedIssuer(),
			clients: slices.Clone(cfg.ClientIDs),
			skew:    cfg.ClockSkew,
		},
		now:        time.Now,
		log:        slog.Default(),
		cacheTTL:   DefaultCacheTTL,
		maxEntries: DefaultCacheEntries,
	}
	for _, o := range opts {
		o(h)
	}
	if h.cacheTTL > 0 && h.maxEntries > 0 {
		// Entries also carry their own exp, checked with h.now on every hit:
		// go-cache's expiry runs on the wall clock, not the injected one.
		h.cache = gocache.New(h.cacheTTL, time.Minute)
	}
	return h
}

// decision is a valid token's verdict, reusable for any methodArn: the policy
// resource is rebuilt per request, so a decision made for API A never yields a
// policy for API B. Never mutated once built.
type decision struct {
	sub  string
	exp  int64          // the token's exp, Unix seconds
	deny error          // nil: Allow; ErrNoRole or ErrRoleNotListed: Deny
	ctx  []contextEntry // the authorizer context, boxed once; a new map for each response
}

// contextEntry is one authorizer context value, already an interface value so
// that each response costs one map, not one allocation per value.
type contextEntry struct {
	key   string
	value any
}

// context returns a new map of the authorizer context: callers may change it.
func (d *decision) context() map[string]any {
	m := make(map[string]any, len(d.ctx))
	for _, e := range d.ctx {
		m[e.key] = e.value
	}
	return m
}

// Handle answers one TOKEN event. The only error messages it returns are
// "Unauthorized" (API Gateway's 401) and "Internal error: <class>" (500).
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	now := h.now()
	resource, err := stageResource(req.MethodArn)
	if err != nil {
		return h.respond(ctx, now, "", nil, false, "", err)
	}
	d, cached, sub, err := h.decide(ctx, now, req.AuthorizationToken)
	return h.respond(ctx, now, resource, d, cached, sub, err)
}

// decide returns the decision for authorizationToken, from the cache when it
// can. sub is set when the signature verified, even if the claims then failed.
func (h *Handler) decide(ctx context.Context, now time.Time, authorizationToken string) (d *decision, cached bool, sub string, err error) {
	tok, err := extractToken(authorizationToken)
	if err != nil {
		return nil, false, "", err
	}
	if h.cache != nil {
		if v, ok := h.cache.Get(tok); ok {
			// Past exp a cached decision is never served; the full check below
			// still applies the clock skew, and the result is not cached again.
			if d := v.(*decision); now.Unix() < d.exp {
				return d, true, d.sub, nil
			}
		}
	}
	c, err := h.verify(ctx, tok)
	if err != nil {
		return nil, false, "", err
	}
	if err := h.v.check(c, now); err != nil {
		return nil, false, c.Sub, err
	}
	d = newDecision(c)
	if h.cache != nil {
		h.store(tok, d, now)
	}
	return d, false, d.sub, nil
}

// verify parses tok, verifies its signature and decodes its claims, once.
func (h *Handler) verify(ctx context.Context, tok string) (*claims, error) {
	j, err := parseJWS(tok)
	if err != nil {
		return nil, err
	}
	if err := j.checkHeader(); err != nil {
		return nil, err
	}
	if err := j.verify(ctx, h.keys); err != nil {
		return nil, err
	}
	var c claims
	if err := unmarshal(j.payload, &c); err != nil {
		return nil, errors.Join(ErrMalformed, err)
	}
	return &c, nil
}

// newDecision builds the decision for valid claims c. A Deny's context carries
// who was refused, never a role.
func newDecision(c *claims) *decision {
	d := &decision{sub: c.Sub, exp: c.Exp}
	d.ctx = make([]contextEntry, 0, 6)
	d.ctx = append(d.ctx, contextEntry{"sub", c.Sub}, contextEntry{"username", c.Username})
	role, err := role(c)
	if err != nil {
		d.deny = err
		return d
	}
	d.ctx = append(d.ctx,
		contextEntry{"groups", strings.Join(c.Groups, ",")},
		contextEntry{"preferredRole", role},
		contextEntry{"roles", strings.Join(c.Roles.arns, ",")})
	if c.Email != "" {
		d.ctx = append(d.ctx, contextEntry{"email", c.Email})
	}
	return d
}

// store caches d for tok until the earlier of the TTL and the token's exp.
func (h *Handler) store(tok string, d *decision, now time.Time) {
	left := d.exp - now.Unix() // > 0: check passed
	if left <= 0 {
		return
	}
	ttl := h.cacheTTL
	if left < int64(ttl/time.Second) {
		ttl = time.Duration(left) * time.Second
	}
	if h.cache.ItemCount() >= h.maxEntries {
		h.cache.DeleteExpired()
		if h.cache.ItemCount() >= h.maxEntries {
			return // full of live entries: validate afresh rather than grow
		}
	}
	h.cache.Set(tok, d, ttl)
}

// respond is the one place outcomes become API Gateway results, and the one
// place a decision is logged.
func (h *Handler) respond(ctx context.Context, now time.Time, resource string, d *decision, cached bool, sub string, err error) (events.APIGatewayCustomAuthorizerResponse, error) {
	if err == nil && d.deny != nil {
		err = d.deny
	}
	out, reason := classify(err)
	h.logDecision(ctx, now, out, reason, sub, cached, err)
	switch out {
	case outcomeAllow:
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID:    d.sub,
			PolicyDocument: policy("Allow", resource),
			Context:        d.context(),
		}, nil
	case outcomeDeny:
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID:    d.sub,
			PolicyDocument: policy("Deny", resource),
			Context:        d.context(),
		}, nil
	case outcomeUnauthorized:
		// The exact message API Gateway turns into 401; produced nowhere else.
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
	}
	// The class names the failure for whoever reads the Lambda error; it says nothing about keys or tokens.
	return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Internal error: " + reason)
}

// logDecision writes the one JSON line per decision: never the token.
func (h *Handler) logDecision(ctx context.Context, now time.Time, out outcome, reason, sub string, cached bool, err error) {
	level := slog.LevelInfo
	if out == outcomeError {
		level = slog.LevelError
	}
	if !h.log.Enabled(ctx, level) {
		return
	}
	var requestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	// A Record built here rather than Logger.LogAttrs: that would walk the
	// stack for a source location nobody reads, which costs more than a cache hit.
	r := slog.NewRecord(now, level, "authorizer decision", 0)
	r.AddAttrs(
		slog.String("outcome", string(out)),
		slog.String("reason", reason),
		slog.String("requestId", requestID),
		slog.Bool("cached", cached))
	if sub != "" {
		r.AddAttrs(slog.String("sub", sub))
	}
	if out == outcomeError && err != nil {
		// Errors are ours to fix; their text names keys and URLs, never token bytes.
		r.AddAttrs(slog.String("error", err.Error()))
	}
	_ = h.log.Handler().Handle(ctx, r)
}
