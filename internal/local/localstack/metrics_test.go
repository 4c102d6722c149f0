package localstack

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/emf/emftest"

	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
)

// TestFunctionMetrics runs a known sequence of requests through a local
// session and reads the functions' output as `make run` shows it: every EMF
// document must be valid, and the metrics must count what happened.
func TestFunctionMetrics(t *testing.T) {
	s := startTestStack(t)
	admins, _ := s.Settings.Group("admins")
	alice := s.mint(t, TokenRequest{User: "alice", Groups: []string{"admins"}})
	bob := s.mint(t, TokenRequest{User: "bob", Groups: []string{"readers"}})
	nobody := s.mint(t, TokenRequest{User: "nobody"})
	expired := s.mint(t, TokenRequest{User: "alice", Groups: []string{"admins"}, Expired: true})
	calls := []struct {
		header http.Header
		status int
	}{
		{bearer(alice), 200},   // authorizer allow; backend ok, one AssumeRole
		{bearer(alice), 200},   // gateway's cached decision; backend ok from cached credentials
		{bearer(bob), 200},     // allow; ok, one AssumeRole
		{bearer(nobody), 403},  // authorizer deny (no role); backend not invoked
		{bearer(expired), 401}, // authorizer unauthorized
		{http.Header{"Authorization": {"Bearer garbage"}}, 401},                                          // refused by the gateway; nobody invoked
		{http.Header{"Authorization": {"Bearer " + bob}, "X-Rolegate-Role": {roleName(t, admins)}}, 403}, // backend forbidden, no AssumeRole
	}
	for i, c := range calls {
		if status, body := s.call(t, "/whoami", c.header); status != c.status {
			t.Fatalf("call %d: status %d, want %d: %s", i, status, c.status, body)
		}
	}
	// Four decisions and the one JWKS fetch of the cold start; four requests.
	const authorizerLines, backendLines = 5, 4
	docs := waitForEMF(t, s.logs, authorizerLines+backendLines)

	decisions := map[string]float64{} // Decisions by Outcome
	fetches := map[string]float64{}   // JwksFetches by Result
	requests := map[string]float64{}  // Requests by Outcome
	var cacheHits, assumeCalls, latencies float64
	for _, d := range docs["authorizer"] {
		if n, ok := d.Values["JwksFetches"]; ok {
			result, _ := d.Members["Result"].(string)
			fetches[result] += n
			continue
		}
		if d.Namespace != "rolegate" || !hasSet(d, "Outcome") || !hasSet(d, "Outcome", "Reason") {
			t.Errorf("authorizer document: namespace %q, dimension sets %v", d.Namespace, d.Sets)
		}
		outcome, _ := d.Members["Outcome"].(string)
		decisions[outcome] += d.Values["Decisions"]
		cacheHits += d.Values["CacheHit"]
	}
	for _, d := range docs["backend"] {
		if d.Namespace != "rolegate" || !hasSet(d, "Outcome") {
			t.Errorf("backend document: namespace %q, dimension sets %v", d.Namespace, d.Sets)
		}
		outcome, _ := d.Members["Outcome"].(string)
		requests[outcome] += d.Values["Requests"]
		assumeCalls += d.Values["AssumeRoleCalls"]
		if _, ok := d.Values["AssumeRoleLatency"]; ok != (d.Values["AssumeRoleCalls"] > 0) {
			t.Errorf("AssumeRoleLatency present %v with %v AssumeRole calls", ok, d.Values["AssumeRoleCalls"])
		}
		if _, ok := d.Values["AssumeRoleLatency"]; ok {
			latencies++
		}
	}
	wantDecisions := map[string]float64{"allow": 2, "deny": 1, "unauthorized": 1}
	wantRequests := map[string]float64{"ok": 3, "forbidden": 1}
	if !maps.Equal(decisions, wantDecisions) || cacheHits != 0 {
		t.Errorf("authorizer Decisions by Outcome = %v (CacheHit %v), want %v (0)", decisions, cacheHits, wantDecisions)
	}
	if want := map[string]float64{"ok": 1}; !maps.Equal(fetches, want) {
		t.Errorf("authorizer JwksFetches by Result = %v, want %v", fetches, want)
	}
	if !maps.Equal(requests, wantRequests) {
		t.Errorf("backend Requests by Outcome = %v, want %v", requests, wantRequests)
	}
	if wire := s.AssumeRoleCalls(); assumeCalls != 2 || float64(wire) != assumeCalls || latencies != 2 {
		t.Errorf("AssumeRoleCalls sum %v, on the wire %d, with latency %v; want 2, 2, 2", assumeCalls, wire, latencies)
	}
}

// waitForEMF waits until the functions have written at least n EMF
// documents (their output reaches the log through the emulator a little
// after the response), then validates every one, by function.
func waitForEMF(t *testing.T, logs *syncbuf.Buffer, n int) map[string][]emftest.Document {
	t.Helper()
	out, _ := logs.WaitFor(10*time.Second, func(s string) bool { return strings.Count(s, `"_aws"`) >= n })
	docs := map[string][]emftest.Document{}
	for line := range strings.Lines(out) {
		fn, rest, ok := strings.Cut(line, " | ")
		if !ok || !strings.Contains(rest, `"_aws"`) {
			continue
		}
		d, err := emftest.Validate([]byte(rest))
		if err != nil {
			t.Errorf("%s wrote an invalid EMF document: %v\n%s", fn, err, rest)
			continue
		}
		docs[fn] = append(docs[fn], d)
	}
	if got := len(docs["authorizer"]) + len(docs["backend"]); got != n {
		t.Errorf("%d EMF documents, want %d", got, n)
	}
	return docs
}

// hasSet reports whether d declares the dimension set names.
func hasSet(d emftest.Document, names ...string) bool {
	return slices.ContainsFunc(d.Sets, func(set []string) bool { return slices.Equal(set, names) })
}
