package backend_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
)

// BenchmarkCredentialsCached times ConfigFor for a user whose credentials are
// cached: read the authorizer context, validate the roles, choose one, check
// the allowlist, find the session, hand out its unexpired credentials.
// Plain code; it should stay around a microsecond.
func BenchmarkCredentialsCached(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  backend.Config
	}{
		{"DefaultAllowlist", backend.Config{}},
		{"ThreePatterns", backend.Config{AllowedRoleARNs: []string{
			"arn:aws:iam::123456789012:role/ops-*",
			"arn:aws:iam::123456789012:role/team/*",
			"arn:aws:iam::123456789012:role/rolegate-*",
		}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h, err := backend.New(tc.cfg, aws.Config{}, &stubSTS{})
			if err != nil {
				b.Fatal(err)
			}
			ctx := lambdaCtx()
			req := whoamiEvent(readers, aliceSub, "alice")
			if _, _, err := h.ConfigFor(ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				cfg, _, err := h.ConfigFor(ctx, req)
				if err != nil || cfg.Credentials == nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWhoamiCached times a whole cached GET /whoami, including the
// GetCallerIdentity round trip to a loopback STS.
func BenchmarkWhoamiCached(b *testing.B) {
	f := newFixture(b, backend.Config{})
	ctx := lambdaCtx()
	req := whoamiEvent(readers, aliceSub, "alice")
	f.handle(b, ctx, req)
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := f.h.Handle(ctx, req); resp.StatusCode != 200 {
			b.Fatal(resp.Body)
		}
	}
}

// BenchmarkBurst1000Requests10Users sends 1,000 whoami requests from 10
// users, 20 at a time, to a fresh backend, and reports the AssumeRole calls
// the burst made (the goal is one per user).
func BenchmarkBurst1000Requests10Users(b *testing.B) {
	var assumes int
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b, backend.Config{})
		ctx := lambdaCtx()
		jobs := make(chan int)
		var wg sync.WaitGroup
		b.StartTimer()
		for range 20 {
			wg.Go(func() {
				for i := range jobs {
					f.h.Handle(ctx, whoamiEvent(readers, fmt.Sprintf("user-%02d", i%10), ""))
				}
			})
		}
		for i := range 1000 {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		assumes = f.sts.Calls(ststest.AssumeRole)
	}
	b.ReportMetric(float64(assumes), "AssumeRole/burst")
}

// TestSessionMemoryIsBounded fills the credentials cache with four times as
// many users as it may hold, each with the largest identity the backend
// accepts (a 64-character sub, a 256-byte username, a role ARN with a
// 500-character path) and credentials of real sizes, and checks the heap the
// handler retains against the bound DefaultMaxSessions is documented with.
// The heap is read while the handler is alive, before and after: what the
// sessions hold, not what a collection frees (go-cache's janitor keeps the
// cache reachable, so a handler dropped after the filling frees nothing).
// Broken by hand: with MaxSessions at 4 × sessions the cache keeps every
// user and the test fails.
func TestSessionMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const sessions, perSession = 2000, 5 << 10
	role := "arn:aws:iam::123456789012:role/" + strings.Repeat("p", 500) + "/rolegate-readers"
	h, err := backend.New(backend.Config{MaxSessions: sessions}, aws.Config{}, forgetfulSTS{})
	if err != nil {
		t.Fatal(err)
	}
	h.ConfigFor(lambdaCtx(), whoamiEvent(readers, aliceSub, "alice")) // first allocations made
	before := heapAlloc()
	for i := range 4 * sessions {
		sub := fmt.Sprintf("%064d", i)
		req := whoamiEvent(role, sub, strings.Repeat("u", 250)+fmt.Sprintf("%06d", i))
		if _, _, err := h.ConfigFor(lambdaCtx(), req); err != nil {
			t.Fatal(err)
		}
	}
	kept := heapAlloc() - before
	runtime.KeepAlive(h)
	t.Logf("%d sessions of the largest identities keep %.1f KiB each (%.1f MiB)", sessions, float64(kept)/sessions/1024, float64(kept)/(1<<20))
	if kept > sessions*perSession {
		t.Errorf("the cache keeps %d bytes for %d sessions, over %d a session", kept, sessions, perSession)
	}
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
