package jwks_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"

	"github.com/rolegate/rolegate/internal/local/mint"
	"github.com/rolegate/rolegate/jwks"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

var b64 = base64.RawURLEncoding

// modulus returns a base64url number of exactly bits bits, odd unless even is set. It need not be a product of
// two primes: the key rules look at size and parity, and verification against it simply fails.
func modulus(t testing.TB, bits int, even bool) string {
	t.Helper()
	b := make([]byte, (bits+7)/8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	n := new(big.Int).SetBytes(b)
	n.SetBit(n, bits-1, 1)
	for i := bits; i < len(b)*8; i++ {
		n.SetBit(n, i, 0)
	}
	if even {
		n.SetBit(n, 0, 0)
	} else {
		n.SetBit(n, 0, 1)
	}
	return b64.EncodeToString(n.FillBytes(make([]byte, len(b))))
}

func exponent(e []byte) string { return b64.EncodeToString(e) }

func TestParseKeyRules(t *testing.T) {
	good := jwkstest.NewKey(t, "good", 2048)
	small := jwkstest.NewKey(t, "small", 1024)
	other := jwkstest.PublicJWK(t, jwkstest.NewKey(t, "other", 2048))
	tests := []struct {
		name    string
		jwk     func() map[string]any
		wantErr error // nil: usable
		wantAlg string
	}{
		{"a complete RS256 signing key is usable", func() map[string]any { return jwkstest.PublicJWK(t, good) }, nil, "RS256"},
		{"a key without use is usable", edit(t, good, func(m map[string]any) { delete(m, "use") }), nil, "RS256"},
		{"a key without alg is usable with an empty Alg", edit(t, good, func(m map[string]any) { delete(m, "alg") }), nil, ""},
		{"key_ops that allow verify are usable", edit(t, good, func(m map[string]any) { m["key_ops"] = []string{"verify"} }), nil, "RS256"},
		{"unknown members are ignored", edit(t, good, func(m map[string]any) { m["x-note"] = "hello" }), nil, "RS256"},
		{"a 4096-bit modulus is usable", edit(t, good, func(m map[string]any) { m["n"] = modulus(t, 4096, false) }), nil, "RS256"},
		{"an 8192-bit modulus is usable", edit(t, good, func(m map[string]any) { m["n"] = modulus(t, 8192, false) }), nil, "RS256"},
		{"exponent 3 is usable", edit(t, good, func(m map[string]any) { m["e"] = exponent([]byte{3}) }), nil, "RS256"},
		{"an exponent with leading zero bytes is usable", edit(t, good, func(m map[string]any) { m["e"] = exponent([]byte{0, 0, 0, 0, 1, 0, 1}) }), nil, "RS256"},
		{"the largest exponent crypto/rsa takes is usable", edit(t, good, func(m map[string]any) { m["e"] = exponent([]byte{0x7f, 0xff, 0xff, 0xff}) }), nil, "RS256"},

		{"an EC key is refused", func() map[string]any { return jwkstest.ECJWK(t) }, jwks.ErrNotRSA, ""},
		{"a symmetric key is refused", func() map[string]any {
			return map[string]any{"kty": "oct", "kid": "hmac", "k": b64.EncodeToString([]byte("secretsecretsecretsecret"))}
		}, jwks.ErrNotRSA, ""},
		{"a published private key is refused", func() map[string]any { return jwkstest.PrivateJWK(t, good) }, jwks.ErrPrivate, ""},
		{"a key without kid is refused", edit(t, good, func(m map[string]any) { delete(m, "kid") }), jwks.ErrNoKid, ""},
		{"a key with an empty kid is refused", edit(t, good, func(m map[string]any) { m["kid"] = "" }), jwks.ErrNoKid, ""},
		{"a numeric kid is refused", edit(t, good, func(m map[string]any) { m["kid"] = 7 }), jwks.ErrMalformed, ""},
		{"use enc is refused", edit(t, good, func(m map[string]any) { m["use"] = "enc" }), jwks.ErrUse, ""},
		{"an empty use is refused", edit(t, good, func(m map[string]any) { m["use"] = "" }), jwks.ErrUse, ""},
		{"alg RS512 is refused", edit(t, good, func(m map[string]any) { m["alg"] = "RS512" }), jwks.ErrAlg, ""},
		{"alg PS256 is refused", edit(t, good, func(m map[string]any) { m["alg"] = "PS256" }), jwks.ErrAlg, ""},
		{"alg HS256 on an RSA key is refused", edit(t, good, func(m map[string]any) { m["alg"] = "HS256" }), jwks.ErrAlg, ""},
		{"alg none is refused", edit(t, good, func(m map[string]any) { m["alg"] = "none" }), jwks.ErrAlg, ""},
		{"an empty alg is refused", edit(t, good, func(m map[string]any) { m["alg"] = "" }), jwks.ErrAlg, ""},
		{"a lowercase alg is refused", edit(t, good, func(m map[string]any) { m["alg"] = "rs256" }), jwks.ErrAlg, ""},
		{"key_ops without verify are refused", edit(t, good, func(m map[string]any) { m["key_ops"] = []string{"encrypt"} }), jwks.ErrKeyOps, ""},
		{"a 1024-bit key is refused", func() map[string]any { return jwkstest.PublicJWK(t, small) }, jwks.ErrModulus, ""},
		{"a 2047-bit modulus is refused", edit(t, good, func(m map[string]any) { m["n"] = modulus(t, 2047, false) }), jwks.ErrModulus, ""},
		{"a modulus over 8192 bits is refused", edit(t, good, func(m map[string]any) { m["n"] = modulus(t, 8193, false) }), jwks.ErrModulus, ""},
		{"an even modulus is refused", edit(t, good, func(m map[string]any) { m["n"] = modulus(t, 2048, true) }), jwks.ErrModulus, ""},
		{"exponent 1 is refused", edit(t, good, func(m map[string]any) { m["e"] = exponent([]byte{1}) }), jwks.ErrExponent, ""},
		{"an even exponent is refused", edit(t, good, func(m map[string]any) { m["e"] = exponent([]byte{1, 0, 0}) }), jwks.ErrExponent, ""},
		{"a zero exponent is refused", edit(t, good, func(m map[string]any) { m["e"] = exponent([]byte{0}) }), jwks.ErrExponent, ""},
		{"an empty exponent is refused", edit(t, good, func(m map[string]any) { m["e"] = "" }), jwks.ErrExponent, ""},
		{"an exponent of 2^31+1 is refused", edit(t, good, func(m map[string]any) { m["e"] = exponent([]byte{0x80, 0, 0, 1}) }), jwks.ErrExponent, ""},
		{"an exponent that would truncate to 65537 is refused", edit(t, good, func(m map[string]any) {
			m["e"] = exponent([]byte{1, 0, 0, 0, 0, 0, 1, 0, 1})
		}), jwks.ErrExponent, ""},
		{"a key without n is refused", edit(t, good, func(m map[string]any) { delete(m, "n") }), jwks.ErrMalformed, ""},
		{"a key with n not in base64url is refused", edit(t, good, func(m map[string]any) { m["n"] = "!!!" }), jwks.ErrMalformed, ""},
		{"a key without kty is refused", edit(t, good, func(m map[string]any) { delete(m, "kty") }), jwks.ErrMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.jwk()
			raw := jwkstest.JSON(t, m)
			k, err := jwks.ParseKey(raw)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseKey error = %v, want %v", err, tt.wantErr)
				}
				if k != nil {
					t.Fatalf("ParseKey returned a key along with an error")
				}
			} else {
				if err != nil {
					t.Fatalf("ParseKey: %v", err)
				}
				if k.ID != m["kid"] || k.Alg != tt.wantAlg || k.Public == nil {
					t.Fatalf("key = {%q %q %v}, want kid %q alg %q", k.ID, k.Alg, k.Public != nil, m["kid"], tt.wantAlg)
				}
			}

			// In a set beside a good key, the key is kept or skipped without spoiling the set.
			set := jwkstest.JSON(t, map[string]any{"keys": []any{m, other}})
			keys, err := jwks.ParseSet(set)
			if err != nil {
				t.Fatalf("ParseSet: %v", err)
			}
			if _, ok := keys[other["kid"].(string)]; !ok {
				t.Fatal("the good key was not kept")
			}
			kid, _ := m["kid"].(string)
			if _, ok := keys[kid]; ok != (tt.wantErr == nil) {
				t.Fatalf("kid %q in set = %v, want %v", kid, ok, tt.wantErr == nil)
			}
		})
	}
}

// edit returns a JWK builder: k's public JWK changed by f.
func edit(t testing.TB, k *mint.PrivateKey, f func(map[string]any)) func() map[string]any {
	return func() map[string]any {
		m := jwkstest.PublicJWK(t, k)
		f(m)
		return m
	}
}

func TestParseSet(t *testing.T) {
	a, b := jwkstest.NewKey(t, "a", 2048), jwkstest.NewKey(t, "b", 2048)
	small := jwkstest.NewKey(t, "small", 1024)
	ja, jb := jwkstest.PublicJWK(t, a), jwkstest.PublicJWK(t, b)
	bAsA := jwkstest.PublicJWK(t, b)
	bAsA["kid"] = "a"
	tests := []struct {
		name     string
		body     []byte
		wantKids []string // nil: an error
		wantErr  error    // checked with errors.Is when set
	}{
		{"a set of two keys gives both", jwkstest.JSON(t, map[string]any{"keys": []any{ja, jb}}), []string{"a", "b"}, nil},
		{"a set with extra members is read", jwkstest.JSON(t, map[string]any{"keys": []any{ja}, "note": 1}), []string{"a"}, nil},
		{"the same key twice under one kid is kept once", jwkstest.JSON(t, map[string]any{"keys": []any{ja, ja}}), []string{"a"}, nil},
		{"one kid for two different keys drops that kid and keeps the rest",
			jwkstest.JSON(t, map[string]any{"keys": []any{ja, bAsA, jb}}), []string{"b"}, nil},
		{"a conflicting kid stays dropped when it appears a third time",
			jwkstest.JSON(t, map[string]any{"keys": []any{ja, bAsA, ja, jb}}), []string{"b"}, nil},
		{"an empty key list has no usable key", []byte(`{"keys":[]}`), nil, jwks.ErrNoUsableKey},
		{"a set of unusable keys has no usable key", jwkstest.JSON(t, map[string]any{"keys": []any{jwkstest.PublicJWK(t, small), jwkstest.ECJWK(t)}}), nil, jwks.ErrNoUsableKey},
		{"only a conflicting kid leaves no usable key", jwkstest.JSON(t, map[string]any{"keys": []any{ja, bAsA}}), nil, jwks.ErrNoUsableKey},
		{"a set of non-objects has no usable key", []byte(`{"keys":[1,"x",null,[]]}`), nil, jwks.ErrNoUsableKey},
		{"a missing keys member is an error", []byte(`{"kty":"RSA"}`), nil, nil},
		{"keys null is an error", []byte(`{"keys":null}`), nil, nil},
		{"keys as an object is an error", []byte(`{"keys":{}}`), nil, nil},
		{"a JSON array is an error", []byte(`[]`), nil, nil},
		{"garbage is an error", []byte(`<html>Service Unavailable</html>`), nil, nil},
		{"truncated JSON is an error", jwkstest.JSON(t, map[string]any{"keys": []any{ja}})[:100], nil, nil},
		{"an empty body is an error", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := jwks.ParseSet(tt.body)
			if tt.wantKids == nil {
				if err == nil {
					t.Fatalf("ParseSet = %d keys, want an error", len(keys))
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseSet error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSet: %v", err)
			}
			if len(keys) != len(tt.wantKids) {
				t.Fatalf("ParseSet = %d keys, want %v", len(keys), tt.wantKids)
			}
			for _, kid := range tt.wantKids {
				k, ok := keys[kid]
				if !ok || k.ID != kid {
					t.Fatalf("kid %q missing", kid)
				}
			}
			if k, ok := keys["a"]; ok && !k.Public.Equal(&a.Private.PublicKey) {
				t.Fatal(`kid "a" holds the wrong key`)
			}
		})
	}
}

// FuzzParseSet: bytes from the network never panic the parser, and whatever it returns obeys the key rules.
func FuzzParseSet(f *testing.F) {
	k := jwkstest.NewKey(f, "seed", 2048)
	set, err := mint.MarshalSet(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(set)
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"x","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"x","alg":"RS256","use":"sig","key_ops":["verify"],"n":"` +
		modulus(f, 2048, false) + `","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},{"kty":"oct","k":"AA"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := jwks.ParseSet(b)
		if err != nil {
			if keys != nil {
				t.Fatal("keys returned with an error")
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("no error for a set without usable keys")
		}
		for kid, k := range keys {
			if kid == "" || k.ID != kid {
				t.Fatalf("key filed under %q has ID %q", kid, k.ID)
			}
			if k.Alg != "" && k.Alg != "RS256" {
				t.Fatalf("alg %q", k.Alg)
			}
			if k.Public == nil || k.Public.N == nil {
				t.Fatal("no public key")
			}
			if bits := k.Public.N.BitLen(); bits < 2048 || bits > 8192 || k.Public.N.Bit(0) == 0 {
				t.Fatalf("modulus of %d bits, odd %v", bits, k.Public.N.Bit(0) == 1)
			}
			if e := k.Public.E; e < 3 || e > 1<<31-1 || e%2 == 0 {
				t.Fatalf("exponent %d", e)
			}
		}
	})
}
