package localstack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/internal/local/rie/rietest"
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

// TestMintedTokensPassTheAuthorizer checks what `rolegate-local token`
// promises: the local issuer's tokens are accepted by the real authorizer
// bootstrap, under the emulator, reading the served JWKS, through the gateway.
func TestMintedTokensPassTheAuthorizer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real authorizer")
	}
	iss := newIssuer(t)
	srv, err := iss.ServeJWKS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var set struct {
		Keys []struct{ Kid, Alg, Use string }
	}
	if err := json.Unmarshal(mustGet(t, srv.URL), &set); err != nil || len(set.Keys) != 1 || set.Keys[0].Kid != iss.Key.ID || set.Keys[0].Alg != "RS256" {
		t.Fatalf("served set %+v, %v", set, err)
	}
	authzBin, _ := buildBootstraps(t)
	authz := rietest.Start(t, rie.Options{Bootstrap: authzBin, FunctionName: "authorizer", Env: []string{
		"USER_POOL_ID=" + iss.PoolID, "APP_CLIENT_IDS=" + iss.ClientID, "JWKS_URL=" + srv.URL,
	}})
	settings := DefaultSettings()
	api := serveAPI(t, settings, authz)
	admins, _ := settings.Group("admins")

	tests := []struct {
		name   string
		req    TokenRequest
		status int
		role   string
	}{
		{"alice in admins is allowed with the admins role", TokenRequest{User: "alice", Groups: []string{"admins"}}, 200, admins.RoleARN},
		{"a member of both groups gets admins", TokenRequest{User: "dana", Groups: []string{"readers", "admins"}}, 200, admins.RoleARN},
		{"a user without a group is denied", TokenRequest{User: "erin"}, 403, ""},
		{"an expired token is unauthorized", TokenRequest{User: "alice", Groups: []string{"admins"}, Expired: true}, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := settings.Token(iss, tt.req, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			status, body := api.get(t, "/whoami", tok)
			if status != tt.status {
				t.Fatalf("status = %d, want %d: %s", status, tt.status, body)
			}
			if tt.role != "" {
				if got := api.Backend.last(t).RequestContext.Authorizer["preferredRole"]; got != tt.role {
					t.Errorf("preferredRole = %v, want %s", got, tt.role)
				}
			}
		})
	}
}

func TestServeJWKSMovesOffATakenPort(t *testing.T) {
	iss := newIssuer(t)
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
