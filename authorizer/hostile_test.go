package authorizer_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/rolegate/rolegate/internal/local/mint"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

// The hostile mints only these tests use, built by hand from exact bytes: the point is to produce what no
// well-behaved library would. (jwkstest keeps the core of a pool, and the alg none and HS256 mints other
// packages' tests use too.)

// mintRaw signs the exact header and payload bytes with RS256 under k, whatever they say: a header claiming
// another alg, a numeric kid, a duplicated member, a string exp…
func mintRaw(t testing.TB, k *mint.PrivateKey, header, payload []byte) string {
	t.Helper()
	signing := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.Private, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + b64.EncodeToString(sig)
}

// mintAlg signs claims with the pool's current key under another RSA algorithm (RS384, RS512, PS256…): a
// genuine signature the authorizer must still refuse, because only RS256 is allowed.
func mintAlg(t testing.TB, iss *jwkstest.Issuer, alg string, claims map[string]any) string {
	t.Helper()
	tok, err := mint.SignAlg(iss.Key(), alg, claims, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// publicKeyPEM is the pool's current public key as a PEM "PUBLIC KEY" block: the bytes a key-confusion attack
// uses as an HMAC secret.
func publicKeyPEM(t testing.TB, iss *jwkstest.Issuer) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&iss.Key().Private.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
