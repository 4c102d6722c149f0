package authorizer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/authorizer"
	"github.com/rolegate/rolegate/internal/emf"
	"github.com/rolegate/rolegate/jwks"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestAllowCarriesTheUserInAFlatStringContext(t *testing.T) {
	f := newFixture(t)
	r := f.authorize(t, f.idToken(t, nil), testMethodARN)
	mustAllow(t, r)
	want := map[string]any{
		"sub":           f.iss.Sub("alice"),
		"username":      "alice",
		"userPoolId":    f.iss.PoolID,
		"groups":        "admins,readers",
		"preferredRole": f.iss.Role("admins"),
		"roles":         f.iss.Role("admins") + "," + f.iss.Role("readers"),
		"email":         "alice@example.com",
	}
	if !maps.Equal(r.resp.Context, want) {
		t.Errorf("context = %v, want %v", r.resp.Context, want)
	}
	if r.resp.PrincipalID != f.iss.Sub("alice") {
		t.Errorf("principalId = %q, want the sub", r.resp.PrincipalID)
	}
	st := r.resp.PolicyDocument.Statement[0]
	if r.resp.PolicyDocument.Version != "2012-10-17" || !slices.Equal(st.Action, []string{"execute-api:Invoke"}) {
		t.Errorf("policy = %+v", r.resp.PolicyDocument)
	}
	if r.log["sub"] != f.iss.Sub("alice") || r.log["Outcome"] != "allow" || r.log["Reason"] != "ok" || r.cached() {
		t.Errorf("log line = %v", r.log)
	}
}

func TestAllowWithoutEmailOmitsIt(t *testing.T) {
	f := newFixture(t)
	r := f.authorize(t, f.idToken(t, func(c map[string]any) { delete(c, "email") }), testMethodARN)
	mustAllow(t, r)
	if _, ok := r.resp.Context["email"]; ok {
		t.Errorf("context has an email: %v", r.resp.Context)
	}
}

func TestDenyNamesTheUserButNoRole(t *testing.T) {
	f := newFixture(t)
	r := f.authorize(t, f.iss.Mint(t, f.iss.IDClaims("bob")), testMethodARN)
	if r.outcome() != "deny" {
		t.Fatalf("outcome %q, want deny", r.outcome())
	}
	want := map[string]any{"sub": f.iss.Sub("bob"), "username": "bob", "userPoolId": f.iss.PoolID}
	if !maps.Equal(r.resp.Context, want) {
		t.Errorf("context = %v, want %v", r.resp.Context, want)
	}
	if got := r.resp.PolicyDocument.Statement[0].Resource; !slices.Equal(got, []string{testResource}) {
		t.Errorf("resource = %v, want the stage", got)
	}
}

// TestGoldenResponses pins the exact JSON API Gateway receives. Run with -update to rewrite.
func TestGoldenResponses(t *testing.T) {
	for _, tt := range []struct {
		file   string
		groups []string
	}{
		{"authorizer-allow-policy.json", []string{"admins", "readers"}},
		{"authorizer-deny-policy.json", nil},
	} {
		t.Run(tt.file, func(t *testing.T) {
			f := newFixture(t)
			r := f.authorize(t, f.iss.Mint(t, f.iss.IDClaims("alice", tt.groups...)), testMethodARN)
			if r.err != nil {
				t.Fatal(r.err)
			}
			got, err := json.MarshalIndent(r.resp, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, append(got, '\n'))
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestSampleEvents feeds the TOKEN events in testdata, as API Gateway sends them, with a fresh token.
func TestSampleEvents(t *testing.T) {
	for _, tt := range []struct {
		file     string
		resource string
	}{
		{"authorizer-token-event.json", testResource},
		{"authorizer-token-event-root.json", "arn:aws:execute-api:eu-west-1:210987654321:a1b2c3d4e5/v1/*"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayCustomAuthorizerRequest
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Type != "TOKEN" {
				t.Fatalf("type %q, want TOKEN", ev.Type)
			}
			f := newFixture(t)

			r := f.authorize(t, ev.AuthorizationToken, ev.MethodArn)
			if r.outcome() != "unauthorized" {
				t.Errorf("the sample's placeholder token: outcome %q, want unauthorized", r.outcome())
			}

			r = f.authorize(t, "Bearer "+f.idToken(t, nil), ev.MethodArn)
			if r.outcome() != "allow" {
				t.Fatalf("outcome %q (%v), want allow", r.outcome(), r.err)
			}
			if got := r.resp.PolicyDocument.Statement[0].Resource; !slices.Equal(got, []string{tt.resource}) {
				t.Errorf("resource = %v, want [%s]", got, tt.resource)
			}
		})
	}
}

func TestMethodARN(t *testing.T) {
	good := []struct{ name, arn, resource string }{
		{"a method ARN allows its whole stage", testMethodARN, testResource},
		{"the root resource allows its stage", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/", testResource},
		{"a deep resource allows its stage", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/a/b/c", testResource},
		{"an ANY method allows its stage", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*/whoami", testResource},
		{"the China partition is kept", "arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod/GET/x", "arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod/*"},
		{"the GovCloud partition is kept", "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abcdef1234/Stage_2-b/GET/x", "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abcdef1234/Stage_2-b/*"},
		{"a stage named like the start of another is its own", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/production/GET/x", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/production/*"},
		{"an API id that extends another is its own", "arn:aws:execute-api:us-east-1:123456789012:abcdef12345/prod/GET/x", "arn:aws:execute-api:us-east-1:123456789012:abcdef12345/prod/*"},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok := f.idToken(t, nil)
			// A decision cached for testMethodARN's stage, then asked for tt.arn's.
			mustAllow(t, f.authorize(t, tok, testMethodARN))
			r := f.authorize(t, tok, tt.arn)
			if r.outcome() != "allow" {
				t.Fatalf("outcome %q (%v), want allow", r.outcome(), r.err)
			}
			if got := r.resp.PolicyDocument.Statement[0].Resource; !slices.Equal(got, []string{tt.resource}) {
				t.Errorf("resource = %v, want [%s]", got, tt.resource)
			}
		})
	}

	bad := []struct{ name, arn string }{
		{"an empty methodArn", ""},
		{"a wildcard", "*"},
		{"an ARN of another service", "arn:aws:lambda:us-east-1:123456789012:abcdef1234/prod/GET/whoami"},
		{"a partition that is not AWS", "arn:gcp:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/whoami"},
		{"an empty partition", "arn::execute-api:us-east-1:123456789012:abcdef1234/prod/GET/whoami"},
		{"a region wildcard", "arn:aws:execute-api:*:123456789012:abcdef1234/prod/GET/whoami"},
		{"a region without a number", "arn:aws:execute-api:us-east:123456789012:abcdef1234/prod/GET/whoami"},
		{"an 11-digit account", "arn:aws:execute-api:us-east-1:12345678901:abcdef1234/prod/GET/whoami"},
		{"an account wildcard", "arn:aws:execute-api:us-east-1:*:abcdef1234/prod/GET/whoami"},
		{"an API id wildcard", "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/whoami"},
		{"an empty API id", "arn:aws:execute-api:us-east-1:123456789012:/prod/GET/whoami"},
		{"a stage wildcard", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/GET/whoami"},
		{"an empty stage", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234//GET/whoami"},
		{"no method", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod"},
		{"a slash and no method", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/"},
		{"a method and no resource", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET"},
		{"an empty method", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod//whoami"},
		{"a lower-case method", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/get/whoami"},
		{"an extra colon segment", "arn:aws:execute-api:us-east-1:123456789012:extra:abcdef1234/prod/GET/whoami"},
		{"a control character in the resource", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/who\nami"},
		{"an oversized methodArn", "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/" + strings.Repeat("a", 4096)},
	}
	for _, tt := range bad {
		for _, after := range []bool{false, true} {
			name := tt.name + " is an error, never an Allow"
			if after {
				// The token's decision is cached.
				name += ", even right after an Allow for testMethodARN"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				tok := f.idToken(t, nil)
				if after {
					mustAllow(t, f.authorize(t, tok, testMethodARN))
				}
				r := f.authorize(t, tok, tt.arn)
				if r.outcome() != "error" || r.reason() != "bad_method_arn" {
					t.Fatalf("outcome %q reason %q (%v), want error bad_method_arn", r.outcome(), r.reason(), r.err)
				}
				if r.err.Error() == "Unauthorized" || r.resp.PolicyDocument.Statement != nil {
					t.Errorf("got %v, %+v", r.err, r.resp)
				}
			})
		}
	}
}

func TestKeysUnavailableAtColdStartRecovers(t *testing.T) {
	f := newFixture(t)
	tok := f.idToken(t, nil)
	f.iss.SetFailing(http.StatusServiceUnavailable)
	r := f.authorize(t, tok, testMethodARN)
	if r.outcome() != "error" || r.reason() != "keys_unavailable" {
		t.Fatalf("outcome %q reason %q, want error keys_unavailable", r.outcome(), r.reason())
	}
	if strings.Contains(r.err.Error(), "127.0.0.1") {
		t.Errorf("the error tells the caller where keys come from: %v", r.err)
	}
	f.iss.SetFailing(0)
	f.clock.Advance(time.Minute) // past the JWKS penalty box
	mustAllow(t, f.authorize(t, tok, testMethodARN))
}

func TestDecisionCache(t *testing.T) {
	t.Run("a repeated token is answered without key lookups", func(t *testing.T) {
		f := newFixture(t)
		tok := f.idToken(t, nil)
		first := f.authorize(t, tok, testMethodARN)
		second := f.authorize(t, "Bearer "+tok, testMethodARN)
		mustAllow(t, first)
		mustAllow(t, second)
		if n := f.keys.n.Load(); n != 1 {
			t.Errorf("%d key lookups, want 1", n)
		}
		if first.cached() || !second.cached() {
			t.Errorf("cached = %v then %v, want false then true", first.cached(), second.cached())
		}
		if !maps.Equal(first.resp.Context, second.resp.Context) || first.resp.PrincipalID != second.resp.PrincipalID {
			t.Errorf("cached response differs: %+v vs %+v", first.resp, second.resp)
		}
		// The hit's log line has the same fields, with the same values but for time and CacheHit.
		for _, l := range []map[string]any{first.log, second.log} {
			delete(l, "time")
			delete(l, "CacheHit")
		}
		if !reflect.DeepEqual(first.log, second.log) {
			t.Errorf("the hit logged %v, the first call %v", second.log, first.log)
		}
		third := f.authorize(t, "Bearer "+tok, testMethodARN)
		delete(third.log, "time")
		delete(third.log, "CacheHit")
		if !reflect.DeepEqual(third.log, second.log) {
			t.Errorf("a second hit logged %v, the first %v", third.log, second.log)
		}
	})
	t.Run("a cached decision yields the policy of the API that asks", func(t *testing.T) {
		f := newFixture(t)
		tok := f.idToken(t, nil)
		mustAllow(t, f.authorize(t, tok, testMethodARN))
		other := "arn:aws:execute-api:eu-west-1:210987654321:zzz9999999/dev/GET/x"
		r := f.authorize(t, tok, other)
		if !r.cached() || !slices.Equal(r.resp.PolicyDocument.Statement[0].Resource, []string{"arn:aws:execute-api:eu-west-1:210987654321:zzz9999999/dev/*"}) {
			t.Errorf("cached %v, resource %v", r.cached(), r.resp.PolicyDocument.Statement[0].Resource)
		}
		if r := f.authorize(t, tok, "arn:aws:execute-api:eu-west-1:210987654321:zzz9999999/*/GET/x"); r.outcome() != "error" {
			t.Errorf("a cached token with a bad methodArn: outcome %q, want error", r.outcome())
		}
	})
	t.Run("an earlier response is never changed by later ones", func(t *testing.T) {
		// Each response has its own context; the cached decision behind them must not change either.
		f := newFixture(t)
		tok := f.idToken(t, nil)
		first := f.authorize(t, tok, testMethodARN)
		wantContext := maps.Clone(first.resp.Context)
		other := f.authorize(t, tok, "arn:aws:execute-api:eu-west-1:210987654321:zzz9999999/dev/GET/x")
		if !other.cached() {
			t.Fatal("the second call was not a cache hit")
		}
		f.authorize(t, f.iss.Mint(t, f.iss.IDClaims("bob")), testMethodARN) // a Deny of someone else
		mustAllow(t, first)
		if !maps.Equal(first.resp.Context, wantContext) {
			t.Errorf("context = %v, want %v", first.resp.Context, wantContext)
		}
		again := f.authorize(t, tok, testMethodARN)
		mustAllow(t, again)
		if !maps.Equal(again.resp.Context, wantContext) {
			t.Errorf("context after other stages = %v, want %v", again.resp.Context, wantContext)
		}
	})
	t.Run("a caller changing its response's context changes no later response", func(t *testing.T) {
		f := newFixture(t)
		tok := f.idToken(t, nil)
		first := f.authorize(t, tok, testMethodARN)
		want := maps.Clone(first.resp.Context)
		first.resp.Context["preferredRole"] = "arn:aws:iam::123456789012:role/root"
		delete(first.resp.Context, "sub")
		again := f.authorize(t, tok, testMethodARN)
		if !again.cached() || !maps.Equal(again.resp.Context, want) {
			t.Errorf("cached %v, context %v; want the cached decision's %v", again.cached(), again.resp.Context, want)
		}
	})
	t.Run("a Deny is cached too", func(t *testing.T) {
		f := newFixture(t)
		tok := f.iss.Mint(t, f.iss.IDClaims("bob"))
		f.authorize(t, tok, testMethodARN)
		if r := f.authorize(t, tok, testMethodARN); r.outcome() != "deny" || !r.cached() {
			t.Errorf("outcome %q cached %v, want a cached deny", r.outcome(), r.cached())
		}
	})
	t.Run("an invalid token is never cached", func(t *testing.T) {
		f := newFixture(t)
		tok := jwkstest.TamperClaims(t, f.idToken(t, nil), func(c map[string]any) { c["sub"] = "mallory" })
		for range 3 {
			if r := f.authorize(t, tok, testMethodARN); r.outcome() != "unauthorized" || r.cached() {
				t.Fatalf("outcome %q cached %v", r.outcome(), r.cached())
			}
		}
		if n := f.keys.n.Load(); n != 3 {
			t.Errorf("%d key lookups, want 3", n)
		}
	})
	t.Run("a cached decision is not served past exp", func(t *testing.T) {
		f := newFixture(t)
		tok := f.idToken(t, at("exp", 2*time.Minute))
		mustAllow(t, f.authorize(t, tok, testMethodARN))
		f.clock.Advance(2*time.Minute - time.Second)
		if r := f.authorize(t, tok, testMethodARN); !r.cached() {
			t.Errorf("a second before exp: not served from the cache")
		}
		// Past exp but within the skew: validated afresh (and still valid), not served from the cache.
		f.clock.Advance(2 * time.Second)
		r := f.authorize(t, tok, testMethodARN)
		mustAllow(t, r)
		if r.cached() {
			t.Errorf("a second past exp: served from the cache")
		}
		f.clock.Advance(authorizer.DefaultClockSkew)
		if r := f.authorize(t, tok, testMethodARN); r.outcome() != "unauthorized" || r.reason() != "expired" {
			t.Errorf("past exp plus skew: outcome %q reason %q, want unauthorized expired", r.outcome(), r.reason())
		}
	})
	t.Run("a token accepted only thanks to the skew is not cached", func(t *testing.T) {
		f := newFixture(t)
		tok := f.idToken(t, at("exp", -time.Second))
		mustAllow(t, f.authorize(t, tok, testMethodARN))
		if r := f.authorize(t, tok, testMethodARN); r.cached() {
			t.Errorf("an expired token's decision was cached")
		}
	})
	t.Run("a disabled cache validates every time", func(t *testing.T) {
		f := newFixture(t, withHandlerOptions(authorizer.WithDecisionCache(0, 0)))
		tok := f.idToken(t, nil)
		for range 3 {
			if r := f.authorize(t, tok, testMethodARN); r.cached() {
				t.Fatal("served from a disabled cache")
			}
		}
		if n := f.keys.n.Load(); n != 3 {
			t.Errorf("%d key lookups, want 3", n)
		}
	})
	t.Run("a decision holding more than MaxCachedContextBytes is not cached", func(t *testing.T) {
		for _, tt := range []struct {
			emailBytes int
			cached     bool
		}{{authorizer.MaxCachedContextBytes / 2, true}, {authorizer.MaxCachedContextBytes, false}} {
			f := newFixture(t)
			tok := f.idToken(t, func(c map[string]any) { c["email"] = strings.Repeat("e", tt.emailBytes) + "@example.com" })
			mustAllow(t, f.authorize(t, tok, testMethodARN))
			if r := f.authorize(t, tok, testMethodARN); r.cached() != tt.cached {
				t.Errorf("a %d-byte email: cached %v, want %v", tt.emailBytes, r.cached(), tt.cached)
			}
		}
	})
	t.Run("a cache full of expired decisions caches again", func(t *testing.T) {
		// go-cache's ItemCount counts expired entries until its janitor runs, up to a minute later.
		f := newFixture(t, withHandlerOptions(authorizer.WithDecisionCache(time.Minute, 2)))
		jti := func(s string) func(map[string]any) { return func(c map[string]any) { c["jti"] = s } }
		for _, s := range []string{"a", "b"} {
			f.authorize(t, f.idToken(t, jti(s)), testMethodARN)
		}
		f.clock.Advance(time.Minute)
		tok := f.idToken(t, jti("c"))
		f.authorize(t, tok, testMethodARN)
		if r := f.authorize(t, tok, testMethodARN); !r.cached() {
			t.Errorf("a new decision after the cache's decisions expired was not cached")
		}
	})
	t.Run("a full cache stops growing", func(t *testing.T) {
		f := newFixture(t, withHandlerOptions(authorizer.WithDecisionCache(time.Minute, 2)))
		var toks []string
		for i := range 3 {
			toks = append(toks, f.idToken(t, func(c map[string]any) { c["jti"] = string(rune('a' + i)) }))
			f.authorize(t, toks[i], testMethodARN)
		}
		for i, want := range []bool{true, true, false} {
			if r := f.authorize(t, toks[i], testMethodARN); r.cached() != want {
				t.Errorf("token %d: cached %v, want %v", i, r.cached(), want)
			}
		}
	})
}

func TestLogsNeverCarryTheToken(t *testing.T) {
	f := newFixture(t)
	tok := f.idToken(t, nil)
	_, _, sig := parts(t, tok)
	f.authorize(t, tok, testMethodARN)
	f.authorize(t, tok, testMethodARN)
	f.authorize(t, jwkstest.Tamper(tok), testMethodARN)
	f.authorize(t, tok, "bad")
	logs := f.logs.String()
	if n := strings.Count(logs, "\n"); n != 4 {
		t.Errorf("%d log lines for 4 decisions", n)
	}
	for _, secret := range []string{tok, sig[:20], sig[len(sig)-20:], tok[:20]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs carry token bytes:\n%s", logs)
		}
	}
}

// A claim reaches the log line as text a reader's terminal shows as it is:
// a bidi override (U+202E) would show the line reordered.
func TestLogsEscapeHiddenCharactersOfClaims(t *testing.T) {
	f := newFixture(t)
	for _, sub := range []string{"alice\u202eexe.gnp", "alice\u200b", "alice\u0085", "alice\u2028x"} {
		r := f.authorize(t, f.idToken(t, func(c map[string]any) { c["sub"] = sub }), testMethodARN)
		if got, ok := r.log["sub"].(string); !ok || strings.ContainsFunc(got, emf.Hidden) || !strings.HasPrefix(got, `alice\u`) {
			t.Errorf("sub %q logged as %q, want it escaped", sub, r.log["sub"])
		}
	}
}

func TestNewRefusesAnInvalidConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  authorizer.Config
		keys map[string]authorizer.KeySource
		want string
	}{
		{"a config without a pool is refused", authorizer.Config{ClientIDs: []string{"x"}}, nil, "USER_POOL_ID"},
		{"a config without app clients is refused", authorizer.Config{UserPoolIDs: []string{"us-east-1_Ab1"}},
			map[string]authorizer.KeySource{"us-east-1_Ab1": failingKeys{errBoom}}, "APP_CLIENT_IDS"},
		{"a missing key source is refused", authorizer.Config{UserPoolIDs: []string{"us-east-1_Ab1"}, ClientIDs: []string{"x"}}, nil, "key source"},
		{"a pool without a key source is refused", authorizer.Config{UserPoolIDs: []string{"us-east-1_Ab1", "us-east-1_Ab2"}, ClientIDs: []string{"x"}},
			map[string]authorizer.KeySource{"us-east-1_Ab1": failingKeys{errBoom}}, "key source for pool us-east-1_Ab2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := authorizer.New(tt.cfg, tt.keys)
			if err == nil || h != nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, %v; want an error naming %s", h, err, tt.want)
			}
		})
	}
}

// TestConcurrentDecisions runs fresh, cached and refused tokens at once; run it with -race.
func TestConcurrentDecisions(t *testing.T) {
	f := newFixture(t)
	toks := map[string]string{
		f.idToken(t, nil):                          "allow",
		f.iss.Mint(t, f.iss.IDClaims("bob")):       "deny",
		jwkstest.Tamper(f.idToken(t, nil)):         "unauthorized",
		f.iss.Mint(t, f.iss.AccessClaims("carol")): "unauthorized",
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				for tok, want := range toks {
					resp, err := f.h.Handle(ctx, events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tok, MethodArn: testMethodARN})
					if got := (result{resp: resp, err: err}).outcome(); got != want {
						t.Errorf("outcome %q, want %q", got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestRedirectedKeysAreNeverUsed: a key host answering 302 to another loopback host that serves an attacker's key
// must not get a token signed with that key Allowed.
func TestRedirectedKeysAreNeverUsed(t *testing.T) {
	for _, tt := range []struct {
		name         string
		held         bool // the pool's keys were fetched before the redirect began
		sameKid      bool // the attacker signs under the pool's kid
		want, reason string
	}{
		{"with no key set held, a redirected fetch is an error", false, false, "error", "keys_unavailable"},
		{"with no key set held, the attacker's key under the pool's kid is an error", false, true, "error", "keys_unavailable"},
		{"with the pool's keys held, the attacker's kid is unauthorized", true, false, "unauthorized", "unknown_key"},
		{"with the pool's keys held, the attacker's key under the pool's kid is unauthorized", true, true, "unauthorized", "bad_signature"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.held {
				mustAllow(t, f.authorize(t, f.idToken(t, nil), testMethodARN))
				f.clock.Advance(time.Minute) // past the JWKS penalty box
			}
			attacker := jwkstest.NewIssuer(t, jwkstest.WithPoolID(f.iss.PoolID), jwkstest.WithNow(f.clock.Now))
			key := attacker.Key()
			if tt.sameKid {
				copied := *key
				copied.ID = f.iss.Key().ID
				key = &copied
			}
			f.iss.SetRedirect(strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1))
			r := f.authorize(t, attacker.MintWith(t, key, f.iss.IDClaims("mallory", "admins"), nil), testMethodARN)
			if r.outcome() != tt.want || r.reason() != tt.reason {
				t.Fatalf("outcome %q reason %q (%v), want %s %s", r.outcome(), r.reason(), r.err, tt.want, tt.reason)
			}
			if attacker.Fetches() != 0 {
				t.Errorf("the redirect was followed: %d fetches of the attacker's keys", attacker.Fetches())
			}
		})
	}
}

// TestEmailOnlyWhenVerified: users can change their own email, so the context carries it only when email_verified
// is the JSON boolean true or the string "true".
func TestEmailOnlyWhenVerified(t *testing.T) {
	for _, tt := range []struct {
		name     string
		verified string // raw JSON; "" leaves the claim out
		want     bool
	}{
		{"a verified email (boolean true) is passed on", `true`, true},
		{`a verified email (string "true") is passed on`, `"true"`, true},
		{"an unverified email (boolean false) is left out", `false`, false},
		{`an unverified email (string "false") is left out`, `"false"`, false},
		{"an email without email_verified is left out", ``, false},
		{"a null email_verified leaves the email out", `null`, false},
		{`"TRUE" in capitals leaves the email out`, `"TRUE"`, false},
		{"a numeric email_verified leaves the email out", `1`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.authorize(t, mintRaw(t, f.iss.Key(), hdr(f, "RS256", ""), rawClaims(t, f, "email_verified", tt.verified)), testMethodARN)
			mustAllow(t, r)
			if email, ok := r.resp.Context["email"]; ok != tt.want || (ok && email != "alice@example.com") {
				t.Errorf("context email = %v (present %v), want present %v", email, ok, tt.want)
			}
		})
	}
}

// TestPoolsInEachPartition: the default issuer follows the pool's partition, so a China pool's tokens
// (iss on amazonaws.com.cn) are accepted there and a token naming the amazonaws.com form is not.
func TestPoolsInEachPartition(t *testing.T) {
	const (
		usIssuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1"
		cnIssuer = "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_Pool1"
		cnMethod = "arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod/GET/whoami"
	)
	for _, tt := range []struct {
		name, pool, poolIssuer, tokenIssuer, methodArn, want string
	}{
		{"a us-east-1 pool accepts its amazonaws.com issuer", "us-east-1_Pool1", usIssuer, usIssuer, testMethodARN, "allow"},
		{"a cn-north-1 pool accepts its amazonaws.com.cn issuer", "cn-north-1_Pool1", cnIssuer, cnIssuer, cnMethod, "allow"},
		{"a cn-north-1 pool refuses the amazonaws.com form of its issuer", "cn-north-1_Pool1", cnIssuer,
			"https://cognito-idp.cn-north-1.amazonaws.com/cn-north-1_Pool1", cnMethod, "unauthorized"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(s *fixtureSettings) { s.issuer = append(s.issuer, jwkstest.WithPoolID(tt.pool)) })
			if got := f.cfg.Pools()[0].Issuers[0]; got != tt.poolIssuer || f.iss.Issuer() != tt.poolIssuer {
				t.Fatalf("issuer %q (jwkstest: %q), want %q", got, f.iss.Issuer(), tt.poolIssuer)
			}
			r := f.authorize(t, f.idToken(t, func(c map[string]any) { c["iss"] = tt.tokenIssuer }), tt.methodArn)
			if r.outcome() != tt.want {
				t.Fatalf("outcome %q reason %q (%v), want %s", r.outcome(), r.reason(), r.err, tt.want)
			}
		})
	}
}

// TestRolesInTheContext: the context carries every validated role, comma-separated, and the preferred one, which
// is empty when Cognito set none (groups tied on precedence): the backend then asks the caller to choose.
func TestRolesInTheContext(t *testing.T) {
	for _, tt := range []struct {
		name           string
		edit           func(map[string]any)
		preferred, all func(f *fixture) string
	}{
		{"the preferred role is the first group's", nil,
			func(f *fixture) string { return f.iss.Role("admins") },
			func(f *fixture) string { return f.iss.Role("admins") + "," + f.iss.Role("readers") }},
		{"a precedence tie leaves the preferred role empty and lists the roles", func(c map[string]any) { delete(c, "cognito:preferred_role") },
			func(*fixture) string { return "" },
			func(f *fixture) string { return f.iss.Role("admins") + "," + f.iss.Role("readers") }},
		{"without cognito:roles the preferred role is the only one", func(c map[string]any) { delete(c, "cognito:roles") },
			func(f *fixture) string { return f.iss.Role("admins") },
			func(f *fixture) string { return f.iss.Role("admins") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.authorize(t, f.idToken(t, tt.edit), testMethodARN)
			mustAllow(t, r)
			if got, ok := r.resp.Context["preferredRole"]; !ok || got != tt.preferred(f) {
				t.Errorf("preferredRole = %v (present %v), want %q", got, ok, tt.preferred(f))
			}
			if got := r.resp.Context["roles"]; got != tt.all(f) {
				t.Errorf("roles = %v, want %q", got, tt.all(f))
			}
		})
	}
}

// TestDecisionMetrics: each decision's line is an EMF document counting one decision under its outcome and reason,
// and whether the cache answered, in the configured namespace.
func TestDecisionMetrics(t *testing.T) {
	for _, tt := range []struct {
		name            string
		token           func(t *testing.T, f *fixture) string
		fix             []fixtureOption
		outcome, reason string
		cacheHit        float64
	}{
		{"a fresh Allow", func(t *testing.T, f *fixture) string { return f.idToken(t, nil) }, nil, "allow", "ok", 0},
		{"a cached Allow", func(t *testing.T, f *fixture) string {
			tok := f.idToken(t, nil)
			f.authorize(t, tok, testMethodARN)
			return tok
		}, nil, "allow", "ok", 1},
		{"a Deny", func(t *testing.T, f *fixture) string { return f.iss.Mint(t, f.iss.IDClaims("bob")) }, nil, "deny", "no_role", 0},
		{"a cached Deny", func(t *testing.T, f *fixture) string {
			tok := f.iss.Mint(t, f.iss.IDClaims("bob"))
			f.authorize(t, tok, testMethodARN)
			return tok
		}, nil, "deny", "no_role", 1},
		{"an Unauthorized", func(t *testing.T, f *fixture) string { return f.iss.Mint(t, f.iss.AccessClaims("alice")) }, nil, "unauthorized", "wrong_token_use", 0},
		{"an error", func(t *testing.T, f *fixture) string { return f.idToken(t, nil) },
			[]fixtureOption{withKeySource(func(authorizer.KeySource) authorizer.KeySource { return failingKeys{jwks.ErrUnavailable} })}, "error", "keys_unavailable", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, append(tt.fix, withConfig(func(c *authorizer.Config) { c.MetricsNamespace = "Team/rolegate" }))...)
			r := f.authorize(t, tt.token(t, f), testMethodARN)
			d := r.emf
			if d.Namespace != "Team/rolegate" || d.Members["Outcome"] != tt.outcome || d.Members["Reason"] != tt.reason ||
				d.Values["Decisions"] != 1 || d.Values["CacheHit"] != tt.cacheHit || d.Timestamp != t0.UnixMilli() {
				t.Errorf("metrics: namespace %q, Outcome %v, Reason %v, values %v, timestamp %d", d.Namespace, d.Members["Outcome"], d.Members["Reason"], d.Values, d.Timestamp)
			}
		})
	}
}
