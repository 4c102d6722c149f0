package backend_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
)

func TestWhoamiRunsAsTheAssumedRole(t *testing.T) {
	f := newFixture(t, backend.Config{})
	resp := f.handle(t, lambdaCtx(), whoamiEvent(readers, aliceSub, "alice"))

	if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("got %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var got backend.Whoami
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	want := backend.Whoami{
		ARN:     ststest.ARN(readers, "alice"),
		Account: "123456789012",
		Role:    readers,
		User:    "alice",
		Roles:   []string{readers},
	}
	if !strings.HasSuffix(got.UserID, ":alice") || !strings.HasPrefix(got.UserID, "AROA") {
		t.Errorf("userId = %q, want AROA…:alice", got.UserID)
	}
	got.UserID = ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("whoami = %+v, want %+v", got, want)
	}

	log := f.sts.Log()
	if len(log) != 2 {
		t.Fatalf("STS calls = %+v, want AssumeRole then GetCallerIdentity", log)
	}
	ar, gci := log[0], log[1]
	if ar.Action != ststest.AssumeRole || ar.AccessKeyID != ststest.ExecAccessKeyID || !ar.Verified {
		t.Errorf("AssumeRole call = %+v, want signed by the execution role", ar)
	}
	if ar.RoleARN != readers || ar.RoleSessionName != "alice" || ar.SourceIdentity != aliceSub || ar.DurationSeconds != 900 {
		t.Errorf("AssumeRole parameters = %+v", ar)
	}
	if gci.Action != ststest.GetCallerIdentity || !gci.Verified || !strings.HasPrefix(gci.AccessKeyID, "ASIA") {
		t.Errorf("GetCallerIdentity call = %+v, want signed by the assumed credentials", gci)
	}
}

func TestCredentialsAreCachedPerRoleAndUser(t *testing.T) {
	f := newFixture(t, backend.Config{})
	ctx := lambdaCtx()
	steps := []struct {
		name        string
		req         events.APIGatewayProxyRequest
		wantCalls   float64 // AssumeRole calls of this request
		wantAssumes int     // AssumeRole calls so far
	}{
		{"first request of a user assumes the role", whoamiEvent(readers, aliceSub, "alice"), 1, 1},
		{"second request of the same user uses the cache", whoamiEvent(readers, aliceSub, "alice"), 0, 1},
		{"another user assumes the role for themselves", whoamiEvent(readers, bobSub, "bob"), 1, 2},
		{"the same user with another role assumes that role", whoamiEvent(admins, aliceSub, "alice"), 1, 3},
		{"each of those is then cached", whoamiEvent(admins, aliceSub, "alice"), 0, 3},
		{"and the first is still cached", whoamiEvent(readers, bobSub, "bob"), 0, 3},
		{"a renamed user gets a session under the new name", whoamiEvent(readers, aliceSub, "alice.smith"), 1, 4},
	}
	for i, s := range steps {
		resp := f.handle(t, ctx, s.req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d %s", s.name, resp.StatusCode, resp.Body)
		}
		if got := f.lastLog(t).Values["AssumeRoleCalls"]; got != s.wantCalls {
			t.Errorf("%s: AssumeRoleCalls = %v, want %v", s.name, got, s.wantCalls)
		}
		if got := f.sts.Calls(ststest.AssumeRole); got != s.wantAssumes {
			t.Errorf("%s: AssumeRole calls = %d, want %d", s.name, got, s.wantAssumes)
		}
		if got := f.sts.Calls(ststest.GetCallerIdentity); got != i+1 {
			t.Errorf("%s: GetCallerIdentity calls = %d, want %d", s.name, got, i+1)
		}
	}
	var last ststest.Call
	for _, c := range f.sts.Log() {
		if c.Action == ststest.AssumeRole {
			last = c
		}
	}
	if last.RoleSessionName != "alice.smith" {
		t.Errorf("last RoleSessionName = %q, want alice.smith", last.RoleSessionName)
	}
	f.assertNoExecWork(t)
}

func TestCredentialsAreReusedUntilTheirRefreshWindow(t *testing.T) {
	tests := []struct {
		name        string
		lifetime    time.Duration // as STS issues them; 0 is the 15 minutes asked for
		wantAssumes int           // over three requests
	}{
		{"15-minute credentials are assumed once", 0, 1},
		{"credentials living two minutes are still reused", 2 * time.Minute, 1},
		// the SDK refreshes credentials within a minute of expiry, once for
		// ConfigFor and again when GetCallerIdentity signs with them
		{"credentials living 50 seconds are refreshed on every use", 50 * time.Second, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, backend.Config{})
			f.sts.SetLifetime(tt.lifetime)
			for range 3 {
				if resp := f.handle(t, lambdaCtx(), whoamiEvent(readers, aliceSub, "alice")); resp.StatusCode != http.StatusOK {
					t.Fatalf("%d %s", resp.StatusCode, resp.Body)
				}
			}
			if got := f.sts.Calls(ststest.AssumeRole); got != tt.wantAssumes {
				t.Errorf("AssumeRole calls = %d, want %d", got, tt.wantAssumes)
			}
		})
	}
}

func TestExpiredCredentialsAreRefreshedNotReused(t *testing.T) {
	f := newFixture(t, backend.Config{})
	// STS may hand out shorter credentials than asked for; these expire
	// inside the SDK's refresh window, so they must never be served from cache.
	f.sts.SetLifetime(30 * time.Second)
	ctx := lambdaCtx()
	req := whoamiEvent(readers, aliceSub, "alice")

	var before int
	for i := range 3 {
		resp := f.handle(t, ctx, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, resp.Body)
		}
		if got := f.lastLog(t).Values["AssumeRoleCalls"]; got < 1 {
			t.Errorf("request %d: AssumeRoleCalls = %v, want at least 1", i, got)
		}
		after := f.sts.Calls(ststest.AssumeRole)
		if after <= before {
			t.Errorf("request %d made no AssumeRole with expiring credentials", i)
		}
		before = after
	}
	for _, c := range f.sts.Log() {
		if c.Action == ststest.GetCallerIdentity && (!c.Verified || c.Status != http.StatusOK) {
			t.Errorf("GetCallerIdentity not made with valid assumed credentials: %+v", c)
		}
	}
	f.assertNoExecWork(t)
}

func TestCacheIsBounded(t *testing.T) {
	f := newFixture(t, backend.Config{MaxSessions: 2})
	ctx := lambdaCtx()
	users := []string{"u1-sub-0000", "u2-sub-0000", "u3-sub-0000"}
	for _, u := range users {
		f.handle(t, ctx, whoamiEvent(readers, u, ""))
	}
	if got := f.sts.Calls(ststest.AssumeRole); got != 3 {
		t.Fatalf("AssumeRole calls = %d, want 3", got)
	}
	t.Run("users that fit stay cached", func(t *testing.T) {
		f.handle(t, ctx, whoamiEvent(readers, users[0], ""))
		f.handle(t, ctx, whoamiEvent(readers, users[1], ""))
		if got := f.sts.Calls(ststest.AssumeRole); got != 3 {
			t.Errorf("AssumeRole calls = %d, want still 3", got)
		}
	})
	t.Run("a user beyond the bound is served but not cached", func(t *testing.T) {
		resp := f.handle(t, ctx, whoamiEvent(readers, users[2], ""))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, resp.Body)
		}
		if got := f.sts.Calls(ststest.AssumeRole); got != 4 {
			t.Errorf("AssumeRole calls = %d, want 4", got)
		}
	})
}

func TestBurstOfRequestsAssumesOncePerUser(t *testing.T) {
	const requests, users, workers = 1000, 10, 20
	f := newFixture(t, backend.Config{})
	ctx := lambdaCtx()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				u := i % users
				sub := "user-" + string(rune('a'+u)) + "-sub"
				resp, _ := f.h.Handle(ctx, whoamiEvent(readers, sub, ""))
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	for i := range requests {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	if statuses[http.StatusOK] != requests {
		t.Fatalf("statuses = %v, want %d×200", statuses, requests)
	}
	assumes := f.sts.Calls(ststest.AssumeRole)
	t.Logf("%d requests from %d users (%d concurrent): %d AssumeRole calls, %d GetCallerIdentity calls",
		requests, users, workers, assumes, f.sts.Calls(ststest.GetCallerIdentity))
	if assumes != users {
		t.Errorf("AssumeRole calls = %d, want %d", assumes, users)
	}
	f.assertNoExecWork(t)
}

func TestRoutes(t *testing.T) {
	f := newFixture(t, backend.Config{})
	tests := []struct {
		name       string
		edit       func(*events.APIGatewayProxyRequest)
		wantStatus int
		wantAllow  string
	}{
		{"GET /whoami answers", func(*events.APIGatewayProxyRequest) {}, http.StatusOK, ""},
		{"a greedy proxy resource routes on the path", func(r *events.APIGatewayProxyRequest) { r.Resource = "/{proxy+}" }, http.StatusOK, ""},
		{"an event with only a path routes on it", func(r *events.APIGatewayProxyRequest) { r.Resource = "" }, http.StatusOK, ""},
		{"another path is not found", func(r *events.APIGatewayProxyRequest) { r.Resource, r.Path = "/admin", "/admin" }, http.StatusNotFound, ""},
		{"a path below whoami is not found", func(r *events.APIGatewayProxyRequest) { r.Resource, r.Path = "/{proxy+}", "/whoami/x" }, http.StatusNotFound, ""},
		{"POST on whoami is not allowed", func(r *events.APIGatewayProxyRequest) { r.HTTPMethod = "POST" }, http.StatusMethodNotAllowed, "GET"},
		{"DELETE on whoami is not allowed", func(r *events.APIGatewayProxyRequest) { r.HTTPMethod = "DELETE" }, http.StatusMethodNotAllowed, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.sts.Calls("")
			req := whoamiEvent(readers, aliceSub, "alice")
			tt.edit(&req)
			resp := f.handle(t, lambdaCtx(), req)
			if resp.StatusCode != tt.wantStatus || resp.Headers["Allow"] != tt.wantAllow {
				t.Fatalf("got %d Allow=%q %s", resp.StatusCode, resp.Headers["Allow"], resp.Body)
			}
			if resp.Headers["Content-Type"] != "application/json" || !json.Valid([]byte(resp.Body)) {
				t.Fatalf("not JSON: %v %s", resp.Headers, resp.Body)
			}
			if tt.wantStatus != http.StatusOK && f.sts.Calls("") != before {
				t.Errorf("a %d made STS calls", tt.wantStatus)
			}
		})
	}
}

func TestRefusedBeforeAnySTSCall(t *testing.T) {
	long := strings.Repeat("a", 5000)
	tests := []struct {
		name   string
		cfg    backend.Config
		ctx    context.Context
		req    events.APIGatewayProxyRequest
		reason string
	}{
		{"a role in a header, query, body or stage variable is ignored", backend.Config{}, lambdaCtx(),
			readEvent(t, "backend-spoofed-role.json"), "no_role"},
		{"a role in a claims map is ignored", backend.Config{}, lambdaCtx(),
			readEvent(t, "backend-claims-role.json"), "no_role"},
		{"a role in another account is refused by default", backend.Config{}, lambdaCtx(),
			readEvent(t, "backend-other-account.json"), "role_not_allowed"},
		{"an event without authorizer context is refused", backend.Config{}, lambdaCtx(),
			withAuthorizer(nil), "no_role"},
		{"an empty role is no role", backend.Config{}, lambdaCtx(),
			whoamiEvent("", aliceSub, "alice"), "no_role"},
		{"a role without a user is refused", backend.Config{}, lambdaCtx(),
			withAuthorizer(map[string]any{"preferredRole": readers}), "no_user"},
		{"a numeric role is refused", backend.Config{}, lambdaCtx(),
			withAuthorizer(map[string]any{"preferredRole": 123456789012.0, "sub": aliceSub}), "bad_context"},
		{"a role list is refused", backend.Config{}, lambdaCtx(),
			withAuthorizer(map[string]any{"preferredRole": []any{readers}, "sub": aliceSub}), "bad_context"},
		{"a role object is refused", backend.Config{}, lambdaCtx(),
			withAuthorizer(map[string]any{"preferredRole": map[string]any{"arn": readers}, "sub": aliceSub}), "bad_context"},
		{"a boolean sub is refused", backend.Config{}, lambdaCtx(),
			withAuthorizer(map[string]any{"preferredRole": readers, "sub": true}), "bad_context"},
		{"an oversized role is refused", backend.Config{}, lambdaCtx(),
			whoamiEvent(readers+"/"+long, aliceSub, "alice"), "bad_context"},
		{"an oversized username is refused", backend.Config{}, lambdaCtx(),
			whoamiEvent(readers, aliceSub, long), "bad_context"},
		{"a username with a newline is refused", backend.Config{}, lambdaCtx(),
			whoamiEvent(readers, aliceSub, "alice\nrole=admin"), "bad_context"},
		{"a username with a bidi override is refused", backend.Config{}, lambdaCtx(),
			whoamiEvent(readers, aliceSub, "alice\u202egnp.exe"), "bad_context"},
		{"a username with a zero-width space is refused", backend.Config{}, lambdaCtx(),
			whoamiEvent(readers, aliceSub, "al\u200bice"), "bad_context"},
		{"a username with a C1 control is refused", backend.Config{}, lambdaCtx(),
			whoamiEvent(readers, aliceSub, "alice\u0085"), "bad_context"},
		{"a sub that is not UTF-8 is refused", backend.Config{}, lambdaCtx(),
			whoamiEvent(readers, "\xff\xfe", "alice"), "bad_context"},
		{"a sub unusable as SourceIdentity is refused", backend.Config{}, lambdaCtx(),
			whoamiEvent(readers, "alice smith", "alice"), "bad_context"},
		{"a role name is not a role ARN", backend.Config{}, lambdaCtx(),
			whoamiEvent("rolegate-admins", aliceSub, "alice"), "bad_role"},
		{"a user ARN is not a role ARN", backend.Config{}, lambdaCtx(),
			whoamiEvent("arn:aws:iam::123456789012:user/alice", aliceSub, "alice"), "bad_role"},
		{"a wildcard is not a role ARN", backend.Config{}, lambdaCtx(),
			whoamiEvent("arn:aws:iam::123456789012:role/*", aliceSub, "alice"), "bad_role"},
		{"without a function ARN nothing is allowed by default", backend.Config{}, context.Background(),
			whoamiEvent(readers, aliceSub, "alice"), "role_not_allowed"},
		{"a role outside the allowlist is refused", backend.Config{AllowedRoleARNs: []string{"arn:aws:iam::123456789012:role/rolegate-admins"}}, lambdaCtx(),
			whoamiEvent(readers, aliceSub, "alice"), "role_not_allowed"},
		{"a pattern's star does not reach into the account", backend.Config{AllowedRoleARNs: []string{"arn:aws:iam::1234*:role/rolegate-*"}}, lambdaCtx(),
			whoamiEvent("arn:aws:iam::999912345678:role/rolegate-readers", aliceSub, "alice"), "role_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.cfg)
			resp := f.handle(t, tt.ctx, tt.req)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d %s, want 403", resp.StatusCode, resp.Body)
			}
			var body struct{ Message, RequestID string }
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.Message == "" || body.RequestID != tt.req.RequestContext.RequestID {
				t.Errorf("body %s: want message and requestId %q", resp.Body, tt.req.RequestContext.RequestID)
			}
			if n := f.sts.Calls(""); n != 0 {
				t.Errorf("%d STS calls, want none", n)
			}
			log := f.lastLog(t)
			if log.Members["Outcome"] != "forbidden" || log.Members["Reason"] != tt.reason ||
				log.Values["AssumeRoleCalls"] != 0 || log.Members["status"] != json.Number("403") {
				t.Errorf("log %v: want outcome forbidden, reason %s, no AssumeRole, status 403", log.Members, tt.reason)
			}
		})
	}
}

func TestSTSFailures(t *testing.T) {
	tests := []struct {
		name        string
		action      string
		failure     ststest.Failure
		times       int
		wantStatus  int
		wantAssumes int
		wantGCI     int
	}{
		{"a role that does not trust the function is 403", ststest.AssumeRole, ststest.AccessDenied, -1, http.StatusForbidden, 1, 0},
		{"throttling is retried by the SDK, then 503", ststest.AssumeRole, ststest.Throttling, -1, http.StatusServiceUnavailable, 3, 0},
		{"throttling that clears within the retries succeeds", ststest.AssumeRole, ststest.Throttling, 2, http.StatusOK, 3, 1},
		{"an STS 500 is retried, then 502", ststest.AssumeRole, ststest.InternalError, -1, http.StatusBadGateway, 3, 0},
		{"a denied GetCallerIdentity is 403", ststest.GetCallerIdentity, ststest.AccessDenied, -1, http.StatusForbidden, 1, 1},
		{"a throttled GetCallerIdentity is 503", ststest.GetCallerIdentity, ststest.Throttling, -1, http.StatusServiceUnavailable, 1, 3},
		{"a failing GetCallerIdentity is 502", ststest.GetCallerIdentity, ststest.InternalError, -1, http.StatusBadGateway, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, backend.Config{})
			f.sts.Fail(tt.action, tt.failure, tt.times)
			req := whoamiEvent(readers, aliceSub, "alice")
			resp := f.handle(t, lambdaCtx(), req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			if got := f.sts.Calls(ststest.AssumeRole); got != tt.wantAssumes {
				t.Errorf("AssumeRole calls = %d, want %d", got, tt.wantAssumes)
			}
			if got := f.sts.Calls(ststest.GetCallerIdentity); got != tt.wantGCI {
				t.Errorf("GetCallerIdentity calls = %d, want %d", got, tt.wantGCI)
			}
			wantRetryAfter := ""
			if tt.wantStatus == http.StatusServiceUnavailable {
				wantRetryAfter = "2"
			}
			if got := resp.Headers["Retry-After"]; got != wantRetryAfter {
				t.Errorf("Retry-After = %q, want %q", got, wantRetryAfter)
			}
			if resp.Headers["Content-Type"] != "application/json" ||
				tt.wantStatus != http.StatusOK && !strings.Contains(resp.Body, `"requestId":"apigw-request-1"`) {
				t.Errorf("error body %s lacks the request id", resp.Body)
			}
			f.assertNoExecWork(t)
			f.assertNoSecrets(t, "response", resp.Body)
			f.assertNoSecrets(t, "log", f.logs.String())
		})
	}
}

func TestFailedAssumeRoleIsNotCached(t *testing.T) {
	f := newFixture(t, backend.Config{})
	req := whoamiEvent(readers, aliceSub, "alice")
	f.sts.Fail(ststest.AssumeRole, ststest.AccessDenied, 1)
	if resp := f.handle(t, lambdaCtx(), req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("first request: %d, want 403", resp.StatusCode)
	}
	// the trust policy was fixed: the next request must try again
	if resp := f.handle(t, lambdaCtx(), req); resp.StatusCode != http.StatusOK {
		t.Fatalf("second request: %d %s, want 200", resp.StatusCode, resp.Body)
	}
	if got := f.sts.Calls(ststest.AssumeRole); got != 2 {
		t.Errorf("AssumeRole calls = %d, want 2", got)
	}
}

func TestSlowSTSGivesUpBeforeTheLambdaDeadline(t *testing.T) {
	f := newFixture(t, backend.Config{})
	f.sts.SetDelay(time.Minute)
	// the handler keeps half a second for its answer
	ctx, cancel := context.WithTimeout(lambdaCtx(), 700*time.Millisecond)
	defer cancel()
	resp := f.handle(t, ctx, whoamiEvent(readers, aliceSub, "alice"))
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d %s, want 502", resp.StatusCode, resp.Body)
	}
	if ctx.Err() != nil {
		t.Errorf("the handler answered after the Lambda deadline")
	}
	if got := f.lastLog(t).Members["Outcome"]; got != "sts_error" {
		t.Errorf("outcome = %v, want sts_error", got)
	}
	f.assertNoExecWork(t)
}

func TestUserWorkNeverRunsWithTheExecutionRole(t *testing.T) {
	f := newFixture(t, backend.Config{})
	ctx := lambdaCtx()
	req := whoamiEvent(readers, aliceSub, "alice")
	// every way AssumeRole can fail, then success, then expiring credentials
	for _, fail := range []ststest.Failure{ststest.AccessDenied, ststest.Throttling, ststest.InternalError} {
		f.sts.Fail(ststest.AssumeRole, fail, -1)
		if resp := f.handle(t, ctx, req); resp.StatusCode == http.StatusOK {
			t.Fatalf("failure %d: got 200 %s", fail, resp.Body)
		}
	}
	if n := f.sts.Calls(ststest.GetCallerIdentity); n != 0 {
		t.Fatalf("%d GetCallerIdentity calls after failed AssumeRoles, want 0", n)
	}
	f.sts.Fail(ststest.AssumeRole, ststest.OK, 0)
	f.sts.SetLifetime(10 * time.Second)
	f.handle(t, ctx, req)
	f.sts.Fail(ststest.AssumeRole, ststest.AccessDenied, -1)
	// the cached credentials are expiring and their refresh is denied
	if resp := f.handle(t, ctx, req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("refresh denied: got %d %s, want 403", resp.StatusCode, resp.Body)
	}

	for _, c := range f.sts.Log() {
		switch c.Action {
		case ststest.GetCallerIdentity:
			if c.AccessKeyID == ststest.ExecAccessKeyID || !c.Verified {
				t.Errorf("user work signed with %q (verified %v)", c.AccessKeyID, c.Verified)
			}
		case ststest.AssumeRole:
			if c.AccessKeyID != ststest.ExecAccessKeyID || !c.Verified {
				t.Errorf("AssumeRole signed with %q (verified %v), want the execution role", c.AccessKeyID, c.Verified)
			}
		}
	}
}

func TestConfigForFailsWithoutCredentials(t *testing.T) {
	f := newFixture(t, backend.Config{})
	f.sts.Fail(ststest.AssumeRole, ststest.AccessDenied, -1)
	cfg, id, err := f.h.ConfigFor(lambdaCtx(), whoamiEvent(readers, aliceSub, "alice"))
	if err == nil {
		t.Fatal("ConfigFor succeeded with AssumeRole denied")
	}
	if cfg.Credentials != nil {
		t.Error("a failed ConfigFor returned credentials")
	}
	if id.Role != readers || id.User() != "alice" {
		t.Errorf("identity = %+v, want it read for the log", id)
	}
}

func TestLogLine(t *testing.T) {
	f := newFixture(t, backend.Config{})
	resp := f.handle(t, lambdaCtx(), readEvent(t, "backend-whoami.json"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	if n := strings.Count(f.logs.String(), "\n"); n != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", n, f.logs)
	}
	got := f.lastLog(t)
	want := map[string]any{
		"level":        "INFO",
		"msg":          "request",
		"apiRequestId": "5b9c1e7d-3a2f-4c8e-9d1b-2f3a4b5c6d7e",
		"awsRequestId": "lambda-request-1",
		"method":       "GET",
		"path":         "/whoami",
		"role":         "arn:aws:iam::123456789012:role/rolegate-readers",
		"user":         "alice",
		"status":       json.Number("200"),
		"Outcome":      "ok",
		"Reason":       "ok",
	}
	for k, v := range want {
		if got.Members[k] != v {
			t.Errorf("log %s = %v, want %v", k, got.Members[k], v)
		}
	}
	if _, ok := got.Members["error"]; ok {
		t.Errorf("a 200 logged an error: %v", got.Members)
	}
	f.assertNoSecrets(t, "log", f.logs.String())
	f.assertNoSecrets(t, "response", resp.Body)
	// the caller's bearer token is in the event; it must not reach the log
	if strings.Contains(f.logs.String(), "eyJ") {
		t.Error("log contains the bearer token")
	}
}

// The path is the caller's: a bidi override in it (U+202E) reaches the log
// line escaped, never as a character that reorders a reader's terminal.
func TestLogEscapesHiddenCharactersOfThePath(t *testing.T) {
	f := newFixture(t, backend.Config{})
	req := whoamiEvent(readers, aliceSub, "alice")
	req.Path = "/whoami\u202e\u200b"
	f.handle(t, lambdaCtx(), req)
	if got := f.lastLog(t).Members["path"]; got != `/whoami\u202e\u200b` {
		t.Errorf("path logged as %q, want each hidden character as a \\u escape", got)
	}
}

func TestSourceIdentityCanBeTurnedOff(t *testing.T) {
	c, err := backend.ConfigFromEnv(env(map[string]string{"SOURCE_IDENTITY": "false"}))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, c)
	// a sub that STS would refuse as SourceIdentity is fine without it
	resp := f.handle(t, lambdaCtx(), whoamiEvent(readers, "alice smith", "Alice Smith"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	ar := f.sts.Log()[0]
	if ar.SourceIdentity != "" || !strings.HasPrefix(ar.RoleSessionName, "Alice-Smith=") {
		t.Errorf("AssumeRole SourceIdentity=%q RoleSessionName=%q, want none and Alice-Smith=<digest>", ar.SourceIdentity, ar.RoleSessionName)
	}
}

func TestSessionDurationIsPassedToSTS(t *testing.T) {
	c, err := backend.ConfigFromEnv(env(map[string]string{"SESSION_DURATION": "1h"}))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, c)
	f.handle(t, lambdaCtx(), whoamiEvent(readers, aliceSub, "alice"))
	if got := f.sts.Log()[0].DurationSeconds; got != 3600 {
		t.Errorf("DurationSeconds = %d, want 3600", got)
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
