package authorizer

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"slices"
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
	// DefaultCacheEntries bounds the cache's memory: at most this many
	// decisions, each keyed by a 32-byte digest and holding at most
	// MaxCachedContextBytes of context.
	DefaultCacheEntries = 10000
	// MaxCachedContextBytes bounds what one cached decision may hold: a
	// decision whose context strings are longer (a user who padded their
	// email, say) is never cached.
	MaxCachedContextBytes = 1 << 10
)

// Handler answers API Gateway TOKEN authorizer events. Build it with New.
type Handler struct {
	keys   KeySource
	stages stageParser
	jws    jwsParser
	v      validator
	now    func() time.Time
	log    *slog.Logger
	// logs holds, per verdict, log with that verdict's outcome and reason and
	// the cached flag already attached: the JSON handler formats With
	// attributes once, so a decision's line only formats its per-request fields.
	logs [len(verdicts)]struct{ fresh, cached *slog.Logger }

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
	for v, vd := range verdicts {
		l := h.log.With(slog.String("outcome", string(vd.outcome)), slog.String("reason", vd.reason))
		h.logs[v].fresh = l.With(slog.Bool("cached", false))
		h.logs[v].cached = l.With(slog.Bool("cached", true))
	}
	if h.cacheTTL > 0 && h.maxEntries > 0 {
		// Entries also carry their own exp, checked with h.now on every hit:
		// go-cache's expiry runs on the wall clock, not the injected one.
		h.cache = gocache.New(h.cacheTTL, time.Minute)
	}
	return h
}

// Handle answers one TOKEN event. The only error messages it returns are
// "Unauthorized" (API Gateway's 401) and "Internal error: <class>" (500).
//
// A response is shared with the decision cache, so that a cache hit costs no
// allocation: callers must not modify it, its Context map or its policy (the
// Lambda runtime only marshals it).
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	now := h.now()
	stage, err := h.stages.stageARN(req.MethodArn)
	if err != nil {
		return h.respond(ctx, now, "", nil, false, "", err)
	}
	d, cached, sub, err := h.decide(ctx, now, stage, req.AuthorizationToken)
	return h.respond(ctx, now, stage, d, cached, sub, err)
}

// decide returns the decision for authorizationToken, from the cache when it
// can; a new decision comes with its response for stage. sub is set when the
// signature verified, even if the claims then failed.
func (h *Handler) decide(ctx context.Context, now time.Time, stage, authorizationToken string) (d *decision, cached bool, sub string, err error) {
	tok, err := extractToken(authorizationToken)
	if err != nil {
		return nil, false, "", err
	}
	// Keyed by a digest, never the token: a key of fixed size whatever the token's.
	sum := sha256.Sum256([]byte(tok))
	key := string(sum[:])
	if h.cache != nil {
		if v, ok := h.cache.Get(key); ok {
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
	d = newDecision(c, stage)
	if h.cache != nil {
		h.store(key, d, now)
	}
	return d, false, d.sub, nil
}

// verify parses tok, verifies its signature and decodes its claims, once.
func (h *Handler) verify(ctx context.Context, tok string) (*claims, error) {
	j, err := h.jws.parse(tok)
	if err != nil {
		return nil, err
	}
	if err := j.checkHeader(); err != nil {
		return nil, err
	}
	if err := j.verify(ctx, h.keys); err != nil {
		return nil, err
	}
	c := newClaims()
	if err := unmarshal(j.payload, c); err != nil {
		return nil, errors.Join(ErrMalformed, err)
	}
	return c, nil
}

// store caches d under key until the earlier of the TTL and the token's exp.
// A full cache, or a decision bigger than MaxCachedContextBytes, is not
// stored: that token is validated afresh each time, which costs CPU, not memory.
func (h *Handler) store(key string, d *decision, now time.Time) {
	left := d.exp - now.Unix() // > 0: check passed
	if left <= 0 || d.size > MaxCachedContextBytes || h.cache.ItemCount() >= h.maxEntries {
		return
	}
	ttl := h.cacheTTL
	if left < int64(ttl/time.Second) {
		ttl = time.Duration(left) * time.Second
	}
	h.cache.Set(key, d, ttl)
}

// respond is the one place outcomes become API Gateway results, and the one
// place a decision is logged.
func (h *Handler) respond(ctx context.Context, now time.Time, stage string, d *decision, cached bool, sub string, err error) (events.APIGatewayCustomAuthorizerResponse, error) {
	if err == nil && d.deny != nil {
		err = d.deny
	}
	v := classify(err)
	h.logDecision(ctx, now, v, d, cached, sub, err)
	switch verdicts[v].outcome {
	case outcomeAllow, outcomeDeny:
		return d.response(stage), nil
	case outcomeUnauthorized:
		// The exact message API Gateway turns into 401; produced nowhere else.
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
	}
	// The class names the failure for whoever reads the Lambda error; it says nothing about keys or tokens.
	return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Internal error: " + verdicts[v].reason)
}

// logDecision writes the one JSON line per decision: never the token.
func (h *Handler) logDecision(ctx context.Context, now time.Time, v verdict, d *decision, cached bool, sub string, err error) {
	log := h.logs[v].fresh
	if cached {
		log = h.logs[v].cached
	}
	level := slog.LevelInfo
	if verdicts[v].outcome == outcomeError {
		level = slog.LevelError
	}
	if !log.Enabled(ctx, level) {
		return
	}
	if cached {
		// A hit's line differs from the decision's other hits only in time and
		// request id: its sub is formatted once, on the first.
		log, sub = d.hitLogger(log), ""
	}
	var requestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	// A Record built here rather than Logger.LogAttrs: that would walk the
	// stack for a source location nobody reads, which costs more than a cache hit.
	r := slog.NewRecord(now, level, "authorizer decision", 0)
	if sub != "" {
		r.AddAttrs(slog.String("sub", sub))
	}
	r.AddAttrs(slog.String("requestId", requestID))
	if verdicts[v].outcome == outcomeError && err != nil {
		// Errors are ours to fix; their text names keys and URLs, never token bytes.
		r.AddAttrs(slog.String("error", err.Error()))
	}
	_ = log.Handler().Handle(ctx, r)
}
