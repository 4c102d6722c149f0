package backend_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
)

const testPool = "us-east-1_AbCdEf123"

var jwtConfig = backend.Config{RoleSource: backend.RoleSourceJWT, UserPoolIDs: []string{"eu-west-1_Other0000", testPool}}

// sample reads a testdata event as a map, for edit to change, and returns its JSON.
func sample(t *testing.T, name string, edit func(ev map[string]any)) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(ev)
	}
	out, _ := json.Marshal(ev)
	return out
}

// at returns the map at path in ev (each step a map key).
func at(ev map[string]any, path ...string) map[string]any {
	for _, k := range path {
		ev = ev[k].(map[string]any)
	}
	return ev
}

// proxyEvent runs the bootstrap's handler on raw and returns the answer as JSON.
func (f *fixture) proxyEvent(t *testing.T, raw json.RawMessage) (status int, body string, out map[string]any) {
	t.Helper()
	resp, err := f.h.ProxyEvent(f.h.WhoamiRoute())(lambdaCtx(), raw)
	if err != nil {
		t.Fatalf("ProxyEvent: %v", err)
	}
	b, _ := json.Marshal(resp)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var code float64
	code, _ = out["statusCode"].(float64)
	body, _ = out["body"].(string)
	return int(code), body, out
}

func TestHTTPAPIWhoami(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		cfg        backend.Config
		wantRole   string
	}{
		{"rolegate mode reads requestContext.authorizer.lambda", "backend-http-whoami.json", backend.Config{}, admins},
		{"jwt mode reads the HTTP API's string claims", "backend-http-jwt-whoami.json", jwtConfig, admins},
		{"jwt mode reads a REST API's typed claims", "backend-rest-jwt-whoami.json", jwtConfig, admins},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.cfg)
			status, body, out := f.proxyEvent(t, sample(t, tt.file, nil))
			var w backend.Whoami
			if status != 200 || json.Unmarshal([]byte(body), &w) != nil || w.Role != tt.wantRole || w.User != "alice" || len(w.Roles) != 2 {
				t.Fatalf("answered %d %s", status, body)
			}
			if !strings.HasSuffix(w.ARN, ":assumed-role/rolegate-admins/alice") {
				t.Errorf("ran as %s", w.ARN)
			}
			if _, v2 := out["cookies"]; v2 != strings.Contains(tt.file, "http") {
				t.Errorf("answered in the wrong payload's form: %v", out)
			}
			if d := f.lastLog(t); d.Members["apiRequestId"] == "" || d.Members["route"] != "/whoami" {
				t.Errorf("log %v", d.Members)
			}
			f.assertNoExecWork(t)
		})
	}
	t.Run("X-Rolegate-Role chooses among the claims' roles", func(t *testing.T) {
		f := newFixture(t, jwtConfig)
		_, body, _ := f.proxyEvent(t, sample(t, "backend-http-jwt-whoami.json", func(ev map[string]any) {
			at(ev, "headers")["x-rolegate-role"] = "rolegate-readers"
		}))
		if !strings.Contains(body, `"role":"`+readers+`"`) {
			t.Fatalf("body %s", body)
		}
	})
	t.Run("the $default stage and route are matched by path", func(t *testing.T) {
		f := newFixture(t, backend.Config{})
		status, body, _ := f.proxyEvent(t, sample(t, "backend-http-whoami.json", func(ev map[string]any) {
			ev["routeKey"], ev["rawPath"] = "$default", "/whoami"
			at(ev, "requestContext")["stage"] = "$default"
		}))
		if status != 200 {
			t.Fatalf("answered %d %s", status, body)
		}
	})
}

// TestRoleSourceRefusals: every refusal is a 403 decided before any STS call.
func TestRoleSourceRefusals(t *testing.T) {
	claims := func(ev map[string]any) map[string]any { return at(ev, "requestContext", "authorizer", "jwt", "claims") }
	restClaims := func(ev map[string]any) map[string]any { return at(ev, "requestContext", "authorizer", "claims") }
	for _, tt := range []struct {
		name, file, reason string
		cfg                backend.Config
		edit               func(ev map[string]any)
	}{
		{"rolegate mode ignores JWT claims", "backend-http-jwt-whoami.json", "no_role", backend.Config{}, nil},
		{"rolegate mode ignores REST claims", "backend-rest-jwt-whoami.json", "no_role", backend.Config{}, nil},
		{"jwt mode ignores a rolegate context", "backend-http-whoami.json", "bad_context", jwtConfig, nil},
		{"an access token", "backend-http-jwt-whoami.json", "wrong_token_use", jwtConfig, func(ev map[string]any) { claims(ev)["token_use"] = "access" }},
		{"no token_use", "backend-http-jwt-whoami.json", "wrong_token_use", jwtConfig, func(ev map[string]any) { delete(claims(ev), "token_use") }},
		{"another issuer the JWT authorizer trusts", "backend-http-jwt-whoami.json", "wrong_issuer", jwtConfig, func(ev map[string]any) {
			claims(ev)["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Attacker1"
		}},
		{"an issuer of the pool's name on another host", "backend-rest-jwt-whoami.json", "wrong_issuer", jwtConfig, func(ev map[string]any) {
			restClaims(ev)["iss"] = "https://evil.example/" + testPool
		}},
		{"a role that is not a role ARN", "backend-http-jwt-whoami.json", "bad_role", jwtConfig, func(ev map[string]any) {
			claims(ev)["cognito:roles"] = "[arn:aws:iam::123456789012:user/alice]"
			claims(ev)["cognito:preferred_role"] = "arn:aws:iam::123456789012:user/alice"
		}},
		{"a preferred role not among the roles", "backend-http-jwt-whoami.json", "bad_context", jwtConfig, func(ev map[string]any) {
			claims(ev)["cognito:preferred_role"] = "arn:aws:iam::123456789012:role/other"
		}},
		{"no roles", "backend-http-jwt-whoami.json", "no_role", jwtConfig, func(ev map[string]any) {
			delete(claims(ev), "cognito:roles")
			delete(claims(ev), "cognito:preferred_role")
		}},
		{"an HTTP API array not in brackets", "backend-http-jwt-whoami.json", "bad_context", jwtConfig, func(ev map[string]any) {
			claims(ev)["cognito:roles"] = admins + "," + readers
		}},
		{"an HTTP API array without its opening bracket", "backend-http-jwt-whoami.json", "bad_context", jwtConfig, func(ev map[string]any) {
			claims(ev)["cognito:roles"] = admins + " " + readers + "]"
		}},
		{"REST claims as strings, as the Cognito user-pool authorizer passes them", "backend-rest-jwt-whoami.json", "bad_context", jwtConfig, func(ev map[string]any) {
			restClaims(ev)["cognito:roles"] = admins
		}},
		{"a REST role holding a comma", "backend-rest-jwt-whoami.json", "bad_context", jwtConfig, func(ev map[string]any) {
			restClaims(ev)["cognito:roles"] = []any{admins + "," + readers}
		}},
		{"X-Rolegate-Role naming none of the claims' roles", "backend-http-jwt-whoami.json", "not_your_role", jwtConfig, func(ev map[string]any) {
			at(ev, "headers")["x-rolegate-role"] = "rolegate-other"
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.cfg)
			status, body, _ := f.proxyEvent(t, sample(t, tt.file, tt.edit))
			if d := f.lastLog(t); status != 403 || d.Members["Reason"] != tt.reason {
				t.Fatalf("answered %d %s for %v, want 403 for %s", status, body, d.Members["Reason"], tt.reason)
			}
			if n := f.sts.Calls(ststest.AssumeRole); n != 0 {
				t.Fatalf("%d AssumeRole calls for a refusal", n)
			}
		})
	}
}

func TestProxyEventShapes(t *testing.T) {
	f := newFixture(t, backend.Config{})
	t.Run("a REST event gets a REST answer", func(t *testing.T) {
		raw, _ := json.Marshal(readEvent(t, "backend-whoami.json"))
		status, body, out := f.proxyEvent(t, raw)
		if _, v2 := out["cookies"]; status != 200 || v2 {
			t.Fatalf("answered %d %s %v", status, body, out)
		}
	})
	for _, bad := range []string{`{}`, `null`, `[]`, `{"version":"1.0","httpMethod":"GET","path":"/whoami"}`,
		`{"version":"2.0","routeKey":"GET /whoami","httpMethod":"GET"}`, `{"version":"3.0","routeKey":"GET /whoami"}`} {
		t.Run(bad+" is a function error", func(t *testing.T) {
			if _, err := f.h.ProxyEvent(f.h.WhoamiRoute())(lambdaCtx(), json.RawMessage(bad)); err == nil {
				t.Fatal("answered")
			}
		})
	}
}

func TestRoleSourceConfig(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string // in the error; "" for none
	}{
		{map[string]string{}, ""},
		{map[string]string{"ROLE_SOURCE": "rolegate"}, ""},
		{map[string]string{"ROLE_SOURCE": "jwt", "USER_POOL_ID": testPool + ", eu-west-1_Other0000"}, ""},
		{map[string]string{"ROLE_SOURCE": "jwt"}, "USER_POOL_ID"},
		{map[string]string{"ROLE_SOURCE": "jwt", "USER_POOL_ID": "nonsense"}, "USER_POOL_ID"},
		{map[string]string{"ROLE_SOURCE": "cognito"}, "undocumented"},
		{map[string]string{"ROLE_SOURCE": "claims"}, "ROLE_SOURCE"},
	} {
		_, err := backend.ConfigFromEnv(func(k string) string { return tt.env[k] })
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one naming %q", tt.env, err, tt.want)
		}
	}
}
