package authorizer_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/authorizer"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

// fullCacheHeapBound is what a decision cache full of the worst tokens it will keep may retain: well inside a 128 MB
// function, whose Go runtime and buffers need their own ~10 MiB.
const fullCacheHeapBound = 24 << 20

// nearMaxTokens mints n distinct valid tokens of about 7.9 KiB, as one user can by padding writable attributes
// and refreshing, taking f's pools in turn. The email, which the decision keeps, is padded too, near what a cached
// decision may hold.
func nearMaxTokens(t testing.TB, f *fixture, n int) []string {
	pools := append([]*jwkstest.Issuer{f.iss}, f.others...)
	t.Helper()
	toks := make([]string, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				iss := pools[i%len(pools)]
				c := iss.IDClaims("alice", "admins", "readers")
				c["cognito:username"] = strings.Repeat("u", 100)
				c["email"] = strings.Repeat("e", 600) + "@example.com"
				toks[i] = iss.MintPadded(t, c, authorizer.MaxTokenBytes-100)
			}
		})
	}
	wg.Wait()
	return toks
}

// TestFullDecisionCacheStaysSmall fills the decision cache to its limit with near-maximum tokens of three pools and
// checks the heap it retains: the cache, shared by the pools, is bounded by what it holds, not by how many tokens
// or pools it has seen.
func TestFullDecisionCacheStaysSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("mints thousands of tokens")
	}
	f := newFixture(t, withOtherPools("eu-west-1_Tenant2", "ap-southeast-2_Tenant3"))
	lookups := func() (n int64) {
		for _, k := range append([]*countingKeys{f.keys}, f.otherKeys...) {
			n += k.n.Load()
		}
		return n
	}
	n := authorizer.DefaultCacheEntries
	toks := nearMaxTokens(t, f, n+3)
	allow := func(tok string) {
		t.Helper()
		// A copy, as the Lambda runtime decodes each event into new strings: the cache must not keep it.
		ev := events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: strings.Clone(tok), MethodArn: strings.Clone(testMethodARN)}
		resp, err := f.h.Handle(context.Background(), ev)
		if err != nil || resp.PolicyDocument.Statement[0].Effect != "Allow" {
			t.Fatalf("not allowed: %v", err)
		}
	}
	for _, tok := range toks[n:] {
		allow(tok) // each pool's keys fetched, first allocations made: then the cache is emptied
	}
	f.h = f.newHandler(t, authorizer.WithLogger(slog.New(slog.DiscardHandler)))

	before := heapAlloc()
	for _, tok := range toks[:n] {
		allow(tok)
	}
	retained := heapAlloc() - before
	if got := lookups(); got != int64(n+3) {
		t.Fatalf("%d key lookups for %d fresh tokens", got, n+3)
	}
	t.Logf("%d decisions of %d-byte tokens retain %.1f MiB (%.0f bytes each)", n, len(toks[0]), float64(retained)/(1<<20), float64(retained)/float64(n))
	if retained > fullCacheHeapBound {
		t.Errorf("a full decision cache retains %d bytes, want at most %d", retained, fullCacheHeapBound)
	}
	// The cache kept what it was filled with: every token is now a hit.
	for _, tok := range toks[:n] {
		allow(tok)
	}
	if got := lookups(); got != int64(n+3) {
		t.Errorf("%d key lookups after replaying the tokens, want none: the cache did not keep them", got-int64(n+3))
	}
	runtime.KeepAlive(toks)
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
