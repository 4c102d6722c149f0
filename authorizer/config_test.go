package authorizer_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/authorizer"
)

// wantPools fails t unless c's pools are want.
func wantPools(t *testing.T, c authorizer.Config, want ...authorizer.Pool) {
	t.Helper()
	if got := c.Pools(); !reflect.DeepEqual(got, want) {
		t.Errorf("pools\n%+v\nwant\n%+v", got, want)
	}
}

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{"USER_POOL_ID": "eu-west-1_AbC123", "APP_CLIENT_IDS": "client1"}
	tests := []struct {
		name    string
		env     map[string]string // merged over base; "" deletes
		wantErr string            // substring; empty means valid
		check   func(*testing.T, authorizer.Config)
	}{
		{name: "the minimal configuration accepts both issuer forms of the pool and fetches from either", check: func(t *testing.T, c authorizer.Config) {
			wantPools(t, c, authorizer.Pool{ID: "eu-west-1_AbC123",
				Issuers: []string{"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"},
				KeySetURLs: []string{"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json",
					"https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"}})
			if c.ClockSkew != 60*time.Second {
				t.Errorf("skew %v", c.ClockSkew)
			}
		}},
		{name: "a cn-north-1 pool's issuers and keys are on amazonaws.com.cn", env: map[string]string{"USER_POOL_ID": "cn-north-1_AbC123"}, check: func(t *testing.T, c authorizer.Config) {
			wantPools(t, c, authorizer.Pool{ID: "cn-north-1_AbC123",
				Issuers: []string{"https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123", "https://issuer-cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123"},
				KeySetURLs: []string{"https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123/.well-known/jwks.json",
					"https://issuer-cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123/.well-known/jwks.json"}})
		}},
		{name: "several pools each get their own region's issuers", env: map[string]string{"USER_POOL_ID": "eu-west-1_AbC123, us-gov-west-1_Xy9"}, check: func(t *testing.T, c authorizer.Config) {
			p := c.Pools()
			if len(p) != 2 || p[1].ID != "us-gov-west-1_Xy9" || p[1].Issuers[1] != "https://issuer-cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_Xy9" ||
				p[0].Issuers[0] != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123" {
				t.Errorf("pools %+v", p)
			}
		}},
		{name: "app client ids are split and trimmed", env: map[string]string{"APP_CLIENT_IDS": " a1 , b2,c3 "}, check: func(t *testing.T, c authorizer.Config) {
			if !slices.Equal(c.ClientIDs, []string{"a1", "b2", "c3"}) {
				t.Errorf("client ids %q", c.ClientIDs)
			}
		}},
		{name: "JWKS_URL moves the keys but not the issuers", env: map[string]string{"JWKS_URL": "http://127.0.0.1:8080/keys.json"}, check: func(t *testing.T, c authorizer.Config) {
			if p := c.Pools()[0]; !slices.Equal(p.KeySetURLs, []string{"http://127.0.0.1:8080/keys.json"}) || len(p.Issuers) != 2 {
				t.Errorf("pool %+v", p)
			}
		}},
		{name: "JWKS_URL is a list in order, with each pool's id for {userPoolId}", env: map[string]string{
			"USER_POOL_ID": "eu-west-1_A1,eu-west-2_B2", "JWKS_URL": "https://keys.example.com/{userPoolId}.json, http://127.0.0.1:1/{userPoolId}/jwks.json",
		}, check: func(t *testing.T, c authorizer.Config) {
			p := c.Pools()
			if !slices.Equal(p[0].KeySetURLs, []string{"https://keys.example.com/eu-west-1_A1.json", "http://127.0.0.1:1/eu-west-1_A1/jwks.json"}) ||
				!slices.Equal(p[1].KeySetURLs, []string{"https://keys.example.com/eu-west-2_B2.json", "http://127.0.0.1:1/eu-west-2_B2/jwks.json"}) {
				t.Errorf("pools %+v", p)
			}
		}},
		{name: "ISSUER replaces the issuers but not the keys", env: map[string]string{"ISSUER": "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"}, check: func(t *testing.T, c authorizer.Config) {
			if p := c.Pools()[0]; !slices.Equal(p.Issuers, []string{"https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"}) ||
				!strings.HasPrefix(p.KeySetURLs[0], "https://cognito-idp.") {
				t.Errorf("pool %+v", p)
			}
		}},
		{name: "ISSUER is a list, each naming its pool", env: map[string]string{"USER_POOL_ID": "eu-west-1_A1,eu-west-2_B2",
			"ISSUER": "http://127.0.0.1:1/eu-west-2_B2,https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A1"}, check: func(t *testing.T, c authorizer.Config) {
			p := c.Pools()
			if !slices.Equal(p[0].Issuers, []string{"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A1"}) || !slices.Equal(p[1].Issuers, []string{"http://127.0.0.1:1/eu-west-2_B2"}) {
				t.Errorf("pools %+v", p)
			}
		}},
		{name: "METRICS_NAMESPACE defaults to rolegate", check: func(t *testing.T, c authorizer.Config) {
			if c.MetricsNamespace != "rolegate" {
				t.Errorf("namespace %q", c.MetricsNamespace)
			}
		}},
		{name: "METRICS_NAMESPACE names the namespace", env: map[string]string{"METRICS_NAMESPACE": "Team/rolegate"}, check: func(t *testing.T, c authorizer.Config) {
			if c.MetricsNamespace != "Team/rolegate" {
				t.Errorf("namespace %q", c.MetricsNamespace)
			}
		}},
		{name: "a METRICS_NAMESPACE in AWS/ fails", env: map[string]string{"METRICS_NAMESPACE": "AWS/Lambda"}, wantErr: "METRICS_NAMESPACE"},
		{name: "a METRICS_NAMESPACE with a space fails", env: map[string]string{"METRICS_NAMESPACE": "role gate"}, wantErr: "METRICS_NAMESPACE"},
		{name: "CLOCK_SKEW is a Go duration", env: map[string]string{"CLOCK_SKEW": "30s"}, check: func(t *testing.T, c authorizer.Config) {
			if c.ClockSkew != 30*time.Second {
				t.Errorf("skew %v", c.ClockSkew)
			}
		}},
		{name: "CLOCK_SKEW=60 is seconds, as SESSION_DURATION=900 is for the backend", env: map[string]string{"CLOCK_SKEW": "60"}, check: func(t *testing.T, c authorizer.Config) {
			if c.ClockSkew != 60*time.Second {
				t.Errorf("skew %v", c.ClockSkew)
			}
		}},
		{name: "CLOCK_SKEW may be zero", env: map[string]string{"CLOCK_SKEW": "0s"}},
		{name: "CLOCK_SKEW may be five minutes", env: map[string]string{"CLOCK_SKEW": "5m"}},
		{name: "https on loopback is fine for JWKS_URL", env: map[string]string{"JWKS_URL": "https://localhost:8443/jwks.json"}},
		{name: "http on IPv6 loopback is fine for JWKS_URL", env: map[string]string{"JWKS_URL": "http://[::1]:8080/jwks.json"}},

		{name: "a missing USER_POOL_ID is required", env: map[string]string{"USER_POOL_ID": ""}, wantErr: "USER_POOL_ID: required"},
		{name: "a pool listed twice fails", env: map[string]string{"USER_POOL_ID": "eu-west-1_A1,eu-west-1_A1"}, wantErr: "USER_POOL_ID"},
		{name: "an empty pool in the list fails", env: map[string]string{"USER_POOL_ID": "eu-west-1_A1,"}, wantErr: "USER_POOL_ID"},
		{name: "with several pools, a JWKS_URL without {userPoolId} fails", env: map[string]string{"USER_POOL_ID": "eu-west-1_A1,eu-west-1_B2",
			"JWKS_URL": "https://keys.example.com/{userPoolId}.json,https://keys.example.com/all.json"}, wantErr: "needs {userPoolId}"},
		{name: "an ISSUER naming no configured pool fails", env: map[string]string{"ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}, wantErr: "ISSUER"},
		{name: "an ISSUER list leaving a pool without an issuer fails", env: map[string]string{"USER_POOL_ID": "eu-west-1_A1,eu-west-1_B2",
			"ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A1"}, wantErr: "no issuer of pool eu-west-1_B2"},
		{name: "a USER_POOL_ID without region fails", env: map[string]string{"USER_POOL_ID": "AbC123"}, wantErr: "USER_POOL_ID"},
		{name: "a USER_POOL_ID with a path fails", env: map[string]string{"USER_POOL_ID": "eu-west-1_AbC/../x"}, wantErr: "USER_POOL_ID"},
		{name: "a USER_POOL_ID with an upper-case region fails", env: map[string]string{"USER_POOL_ID": "EU-WEST-1_AbC123"}, wantErr: "USER_POOL_ID"},
		{name: "missing APP_CLIENT_IDS fail", env: map[string]string{"APP_CLIENT_IDS": ""}, wantErr: "APP_CLIENT_IDS"},
		{name: "blank APP_CLIENT_IDS fail", env: map[string]string{"APP_CLIENT_IDS": " , "}, wantErr: "APP_CLIENT_IDS"},
		{name: "an empty app client id in the list fails", env: map[string]string{"APP_CLIENT_IDS": "a,,b"}, wantErr: "APP_CLIENT_IDS"},
		{name: "an app client id with a space fails", env: map[string]string{"APP_CLIENT_IDS": "a b"}, wantErr: "APP_CLIENT_IDS"},
		{name: "a relative JWKS_URL fails", env: map[string]string{"JWKS_URL": "/jwks.json"}, wantErr: "JWKS_URL"},
		{name: "a plain-http JWKS_URL off loopback fails", env: map[string]string{"JWKS_URL": "http://example.com/jwks.json"}, wantErr: "JWKS_URL"},
		{name: "a file JWKS_URL fails", env: map[string]string{"JWKS_URL": "file:///etc/jwks.json"}, wantErr: "JWKS_URL"},
		{name: "a JWKS_URL with credentials fails", env: map[string]string{"JWKS_URL": "https://u:p@example.com/jwks.json"}, wantErr: "JWKS_URL"},
		{name: "a plain-http ISSUER off loopback fails", env: map[string]string{"ISSUER": "http://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"}, wantErr: "ISSUER"},
		{name: "a fractional CLOCK_SKEW without unit fails", env: map[string]string{"CLOCK_SKEW": "1.5"}, wantErr: `CLOCK_SKEW="1.5"`},
		{name: "a negative CLOCK_SKEW fails", env: map[string]string{"CLOCK_SKEW": "-1s"}, wantErr: "CLOCK_SKEW"},
		{name: "a CLOCK_SKEW over five minutes fails", env: map[string]string{"CLOCK_SKEW": "5m1s"}, wantErr: "CLOCK_SKEW"},
		{name: "every problem is reported at once", env: map[string]string{"USER_POOL_ID": "", "APP_CLIENT_IDS": ""}, wantErr: "APP_CLIENT_IDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			c, err := authorizer.ConfigFromEnv(func(k string) string { return env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestConfigErrorsNameTheirVariable: each problem is one line that starts with its variable, NAME="value" or
// NAME: required, as the backend's do.
func TestConfigErrorsNameTheirVariable(t *testing.T) {
	env := map[string]string{
		"APP_CLIENT_IDS": "a b", "JWKS_URL": "ftp://x", "ISSUER": "http://example.com",
		"CLOCK_SKEW": "6m", "METRICS_NAMESPACE": "AWS/x",
	}
	_, err := authorizer.ConfigFromEnv(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{"USER_POOL_ID: required", `APP_CLIENT_IDS="a b"`, `JWKS_URL="ftp://x"`, `ISSUER="http://example.com"`, `METRICS_NAMESPACE="AWS/x"`, `CLOCK_SKEW="6m0s"`}
	lines := strings.Split(err.Error(), "\n")
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("error line %d does not start %s:\n%s", i, w, err)
		}
	}
}
