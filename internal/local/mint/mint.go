// Package mint makes what an identity provider holds and rolegate never does:
// RSA signing keys, the public key sets that publish them, and tokens signed
// with them. Tests (through jwks/jwkstest) and the local stack use it; the
// Lambda functions never link it.
package mint

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// PrivateKey is a signing key minted for local runs and tests.
type PrivateKey struct {
	ID      string
	Private *rsa.PrivateKey
}

// GenerateKey makes a new RSA key. bits 0 means 2048. An empty kid becomes the key's RFC 7638 SHA-256 thumbprint,
// base64url, which is how many providers name their keys.
func GenerateKey(kid string, bits int) (*PrivateKey, error) {
	if bits == 0 {
		bits = MinModulusBits
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("mint: generating a %d-bit key: %w", bits, err)
	}
	if kid == "" {
		if kid, err = thumbprint(&priv.PublicKey); err != nil {
			return nil, err
		}
	}
	return &PrivateKey{ID: kid, Private: priv}, nil
}

func thumbprint(pub *rsa.PublicKey) (string, error) {
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// MarshalSet returns the public JWKS of keys, as a provider publishes it:
// {"keys":[{"alg":"RS256","e":…,"kid":…,"kty":"RSA","n":…,"use":"sig"},…]}.
func MarshalSet(keys ...*PrivateKey) ([]byte, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		pk, err := publicJWK(k.ID, &k.Private.PublicKey)
		if err != nil {
			return nil, err
		}
		if err := set.AddKey(pk); err != nil {
			return nil, fmt.Errorf("mint: %w", err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("mint: marshaling key set: %w", err)
	}
	return b, nil
}

// PublicJWK returns k's public key as one JWK (kid, use "sig", alg RS256).
func (k *PrivateKey) PublicJWK() ([]byte, error) {
	pk, err := publicJWK(k.ID, &k.Private.PublicKey)
	if err != nil {
		return nil, err
	}
	return json.Marshal(pk)
}

func publicJWK(kid string, pub *rsa.PublicKey) (jwk.Key, error) {
	pk, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, fmt.Errorf("mint: %w", err)
	}
	if err := setSigFields(pk, kid); err != nil {
		return nil, err
	}
	return pk, nil
}

func setSigFields(k jwk.Key, kid string) error {
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.KeyUsageKey: jwk.ForSignature, jwk.AlgorithmKey: jwa.RS256} {
		if name == jwk.KeyIDKey && kid == "" {
			continue
		}
		if err := k.Set(name, v); err != nil {
			return fmt.Errorf("mint: setting %s: %w", name, err)
		}
	}
	return nil
}

// MarshalPrivateKey returns k as a private JWK (JSON), so that a local stack and `make token` can share one key.
// The result is secret: whoever holds it can mint tokens the local stack accepts.
func MarshalPrivateKey(k *PrivateKey) ([]byte, error) {
	pk, err := jwk.FromRaw(k.Private)
	if err != nil {
		return nil, fmt.Errorf("mint: %w", err)
	}
	if err := setSigFields(pk, k.ID); err != nil {
		return nil, err
	}
	b, err := json.Marshal(pk)
	if err != nil {
		return nil, fmt.Errorf("mint: marshaling private key: %w", err)
	}
	return b, nil
}

// ParsePrivateKey reads a private JWK written by MarshalPrivateKey. The key must be RSA of at least 2048 bits, with
// a kid, and pass crypto/rsa's consistency check.
func ParsePrivateKey(b []byte) (*PrivateKey, error) {
	key, err := jwk.ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("mint: parsing private key: %w", err)
	}
	if _, ok := key.(jwk.RSAPrivateKey); !ok {
		return nil, errors.New("mint: parsing private key: not an RSA private key")
	}
	if key.KeyID() == "" {
		return nil, errors.New("mint: parsing private key: kid missing or empty")
	}
	var priv rsa.PrivateKey
	if err := key.Raw(&priv); err != nil {
		return nil, fmt.Errorf("mint: parsing private key: %w", err)
	}
	if priv.N.BitLen() < MinModulusBits {
		return nil, fmt.Errorf("mint: parsing private key: modulus under %d bits", MinModulusBits)
	}
	// Recompute CRT values from the primes rather than trust the file's, then check it all fits together.
	priv.Precomputed = rsa.PrecomputedValues{}
	priv.Precompute()
	if err := priv.Validate(); err != nil {
		return nil, fmt.Errorf("mint: parsing private key: %w", err)
	}
	return &PrivateKey{ID: key.KeyID(), Private: &priv}, nil
}

// Sign returns an RS256 compact JWS of claims signed by k, with protected header {"alg":"RS256","kid":k.ID,
// "typ":"JWT"} plus extraHeaders.
//
// claims is marshaled with encoding/json, except []byte and json.RawMessage, which are used as the payload verbatim
// (for hostile payloads such as a string exp). In extraHeaders a nil value removes a header (kid or typ), other values
// are added or override; a *PrivateKey or *rsa.PublicKey value becomes its public JWK (for a "jwk" header). "alg"
// cannot be set here: use SignAlg.
func Sign(k *PrivateKey, claims any, extraHeaders map[string]any) (string, error) {
	return SignAlg(k, jwa.RS256.String(), claims, extraHeaders)
}

// SignAlg is Sign with another RSA algorithm (RS384, RS512, PS256, PS384, PS512), for tokens that carry a real
// signature by the right key under an algorithm the authorizer must refuse.
func SignAlg(k *PrivateKey, alg string, claims any, extraHeaders map[string]any) (string, error) {
	switch jwa.SignatureAlgorithm(alg) {
	case jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512:
	default:
		return "", fmt.Errorf("mint: sign: %q is not an RSA signature algorithm", alg)
	}
	payload, err := payloadOf(claims)
	if err != nil {
		return "", err
	}
	hdr, err := protectedHeaders(k.ID, extraHeaders)
	if err != nil {
		return "", err
	}
	tok, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg), k.Private, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("mint: sign: %w", err)
	}
	return string(tok), nil
}

func payloadOf(claims any) ([]byte, error) {
	switch c := claims.(type) {
	case []byte:
		return c, nil
	case json.RawMessage:
		return c, nil
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("mint: sign: marshaling claims: %w", err)
	}
	return b, nil
}

// protectedHeaders goes through JSON so that jwx types each registered header (crit, jwk, x5c…) as it would when
// parsing a token, whatever Go type the caller used.
func protectedHeaders(kid string, extra map[string]any) (jws.Headers, error) {
	m := map[string]any{jws.KeyIDKey: kid, jws.TypeKey: "JWT"}
	for name, v := range extra {
		switch v := v.(type) {
		case nil:
			delete(m, name)
			continue
		case *PrivateKey:
			b, err := v.PublicJWK()
			if err != nil {
				return nil, err
			}
			m[name] = json.RawMessage(b)
			continue
		case *rsa.PublicKey:
			pk, err := publicJWK("", v)
			if err != nil {
				return nil, err
			}
			m[name] = pk
			continue
		}
		if name == jws.AlgorithmKey {
			return nil, errors.New(`mint: sign: "alg" is set by the algorithm; use SignAlg`)
		}
		m[name] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("mint: sign: marshaling headers: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := json.Unmarshal(b, hdr); err != nil {
		return nil, fmt.Errorf("mint: sign: headers: %w", err)
	}
	return hdr, nil
}

// MinModulusBits is the modulus GenerateKey mints by default and the smallest ParsePrivateKey accepts: jwks
// refuses smaller keys, which tests mint on purpose.
const MinModulusBits = 2048
