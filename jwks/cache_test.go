package jwks_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/emf/emftest"
	"github.com/rolegate/rolegate/internal/local/mint"
	"github.com/rolegate/rolegate/internal/testkit/clocktest"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
	"github.com/rolegate/rolegate/jwks"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

const window = jwks.MinRefetchInterval

// newCache returns a cache on iss with the clock clk and a client timeout of timeout (0: the default).
func newCache(iss *jwkstest.Issuer, clk *clocktest.Clock, timeout time.Duration) *jwks.Cache {
	opts := []jwks.Option{jwks.WithClock(clk.Now)}
	if timeout > 0 {
		opts = append(opts, jwks.WithHTTPClient(&http.Client{Timeout: timeout}))
	}
	return jwks.NewCache([]string{iss.URL}, opts...)
}

func prefetch(t *testing.T, c *jwks.Cache) {
	t.Helper()
	if err := c.Prefetch(context.Background()); err != nil {
		t.Fatalf("Prefetch: %v", err)
	}
}

func wantKey(t *testing.T, c *jwks.Cache, k *mint.PrivateKey) {
	t.Helper()
	got, err := c.Key(context.Background(), k.ID)
	if err != nil {
		t.Fatalf("Key(%s): %v", k.ID, err)
	}
	if got.ID != k.ID || !got.Public.Equal(&k.Private.PublicKey) {
		t.Fatalf("Key(%s) returned another key", k.ID)
	}
}

func wantErr(t *testing.T, c *jwks.Cache, kid string, target error) error {
	t.Helper()
	k, err := c.Key(context.Background(), kid)
	if !errors.Is(err, target) {
		t.Fatalf("Key(%s) = %v, %v; want %v", kid, k, err, target)
	}
	// The two outcomes map to 401 and 500: an error must never be both.
	if errors.Is(err, jwks.ErrKeyNotFound) && errors.Is(err, jwks.ErrUnavailable) {
		t.Fatalf("Key(%s) error %v is both ErrKeyNotFound and ErrUnavailable", kid, err)
	}
	return err
}

func wantFetches(t *testing.T, iss *jwkstest.Issuer, n int) {
	t.Helper()
	if got := iss.Fetches(); got != n {
		t.Fatalf("fetches = %d, want %d", got, n)
	}
}

func TestCacheServesKnownKidsWithoutFetching(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	c := newCache(iss, clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), 0)
	prefetch(t, c)
	for range 100 {
		wantKey(t, c, iss.Key())
	}
	wantFetches(t, iss, 1)
}

func TestCacheFetchesOnFirstLookupWithoutPrefetch(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	c := newCache(iss, clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), 0)
	wantKey(t, c, iss.Key())
	wantFetches(t, iss, 1)
}

func TestCacheEmptyKidNeverFetches(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	c := newCache(iss, clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), 0)
	wantErr(t, c, "", jwks.ErrKeyNotFound)
	wantFetches(t, iss, 0)
}

func TestCachePicksUpRotationWithoutRestart(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	iss := jwkstest.NewIssuer(t, jwkstest.WithNow(clk.Now))
	c := newCache(iss, clk, 0)
	prefetch(t, c)
	old := iss.Key()

	next := iss.Rotate(t)
	wantKey(t, c, next) // unknown kid: one refetch
	wantFetches(t, iss, 2)
	wantKey(t, c, old) // the previous key is still published
	wantFetches(t, iss, 2)

	// A second rotation inside the penalty box is not seen until the window passes.
	newest := iss.Rotate(t)
	wantErr(t, c, newest.ID, jwks.ErrKeyNotFound)
	wantFetches(t, iss, 2)
	clk.Advance(window)
	wantKey(t, c, newest)
	wantFetches(t, iss, 3)
	// old left the published set with the second rotation, and the refetch replaced the set held.
	wantErr(t, c, old.ID, jwks.ErrKeyNotFound)
}

func TestCacheFloodOfUnknownKidsFetchesOncePerWindow(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	iss := jwkstest.NewIssuer(t)
	c := newCache(iss, clk, 0)
	prefetch(t, c)

	flood := func() {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for g := range 200 {
			wg.Go(func() {
				kid := fmt.Sprintf("forged-%d-%d", g, clk.Now().UnixNano())
				if _, err := c.Key(context.Background(), kid); !errors.Is(err, jwks.ErrKeyNotFound) {
					errs <- fmt.Errorf("Key(%s) = %v, want ErrKeyNotFound", kid, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	flood()
	wantFetches(t, iss, 2)
	flood()
	wantFetches(t, iss, 2)

	clk.Advance(window - time.Nanosecond)
	flood()
	wantFetches(t, iss, 2)

	clk.Advance(time.Nanosecond)
	flood()
	wantFetches(t, iss, 3)

	// Known kids are served throughout.
	wantKey(t, c, iss.Key())
	wantFetches(t, iss, 3)
}

func TestCacheMergesConcurrentFetches(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	c := newCache(iss, clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), 0)
	release := iss.Hold(t)

	var ready, done sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			if _, err := c.Key(context.Background(), iss.Key().ID); err != nil {
				errs <- err
			}
		})
	}
	ready.Wait()
	release()
	done.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a lookup that should have waited for the fetch in flight failed: %v", err)
	}
	wantFetches(t, iss, 1)
}

func TestCacheColdStartOutage(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	iss := jwkstest.NewIssuer(t)
	c := newCache(iss, clk, 0)
	iss.SetFailing(http.StatusServiceUnavailable)

	err := c.Prefetch(context.Background())
	var se *jwks.StatusError
	if !errors.As(err, &se) || se.Code() != http.StatusServiceUnavailable {
		t.Fatalf("Prefetch = %v, want status 503", err)
	}
	// The first lookup tries again; then the penalty box answers at once, without a fetch.
	wantErr(t, c, iss.Key().ID, jwks.ErrUnavailable)
	wantFetches(t, iss, 2)
	wantErr(t, c, iss.Key().ID, jwks.ErrUnavailable)
	wantErr(t, c, "any-kid", jwks.ErrUnavailable)
	wantFetches(t, iss, 2)

	iss.SetFailing(0)
	clk.Advance(window)
	wantKey(t, c, iss.Key())
	wantFetches(t, iss, 3)
}

func TestCacheRefresh(t *testing.T) {
	t.Run("a set younger than the refresh interval is not refetched", func(t *testing.T) {
		clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		iss := jwkstest.NewIssuer(t)
		c := newCache(iss, clk, 0)
		prefetch(t, c)
		clk.Advance(jwks.RefreshInterval - time.Nanosecond)
		wantKey(t, c, iss.Key())
		c.Settle()
		wantFetches(t, iss, 1)
		clk.Advance(time.Nanosecond)
		wantKey(t, c, iss.Key())
		c.Settle()
		wantFetches(t, iss, 2)
		wantKey(t, c, iss.Key())
		c.Settle()
		wantFetches(t, iss, 2)
	})
	t.Run("a stale set serves its key at once while the refresh runs in the background", func(t *testing.T) {
		clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		iss := jwkstest.NewIssuer(t)
		c := newCache(iss, clk, 0)
		prefetch(t, c)
		release := iss.Hold(t)
		clk.Advance(2 * time.Hour)
		wantKey(t, c, iss.Key())
		// The endpoint holds the refresh until release: a lookup that had waited for it would only have returned
		// once it failed (after Timeout), and found no fetch running.
		if !c.InFlight() {
			t.Fatal("the lookup of a known kid waited for the refresh")
		}
		release()
		c.Settle()
		wantFetches(t, iss, 2)
	})
	t.Run("a failed refresh keeps the last good set", func(t *testing.T) {
		clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		iss := jwkstest.NewIssuer(t)
		c := newCache(iss, clk, 0)
		prefetch(t, c)
		iss.SetFailing(http.StatusInternalServerError)
		clk.Advance(2 * time.Hour)
		wantKey(t, c, iss.Key())
		c.Settle()
		wantFetches(t, iss, 2)
		// Still stale, but the penalty box holds further tries back.
		wantKey(t, c, iss.Key())
		c.Settle()
		wantFetches(t, iss, 2)
		// A set is held: an unknown kid is the token's fault, not an outage.
		wantErr(t, c, "forged", jwks.ErrKeyNotFound)

		clk.Advance(window)
		err := wantErr(t, c, "forged", jwks.ErrKeyNotFound)
		if errors.Is(err, jwks.ErrUnavailable) {
			t.Fatal("refetch failure with a set held reported as unavailable")
		}
		wantFetches(t, iss, 3)

		iss.SetFailing(0)
		clk.Advance(window)
		wantKey(t, c, iss.Key())
		c.Settle()
		wantFetches(t, iss, 4)
		wantKey(t, c, iss.Key())
		c.Settle()
		wantFetches(t, iss, 4)
	})
	t.Run("a refresh answered with no usable key keeps the last good set", func(t *testing.T) {
		clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		iss := jwkstest.NewIssuer(t)
		c := newCache(iss, clk, 0)
		prefetch(t, c)
		iss.SetBody([]byte(`{"keys":[]}`))
		clk.Advance(2 * time.Hour)
		wantKey(t, c, iss.Key())
		c.Settle()
		wantFetches(t, iss, 2)
		wantKey(t, c, iss.Key())
	})
	t.Run("a refresh that no longer lists a kid retires it at once", func(t *testing.T) {
		clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		iss := jwkstest.NewIssuer(t)
		c := newCache(iss, clk, 0)
		prefetch(t, c)
		old := iss.Key()
		iss.Rotate(t)
		iss.Rotate(t) // old is now two rotations back, off the published set
		clk.Advance(2 * time.Hour)
		wantKey(t, c, old) // served from the held set; the refresh starts
		c.Settle()
		wantFetches(t, iss, 2)
		wantErr(t, c, old.ID, jwks.ErrKeyNotFound)
		wantKey(t, c, iss.Key())
		wantFetches(t, iss, 2)
	})
}

// TestCacheMaxAge: a set no refresh has renewed serves for MaxAge; past it the keys are unavailable, as at a cold
// start with the endpoint down, with the penalty box between tries, until a fetch succeeds.
func TestCacheMaxAge(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	iss := jwkstest.NewIssuer(t)
	c := newCache(iss, clk, 0)
	prefetch(t, c)
	iss.SetFailing(http.StatusServiceUnavailable)

	clk.Advance(jwks.MaxAge - time.Nanosecond)
	wantKey(t, c, iss.Key())
	c.Settle()
	wantFetches(t, iss, 2)

	clk.Advance(time.Nanosecond) // inside the penalty box: no fetch, and no key
	wantErr(t, c, iss.Key().ID, jwks.ErrUnavailable)
	wantErr(t, c, "forged", jwks.ErrUnavailable)
	wantFetches(t, iss, 2)

	clk.Advance(window) // the box opens: one try, waited for, that fails
	wantErr(t, c, iss.Key().ID, jwks.ErrUnavailable)
	wantErr(t, c, iss.Key().ID, jwks.ErrUnavailable)
	wantFetches(t, iss, 3)

	iss.SetFailing(0)
	clk.Advance(window)
	wantKey(t, c, iss.Key())
	wantFetches(t, iss, 4)
	clk.Advance(jwks.MaxAge - time.Nanosecond - window)
	wantErr(t, c, "forged", jwks.ErrKeyNotFound) // a set is held again: an unknown kid is the token's fault
}

func TestCacheBadResponses(t *testing.T) {
	valid := func(iss *jwkstest.Issuer) []byte { return iss.JWKS() }
	padTo := func(b []byte, n int) []byte {
		return append(append([]byte(nil), b...), bytes.Repeat([]byte(" "), n-len(b))...)
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, iss *jwkstest.Issuer)
		wantErr func(err error) bool // nil: the fetch succeeds
	}{
		{"a body exactly at the size cap is read", func(t *testing.T, iss *jwkstest.Issuer) {
			iss.SetBody(padTo(valid(iss), jwks.MaxSetBytes))
		}, nil},
		{"a body one byte over the size cap is refused", func(t *testing.T, iss *jwkstest.Issuer) {
			iss.SetBody(padTo(valid(iss), jwks.MaxSetBytes+1))
		}, func(err error) bool { return errors.Is(err, jwks.ErrTooLarge) }},
		{"a megabyte body is refused", func(t *testing.T, iss *jwkstest.Issuer) {
			iss.SetBody(bytes.Repeat([]byte("x"), 1<<20))
		}, func(err error) bool { return errors.Is(err, jwks.ErrTooLarge) }},
		{"garbage is refused", func(t *testing.T, iss *jwkstest.Issuer) {
			iss.SetBody([]byte("<html><body>Service Unavailable</body></html>"))
		}, func(err error) bool { return err != nil }},
		{"an empty body is refused", func(t *testing.T, iss *jwkstest.Issuer) {
			iss.SetBody([]byte{})
		}, func(err error) bool { return err != nil }},
		{"an empty key list is refused", func(t *testing.T, iss *jwkstest.Issuer) {
			iss.SetBody([]byte(`{"keys":[]}`))
		}, func(err error) bool { return errors.Is(err, jwks.ErrNoUsableKey) }},
		{"a set of only weak keys is refused", func(t *testing.T, iss *jwkstest.Issuer) {
			set, err := mint.MarshalSet(jwkstest.NewKey(t, "weak", 1024))
			if err != nil {
				t.Fatal(err)
			}
			iss.SetBody(set)
		}, func(err error) bool { return errors.Is(err, jwks.ErrNoUsableKey) }},
		{"a 404 is refused", func(t *testing.T, iss *jwkstest.Issuer) {
			iss.SetFailing(http.StatusNotFound)
		}, isStatus(http.StatusNotFound)},
		{"a 500 is refused", func(t *testing.T, iss *jwkstest.Issuer) {
			iss.SetFailing(http.StatusInternalServerError)
		}, isStatus(http.StatusInternalServerError)},
		{"a 429 is refused", func(t *testing.T, iss *jwkstest.Issuer) {
			iss.SetFailing(http.StatusTooManyRequests)
		}, isStatus(http.StatusTooManyRequests)},
	}
	key := jwkstest.NewKey(t, "", 2048) // one key for all cases: key generation is the slow part
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := jwkstest.NewIssuer(t, jwkstest.WithKey(key))
			tt.setup(t, iss)
			c := newCache(iss, clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), 0)
			err := c.Prefetch(context.Background())
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Prefetch: %v", err)
				}
				wantKey(t, c, iss.Key())
				return
			}
			if !tt.wantErr(err) {
				t.Fatalf("Prefetch = %v, not the expected error", err)
			}
			wantErr(t, c, iss.Key().ID, jwks.ErrUnavailable)
		})
	}
}

func isStatus(code int) func(error) bool {
	return func(err error) bool {
		var se *jwks.StatusError
		return errors.As(err, &se) && se.Code() == code
	}
}

func TestCacheSlowServerTimesOut(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	iss.SetDelay(time.Minute) // the handler gives up as soon as the client does
	c := newCache(iss, clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), 200*time.Millisecond)

	err := c.Prefetch(context.Background())
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Prefetch = %v, want a timeout", err)
	}
	wantErr(t, c, iss.Key().ID, jwks.ErrUnavailable)
}

func TestCacheLookupHonorsContext(t *testing.T) {
	t.Run("without a set, giving up is unavailable", func(t *testing.T) {
		iss := jwkstest.NewIssuer(t)
		iss.Hold(t)
		c := newCache(iss, clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), 0)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Key(ctx, iss.Key().ID)
		if !errors.Is(err, jwks.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Key = %v, want ErrUnavailable and context.Canceled", err)
		}
		if err := c.Prefetch(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Prefetch = %v, want context.Canceled", err)
		}
	})
	t.Run("with a set, giving up on an unknown kid is not found", func(t *testing.T) {
		iss := jwkstest.NewIssuer(t)
		c := newCache(iss, clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), 0)
		prefetch(t, c)
		iss.Hold(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Key(ctx, "forged")
		if !errors.Is(err, jwks.ErrKeyNotFound) || errors.Is(err, jwks.ErrUnavailable) {
			t.Fatalf("Key = %v, want ErrKeyNotFound only", err)
		}
	})
	t.Run("a stale set still serves a known kid when the caller gives up", func(t *testing.T) {
		clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		iss := jwkstest.NewIssuer(t)
		c := newCache(iss, clk, 0)
		prefetch(t, c)
		iss.Hold(t)
		clk.Advance(2 * time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Key(ctx, iss.Key().ID); err != nil {
			t.Fatalf("Key = %v", err)
		}
	})
}

func BenchmarkCacheKey(b *testing.B) {
	iss, c := prefetchedCache(b)
	ctx := context.Background()
	kid := iss.Key().ID
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Key(ctx, kid); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheKeyParallel(b *testing.B) {
	iss, c := prefetchedCache(b)
	ctx := context.Background()
	kid := iss.Key().ID
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Key(ctx, kid); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCacheKeyUnknownInPenaltyBox times what a flood of forged kids costs once the box is closed.
func BenchmarkCacheKeyUnknownInPenaltyBox(b *testing.B) {
	_, c := prefetchedCache(b)
	ctx := context.Background()
	if _, err := c.Key(ctx, "forged"); !errors.Is(err, jwks.ErrKeyNotFound) {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Key(ctx, "forged"); !errors.Is(err, jwks.ErrKeyNotFound) {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSet(b *testing.B) {
	iss := jwkstest.NewIssuer(b)
	iss.Rotate(b)
	set := iss.JWKS()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jwks.ParseSet(set); err != nil {
			b.Fatal(err)
		}
	}
}

// prefetchedCache returns an issuer and a cache that already holds its keys.
func prefetchedCache(b *testing.B) (*jwkstest.Issuer, *jwks.Cache) {
	b.Helper()
	iss := jwkstest.NewIssuer(b)
	c := jwks.NewCache([]string{iss.URL})
	if err := c.Prefetch(context.Background()); err != nil {
		b.Fatal(err)
	}
	return iss, c
}

// TestCacheRefusesRedirects: keys come only from the configured URL. A key host answering 302 to another loopback
// host that serves an attacker's key must not get that key into the cache, whichever client the cache was given.
func TestCacheRefusesRedirects(t *testing.T) {
	callerClient := &http.Client{Timeout: 2 * time.Second}
	for _, tt := range []struct {
		name   string
		client *http.Client
		held   bool // a good set was fetched before the redirect began
	}{
		{"a redirect on the first fetch leaves the keys unavailable", nil, false},
		{"a redirect through the caller's client leaves the keys unavailable", callerClient, false},
		{"a redirect on a refetch keeps the last good set", nil, true},
		{"a redirect on a refetch through the caller's client keeps the last good set", callerClient, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			iss := jwkstest.NewIssuer(t)
			attacker := jwkstest.NewIssuer(t, jwkstest.WithPoolID(iss.PoolID))
			opts := []jwks.Option{jwks.WithClock(clk.Now)}
			if tt.client != nil {
				opts = append(opts, jwks.WithHTTPClient(tt.client))
			}
			c := jwks.NewCache([]string{iss.URL}, opts...)
			if tt.held {
				prefetch(t, c)
			}
			// Another host (localhost, not 127.0.0.1) and another port: a different origin.
			iss.SetRedirect(strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1))
			if err := c.Prefetch(context.Background()); err == nil {
				t.Fatal("a redirected fetch succeeded")
			}
			clk.Advance(window)
			if tt.held {
				wantErr(t, c, attacker.Key().ID, jwks.ErrKeyNotFound)
				wantKey(t, c, iss.Key())
			} else {
				wantErr(t, c, attacker.Key().ID, jwks.ErrUnavailable)
			}
			if attacker.Fetches() != 0 {
				t.Errorf("the redirect was followed: %d fetches at the attacker's URL", attacker.Fetches())
			}
			if callerClient.CheckRedirect != nil {
				t.Error("NewCache changed the caller's client")
			}
		})
	}
}

// TestCacheFetchMetrics: each fetch writes one log line that is also an EMF document counting the fetch by result.
func TestCacheFetchMetrics(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	iss := jwkstest.NewIssuer(t)
	logs := &syncbuf.Buffer{}
	c := jwks.NewCache([]string{iss.URL}, jwks.WithClock(clk.Now), jwks.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))), jwks.WithMetrics("rolegate"))
	prefetch(t, c)
	iss.SetFailing(http.StatusBadGateway)
	if err := c.Prefetch(context.Background()); err == nil {
		t.Fatal("a failing fetch succeeded")
	}
	iss.SetRedirect(iss.URL)
	iss.SetFailing(0)
	if err := c.Prefetch(context.Background()); err == nil {
		t.Fatal("a redirected fetch succeeded")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	want := []string{"ok", "failed", "failed"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines for %d fetches:\n%s", len(lines), len(want), logs.String())
	}
	for i, line := range lines {
		d, err := emftest.Validate([]byte(line))
		if err != nil {
			t.Fatalf("fetch %d: %v: %s", i, err, line)
		}
		if d.Namespace != "rolegate" || d.Values["JwksFetches"] != 1 || d.Members["Result"] != want[i] ||
			!reflect.DeepEqual(d.Sets, [][]string{{"Result"}}) || d.Timestamp != clk.Now().UnixMilli() {
			t.Errorf("fetch %d: namespace %q, values %v, Result %v, sets %v", i, d.Namespace, d.Values, d.Members["Result"], d.Sets)
		}
	}
}

// refusingURL returns a loopback URL where nothing listens: connections are refused.
func refusingURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/keys.json"
}

// TestCacheTriesURLsInOrder: the first URL that answers with a valid set wins, each URL is tried once per fetch,
// and the penalty box holds back every URL alike.
func TestCacheTriesURLsInOrder(t *testing.T) {
	key := jwkstest.NewKey(t, "", 2048)
	for _, tt := range []struct {
		name  string
		first func(t *testing.T, first *jwkstest.Issuer) string // the first URL, broken its way
	}{
		{"a first URL that refuses connections", func(t *testing.T, _ *jwkstest.Issuer) string { return refusingURL(t) }},
		{"a first URL answering 503", func(t *testing.T, first *jwkstest.Issuer) string {
			first.SetFailing(http.StatusServiceUnavailable)
			return first.URL
		}},
		{"a first URL answering garbage", func(t *testing.T, first *jwkstest.Issuer) string {
			first.SetBody([]byte("<html>maintenance</html>"))
			return first.URL
		}},
		{"a first URL answering a redirect", func(t *testing.T, first *jwkstest.Issuer) string {
			first.SetRedirect("http://localhost:1/elsewhere.json")
			return first.URL
		}},
	} {
		t.Run(tt.name+" falls through to the second", func(t *testing.T) {
			clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			first := jwkstest.NewIssuer(t, jwkstest.WithKey(key))
			second := jwkstest.NewIssuer(t, jwkstest.WithKey(key))
			c := jwks.NewCache([]string{tt.first(t, first), second.URL}, jwks.WithClock(clk.Now))
			prefetch(t, c)
			wantKey(t, c, second.Key())
			wantFetches(t, second, 1)
			if n := first.Fetches(); n > 1 {
				t.Errorf("the first URL was tried %d times in one fetch", n)
			}
		})
	}
	t.Run("a first URL that answers is the only one fetched", func(t *testing.T) {
		first := jwkstest.NewIssuer(t, jwkstest.WithKey(key))
		second := jwkstest.NewIssuer(t, jwkstest.WithKey(key))
		c := jwks.NewCache([]string{first.URL, second.URL})
		prefetch(t, c)
		wantKey(t, c, first.Key())
		wantFetches(t, first, 1)
		wantFetches(t, second, 0)
	})
	t.Run("when every URL fails, none is tried again before the penalty box opens", func(t *testing.T) {
		clk := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		first := jwkstest.NewIssuer(t, jwkstest.WithKey(key))
		second := jwkstest.NewIssuer(t, jwkstest.WithKey(key))
		first.SetFailing(http.StatusBadGateway)
		second.SetFailing(http.StatusBadGateway)
		c := jwks.NewCache([]string{first.URL, second.URL}, jwks.WithClock(clk.Now))
		err := c.Prefetch(context.Background())
		if !isStatus(http.StatusBadGateway)(err) || !strings.Contains(err.Error(), first.URL) || !strings.Contains(err.Error(), second.URL) {
			t.Fatalf("Prefetch = %v, want both URLs' 502", err)
		}
		wantErr(t, c, first.Key().ID, jwks.ErrUnavailable) // the first lookup tries again, both URLs once
		wantErr(t, c, first.Key().ID, jwks.ErrUnavailable)
		wantFetches(t, first, 2)
		wantFetches(t, second, 2)
		second.SetFailing(0)
		clk.Advance(window)
		wantKey(t, c, second.Key())
		wantFetches(t, first, 3)
		wantFetches(t, second, 3)
	})
	t.Run("no URL is an outage, not a set", func(t *testing.T) {
		c := jwks.NewCache(nil)
		if err := c.Prefetch(context.Background()); err == nil {
			t.Fatal("Prefetch without a URL succeeded")
		}
		wantErr(t, c, "kid", jwks.ErrUnavailable)
	})
}
