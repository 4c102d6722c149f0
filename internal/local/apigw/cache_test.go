package apigw

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/testkit/clocktest"
)

func TestResultCache(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	c := newResultCache(300*time.Second, clock.Now, 0)
	calls := 0
	fetch := func() (*authorizerResult, error) { calls++; return &authorizerResult{PrincipalID: "p"}, nil }

	if _, cached, _ := c.do(ctx, "tok", fetch); cached || calls != 1 {
		t.Fatalf("first call: cached=%v calls=%d", cached, calls)
	}
	clock.Advance(299 * time.Second)
	if _, cached, _ := c.do(ctx, "tok", fetch); !cached || calls != 1 {
		t.Fatalf("within the TTL: cached=%v calls=%d", cached, calls)
	}
	if _, cached, _ := c.do(ctx, "other", fetch); cached || calls != 2 {
		t.Fatalf("another token: cached=%v calls=%d", cached, calls)
	}
	clock.Advance(time.Second)
	if _, cached, _ := c.do(ctx, "tok", fetch); cached || calls != 3 {
		t.Fatalf("at the TTL: cached=%v calls=%d", cached, calls)
	}
}

func TestResultCacheDoesNotCacheFailures(t *testing.T) {
	c := newResultCache(time.Minute, clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)).Now, 0)
	calls := 0
	fail := func() (*authorizerResult, error) { calls++; return nil, errUnauthorized }
	for range 2 {
		if _, _, err := c.do(context.Background(), "tok", fail); !errors.Is(err, errUnauthorized) {
			t.Fatalf("err = %v", err)
		}
	}
	if calls != 2 {
		t.Errorf("calls = %d, want 2", calls)
	}
}

func TestResultCacheWithZeroTTLAlwaysFetches(t *testing.T) {
	c := newResultCache(0, clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)).Now, 0)
	calls := 0
	fetch := func() (*authorizerResult, error) { calls++; return &authorizerResult{}, nil }
	for range 3 {
		c.do(context.Background(), "tok", fetch)
	}
	if calls != 3 {
		t.Errorf("calls = %d, want 3", calls)
	}
}

func TestResultCacheMergesConcurrentMisses(t *testing.T) {
	c := newResultCache(time.Minute, clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)).Now, 0)
	var calls atomic.Int32
	release := make(chan struct{})
	fetch := func() (*authorizerResult, error) {
		calls.Add(1)
		<-release
		return &authorizerResult{PrincipalID: "p"}, nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if res, _, err := c.do(context.Background(), "tok", fetch); err != nil || res.PrincipalID != "p" {
				t.Errorf("do = %v, %v", res, err)
			}
		})
	}
	// Let the first caller take the slot; the rest must wait on it.
	for calls.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("fetches = %d, want 1", n)
	}
}

func TestResultCacheStaysBounded(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	c := newResultCache(time.Minute, clock.Now, 3)
	fetch := func() (*authorizerResult, error) { return &authorizerResult{}, nil }
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		c.do(context.Background(), k, fetch)
	}
	if n := len(c.entries); n > 3 {
		t.Errorf("entries = %d, want <= 3", n)
	}
}
