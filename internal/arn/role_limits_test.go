package arn_test

import (
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/arn"
)

// TestParseRoleLimits holds the role-ARN rows the backend tested before it
// used this package: IAM's length limits and the characters around them.
func TestParseRoleLimits(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"a 512-character path is valid", "arn:aws:iam::123456789012:role/" + strings.Repeat("p", 510) + "/n", true},
		{"a 513-character path is not", "arn:aws:iam::123456789012:role/" + strings.Repeat("p", 511) + "/n", false},
		{"a 13-digit account is not", "arn:aws:iam::1234567890123:role/r", false},
		{"a lettered account is not", "arn:aws:iam::12345678901a:role/r", false},
		{"a colon in the name is not", "arn:aws:iam::123456789012:role/a:b", false},
		{"a non-ASCII letter is not", "arn:aws:iam::123456789012:role/r\u00e9le", false},
		{"a NUL is not", "arn:aws:iam::123456789012:role/r\x00", false},
		{"a bare role name is not", "rolegate-readers", false},
		{"an empty string is not", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := arn.ParseRole(tt.in); (err == nil) != tt.want {
				t.Errorf("ParseRole(%q) error = %v, want valid %v", tt.in, err, tt.want)
			}
		})
	}
}
