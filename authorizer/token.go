package authorizer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rolegate/rolegate/jwks"
)

// MaxTokenBytes caps the JWT (after any "Bearer " prefix). Cognito ID tokens
// are a few KiB even with many groups; anything bigger is refused before any
// decoding work, so oversized input costs nothing.
const MaxTokenBytes = 8 << 10

// extractToken returns the JWT from authorizationToken: the bare JWT, or
// "Bearer <JWT>" with the scheme in any case and exactly one space. Anything
// else is refused; the JWT's own bytes are checked by parseJWS.
func extractToken(s string) (string, error) {
	if s == "" {
		return "", errNoToken
	}
	if len(s) > len("Bearer ")+MaxTokenBytes {
		return "", errTooLarge
	}
	tok := s
	if scheme, rest, found := strings.Cut(s, " "); found {
		if !strings.EqualFold(scheme, "Bearer") {
			return "", fmt.Errorf("%w: authorization scheme is not Bearer", errMalformed)
		}
		tok = rest
	}
	switch {
	case len(tok) > MaxTokenBytes:
		return "", errTooLarge
	case tok == "":
		return "", fmt.Errorf("%w: empty bearer token", errMalformed)
	}
	return tok, nil
}

// header is the JOSE header. Only alg and kid are used; the rest are read to be refused.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	// Keys come from the pool's JWKS only: a token naming its own key (jku, x5u,
	// jwk, x5c) is an attempt to choose its verifier, so its presence alone is refused.
	JKU present `json:"jku"`
	X5U present `json:"x5u"`
	JWK present `json:"jwk"`
	X5C present `json:"x5c"`
	// A crit header we do not understand must be rejected: RFC 7515 §4.1.11. We understand none.
	Crit present `json:"crit"`
}

// present records that a member was in the JSON, whatever its value (null included).
type present bool

// UnmarshalJSON implements json.Unmarshaler.
func (p *present) UnmarshalJSON([]byte) error {
	*p = true
	return nil
}

// jws is a compact JWS split into its parts. payload is the decoded claims JSON;
// signed is "header.payload" as received, the exact bytes the signature covers.
type jws struct {
	header  header
	signed  []byte
	payload []byte
	sig     []byte
}

// b64 is base64url without padding, strict: non-zero trailing bits are refused,
// so each part has exactly one encoding and a token cannot be re-spelled.
var b64 = base64.RawURLEncoding.Strict()

// parseJWS splits tok into a compact JWS and decodes its parts. An empty
// signature is left for checkHeader: "alg":"none" is an algorithm problem.
func parseJWS(tok []byte) (*jws, error) {
	h, rest, _ := bytes.Cut(tok, []byte("."))
	p, s, found := bytes.Cut(rest, []byte("."))
	if !found || bytes.Contains(s, []byte(".")) {
		return nil, fmt.Errorf("%w: not three parts", errMalformed)
	}
	if len(h) == 0 || len(p) == 0 {
		return nil, fmt.Errorf("%w: empty part", errMalformed)
	}
	j := &jws{signed: tok[:len(h)+1+len(p)]}
	hb, err := decodePart(h)
	if err == nil {
		err = json.Unmarshal(hb, &j.header)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", errMalformed, err)
	}
	if j.payload, err = decodePart(p); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", errMalformed, err)
	}
	if j.sig, err = decodePart(s); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", errMalformed, err)
	}
	return j, nil
}

// decodePart decodes one base64url part strictly.
func decodePart(s []byte) ([]byte, error) {
	b, err := b64.AppendDecode(nil, s)
	if err != nil {
		return nil, err
	}
	// The strict decoder refuses every byte outside the base64url alphabet but
	// skips '\r' and '\n', which would let a re-spelled token decode the same.
	// Such a part decodes to fewer bytes than its length implies.
	if b64.EncodedLen(len(b)) != len(s) {
		return nil, errors.New("line break")
	}
	return b, nil
}

// checkHeader applies the header rules that need no key.
func (j *jws) checkHeader() error {
	h := &j.header
	if h.Crit || h.JKU || h.X5U || h.JWK || h.X5C {
		return errForbiddenHeader
	}
	// Only RS256: refuses none, HS256 with the public key as secret (key confusion), and everything else.
	if h.Alg != "RS256" {
		return errAlgorithm
	}
	if h.Kid == "" {
		return fmt.Errorf("%w: no kid", errUnknownKey)
	}
	if len(j.sig) == 0 {
		return fmt.Errorf("%w: empty signature", errMalformed)
	}
	return nil
}

// verify checks the RS256 signature with the pool key named by kid.
func (j *jws) verify(ctx context.Context, keys KeySource) error {
	k, err := keys.Key(ctx, j.header.Kid)
	switch {
	case errors.Is(err, jwks.ErrKeyNotFound):
		return fmt.Errorf("%w: %w", errUnknownKey, err)
	case err != nil:
		// Unavailable keys, a cancelled context, anything else: our problem, never the token's.
		return fmt.Errorf("%w: %w", errKeysUnavailable, err)
	case k == nil || k.Public == nil || k.Public.N == nil:
		return fmt.Errorf("%w: key source returned no key", errKeysUnavailable)
	}
	// The JWK's alg, when it has one, must match the token's: RFC 7517 §4.4.
	if k.Alg != "" && k.Alg != j.header.Alg {
		return fmt.Errorf("%w: the key's alg differs", errAlgorithm)
	}
	if k.Public.N.BitLen() < 2048 {
		return fmt.Errorf("%w: key under 2048 bits", errUnknownKey)
	}
	// Exactly the modulus length: no leading-zero re-spellings of one signature.
	if len(j.sig) != k.Public.Size() {
		return fmt.Errorf("%w: signature length", errBadSignature)
	}
	sum := sha256.Sum256(j.signed)
	if rsa.VerifyPKCS1v15(k.Public, crypto.SHA256, sum[:], j.sig) != nil {
		return errBadSignature
	}
	return nil
}
