package jwks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rolegate/rolegate/internal/emf"
)

// The cache's fixed rules.
const (
	// Timeout bounds the request to one URL, whatever the HTTP client's own timeout.
	Timeout = 3 * time.Second
	// MinRefetchInterval is the penalty box: lookups start at most one fetch per interval, however many unknown
	// kids they see.
	MinRefetchInterval = 10 * time.Second
	// RefreshInterval is the age after which a lookup of a known kid starts a refresh in the background, and is
	// answered from the set held meanwhile.
	RefreshInterval = time.Hour
	// MaxAge is how long a set serves without a successful refresh. Past it the keys are unavailable, as at a cold
	// start with the endpoint down: a key the provider retired, or an operator removed after a leak, then stops
	// verifying even while the endpoint fails.
	MaxAge = 24 * time.Hour
	// MaxSetBytes caps the size of a key set response.
	MaxSetBytes = 150 << 10
)

// Cache holds the key set of one identity provider, fetched from the first of its URLs that answers with a valid
// set (the others are mirrors of the same keys, tried in order). It is safe for concurrent use; lookups of known
// kids take no lock.
//
// Fetches happen on Prefetch, when a lookup meets an unknown kid, and in the background when a lookup finds the set
// older than RefreshInterval. Lookups start at most one fetch per MinRefetchInterval (Prefetch, the owner's explicit
// call, is not limited), and a lookup that needs a fetch while one is running waits for it instead of starting
// another. A failed fetch keeps the last good set, for at most MaxAge after it was fetched. A redirect fails the fetch.
type Cache struct {
	urls    []string
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger
	metrics string // the EMF namespace of the fetch lines; "" for none

	// set is replaced, never modified, so readers need no lock.
	set atomic.Pointer[keySet]

	mu        sync.Mutex
	inflight  *fetchCall // the running fetch, nil when none
	nextFetch time.Time  // lookups may start a fetch at or after this instant
	lastErr   error      // why the last fetch failed, nil after a success
}

type keySet struct {
	keys    map[string]*Key
	fetched time.Time
}

// fetchCall is one fetch that any number of callers wait on; set and err are written before done is closed.
type fetchCall struct {
	done chan struct{}
	set  *keySet
	err  error
}

// Option configures a Cache.
type Option func(*Cache)

// WithHTTPClient fetches with a copy of client (default: a client with a Timeout timeout). The copy refuses
// redirects: keys come only from the configured URL.
func WithHTTPClient(client *http.Client) Option { return func(c *Cache) { c.client = client } }

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Cache) { c.now = now } }

// WithLogger sets where each fetch is logged (default: nowhere).
func WithLogger(l *slog.Logger) Option { return func(c *Cache) { c.log = l } }

// WithMetrics makes each fetch's log line also a CloudWatch EMF document in namespace: JwksFetches (Count, 1) with
// the dimension Result, ok or failed.
func WithMetrics(namespace string) Option { return func(c *Cache) { c.metrics = namespace } }

// NewCache returns a Cache for the JWKS served at urls, in order of preference; it needs at least one. Every URL
// must serve the same provider's keys: a set from any of them verifies the provider's tokens. It fetches nothing
// until Prefetch or the first Key.
func NewCache(urls []string, opts ...Option) *Cache {
	c := &Cache{urls: slices.Clone(urls), client: &http.Client{Timeout: Timeout}, now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	client := *c.client // a copy: the caller's client keeps its own redirect policy
	// A key host or proxy answering 3xx, at any of the URLs, must not hand key selection to whatever URL it names
	// (or downgrade to http).
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return errRedirect }
	c.client = &client
	return c
}

// Prefetch fetches the set now (cold start), or waits for a fetch already running. It returns the fetch's error, or
// ctx's when ctx ends first (the fetch then completes in the background). A failure leaves the cache usable: the
// next Key call tries again.
func (c *Cache) Prefetch(ctx context.Context) error {
	call, _ := c.startFetch(ctx, false)
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return fmt.Errorf("jwks: prefetch: %w", ctx.Err())
	}
}

// Key returns the key for kid.
//
// An unknown kid makes one refetch when the penalty box allows (or joins the fetch already running); if the kid is
// still unknown the error is ErrKeyNotFound. When a set is held but that refetch fails, the answer is still
// ErrKeyNotFound, not ErrUnavailable: the keys we hold are valid, the token names none of them, and answering 500
// would let anyone with a made-up kid turn a provider blip into server errors. When no set was ever obtained the
// error wraps ErrUnavailable; a failed try closes the penalty box like any other, so during an outage lookups fail
// at once instead of each waiting out a timeout against a provider that is down. An empty kid is ErrKeyNotFound at
// once, without a fetch: no usable key has an empty kid.
//
// A known kid in a set older than RefreshInterval is served from that set, and the lookup starts a refresh in the
// background (when the penalty box allows) that later lookups see: a key the provider retired stops verifying as soon
// as a refresh succeeds. On Lambda a goroutine left running after the response is frozen with the sandbox, so the
// refresh may finish only after a thaw; it stays bounded by Timeout per URL of running time, no lookup of a known
// kid ever waits for it, and a lookup that must (an unknown kid, an expired set) joins it rather than starting
// another. A set older than MaxAge counts as none: its keys are unavailable until a fetch succeeds.
func (c *Cache) Key(ctx context.Context, kid string) (*Key, error) {
	if kid == "" {
		return nil, ErrKeyNotFound
	}
	s := c.set.Load()
	if s != nil {
		switch age := c.now().Sub(s.fetched); {
		case age >= MaxAge:
			s = nil
		case s.keys[kid] != nil:
			if age >= RefreshInterval {
				c.startFetch(ctx, true)
			}
			return s.keys[kid], nil
		}
	}
	call, _ := c.startFetch(ctx, true)
	switch {
	case call == nil && s == nil:
		return nil, c.unavailable()
	case call == nil:
		return nil, ErrKeyNotFound
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		call = &fetchCall{err: fmt.Errorf("gave up waiting for a fetch: %w", ctx.Err())}
	}
	switch {
	case call.err != nil && s == nil:
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, call.err)
	case call.err != nil:
		// %v, not %w: the outcome must be exactly one of the two sentinels.
		return nil, fmt.Errorf("%w (refetch failed: %v)", ErrKeyNotFound, call.err)
	}
	if k, ok := call.set.keys[kid]; ok {
		return k, nil
	}
	return nil, ErrKeyNotFound
}

func (c *Cache) unavailable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	why := cmp.Or(c.lastErr, errors.New("no fetch has succeeded within the maximum age"))
	return fmt.Errorf("%w (retrying after the penalty box): %w", ErrUnavailable, why)
}

// startFetch returns the running fetch, or starts one. A lookup (lookup true) may only start one when the penalty box
// is open, and closes it for MinRefetchInterval; otherwise call is nil. The fetch runs in its own goroutine, detached
// from ctx's cancellation, so that a caller giving up does not fail the others waiting on it.
func (c *Cache) startFetch(ctx context.Context, lookup bool) (call *fetchCall, started bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight != nil {
		return c.inflight, false
	}
	if lookup {
		now := c.now()
		if now.Before(c.nextFetch) {
			return nil, false
		}
		c.nextFetch = now.Add(MinRefetchInterval)
	}
	call = &fetchCall{done: make(chan struct{})}
	c.inflight = call
	go c.run(context.WithoutCancel(ctx), call)
	return call, true
}

func (c *Cache) run(ctx context.Context, call *fetchCall) {
	start := time.Now() // wall time for the log line; the injected clock may stand still
	keys, url, err := c.fetch(ctx)
	c.mu.Lock()
	if err == nil {
		call.set = &keySet{keys: keys, fetched: c.now()}
		c.set.Store(call.set)
	}
	c.lastErr, call.err = err, err
	c.inflight = nil
	c.mu.Unlock()
	defer close(call.done) // after the log line, so that a waiter returns with it written

	result, level, msg := "ok", slog.LevelInfo, "jwks fetched"
	attrs := []slog.Attr{slog.String("url", url), slog.Int64("ms", time.Since(start).Milliseconds())}
	if err != nil {
		result, level, msg = "failed", slog.LevelWarn, "jwks fetch failed; keeping the last good key set"
		attrs = append(attrs, slog.Bool("haveSet", c.set.Load() != nil), slog.String("error", err.Error()))
	} else {
		attrs = append(attrs, slog.Int("keys", len(keys)))
	}
	if c.metrics != "" {
		attrs = append(attrs, emf.Record{Namespace: c.metrics, Time: c.now(),
			Dimensions: []emf.Dimension{{Name: "Result", Value: result}}, Sets: [][]string{{"Result"}},
			Metrics: []emf.Metric{{Name: "JwksFetches", Unit: emf.Count, Value: 1}}}.Attrs()...)
	}
	c.log.LogAttrs(ctx, level, msg, attrs...)
}

var (
	errRedirect = errors.New("jwks: redirect refused: keys come only from the configured URL")
	errTooLarge = errors.New("jwks: response larger than the size cap")
	errNoURL    = errors.New("jwks: no key set URL")
)

// statusError is a non-200 answer.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("jwks: unexpected HTTP status %d", e.code) }

// fetch tries each URL once, in order, and returns the first valid set and the URL that served it; after a
// failure of all, url is the last tried and err joins each URL's error.
func (c *Cache) fetch(ctx context.Context) (keys map[string]*Key, url string, err error) {
	var errs []error
	for _, url = range c.urls {
		if keys, err = c.download(ctx, url); err == nil {
			return keys, url, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", url, err))
	}
	return nil, url, cmp.Or(errors.Join(errs...), errNoURL)
}

func (c *Cache) download(ctx context.Context, url string) (map[string]*Key, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{code: resp.StatusCode}
	}
	// One byte past the cap tells an oversized set from one that fills it exactly.
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSetBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks: reading response: %w", err)
	}
	if len(body) > MaxSetBytes {
		return nil, fmt.Errorf("%w of %d bytes", errTooLarge, MaxSetBytes)
	}
	return ParseSet(body)
}
