package backend_test

import (
	"fmt"
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
