package apigw

import (
	"context"
	"sync"
	"time"
)

// resultCache holds authorizer results per identity source value for the
// authorizer's TTL, as API Gateway's authorizer cache does. Concurrent misses
// for one token share a single invocation: API Gateway may invoke more than
// once for such a burst, but the local emulator runs one invocation at a time
// anyway, and merging keeps invocation counts deterministic.
type resultCache struct {
	ttl time.Duration
	now func() time.Time
	max int

	mu      sync.Mutex
	entries map[string]cacheEntry
	calls   map[string]*cacheCall
}

type cacheEntry struct {
	res     *authorizerResult
	expires time.Time
}

type cacheCall struct {
	done chan struct{}
	res  *authorizerResult
	err  error
}

// defaultCacheEntries bounds memory when a load test sends many tokens.
const defaultCacheEntries = 10000

func newResultCache(ttl time.Duration, now func() time.Time, max int) *resultCache {
	if max <= 0 {
		max = defaultCacheEntries
	}
	return &resultCache{ttl: ttl, now: now, max: max, entries: map[string]cacheEntry{}, calls: map[string]*cacheCall{}}
}

// do returns the cached result for key, or runs fetch and caches a success.
// cached reports whether fetch was not run for this call. Failures are not
// cached: a 401 or 500 is asked again next time.
func (c *resultCache) do(ctx context.Context, key string, fetch func() (*authorizerResult, error)) (res *authorizerResult, cached bool, err error) {
	if c.ttl <= 0 {
		res, err = fetch()
		return res, false, err
	}
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		if c.now().Before(e.expires) {
			c.mu.Unlock()
			return e.res, true, nil
		}
		delete(c.entries, key)
	}
	if call, ok := c.calls[key]; ok {
		c.mu.Unlock()
		select {
		case <-call.done:
			return call.res, true, call.err
		case <-ctx.Done():
			return nil, true, ctx.Err()
		}
	}
	call := &cacheCall{done: make(chan struct{})}
	c.calls[key] = call
	c.mu.Unlock()

	call.res, call.err = fetch()

	c.mu.Lock()
	delete(c.calls, key)
	if call.err == nil {
		c.store(key, call.res)
	}
	c.mu.Unlock()
	close(call.done)
	return call.res, false, call.err
}

// store must be called with c.mu held.
func (c *resultCache) store(key string, res *authorizerResult) {
	now := c.now()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = cacheEntry{res: res, expires: now.Add(c.ttl)}
}
