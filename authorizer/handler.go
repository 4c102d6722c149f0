package authorizer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	gocache "github.com/patrickmn/go-cache"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/emf"
	"github.com/rolegate/rolegate/jwks"
)

// KeySource returns one pool's verification key for a kid. *jwks.Cache implements it.
// An error wrapping jwks.ErrKeyNotFound means the token is bad (401); any other
// error means the keys are unavailable (500).
type KeySource interface {
	Key(ctx context.Context, kid string) (*jwks.Key, error)
}

// Defaults for the decision cache.
const (
	// DefaultCacheTTL bounds how long a decision is reused; never past the token's exp.
	DefaultCacheTTL = 5 * time.Minute
	// DefaultCacheEntries bounds how many decisions are cached, each keyed by
	// a 32-byte digest of its token and holding at most MaxCachedContextBytes
	// of context.
	DefaultCacheEntries = 10000
	// MaxCachedContextBytes bounds what one cached decision may hold: a
	// decision whose context strings are longer (a user who padded their
	// email, say) is never cached.
	MaxCachedContextBytes = 1 << 10
)

// Handler answers API Gateway TOKEN authorizer events. Build it with New.
type Handler struct {
	pools      map[string]pool // by the exact iss its tokens carry
	clients    []string        // the app client ids accepted as aud
	skew       time.Duration   // leeway for exp, iat and nbf
	now        func() time.Time
	log        *slog.Logger
	namespace  string // of the decision metrics
	cacheTTL   time.Duration
	maxEntries int
	cache      *gocache.Cache // nil: every token is validated afresh
	lastSweep  atomic.Int64   // Unix second of the last sweep of a full-looking cache
}

// pool is one user pool's id and keys.
type pool struct {
	id   string
	keys KeySource
}

// Option configures a Handler.
type Option func(*Handler)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// WithLogger sets where decisions are logged (default slog.Default()). A
// decision's line carries the handler's clock as its time and no source.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithDecisionCache sets how long and how many decisions are cached.
// ttl <= 0 or entries <= 0 turns the cache off.
func WithDecisionCache(ttl time.Duration, entries int) Option {
	return func(h *Handler) { h.cacheTTL, h.maxEntries = ttl, entries }
}

// New returns a Handler for cfg verifying each pool's tokens with keys[pool id] alone, or the reasons cfg is
// invalid.
func New(cfg Config, keys map[string]KeySource, opts ...Option) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("authorizer: invalid config: %w", err)
	}
	h := &Handler{
		pools:      map[string]pool{},
		clients:    slices.Clone(cfg.ClientIDs),
		skew:       cfg.ClockSkew,
		now:        time.Now,
		log:        slog.Default(),
		namespace:  cmp.Or(cfg.MetricsNamespace, emf.DefaultNamespace),
		cacheTTL:   DefaultCacheTTL,
		maxEntries: DefaultCacheEntries,
	}
	for _, p := range cfg.Pools() {
		if keys[p.ID] == nil {
			return nil, fmt.Errorf("authorizer: no key source for pool %s", p.ID)
		}
		for _, iss := range p.Issuers {
			h.pools[iss] = pool{p.ID, keys[p.ID]}
		}
	}
	for _, o := range opts {
		o(h)
	}
	if h.cacheTTL > 0 && h.maxEntries > 0 {
		// go-cache's janitor removes expired entries every minute. Its expiry
		// runs on the wall clock, so a hit also checks exp on the injected one.
		h.cache = gocache.New(h.cacheTTL, time.Minute)
	}
	return h, nil
}

// attempt is what one Handle call learnt.
type attempt struct {
	now    time.Time
	stage  string    // arn:…:<apiId>/<stage> of the methodArn
	d      *decision // set when the token is valid
	cached bool
	sub    string // set once the signature verified, even if the claims then failed
	err    error  // why there is no decision
	apiID  string // API Gateway's request id, when the event carries one
}

// Handle answers one TOKEN event with an Allow or Deny policy for the stage of
// its methodArn. Its only errors are "Unauthorized" (API Gateway's 401) and
// "Internal error: <reason>" (500). The response's Context is the caller's own.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	a := attempt{now: h.now()}
	h.decide(ctx, &a, req)
	err := a.err
	if err == nil {
		err = a.d.deny
	}
	h.logDecision(ctx, &a, err)
	switch {
	case a.err == nil:
		return a.d.response(a.stage), nil
	case classify(a.err).outcome == unauthorized:
		// The exact message API Gateway turns into 401; produced nowhere else.
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
	}
	return events.APIGatewayCustomAuthorizerResponse{}, lambdaError(a.err)
}

// decide fills a with the decision for req, from the cache when it can.
func (h *Handler) decide(ctx context.Context, a *attempt, req events.APIGatewayCustomAuthorizerRequest) {
	// A methodArn we do not understand must never widen into a policy.
	m, err := arn.ParseMethod(req.MethodArn)
	if err != nil {
		a.err = fmt.Errorf("%w: %w", errBadMethodARN, err)
		return
	}
	a.stage = m.StageARN()
	h.decideToken(ctx, a, req.AuthorizationToken)
}

// decideToken fills a with the decision for the credential s (the bare JWT or
// "Bearer <JWT>"), from the cache when it can: the part shared by every event type.
func (h *Handler) decideToken(ctx context.Context, a *attempt, s string) {
	tok, err := extractToken(s)
	if err != nil {
		a.err = err
		return
	}
	// Keyed by a digest, never the token: a key of fixed size whatever the token's.
	// The token's bytes are converted once: the signature covers most of them too.
	raw := []byte(tok)
	sum := sha256.Sum256(raw)
	key := string(sum[:])
	if h.cache != nil {
		// Past exp a cached decision is never served; the full check below
		// still applies the clock skew, and the result is not cached again.
		if v, ok := h.cache.Get(key); ok && a.now.Unix() < v.(*decision).until {
			a.d, a.cached, a.sub = v.(*decision), true, v.(*decision).sub
			return
		}
	}
	c, poolID, err := h.verify(ctx, raw)
	if err != nil {
		a.err = err
		return
	}
	a.sub = c.Sub
	if a.err = h.check(c, a.now); a.err != nil {
		return
	}
	a.d = newDecision(c, poolID)
	h.store(key, a.d, a.now)
}

// verify parses tok, decodes its claims once, and verifies its signature with the keys of the pool its iss names,
// which it returns. The claims are read first only to pick those keys: nothing in them counts until the signature
// verifies, and an issuer not configured is refused without a key lookup, so it never causes a fetch.
func (h *Handler) verify(ctx context.Context, tok []byte) (*claims, string, error) {
	j, err := parseJWS(tok)
	if err != nil {
		return nil, "", err
	}
	if err := j.checkHeader(); err != nil {
		return nil, "", err
	}
	var c claims
	if err := json.Unmarshal(j.payload, &c); err != nil {
		return nil, "", fmt.Errorf("%w: claims: %w", errMalformed, err)
	}
	// A key of one pool never verifies a token that claims another: the lookup is scoped by iss.
	p, ok := h.pools[c.Iss]
	if !ok {
		return nil, "", errWrongIssuer
	}
	if err := j.verify(ctx, p.keys); err != nil {
		return nil, "", err
	}
	return &c, p.id, nil
}

// store caches d under key until the earlier of the TTL and the token's exp.
// A cache full of live decisions, or a decision bigger than MaxCachedContextBytes,
// is not stored: that token is validated afresh each time, which costs CPU, not memory.
func (h *Handler) store(key string, d *decision, now time.Time) {
	left := time.Duration(d.exp-now.Unix()) * time.Second
	if h.cache == nil || left <= 0 || d.size > MaxCachedContextBytes {
		return
	}
	ttl := min(h.cacheTTL, left)
	d.until = now.Add(ttl).Unix()
	// ItemCount counts expired entries until the janitor's next minute: a cache that looks full is swept
	// first, at most once a second, so a burst of expired decisions does not stop caching.
	if h.cache.ItemCount() >= h.maxEntries && !h.sweep(now) {
		return
	}
	h.cache.Set(key, d, ttl)
}

// sweep deletes the decisions expired on the handler's clock (and on go-cache's) and reports whether that left
// room; it does nothing, and reports false, when the last sweep was under a second ago.
func (h *Handler) sweep(now time.Time) bool {
	last := h.lastSweep.Load()
	if now.Unix() <= last || !h.lastSweep.CompareAndSwap(last, now.Unix()) {
		return false
	}
	h.cache.DeleteExpired()
	for k, it := range h.cache.Items() {
		if it.Object.(*decision).until <= now.Unix() {
			h.cache.Delete(k)
		}
	}
	return h.cache.ItemCount() < h.maxEntries
}

// logDecision writes the one JSON line per decision, which is also its EMF
// metrics document: never the token. Dimensions are bounded sets (outcome and
// reason class); the user and request ids are plain fields.
func (h *Handler) logDecision(ctx context.Context, a *attempt, err error) {
	out, reason, level := allowed, "ok", slog.LevelInfo
	if err != nil {
		rej := classify(err)
		out, reason = rej.outcome, rej.reason
	}
	if out == failed {
		level = slog.LevelError
	}
	if !h.log.Enabled(ctx, level) {
		return
	}
	var awsRequestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		awsRequestID = lc.AwsRequestID
	}
	hit := 0.0
	if a.cached {
		hit = 1
	}
	// The line's time is the decision's, and without a pc slog walks no stack for a source we do not log.
	r := slog.NewRecord(a.now, level, "authorizer decision", 0)
	r.AddAttrs(emf.Record{
		Namespace:  h.namespace,
		Time:       a.now,
		Dimensions: []emf.Dimension{{Name: "Outcome", Value: string(out)}, {Name: "Reason", Value: reason}},
		Sets:       [][]string{{"Outcome"}, {"Outcome", "Reason"}},
		Metrics:    []emf.Metric{{Name: "Decisions", Unit: emf.Count, Value: 1}, {Name: "CacheHit", Unit: emf.Count, Value: hit}},
	}.Attrs()...)
	r.AddAttrs(slog.String("awsRequestId", awsRequestID))
	if a.apiID != "" {
		r.AddAttrs(slog.String("apiRequestId", a.apiID))
	}
	if a.sub != "" {
		r.AddAttrs(slog.String("sub", emf.Text(a.sub))) // signed, yet not ours
	}
	if out == failed {
		// Errors are ours to fix; their text names keys and URLs, never token bytes.
		r.AddAttrs(slog.String("error", err.Error()))
	}
	_ = h.log.Handler().Handle(ctx, r)
}
