package backend_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    backend.Config
		wantErr bool
	}{
		{"nothing set gives the defaults", nil, backend.Config{}, false},
		{"empty variables count as unset", map[string]string{"ALLOWED_ROLE_ARNS": " ", "SOURCE_IDENTITY": "", "SESSION_DURATION": ""}, backend.Config{}, false},
		{"a list of patterns is split and trimmed", map[string]string{"ALLOWED_ROLE_ARNS": "arn:aws:iam::123456789012:role/a, arn:aws:iam::*:role/team/*,"},
			backend.Config{AllowedRoleARNs: []string{"arn:aws:iam::123456789012:role/a", "arn:aws:iam::*:role/team/*"}}, false},
		{"SOURCE_IDENTITY=false turns it off", map[string]string{"SOURCE_IDENTITY": "false"}, backend.Config{DisableSourceIdentity: true}, false},
		{"SOURCE_IDENTITY=true keeps it on", map[string]string{"SOURCE_IDENTITY": "true"}, backend.Config{}, false},
		{"a session duration in seconds is read", map[string]string{"SESSION_DURATION": "1800"}, backend.Config{SessionDuration: 30 * time.Minute}, false},
		{"a session duration as a Go duration is read", map[string]string{"SESSION_DURATION": "1h"}, backend.Config{SessionDuration: time.Hour}, false},
		{"SESSION_DURATION=900 is seconds, as CLOCK_SKEW=60 is for the authorizer", map[string]string{"SESSION_DURATION": "900"}, backend.Config{SessionDuration: 15 * time.Minute}, false},
		{"a session over an hour is refused", map[string]string{"SESSION_DURATION": "3601"}, backend.Config{}, true},
		{"a session under 15 minutes is refused", map[string]string{"SESSION_DURATION": "10m"}, backend.Config{}, true},
		{"a fractional session is refused", map[string]string{"SESSION_DURATION": "900.5s"}, backend.Config{}, true},
		{"a session duration of nonsense is refused", map[string]string{"SESSION_DURATION": "soon"}, backend.Config{}, true},
		{"SESSION_TAGS=false turns them off", map[string]string{"SESSION_TAGS": "false"}, backend.Config{DisableSessionTags: true}, false},
		{"SESSION_TAGS=true keeps them on", map[string]string{"SESSION_TAGS": "true"}, backend.Config{}, false},
		{"SESSION_TAGS of nonsense is refused", map[string]string{"SESSION_TAGS": "off"}, backend.Config{}, true},
		{"a metrics namespace is read", map[string]string{"METRICS_NAMESPACE": "team/rolegate"}, backend.Config{MetricsNamespace: "team/rolegate"}, false},
		{"an AWS/ metrics namespace is refused", map[string]string{"METRICS_NAMESPACE": "AWS/Lambda"}, backend.Config{}, true},
		{"a metrics namespace with a space is refused", map[string]string{"METRICS_NAMESPACE": "role gate"}, backend.Config{}, true},
		{"SOURCE_IDENTITY of nonsense is refused", map[string]string{"SOURCE_IDENTITY": "maybe"}, backend.Config{}, true},
		{"a role name instead of an ARN pattern is refused", map[string]string{"ALLOWED_ROLE_ARNS": "rolegate-*"}, backend.Config{}, true},
		{"a bare star is refused", map[string]string{"ALLOWED_ROLE_ARNS": "*"}, backend.Config{}, true},
		{"a user pattern is refused", map[string]string{"ALLOWED_ROLE_ARNS": "arn:aws:iam::123456789012:user/*"}, backend.Config{}, true},
		{"a pattern with a region is refused", map[string]string{"ALLOWED_ROLE_ARNS": "arn:aws:iam:us-east-1:123456789012:role/*"}, backend.Config{}, true},
		{"a pattern with a short account is refused", map[string]string{"ALLOWED_ROLE_ARNS": "arn:aws:iam::1234:role/*"}, backend.Config{}, true},
		{"a pattern with a space is refused", map[string]string{"ALLOWED_ROLE_ARNS": "arn:aws:iam::123456789012:role/a b"}, backend.Config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := backend.ConfigFromEnv(env(tt.env))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("config = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfigFromEnvReportsEveryProblem(t *testing.T) {
	_, err := backend.ConfigFromEnv(env(map[string]string{
		"ALLOWED_ROLE_ARNS": "rolegate-*",
		"SOURCE_IDENTITY":   "maybe",
		"SESSION_TAGS":      "off",
		"SESSION_DURATION":  "2h",
		"METRICS_NAMESPACE": "AWS/x",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	// each problem is one line that starts with its variable and value, as the authorizer's do
	want := []string{`SOURCE_IDENTITY="maybe"`, `SESSION_TAGS="off"`, `ALLOWED_ROLE_ARNS="rolegate-*"`, `SESSION_DURATION="2h0m0s"`, `METRICS_NAMESPACE="AWS/x"`}
	lines := strings.Split(err.Error(), "\n")
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("error line %d does not start %s:\n%s", i, w, err)
		}
	}
}

func TestNewRefusesBadSetups(t *testing.T) {
	base := newFixture(t, backend.Config{}).sts.Config()
	tests := []struct {
		name   string
		cfg    backend.Config
		client backend.AssumeRoleAPI
	}{
		{"a two-hour session", backend.Config{SessionDuration: 2 * time.Hour}, sts.NewFromConfig(base)},
		{"a negative cache bound", backend.Config{MaxSessions: -1}, sts.NewFromConfig(base)},
		{"no STS client", backend.Config{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if h, err := backend.New(tt.cfg, base, tt.client); err == nil || h != nil {
				t.Errorf("New = %v, %v; want an error", h, err)
			}
		})
	}
}
