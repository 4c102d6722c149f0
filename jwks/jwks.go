// Package jwks fetches, parses and caches the JSON Web Key Set of an identity provider (Amazon Cognito).
//
// It only ever hands out RSA signature keys fit for RS256 with a modulus of at least 2048 bits; every other key in a
// set is skipped, and a set without one usable key is an error. Keys come only from the URLs a Cache was built with:
// it never sees a token, so nothing a token names (jku, x5u, jwk, x5c) can send it elsewhere, and it follows no
// redirect. It holds no private keys and signs nothing (minting lives in internal/local/mint, for tests and local runs).
// Besides internal/local/mint, it is the only package in rolegate that imports github.com/lestrrat-go/jwx (jwk and jwa:
// keys, never JWS).
package jwks

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// ErrKeyNotFound means the key set we hold (refetched if the penalty box allowed it) has no key with the token's kid:
// the token is bad, which the authorizer answers with 401.
var ErrKeyNotFound = errors.New("jwks: no usable key with this kid")

// ErrUnavailable means no key set could ever be obtained: our problem, which the authorizer answers with 500, never
// with a 401 that would tell a valid user their token is bad.
var ErrUnavailable = errors.New("jwks: key set unavailable")

// ErrNoUsableKey means a key set parsed but none of its keys passed the key rules.
var ErrNoUsableKey = errors.New("jwks: key set has no usable key")

// Key is a verified-usable public key: RSA, use "sig" or absent, alg RS256 or absent, a modulus of 2048 to 8192
// bits and an odd public exponent from 3 to 2³¹-1. Keys are shared between callers and must not be modified.
type Key struct {
	ID     string
	Alg    string // "RS256", or "" when the JWK has no alg
	Public *rsa.PublicKey
}

const (
	minModulusBits = 2048
	// A bigger modulus only adds verification cost; no identity provider we serve publishes one.
	maxModulusBits = 8192
	maxExponent    = 1<<31 - 1 // crypto/rsa's own limit
)

// Reasons a key in a set is skipped. They are unexported: callers only see the keys that pass.
var (
	errMalformed  = errors.New("not a parsable JWK")
	errNotRSA     = errors.New("kty is not RSA")
	errPrivate    = errors.New("private key material published in a key set")
	errNoKid      = errors.New("kid missing or empty")
	errUse        = errors.New(`use is not "sig"`)
	errAlg        = errors.New("alg is not RS256")
	errKeyOps     = errors.New(`key_ops does not allow "verify"`)
	errExponent   = errors.New("public exponent not an odd number from 3 to 2^31-1")
	errModulus    = errors.New("modulus not an odd number of 2048 to 8192 bits")
	errNoKeysList = errors.New(`no "keys" array`)
)

// ParseSet parses JWKS JSON into the usable keys it holds, by kid. Unusable keys are skipped. Zero usable keys is
// an error wrapping ErrNoUsableKey.
//
// Duplicate kids: identical copies collapse into one key, but a kid published with two different keys is dropped
// altogether. Keeping "the first" would make the outcome depend on the order of an ambiguous document; refusing the
// kid fails closed, and the provider's other keys stay usable.
func ParseSet(b []byte) (map[string]*Key, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("jwks: decoding key set: %w", err)
	}
	if doc.Keys == nil {
		return nil, fmt.Errorf("jwks: decoding key set: %w", errNoKeysList)
	}
	keys := make(map[string]*Key, len(doc.Keys))
	conflicted := map[string]bool{}
	for _, raw := range doc.Keys {
		k, err := parseKey(raw)
		switch {
		case err != nil || conflicted[k.ID]:
		case keys[k.ID] == nil:
			keys[k.ID] = k
		case keys[k.ID].Alg != k.Alg || !keys[k.ID].Public.Equal(k.Public):
			delete(keys, k.ID)
			conflicted[k.ID] = true
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w (%d keys, all skipped)", ErrNoUsableKey, len(doc.Keys))
	}
	return keys, nil
}

// parseKey applies the key rules to one JWK.
func parseKey(raw []byte) (*Key, error) {
	key, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	if key.KeyType() != jwa.RSA {
		return nil, errNotRSA
	}
	pub, ok := key.(jwk.RSAPublicKey)
	if !ok {
		// Whoever can read the set can sign with this key: it proves nothing.
		return nil, errPrivate
	}
	kid := key.KeyID()
	if kid == "" {
		return nil, errNoKid
	}
	// Present-but-empty counts as present: "" is neither "sig" nor absent.
	if _, ok := key.Get(jwk.KeyUsageKey); ok && key.KeyUsage() != string(jwk.ForSignature) {
		return nil, errUse
	}
	alg := ""
	if _, ok := key.Get(jwk.AlgorithmKey); ok {
		alg = key.Algorithm().String()
		if alg != jwa.RS256.String() {
			return nil, errAlg
		}
	}
	if _, ok := key.Get(jwk.KeyOpsKey); ok && !slices.Contains(key.KeyOps(), jwk.KeyOpVerify) {
		return nil, errKeyOps
	}
	// jwx folds e into an int64 without a range check, so a long e must be refused before Raw truncates it.
	if e := bytes.TrimLeft(pub.E(), "\x00"); len(e) == 0 || len(e) > 4 {
		return nil, errExponent
	}
	var rk rsa.PublicKey
	if err := key.Raw(&rk); err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	if rk.E < 3 || rk.E > maxExponent || rk.E%2 == 0 {
		return nil, errExponent
	}
	if bits := rk.N.BitLen(); bits < minModulusBits || bits > maxModulusBits || rk.N.Bit(0) == 0 {
		return nil, errModulus
	}
	return &Key{ID: kid, Alg: alg, Public: &rk}, nil
}
