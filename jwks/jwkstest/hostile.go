package jwkstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// Hostile tokens are built by hand, from exact bytes: the point is to produce what no well-behaved library would.

var b64 = base64.RawURLEncoding

// MintAlgNone returns an unsigned token, header {"alg":"none","kid":<current kid>,"typ":"JWT"} and an empty
// signature.
func (i *Issuer) MintAlgNone(t testing.TB, claims any) string {
	t.Helper()
	return compact(t, i.header(t, "none"), claims) + "."
}

// MintHS256 returns a token with header {"alg":"HS256","kid":<current kid>,"typ":"JWT"} MACed with secret. With
// PublicKeyPEM (or the JWKS bytes) as the secret this is the RS256/HS256 key-confusion attack.
func (i *Issuer) MintHS256(t testing.TB, claims any, secret []byte) string {
	t.Helper()
	signing := compact(t, i.header(t, "HS256"), claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(mac.Sum(nil))
}

// TamperClaims decodes tok's claims, lets edit change them, and puts them back under the original header and
// signature: well-formed claims with a signature that no longer matches.
func TamperClaims(t testing.TB, tok string, edit func(claims map[string]any)) string {
	t.Helper()
	h, p, s := split(tok)
	raw, err := b64.DecodeString(p)
	if err != nil {
		t.Fatalf("jwkstest: TamperClaims: payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatalf("jwkstest: TamperClaims: payload: %v", err)
	}
	edit(claims)
	raw, err = json.Marshal(claims)
	if err != nil {
		t.Fatalf("jwkstest: TamperClaims: %v", err)
	}
	return h + "." + b64.EncodeToString(raw) + "." + s
}

// Tamper flips one character in the middle of tok's payload and keeps the header and signature. The middle,
// because the last base64url character may carry unused bits that decode to the same bytes. It panics when tok is
// not three dot-separated parts with a payload of at least two characters.
func Tamper(tok string) string {
	h, p, s := split(tok)
	if len(p) < 2 {
		panic("jwkstest: Tamper: payload too short")
	}
	b := []byte(p)
	mid := len(b) / 2
	if b[mid] == 'A' {
		b[mid] = 'B'
	} else {
		b[mid] = 'A'
	}
	return h + "." + string(b) + "." + s
}

func split(tok string) (header, payload, sig string) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		panic("jwkstest: not a compact JWS")
	}
	return parts[0], parts[1], parts[2]
}

func (i *Issuer) header(t testing.TB, alg string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{"alg": alg, "kid": i.Key().ID, "typ": "JWT"})
	if err != nil {
		t.Fatalf("jwkstest: %v", err)
	}
	return b
}

// compact returns base64url(header) "." base64url(claims), claims being marshaled unless already []byte.
func compact(t testing.TB, header []byte, claims any) string {
	t.Helper()
	payload, ok := claims.([]byte)
	if !ok {
		var err error
		if payload, err = json.Marshal(claims); err != nil {
			t.Fatalf("jwkstest: marshaling claims: %v", err)
		}
	}
	return b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
}
