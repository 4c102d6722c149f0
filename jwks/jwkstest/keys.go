package jwkstest

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/rolegate/rolegate/internal/local/mint"
)

// NewKey mints an RSA key of bits bits (0: 2048) named kid (empty: its thumbprint).
func NewKey(t testing.TB, kid string, bits int) *mint.PrivateKey {
	t.Helper()
	k, err := mint.GenerateKey(kid, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// PublicJWK returns k's public JWK as a map to edit.
func PublicJWK(t testing.TB, k *mint.PrivateKey) map[string]any {
	t.Helper()
	b, err := k.PublicJWK()
	return jsonMap(t, b, err)
}

// PrivateJWK returns k's private JWK as a map to edit.
func PrivateJWK(t testing.TB, k *mint.PrivateKey) map[string]any {
	t.Helper()
	b, err := mint.MarshalPrivateKey(k)
	return jsonMap(t, b, err)
}

// ECJWK returns a P-256 signing JWK: a key of a type rolegate refuses.
func ECJWK(t testing.TB) map[string]any {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pt := priv.PublicKey().Bytes() // 0x04 || X || Y
	b64 := base64.RawURLEncoding
	return map[string]any{"kty": "EC", "crv": "P-256", "kid": "ec", "use": "sig", "alg": "ES256",
		"x": b64.EncodeToString(pt[1:33]), "y": b64.EncodeToString(pt[33:])}
}

// JSON marshals v, failing t on error.
func JSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonMap(t testing.TB, b []byte, err error) map[string]any {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
