package jwks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultTimeout            = 3 * time.Second
	DefaultMinRefetchInterval = 10 * time.Second
	DefaultRefreshInterval    = time.Hour
	DefaultMaxBytes           = 150 << 10
)

// Options configure a Cache. Zero fields take the defaults above.
type Options struct {
	// Client fetches the set. Default: a client with a DefaultTimeout timeout. A client without a timeout still gets
	// DefaultTimeout per fetch, because a fetch that never ends would block every later refetch.
	Client *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MinRefetchInterval is the penalty box: lookups start at most one fetch per interval, however many unknown kids
	// they see.
	MinRefetchInterval time.Duration
	// RefreshInterval is the age after which a lookup refreshes the set even though it knows the kid.
	RefreshInterval time.Duration
	// MaxBytes caps the size of a key set response.
	MaxBytes int64
	// Logger receives one line per fetch and one debug line per skipped key. Default: discard.
	Logger *slog.Logger
}

// Cache holds the key set of one JWKS URL. It is safe for concurrent use; lookups of known kids take no lock and
// allocate nothing.
//
// Fetches happen on Prefetch, when a lookup meets an unknown kid, and when a lookup finds the set older than
// RefreshInterval. Lookups start at most one fetch per MinRefetchInterval (Prefetch, the owner's explicit call, is
// not limited), and a lookup arriving while a fetch is running waits for that fetch instead of starting another.
// A failed fetch keeps the last good set.
type Cache struct {
	url          string
	client       *http.Client
	now          func() time.Time
	minRefetch   time.Duration
	refreshEvery time.Duration
	maxBytes     int64
	fetchTimeout time.Duration
	log          *slog.Logger

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

// NewCache returns a Cache for the JWKS at url. It fetches nothing until Prefetch or the first Key.
func NewCache(url string, o Options) *Cache {
	c := &Cache{
		url:          url,
		now:          o.Now,
		minRefetch:   o.MinRefetchInterval,
		refreshEvery: o.RefreshInterval,
		maxBytes:     o.MaxBytes,
		log:          o.Logger,
	}
	client := http.Client{Timeout: DefaultTimeout}
	if o.Client != nil {
		client = *o.Client // a copy: the caller's client keeps its own redirect policy
	}
	// Keys come only from the configured URL: a key host or proxy answering 3xx
	// must not hand key selection to whatever URL it names (or downgrade to http).
	client.CheckRedirect = refuseRedirect
	c.client = &client
	c.fetchTimeout = c.client.Timeout
	if c.fetchTimeout <= 0 {
		c.fetchTimeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.minRefetch <= 0 {
		c.minRefetch = DefaultMinRefetchInterval
	}
	if c.refreshEvery <= 0 {
		c.refreshEvery = DefaultRefreshInterval
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxBytes
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
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
func (c *Cache) Key(ctx context.Context, kid string) (*Key, error) {
	if kid == "" {
		return nil, ErrKeyNotFound
	}
	s := c.set.Load()
	if s != nil {
		if k, ok := s.keys[kid]; ok {
			if c.now().Sub(s.fetched) < c.refreshEvery {
				return k, nil
			}
			return c.refreshed(ctx, kid, k)
		}
	}
	return c.refetched(ctx, kid, s)
}

// refreshed serves a known kid from a set older than RefreshInterval. The refresh runs inline, in the lookup that
// notices, rather than in a background goroutine: on Lambda a goroutine left running after the response is frozen
// with the sandbox, so an inline refresh is the one that reliably completes. Only the lookup that starts the fetch
// waits; a failure keeps the held key.
func (c *Cache) refreshed(ctx context.Context, kid string, held *Key) (*Key, error) {
	call, started := c.startFetch(ctx, true)
	if !started {
		return held, nil
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		return held, nil
	}
	if call.err != nil {
		return held, nil
	}
	if k, ok := call.set.keys[kid]; ok {
		return k, nil
	}
	// The provider retired the key: tokens it signed must no longer pass.
	return nil, ErrKeyNotFound
}

// refetched looks kid up after a refetch, held being the set before (nil if none).
func (c *Cache) refetched(ctx context.Context, kid string, held *keySet) (*Key, error) {
	call, _ := c.startFetch(ctx, true)
	if call == nil {
		if held == nil {
			return nil, c.unavailable()
		}
		return nil, ErrKeyNotFound
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		if held == nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
		// %v, not %w: the outcome must be exactly one of the two sentinels.
		return nil, fmt.Errorf("%w (gave up waiting for a refetch: %v)", ErrKeyNotFound, ctx.Err())
	}
	if call.err != nil {
		if held == nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, call.err)
		}
		return nil, fmt.Errorf("%w (refetch failed: %v)", ErrKeyNotFound, call.err)
	}
	if k, ok := call.set.keys[kid]; ok {
		return k, nil
	}
	return nil, ErrKeyNotFound
}

func (c *Cache) unavailable() error {
	c.mu.Lock()
	err := c.lastErr
	c.mu.Unlock()
	if err == nil {
		err = errors.New("no fetch has succeeded yet")
	}
	return fmt.Errorf("%w (retrying after the penalty box): %w", ErrUnavailable, err)
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
		c.nextFetch = now.Add(c.minRefetch)
	}
	call = &fetchCall{done: make(chan struct{})}
	c.inflight = call
	go c.run(context.WithoutCancel(ctx), call)
	return call, true
}

func (c *Cache) run(ctx context.Context, call *fetchCall) {
	ctx, cancel := context.WithTimeout(ctx, c.fetchTimeout)
	defer cancel()
	start := time.Now() // wall time for the log line; the injected clock may stand still
	keys, err := c.download(ctx)
	var set *keySet
	c.mu.Lock()
	if err == nil {
		set = &keySet{keys: keys, fetched: c.now()}
		c.set.Store(set)
	}
	c.lastErr = err
	call.set, call.err = set, err
	c.inflight = nil
	c.mu.Unlock()
	close(call.done)

	ms := time.Since(start).Milliseconds()
	if err != nil {
		c.log.WarnContext(ctx, "jwks fetch failed; keeping the last good key set", "url", c.url, "ms", ms,
			"have_set", c.set.Load() != nil, "error", err.Error())
		return
	}
	c.log.InfoContext(ctx, "jwks fetched", "url", c.url, "ms", ms, "keys", len(keys))
}

// errRedirect is why a fetch answered with a redirect fails.
var errRedirect = errors.New("jwks: redirect refused: keys come only from the configured URL")

func refuseRedirect(*http.Request, []*http.Request) error { return errRedirect }

// errTooLarge means the response passed Options.MaxBytes.
var errTooLarge = errors.New("jwks: response larger than the size cap")

// statusError is a non-200 answer.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("jwks: unexpected HTTP status %d", e.code) }

func (c *Cache) download(ctx context.Context) (map[string]*Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
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
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks: reading response: %w", err)
	}
	if int64(len(body)) > c.maxBytes {
		return nil, fmt.Errorf("%w of %d bytes", errTooLarge, c.maxBytes)
	}
	keys, skipped, err := parseSet(body)
	for _, s := range skipped {
		c.log.DebugContext(ctx, "jwks key skipped", "index", s.Index, "kid", s.Kid, "reason", s.Err.Error())
	}
	return keys, err
}
