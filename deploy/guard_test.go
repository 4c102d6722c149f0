package deploy

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/cfn"
)

// guardDir is where `make guard-tools` installs cfn-guard and the rules.
const guardDir = "../.tools/node_modules/@cdklabs/cdk-validator-cfnguard"

// mustHaveGuard finds the installed package; like testenv.MustHave, it
// skips under -short and otherwise fails with the install hint.
func mustHaveGuard(t *testing.T) Guard {
	t.Helper()
	g, err := FindGuard(guardDir)
	if err != nil {
		if testing.Short() {
			t.Skipf("%v; skipped under -short", err)
		}
		t.Fatal(err)
	}
	return g
}

func readControls(t *testing.T) []Control {
	t.Helper()
	md, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	controls, err := ParseControls(md)
	if err != nil {
		t.Fatal(err)
	}
	return controls
}

// TestControlTowerTable holds docs/deploy.md's table to what cfn-guard says
// of the template, and shows the check fails when either drifts.
func TestControlTowerTable(t *testing.T) {
	t.Parallel()
	g := mustHaveGuard(t)
	clean := string(readTemplate(t))
	controls := readControls(t)
	tests := []struct {
		name     string
		template func(string) string
		table    func([]Control) []Control
		want     []string // control ids with a finding
	}{
		{name: "the template meets the table"},
		{
			name:     "a stage without X-Ray fails a control listed as met",
			template: func(s string) string { return strings.Replace(s, "      TracingEnabled: true\n", "", 1) },
			want:     []string{"APIGATEWAY.PR.2"},
		},
		{
			name:     "log retention below a year fails a control listed as met",
			template: func(s string) string { return strings.Replace(s, "    Default: 365\n", "    Default: 30\n", 1) },
			want:     []string{"CLOUDWATCH.PR.2"},
		},
		{
			name: "a control claimed met that is not",
			table: func(cs []Control) []Control {
				return setStatus(cs, "LAMBDA.PR.3", ControlMet, nil)
			},
			want: []string{"LAMBDA.PR.3"},
		},
		{
			name: "a parameter that does not meet its control",
			table: func(cs []Control) []Control {
				return setStatus(cs, "APIGATEWAY.PR.1", ControlByParameter, map[string]string{"ExecutionLogLevel": "OFF"})
			},
			want: []string{"APIGATEWAY.PR.1"},
		},
		{
			name:  "a control left out of the table",
			table: func(cs []Control) []Control { return cs[1:] },
			want:  []string{cs0(controls)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, table := clean, controls
			if tt.template != nil {
				src = tt.template(src)
				if src == clean {
					t.Fatal("the template change did not apply")
				}
			}
			if tt.table != nil {
				table = tt.table(append([]Control(nil), controls...))
			}
			tmpl, err := cfn.ParseTemplate([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			findings, err := CheckControls(context.Background(), g, tmpl, table, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findings {
				got = append(got, f.Resource)
				if len(tt.want) == 0 {
					t.Error(f)
				}
			}
			if len(tt.want) > 0 && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings for %v, want %v: %v", got, tt.want, findings)
			}
		})
	}
}

func cs0(cs []Control) string {
	if len(cs) == 0 {
		return ""
	}
	return cs[0].ID
}

func setStatus(cs []Control, id, status string, params map[string]string) []Control {
	for i := range cs {
		if cs[i].ID == id {
			cs[i] = Control{ID: id, Status: status, Params: params}
		}
	}
	return cs
}

func TestParseControls(t *testing.T) {
	tests := []struct {
		name, md string
		want     []Control
		err      string
	}{
		{
			name: "each status, and a parameter's value",
			md: "| control | x | status | why |\n| --- | --- | --- | --- |\n" +
				"| S3.PR.1 | block | met | |\n" +
				"| S3.PR.10 | kms | met by parameter `DataBucketKmsKeyArn=arn:k` | key |\n" +
				"| LAMBDA.PR.3 | vpc | not met | jwks |\n" +
				"| KMS.PR.1 | rotation | not applicable | no key |\n",
			want: []Control{
				{ID: "S3.PR.1", Status: ControlMet, Params: map[string]string{}},
				{ID: "S3.PR.10", Status: ControlByParameter, Params: map[string]string{"DataBucketKmsKeyArn": "arn:k"}},
				{ID: "LAMBDA.PR.3", Status: ControlNotMet, Params: map[string]string{}},
				{ID: "KMS.PR.1", Status: ControlNotApplied, Params: map[string]string{}},
			},
		},
		{name: "an unknown status", md: "| S3.PR.1 | x | partly | |\n", err: "none of met"},
		{name: "met by parameter without the parameter", md: "| S3.PR.1 | x | met by parameter | |\n", err: "but which"},
		{name: "a service the template does not use", md: "| RDS.PR.1 | x | met | |\n", err: "unknown service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseControls([]byte(tt.md))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, tt.want)
			}
		})
	}
}
