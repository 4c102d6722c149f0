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
	"github.com/rolegate/rolegate/internal/local/mint"
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
		if r := f.authorize(t, mintRaw(t, f.iss.Key(), tt.header, body), testMethodARN); r.outcome() != "unauthorized" || r.reason() != tt.reason {
			t.Errorf("%s after a valid header: outcome %q reason %q, want unauthorized %s", tt.name, r.outcome(), r.reason(), tt.reason)
		}
	}
	mustAllow(t, f.authorize(t, f.idToken(t, nil), testMethodARN))
}

// verdict is what the authorizer must answer a token: its outcome (allow, deny, unauthorized or error) and
// reason, as the decision's log line names them.
type verdict struct{ outcome, reason string }

var allowed = verdict{"allow", "ok"}

func unauthorized(reason string) verdict { return verdict{"unauthorized", reason} }
func denied(reason string) verdict       { return verdict{"deny", reason} }
func failed(reason string) verdict       { return verdict{"error", reason} }

// A minter builds a token for a fresh fixture.
type minter func(t testing.TB, f *fixture) string

// tokenCase is one row of a token table: a token and the verdict it must get from the pool as configured.
type tokenCase struct {
	name  string
	token minter
	want  verdict
}

// settingCase is a row whose pool is configured otherwise first.
type settingCase struct {
	name    string
	setting func(*authorizer.Config)
	token   minter
	want    verdict
}

// keyCase is a row where the key source answers for the pool: a valid token, and the verdict it must get.
type keyCase struct {
	name string
	keys authorizer.KeySource
	want verdict
}

// validToken is alice's ID token as the pool issues it.
func validToken(t testing.TB, f *fixture) string { return f.idToken(t, nil) }

// edited is alice's ID token after edit changes its claims.
func edited(edit func(claims map[string]any)) minter {
	return func(t testing.TB, f *fixture) string { return f.idToken(t, edit) }
}

// setClaim is alice's ID token with claim key set to v.
func setClaim(key string, v any) minter { return edited(func(c map[string]any) { c[key] = v }) }

// without is alice's ID token without the claims keys.
func without(keys ...string) minter {
	return edited(func(c map[string]any) {
		for _, k := range keys {
			delete(c, k)
		}
	})
}

// A claimEdit changes one claim of a token's claims.
type claimEdit func(claims map[string]any)

// setClaims is alice's ID token after each edit.
func setClaims(edits ...claimEdit) minter {
	return edited(func(c map[string]any) {
		for _, e := range edits {
			e(c)
		}
	})
}

// preferred sets cognito:preferred_role; roles sets cognito:roles; noRoles and noPreferred delete them.
func preferred(arn string) claimEdit {
	return func(c map[string]any) { c["cognito:preferred_role"] = arn }
}
func roles(arns ...string) claimEdit {
	return func(c map[string]any) { c["cognito:roles"] = append([]string{}, arns...) }
}
func noRoles(c map[string]any)     { delete(c, "cognito:roles") }
func noPreferred(c map[string]any) { delete(c, "cognito:preferred_role") }

// timed is alice's ID token with the NumericDate claim key at t0+d.
func timed(key string, d time.Duration) minter { return edited(at(key, d)) }

// withRole is alice's ID token with arn added to cognito:roles.
func withRole(arn string) minter {
	return edited(func(c map[string]any) { c["cognito:roles"] = append(c["cognito:roles"].([]string), arn) })
}

// reshaped is a valid token after edit rewrites its compact form.
func reshaped(edit func(tok string) string) minter {
	return func(t testing.TB, f *fixture) string { return edit(f.idToken(t, nil)) }
}

// prefixed is a valid token after prefix, as in the Authorization header.
func prefixed(prefix string) minter {
	return reshaped(func(tok string) string { return prefix + tok })
}

// literal is the authorizationToken s, whatever the pool issued.
func literal(s string) minter { return func(testing.TB, *fixture) string { return s } }

// signedRaw is RS256 by the pool's key over the exact header bytes and alice's claims as raw JSON.
func signedRaw(header func(f *fixture) []byte, payload func(t testing.TB, f *fixture) []byte) minter {
	return func(t testing.TB, f *fixture) string { return mintRaw(t, f.iss.Key(), header(f), payload(t, f)) }
}

// withHeader is alice's claims signed under an RS256 header naming the pool's key, plus extra members (raw
// JSON, comma-led).
func withHeader(extra string) minter { return headerAlg("RS256", extra) }

// headerAlg is alice's claims signed by the pool's key (RS256) under a header that says alg.
func headerAlg(alg, extra string) minter {
	return signedRaw(func(f *fixture) []byte { return hdr(f, alg, extra) }, aliceRaw)
}

// headerJSON is alice's claims signed by the pool's key under exactly the header h.
func headerJSON(h string) minter {
	return signedRaw(func(*fixture) []byte { return []byte(h) }, aliceRaw)
}

// rawClaim is alice's claims with claim key as the raw JSON v ("" deletes it), signed by the pool's key.
func rawClaim(key, v string) minter {
	return signedRaw(func(f *fixture) []byte { return hdr(f, "RS256", "") }, func(t testing.TB, f *fixture) []byte {
		return rawClaims(t, f, key, v)
	})
}

// payloadJSON is the exact claims p signed by the pool's key under a valid header.
func payloadJSON(p func(t testing.TB, f *fixture) []byte) minter {
	return signedRaw(func(f *fixture) []byte { return hdr(f, "RS256", "") }, p)
}

// aliceRaw is alice's claims as JSON; literalClaims is exactly the JSON s.
func aliceRaw(t testing.TB, f *fixture) []byte { return rawClaims(t, f, "", "") }

func literalClaims(s string) func(testing.TB, *fixture) []byte {
	return func(testing.TB, *fixture) []byte { return []byte(s) }
}

// kidOnly is a header naming the pool's key and no alg.
func kidOnly(f *fixture) []byte { return fmt.Appendf(nil, `{"kid":%q}`, f.iss.Key().ID) }

// jkuOwnJWKS is alice's claims signed by the pool's key under a header whose jku names the pool's own JWKS.
func jkuOwnJWKS(t testing.TB, f *fixture) string {
	return mintRaw(t, f.iss.Key(), hdr(f, "RS256", fmt.Sprintf(`,"jku":%q`, f.iss.URL)), rawClaims(t, f, "", ""))
}

// publicPEM and publicJWKS are what an attacker knows of the pool's key: HMAC secrets for key confusion.
func publicPEM(t testing.TB, f *fixture) []byte  { return publicKeyPEM(t, f.iss) }
func publicJWKS(_ testing.TB, f *fixture) []byte { return f.iss.JWKS() }

// bobWithoutGroups is the ID token of bob, who is in no group.
func bobWithoutGroups(t testing.TB, f *fixture) string { return f.iss.Mint(t, f.iss.IDClaims("bob")) }

// signature is a valid token whose signature bytes edit changes.
func signature(edit func(sig []byte) []byte) minter {
	return func(t testing.TB, f *fixture) string {
		h, p, s := parts(t, f.idToken(t, nil))
		sig, err := b64.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return h + "." + p + "." + b64.EncodeToString(edit(sig))
	}
}

// later is token, then the clock moves on by d before the authorizer sees it.
func later(token minter, d time.Duration) minter {
	return func(t testing.TB, f *fixture) string {
		tok := token(t, f)
		f.clock.Advance(d)
		return tok
	}
}

// algNone is an unsigned token of alice's claims, with sig appended when withSig.
func algNone(withSig bool) minter {
	return func(t testing.TB, f *fixture) string {
		tok := f.iss.MintAlgNone(t, f.iss.IDClaims("alice", "admins"))
		if withSig {
			_, _, s := parts(t, f.idToken(t, nil))
			tok += s
		}
		return tok
	}
}

// hs256 is alice's claims MACed with HS256 keyed by what secret returns: the key-confusion attack.
func hs256(secret func(t testing.TB, f *fixture) []byte) minter {
	return func(t testing.TB, f *fixture) string {
		return f.iss.MintHS256(t, f.iss.IDClaims("alice", "admins"), secret(t, f))
	}
}

// otherAlg is alice's claims genuinely signed by the pool's key under alg.
func otherAlg(alg string) minter {
	return func(t testing.TB, f *fixture) string {
		return mintAlg(t, f.iss, alg, f.iss.IDClaims("alice", "admins"))
	}
}

// headers is alice's claims signed by key (nil: the pool's) with extra protected headers.
func headers(key func(t testing.TB, f *fixture) *mint.PrivateKey, extra func(f *fixture) map[string]any) minter {
	return func(t testing.TB, f *fixture) string {
		var k *mint.PrivateKey
		if key != nil {
			k = key(t, f)
		}
		var h map[string]any
		if extra != nil {
			h = extra(f)
		}
		return f.iss.MintWith(t, k, f.iss.IDClaims("alice", "admins"), h)
	}
}

// unpublishedKey is a key the pool never published; underPoolKid is one published under the pool's kid.
func unpublishedKey(t testing.TB, f *fixture) *mint.PrivateKey { return f.iss.NewKey(t) }

func underPoolKid(t testing.TB, f *fixture) *mint.PrivateKey {
	k := f.iss.NewKey(t)
	k.ID = f.iss.Key().ID
	return k
}

// justUnderSizeCap is a valid token padded by a claim to just under MaxTokenBytes.
func justUnderSizeCap(t testing.TB, f *fixture) string {
	tok := f.idToken(t, func(c map[string]any) { c["padding"] = "" })
	pad := (authorizer.MaxTokenBytes - len(tok) - 4) * 3 / 4
	tok = f.idToken(t, func(c map[string]any) { c["padding"] = strings.Repeat("x", pad) })
	if n := len(tok); n > authorizer.MaxTokenBytes || n < authorizer.MaxTokenBytes-8 {
		t.Fatalf("padded token is %d bytes, want just under %d", n, authorizer.MaxTokenBytes)
	}
	return tok
}

// emptyPayload is a valid token's header and signature around an empty payload.
func emptyPayload(t testing.TB, f *fixture) string {
	h, _, s := parts(t, f.idToken(t, nil))
	return h + ".." + s
}

// standardBase64 is a valid token whose signature is written in the standard base64 alphabet (+ and /).
func standardBase64(t testing.TB, f *fixture) string {
	for {
		tok := f.idToken(t, func(c map[string]any) { c["jti"] = fmt.Sprint(time.Now().UnixNano()) })
		if h, p, s := parts(t, tok); strings.ContainsAny(s, "-_") {
			return h + "." + p + "." + strings.NewReplacer("-", "+", "_", "/").Replace(s)
		}
	}
}

// crInPayload is a valid token with a carriage return inside its payload.
func crInPayload(t testing.TB, f *fixture) string {
	h, p, s := parts(t, f.idToken(t, nil))
	return h + "." + p[:8] + "\r" + p[8:] + "." + s
}

// trailingBits is a valid token whose signature's last character differs only in padding bits: 256 signature
// bytes end in a 4-bit-padded character, so it decodes to the same bytes.
func trailingBits(t testing.TB, f *fixture) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	h, p, s := parts(t, f.idToken(t, nil))
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return h + "." + p + "." + s[:len(s)-1] + string(alphabet[last^1])
}

// trailingData is alice's claims followed by a second JSON value, signed by the pool's key.
func trailingData(t testing.TB, f *fixture) []byte { return append(rawClaims(t, f, "", ""), "{}"...) }

// swappedSignature is a valid token's header and payload with another valid token's signature.
func swappedSignature(t testing.TB, f *fixture) string {
	h, p, _ := parts(t, f.idToken(t, nil))
	_, _, s := parts(t, f.idToken(t, func(c map[string]any) { c["cognito:username"] = "mallory" }))
	return h + "." + p + "." + s
}

// resignedRole is a valid token whose payload names another preferred role, under the original signature.
func resignedRole(t testing.TB, f *fixture) string {
	return jwkstest.TamperClaims(t, f.idToken(t, nil), func(c map[string]any) {
		c["cognito:preferred_role"] = "arn:aws:iam::123456789012:role/root"
	})
}

// accessToken is alice's access token, given an aud when withAud.
func accessToken(withAud bool) minter {
	return func(t testing.TB, f *fixture) string {
		c := f.iss.AccessClaims("alice")
		if withAud {
			c["aud"] = f.iss.ClientID
		}
		return f.iss.Mint(t, c)
	}
}

// issuerEdit is alice's ID token with its iss rewritten by edit.
func issuerEdit(edit func(iss string) string) minter {
	return edited(func(c map[string]any) { c["iss"] = edit(c["iss"].(string)) })
}

// jwksHostIssuer is alice's ID token whose iss names the host that serves JWKS_URL.
func jwksHostIssuer(t testing.TB, f *fixture) string {
	return f.idToken(t, func(c map[string]any) { c["iss"] = strings.TrimSuffix(f.iss.URL, "/.well-known/jwks.json") })
}

// poolJWK is the pool's public key as a JWK with alg (none when "") and modulus n (the pool's when nil).
func poolJWK(alg string, n *big.Int) authorizer.KeySource {
	pub := &poolKey().Private.PublicKey
	if n != nil {
		pub = &rsa.PublicKey{N: n, E: 65537}
	}
	return staticKey{&jwks.Key{ID: poolKey().ID, Alg: alg, Public: pub}}
}

func TestHandleTokenRules(t *testing.T) {
	skew := authorizer.DefaultClockSkew
	altIssuer := "https://issuer-cognito-idp.us-east-1.amazonaws.com/" + "us-east-1_TestPool1"
	otherPool := "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool"
	otherRegion := "https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_TestPool1"
	altOtherRegion := "https://issuer-cognito-idp.eu-west-1.amazonaws.com/us-east-1_TestPool1"
	altOtherPool := "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool"
	rootRole := "arn:aws:iam::123456789012:role/root"
	capOfX := strings.Repeat("x", authorizer.MaxTokenBytes)

	// Settings.
	issuerIs := func(iss string) func(*authorizer.Config) {
		return func(c *authorizer.Config) { c.Issuers = []string{iss} }
	}
	zeroSkew := func(c *authorizer.Config) { c.ClockSkew = 0 }
	secondClient := func(c *authorizer.Config) { c.ClientIDs = append(c.ClientIDs, "secondclient") }

	// Edits of a valid token's compact form.
	suffixed := func(suffix string) func(string) string { return func(s string) string { return s + suffix } }
	twoTokens := func(s string) string { return "Bearer " + s + " " + s }
	oversized := func(s string) string { return "Bearer " + s + strings.Repeat("A", authorizer.MaxTokenBytes) }
	twoParts := func(s string) string { return s[:strings.LastIndexByte(s, '.')] }
	noHeader := func(s string) string { return s[strings.IndexByte(s, '.'):] }
	noSignature := func(s string) string { return s[:strings.LastIndexByte(s, '.')+1] }
	lineBreakInSignature := func(s string) string { return s[:len(s)-10] + "\n" + s[len(s)-10:] }

	// Edits of a valid signature's bytes.
	oneByteShort := func(s []byte) []byte { return s[1:] }
	leadingZero := func(s []byte) []byte { return append([]byte{0}, s...) }
	flipBit := func(s []byte) []byte { s[100] ^= 1; return s }

	// Edits of claims and headers.
	trailingSlash := func(iss string) string { return iss + "/" }
	httpScheme := func(iss string) string { return strings.Replace(iss, "https:", "http:", 1) }
	audArray := func(c map[string]any) { c["aud"] = []string{c["aud"].(string)} }
	commaSeparatedRoles := func(c map[string]any) { c["cognito:roles"] = strings.Join(c["cognito:roles"].([]string), ", ") }
	noKid := func(*fixture) map[string]any { return map[string]any{"kid": nil} }
	embeddedJWK := func(f *fixture) map[string]any { return map[string]any{"jwk": f.iss.Key()} }

	t.Run("where the token comes from", func(t *testing.T) {
		checkTokens(t, []tokenCase{
			{"a bare ID token is allowed", validToken, allowed},
			{"a Bearer ID token is allowed", prefixed("Bearer "), allowed},
			{"a lower-case bearer scheme is allowed", prefixed("bearer "), allowed},
			{"an upper-case BEARER scheme is allowed", prefixed("BEARER "), allowed},
			{"a Basic scheme is unauthorized", prefixed("Basic "), unauthorized("malformed")},
			{"a Bearer prefix without its space is unauthorized", prefixed("Bearer"), unauthorized("malformed")},
			{"two spaces after Bearer are unauthorized", prefixed("Bearer  "), unauthorized("malformed")},
			{"a tab after Bearer is unauthorized", prefixed("Bearer\t"), unauthorized("malformed")},
			{"a trailing space is unauthorized", reshaped(suffixed(" ")), unauthorized("malformed")},
			{"a second token after the first is unauthorized", reshaped(twoTokens), unauthorized("malformed")},
			{"Bearer without a token is unauthorized", literal("Bearer "), unauthorized("malformed")},
			{"an empty authorizationToken is unauthorized", literal(""), unauthorized("no_token")},
			{"an oversized token is unauthorized before parsing", reshaped(oversized), unauthorized("too_large")},
			{"a valid token padded past the size cap by a claim is unauthorized", setClaim("padding", capOfX), unauthorized("too_large")},
			{"a valid token just under the size cap is allowed", justUnderSizeCap, allowed},
		})
	})

	t.Run("compact serialization", func(t *testing.T) {
		checkTokens(t, []tokenCase{
			{"two parts are unauthorized", reshaped(twoParts), unauthorized("malformed")},
			{"four parts are unauthorized", reshaped(suffixed(".AAAA")), unauthorized("malformed")},
			{"an empty header part is unauthorized", reshaped(noHeader), unauthorized("malformed")},
			{"an empty payload part is unauthorized", emptyPayload, unauthorized("malformed")},
			{"an empty signature is unauthorized", reshaped(noSignature), unauthorized("malformed")},
			{"base64 padding is unauthorized", reshaped(suffixed("==")), unauthorized("malformed")},
			{"the standard base64 alphabet is unauthorized", standardBase64, unauthorized("malformed")},
			{"a line break inside the signature is unauthorized", reshaped(lineBreakInSignature), unauthorized("malformed")},
			{"a carriage return inside the payload is unauthorized", crInPayload, unauthorized("malformed")},
			{"non-zero trailing bits in the signature are unauthorized", trailingBits, unauthorized("malformed")},
			{"a header that is not JSON is unauthorized", headerJSON("RS256"), unauthorized("malformed")},
			{"a header that is a JSON array is unauthorized", headerJSON(`["RS256"]`), unauthorized("malformed")},
			{"claims that are not a JSON object are unauthorized", payloadJSON(literalClaims(`["alice"]`)), unauthorized("malformed")},
			{"claims with trailing data are unauthorized", payloadJSON(trailingData), unauthorized("malformed")},
		})
	})

	t.Run("header and algorithm", func(t *testing.T) {
		checkTokens(t, []tokenCase{
			{"a token signed with RS256 over hand-made bytes is allowed", withHeader(""), allowed},
			{"alg none is unauthorized", algNone(false), unauthorized("algorithm")},
			{"alg none with a signature attached is unauthorized", algNone(true), unauthorized("algorithm")},
			{"HS256 keyed with the pool's public key PEM is unauthorized", hs256(publicPEM), unauthorized("algorithm")},
			{"HS256 keyed with the pool's JWKS is unauthorized", hs256(publicJWKS), unauthorized("algorithm")},
			{"RS384 by the pool's key is unauthorized", otherAlg("RS384"), unauthorized("algorithm")},
			{"RS512 by the pool's key is unauthorized", otherAlg("RS512"), unauthorized("algorithm")},
			{"PS256 by the pool's key is unauthorized", otherAlg("PS256"), unauthorized("algorithm")},
			{"ES256 in the header over an RS256 signature is unauthorized", headerAlg("ES256", ""), unauthorized("algorithm")},
			{"rs256 in lower case is unauthorized", headerAlg("rs256", ""), unauthorized("algorithm")},
			{"a header without alg is unauthorized", signedRaw(kidOnly, aliceRaw), unauthorized("algorithm")},
			{"a header without kid is unauthorized", headers(nil, noKid), unauthorized("unknown_key")},
			{"an empty kid is unauthorized", headerJSON(`{"alg":"RS256","kid":""}`), unauthorized("unknown_key")},
			{"a numeric kid is unauthorized", headerJSON(`{"alg":"RS256","kid":1}`), unauthorized("malformed")},
			{"a crit header is unauthorized", withHeader(`,"crit":["exp"],"exp":1`), unauthorized("forbidden_header")},
			{"a null crit header is unauthorized", withHeader(`,"crit":null`), unauthorized("forbidden_header")},
			{"a jku header is unauthorized even naming the pool's own JWKS", jkuOwnJWKS, unauthorized("forbidden_header")},
			{"an x5u header is unauthorized", withHeader(`,"x5u":"https://example.com/cert.pem"`), unauthorized("forbidden_header")},
			{"an embedded jwk header is unauthorized even with the pool's own key", headers(nil, embeddedJWK), unauthorized("forbidden_header")},
			{"an x5c header is unauthorized", withHeader(`,"x5c":["MIIB"]`), unauthorized("forbidden_header")},
			{"a typ header is ignored", withHeader(`,"typ":"JWT"`), allowed},
		})
	})

	t.Run("keys and signature", func(t *testing.T) {
		checkTokens(t, []tokenCase{
			{"an unknown kid is unauthorized", headers(unpublishedKey, nil), unauthorized("unknown_key")},
			{"an attacker's key under the pool's kid is unauthorized", headers(underPoolKid, nil), unauthorized("bad_signature")},
			// The claims are read before the signature, to choose the pool's keys: this flip leaves no JSON.
			{"a payload with a flipped character is unauthorized", reshaped(jwkstest.Tamper), unauthorized("malformed")},
			{"a payload re-signed with another preferred role is unauthorized", resignedRole, unauthorized("bad_signature")},
			{"another token's signature is unauthorized", swappedSignature, unauthorized("bad_signature")},
			{"a signature one byte short is unauthorized", signature(oneByteShort), unauthorized("bad_signature")},
			{"a signature with a leading zero byte is unauthorized", signature(leadingZero), unauthorized("bad_signature")},
			{"a flipped signature bit is unauthorized", signature(flipBit), unauthorized("bad_signature")},
		})
		checkKeys(t, []keyCase{
			{"a JWK with another alg is unauthorized", poolJWK("RS512", nil), unauthorized("algorithm")},
			{"a JWK without alg is allowed", poolJWK("", nil), allowed},
			{"a key under 2048 bits is never used", poolJWK("RS256", new(big.Int).Rsh(poolKey().Private.N, 1100)), unauthorized("unknown_key")},
			{"keys that cannot be obtained are an error", failingKeys{fmt.Errorf("fetch: %w", jwks.ErrUnavailable)}, failed("keys_unavailable")},
			{"any other key source failure is an error", failingKeys{context.DeadlineExceeded}, failed("keys_unavailable")},
			{"a key source answering no key is an error", staticKey{nil}, failed("keys_unavailable")},
		})
	})

	t.Run("issuer", func(t *testing.T) {
		checkTokens(t, []tokenCase{
			{"another pool's issuer is unauthorized", setClaim("iss", otherPool), unauthorized("wrong_issuer")},
			{"another region's issuer is unauthorized", setClaim("iss", otherRegion), unauthorized("wrong_issuer")},
			{"an issuer with a trailing slash is unauthorized", issuerEdit(trailingSlash), unauthorized("wrong_issuer")},
			{"an http issuer is unauthorized", issuerEdit(httpScheme), unauthorized("wrong_issuer")},
			{"a missing issuer is unauthorized", without("iss"), unauthorized("wrong_issuer")},
			{"the updated (issuer-cognito-idp) form is allowed when ISSUER is unset", setClaim("iss", altIssuer), allowed},
			{"the updated form for another Region is unauthorized", setClaim("iss", altOtherRegion), unauthorized("wrong_issuer")},
			{"the updated form of another pool is unauthorized", setClaim("iss", altOtherPool), unauthorized("wrong_issuer")},
			{"an issuer naming the JWKS_URL host is unauthorized", jwksHostIssuer, unauthorized("wrong_issuer")},
		})
		checkSettings(t, []settingCase{
			{"the updated form is allowed when ISSUER names it", issuerIs(altIssuer), setClaim("iss", altIssuer), allowed},
			{"the original form is unauthorized when ISSUER names only the updated one", issuerIs(altIssuer), validToken, unauthorized("wrong_issuer")},
		})
	})

	t.Run("audience and token use", func(t *testing.T) {
		checkTokens(t, []tokenCase{
			{"another app client is unauthorized", setClaim("aud", "someotherclient"), unauthorized("wrong_audience")},
			{"a missing aud is unauthorized", without("aud"), unauthorized("wrong_audience")},
			{"an aud array is unauthorized even of one valid client", edited(audArray), unauthorized("malformed")},
			{"an access token is unauthorized", accessToken(false), unauthorized("wrong_token_use")},
			{"an access token given an aud is unauthorized", accessToken(true), unauthorized("wrong_token_use")},
			{"token_use ID in upper case is unauthorized", setClaim("token_use", "ID"), unauthorized("wrong_token_use")},
			{"a missing token_use is unauthorized", without("token_use"), unauthorized("wrong_token_use")},
		})
		checkSettings(t, []settingCase{
			{"the second configured app client is allowed", secondClient, setClaim("aud", "secondclient"), allowed},
		})
	})

	t.Run("times, around the skew", func(t *testing.T) {
		checkTokens(t, []tokenCase{
			{"exp just inside the skew is allowed", timed("exp", -skew+time.Second), allowed},
			{"exp exactly at the skew is unauthorized", timed("exp", -skew), unauthorized("expired")},
			{"exp past the skew is unauthorized", timed("exp", -time.Hour), unauthorized("expired")},
			{"a token is unauthorized once the clock passes exp plus skew", later(validToken, time.Hour+skew), unauthorized("expired")},
			{"a missing exp is unauthorized", without("exp"), unauthorized("missing_claim")},
			{"a null exp is unauthorized", rawClaim("exp", "null"), unauthorized("missing_claim")},
			{"a string exp is unauthorized", rawClaim("exp", fmt.Sprintf(`"%d"`, t0.Add(time.Hour).Unix())), unauthorized("malformed")},
			{"a fractional exp is unauthorized", rawClaim("exp", fmt.Sprintf(`%d.5`, t0.Add(time.Hour).Unix())), unauthorized("malformed")},
			{"an exponent exp is unauthorized", rawClaim("exp", `1.9e9`), unauthorized("malformed")},
			{"an exp beyond int64 is unauthorized", rawClaim("exp", `99999999999999999999`), unauthorized("malformed")},
			{"a far-future exp is allowed", rawClaim("exp", `9223372036854775807`), allowed},
			{"iat at the skew is allowed", timed("iat", skew), allowed},
			{"iat past the skew is unauthorized", timed("iat", skew+time.Second), unauthorized("issued_in_future")},
			{"a missing iat is unauthorized", without("iat"), unauthorized("missing_claim")},
			{"a string iat is unauthorized", rawClaim("iat", fmt.Sprintf(`"%d"`, t0.Unix())), unauthorized("malformed")},
			{"nbf at the skew is allowed", timed("nbf", skew), allowed},
			{"nbf past the skew is unauthorized", timed("nbf", skew+time.Second), unauthorized("not_yet_valid")},
			{"nbf in the past is allowed", timed("nbf", -time.Minute), allowed},
			{"a string nbf is unauthorized", rawClaim("nbf", fmt.Sprintf(`"%d"`, t0.Unix())), unauthorized("malformed")},
		})
		checkSettings(t, []settingCase{
			{"with zero skew exp one second ahead is allowed", zeroSkew, timed("exp", time.Second), allowed},
			{"with zero skew exp now is unauthorized", zeroSkew, timed("exp", 0), unauthorized("expired")},
			{"with zero skew iat one second ahead is unauthorized", zeroSkew, timed("iat", time.Second), unauthorized("issued_in_future")},
		})
	})

	t.Run("subject", func(t *testing.T) {
		checkTokens(t, []tokenCase{
			{"a missing sub is unauthorized", without("sub"), unauthorized("missing_claim")},
			{"an empty sub is unauthorized", setClaim("sub", ""), unauthorized("missing_claim")},
			{"a numeric sub is unauthorized", rawClaim("sub", "42"), unauthorized("malformed")},
		})
	})

	t.Run("roles", func(t *testing.T) {
		checkTokens(t, []tokenCase{
			{"a user without a preferred role is denied", bobWithoutGroups, denied("no_role")},
			{"roles with an empty preferred role (a precedence tie) are allowed", setClaim("cognito:preferred_role", ""), allowed},
			{"roles without a preferred role (a precedence tie) are allowed", without("cognito:preferred_role"), allowed},
			{"an empty preferred role without roles is denied", setClaims(preferred(""), noRoles), denied("no_role")},
			{"an empty cognito:roles without a preferred role is denied", setClaims(roles(), noPreferred), denied("no_role")},
			{"a role that is an IAM user's ARN is denied", withRole("arn:aws:iam::123456789012:user/alice"), denied("bad_role")},
			{"a wildcard role is denied", withRole("arn:aws:iam::123456789012:role/*"), denied("bad_role")},
			{"a role ARN with a comma, the context's separator, is denied", withRole("arn:aws:iam::123456789012:role/x,y"), denied("bad_role")},
			{"a preferred role that is not a role ARN, without cognito:roles, is denied", setClaims(preferred("admin"), noRoles), denied("bad_role")},
			{"a preferred role of an empty string-form cognito:roles is denied", rawClaim("cognito:roles", `""`), denied("role_not_listed")},
			{"a preferred role missing from cognito:roles is denied", setClaim("cognito:preferred_role", rootRole), denied("role_not_listed")},
			{"a preferred role with an empty cognito:roles is denied", setClaims(roles()), denied("role_not_listed")},
			{"a preferred role with a null cognito:roles is denied", rawClaim("cognito:roles", "null"), denied("role_not_listed")},
			{"a preferred role listed in a comma-separated cognito:roles is allowed", edited(commaSeparatedRoles), allowed},
			{"a preferred role without cognito:roles is allowed", without("cognito:roles"), allowed},
			{"cognito:roles of numbers is unauthorized", rawClaim("cognito:roles", "[1,2]"), unauthorized("malformed")},
			{"cognito:groups as a string is unauthorized", rawClaim("cognito:groups", `"admins"`), unauthorized("malformed")},
		})
	})
}

// checkTokens runs each row against a fresh fixture built with opts.
func checkTokens(t *testing.T, cases []tokenCase, opts ...fixtureOption) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) { checkVerdict(t, newFixture(t, opts...), tt.token, tt.want) })
	}
}

// checkSettings runs each row against a fresh fixture whose config the row's setting changes.
func checkSettings(t *testing.T, cases []settingCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) { checkVerdict(t, newFixture(t, withConfig(tt.setting)), tt.token, tt.want) })
	}
}

// checkKeys runs each row with a valid token against a fresh fixture whose keys come from the row's source.
func checkKeys(t *testing.T, cases []keyCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, withKeySource(func(authorizer.KeySource) authorizer.KeySource { return tt.keys }))
			checkVerdict(t, f, validToken, tt.want)
		})
	}
}

// checkVerdict authorizes token and checks the verdict and the shape of the answer that goes with it.
func checkVerdict(t *testing.T, f *fixture, token minter, want verdict) {
	t.Helper()
	r := f.authorize(t, token(t, f), testMethodARN)
	if r.outcome() != want.outcome || r.reason() != want.reason {
		t.Fatalf("outcome %q reason %q (err %v), want %q reason %q", r.outcome(), r.reason(), r.err, want.outcome, want.reason)
	}
	switch want.outcome {
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
}
