package authorizer

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

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
		return "", ErrNoToken
	}
	if len(s) > MaxTokenBytes+len("Bearer ") {
		return "", ErrTooLarge
	}
	scheme, tok, found := strings.Cut(s, " ")
	if !found {
		tok = s
	} else if !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: authorization scheme is not Bearer", ErrMalformed)
	}
	if len(tok) > MaxTokenBytes {
		return "", ErrTooLarge
	}
	if tok == "" {
		return "", fmt.Errorf("%w: empty bearer token", ErrMalformed)
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

// UnmarshalJSON implements json.Unmarshaler (encoding/json; v2 uses UnmarshalJSONFrom).
func (p *present) UnmarshalJSON([]byte) error {
	*p = true
	return nil
}

// jws is a compact JWS split into its parts. payload is the decoded claims JSON;
// signed is "header.payload" as received, the exact bytes the signature covers.
type jws struct {
	header  header
	signed  string
	payload []byte
	sig     []byte
}

// b64 is base64url without padding, strict: non-zero trailing bits are refused,
// so each part has exactly one encoding and a token cannot be re-spelled.
var b64 = base64.RawURLEncoding.Strict()

// jwsParser splits compact JWSs and decodes their parts. It remembers the
// last header it decoded: a pool signs every token with its current key, so
// consecutive tokens carry byte-identical headers, and comparing one costs
// far less than decoding it again.
type jwsParser struct {
	last atomic.Pointer[knownHeader]
}

// knownHeader is a header's text as received and what it decodes to.
type knownHeader struct {
	text   string
	header header
}

// parse splits tok into a compact JWS and decodes its parts.
func (jp *jwsParser) parse(tok string) (jws, error) {
	var j jws
	h := strings.IndexByte(tok, '.')
	p := h + 1 + strings.IndexByte(tok[h+1:], '.')
	if h < 0 || p == h || strings.IndexByte(tok[p+1:], '.') >= 0 {
		return j, fmt.Errorf("%w: not three parts", ErrMalformed)
	}
	// An empty signature is left for checkHeader to refuse: "alg":"none" is an algorithm problem.
	if h == 0 || p == h+1 {
		return j, fmt.Errorf("%w: empty part", ErrMalformed)
	}
	var err error
	if j.header, err = jp.header(tok[:h]); err != nil {
		return j, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	// One buffer for the payload and the signature, decoded straight from tok.
	buf := make([]byte, b64.DecodedLen(p-h-1)+b64.DecodedLen(len(tok)-p-1))
	if j.payload, err = decodePart(&buf, tok[h+1:p]); err != nil {
		return j, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	if j.sig, err = decodePart(&buf, tok[p+1:]); err != nil {
		return j, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	j.signed = tok[:p]
	return j, nil
}

// header decodes a header part. Decoding is a pure function of the text, so
// the remembered result is exactly what decoding again would give.
func (jp *jwsParser) header(text string) (header, error) {
	if k := jp.last.Load(); k != nil && k.text == text {
		return k.header, nil
	}
	var h header
	buf := make([]byte, b64.DecodedLen(len(text)))
	b, err := decodePart(&buf, text)
	if err != nil {
		return h, err
	}
	if err := unmarshal(b, &h); err != nil {
		return h, err
	}
	// A clone, not a slice of the token, which would keep all of it alive.
	jp.last.Store(&knownHeader{text: strings.Clone(text), header: h})
	return h, nil
}

// errLineBreak is why a part holding '\r' or '\n' is refused.
var errLineBreak = errors.New("line break")

// decodePart decodes src into the front of *buf and advances *buf past it.
func decodePart(buf *[]byte, src string) ([]byte, error) {
	n, err := b64.Decode(*buf, []byte(src)) // no copy: the compiler sees Decode only reads src
	if err != nil {
		return nil, err
	}
	// The strict decoder refuses every byte outside the base64url alphabet but
	// skips '\r' and '\n', which would let a re-spelled token decode the same.
	// Such a part decodes to fewer bytes than its length implies.
	if b64.EncodedLen(n) != len(src) {
		return nil, errLineBreak
	}
	out := (*buf)[:n:n]
	*buf = (*buf)[n:]
	return out, nil
}

// checkHeader applies the header rules that need no key.
func (j *jws) checkHeader() error {
	h := &j.header
	if h.Crit || h.JKU || h.X5U || h.JWK || h.X5C {
		return ErrForbiddenHeader
	}
	// Only RS256: refuses none, HS256 with the public key as secret (key confusion), and everything else.
	if h.Alg != "RS256" {
		return ErrAlgorithm
	}
	if h.Kid == "" {
		return fmt.Errorf("%w: no kid", ErrUnknownKey)
	}
	if len(j.sig) == 0 {
		return fmt.Errorf("%w: empty signature", ErrMalformed)
	}
	return nil
}

// verify checks the RS256 signature with the pool key named by kid.
func (j *jws) verify(ctx context.Context, keys KeySource) error {
	k, err := keys.Key(ctx, j.header.Kid)
	switch {
	case errors.Is(err, jwks.ErrKeyNotFound):
		return fmt.Errorf("%w: %w", ErrUnknownKey, err)
	case err != nil:
		// Unavailable keys, a cancelled context, anything else: our problem, never the token's.
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	case k == nil || k.Public == nil || k.Public.N == nil:
		return fmt.Errorf("%w: key source returned no key", ErrKeysUnavailable)
	}
	// The JWK's alg, when it has one, must match the token's: RFC 7517 §4.4.
	if k.Alg != "" && k.Alg != j.header.Alg {
		return fmt.Errorf("%w: the key's alg differs", ErrAlgorithm)
	}
	if k.Public.N.BitLen() < 2048 {
		return fmt.Errorf("%w: key under 2048 bits", ErrUnknownKey)
	}
	// Exactly the modulus length: no leading-zero re-spellings of one signature.
	if len(j.sig) != k.Public.Size() {
		return fmt.Errorf("%w: signature length", ErrBadSignature)
	}
	// Hashing takes a []byte: copying the signed bytes to the stack spares the
	// heap a token-sized allocation per request (bigger tokens spill to the heap).
	var stack [4 << 10]byte
	sum := sha256.Sum256(append(stack[:0], j.signed...))
	if err := rsa.VerifyPKCS1v15(k.Public, crypto.SHA256, sum[:], j.sig); err != nil {
		return ErrBadSignature
	}
	return nil
}
