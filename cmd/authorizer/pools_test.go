package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/internal/cognito"
	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/internal/local/rie/rietest"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

// TestBootstrapServesSeveralPools runs the real bootstrap under the emulator with two pools, each with its own keys
// on loopback, behind one JWKS_URL list whose first URL refuses connections: every pool's keys come from the
// second, once per pool, and a token verifies only with the keys of the pool its issuer names.
func TestBootstrapServesSeveralPools(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	a := jwkstest.NewIssuer(t)
	b := jwkstest.NewIssuer(t, jwkstest.WithPoolID("eu-west-1_Tenant2"))
	keys := poolRouter(t, a, b)
	logs := &syncbuf.Buffer{}
	fn := rietest.Start(t, rie.Options{
		Bootstrap:    rietest.Build(t, "./cmd/authorizer"),
		FunctionName: "authorizer",
		Env: []string{
			"USER_POOL_ID=" + a.PoolID + "," + b.PoolID,
			"APP_CLIENT_IDS=" + a.ClientID,
			"JWKS_URL=" + refusingURL(t) + "/{userPoolId}/.well-known/jwks.json," + keys + "/{userPoolId}/.well-known/jwks.json",
		},
		Log: logs,
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("function output:\n%s", logs.String())
		}
	})
	invoke := func(t *testing.T, token string) (events.APIGatewayCustomAuthorizerResponse, string) {
		t.Helper()
		ev, err := json.Marshal(events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + token, MethodArn: methodARN})
		if err != nil {
			t.Fatal(err)
		}
		body, err := fn.Invoke(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayCustomAuthorizerResponse
		if msg, isErr := rie.ParseError(body); isErr {
			return resp, msg
		}
		if err := json.Unmarshal(body, &resp); err != nil || len(resp.PolicyDocument.Statement) != 1 {
			t.Fatalf("response %s", body)
		}
		return resp, resp.PolicyDocument.Statement[0].Effect
	}
	claiming := func(claimsOf *jwkstest.Issuer, iss string) map[string]any {
		c := claimsOf.IDClaims("alice", "admins")
		if iss != "" {
			c["iss"] = iss
		}
		return c
	}
	forgedKid := func(signer *jwkstest.Issuer, n int) string {
		k := *signer.Key()
		k.ID = fmt.Sprintf("forged-%d", n)
		return signer.MintWith(t, &k, signer.IDClaims("alice", "admins"), nil)
	}

	type row struct {
		name  string
		token string
		want  string // Allow, Deny or the error message
		pool  string // the context's userPoolId of an Allow
	}
	check := func(t *testing.T, rows []row) {
		for _, tt := range rows {
			t.Run(tt.name, func(t *testing.T) {
				resp, got := invoke(t, tt.token)
				if got != tt.want || (tt.pool != "" && resp.Context["userPoolId"] != tt.pool) {
					t.Fatalf("answered %s with context %v, want %s for pool %q", got, resp.Context, tt.want, tt.pool)
				}
			})
		}
	}
	check(t, []row{
		{"the first pool's token is allowed as the first pool's", a.Mint(t, claiming(a, "")), "Allow", a.PoolID},
		{"the second pool's token is allowed as the second pool's", b.Mint(t, claiming(b, "")), "Allow", b.PoolID},
	})
	t.Run("one fetch per pool at cold start, past the refused first URL", func(t *testing.T) {
		if a.Fetches() != 1 || b.Fetches() != 1 {
			t.Errorf("fetches: %d of the first pool, %d of the second; want 1 each", a.Fetches(), b.Fetches())
		}
	})
	check(t, []row{
		{"the first pool's updated issuer form is allowed", a.Mint(t, claiming(a, cognito.UpdatedIssuer(a.PoolID))), "Allow", a.PoolID},
		{"the second pool's updated issuer form is allowed", b.Mint(t, claiming(b, cognito.UpdatedIssuer(b.PoolID))), "Allow", b.PoolID},
		{"the updated form naming another Region is Unauthorized", b.Mint(t, claiming(b, "https://issuer-cognito-idp.us-east-1.amazonaws.com/"+b.PoolID)), "Unauthorized", ""},
		{"the second pool's key claiming the first pool is Unauthorized", b.Mint(t, claiming(a, "")), "Unauthorized", ""},
		{"the second pool's key under the first pool's kid is Unauthorized", func() string {
			k := *b.Key()
			k.ID = a.Key().ID
			return b.MintWith(t, &k, claiming(a, ""), nil)
		}(), "Unauthorized", ""},
		{"a pool that is not listed is Unauthorized", a.Mint(t, claiming(a, cognito.Issuer("us-east-1_NotListed"))), "Unauthorized", ""},
	})
	// The second pool's key claiming the first refetched the first pool's set (its kid is unknown there); a flood
	// of unknown kids inside the same penalty box adds no fetch, and the other pool's set is never fetched again.
	t.Run("a flood of unknown kids refetches only its pool, once per penalty box", func(t *testing.T) {
		for n := range 20 {
			if _, got := invoke(t, forgedKid(a, n)); got != "Unauthorized" {
				t.Fatalf("a forged kid answered %s", got)
			}
		}
		if a.Fetches() != 2 || b.Fetches() != 1 {
			t.Errorf("fetches: %d of the flooded pool, %d of the other; want 2 and 1", a.Fetches(), b.Fetches())
		}
	})
}

// poolRouter serves each issuer's key set at /<pool id>/.well-known/jwks.json of one loopback URL, as one JWKS_URL
// template with {userPoolId} reaches several pools. Each request is passed to the issuer, which counts it.
func poolRouter(t *testing.T, issuers ...*jwkstest.Issuer) string {
	t.Helper()
	mux := http.NewServeMux()
	for _, iss := range issuers {
		mux.HandleFunc("GET /"+iss.PoolID+"/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
			resp, err := http.Get(iss.URL)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// refusingURL is the origin of a loopback port where nothing listens: connections are refused.
func refusingURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
