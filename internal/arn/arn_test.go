package arn_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/arn"
)

func TestParseRole(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want arn.Role // zero: refused
	}{
		{"a plain role", "arn:aws:iam::123456789012:role/admins", arn.Role{"aws", "123456789012", "/", "admins"}},
		{"a role with a path", "arn:aws:iam::123456789012:role/rolegate/team/admins", arn.Role{"aws", "123456789012", "/rolegate/team/", "admins"}},
		{"a China role", "arn:aws-cn:iam::123456789012:role/r", arn.Role{"aws-cn", "123456789012", "/", "r"}},
		{"a GovCloud role", "arn:aws-us-gov:iam::123456789012:role/r", arn.Role{"aws-us-gov", "123456789012", "/", "r"}},
		{"an ISO-B role", "arn:aws-iso-b:iam::123456789012:role/r", arn.Role{"aws-iso-b", "123456789012", "/", "r"}},
		{"a partition with a digit", "arn:aws-iso2:iam::123456789012:role/r", arn.Role{"aws-iso2", "123456789012", "/", "r"}},
		{"every IAM name character", "arn:aws:iam::123456789012:role/a_b+c=d,e.f@g-h", arn.Role{"aws", "123456789012", "/", "a_b+c=d,e.f@g-h"}},
		{"a 64-character name", "arn:aws:iam::123456789012:role/" + strings.Repeat("n", 64), arn.Role{"aws", "123456789012", "/", strings.Repeat("n", 64)}},
		{"a 65-character name is refused", "arn:aws:iam::123456789012:role/" + strings.Repeat("n", 65), arn.Role{}},
		{"a user is refused", "arn:aws:iam::123456789012:user/admins", arn.Role{}},
		{"an STS assumed role is refused", "arn:aws:sts::123456789012:assumed-role/admins/s", arn.Role{}},
		{"a region is refused", "arn:aws:iam:us-east-1:123456789012:role/r", arn.Role{}},
		{"an 11-digit account is refused", "arn:aws:iam::12345678901:role/r", arn.Role{}},
		{"a wildcard name is refused", "arn:aws:iam::123456789012:role/*", arn.Role{}},
		{"an empty path segment is refused", "arn:aws:iam::123456789012:role/a//b", arn.Role{}},
		{"a trailing slash is refused", "arn:aws:iam::123456789012:role/a/", arn.Role{}},
		{"an empty name is refused", "arn:aws:iam::123456789012:role/", arn.Role{}},
		{"an unknown partition is refused", "arn:azure:iam::123456789012:role/r", arn.Role{}},
		{"an upper-case partition is refused", "arn:AWS:iam::123456789012:role/r", arn.Role{}},
		{"a trailing hyphen in the partition is refused", "arn:aws-:iam::123456789012:role/r", arn.Role{}},
		{"a comma-joined list is refused", "arn:aws:iam::123456789012:role/a,arn:aws:iam::123456789012:role/b", arn.Role{}},
		{"a space is refused", "arn:aws:iam::123456789012:role/a b", arn.Role{}},
		{"no arn prefix is refused", "aws:iam::123456789012:role/r", arn.Role{}},
		{"an over-long ARN is refused", "arn:aws:iam::123456789012:role/" + strings.Repeat("p/", 1100) + "r", arn.Role{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := arn.ParseRole(tt.in)
			if tt.want == (arn.Role{}) {
				if err == nil || !errors.Is(err, arn.ErrMalformed) {
					t.Fatalf("ParseRole(%q) = %+v, %v; want ErrMalformed", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRole(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestParseMethod(t *testing.T) {
	const stage = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod"
	tests := []struct {
		name      string
		in        string
		wantStage string // "": refused
	}{
		{"a GET on a resource", stage + "/GET/whoami", stage},
		{"the root resource", stage + "/GET/", stage},
		{"ANY as a wildcard verb", stage + "/*/whoami", stage},
		{"a nested resource", stage + "/POST/a/b/c", stage},
		{"a China API", "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod/GET/x", "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod"},
		{"a stage with hyphen and underscore", "arn:aws:execute-api:us-east-1:123456789012:abc/my-stage_2/GET/x", "arn:aws:execute-api:us-east-1:123456789012:abc/my-stage_2"},
		{"a wildcard stage is refused", "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/x", ""},
		{"a wildcard API is refused", "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/x", ""},
		{"a missing verb is refused", stage, ""},
		{"a lower-case verb is refused", stage + "/get/x", ""},
		{"another service is refused", "arn:aws:lambda:us-east-1:123456789012:abc/prod/GET/x", ""},
		{"no region is refused", "arn:aws:execute-api::123456789012:abc/prod/GET/x", ""},
		{"a bad region is refused", "arn:aws:execute-api:useast1:123456789012:abc/prod/GET/x", ""},
		{"a wildcard account is refused", "arn:aws:execute-api:us-east-1:*:abc/prod/GET/x", ""},
		{"a control character in the resource is refused", stage + "/GET/a\nb", ""},
		{"an empty string is refused", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := arn.ParseMethod(tt.in)
			if tt.wantStage == "" {
				if err == nil {
					t.Fatalf("ParseMethod(%q) = %+v; want an error", tt.in, m)
				}
				return
			}
			if err != nil || m.StageARN() != tt.wantStage {
				t.Fatalf("ParseMethod(%q) = %+v, %v; want stage %q", tt.in, m, err, tt.wantStage)
			}
			if m.String() != tt.in {
				t.Errorf("String() = %q, want %q", m.String(), tt.in)
			}
		})
	}
}

func TestPartitionAndDNSSuffix(t *testing.T) {
	tests := []struct{ region, partition, suffix string }{
		{"us-east-1", "aws", "amazonaws.com"},
		{"eu-west-2", "aws", "amazonaws.com"},
		{"cn-north-1", "aws-cn", "amazonaws.com.cn"},
		{"cn-northwest-1", "aws-cn", "amazonaws.com.cn"},
		{"us-gov-west-1", "aws-us-gov", "amazonaws.com"},
		{"us-iso-east-1", "aws-iso", "c2s.ic.gov"},
		{"us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"},
		{"eusc-de-east-1", "aws-eusc", "amazonaws.eu"},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			if got := arn.PartitionOf(tt.region); got != tt.partition {
				t.Errorf("PartitionOf = %q, want %q", got, tt.partition)
			}
			if got := arn.DNSSuffix(tt.region); got != tt.suffix {
				t.Errorf("DNSSuffix = %q, want %q", got, tt.suffix)
			}
			if !arn.ValidRegion(tt.region) || !arn.ValidPartition(tt.partition) {
				t.Errorf("region or partition not valid")
			}
		})
	}
}

func FuzzParseRole(f *testing.F) {
	f.Add("arn:aws:iam::123456789012:role/admins")
	f.Add("arn:aws-cn:iam::123456789012:role/p/q/r")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := arn.ParseRole(s)
		if err != nil {
			return
		}
		// A parsed role is exactly its input: nothing is normalised away.
		if r.String() != s {
			t.Fatalf("ParseRole(%q).String() = %q", s, r.String())
		}
		if strings.ContainsAny(r.Name, "*?/: ") || strings.ContainsAny(r.AccountID, "*?") {
			t.Fatalf("ParseRole(%q) let a wildcard or separator through: %+v", s, r)
		}
	})
}

func FuzzParseMethod(f *testing.F) {
	f.Add("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/whoami")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := arn.ParseMethod(s)
		if err != nil {
			return
		}
		if m.String() != s || strings.ContainsAny(m.StageARN()[len("arn:"):], "*?") {
			t.Fatalf("ParseMethod(%q) = %+v: not its input, or a wildcard in the stage", s, m)
		}
	})
}

// TestNameClassIsNameChar: the regexp spelling of the IAM name grammar and the byte test are one set.
func TestNameClassIsNameChar(t *testing.T) {
	re := regexp.MustCompile(`^[` + arn.NameClass + `]$`)
	for c := range 256 {
		if re.MatchString(string(rune(c))) != arn.NameChar(byte(c)) {
			t.Errorf("byte %q: NameClass says %v, NameChar %v", byte(c), re.MatchString(string(rune(c))), arn.NameChar(byte(c)))
		}
	}
}
