package localstack

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunLoad(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 7 || r.Header.Get("Authorization") == "bad" {
			w.WriteHeader(500)
			return
		}
		if r.Header.Get("Authorization") == "throttled" {
			w.WriteHeader(429)
			w.Write([]byte(`{"message":"Too Many Requests"}`))
			return
		}
		w.Write([]byte(`{"arn":"x"}`))
	}))
	defer srv.Close()
	rep := RunLoad(context.Background(), LoadOptions{URL: srv.URL, Tokens: []string{"a", "b"}, Requests: 20, Concurrency: 3})
	if rep.Requests != 20 || rep.Errors != 1 || rep.FirstError == "" {
		t.Errorf("report = %+v, want 1 error of 20", rep)
	}
	if rep.P50 <= 0 || rep.P99 < rep.P50 || rep.Max < rep.P99 {
		t.Errorf("latencies p50 %s p99 %s max %s", rep.P50, rep.P99, rep.Max)
	}

	limited := RunLoad(context.Background(), LoadOptions{URL: srv.URL, Tokens: []string{"throttled", "a"}, Requests: 10, Concurrency: 2})
	if limited.Throttled != 5 || limited.Errors != 0 {
		t.Errorf("report = %+v, want 5 throttled and no error: a 429 is the stage's limit, not a failure", limited)
	}
	var out strings.Builder
	LoadResult{LoadReport: limited}.Write(&out)
	for _, want := range []string{"throttled (429)        5", "rate reached"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	checked := RunLoad(context.Background(), LoadOptions{URL: srv.URL, Tokens: []string{"a"}, Requests: 5,
		Check: func(int, []byte) error { return errors.New("wrong role") }})
	if checked.Errors != 5 {
		t.Errorf("a failing check gave %d errors, want 5", checked.Errors)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := RunLoad(ctx, LoadOptions{URL: srv.URL, Tokens: []string{"a"}, Requests: 5}); r.Errors != 5 {
		t.Errorf("a cancelled run gave %d errors, want 5", r.Errors)
	}
}

func TestPercentile(t *testing.T) {
	d := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	var sorted []time.Duration
	for i := 1; i <= 100; i++ {
		sorted = append(sorted, d(i))
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"p50 of 1..100 is 50", sorted, 0.50, d(50)},
		{"p99 of 1..100 is 99", sorted, 0.99, d(99)},
		{"p99 of one value is that value", []time.Duration{d(7)}, 0.99, d(7)},
		{"nothing measured is zero", nil, 0.5, 0},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("%s: got %s", tt.name, got)
		}
	}
}
