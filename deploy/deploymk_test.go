package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAWS is an aws CLI stand-in for make deploy's own logic: it records each
// call, says the stack is $STACK_STATUS (or does not exist, or, with
// $DESCRIBE_ERROR, fails), and succeeds at everything else.
const fakeAWS = `#!/usr/bin/env bash
echo "$*" >>"$CALLS"
case "$1 $2" in
"cloudformation describe-stacks")
	if [[ "$*" == *StackStatus* ]]; then
		if [[ -n $DESCRIBE_ERROR ]]; then echo "$DESCRIBE_ERROR" >&2; exit 254; fi
		if [[ -z $STACK_STATUS ]]; then
			echo "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id $4 does not exist" >&2
			exit 254
		fi
		echo "$STACK_STATUS"
	fi;;
"cloudformation describe-stack-resource") echo "physical-id";;
"apigateway create-deployment") echo "dep1";;
esac
exit 0
`

// TestMakeDeploy runs the deploy target of deploy.mk with a stand-in aws
// CLI: a new stack is created with the user pool unprotected and protected
// once complete, an existing one is updated once, and a stuck one is refused
// with the way out.
func TestMakeDeploy(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not found")
	}
	dir := t.TempDir()
	aws := filepath.Join(dir, "aws")
	if err := os.WriteFile(aws, []byte(fakeAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		env        []string
		wantOK     bool
		wantDeploy []string // the --parameter-overrides of each cloudformation deploy, in order
		wantOutput string
	}{
		{
			name: "a new stack is created unprotected, then protected", wantOK: true,
			wantDeploy: []string{"UserPoolDeletionProtection=INACTIVE", "UserPoolDeletionProtection=ACTIVE"},
		},
		{
			name: "a new throw-away stack stays unprotected", wantOK: true,
			args:       []string{"DELETION_PROTECTION=INACTIVE", "PASSWORD_AUTH=true"},
			wantDeploy: []string{"UserPoolDeletionProtection=INACTIVE EnablePasswordAuth=true"},
		},
		{
			name: "an existing stack is updated once, with the options given", wantOK: true,
			env:        []string{"STACK_STATUS=UPDATE_COMPLETE"},
			args:       []string{"PASSWORD_AUTH=true"},
			wantDeploy: []string{"EnablePasswordAuth=true"},
		},
		{
			name: "an existing stack without options keeps its values", wantOK: true,
			env:        []string{"STACK_STATUS=CREATE_COMPLETE"},
			wantDeploy: []string{""},
		},
		{
			name:       "a stack stuck in ROLLBACK_FAILED is refused with the way out",
			env:        []string{"STACK_STATUS=ROLLBACK_FAILED"},
			wantOutput: `is ROLLBACK_FAILED and cannot be updated: see docs/deploy.md, "Recovering a stuck stack"`,
		},
		{
			name:       "a stack that cannot be read is not taken for a new one",
			env:        []string{"DESCRIBE_ERROR=An error occurred (AccessDenied)"},
			wantOutput: "cannot read stack rg: An error occurred (AccessDenied)",
		},
		{
			name:       "an upper-case stack name is refused: role names ignore case",
			args:       []string{"STACK=Rolegate"},
			wantOutput: "STACK must be a lower-case letter",
		},
		{
			name:       "a stack name too long for <stack>-<region>-readers is refused",
			args:       []string{"STACK=" + strings.Repeat("a", 39)},
			wantOutput: "64 characters at most",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := filepath.Join(dir, strings.Repeat("c", i+1))
			args := append([]string{"-C", "..", "--no-print-directory", "-o", "package", "deploy",
				"STACK=rg", "BUCKET=b", "AWS=" + aws, "PACKAGED=packaged.yaml"}, tt.args...)
			cmd := exec.Command("make", args...)
			cmd.Env = append(withoutAWSEnv(os.Environ()), append(tt.env, "CALLS="+calls)...)
			out, err := cmd.CombinedOutput()
			if (err == nil) != tt.wantOK || !strings.Contains(string(out), tt.wantOutput) {
				t.Fatalf("make deploy: err = %v, want ok=%v and output containing %q; output:\n%s", err, tt.wantOK, tt.wantOutput, out)
			}
			b, _ := os.ReadFile(calls)
			var deploys []string
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "cloudformation deploy ") {
					_, overrides, _ := strings.Cut(line, "--parameter-overrides ")
					deploys = append(deploys, strings.TrimSpace(overrides))
				}
			}
			if strings.Join(deploys, "|") != strings.Join(tt.wantDeploy, "|") {
				t.Errorf("cloudformation deploy overrides = %q, want %q\noutput:\n%s", deploys, tt.wantDeploy, out)
			}
		})
	}
}
