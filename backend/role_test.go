package backend_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
)

// Roles of the role-choice tests: alice may use readers and admins; twin
// shares admins' name under another path; root is nobody's.
const (
	twin = "arn:aws:iam::123456789012:role/other/rolegate-admins"
	root = "arn:aws:iam::123456789012:role/rolegate-root"
)

func TestRoleChoice(t *testing.T) {
	both := []string{readers, admins}
	tests := []struct {
		name     string
		cfg      backend.Config
		req      events.APIGatewayProxyRequest
		wantRole string // "" when refused
		reason   string
		message  string
	}{
		{"without the header the preferred role is used", backend.Config{},
			rolesEvent(readers, both, aliceSub, "alice"), readers, "", ""},
		{"the header picks another of the caller's roles by ARN", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", admins), admins, "", ""},
		{"the header picks one by name", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-admins"), admins, "", ""},
		{"the header may name the preferred role", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-readers"), readers, "", ""},
		{"the header's name is read in any case", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "x-ROLEGATE-role", "rolegate-admins"), admins, "", ""},
		{"a header in the single-value map alone is read", backend.Config{},
			func() events.APIGatewayProxyRequest {
				r := rolesEvent(readers, both, aliceSub, "alice")
				r.Headers = map[string]string{"x-rolegate-role": admins}
				return r
			}(), admins, "", ""},
		{"a role that is not the caller's is refused", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", root), "",
			"not_your_role", "X-Rolegate-Role names none of your roles"},
		{"a name that is not the caller's is refused", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-root"), "",
			"not_your_role", "X-Rolegate-Role names none of your roles"},
		{"names are matched exactly, case included", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "Rolegate-Admins"), "",
			"not_your_role", "X-Rolegate-Role names none of your roles"},
		{"a path and name is neither a name nor an ARN", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "team/rolegate-admins"), "",
			"not_your_role", "X-Rolegate-Role names none of your roles"},
		{"an empty header names no role", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", ""), "",
			"not_your_role", "X-Rolegate-Role names none of your roles"},
		{"a name two of the caller's roles share is ambiguous", backend.Config{},
			withHeader(rolesEvent(readers, []string{readers, admins, twin}, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-admins"), "",
			"ambiguous_role", "X-Rolegate-Role names more than one of your roles: send its ARN"},
		{"the ARN of one of them is not", backend.Config{},
			withHeader(rolesEvent(readers, []string{readers, admins, twin}, aliceSub, "alice"), "X-Rolegate-Role", twin), twin, "", ""},
		{"two values are refused", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-readers", "rolegate-admins"), "",
			"many_role_headers", "X-Rolegate-Role must be sent once, with one value"},
		{"the same value twice is refused", backend.Config{},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-admins", "rolegate-admins"), "",
			"many_role_headers", "X-Rolegate-Role must be sent once, with one value"},
		{"the header under two spellings is refused", backend.Config{},
			withHeader(withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-readers"), "x-rolegate-role", "rolegate-admins"), "",
			"many_role_headers", "X-Rolegate-Role must be sent once, with one value"},
		{"maps that disagree are refused", backend.Config{},
			func() events.APIGatewayProxyRequest {
				r := withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-readers")
				r.Headers["X-Rolegate-Role"] = "rolegate-admins"
				return r
			}(), "", "many_role_headers", "X-Rolegate-Role must be sent once, with one value"},
		{"a precedence tie without the header asks for a choice", backend.Config{},
			rolesEvent("", both, aliceSub, "alice"), "",
			"choose_role", "choose one of your roles with X-Rolegate-Role"},
		{"a precedence tie with the header runs with the choice", backend.Config{},
			withHeader(rolesEvent("", both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-admins"), admins, "", ""},
		{"a precedence tie is not resolved by another header, query or body", backend.Config{},
			func() events.APIGatewayProxyRequest {
				r := withHeader(rolesEvent("", both, aliceSub, "alice"), "X-Role-Arn", admins)
				r.QueryStringParameters = map[string]string{"role": admins, "X-Rolegate-Role": admins}
				r.Body = `{"X-Rolegate-Role":"` + admins + `"}`
				return r
			}(), "", "choose_role", "choose one of your roles with X-Rolegate-Role"},
		{"a role only in a claims map cannot be chosen", backend.Config{},
			func() events.APIGatewayProxyRequest {
				r := withHeader(whoamiEvent(readers, aliceSub, "alice"), "X-Rolegate-Role", admins)
				r.RequestContext.Authorizer["claims"] = map[string]any{"cognito:roles": admins}
				return r
			}(), "", "not_your_role", "X-Rolegate-Role names none of your roles"},
		{"the allowlist still applies to a chosen role", backend.Config{AllowedRoleARNs: []string{readers}},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-admins"), "",
			"role_not_allowed", "role not allowed"},
		{"and admits a chosen role it lists", backend.Config{AllowedRoleARNs: []string{admins}},
			withHeader(rolesEvent(readers, both, aliceSub, "alice"), "X-Rolegate-Role", "rolegate-admins"), admins, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.cfg)
			resp := f.handle(t, lambdaCtx(), tt.req)
			log := f.lastLog(t)
			if tt.wantRole == "" {
				var body struct{ Message string }
				if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != http.StatusForbidden || body.Message != tt.message {
					t.Fatalf("got %d %s, want 403 %q", resp.StatusCode, resp.Body, tt.message)
				}
				if n := f.sts.Calls(""); n != 0 {
					t.Errorf("%d STS calls, want none", n)
				}
				if log.Members["Reason"] != tt.reason {
					t.Errorf("logged reason %v, want %s", log.Members["Reason"], tt.reason)
				}
				return
			}
			var got backend.Whoami
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d %s, want 200", resp.StatusCode, resp.Body)
			}
			if got.Role != tt.wantRole || got.ARN != ststest.ARN(tt.wantRole, "alice") || log.Members["role"] != tt.wantRole {
				t.Errorf("ran as %s (role %s, logged %v), want %s", got.ARN, got.Role, log.Members["role"], tt.wantRole)
			}
			if ar := f.sts.Log()[0]; ar.RoleARN != tt.wantRole {
				t.Errorf("AssumeRole(%s), want %s", ar.RoleARN, tt.wantRole)
			}
		})
	}
}

func TestWhoamiListsTheRolesTheCallerMayChoose(t *testing.T) {
	other := "arn:aws:iam::999999999999:role/rolegate-readers"
	tests := []struct {
		name  string
		cfg   backend.Config
		roles []string
		want  []string
	}{
		{"every validated role of the function's account", backend.Config{}, []string{readers, admins}, []string{readers, admins}},
		{"without the roles of another account", backend.Config{}, []string{readers, other, admins}, []string{readers, admins}},
		{"without the roles the allowlist refuses", backend.Config{AllowedRoleARNs: []string{readers}}, []string{readers, admins}, []string{readers}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.cfg)
			resp := f.handle(t, lambdaCtx(), rolesEvent(readers, tt.roles, aliceSub, "alice"))
			var got backend.Whoami
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
			}
			if !reflect.DeepEqual(got.Roles, tt.want) {
				t.Errorf("roles = %q, want %q", got.Roles, tt.want)
			}
		})
	}
}

func TestSwitchingRolesCostsOneAssumeRolePerRole(t *testing.T) {
	f := newFixture(t, backend.Config{})
	event := func(choice string) events.APIGatewayProxyRequest {
		return withHeader(rolesEvent(readers, []string{readers, admins}, aliceSub, "alice"), "X-Rolegate-Role", choice)
	}
	for i := range 6 {
		choice := []string{"rolegate-readers", "rolegate-admins"}[i%2]
		if resp := f.handle(t, lambdaCtx(), event(choice)); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d (%s): %d %s", i, choice, resp.StatusCode, resp.Body)
		}
		want := 0.0
		if i < 2 {
			want = 1
		}
		if got := f.lastLog(t).Values["AssumeRoleCalls"]; got != want {
			t.Errorf("request %d (%s): AssumeRoleCalls = %v, want %v", i, choice, got, want)
		}
	}
	if got := f.sts.Calls(ststest.AssumeRole); got != 2 {
		t.Errorf("six requests switching between two roles made %d AssumeRole calls, want 2", got)
	}
	f.assertNoExecWork(t)
}

func TestSessionTags(t *testing.T) {
	tests := []struct {
		name               string
		env                map[string]string
		sub, username      string
		wantStatus         int
		wantTags           map[string]string
		wantSourceIdentity string
	}{
		{"sub and username are passed as tags", nil, aliceSub, "alice@example.com", http.StatusOK,
			map[string]string{"sub": aliceSub, "username": "alice@example.com"}, aliceSub},
		{"a username of any script fits", nil, aliceSub, "Zoë Ōtsuka", http.StatusOK,
			map[string]string{"sub": aliceSub, "username": "Zoë Ōtsuka"}, aliceSub},
		{"a username that does not fit is left out", nil, aliceSub, "smith,alice", http.StatusOK,
			map[string]string{"sub": aliceSub}, aliceSub},
		{"a username with a star is left out", nil, aliceSub, "alice*", http.StatusOK,
			map[string]string{"sub": aliceSub}, aliceSub},
		{"a 256-character username fits", nil, aliceSub, strings.Repeat("a", 256), http.StatusOK,
			map[string]string{"sub": aliceSub, "username": strings.Repeat("a", 256)}, aliceSub},
		{"SESSION_TAGS=false sends none", map[string]string{"SESSION_TAGS": "false"}, aliceSub, "alice", http.StatusOK,
			nil, aliceSub},
		{"tags and no SourceIdentity", map[string]string{"SOURCE_IDENTITY": "false"}, "alice smith", "alice", http.StatusOK,
			map[string]string{"sub": "alice smith", "username": "alice"}, ""},
		{"a sub that does not fit a tag is refused", nil, "alice,smith", "alice", http.StatusForbidden, nil, ""},
		{"it is fine with tags off", map[string]string{"SESSION_TAGS": "false"}, "alice,smith", "alice", http.StatusOK,
			nil, "alice,smith"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := backend.ConfigFromEnv(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, c)
			resp := f.handle(t, lambdaCtx(), whoamiEvent(readers, tt.sub, tt.username))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				if n := f.sts.Calls(""); n != 0 {
					t.Errorf("%d STS calls, want none", n)
				}
				return
			}
			ar := f.sts.Log()[0]
			if !maps.Equal(ar.Tags, tt.wantTags) || ar.SourceIdentity != tt.wantSourceIdentity {
				t.Errorf("AssumeRole tags %v, SourceIdentity %q; want %v, %q", ar.Tags, ar.SourceIdentity, tt.wantTags, tt.wantSourceIdentity)
			}
		})
	}
}
