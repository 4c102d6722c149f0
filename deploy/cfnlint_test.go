package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/testkit/testenv"
)

// lintFinding is one entry of `cfn-lint --format json`.
type lintFinding struct {
	Filename string
	Level    string
	Message  string
	Location struct {
		Path  []any
		Start struct{ LineNumber int }
	}
	Rule struct{ Id string }
}

func (f lintFinding) String() string {
	return fmt.Sprintf("%s %s line %d: %s (%v)", f.Rule.Id, f.Level, f.Location.Start.LineNumber, f.Message, f.Location.Path)
}

// cfnLint runs one cfn-lint process, with informational rules on, over
// files (absolute paths), and returns the findings per file. One process for
// many templates: its start-up is most of its cost.
func cfnLint(t testing.TB, files ...string) map[string][]lintFinding {
	t.Helper()
	bin := testenv.MustHave(t, "cfn-lint")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"--format", "json", "--include-checks", "I", "--"}, files...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// Exit status is a bit set of levels found: 2 error, 4 warning, 8 info.
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode()&^(2|4|8) != 0) {
		t.Fatalf("cfn-lint %v: %v\n%s%s", files, err, stdout.String(), stderr.String())
	}
	var all []lintFinding
	if err := json.Unmarshal(stdout.Bytes(), &all); err != nil {
		t.Fatalf("cfn-lint output is not JSON: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := map[string][]lintFinding{}
	for _, f := range all {
		out[f.Filename] = append(out[f.Filename], f)
	}
	return out
}

// writePackaged packages src offline and writes it to dir/name.
func writePackaged(t testing.TB, src []byte, dir, name string) string {
	t.Helper()
	packaged, err := Package(src, PlaceholderKeys("rolegate-artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, packaged, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readTemplate(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTemplateLintsClean is what CloudFormation would say before a deploy:
// each packaged template (template.yaml and http-api.yaml) has no cfn-lint
// finding at all, informational ones included; the source templates only
// W3002, "works with package only", which is how they are meant to be used.
func TestTemplateLintsClean(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var files []string
	for _, name := range []string{"template.yaml", "http-api.yaml"} {
		src, err := filepath.Abs(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, src, writePackaged(t, b, dir, "packaged-"+name))
	}
	found := cfnLint(t, files...)
	for i := 0; i < len(files); i += 2 {
		src, packaged := files[i], files[i+1]
		for _, f := range found[packaged] {
			t.Errorf("packaged %s: %v", filepath.Base(src), f)
		}
		for _, f := range found[src] {
			if f.Rule.Id == "W3002" && len(f.Location.Path) == 4 && f.Location.Path[3] == "Code" {
				continue
			}
			t.Errorf("deploy/%s: %v", filepath.Base(src), f)
		}
	}
	for name := range found {
		if !slices.Contains(files, name) {
			t.Errorf("cfn-lint reported a file it was not given: %s", name)
		}
	}
}

// TestCfnLintVersion pins what the findings above were written against; a
// new cfn-lint may add rules, which is welcome but should be a conscious step.
func TestCfnLintVersion(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(testenv.MustHave(t, "cfn-lint"), "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint --version: %v\n%s", err, out)
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, "cfn-lint 1.") {
		t.Fatalf("cfn-lint version %q; the checks are written for 1.x (1.51.0 on the machine image)", v)
	}
}
