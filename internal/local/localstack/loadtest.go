package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rolegate/rolegate/internal/local/userpool"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/local/apigw"
)

// LoadOptions configure RunLoad.
type LoadOptions struct {
	// URL is the full URL every request goes to, e.g. <gateway>/whoami.
	URL string
	// Tokens are the users' Authorization header values; request i uses
	// Tokens[i % len(Tokens)].
	Tokens []string
	// Requests is the total number of requests; Concurrency how many are in
	// flight at once (default 1).
	Requests    int
	Concurrency int
	// Check, when set, validates one 200 answer for user index u; an error
	// counts as a failed request.
	Check  func(u int, body []byte) error
	Client *http.Client
}

// LoadReport is what RunLoad measured.
type LoadReport struct {
	Requests int
	// Throttled counts 429 answers: the stage's rate limit at work, as a
	// deployed stage would answer, not a failure.
	Throttled int
	Errors    int
	// FirstError describes the first failure, for the report.
	FirstError string
	// P50, P99 and Max are the latencies of the answered (200) requests; a
	// 429 costs the gateway next to nothing and would hide them.
	P50, P99 time.Duration
	Max      time.Duration
	Elapsed  time.Duration
}

// RunLoad sends o.Requests GET requests, bounded in count and by ctx, and
// measures their latency. A 429 is counted as throttled; anything else but a
// 200 that passes Check is an error.
func RunLoad(ctx context.Context, o LoadOptions) LoadReport {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	client := o.Client
	if client == nil {
		client = &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency},
		}
	}
	latencies := make([]time.Duration, o.Requests)
	errs := make([]error, o.Requests)
	throttled := make([]bool, o.Requests)
	next := make(chan int)
	start := time.Now()
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for i := range next {
				t0 := time.Now()
				throttled[i], errs[i] = loadOne(ctx, client, o, i)
				latencies[i] = time.Since(t0)
			}
		})
	}
feed:
	for i := range o.Requests {
		select {
		case next <- i:
		case <-ctx.Done():
			for j := i; j < o.Requests; j++ {
				errs[j] = ctx.Err()
			}
			break feed
		}
	}
	close(next)
	wg.Wait()
	rep := LoadReport{Requests: o.Requests, Elapsed: time.Since(start)}
	var answered []time.Duration
	for i, err := range errs {
		switch {
		case throttled[i]:
			rep.Throttled++
		case err != nil:
			if rep.Errors == 0 {
				rep.FirstError = err.Error()
			}
			rep.Errors++
		default:
			answered = append(answered, latencies[i])
		}
	}
	slices.Sort(answered)
	rep.P50, rep.P99 = percentile(answered, 0.50), percentile(answered, 0.99)
	if len(answered) > 0 {
		rep.Max = answered[len(answered)-1]
	}
	return rep
}

// loadOne sends request i and reports whether it was throttled, or why it
// failed.
func loadOne(ctx context.Context, client *http.Client, o LoadOptions, i int) (bool, error) {
	u := i % len(o.Tokens)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.URL, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", o.Tokens[u])
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case err != nil:
		return false, err
	case resp.StatusCode == http.StatusTooManyRequests:
		return true, nil
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("request %d (user %d): status %d: %s", i, u, resp.StatusCode, body)
	}
	if o.Check != nil {
		if err := o.Check(u, body); err != nil {
			return false, fmt.Errorf("request %d (user %d): %w", i, u, err)
		}
	}
	return false, nil
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

// LoadPlan is what a load test sends through a stack: one token per user and
// a check that each answer names that user's own role.
type LoadPlan struct {
	Path   string
	Tokens []string
	Check  func(u int, body []byte) error
}

// PlanLoad mints ID tokens for users user01…userNN, spread round-robin over
// the groups that have a role, and targets the first authorized route.
func PlanLoad(s *Stack, users int, now time.Time) (LoadPlan, error) {
	var groups []userpool.Group
	for _, g := range s.Settings.Groups {
		if g.RoleARN != "" {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return LoadPlan{}, fmt.Errorf("no group with a role in %s", s.Settings.Source)
	}
	routes := s.Settings.API.Config.Routes
	// The plan's Check reads whoami's answer, so the load goes to GET /whoami
	// whatever other routes the template declares (/files, /files/{name}).
	i := slices.IndexFunc(routes, func(r apigw.Route) bool {
		return r.Authorized && (r.Method == "GET" || r.Method == "ANY") && r.Path == "/whoami"
	})
	if i < 0 {
		return LoadPlan{}, fmt.Errorf("no authorized GET /whoami in %s", s.Settings.Source)
	}
	plan := LoadPlan{Path: routes[i].Path}
	roles := make([]string, users)
	for u := range users {
		g := groups[u%len(groups)]
		tok, err := s.Settings.Token(s.Issuer, TokenRequest{User: fmt.Sprintf("user%02d", u+1), Groups: []string{g.Name}}, now)
		if err != nil {
			return LoadPlan{}, err
		}
		plan.Tokens = append(plan.Tokens, "Bearer "+tok)
		role, err := arn.ParseRole(g.RoleARN)
		if err != nil {
			return LoadPlan{}, err
		}
		roles[u] = role.Name
	}
	plan.Check = func(u int, body []byte) error {
		var who struct {
			Arn string `json:"arn"`
		}
		if err := json.Unmarshal(body, &who); err != nil {
			return fmt.Errorf("answer is not JSON: %w", err)
		}
		if want := ":assumed-role/" + roles[u] + "/"; !strings.Contains(who.Arn, want) {
			return fmt.Errorf("arn %q is not the user's own role %s", who.Arn, roles[u])
		}
		return nil
	}
	return plan, nil
}

// LoadResult is a load test's report with the counts that show the caches
// work: authorizer invocations at the gateway, AssumeRole calls at STS.
type LoadResult struct {
	LoadReport
	Gateway         apigw.Stats
	AssumeRoleCalls int64
}

// Write prints r as an aligned table.
func (r LoadResult) Write(w io.Writer) {
	fmt.Fprintf(w, "requests               %d in %s\n", r.Requests, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "rate reached           %.0f/s sent, %.0f/s answered 200\n", r.rate(r.Requests), r.rate(r.Requests-r.Throttled-r.Errors))
	fmt.Fprintf(w, "throttled (429)        %d (the stage's rate limit, as deployed)\n", r.Throttled)
	fmt.Fprintf(w, "errors                 %d\n", r.Errors)
	fmt.Fprintf(w, "latency p50 (200s)     %s\n", r.P50.Round(10*time.Microsecond))
	fmt.Fprintf(w, "latency p99 (200s)     %s\n", r.P99.Round(10*time.Microsecond))
	fmt.Fprintf(w, "latency max (200s)     %s\n", r.Max.Round(10*time.Microsecond))
	fmt.Fprintf(w, "authorizer invocations %d (cache hits %d)\n", r.Gateway.AuthorizerInvocations, r.Gateway.AuthorizerCacheHits)
	fmt.Fprintf(w, "backend invocations    %d\n", r.Gateway.BackendInvocations)
	fmt.Fprintf(w, "sts:AssumeRole calls   %d (counted on the wire to moto)\n", r.AssumeRoleCalls)
}

// rate is n requests per second of the run.
func (r LoadReport) rate(n int) float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(n) / r.Elapsed.Seconds()
}
