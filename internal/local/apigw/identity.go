package apigw

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Identity is where a TOKEN authorizer's input comes from and what it must
// look like before API Gateway spends an invocation on it.
type Identity struct {
	// Header is the request header that carries the token.
	Header string
	// Validation, when set, must match the whole header value.
	Validation *regexp.Regexp
}

const headerSourcePrefix = "method.request.header."

// NewIdentity parses a TOKEN authorizer's IdentitySource (for example
// "method.request.header.Authorization") and IdentityValidationExpression.
// API Gateway evaluates the expression with Java regular expressions against
// the whole value; RE2 covers what such expressions use in practice, and one
// it cannot compile is an error here rather than a silently open gate.
func NewIdentity(source, expression string) (Identity, error) {
	h, ok := strings.CutPrefix(source, headerSourcePrefix)
	if !ok || h == "" || strings.ContainsAny(h, ", ") {
		return Identity{}, fmt.Errorf("identity source %q: a TOKEN authorizer reads exactly one %s<name>", source, headerSourcePrefix)
	}
	id := Identity{Header: http.CanonicalHeaderKey(h)}
	if expression != "" {
		re, err := regexp.Compile(`^(?:` + expression + `)$`)
		if err != nil {
			return Identity{}, fmt.Errorf("identity validation expression: %w", err)
		}
		id.Validation = re
	}
	return id, nil
}

// Token returns the identity source value of a request, or errNoIdentity when
// API Gateway would answer 401 without invoking the authorizer: the header is
// missing or empty, or fails the validation expression.
func (id Identity) Token(h http.Header) (string, error) {
	vs := h.Values(id.Header)
	// Two Authorization headers are ambiguous; which one a proxy or the
	// backend would honour differs, so neither is.
	if len(vs) != 1 || vs[0] == "" {
		return "", errNoIdentity
	}
	if id.Validation != nil && !id.Validation.MatchString(vs[0]) {
		return "", errNoIdentity
	}
	return vs[0], nil
}
