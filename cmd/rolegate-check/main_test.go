package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	clean, err := os.ReadFile("../../deploy/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		template string
		want     string // a finding's rule id; "" for none
		err      string
	}{
		{name: "the template passes", template: string(clean)},
		{
			name:     "a mistake is a finding",
			template: strings.Replace(string(clean), "      TracingEnabled: true\n", "", 1),
			want:     "stage-settings Stage:",
		},
		{name: "a file that is no template is an error", template: "- a\n", err: "not a YAML or JSON mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "template.yaml")
			if err := os.WriteFile(path, []byte(tt.template), 0o644); err != nil {
				t.Fatal(err)
			}
			packaged := filepath.Join(dir, "packaged.yaml")
			findings, err := run(context.Background(), options{template: path, packaged: packaged})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && len(findings) > 0 {
				t.Errorf("findings on a clean template: %v", findings)
			}
			if tt.want != "" && (len(findings) != 1 || !strings.HasPrefix(findings[0].String(), tt.want)) {
				t.Errorf("findings = %v, want one %q", findings, tt.want)
			}
			if b, err := os.ReadFile(packaged); err != nil || !strings.Contains(string(b), "S3Bucket: rolegate-artifacts") {
				t.Errorf("packaged template not written: %v\n%s", err, b)
			}
		})
	}
}
