package cognito_test

import (
	"testing"

	"github.com/rolegate/rolegate/internal/cognito"
)

func TestIssuer(t *testing.T) {
	tests := []struct{ pool, issuer, updated string }{
		{"us-east-1_AbC123", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123",
			"https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"},
		{"cn-north-1_AbC123", "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123",
			"https://issuer-cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123"},
		{"us-gov-west-1_x", "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_x",
			"https://issuer-cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_x"},
	}
	for _, tt := range tests {
		t.Run(tt.pool, func(t *testing.T) {
			if !cognito.ValidPoolID(tt.pool) {
				t.Fatalf("ValidPoolID(%q) = false", tt.pool)
			}
			if got := cognito.Issuer(tt.pool); got != tt.issuer {
				t.Errorf("Issuer = %q, want %q", got, tt.issuer)
			}
			if got := cognito.UpdatedIssuer(tt.pool); got != tt.updated {
				t.Errorf("UpdatedIssuer = %q, want %q", got, tt.updated)
			}
			if got := cognito.JWKSURL(tt.issuer); got != tt.issuer+"/.well-known/jwks.json" {
				t.Errorf("JWKSURL = %q", got)
			}
		})
	}
	for _, bad := range []string{"", "us-east-1", "us-east-1_", "_abc", "US-EAST-1_abc", "us-east-1_a/b", "useast1_abc"} {
		if cognito.ValidPoolID(bad) {
			t.Errorf("ValidPoolID(%q) = true", bad)
		}
	}
}
