package apigw

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/jwks"
)

// KeySource returns an issuer's verification key for a kid. *jwks.Cache is one.
type KeySource interface {
	Key(ctx context.Context, kid string) (*jwks.Key, error)
}

// jwtRefusal is why the JWT authorizer refuses a request: API Gateway's
// answer, the reason the gateway logs, and the WWW-Authenticate challenge.
type jwtRefusal struct {
	answer            httpAnswer
	reason, challenge string
}

func invalidToken(reason, description string) *jwtRefusal {
	return &jwtRefusal{answer: httpUnauthorized, reason: reason,
		challenge: `Bearer error="invalid_token" error_description="` + description + `"`}
}

// authorize validates the request's token as an HTTP API JWT authorizer does:
// the identity source holds the token or "Bearer <token>"; the algorithm
// (RS256, the RSA algorithm the issuer's keys carry) and signature by the
// issuer's key for kid; iss; aud, or client_id when there is no aud, among
// the audiences; exp after now, nbf and iat not after now; and, when the route
// has scopes, one of them in scope (or scp). The claims reach the integration
// as strings, arrays as "[a b]".
func (j *JWTAuthorizer) authorize(ctx context.Context, h http.Header, scopes []string, now time.Time) (*events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, *jwtRefusal) {
	vs := h.Values("Authorization")
	if len(vs) != 1 || vs[0] == "" {
		return nil, &jwtRefusal{answer: httpUnauthorized, reason: "no_identity", challenge: "Bearer"}
	}
	tok := vs[0]
	if scheme, rest, ok := strings.Cut(tok, " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = rest
	}
	head, payload, sig, ok := splitJWS(tok)
	if !ok {
		return nil, invalidToken("malformed", "the token is not a JWS")
	}
	var hdr struct{ Alg, Kid string }
	if json.Unmarshal(head, &hdr) != nil || hdr.Alg != "RS256" {
		return nil, invalidToken("algorithm", "the token's algorithm is not supported")
	}
	key, err := j.Keys.Key(ctx, hdr.Kid)
	if err != nil {
		return nil, invalidToken("unknown_key", "no key of the issuer has the token's kid")
	}
	digest := sha256.Sum256([]byte(tok[:strings.LastIndexByte(tok, '.')]))
	if rsa.VerifyPKCS1v15(key.Public, crypto.SHA256, digest[:], sig) != nil {
		return nil, invalidToken("bad_signature", "the token's signature is invalid")
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if dec.Decode(&claims) != nil {
		return nil, invalidToken("malformed", "the token's claims are not a JSON object")
	}
	if reason, desc := j.checkClaims(claims, now); reason != "" {
		return nil, invalidToken(reason, desc)
	}
	granted := strings.Fields(claimString(claims["scope"]))
	if s, ok := claims["scp"].(string); ok {
		granted = append(granted, strings.Fields(s)...)
	} else if list, ok := claims["scp"].([]any); ok {
		for _, v := range list {
			granted = append(granted, claimString(v))
		}
	}
	if len(scopes) > 0 && !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(granted, s) }) {
		return nil, &jwtRefusal{answer: httpForbidden, reason: "insufficient_scope",
			challenge: `Bearer scope="` + strings.Join(scopes, " ") + `" error="insufficient_scope"`}
	}
	out := &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{}}
	for k, v := range claims {
		out.Claims[k] = claimString(v)
	}
	if len(granted) > 0 {
		out.Scopes = granted
	}
	return out, nil
}

func (j *JWTAuthorizer) checkClaims(c map[string]any, now time.Time) (reason, description string) {
	iss, _ := c["iss"].(string)
	if iss != j.Issuer {
		return "wrong_issuer", "the token's issuer is not trusted"
	}
	var aud []string
	switch a := c["aud"].(type) {
	case string:
		aud = []string{a}
	case []any:
		for _, v := range a {
			aud = append(aud, claimString(v))
		}
	case nil:
		if id, ok := c["client_id"].(string); ok {
			aud = []string{id}
		}
	}
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(j.Audience, a) }) {
		return "wrong_audience", "the token's audience is not accepted"
	}
	exp, ok := c["exp"].(json.Number)
	if e, err := exp.Int64(); !ok || err != nil || now.Unix() >= e {
		return "expired", "the token has expired"
	}
	for _, k := range []string{"nbf", "iat"} {
		if v, present := c[k]; present {
			n, ok := v.(json.Number)
			if t, err := n.Int64(); !ok || err != nil || t > now.Unix() {
				return "not_yet_valid", "the token is not valid yet"
			}
		}
	}
	return "", ""
}

// claimString renders a claim as an HTTP API hands it to an integration:
// strings as they are, numbers and booleans in their JSON text, arrays as
// their elements space-separated in brackets, objects as compact JSON.
func claimString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// splitJWS splits a compact JWS into its decoded header, payload and signature.
func splitJWS(tok string) (header, payload, sig []byte, ok bool) {
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		return nil, nil, nil, false
	}
	var err [3]error
	header, err[0] = base64.RawURLEncoding.DecodeString(p[0])
	payload, err[1] = base64.RawURLEncoding.DecodeString(p[1])
	sig, err[2] = base64.RawURLEncoding.DecodeString(p[2])
	return header, payload, sig, err[0] == nil && err[1] == nil && err[2] == nil
}
