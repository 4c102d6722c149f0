// Package testenv tells tests whether the real parts they drive are here:
// the Lambda Runtime Interface Emulator, moto_server, cfn-lint, cfn-guard and
// the aws CLI. Like the Go repository's internal/testenv, MustHave skips
// under -short and otherwise fails with an install hint, so `go test -short
// ./...` passes on a bare machine while `make test` runs, or loudly misses,
// everything.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// hints says how to get each tool the tests use.
var hints = map[string]string{
	"aws-lambda-rie": "make tools (go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@…)",
	"moto_server":    `pip install "moto[server]"`,
	"cfn-lint":       `pip install "cfn-lint==1.51.0"`,
	"cfn-guard":      "make tools (npm install @cdklabs/cdk-validator-cfnguard@0.0.62)",
	"aws":            "pip install awscli",
}

// LookPath finds tool on PATH or in $GOPATH/bin, where go install puts it.
func LookPath(tool string) (string, error) {
	p, err := exec.LookPath(tool)
	if err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	if p := filepath.Join(gopath, "bin", tool); isExecutable(p) {
		return p, nil
	}
	return "", err
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// MustHave returns tool's path. When tool is missing it skips t under -short,
// and otherwise fails t with a hint on how to install it.
func MustHave(t testing.TB, tool string) string {
	t.Helper()
	p, err := LookPath(tool)
	if err == nil {
		return p
	}
	if testing.Short() {
		t.Skipf("%s not found; skipped under -short", tool)
	}
	hint := hints[tool]
	if hint == "" {
		hint = "install it"
	}
	t.Fatalf("%s not found on PATH: %s", tool, hint)
	return ""
}
