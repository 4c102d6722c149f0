package localstack

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/userpool"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/local/mint"

	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

// bootstraps builds the two functions once per test binary: both end-to-end
// tests need them, and a build costs more than the tests.
var bootstraps struct {
	once                sync.Once
	dir                 string
	authorizer, backend string
	err                 error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bootstraps.dir != "" {
		os.RemoveAll(bootstraps.dir)
	}
	os.Exit(code)
}

func buildBootstraps(t *testing.T) (authorizer, backend string) {
	t.Helper()
	bootstraps.once.Do(func() {
		if bootstraps.dir, bootstraps.err = os.MkdirTemp("", "rolegate-local-bootstraps-"); bootstraps.err != nil {
			return
		}
		ctx := context.Background()
		if bootstraps.authorizer, bootstraps.err = rie.Build(ctx, "./cmd/authorizer", filepath.Join(bootstraps.dir, "authorizer")); bootstraps.err != nil {
			return
		}
		bootstraps.backend, bootstraps.err = rie.Build(ctx, "./cmd/backend", filepath.Join(bootstraps.dir, "backend"))
	})
	if bootstraps.err != nil {
		t.Fatal(bootstraps.err)
	}
	return bootstraps.authorizer, bootstraps.backend
}

// testStack is a running stack and the functions' output so far.
type testStack struct {
	*Stack
	logs *syncbuf.Buffer
}

// startTestStack starts the whole stack on a free port for the duration of
// t, with the template's settings changed by edits; everything stops even
// if t fails.
func startTestStack(t *testing.T, edits ...func(*Settings)) testStack {
	t.Helper()
	return startTestStackWith(t, "", edits...)
}

// startTestStackWith is startTestStack with the backend bootstrap backendBin
// (rolegate's own when empty).
func startTestStackWith(t *testing.T, backendBin string, edits ...func(*Settings)) testStack {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end: builds and runs the real functions")
	}
	settings, err := LoadSettings("../../../deploy/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, edit := range edits {
		edit(&settings)
	}
	return startStackBackend(t, settings, backendBin)
}

// startStackWith starts the whole stack with settings, as startTestStack does.
func startStackWith(t *testing.T, settings Settings) testStack {
	t.Helper()
	return startStackBackend(t, settings, "")
}

// startStackBackend is startStackWith with the backend bootstrap backendBin
// (rolegate's own when empty).
func startStackBackend(t *testing.T, settings Settings, backendBin string) testStack {
	t.Helper()
	authzBin, ownBackend := buildBootstraps(t)
	backendBin = cmp.Or(backendBin, ownBackend)
	iss := newIssuer(t)
	logs := &syncbuf.Buffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := StartStack(ctx, StackOptions{
		Addr: "127.0.0.1:0", Settings: settings, Issuer: iss,
		AuthorizerBootstrap: authzBin, BackendBootstrap: backendBin,
		FunctionLog: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		procs := descendants(os.Getpid())
		if err := s.Close(); err != nil {
			t.Errorf("closing the stack: %v", err)
		}
		if alive := stillRunning(procs); len(alive) > 0 {
			t.Errorf("processes left running after Close: %v", alive)
		}
		if t.Failed() {
			t.Logf("function output:\n%s", logs.String())
		}
	})
	return testStack{s, logs}
}

// descendants lists the processes below pid, from Linux's /proc (empty
// elsewhere): moto_server, the emulators and the functions they run.
func descendants(pid int) []int {
	var out []int
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(field); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}

// stillRunning returns the pids that exist and are not zombies.
func stillRunning(pids []int) []string {
	var alive []string
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ...; comm may hold spaces, so read after the last ')'.
		stat := string(b)
		if i := strings.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' {
			alive = append(alive, stat[:i+1])
		}
	}
	return alive
}

func (s testStack) mint(t *testing.T, req TokenRequest) string {
	t.Helper()
	tok, err := s.Settings.Token(s.Issuer, req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type whoami struct {
	Arn, Account, UserID, Role, User string
}

func (s testStack) call(t *testing.T, path string, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// roleName is the name of g's role, as X-Rolegate-Role may give it.
func roleName(t *testing.T, g userpool.Group) string {
	t.Helper()
	r, err := arn.ParseRole(g.RoleARN)
	if err != nil {
		t.Fatal(err)
	}
	return r.Name
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func TestEndToEnd(t *testing.T) {
	start := time.Now()
	s := startTestStack(t)
	t.Logf("stack up in %s at %s", time.Since(start).Round(time.Millisecond), s.URL)
	admins, _ := s.Settings.Group("admins")
	readers, _ := s.Settings.Group("readers")
	assumed := func(g userpool.Group) string {
		return "arn:aws:sts::" + Deployment.AccountID + ":assumed-role/" + roleName(t, g) + "/"
	}

	alice := s.mint(t, TokenRequest{User: "alice", Groups: []string{"admins"}})
	bob := s.mint(t, TokenRequest{User: "bob", Groups: []string{"readers"}})
	both := s.mint(t, TokenRequest{User: "dana", Groups: []string{"readers", "admins"}})
	nobody := s.mint(t, TokenRequest{User: "nobody"})
	expired := s.mint(t, TokenRequest{User: "alice", Groups: []string{"admins"}, Expired: true})
	// bob's token with the admins role written in: the signature no longer matches.
	tampered := jwkstest.TamperClaims(t, bob, func(c map[string]any) {
		c["cognito:preferred_role"] = admins.RoleARN
		c["cognito:roles"] = []string{admins.RoleARN}
	})
	access := s.mint(t, TokenRequest{User: "alice", Groups: []string{"admins"}, Extra: map[string]any{
		"token_use": "access", "client_id": s.Issuer.ClientID, "scope": "aws.cognito.signin.user.admin", "aud": nil,
	}})
	otherKey, err := mint.GenerateKey(s.Issuer.Key.ID, 0) // same kid, another key
	if err != nil {
		t.Fatal(err)
	}
	aliceClaims, _ := s.Settings.IDClaims(s.Issuer, TokenRequest{User: "alice", Groups: []string{"admins"}}, time.Now())
	forged, err := mint.Sign(otherKey, aliceClaims, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The template's gateway responses make both JSON {"message": …}.
	const (
		unauthorizedBody = `{"message":"Unauthorized"}`
		denyBody         = `{"message":"User is not authorized to access this resource with an explicit deny"}`
	)
	tests := []struct {
		name    string
		path    string
		header  http.Header
		status  int
		arn     string // prefix of the assumed-role ARN on 200
		body    string // exact body, when set
		invokes int64  // authorizer invocations this call causes
	}{
		{name: "alice in admins runs with the admins role", path: "/whoami", header: bearer(alice), status: 200, arn: assumed(admins) + "alice", invokes: 1},
		{name: "bob in readers runs with the readers role", path: "/whoami", header: bearer(bob), status: 200, arn: assumed(readers) + "bob", invokes: 1},
		{name: "a member of both groups gets the lower precedence's role", path: "/whoami", header: bearer(both), status: 200, arn: assumed(admins) + "dana", invokes: 1},
		{name: "a bare token without Bearer is accepted", path: "/whoami", header: http.Header{"Authorization": {alice}}, status: 200, arn: assumed(admins) + "alice", invokes: 1},
		{name: "a user in no group is denied", path: "/whoami", header: bearer(nobody), status: 403, body: denyBody, invokes: 1},
		{name: "an expired token is unauthorized", path: "/whoami", header: bearer(expired), status: 401, body: unauthorizedBody, invokes: 1},
		{name: "a tampered token is unauthorized", path: "/whoami", header: bearer(tampered), status: 401, invokes: 1},
		{name: "a token signed by another key with the pool's kid is unauthorized", path: "/whoami", header: bearer(forged), status: 401, invokes: 1},
		{name: "an access token is unauthorized", path: "/whoami", header: bearer(access), status: 401, invokes: 1},
		{name: "a JWT-shaped garbage token is unauthorized", path: "/whoami", header: bearer("abc.def.ghi"), status: 401, invokes: 1},
		{name: "garbage failing the validation expression is unauthorized without invoking", path: "/whoami", header: http.Header{"Authorization": {"garbage"}}, status: 401},
		{name: "a Basic credential is unauthorized without invoking", path: "/whoami", header: http.Header{"Authorization": {"Basic YWxpY2U6cHc="}}, status: 401},
		{name: "no Authorization header is unauthorized without invoking", path: "/whoami", header: http.Header{}, status: 401, body: unauthorizedBody},
		{name: "bob smuggling the admins role in headers still gets readers", path: "/whoami", header: http.Header{
			"Authorization":        {"Bearer " + bob},
			"X-Role":               {admins.RoleARN},
			"X-Amz-Preferred-Role": {admins.RoleARN},
			"X-Preferred-Role":     {admins.RoleARN},
		}, status: 200, arn: assumed(readers) + "bob"},
		{name: "bob smuggling the admins role in the query still gets readers",
			path: "/whoami?preferredRole=" + admins.RoleARN + "&role=" + admins.RoleARN, header: bearer(bob), status: 200, arn: assumed(readers) + "bob"},
		{name: "a member of both groups chooses the other group's role by name", path: "/whoami",
			header: http.Header{"Authorization": {"Bearer " + both}, "X-Rolegate-Role": {roleName(t, readers)}}, status: 200, arn: assumed(readers) + "dana"},
		{name: "a member of both groups chooses a role by its ARN, in a lower-case header", path: "/whoami",
			header: http.Header{"Authorization": {"Bearer " + both}, "x-rolegate-role": {readers.RoleARN}}, status: 200, arn: assumed(readers) + "dana"},
		{name: "bob cannot choose a role that is not his", path: "/whoami",
			header: http.Header{"Authorization": {"Bearer " + bob}, "X-Rolegate-Role": {roleName(t, admins)}}, status: 403},
		{name: "a user with no group smuggling a role is still denied", path: "/whoami?preferredRole=" + admins.RoleARN,
			header: http.Header{"Authorization": {"Bearer " + nobody}, "X-Role": {admins.RoleARN}}, status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Gateway.Stats().AuthorizerInvocations
			status, body := s.call(t, tt.path, tt.header)
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, body)
			}
			if tt.arn != "" {
				var who whoami
				if err := json.Unmarshal(body, &who); err != nil {
					t.Fatalf("body %s: %v", body, err)
				}
				if !strings.HasPrefix(who.Arn, tt.arn) {
					t.Errorf("arn = %q, want %s…", who.Arn, tt.arn)
				}
			}
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("body = %s, want %s", body, tt.body)
			}
			if got := s.Gateway.Stats().AuthorizerInvocations - before; got != tt.invokes {
				t.Errorf("authorizer invocations = %d, want %d", got, tt.invokes)
			}
		})
	}

	t.Run("no header never reaches the authorizer", func(t *testing.T) {
		before := s.Gateway.Stats()
		for range 3 {
			if status, _ := s.call(t, "/whoami", http.Header{}); status != 401 {
				t.Fatalf("status %d", status)
			}
		}
		if after := s.Gateway.Stats(); after.AuthorizerInvocations != before.AuthorizerInvocations || after.BackendInvocations != before.BackendInvocations {
			t.Errorf("invocations changed: %+v → %+v", before, after)
		}
	})

	t.Run("repeated calls with one token within the TTL invoke the authorizer and AssumeRole once", func(t *testing.T) {
		carol := s.mint(t, TokenRequest{User: "carol", Groups: []string{"readers"}})
		before, assumeBefore := s.Gateway.Stats(), s.AssumeRoleCalls()
		for range 5 {
			if status, body := s.call(t, "/whoami", bearer(carol)); status != 200 {
				t.Fatalf("status %d %s", status, body)
			}
		}
		after := s.Gateway.Stats()
		if n := after.AuthorizerInvocations - before.AuthorizerInvocations; n != 1 {
			t.Errorf("authorizer invocations = %d, want 1", n)
		}
		if n := after.BackendInvocations - before.BackendInvocations; n != 5 {
			t.Errorf("backend invocations = %d, want 5", n)
		}
		if n := s.AssumeRoleCalls() - assumeBefore; n != 1 {
			t.Errorf("sts:AssumeRole calls = %d, want 1", n)
		}
	})

	t.Run("a path the API does not have is 403, worded as API Gateway words it", func(t *testing.T) {
		status, body := s.call(t, "/admin", http.Header{})
		if status != 403 || !strings.Contains(string(body), "Missing Authentication Token") {
			t.Errorf("without Authorization: got %d %s", status, body)
		}
		status, body = s.call(t, "/admin", bearer(alice))
		if status != 403 || !strings.Contains(string(body), "Invalid key=value pair (missing equal-sign) in Authorization header") {
			t.Errorf("with a bearer token: got %d %s", status, body)
		}
	})
	t.Logf("end to end took %s", time.Since(start).Round(time.Millisecond))
}

func TestLoadThroughTheStack(t *testing.T) {
	s := startTestStack(t)
	const users, requests = 4, 40
	plan, err := PlanLoad(s.Stack, users, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	before, assumeBefore := s.Gateway.Stats(), s.AssumeRoleCalls()
	rep := RunLoad(context.Background(), LoadOptions{URL: s.URL + plan.Path, Tokens: plan.Tokens, Requests: requests, Concurrency: 4, Check: plan.Check})
	if rep.Errors != 0 {
		t.Fatalf("%d errors; first: %s", rep.Errors, rep.FirstError)
	}
	after := s.Gateway.Stats()
	if n := after.AuthorizerInvocations - before.AuthorizerInvocations; n != users {
		t.Errorf("authorizer invocations = %d, want %d (one per user)", n, users)
	}
	if n := s.AssumeRoleCalls() - assumeBefore; n != users {
		t.Errorf("sts:AssumeRole calls = %d, want %d (one per user)", n, users)
	}
	t.Logf("%d requests: p50 %s p99 %s", rep.Requests, rep.P50, rep.P99)
}

// TestPrecedenceTie runs a pool whose two groups share a precedence: a
// member of both gets a token with both roles and no preferred role, which
// the authorizer allows and the backend serves only with X-Rolegate-Role.
func TestPrecedenceTie(t *testing.T) {
	s := startTestStack(t, func(s *Settings) {
		for i := range s.Groups {
			s.Groups[i].Precedence = 1
		}
	})
	readers, _ := s.Settings.Group("readers")
	claims, err := s.Settings.IDClaims(s.Issuer, TokenRequest{User: "dana", Groups: []string{"admins", "readers"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := claims["cognito:preferred_role"]; ok || len(claims["cognito:roles"].([]string)) != 2 {
		t.Fatalf("claims = %v, want both roles and no preferred role", claims)
	}
	dana := s.mint(t, TokenRequest{User: "dana", Groups: []string{"admins", "readers"}})
	status, body := s.call(t, "/whoami", bearer(dana))
	if status != 403 || !strings.Contains(string(body), "X-Rolegate-Role") || s.Gateway.Stats().BackendInvocations != 1 {
		t.Errorf("without a choice: %d %s (backend invocations %d), want the backend's 403 asking for X-Rolegate-Role",
			status, body, s.Gateway.Stats().BackendInvocations)
	}
	status, body = s.call(t, "/whoami", http.Header{"Authorization": {"Bearer " + dana}, "X-Rolegate-Role": {roleName(t, readers)}})
	if status != 200 || !strings.Contains(string(body), ":assumed-role/"+roleName(t, readers)+"/dana") {
		t.Errorf("choosing readers: %d %s", status, body)
	}
}
