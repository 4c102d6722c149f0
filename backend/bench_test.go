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

// TestSessionMemoryIsBounded fills the credentials cache with four times as many
// users as it may hold, each with the largest identity the backend accepts
// (a 64-character sub, a 256-byte username, a role ARN with a 500-character
// path), and checks the heap it keeps against the bound DefaultMaxSessions
// documents: 5 KiB a session.
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
	heap := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	for i := range 4 * sessions {
		sub := fmt.Sprintf("%064d", i)
		req := whoamiEvent(role, sub, strings.Repeat("u", 250)+fmt.Sprintf("%06d", i))
		if _, _, err := h.ConfigFor(lambdaCtx(), req); err != nil {
			t.Fatal(err)
		}
	}
	with := heap()
	runtime.KeepAlive(h) // until here; then the cache goes with the handler
	kept := with - heap()
	t.Logf("%d sessions of the largest identities keep %.1f KiB each", sessions, float64(kept)/sessions/1024)
	if kept > sessions*perSession {
		t.Errorf("the cache keeps %d bytes for %d sessions, over %d a session", kept, sessions, perSession)
	}
}
