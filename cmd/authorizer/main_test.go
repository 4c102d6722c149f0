package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/authorizer"
	"github.com/rolegate/rolegate/internal/emf/emftest"
	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/internal/local/rie/rietest"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

const methodARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/whoami"

// TestBootstrapUnderRIE builds the real bootstrap and runs it under the Lambda Runtime Interface Emulator, against
// a loopback pool on the real clock (the binary uses time.Now), sending TOKEN events as API Gateway does.
func TestBootstrapUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	iss := jwkstest.NewIssuer(t)
	bin := rietest.Build(t, "./cmd/authorizer")
	logs := &syncbuf.Buffer{}
	fn := rietest.Start(t, rie.Options{
		Bootstrap:    bin,
		FunctionName: "authorizer",
		Env: []string{
			"USER_POOL_ID=" + iss.PoolID,
			"APP_CLIENT_IDS=otherclient," + iss.ClientID,
			"JWKS_URL=" + iss.URL,
		},
		Log: logs,
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("function output:\n%s", logs.String())
		}
	})
	invocations := 0
	invoke := func(t *testing.T, token string) []byte {
		t.Helper()
		invocations++
		ev, err := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: token, MethodArn: methodARN})
		if err != nil {
			t.Fatal(err)
		}
		body, err := fn.Invoke(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	valid := iss.Mint(t, iss.IDClaims("alice", "admins"))

	t.Run("a valid ID token is allowed with the user in the context", func(t *testing.T) {
		body := invoke(t, "Bearer "+valid)
		var resp events.APIGatewayCustomAuthorizerResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if resp.PrincipalID != iss.Sub("alice") || len(resp.PolicyDocument.Statement) != 1 {
			t.Fatalf("response %s", body)
		}
		st := resp.PolicyDocument.Statement[0]
		if st.Effect != "Allow" || len(st.Resource) != 1 || st.Resource[0] != "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*" {
			t.Errorf("statement %+v", st)
		}
		if resp.Context["preferredRole"] != iss.Role("admins") || resp.Context["username"] != "alice" || resp.Context["groups"] != "admins" {
			t.Errorf("context %v", resp.Context)
		}
	})

	for _, tt := range []struct{ name, token string }{
		{"a tampered token answers Unauthorized", jwkstest.Tamper(valid)},
		{"an access token answers Unauthorized", iss.Mint(t, iss.AccessClaims("alice"))},
		{"garbage answers Unauthorized", "Bearer not-a-token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := invoke(t, tt.token)
			if msg, isErr := rie.ParseError(body); !isErr || msg != "Unauthorized" {
				t.Fatalf("body %s, want errorMessage Unauthorized", body)
			}
		})
	}

	t.Run("a precedence tie is allowed with every role and no preferred role", func(t *testing.T) {
		c := iss.IDClaims("carol", "admins", "readers")
		delete(c, "cognito:preferred_role") // what Cognito sends when the groups share a precedence
		var resp events.APIGatewayCustomAuthorizerResponse
		if body := invoke(t, iss.Mint(t, c)); json.Unmarshal(body, &resp) != nil || len(resp.PolicyDocument.Statement) != 1 ||
			resp.PolicyDocument.Statement[0].Effect != "Allow" {
			t.Fatalf("body %s, want an Allow", body)
		}
		if p, ok := resp.Context["preferredRole"]; !ok || p != "" || resp.Context["roles"] != iss.Role("admins")+","+iss.Role("readers") {
			t.Errorf("context %v", resp.Context)
		}
	})

	t.Run("a user without a role is denied", func(t *testing.T) {
		body := invoke(t, iss.Mint(t, iss.IDClaims("bob")))
		var resp events.APIGatewayCustomAuthorizerResponse
		if err := json.Unmarshal(body, &resp); err != nil || len(resp.PolicyDocument.Statement) != 1 || resp.PolicyDocument.Statement[0].Effect != "Deny" {
			t.Fatalf("body %s, want a Deny policy", body)
		}
	})

	t.Run("every decision is one JSON log line without the token", func(t *testing.T) {
		// The function's output reaches us through RIE's pipe, which may lag
		// behind the invoke response: wait for it (not for time to pass).
		out, _ := logs.WaitFor(10*time.Second, func(s string) bool {
			return strings.Count(s, `"msg":"authorizer decision"`) >= invocations
		})
		var decisions, fetches int
		for line := range strings.SplitSeq(out, "\n") {
			if strings.Contains(line, valid[len(valid)-40:]) {
				t.Errorf("log carries the token: %s", line)
			}
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			switch rec["msg"] {
			case "authorizer decision":
				decisions++
				d, err := emftest.Validate([]byte(line))
				if err != nil || d.Namespace != "rolegate" || d.Values["Decisions"] != 1 {
					t.Errorf("decision line is not the EMF document it should be (%v): %s", err, line)
				}
				if id, _ := rec["awsRequestId"].(string); id == "" {
					t.Errorf("decision without request id: %s", line)
				}
			case "jwks fetched":
				fetches++
				if d, err := emftest.Validate([]byte(line)); err != nil || d.Values["JwksFetches"] != 1 || d.Members["Result"] != "ok" {
					t.Errorf("fetch line is not the EMF document it should be (%v): %s", err, line)
				}
			}
		}
		if decisions != invocations || fetches != 1 {
			t.Errorf("%d decision lines for %d invocations, %d fetch lines for 1 fetch:\n%s", decisions, invocations, fetches, out)
		}
	})
}

// TestBootstrapHTTPAPIUnderRIE runs the same real bootstrap on HTTP API Lambda authorizer events (payload format
// 2.0, testdata's sample as AWS documents it), which it must answer with simple responses.
func TestBootstrapHTTPAPIUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	iss := jwkstest.NewIssuer(t)
	fn := rietest.Start(t, rie.Options{
		Bootstrap: rietest.Build(t, "./cmd/authorizer"),
		Env:       []string{"USER_POOL_ID=" + iss.PoolID, "APP_CLIENT_IDS=" + iss.ClientID, "JWKS_URL=" + iss.URL},
	})
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "authorizer-http-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	invoke := func(t *testing.T, identitySource ...string) []byte {
		t.Helper()
		var ev map[string]any
		if err := json.Unmarshal(sample, &ev); err != nil {
			t.Fatal(err)
		}
		ev["identitySource"] = identitySource
		raw, _ := json.Marshal(ev)
		body, err := fn.Invoke(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	simple := func(t *testing.T, body []byte) events.APIGatewayV2CustomAuthorizerSimpleResponse {
		t.Helper()
		var resp events.APIGatewayV2CustomAuthorizerSimpleResponse
		if _, isErr := rie.ParseError(body); isErr || json.Unmarshal(body, &resp) != nil || !bytes.Contains(body, []byte(`"isAuthorized"`)) {
			t.Fatalf("body %s, want a simple response", body)
		}
		return resp
	}

	t.Run("a valid ID token is authorized with the user in the context", func(t *testing.T) {
		resp := simple(t, invoke(t, "Bearer "+iss.Mint(t, iss.IDClaims("alice", "admins"))))
		if !resp.IsAuthorized || resp.Context["preferredRole"] != iss.Role("admins") || resp.Context["username"] != "alice" {
			t.Fatalf("response %+v", resp)
		}
	})
	for _, tt := range []struct{ name, token string }{
		{"a user without a role is not authorized", iss.Mint(t, iss.IDClaims("bob"))},
		{"a tampered token is not authorized (HTTP APIs have no 401 from the function)", jwkstest.Tamper(iss.Mint(t, iss.IDClaims("alice", "admins")))},
		{"an access token is not authorized", iss.Mint(t, iss.AccessClaims("alice"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if resp := simple(t, invoke(t, tt.token)); resp.IsAuthorized || resp.Context != nil {
				t.Fatalf("response %+v, want isAuthorized false and no context", resp)
			}
		})
	}
	t.Run("two identity sources are a function error (500)", func(t *testing.T) {
		if msg, isErr := rie.ParseError(invoke(t, "a", "b")); !isErr || msg != "Internal error: bad_event" {
			t.Fatalf("error %q (%v), want Internal error: bad_event", msg, isErr)
		}
	})
	t.Run("an event of neither shape is a function error (500)", func(t *testing.T) {
		body, err := fn.Invoke(context.Background(), []byte(`{"version":"1.0","type":"REQUEST","methodArn":"`+methodARN+`","identitySource":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		if msg, isErr := rie.ParseError(body); !isErr || msg != "Internal error: bad_event" {
			t.Fatalf("body %s, want the error Internal error: bad_event", body)
		}
	})
}

// TestBootstrapRefusesBadConfiguration checks that a misconfigured function fails its cold start, loudly.
func TestBootstrapRefusesBadConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	bin := rietest.Build(t, "./cmd/authorizer")
	logs := &syncbuf.Buffer{}
	fn := rietest.Start(t, rie.Options{Bootstrap: bin, Env: []string{"USER_POOL_ID=nonsense"}, Log: logs})
	body, err := fn.Invoke(context.Background(), []byte(`{"type":"TOKEN","authorizationToken":"x","methodArn":"`+methodARN+`"}`))
	if err == nil {
		if _, isErr := rie.ParseError(body); !isErr {
			t.Fatalf("a misconfigured function answered %s", body)
		}
	}
	out, _ := logs.WaitFor(10*time.Second, func(s string) bool { return strings.Contains(s, "invalid configuration") })
	if !strings.Contains(out, "invalid configuration") || !strings.Contains(out, "APP_CLIENT_IDS") {
		t.Errorf("the cold start did not say what is wrong:\n%s", out)
	}
}

// TestBootstrapRefusesRedirectedKeys runs the real bootstrap with a JWKS_URL that answers 302 to another loopback
// host serving an attacker's key: the attacker's token must not be Allowed, and the key must not even be fetched.
func TestBootstrapRefusesRedirectedKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	iss := jwkstest.NewIssuer(t)
	attacker := jwkstest.NewIssuer(t, jwkstest.WithPoolID(iss.PoolID))
	iss.SetRedirect(strings.Replace(attacker.URL, "127.0.0.1", "localhost", 1))
	fn := rietest.Start(t, rie.Options{
		Bootstrap: rietest.Build(t, "./cmd/authorizer"),
		Env:       []string{"USER_POOL_ID=" + iss.PoolID, "APP_CLIENT_IDS=" + iss.ClientID, "JWKS_URL=" + iss.URL},
	})
	ev, err := json.Marshal(events.APIGatewayCustomAuthorizerRequest{
		Type: "TOKEN", AuthorizationToken: "Bearer " + attacker.Mint(t, iss.IDClaims("mallory", "admins")), MethodArn: methodARN,
	})
	if err != nil {
		t.Fatal(err)
	}
	body, err := fn.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if msg, isErr := rie.ParseError(body); !isErr || msg == "Unauthorized" {
		t.Fatalf("answered %s, want a function error (500): no keys could be obtained", body)
	}
	if attacker.Fetches() != 0 {
		t.Errorf("the bootstrap followed the redirect: %d fetches of the attacker's keys", attacker.Fetches())
	}
}

// TestBootstrapMemoryWithAFullDecisionCache fills the real bootstrap's decision cache with near-maximum tokens, as
// one user padding writable attributes and refreshing can, and reads the function's resident memory: it must stay
// well inside the 128 MB the template gives the authorizer.
func TestBootstrapMemoryWithAFullDecisionCache(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap, mints thousands of tokens")
	}
	const maxRSS = 64 << 20
	iss := jwkstest.NewIssuer(t)
	bin := rietest.Build(t, "./cmd/authorizer")
	fn := rietest.Start(t, rie.Options{
		Bootstrap: bin,
		Env:       []string{"USER_POOL_ID=" + iss.PoolID, "APP_CLIENT_IDS=" + iss.ClientID, "JWKS_URL=" + iss.URL},
	})
	n := authorizer.DefaultCacheEntries
	toks := make([]string, n)
	var wg sync.WaitGroup
	for w := range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := w; i < n; i += runtime.GOMAXPROCS(0) {
				c := iss.IDClaims("alice", "admins", "readers")
				c["email"] = strings.Repeat("e", 600) + "@example.com" // kept by the decision, near what an entry may hold
				toks[i] = iss.MintPadded(t, c, authorizer.MaxTokenBytes-100)
			}
		})
	}
	wg.Wait()
	for _, tok := range toks {
		ev, err := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tok, MethodArn: methodARN})
		if err != nil {
			t.Fatal(err)
		}
		body, err := fn.Invoke(context.Background(), ev)
		if err != nil || !strings.Contains(string(body), `"Effect":"Allow"`) {
			t.Fatalf("invoke: %v: %s", err, body)
		}
	}
	rss := residentBytes(t, bin)
	t.Logf("bootstrap RSS with %d cached decisions of %d-byte tokens: %.1f MiB", n, len(toks[0]), float64(rss)/(1<<20))
	if rss > maxRSS {
		t.Errorf("bootstrap RSS %d bytes, want at most %d", rss, maxRSS)
	}
}

// residentBytes returns the VmRSS of the running process whose argv[0] is bin (Linux /proc).
func residentBytes(t *testing.T, bin string) int64 {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, append([]byte(bin), 0)) {
			continue
		}
		status, err := os.ReadFile(filepath.Join(filepath.Dir(p), "status"))
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(string(status), "\n") {
			if kb, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return n << 10
			}
		}
	}
	t.Skip("cannot find the bootstrap's process in /proc")
	return 0
}

// TestBootstrapLinks checks what the function links: jwx's key parsing through jwks, but not its JWS signing and
// verifying (the authorizer parses tokens itself), no minting, and no testing package.
func TestBootstrapLinks(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, forbidden := range []string{"github.com/lestrrat-go/jwx/v2/jws", "github.com/lestrrat-go/jwx/v2/jwt",
		"github.com/rolegate/rolegate/internal/local/mint", "github.com/rolegate/rolegate/jwks/jwkstest", "testing"} {
		if slices.Contains(deps, forbidden) {
			t.Errorf("the bootstrap links %s", forbidden)
		}
	}
	if !slices.Contains(deps, "github.com/lestrrat-go/jwx/v2/jwk") {
		t.Error("the bootstrap does not link jwx/v2/jwk: is this test looking at the right package?")
	}
}
