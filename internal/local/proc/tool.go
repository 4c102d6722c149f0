// Package proc finds the programs rolegate's local runs and tests drive
// (aws-lambda-rie, moto_server, cfn-lint, the aws CLI) one way, says how to
// install each at the version the project pins (pins.mk, which the Makefile
// includes too), and runs one as a child process: in its own process group,
// ended when this process dies, ready when a probe answers, stopped with its
// group.
package proc

import (
	_ "embed"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed pins.mk
var pins string

// Pin returns the version pins.mk gives name (RIE_VERSION, CFN_LINT_VERSION, CFNGUARD_PKG), or "".
func Pin(name string) string {
	for line := range strings.Lines(pins) {
		if k, v, ok := strings.Cut(line, ":="); ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// A Tool is a program rolegate drives, by the name it is installed under.
type Tool string

// The tools.
const (
	RIE     Tool = "aws-lambda-rie"
	Moto    Tool = "moto_server"
	CfnLint Tool = "cfn-lint"
	AWSCLI  Tool = "aws"
)

// Install says how to install t at the pinned version.
func (t Tool) Install() string {
	switch t {
	case RIE:
		return "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@" + Pin("RIE_VERSION")
	case Moto:
		return `pip install "moto[server]"`
	case CfnLint:
		return `pip install "cfn-lint==` + Pin("CFN_LINT_VERSION") + `"`
	case AWSCLI:
		return "pip install awscli"
	}
	return "install " + string(t)
}

// ErrNotInstalled reports that a tool is not where Find looks; errors.Is finds it in Find's error.
var ErrNotInstalled = errors.New("not installed")

type notInstalled Tool

func (e notInstalled) Error() string {
	return string(e) + " not found; install it with: " + Tool(e).Install()
}
func (e notInstalled) Is(target error) bool { return target == ErrNotInstalled }

// Find returns t's path: on PATH, else where go install puts it, GOBIN or GOPATH's bin as `go env` reports them
// (~/go/bin without go). The stack, the tests and make tools all look there, so they agree on what is installed.
func Find(t Tool) (string, error) {
	if p, err := exec.LookPath(string(t)); err == nil {
		return p, nil
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		gobin, gopath, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		dirs = append(dirs, gobin)
		for _, gp := range filepath.SplitList(gopath) {
			dirs = append(dirs, filepath.Join(gp, "bin"))
		}
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, string(t))
		if fi, err := os.Stat(p); d != "" && err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", notInstalled(t)
}
