package apigw

import (
	"errors"
	"net/http"
	"testing"
)

// bearerOrBare is the kind of expression deploy/template.yaml uses.
const bearerOrBare = `^(Bearer )?[-0-9a-zA-Z_=]+\.[-0-9a-zA-Z_=]+\.[-0-9a-zA-Z_=]+$`

func TestIdentityToken(t *testing.T) {
	id, err := NewIdentity("method.request.header.Authorization", bearerOrBare)
	if err != nil {
		t.Fatal(err)
	}
	open, err := NewIdentity("method.request.header.Authorization", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		id      Identity
		headers []string
		ok      bool
	}{
		{"a bare JWT passes", id, []string{"aaa.bbb.ccc"}, true},
		{"a Bearer JWT passes", id, []string{"Bearer aaa.bbb.ccc"}, true},
		{"a missing header is refused", id, nil, false},
		{"an empty header is refused", id, []string{""}, false},
		{"two Authorization headers are refused", id, []string{"aaa.bbb.ccc", "ddd.eee.fff"}, false},
		{"a Basic credential fails the expression", id, []string{"Basic dXNlcjpwdw=="}, false},
		{"two parts fail the expression", id, []string{"aaa.bbb"}, false},
		{"a JWT with trailing garbage fails the whole-value match", id, []string{"aaa.bbb.ccc junk"}, false},
		{"a JWT preceded by garbage fails the whole-value match", id, []string{"junk aaa.bbb.ccc"}, false},
		{"without an expression any non-empty value passes", open, []string{"garbage"}, true},
		{"without an expression an empty value is still refused", open, []string{""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.headers {
				h.Add("authorization", v)
			}
			tok, err := tt.id.Token(h)
			if tt.ok && (err != nil || tok != tt.headers[0]) {
				t.Errorf("Token = %q, %v; want %q", tok, err, tt.headers[0])
			}
			if !tt.ok && !errors.Is(err, errNoIdentity) {
				t.Errorf("Token error = %v, want errNoIdentity", err)
			}
		})
	}
}

func TestNewIdentityRefusesWhatItCannotHonour(t *testing.T) {
	tests := []struct{ name, source, expr string }{
		{"a query string source", "method.request.querystring.token", ""},
		{"several identity sources", "method.request.header.A, method.request.header.B", ""},
		{"an expression RE2 cannot compile", "method.request.header.Authorization", `(?<=Bearer )x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewIdentity(tt.source, tt.expr); err == nil {
				t.Error("NewIdentity accepted it")
			}
		})
	}
}
