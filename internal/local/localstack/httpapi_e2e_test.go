package localstack

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestHTTPAPIEndToEnd is `make run API=http [AUTHORIZER=jwt]`: the HTTP API template served with the real
// bootstraps under the emulator, moto as STS, and the local issuer; whoami answers with the caller's role, and
// the refusals answer as API Gateway would, none with an AssumeRole call.
func TestHTTPAPIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds and runs the real functions")
	}
	// Behind rolegate's authorizer, the refusals are its isAuthorized false (403) but for an expired token;
	// behind the JWT authorizer, an expired token is its 401 and the rest the backend's 403.
	for _, tt := range []struct {
		authorizer string
		expired    int
	}{{"rolegate", 403}, {"jwt", 401}} {
		t.Run(tt.authorizer, func(t *testing.T) {
			settings, err := LoadHTTPSettings("../../../deploy/http-api.yaml", tt.authorizer)
			if err != nil {
				t.Fatal(err)
			}
			s := startStackWith(t, settings)
			if !strings.HasSuffix(s.URL, "/prod") || s.HTTPGateway == nil {
				t.Fatalf("URL %s, HTTP gateway %v", s.URL, s.HTTPGateway)
			}
			admins, _ := s.Settings.Group("admins")
			readers, _ := s.Settings.Group("readers")
			both := s.mint(t, TokenRequest{User: "dana", Groups: []string{"admins", "readers"}})

			status, body := s.call(t, "/whoami", bearer(both))
			var w whoami
			if status != 200 || json.Unmarshal(body, &w) != nil || w.Role != admins.RoleARN || !strings.Contains(w.Arn, ":assumed-role/"+roleName(t, admins)+"/dana") {
				t.Fatalf("whoami answered %d %s", status, body)
			}
			h := bearer(both)
			h.Set("X-Rolegate-Role", roleName(t, readers))
			if status, body := s.call(t, "/whoami", h); status != 200 || !strings.Contains(string(body), readers.RoleARN) {
				t.Fatalf("choosing readers answered %d %s", status, body)
			}
			calls := s.AssumeRoleCalls()
			access, err := s.Issuer.Mint(map[string]any{"sub": "x", "token_use": "access", "client_id": s.Issuer.ClientID,
				"iss": s.Issuer.URL(), "exp": 4102444800, "iat": 1700000000, "cognito:roles": []string{admins.RoleARN}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []struct {
				name   string
				header http.Header
				status int
				body   string
			}{
				{"no token", nil, 401, `{"message":"Unauthorized"}`},
				{"a token without a role", bearer(s.mint(t, TokenRequest{User: "nobody"})), 403, ""},
				{"an expired token", bearer(s.mint(t, TokenRequest{User: "alice", Groups: []string{"admins"}, Expired: true})), tt.expired, ""},
				{"an access token with a role claim", bearer(access), 403, ""},
			} {
				status, body := s.call(t, "/whoami", r.header)
				if status != r.status || r.body != "" && strings.TrimSpace(string(body)) != r.body {
					t.Errorf("%s: answered %d %s, want %d %s", r.name, status, body, r.status, r.body)
				}
			}
			if n := s.AssumeRoleCalls() - calls; n != 0 {
				t.Errorf("%d AssumeRole calls for refusals", n)
			}
		})
	}
}
