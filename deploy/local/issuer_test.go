package local

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/authorizer"
	"github.com/rolegate/rolegate/jwks"
)

func TestIssuerIsPersistedAndReloaded(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^us-east-1_[0-9A-Za-z]{9}$`).MatchString(a.PoolID) || !regexp.MustCompile(`^[a-z0-9]{26}$`).MatchString(a.ClientID) {
		t.Errorf("ids do not look like Cognito's: %s %s", a.PoolID, a.ClientID)
	}
	fi, err := os.Stat(filepath.Join(dir, IssuerFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("issuer file mode %v, want 0600: it holds a private key", fi.Mode().Perm())
	}
	a.JWKSPort = 12345
	if err := a.Save(dir); err != nil {
		t.Fatal(err)
	}
	b, err := LoadIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.PoolID != b.PoolID || a.ClientID != b.ClientID || b.JWKSPort != 12345 || !a.Key.Private.Equal(b.Key.Private) || a.Key.ID != b.Key.ID {
		t.Error("reloaded issuer differs")
	}
}

func TestLoadIssuerRefusesACorruptFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, IssuerFile), []byte(`{"key":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIssuer(dir); err == nil {
		t.Error("LoadIssuer accepted a corrupt file")
	}
}

// handlerInvoker runs an authorizer.Handler in-process behind the Invoker
// interface, answering errors the way the Lambda invoke API does.
type handlerInvoker struct{ h *authorizer.Handler }

func (i handlerInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var req events.APIGatewayCustomAuthorizerRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	resp, err := i.h.Handle(ctx, req)
	if err != nil {
		return json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "errorString"})
	}
	return json.Marshal(resp)
}

// TestMintedTokensPassTheAuthorizer checks what `rolegate-local token`
// promises: the local issuer's tokens are accepted by the real authorizer
// code reading the served JWKS, through the gateway.
func TestMintedTokensPassTheAuthorizer(t *testing.T) {
	iss, err := NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := iss.ServeJWKS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	set, err := jwks.ParseSet(mustGet(t, srv.URL))
	if err != nil || set[iss.Key.ID] == nil {
		t.Fatalf("served set %v, %v", set, err)
	}

	cfg, err := authorizer.FromEnv(func(k string) string {
		return map[string]string{"USER_POOL_ID": iss.PoolID, "APP_CLIENT_IDS": iss.ClientID, "JWKS_URL": srv.URL}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	h := authorizer.New(cfg, jwks.NewCache(cfg.KeySetURL(), jwks.Options{}))
	settings := DefaultSettings()
	gwCfg, err := settings.GatewayConfig("abc123")
	if err != nil {
		t.Fatal(err)
	}
	backend := &stubFunction{answer: answer(backendOK)}
	tg := &testGateway{}
	tg.gw, tg.URL = serveGateway(t, gwCfg, Deps{Authorizer: handlerInvoker{h}, Backend: backend})

	tests := []struct {
		name   string
		req    TokenRequest
		status int
		role   string
	}{
		{"alice in admins is allowed with the admins role", TokenRequest{User: "alice", Groups: []string{"admins"}}, 200, role("rolegate-local-admins")},
		{"a member of both groups gets admins", TokenRequest{User: "dana", Groups: []string{"readers", "admins"}}, 200, role("rolegate-local-admins")},
		{"a user without a group is denied", TokenRequest{User: "erin"}, 403, ""},
		{"an expired token is unauthorized", TokenRequest{User: "alice", Groups: []string{"admins"}, Expired: true}, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := settings.IDClaims(iss, tt.req, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			tok, err := iss.Mint(claims)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := tg.do(t, "GET", "/whoami", "Bearer "+tok)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.role != "" {
				var ev events.APIGatewayProxyRequest
				backend.last(t, &ev)
				if got := ev.RequestContext.Authorizer["preferredRole"]; got != tt.role {
					t.Errorf("preferredRole = %v, want %s", got, tt.role)
				}
			}
		})
	}
}

func TestServeJWKSMovesOffATakenPort(t *testing.T) {
	iss, err := NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	first, err := iss.ServeJWKS()
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	taken := iss.JWKSPort
	again, err := iss.ServeJWKS()
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if iss.JWKSPort == taken || again.URL == first.URL {
		t.Errorf("second server reused port %d", taken)
	}
}
