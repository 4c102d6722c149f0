package backend_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
	"github.com/rolegate/rolegate/internal/emf"
	"github.com/rolegate/rolegate/internal/testkit/clocktest"
)

// ticking is a clock that moves step forward after every read, so that a
// timed call lasts exactly step.
type ticking struct {
	c    *clocktest.Clock
	step time.Duration
}

func (k ticking) Now() time.Time {
	t := k.c.Now()
	k.c.Advance(k.step)
	return t
}

func TestMetricsForEachOutcome(t *testing.T) {
	const absent = -1.0
	tests := []struct {
		name        string
		cfg         backend.Config
		warm        bool // the user's credentials are cached first
		fail        func(*ststest.Server)
		edit        func(*events.APIGatewayProxyRequest)
		wantStatus  int
		wantOutcome string
		wantCalls   float64
		wantLatency float64 // milliseconds; absent when no call was made
	}{
		{"a first request assumes the role once", backend.Config{}, false, nil, nil,
			http.StatusOK, "ok", 1, 7},
		{"a cached request makes no call and has no latency", backend.Config{}, true, nil, nil,
			http.StatusOK, "ok", 0, absent},
		{"a refused role makes no call", backend.Config{AllowedRoleARNs: []string{admins}}, false, nil, nil,
			http.StatusForbidden, "forbidden", 0, absent},
		{"a precedence tie without a choice makes no call", backend.Config{}, false, nil,
			func(r *events.APIGatewayProxyRequest) { r.RequestContext.Authorizer["preferredRole"] = "" },
			http.StatusForbidden, "forbidden", 0, absent},
		{"another path is not_found", backend.Config{}, false, nil,
			func(r *events.APIGatewayProxyRequest) { r.Resource, r.Path = "/admin", "/admin" },
			http.StatusNotFound, "not_found", 0, absent},
		{"another method is method_not_allowed", backend.Config{}, false, nil,
			func(r *events.APIGatewayProxyRequest) { r.HTTPMethod = http.MethodPost },
			http.StatusMethodNotAllowed, "method_not_allowed", 0, absent},
		{"a role that does not trust the function is forbidden after one call", backend.Config{}, false,
			func(s *ststest.Server) { s.Fail(ststest.AssumeRole, ststest.AccessDenied, -1) }, nil,
			http.StatusForbidden, "forbidden", 1, 7},
		{"throttling is one call, however often the SDK retried", backend.Config{}, false,
			func(s *ststest.Server) { s.Fail(ststest.AssumeRole, ststest.Throttling, -1) }, nil,
			http.StatusServiceUnavailable, "throttled", 1, 7},
		{"an STS error is sts_error", backend.Config{}, false,
			func(s *ststest.Server) { s.Fail(ststest.AssumeRole, ststest.InternalError, -1) }, nil,
			http.StatusBadGateway, "sts_error", 1, 7},
		{"a failed GetCallerIdentity is sts_error after the AssumeRole", backend.Config{}, false,
			func(s *ststest.Server) { s.Fail(ststest.GetCallerIdentity, ststest.InternalError, -1) }, nil,
			http.StatusBadGateway, "sts_error", 1, 7},
		{"the namespace comes from the configuration", backend.Config{MetricsNamespace: "team/rolegate"}, false, nil, nil,
			http.StatusOK, "ok", 1, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			clock := ticking{clocktest.New(start), 7 * time.Millisecond}
			f := newFixture(t, tt.cfg, backend.WithClock(clock.Now))
			req := whoamiEvent(readers, aliceSub, "alice")
			if tt.warm {
				f.handle(t, lambdaCtx(), req)
			}
			before := strings.Count(f.logs.String(), "\n")
			if tt.fail != nil {
				tt.fail(f.sts)
			}
			if tt.edit != nil {
				tt.edit(&req)
			}
			at := clock.c.Now()
			if resp := f.handle(t, lambdaCtx(), req); resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			if n := strings.Count(f.logs.String(), "\n") - before; n != 1 {
				t.Fatalf("%d log lines, want 1", n)
			}
			d := f.lastLog(t) // a valid EMF document

			wantNamespace := tt.cfg.MetricsNamespace
			if wantNamespace == "" {
				wantNamespace = "rolegate"
			}
			if d.Namespace != wantNamespace || d.Timestamp != at.UnixMilli() {
				t.Errorf("namespace %q at %d, want %q at %d", d.Namespace, d.Timestamp, wantNamespace, at.UnixMilli())
			}
			// One bounded dimension: never a user, role or request id.
			if !reflect.DeepEqual(d.Sets, [][]string{{"Outcome"}}) || d.Members["Outcome"] != tt.wantOutcome {
				t.Errorf("dimensions %v with Outcome %v, want [[Outcome]] with %s", d.Sets, d.Members["Outcome"], tt.wantOutcome)
			}
			want := map[string]float64{"Requests": 1, "AssumeRoleCalls": tt.wantCalls}
			wantUnits := map[string]emf.Unit{"Requests": emf.Count, "AssumeRoleCalls": emf.Count}
			if tt.wantLatency != absent {
				want["AssumeRoleLatency"], wantUnits["AssumeRoleLatency"] = tt.wantLatency, emf.Milliseconds
			}
			if !reflect.DeepEqual(d.Values, want) || !reflect.DeepEqual(d.Units, wantUnits) {
				t.Errorf("metrics %v %v, want %v %v", d.Values, d.Units, want, wantUnits)
			}
		})
	}
}
