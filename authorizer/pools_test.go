package authorizer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/internal/cognito"
	"github.com/rolegate/rolegate/internal/local/mint"
	"github.com/rolegate/rolegate/jwks"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

const otherPool = "eu-west-1_OtherPool2"

// TestSeveralPools: each pool's tokens verify with that pool's keys alone, chosen by the token's issuer, and the
// context names the pool.
func TestSeveralPools(t *testing.T) {
	f := newFixture(t, withOtherPools(otherPool))
	a, b := f.iss, f.others[0]
	mintAs := func(t *testing.T, signer *jwkstest.Issuer, k *mint.PrivateKey, claimsOf *jwkstest.Issuer, iss string) string {
		c := claimsOf.IDClaims("alice", "admins")
		if iss != "" {
			c["iss"] = iss
		}
		return signer.MintWith(t, k, c, nil)
	}
	for _, tt := range []struct {
		name     string
		token    func(t *testing.T) string
		want     string
		reason   string
		pool     string // the context's userPoolId of an Allow
		lookupsA int64  // key lookups of each pool's source
		lookupsB int64
	}{
		{"a token of the first pool is allowed as the first pool's", func(t *testing.T) string { return a.Mint(t, a.IDClaims("alice", "admins")) },
			"allow", "ok", a.PoolID, 1, 0},
		{"a token of the second pool is allowed as the second pool's", func(t *testing.T) string { return b.Mint(t, b.IDClaims("alice", "admins")) },
			"allow", "ok", otherPool, 0, 1},
		{"the updated issuer form of the second pool is allowed", func(t *testing.T) string {
			return mintAs(t, b, nil, b, cognito.UpdatedIssuer(otherPool))
		}, "allow", "ok", otherPool, 0, 1},
		{"the updated form naming another Region than the pool's is unauthorized", func(t *testing.T) string {
			return mintAs(t, b, nil, b, "https://issuer-cognito-idp.us-east-1.amazonaws.com/"+otherPool)
		}, "unauthorized", "wrong_issuer", "", 0, 0},
		{"the second pool's key claiming the first pool is unauthorized", func(t *testing.T) string {
			return mintAs(t, b, nil, a, "")
		}, "unauthorized", "unknown_key", "", 1, 0},
		{"the second pool's key under the first pool's kid claiming the first pool is unauthorized", func(t *testing.T) string {
			k := *b.Key()
			k.ID = a.Key().ID
			return mintAs(t, b, &k, a, "")
		}, "unauthorized", "bad_signature", "", 1, 0},
		{"a pool that is not listed is unauthorized without a key lookup", func(t *testing.T) string {
			return mintAs(t, a, nil, a, cognito.Issuer("us-east-1_NotListed"))
		}, "unauthorized", "wrong_issuer", "", 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token(t)
			beforeA, beforeB := f.keys.n.Load(), f.otherKeys[0].n.Load()
			r := f.authorize(t, tok, testMethodARN)
			if r.outcome() != tt.want || r.reason() != tt.reason {
				t.Fatalf("outcome %q reason %q (err %v), want %q reason %q", r.outcome(), r.reason(), r.err, tt.want, tt.reason)
			}
			if tt.pool != "" && r.resp.Context["userPoolId"] != tt.pool {
				t.Errorf("context userPoolId %v, want %s", r.resp.Context["userPoolId"], tt.pool)
			}
			if gotA, gotB := f.keys.n.Load()-beforeA, f.otherKeys[0].n.Load()-beforeB; gotA != tt.lookupsA || gotB != tt.lookupsB {
				t.Errorf("key lookups: first pool %d, second pool %d; want %d, %d", gotA, gotB, tt.lookupsA, tt.lookupsB)
			}
		})
	}
}

// TestUnknownKidFloodIsPenaltyBoxedPerPool: forged kids naming one pool refetch that pool's set once per window, and
// never the other's.
func TestUnknownKidFloodIsPenaltyBoxedPerPool(t *testing.T) {
	f := newFixture(t, withOtherPools(otherPool))
	a, b := f.iss, f.others[0]
	for _, src := range []*countingKeys{f.keys, f.otherKeys[0]} {
		if err := src.KeySource.(*jwks.Cache).Prefetch(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	flood := func(iss *jwkstest.Issuer) {
		t.Helper()
		tokens := make([]string, 50)
		for g := range tokens {
			k := *iss.Key()
			k.ID = fmt.Sprintf("forged-%d-%d", g, f.clock.Now().UnixNano())
			tokens[g] = iss.MintWith(t, &k, iss.IDClaims("alice", "admins"), nil)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(tokens))
		for g := range tokens {
			wg.Go(func() {
				ev := events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tokens[g], MethodArn: testMethodARN}
				if _, err := f.h.Handle(context.Background(), ev); err == nil || err.Error() != "Unauthorized" {
					errs <- fmt.Errorf("a forged kid answered %v, want Unauthorized", err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	flood(a)
	flood(a)
	if a.Fetches() != 2 || b.Fetches() != 1 {
		t.Fatalf("fetches after a flood on the first pool: %d, %d; want 2, 1", a.Fetches(), b.Fetches())
	}
	flood(b)
	if a.Fetches() != 2 || b.Fetches() != 2 {
		t.Fatalf("fetches after a flood on the second pool: %d, %d; want 2, 2", a.Fetches(), b.Fetches())
	}
	f.clock.Advance(jwks.MinRefetchInterval)
	flood(a)
	if a.Fetches() != 3 || b.Fetches() != 2 {
		t.Fatalf("fetches after the window: %d, %d; want 3, 2", a.Fetches(), b.Fetches())
	}
}
