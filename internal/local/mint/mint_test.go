package mint_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/jwks/jwkstest"

	"github.com/rolegate/rolegate/internal/local/mint"
	"github.com/rolegate/rolegate/jwks"
)

// decodeSegment base64url-decodes and JSON-decodes one part of a compact JWS.
var b64 = base64.RawURLEncoding

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := b64.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("segment %s: %v", b, err)
	}
	return m
}

// verifyRS256 checks tok with crypto/rsa alone, the way a verifier that knows nothing of jwx would.
func verifyRS256(t *testing.T, pub *rsa.PublicKey, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	return decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
}

func TestSignVerifiesWithCryptoRSA(t *testing.T) {
	k := jwkstest.NewKey(t, "kid-1", 2048)
	attacker := jwkstest.NewKey(t, "evil", 2048)
	claims := map[string]any{"sub": "abc", "exp": float64(2000000000), "cognito:groups": []any{"admins"}}
	tests := []struct {
		name       string
		extra      map[string]any
		wantHeader map[string]any
	}{
		{"a plain token has alg, kid and typ", nil,
			map[string]any{"alg": "RS256", "kid": "kid-1", "typ": "JWT"}},
		{"a crit header is carried", map[string]any{"crit": []string{"exp"}},
			map[string]any{"alg": "RS256", "kid": "kid-1", "typ": "JWT", "crit": []any{"exp"}}},
		{"jku and x5u headers are carried", map[string]any{"jku": "https://evil.example/mint.json", "x5u": "https://evil.example/c.pem"},
			map[string]any{"alg": "RS256", "kid": "kid-1", "typ": "JWT", "jku": "https://evil.example/mint.json", "x5u": "https://evil.example/c.pem"}},
		{"a nil kid removes the kid", map[string]any{"kid": nil},
			map[string]any{"alg": "RS256", "typ": "JWT"}},
		{"a nil typ removes the typ, as Cognito omits it", map[string]any{"typ": nil},
			map[string]any{"alg": "RS256", "kid": "kid-1"}},
		{"kid can be overridden", map[string]any{"kid": "someone-else"},
			map[string]any{"alg": "RS256", "kid": "someone-else", "typ": "JWT"}},
		{"a private header parameter is carried", map[string]any{"x-extra": "1"},
			map[string]any{"alg": "RS256", "kid": "kid-1", "typ": "JWT", "x-extra": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := mint.Sign(k, claims, tt.extra)
			if err != nil {
				t.Fatal(err)
			}
			hdr, got := verifyRS256(t, &k.Private.PublicKey, tok)
			if !reflect.DeepEqual(hdr, tt.wantHeader) {
				t.Errorf("header = %v, want %v", hdr, tt.wantHeader)
			}
			want := map[string]any{"sub": "abc", "exp": float64(2000000000), "cognito:groups": []any{"admins"}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("claims = %v, want %v", got, want)
			}
		})
	}

	t.Run("a jwk header holds only the public half of the key given", func(t *testing.T) {
		tok, err := mint.Sign(attacker, claims, map[string]any{"jwk": attacker})
		if err != nil {
			t.Fatal(err)
		}
		hdr, _ := verifyRS256(t, &attacker.Private.PublicKey, tok)
		j, ok := hdr["jwk"].(map[string]any)
		if !ok {
			t.Fatalf("jwk header = %v", hdr["jwk"])
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := j[private]; ok {
				t.Fatalf("jwk header leaks %q", private)
			}
		}
		if j["kty"] != "RSA" || j["kid"] != "evil" || j["n"] == nil {
			t.Fatalf("jwk header = %v", j)
		}
	})
	t.Run("raw claims bytes are signed verbatim", func(t *testing.T) {
		raw := []byte(`{"sub":"abc","exp":"2000000000"}`)
		tok, err := mint.Sign(k, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		verifyRS256(t, &k.Private.PublicKey, tok)
		if got, _ := b64.DecodeString(strings.Split(tok, ".")[1]); string(got) != string(raw) {
			t.Fatalf("payload = %s", got)
		}
	})
	t.Run("alg cannot be set through the extra headers", func(t *testing.T) {
		if _, err := mint.Sign(k, claims, map[string]any{"alg": "HS256"}); err == nil {
			t.Fatal("Sign accepted an alg header")
		}
	})
}

func TestSignAlg(t *testing.T) {
	k := jwkstest.NewKey(t, "kid-1", 2048)
	claims := map[string]any{"sub": "abc"}
	verify := map[string]func(pub *rsa.PublicKey, signing string, sig []byte) error{
		"RS384": func(pub *rsa.PublicKey, s string, sig []byte) error {
			sum := sha512.Sum384([]byte(s))
			return rsa.VerifyPKCS1v15(pub, crypto.SHA384, sum[:], sig)
		},
		"RS512": func(pub *rsa.PublicKey, s string, sig []byte) error {
			sum := sha512.Sum512([]byte(s))
			return rsa.VerifyPKCS1v15(pub, crypto.SHA512, sum[:], sig)
		},
		"PS256": func(pub *rsa.PublicKey, s string, sig []byte) error {
			sum := sha256.Sum256([]byte(s))
			return rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, nil)
		},
	}
	for alg, v := range verify {
		t.Run(alg+" is a real signature under that algorithm", func(t *testing.T) {
			tok, err := mint.SignAlg(k, alg, claims, nil)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(tok, ".")
			sig, _ := b64.DecodeString(parts[2])
			if err := v(&k.Private.PublicKey, parts[0]+"."+parts[1], sig); err != nil {
				t.Fatal(err)
			}
			if hdr := decodeSegment(t, parts[0]); hdr["alg"] != alg {
				t.Fatalf("alg header = %v", hdr["alg"])
			}
		})
	}
	for _, alg := range []string{"HS256", "ES256", "none", "", "rs256"} {
		t.Run("non-RSA algorithm "+alg+" is an error", func(t *testing.T) {
			if _, err := mint.SignAlg(k, alg, claims, nil); err == nil {
				t.Fatal("SignAlg succeeded")
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	k, err := mint.GenerateKey("", 0)
	if err != nil {
		t.Fatal(err)
	}
	if bits := k.Private.N.BitLen(); bits != 2048 {
		t.Errorf("bits = %d, want 2048", bits)
	}
	// A SHA-256 thumbprint in unpadded base64url is 43 characters.
	if len(k.ID) != 43 {
		t.Errorf("kid %q is not a thumbprint", k.ID)
	}
	if k2 := jwkstest.NewKey(t, "", 2048); k2.ID == k.ID {
		t.Error("two keys share a thumbprint kid")
	}
}

func TestMarshalSetRoundTrip(t *testing.T) {
	a, b := jwkstest.NewKey(t, "a", 2048), jwkstest.NewKey(t, "b", 2048)
	set, err := mint.MarshalSet(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(set, &doc); err != nil {
		t.Fatal(err)
	}
	for _, m := range doc.Keys {
		if m["kty"] != "RSA" || m["use"] != "sig" || m["alg"] != "RS256" || len(m) != 6 {
			t.Errorf("published key = %v, want exactly kty, kid, use, alg, n, e", m)
		}
	}
	keys, err := jwks.ParseSet(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*mint.PrivateKey{a, b} {
		got, ok := keys[k.ID]
		if !ok || got.Alg != "RS256" || !got.Public.Equal(&k.Private.PublicKey) {
			t.Errorf("kid %q did not round-trip", k.ID)
		}
	}
}

func TestPrivateKeyRoundTrip(t *testing.T) {
	k := jwkstest.NewKey(t, "local", 2048)
	b, err := mint.MarshalPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mint.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "local" || !got.Private.Equal(k.Private) {
		t.Fatal("private key did not round-trip")
	}
	tok, err := mint.Sign(got, map[string]any{"sub": "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	verifyRS256(t, &k.Private.PublicKey, tok)
}

func TestParsePrivateKeyRefuses(t *testing.T) {
	k := jwkstest.NewKey(t, "local", 2048)
	small := jwkstest.NewKey(t, "small", 1024)
	priv := func(k *mint.PrivateKey) map[string]any { return jwkstest.PrivateJWK(t, k) }
	tests := []struct {
		name string
		jwk  map[string]any
	}{
		{"a public key is refused", jwkstest.PublicJWK(t, k)},
		{"a 1024-bit key is refused", priv(small)},
		{"a key without kid is refused", func() map[string]any { m := priv(k); delete(m, "kid"); return m }()},
		{"a key whose d does not match is refused", func() map[string]any { m := priv(k); m["d"] = priv(small)["d"]; return m }()},
		{"a key whose primes do not match n is refused", func() map[string]any { m := priv(k); m["n"] = jwkstest.PublicJWK(t, small)["n"]; return m }()},
		{"an EC key is refused", jwkstest.ECJWK(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := mint.ParsePrivateKey(jwkstest.JSON(t, tt.jwk)); err == nil {
				t.Fatal("ParsePrivateKey succeeded")
			}
		})
	}
	if _, err := mint.ParsePrivateKey([]byte("not json")); err == nil {
		t.Fatal("ParsePrivateKey accepted garbage")
	}
}
