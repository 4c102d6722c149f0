package authorizer_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/authorizer"
	"github.com/rolegate/rolegate/jwks"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

// hdr is the JSON of a header naming the pool's current key, plus extra members (raw JSON, comma-led).
func hdr(f *fixture, alg, extra string) []byte {
	return fmt.Appendf(nil, `{"alg":%q,"kid":%q%s}`, alg, f.iss.Key().ID, extra)
}

// rawClaims is the JSON of alice's valid claims, with the member named by key replaced by raw JSON (deleted when raw is "").
func rawClaims(t testing.TB, f *fixture, key, raw string) []byte {
	t.Helper()
	c := f.iss.IDClaims("alice", "admins", "readers")
	delete(c, key)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		return b
	}
	return fmt.Appendf(nil, `{%q:%s,%s`, key, raw, b[1:])
}

// at sets the NumericDate claim key to t0+d.
func at(key string, d time.Duration) func(map[string]any) {
	return func(c map[string]any) { c[key] = t0.Add(d).Unix() }
}

// TestHostileHeaderAfterAValidOne: each hostile header comes right after a valid token's and must get its own
// verdict, then a valid header is accepted again; so no shortcut that reuses a decoded header (an earlier parser
// remembered the last one) can let one header stand in for another.
func TestHostileHeaderAfterAValidOne(t *testing.T) {
	f := newFixture(t)
	body := rawClaims(t, f, "", "")
	hostile := []struct {
		name, reason string
		header       []byte
	}{
		{"a crit header", "forbidden_header", hdr(f, "RS256", `,"crit":["exp"],"exp":1`)},
		{"a jku header", "forbidden_header", hdr(f, "RS256", fmt.Sprintf(`,"jku":%q`, f.iss.URL))},
		{"HS256", "algorithm", hdr(f, "HS256", "")},
		{"no kid", "unknown_key", []byte(`{"alg":"RS256"}`)},
		{"a numeric kid", "malformed", []byte(`{"alg":"RS256","kid":1}`)},
	}
	for _, tt := range hostile {
		mustAllow(t, f.authorize(t, f.idToken(t, nil), testMethodARN)) // a new token: its header is decoded
		if r := f.authorize(t, f.iss.MintRaw(t, nil, tt.header, body), testMethodARN); r.outcome() != "unauthorized" || r.reason() != tt.reason {
			t.Errorf("%s after a valid header: outcome %q reason %q, want unauthorized %s", tt.name, r.outcome(), r.reason(), tt.reason)
		}
	}
	mustAllow(t, f.authorize(t, f.idToken(t, nil), testMethodARN))
}

func TestHandleTokenRules(t *testing.T) {
	skew := authorizer.DefaultClockSkew
	valid := func(t testing.TB, f *fixture) string { return f.idToken(t, nil) }
	claims := func(edit func(map[string]any)) func(testing.TB, *fixture) string {
		return func(t testing.TB, f *fixture) string { return f.idToken(t, edit) }
	}
	raw := func(header func(*fixture) []byte, payload func(testing.TB, *fixture) []byte) func(testing.TB, *fixture) string {
		return func(t testing.TB, f *fixture) string { return f.iss.MintRaw(t, nil, header(f), payload(t, f)) }
	}
	rs256 := func(extra string) func(*fixture) []byte {
		return func(f *fixture) []byte { return hdr(f, "RS256", extra) }
	}
	claim := func(key, rawJSON string) func(testing.TB, *fixture) []byte {
		return func(t testing.TB, f *fixture) []byte { return rawClaims(t, f, key, rawJSON) }
	}
	withSig := func(edit func(sig []byte) []byte) func(testing.TB, *fixture) string {
		return func(t testing.TB, f *fixture) string {
			h, p, s := parts(t, f.idToken(t, nil))
			sig, err := b64.DecodeString(s)
			if err != nil {
				t.Fatal(err)
			}
			return h + "." + p + "." + b64.EncodeToString(edit(sig))
		}
	}
	edit := func(e func(tok string) string) func(testing.TB, *fixture) string {
		return func(t testing.TB, f *fixture) string { return e(f.idToken(t, nil)) }
	}
	altIssuer := "https://issuer-cognito-idp.us-east-1.amazonaws.com/" + "us-east-1_TestPool1"

	tests := []struct {
		name    string
		token   func(testing.TB, *fixture) string
		fix     []fixtureOption
		advance time.Duration
		want    string // allow, deny, unauthorized or error
		reason  string
	}{
		// Where the token comes from.
		{name: "a bare ID token is allowed", token: valid, want: "allow", reason: "ok"},
		{name: "a Bearer ID token is allowed", token: edit(func(s string) string { return "Bearer " + s }), want: "allow", reason: "ok"},
		{name: "a lower-case bearer scheme is allowed", token: edit(func(s string) string { return "bearer " + s }), want: "allow", reason: "ok"},
		{name: "an upper-case BEARER scheme is allowed", token: edit(func(s string) string { return "BEARER " + s }), want: "allow", reason: "ok"},
		{name: "a Basic scheme is unauthorized", token: edit(func(s string) string { return "Basic " + s }), want: "unauthorized", reason: "malformed"},
		{name: "a Bearer prefix without its space is unauthorized", token: edit(func(s string) string { return "Bearer" + s }), want: "unauthorized", reason: "malformed"},
		{name: "two spaces after Bearer are unauthorized", token: edit(func(s string) string { return "Bearer  " + s }), want: "unauthorized", reason: "malformed"},
		{name: "a tab after Bearer is unauthorized", token: edit(func(s string) string { return "Bearer\t" + s }), want: "unauthorized", reason: "malformed"},
		{name: "a trailing space is unauthorized", token: edit(func(s string) string { return s + " " }), want: "unauthorized", reason: "malformed"},
		{name: "a second token after the first is unauthorized", token: edit(func(s string) string { return "Bearer " + s + " " + s }), want: "unauthorized", reason: "malformed"},
		{name: "Bearer without a token is unauthorized", token: edit(func(string) string { return "Bearer " }), want: "unauthorized", reason: "malformed"},
		{name: "an empty authorizationToken is unauthorized", token: edit(func(string) string { return "" }), want: "unauthorized", reason: "no_token"},
		{name: "an oversized token is unauthorized before parsing", token: edit(func(s string) string {
			return "Bearer " + s + strings.Repeat("A", authorizer.MaxTokenBytes)
		}), want: "unauthorized", reason: "too_large"},
		{name: "a valid token padded past the size cap by a claim is unauthorized", token: claims(func(c map[string]any) {
			c["padding"] = strings.Repeat("x", authorizer.MaxTokenBytes)
		}), want: "unauthorized", reason: "too_large"},
		{name: "a valid token just under the size cap is allowed", token: func(t testing.TB, f *fixture) string {
			tok := f.idToken(t, func(c map[string]any) { c["padding"] = "" })
			pad := (authorizer.MaxTokenBytes - len(tok) - 4) * 3 / 4
			tok = f.idToken(t, func(c map[string]any) { c["padding"] = strings.Repeat("x", pad) })
			if n := len(tok); n > authorizer.MaxTokenBytes || n < authorizer.MaxTokenBytes-8 {
				t.Fatalf("padded token is %d bytes, want just under %d", n, authorizer.MaxTokenBytes)
			}
			return tok
		}, want: "allow", reason: "ok"},

		// Compact serialization.
		{name: "two parts are unauthorized", token: edit(func(s string) string { return s[:strings.LastIndexByte(s, '.')] }), want: "unauthorized", reason: "malformed"},
		{name: "four parts are unauthorized", token: edit(func(s string) string { return s + ".AAAA" }), want: "unauthorized", reason: "malformed"},
		{name: "an empty header part is unauthorized", token: edit(func(s string) string { return s[strings.IndexByte(s, '.'):] }), want: "unauthorized", reason: "malformed"},
		{name: "an empty payload part is unauthorized", token: func(t testing.TB, f *fixture) string {
			h, _, s := parts(t, f.idToken(t, nil))
			return h + ".." + s
		}, want: "unauthorized", reason: "malformed"},
		{name: "an empty signature is unauthorized", token: edit(func(s string) string { return s[:strings.LastIndexByte(s, '.')+1] }), want: "unauthorized", reason: "malformed"},
		{name: "base64 padding is unauthorized", token: edit(func(s string) string { return s + "==" }), want: "unauthorized", reason: "malformed"},
		{name: "the standard base64 alphabet is unauthorized", token: func(t testing.TB, f *fixture) string {
			for {
				tok := f.idToken(t, func(c map[string]any) { c["jti"] = fmt.Sprint(time.Now().UnixNano()) })
				if h, p, s := parts(t, tok); strings.ContainsAny(s, "-_") {
					return h + "." + p + "." + strings.NewReplacer("-", "+", "_", "/").Replace(s)
				}
			}
		}, want: "unauthorized", reason: "malformed"},
		{name: "a line break inside the signature is unauthorized", token: edit(func(s string) string { return s[:len(s)-10] + "\n" + s[len(s)-10:] }), want: "unauthorized", reason: "malformed"},
		{name: "a carriage return inside the payload is unauthorized", token: func(t testing.TB, f *fixture) string {
			h, p, s := parts(t, f.idToken(t, nil))
			return h + "." + p[:8] + "\r" + p[8:] + "." + s
		}, want: "unauthorized", reason: "malformed"},
		{name: "non-zero trailing bits in the signature are unauthorized", token: func(t testing.TB, f *fixture) string {
			// 256 signature bytes end in a 4-bit-padded character: flipping a padding bit decodes to the same bytes.
			h, p, s := parts(t, f.idToken(t, nil))
			last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[len(s)-1])
			return h + "." + p + "." + s[:len(s)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last^1])
		}, want: "unauthorized", reason: "malformed"},
		{name: "a header that is not JSON is unauthorized", token: raw(func(*fixture) []byte { return []byte("RS256") }, claim("", "")), want: "unauthorized", reason: "malformed"},
		{name: "a header that is a JSON array is unauthorized", token: raw(func(*fixture) []byte { return []byte(`["RS256"]`) }, claim("", "")), want: "unauthorized", reason: "malformed"},
		{name: "claims that are not a JSON object are unauthorized", token: raw(rs256(""), func(testing.TB, *fixture) []byte { return []byte(`["alice"]`) }), want: "unauthorized", reason: "malformed"},
		{name: "claims with trailing data are unauthorized", token: raw(rs256(""), func(t testing.TB, f *fixture) []byte {
			return append(rawClaims(t, f, "", ""), "{}"...)
		}), want: "unauthorized", reason: "malformed"},

		// Header and algorithm.
		{name: "a token signed with RS256 over hand-made bytes is allowed", token: raw(rs256(""), claim("", "")), want: "allow", reason: "ok"},
		{name: "alg none is unauthorized", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintAlgNone(t, f.iss.IDClaims("alice", "admins"))
		}, want: "unauthorized", reason: "algorithm"},
		{name: "alg none with a signature attached is unauthorized", token: func(t testing.TB, f *fixture) string {
			_, _, s := parts(t, f.idToken(t, nil))
			return f.iss.MintAlgNone(t, f.iss.IDClaims("alice", "admins")) + s
		}, want: "unauthorized", reason: "algorithm"},
		{name: "HS256 keyed with the pool's public key PEM is unauthorized", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintHS256(t, f.iss.IDClaims("alice", "admins"), f.iss.PublicKeyPEM(t))
		}, want: "unauthorized", reason: "algorithm"},
		{name: "HS256 keyed with the pool's JWKS is unauthorized", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintHS256(t, f.iss.IDClaims("alice", "admins"), f.iss.JWKS())
		}, want: "unauthorized", reason: "algorithm"},
		{name: "RS384 by the pool's key is unauthorized", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintAlg(t, "RS384", f.iss.IDClaims("alice", "admins"))
		}, want: "unauthorized", reason: "algorithm"},
		{name: "RS512 by the pool's key is unauthorized", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintAlg(t, "RS512", f.iss.IDClaims("alice", "admins"))
		}, want: "unauthorized", reason: "algorithm"},
		{name: "PS256 by the pool's key is unauthorized", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintAlg(t, "PS256", f.iss.IDClaims("alice", "admins"))
		}, want: "unauthorized", reason: "algorithm"},
		{name: "ES256 in the header over an RS256 signature is unauthorized", token: raw(func(f *fixture) []byte { return hdr(f, "ES256", "") }, claim("", "")), want: "unauthorized", reason: "algorithm"},
		{name: "rs256 in lower case is unauthorized", token: raw(func(f *fixture) []byte { return hdr(f, "rs256", "") }, claim("", "")), want: "unauthorized", reason: "algorithm"},
		{name: "a header without alg is unauthorized", token: raw(func(f *fixture) []byte {
			return fmt.Appendf(nil, `{"kid":%q}`, f.iss.Key().ID)
		}, claim("", "")), want: "unauthorized", reason: "algorithm"},
		{name: "a header without kid is unauthorized", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintWith(t, nil, f.iss.IDClaims("alice", "admins"), map[string]any{"kid": nil})
		}, want: "unauthorized", reason: "unknown_key"},
		{name: "an empty kid is unauthorized", token: raw(func(*fixture) []byte { return []byte(`{"alg":"RS256","kid":""}`) }, claim("", "")), want: "unauthorized", reason: "unknown_key"},
		{name: "a numeric kid is unauthorized", token: raw(func(*fixture) []byte { return []byte(`{"alg":"RS256","kid":1}`) }, claim("", "")), want: "unauthorized", reason: "malformed"},
		{name: "a crit header is unauthorized", token: raw(rs256(`,"crit":["exp"],"exp":1`), claim("", "")), want: "unauthorized", reason: "forbidden_header"},
		{name: "a null crit header is unauthorized", token: raw(rs256(`,"crit":null`), claim("", "")), want: "unauthorized", reason: "forbidden_header"},
		{name: "a jku header is unauthorized even naming the pool's own JWKS", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintRaw(t, nil, hdr(f, "RS256", fmt.Sprintf(`,"jku":%q`, f.iss.URL)), rawClaims(t, f, "", ""))
		}, want: "unauthorized", reason: "forbidden_header"},
		{name: "an x5u header is unauthorized", token: raw(rs256(`,"x5u":"https://example.com/cert.pem"`), claim("", "")), want: "unauthorized", reason: "forbidden_header"},
		{name: "an embedded jwk header is unauthorized even with the pool's own key", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintWith(t, nil, f.iss.IDClaims("alice", "admins"), map[string]any{"jwk": f.iss.Key()})
		}, want: "unauthorized", reason: "forbidden_header"},
		{name: "an x5c header is unauthorized", token: raw(rs256(`,"x5c":["MIIB"]`), claim("", "")), want: "unauthorized", reason: "forbidden_header"},
		{name: "a typ header is ignored", token: raw(rs256(`,"typ":"JWT"`), claim("", "")), want: "allow", reason: "ok"},

		// Keys and signature.
		{name: "an unknown kid is unauthorized", token: func(t testing.TB, f *fixture) string {
			return f.iss.MintWith(t, f.iss.NewKey(t), f.iss.IDClaims("alice", "admins"), nil)
		}, want: "unauthorized", reason: "unknown_key"},
		{name: "an attacker's key under the pool's kid is unauthorized", token: func(t testing.TB, f *fixture) string {
			k := f.iss.NewKey(t)
			k.ID = f.iss.Key().ID
			return f.iss.MintWith(t, k, f.iss.IDClaims("alice", "admins"), nil)
		}, want: "unauthorized", reason: "bad_signature"},
		{name: "a tampered payload is unauthorized", token: edit(jwkstest.Tamper), want: "unauthorized", reason: "bad_signature"},
		{name: "a payload re-signed with another preferred role is unauthorized", token: func(t testing.TB, f *fixture) string {
			return jwkstest.TamperClaims(t, f.idToken(t, nil), func(c map[string]any) {
				c["cognito:preferred_role"] = "arn:aws:iam::123456789012:role/root"
			})
		}, want: "unauthorized", reason: "bad_signature"},
		{name: "another token's signature is unauthorized", token: func(t testing.TB, f *fixture) string {
			h, p, _ := parts(t, f.idToken(t, nil))
			_, _, s := parts(t, f.idToken(t, func(c map[string]any) { c["cognito:username"] = "mallory" }))
			return h + "." + p + "." + s
		}, want: "unauthorized", reason: "bad_signature"},
		{name: "a signature one byte short is unauthorized", token: withSig(func(s []byte) []byte { return s[1:] }), want: "unauthorized", reason: "bad_signature"},
		{name: "a signature with a leading zero byte is unauthorized", token: withSig(func(s []byte) []byte { return append([]byte{0}, s...) }), want: "unauthorized", reason: "bad_signature"},
		{name: "a flipped signature bit is unauthorized", token: withSig(func(s []byte) []byte { s[100] ^= 1; return s }), want: "unauthorized", reason: "bad_signature"},
		{name: "a JWK with another alg is unauthorized", token: valid, fix: []fixtureOption{withKeySource(func(authorizer.KeySource) authorizer.KeySource {
			return staticKey{&jwks.Key{ID: poolKey().ID, Alg: "RS512", Public: &poolKey().Private.PublicKey}}
		})}, want: "unauthorized", reason: "algorithm"},
		{name: "a JWK without alg is allowed", token: valid, fix: []fixtureOption{withKeySource(func(authorizer.KeySource) authorizer.KeySource {
			return staticKey{&jwks.Key{ID: poolKey().ID, Public: &poolKey().Private.PublicKey}}
		})}, want: "allow", reason: "ok"},
		{name: "a key under 2048 bits is never used", token: valid, fix: []fixtureOption{withKeySource(func(authorizer.KeySource) authorizer.KeySource {
			return staticKey{&jwks.Key{ID: poolKey().ID, Alg: "RS256", Public: &rsa.PublicKey{N: new(big.Int).Rsh(poolKey().Private.N, 1100), E: 65537}}}
		})}, want: "unauthorized", reason: "unknown_key"},
		{name: "keys that cannot be obtained are an error", token: valid, fix: []fixtureOption{withKeySource(func(authorizer.KeySource) authorizer.KeySource {
			return failingKeys{fmt.Errorf("fetch: %w", jwks.ErrUnavailable)}
		})}, want: "error", reason: "keys_unavailable"},
		{name: "any other key source failure is an error", token: valid, fix: []fixtureOption{withKeySource(func(authorizer.KeySource) authorizer.KeySource {
			return failingKeys{context.DeadlineExceeded}
		})}, want: "error", reason: "keys_unavailable"},
		{name: "a key source answering no key is an error", token: valid, fix: []fixtureOption{withKeySource(func(authorizer.KeySource) authorizer.KeySource {
			return staticKey{nil}
		})}, want: "error", reason: "keys_unavailable"},

		// Issuer.
		{name: "another pool's issuer is unauthorized", token: claims(func(c map[string]any) {
			c["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool"
		}), want: "unauthorized", reason: "wrong_issuer"},
		{name: "another region's issuer is unauthorized", token: claims(func(c map[string]any) {
			c["iss"] = "https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_TestPool1"
		}), want: "unauthorized", reason: "wrong_issuer"},
		{name: "an issuer with a trailing slash is unauthorized", token: claims(func(c map[string]any) { c["iss"] = c["iss"].(string) + "/" }), want: "unauthorized", reason: "wrong_issuer"},
		{name: "an http issuer is unauthorized", token: claims(func(c map[string]any) {
			c["iss"] = strings.Replace(c["iss"].(string), "https:", "http:", 1)
		}), want: "unauthorized", reason: "wrong_issuer"},
		{name: "a missing issuer is unauthorized", token: claims(func(c map[string]any) { delete(c, "iss") }), want: "unauthorized", reason: "wrong_issuer"},
		{name: "the issuer-cognito-idp form is unauthorized when ISSUER is unset", token: claims(func(c map[string]any) { c["iss"] = altIssuer }), want: "unauthorized", reason: "wrong_issuer"},
		{name: "the issuer-cognito-idp form is allowed when ISSUER names it", token: claims(func(c map[string]any) { c["iss"] = altIssuer }),
			fix: []fixtureOption{withConfig(func(c *authorizer.Config) { c.Issuer = altIssuer })}, want: "allow", reason: "ok"},
		{name: "the default issuer is unauthorized when ISSUER names another", token: valid,
			fix: []fixtureOption{withConfig(func(c *authorizer.Config) { c.Issuer = altIssuer })}, want: "unauthorized", reason: "wrong_issuer"},
		{name: "an issuer naming the JWKS_URL host is unauthorized", token: func(t testing.TB, f *fixture) string {
			return f.idToken(t, func(c map[string]any) { c["iss"] = strings.TrimSuffix(f.iss.URL, "/.well-known/jwks.json") })
		}, want: "unauthorized", reason: "wrong_issuer"},

		// Audience and token use.
		{name: "another app client is unauthorized", token: claims(func(c map[string]any) { c["aud"] = "someotherclient" }), want: "unauthorized", reason: "wrong_audience"},
		{name: "the second configured app client is allowed", token: claims(func(c map[string]any) { c["aud"] = "secondclient" }),
			fix: []fixtureOption{withConfig(func(c *authorizer.Config) { c.ClientIDs = append(c.ClientIDs, "secondclient") })}, want: "allow", reason: "ok"},
		{name: "a missing aud is unauthorized", token: claims(func(c map[string]any) { delete(c, "aud") }), want: "unauthorized", reason: "wrong_audience"},
		{name: "an aud array is unauthorized even of one valid client", token: claims(func(c map[string]any) { c["aud"] = []string{c["aud"].(string)} }), want: "unauthorized", reason: "malformed"},
		{name: "an access token is unauthorized", token: func(t testing.TB, f *fixture) string { return f.iss.Mint(t, f.iss.AccessClaims("alice")) }, want: "unauthorized", reason: "wrong_token_use"},
		{name: "an access token given an aud is unauthorized", token: func(t testing.TB, f *fixture) string {
			c := f.iss.AccessClaims("alice")
			c["aud"] = f.iss.ClientID
			return f.iss.Mint(t, c)
		}, want: "unauthorized", reason: "wrong_token_use"},
		{name: "token_use ID in upper case is unauthorized", token: claims(func(c map[string]any) { c["token_use"] = "ID" }), want: "unauthorized", reason: "wrong_token_use"},
		{name: "a missing token_use is unauthorized", token: claims(func(c map[string]any) { delete(c, "token_use") }), want: "unauthorized", reason: "wrong_token_use"},

		// Times, around the skew.
		{name: "exp just inside the skew is allowed", token: claims(at("exp", -skew+time.Second)), want: "allow", reason: "ok"},
		{name: "exp exactly at the skew is unauthorized", token: claims(at("exp", -skew)), want: "unauthorized", reason: "expired"},
		{name: "exp past the skew is unauthorized", token: claims(at("exp", -time.Hour)), want: "unauthorized", reason: "expired"},
		{name: "a token is unauthorized once the clock passes exp plus skew", token: valid, advance: time.Hour + skew, want: "unauthorized", reason: "expired"},
		{name: "a missing exp is unauthorized", token: claims(func(c map[string]any) { delete(c, "exp") }), want: "unauthorized", reason: "missing_claim"},
		{name: "a null exp is unauthorized", token: raw(rs256(""), claim("exp", "null")), want: "unauthorized", reason: "missing_claim"},
		{name: "a string exp is unauthorized", token: raw(rs256(""), claim("exp", fmt.Sprintf(`"%d"`, t0.Add(time.Hour).Unix()))), want: "unauthorized", reason: "malformed"},
		{name: "a fractional exp is unauthorized", token: raw(rs256(""), claim("exp", fmt.Sprintf(`%d.5`, t0.Add(time.Hour).Unix()))), want: "unauthorized", reason: "malformed"},
		{name: "an exponent exp is unauthorized", token: raw(rs256(""), claim("exp", `1.9e9`)), want: "unauthorized", reason: "malformed"},
		{name: "an exp beyond int64 is unauthorized", token: raw(rs256(""), claim("exp", `99999999999999999999`)), want: "unauthorized", reason: "malformed"},
		{name: "a far-future exp is allowed", token: raw(rs256(""), claim("exp", `9223372036854775807`)), want: "allow", reason: "ok"},
		{name: "iat at the skew is allowed", token: claims(at("iat", skew)), want: "allow", reason: "ok"},
		{name: "iat past the skew is unauthorized", token: claims(at("iat", skew+time.Second)), want: "unauthorized", reason: "issued_in_future"},
		{name: "a missing iat is unauthorized", token: claims(func(c map[string]any) { delete(c, "iat") }), want: "unauthorized", reason: "missing_claim"},
		{name: "a string iat is unauthorized", token: raw(rs256(""), claim("iat", fmt.Sprintf(`"%d"`, t0.Unix()))), want: "unauthorized", reason: "malformed"},
		{name: "nbf at the skew is allowed", token: claims(at("nbf", skew)), want: "allow", reason: "ok"},
		{name: "nbf past the skew is unauthorized", token: claims(at("nbf", skew+time.Second)), want: "unauthorized", reason: "not_yet_valid"},
		{name: "nbf in the past is allowed", token: claims(at("nbf", -time.Minute)), want: "allow", reason: "ok"},
		{name: "a string nbf is unauthorized", token: raw(rs256(""), claim("nbf", fmt.Sprintf(`"%d"`, t0.Unix()))), want: "unauthorized", reason: "malformed"},
		{name: "with zero skew exp one second ahead is allowed", token: claims(at("exp", time.Second)),
			fix: []fixtureOption{withConfig(func(c *authorizer.Config) { c.ClockSkew = 0 })}, want: "allow", reason: "ok"},
		{name: "with zero skew exp now is unauthorized", token: claims(at("exp", 0)),
			fix: []fixtureOption{withConfig(func(c *authorizer.Config) { c.ClockSkew = 0 })}, want: "unauthorized", reason: "expired"},
		{name: "with zero skew iat one second ahead is unauthorized", token: claims(at("iat", time.Second)),
			fix: []fixtureOption{withConfig(func(c *authorizer.Config) { c.ClockSkew = 0 })}, want: "unauthorized", reason: "issued_in_future"},

		// Subject.
		{name: "a missing sub is unauthorized", token: claims(func(c map[string]any) { delete(c, "sub") }), want: "unauthorized", reason: "missing_claim"},
		{name: "an empty sub is unauthorized", token: claims(func(c map[string]any) { c["sub"] = "" }), want: "unauthorized", reason: "missing_claim"},
		{name: "a numeric sub is unauthorized", token: raw(rs256(""), claim("sub", "42")), want: "unauthorized", reason: "malformed"},

		// Roles.
		{name: "a user without a preferred role is denied", token: func(t testing.TB, f *fixture) string { return f.iss.Mint(t, f.iss.IDClaims("bob")) }, want: "deny", reason: "no_role"},
		{name: "roles with an empty preferred role (a precedence tie) are allowed", token: claims(func(c map[string]any) { c["cognito:preferred_role"] = "" }), want: "allow", reason: "ok"},
		{name: "roles without a preferred role (a precedence tie) are allowed", token: claims(func(c map[string]any) { delete(c, "cognito:preferred_role") }), want: "allow", reason: "ok"},
		{name: "an empty preferred role without roles is denied", token: claims(func(c map[string]any) {
			c["cognito:preferred_role"] = ""
			delete(c, "cognito:roles")
		}), want: "deny", reason: "no_role"},
		{name: "an empty cognito:roles without a preferred role is denied", token: claims(func(c map[string]any) {
			c["cognito:roles"] = []string{}
			delete(c, "cognito:preferred_role")
		}), want: "deny", reason: "no_role"},
		{name: "a role that is an IAM user's ARN is denied", token: claims(func(c map[string]any) {
			c["cognito:roles"] = append(c["cognito:roles"].([]string), "arn:aws:iam::123456789012:user/alice")
		}), want: "deny", reason: "bad_role"},
		{name: "a wildcard role is denied", token: claims(func(c map[string]any) {
			c["cognito:roles"] = append(c["cognito:roles"].([]string), "arn:aws:iam::123456789012:role/*")
		}), want: "deny", reason: "bad_role"},
		{name: "a role ARN with a comma, the context's separator, is denied", token: claims(func(c map[string]any) {
			c["cognito:roles"] = append(c["cognito:roles"].([]string), "arn:aws:iam::123456789012:role/x,y")
		}), want: "deny", reason: "bad_role"},
		{name: "a preferred role that is not a role ARN, without cognito:roles, is denied", token: claims(func(c map[string]any) {
			c["cognito:preferred_role"] = "admin"
			delete(c, "cognito:roles")
		}), want: "deny", reason: "bad_role"},
		{name: "a preferred role of an empty string-form cognito:roles is denied", token: raw(rs256(""), claim("cognito:roles", `""`)), want: "deny", reason: "role_not_listed"},
		{name: "a preferred role missing from cognito:roles is denied", token: claims(func(c map[string]any) {
			c["cognito:preferred_role"] = "arn:aws:iam::123456789012:role/root"
		}), want: "deny", reason: "role_not_listed"},
		{name: "a preferred role with an empty cognito:roles is denied", token: claims(func(c map[string]any) { c["cognito:roles"] = []string{} }), want: "deny", reason: "role_not_listed"},
		{name: "a preferred role with a null cognito:roles is denied", token: raw(rs256(""), claim("cognito:roles", "null")), want: "deny", reason: "role_not_listed"},
		{name: "a preferred role listed in a comma-separated cognito:roles is allowed", token: claims(func(c map[string]any) {
			c["cognito:roles"] = strings.Join(c["cognito:roles"].([]string), ", ")
		}), want: "allow", reason: "ok"},
		{name: "a preferred role without cognito:roles is allowed", token: claims(func(c map[string]any) { delete(c, "cognito:roles") }), want: "allow", reason: "ok"},
		{name: "cognito:roles of numbers is unauthorized", token: raw(rs256(""), claim("cognito:roles", "[1,2]")), want: "unauthorized", reason: "malformed"},
		{name: "cognito:groups as a string is unauthorized", token: raw(rs256(""), claim("cognito:groups", `"admins"`)), want: "unauthorized", reason: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.fix...)
			tok := tt.token(t, f)
			f.clock.Advance(tt.advance)
			r := f.authorize(t, tok, testMethodARN)
			if r.outcome() != tt.want || r.reason() != tt.reason {
				t.Fatalf("outcome %q reason %q (err %v), want %q reason %q", r.outcome(), r.reason(), r.err, tt.want, tt.reason)
			}
			switch tt.want {
			case "allow":
				mustAllow(t, r)
				if r.resp.PrincipalID == "" || r.resp.PrincipalID != r.resp.Context["sub"] {
					t.Errorf("principalId %q, want the sub %q", r.resp.PrincipalID, r.resp.Context["sub"])
				}
			case "deny":
				if r.resp.Context["preferredRole"] != nil {
					t.Errorf("a Deny carries preferredRole %q", r.resp.Context["preferredRole"])
				}
				if r.resp.PrincipalID != f.iss.Sub("alice") && r.resp.PrincipalID != f.iss.Sub("bob") {
					t.Errorf("a Deny's principalId is %q, want the sub", r.resp.PrincipalID)
				}
			case "unauthorized":
				if r.resp.PolicyDocument.Statement != nil || r.resp.PrincipalID != "" {
					t.Errorf("an Unauthorized answer carries a response: %+v", r.resp)
				}
			case "error":
				if r.err == nil || r.err.Error() == "Unauthorized" || r.resp.PolicyDocument.Statement != nil {
					t.Errorf("want a non-Unauthorized error and no policy, got %v, %+v", r.err, r.resp)
				}
			}
		})
	}
}
