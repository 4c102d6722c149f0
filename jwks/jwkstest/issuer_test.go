package jwkstest_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/mint"

	"github.com/rolegate/rolegate/jwks"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

var b64 = base64.RawURLEncoding

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func parts(t *testing.T, tok string) (header, payload map[string]any, signing string, sig []byte) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("token has %d parts", len(p))
	}
	dec := func(s string) map[string]any {
		b, err := b64.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return m
	}
	sig, err := b64.DecodeString(p[2])
	if err != nil {
		t.Fatal(err)
	}
	return dec(p[0]), dec(p[1]), p[0] + "." + p[1], sig
}

func verifies(pub *rsa.PublicKey, signing string, sig []byte) bool {
	sum := sha256.Sum256([]byte(signing))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}

func TestIssuerDefaults(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	if iss.Region != "us-east-1" || iss.PoolID != "us-east-1_TestPool1" {
		t.Errorf("region, pool = %q, %q", iss.Region, iss.PoolID)
	}
	if !regexp.MustCompile(`^[a-z0-9]{26}$`).MatchString(iss.ClientID) {
		t.Errorf("client id %q is not 26 lowercase letters and digits", iss.ClientID)
	}
	if got := iss.Issuer(); got != "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1" {
		t.Errorf("Issuer() = %q", got)
	}
	u, err := url.Parse(iss.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" || u.Path != "/us-east-1_TestPool1/.well-known/jwks.json" {
		t.Errorf("URL = %q, want loopback and the pool's JWKS path", iss.URL)
	}
}

func TestIssuerOptions(t *testing.T) {
	k, err := mint.GenerateKey("given", 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		opts                 []jwkstest.Option
		wantRegion, wantPool string
		wantClient, wantKid  string
	}{
		{"a region alone names the pool after it", []jwkstest.Option{jwkstest.WithRegion("eu-west-1")},
			"eu-west-1", "eu-west-1_TestPool1", jwkstest.DefaultClientID, ""},
		{"a pool id alone gives its region", []jwkstest.Option{jwkstest.WithPoolID("ap-south-1_Abc")},
			"ap-south-1", "ap-south-1_Abc", jwkstest.DefaultClientID, ""},
		{"client id and key are taken as given", []jwkstest.Option{jwkstest.WithClientID("abc"), jwkstest.WithKey(k)},
			"us-east-1", "us-east-1_TestPool1", "abc", "given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := jwkstest.NewIssuer(t, tt.opts...)
			if iss.Region != tt.wantRegion || iss.PoolID != tt.wantPool || iss.ClientID != tt.wantClient {
				t.Errorf("got %q %q %q", iss.Region, iss.PoolID, iss.ClientID)
			}
			if tt.wantKid != "" && iss.Key().ID != tt.wantKid {
				t.Errorf("kid = %q, want %q", iss.Key().ID, tt.wantKid)
			}
			if !strings.HasSuffix(iss.URL, "/"+tt.wantPool+"/.well-known/jwks.json") {
				t.Errorf("URL = %q", iss.URL)
			}
		})
	}
}

func TestIssuerServesItsKeys(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	first := iss.Key()
	code, body := get(t, iss.URL)
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	keys, err := jwks.ParseSet(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !keys[first.ID].Public.Equal(&first.Private.PublicKey) {
		t.Fatalf("served %d keys, want the current one", len(keys))
	}

	second := iss.Rotate(t)
	third := iss.Rotate(t)
	if iss.Key() != third {
		t.Fatal("Rotate did not make the new key current")
	}
	_, body = get(t, iss.URL)
	keys, err = jwks.ParseSet(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[third.ID] == nil || keys[second.ID] == nil {
		t.Fatalf("after two rotations served %v, want the current and previous key", keys)
	}
	if code, _ := get(t, strings.Replace(iss.URL, "jwks.json", "other.json", 1)); code != http.StatusNotFound {
		t.Errorf("another path answered %d", code)
	}
	if iss.Fetches() != 2 {
		t.Errorf("Fetches = %d, want 2 (other paths are not counted)", iss.Fetches())
	}
}

func TestIssuerMisbehaves(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	iss.SetFailing(http.StatusBadGateway)
	if code, _ := get(t, iss.URL); code != http.StatusBadGateway {
		t.Errorf("failing: status %d", code)
	}
	iss.SetFailing(0)
	iss.SetBody([]byte("garbage"))
	if code, body := get(t, iss.URL); code != http.StatusOK || string(body) != "garbage" {
		t.Errorf("body: %d %q", code, body)
	}
	iss.SetBody(nil)
	if _, body := get(t, iss.URL); string(body) != string(iss.JWKS()) {
		t.Errorf("SetBody(nil) did not restore the key set")
	}

	// A slow endpoint lets a client that gives up go at once.
	iss.SetDelay(time.Hour)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := client.Get(iss.URL); err == nil {
		t.Error("a delayed endpoint answered in time")
	}
	iss.SetDelay(0)

	// A held endpoint answers once released.
	release := iss.Hold(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, iss.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	release()
	if code := <-got; code != http.StatusOK {
		t.Errorf("released request: status %d", code)
	}
	if iss.Fetches() != 5 {
		t.Errorf("Fetches = %d, want 5", iss.Fetches())
	}
}

func TestIDClaims(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	iss := jwkstest.NewIssuer(t, jwkstest.WithNow(func() time.Time { return now }),
		jwkstest.WithRoles(map[string]string{"admins": "arn:aws:iam::111122223333:role/Admin"}))
	c := iss.IDClaims("alice", "readers", "admins")
	want := map[string]any{
		"iss":                    iss.Issuer(),
		"aud":                    iss.ClientID,
		"token_use":              "id",
		"auth_time":              now.Unix(),
		"iat":                    now.Unix(),
		"exp":                    now.Add(time.Hour).Unix(),
		"cognito:username":       "alice",
		"email":                  "alice@example.com",
		"email_verified":         true,
		"cognito:groups":         []string{"readers", "admins"},
		"cognito:roles":          []string{"arn:aws:iam::123456789012:role/rolegate-readers", "arn:aws:iam::111122223333:role/Admin"},
		"cognito:preferred_role": "arn:aws:iam::123456789012:role/rolegate-readers",
	}
	for k, v := range want {
		if !reflect.DeepEqual(c[k], v) {
			t.Errorf("%s = %#v, want %#v", k, c[k], v)
		}
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, k := range []string{"sub", "event_id", "origin_jti", "jti"} {
		if s, _ := c[k].(string); !uuid.MatchString(s) {
			t.Errorf("%s = %v, want a UUID", k, c[k])
		}
	}
	again := iss.IDClaims("alice")
	if again["sub"] != c["sub"] || again["jti"] == c["jti"] {
		t.Error("sub must be stable per user and jti fresh per token")
	}
	if iss.IDClaims("bob")["sub"] == c["sub"] {
		t.Error("two users share a sub")
	}
	for _, k := range []string{"cognito:groups", "cognito:roles", "cognito:preferred_role"} {
		if _, ok := again[k]; ok {
			t.Errorf("%s present without groups", k)
		}
	}
	if got := iss.IDClaims("carol", "admins")["cognito:preferred_role"]; got != "arn:aws:iam::111122223333:role/Admin" {
		t.Errorf("preferred role = %v, want the first group's", got)
	}
}

func TestAccessClaims(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	c := iss.AccessClaims("alice")
	if c["token_use"] != "access" || c["client_id"] != iss.ClientID || c["username"] != "alice" ||
		c["scope"] != "aws.cognito.signin.user.admin" || c["iss"] != iss.Issuer() {
		t.Errorf("claims = %v", c)
	}
	if _, ok := c["aud"]; ok {
		t.Error("an access token has no aud")
	}
}

func TestMintVerifiesAgainstTheServedSet(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	tok := iss.Mint(t, iss.IDClaims("alice", "admins"))
	hdr, claims, signing, sig := parts(t, tok)
	if hdr["alg"] != "RS256" || hdr["kid"] != iss.Key().ID || hdr["typ"] != "JWT" {
		t.Fatalf("header = %v", hdr)
	}
	if claims["cognito:username"] != "alice" {
		t.Fatalf("claims = %v", claims)
	}
	c := jwks.NewCache([]string{iss.URL})
	k, err := c.Key(context.Background(), hdr["kid"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !verifies(k.Public, signing, sig) {
		t.Fatal("a minted token does not verify with the served key")
	}

	attacker := iss.NewKey(t)
	forged := iss.MintWith(t, attacker, iss.IDClaims("alice"), map[string]any{"kid": iss.Key().ID, "jwk": attacker})
	hdr, _, signing, sig = parts(t, forged)
	if verifies(k.Public, signing, sig) || !verifies(&attacker.Private.PublicKey, signing, sig) {
		t.Fatal("MintWith did not sign with the given key")
	}
	if _, ok := hdr["jwk"].(map[string]any)["d"]; ok {
		t.Fatal("the jwk header carries private material")
	}

}

func TestHostileTokens(t *testing.T) {
	iss := jwkstest.NewIssuer(t)
	pub := &iss.Key().Private.PublicKey
	claims := iss.IDClaims("mallory", "admins")

	t.Run("alg none has an empty signature", func(t *testing.T) {
		tok := iss.MintAlgNone(t, claims)
		if !strings.HasSuffix(tok, ".") {
			t.Fatalf("token %q does not end in an empty signature", tok)
		}
		hdr, got, _, sig := parts(t, tok)
		if hdr["alg"] != "none" || hdr["kid"] != iss.Key().ID || len(sig) != 0 || got["sub"] != claims["sub"] {
			t.Fatalf("header %v, %d signature bytes", hdr, len(sig))
		}
	})
	t.Run("HS256 is a MAC under the secret given", func(t *testing.T) {
		secret := []byte("the pool's public key, say")
		tok := iss.MintHS256(t, claims, secret)
		hdr, _, signing, sig := parts(t, tok)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(signing))
		if hdr["alg"] != "HS256" || !hmac.Equal(sig, mac.Sum(nil)) {
			t.Fatal("not an HS256 MAC under the secret")
		}
	})
	t.Run("Tamper changes the payload and keeps the signature", func(t *testing.T) {
		tok := iss.Mint(t, claims)
		bad := jwkstest.Tamper(tok)
		p, q := strings.Split(tok, "."), strings.Split(bad, ".")
		if p[0] != q[0] || p[2] != q[2] || p[1] == q[1] || len(p[1]) != len(q[1]) {
			t.Fatal("Tamper must change only the payload")
		}
		if verifies(pub, q[0]+"."+q[1], mustB64(t, q[2])) {
			t.Fatal("a tampered token still verifies")
		}
		if jwkstest.Tamper(bad) == bad {
			t.Fatal("Tamper of a tampered token changed nothing")
		}
	})
	t.Run("TamperClaims edits well-formed claims under the old signature", func(t *testing.T) {
		tok := iss.Mint(t, claims)
		bad := jwkstest.TamperClaims(t, tok, func(c map[string]any) { c["cognito:preferred_role"] = "arn:aws:iam::123456789012:role/root" })
		hdr, got, signing, sig := parts(t, bad)
		if got["cognito:preferred_role"] != "arn:aws:iam::123456789012:role/root" || hdr["kid"] != iss.Key().ID {
			t.Fatalf("claims = %v", got)
		}
		if verifies(pub, signing, sig) {
			t.Fatal("edited claims still verify")
		}
	})
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwx stays in the packages that own keys (jwks, internal/local/mint): neither this package nor the authorizer imports it.
func TestDoesNotImportJWX(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	authorizer, err := filepath.Glob("../../authorizer/*.go")
	if err != nil || len(authorizer) == 0 {
		t.Fatalf("no authorizer files found: %v", err)
	}
	files = append(files, authorizer...)
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if strings.Contains(imp.Path.Value, "lestrrat-go") {
				t.Errorf("%s imports %s", name, imp.Path.Value)
			}
		}
	}
}
