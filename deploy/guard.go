package deploy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/rolegate/rolegate/internal/cfn"
)

// The AWS Control Tower proactive controls are CloudFormation Guard rules,
// published with cfn-guard in the npm package @cdklabs/cdk-validator-cfnguard.
// docs/deploy.md holds the one table saying, for every control of the
// services the template uses, whether the template meets it; CheckControls
// holds the table to what cfn-guard says.

// Control is one row of that table.
type Control struct {
	ID     string            // e.g. APIGATEWAY.PR.1
	Status string            // one of the Control* statuses
	Params map[string]string // for ControlByParameter: the values that meet it
}

// A control's status in the table.
const (
	ControlMet         = "met"
	ControlByParameter = "met by parameter"
	ControlNotMet      = "not met"
	ControlNotApplied  = "not applicable"
)

// guardServices maps a control's service to its rule directory and file prefix.
var guardServices = map[string][2]string{
	"APIGATEWAY": {"apigateway", "apigateway"},
	"CLOUDWATCH": {"cloudwatch", "cloudwatch"},
	"IAM":        {"identityandaccessmanagement", "iam"},
	"KMS":        {"keymanagementservice", "kms"},
	"LAMBDA":     {"lambda", "lambda"},
	"S3":         {"s3", "s3"},
}

var (
	controlRow = regexp.MustCompile(`^\|\s*([A-Z0-9]+)\.PR\.([0-9]+)\s*\|[^|]*\|\s*([^|]+?)\s*\|`)
	paramValue = regexp.MustCompile("`([A-Za-z0-9]+)=([^`]*)`")
	ruleFile   = regexp.MustCompile(`^ct-([a-z0-9]+)-pr-([0-9]+)\.guard$`)
)

// ParseControls reads the control table of docs/deploy.md: rows of
// | SERVICE.PR.n | what it requires | status | why |, where a "met by
// parameter" status names the values that meet it as `Name=Value`.
func ParseControls(md []byte) ([]Control, error) {
	var out []Control
	sc := bufio.NewScanner(bytes.NewReader(md))
	for sc.Scan() {
		m := controlRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if _, ok := guardServices[m[1]]; !ok {
			return nil, fmt.Errorf("controls: %s.PR.%s: unknown service", m[1], m[2])
		}
		c := Control{ID: m[1] + ".PR." + m[2], Params: map[string]string{}}
		cell := strings.ToLower(strings.TrimSpace(m[3]))
		for _, s := range []string{ControlByParameter, ControlNotMet, ControlNotApplied, ControlMet} {
			if strings.HasPrefix(cell, s) {
				c.Status = s
				break
			}
		}
		for _, p := range paramValue.FindAllStringSubmatch(m[3], -1) {
			c.Params[p[1]] = p[2]
		}
		switch {
		case c.Status == "":
			return nil, fmt.Errorf("controls: %s: status %q is none of met, met by parameter, not met, not applicable", c.ID, m[3])
		case c.Status == ControlByParameter && len(c.Params) == 0:
			return nil, fmt.Errorf("controls: %s: met by parameter, but which? Write `Name=Value`", c.ID)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// Guard is an installed @cdklabs/cdk-validator-cfnguard package: the
// cfn-guard binary for this machine and the Control Tower rules.
type Guard struct {
	Bin   string
	Rules string // the rules/control-tower/cfn-guard directory
}

// FindGuard returns the Guard in the npm package directory dir.
func FindGuard(dir string) (Guard, error) {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	osDir := map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS]
	g := Guard{
		Bin:   filepath.Join(dir, "bin", osDir, arch, "cfn-guard"),
		Rules: filepath.Join(dir, "rules", "control-tower", "cfn-guard"),
	}
	for _, p := range []string{g.Bin, g.Rules} {
		if _, err := os.Stat(p); err != nil {
			return Guard{}, fmt.Errorf("cfn-guard: %w (install it: make guard-tools)", err)
		}
	}
	return g, nil
}

// ruleFile returns the rule file of control id, e.g. .../s3/ct-s3-pr-2.guard.
func (g Guard) ruleFile(id string) string {
	svc, n, _ := strings.Cut(id, ".PR.")
	s := guardServices[svc]
	return filepath.Join(g.Rules, s[0], "ct-"+s[1]+"-pr-"+n+".guard")
}

// Controls lists the ids of every control of the services the template uses.
func (g Guard) Controls() ([]string, error) {
	var out []string
	for svc, s := range guardServices {
		entries, err := os.ReadDir(filepath.Join(g.Rules, s[0]))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if m := ruleFile.FindStringSubmatch(e.Name()); m != nil {
				out = append(out, svc+".PR."+m[2])
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// Evaluate runs control id's rule over the template file and returns
// cfn-guard's status: PASS, FAIL or SKIP (no resource it applies to).
func (g Guard) Evaluate(ctx context.Context, id, file string) (string, error) {
	cmd := exec.CommandContext(ctx, g.Bin, "validate", "--show-summary", "all", "--rules", g.ruleFile(id), "--data", file)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 19) { // 19: a rule failed
		return "", fmt.Errorf("cfn-guard %s: %v\n%s", id, err, out)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	_, status, ok := strings.Cut(first, "Status = ")
	if !ok {
		return "", fmt.Errorf("cfn-guard %s: no status in %q", id, first)
	}
	return strings.TrimSpace(status), nil
}

// CheckControls resolves t (with its defaults, and with each parameter set
// of a "met by parameter" control) into dir and holds every control to its
// row: met passes; met by parameter fails with the defaults and passes with
// its values; not met fails; not applicable is skipped. Every control of the
// services must have a row.
func CheckControls(ctx context.Context, g Guard, t *cfn.Template, controls []Control, dir string) ([]Finding, error) {
	var out []Finding
	add := func(id, format string, args ...any) {
		out = append(out, Finding{Rule: "control-tower", Resource: id, Message: fmt.Sprintf(format, args...)})
	}
	all, err := g.Controls()
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, c := range controls {
		if listed[c.ID] {
			add(c.ID, "listed twice")
		}
		listed[c.ID] = true
		if !slices.Contains(all, c.ID) {
			add(c.ID, "no such control in %s", g.Rules)
		}
	}
	for _, id := range all {
		if !listed[id] {
			add(id, "missing from the table: say whether the template meets it")
		}
	}
	files := map[string]string{} // parameter values → resolved template
	resolved := func(values map[string]string) (string, error) {
		key := fmt.Sprint(values)
		if f, ok := files[key]; ok {
			return f, nil
		}
		b, err := cfn.Resolve(t, values)
		if err != nil {
			return "", err
		}
		f := filepath.Join(dir, fmt.Sprintf("resolved-%d.json", len(files)))
		files[key] = f
		return f, os.WriteFile(f, b, 0o644)
	}
	for _, c := range controls {
		if !slices.Contains(all, c.ID) {
			continue
		}
		want := map[string]string{ControlMet: "PASS", ControlByParameter: "FAIL", ControlNotMet: "FAIL", ControlNotApplied: "SKIP"}[c.Status]
		f, err := resolved(nil)
		if err != nil {
			return nil, err
		}
		got, err := g.Evaluate(ctx, c.ID, f)
		if err != nil {
			return nil, err
		}
		if got != want {
			add(c.ID, "listed as %s, so cfn-guard should say %s with the defaults; it says %s", c.Status, want, got)
		}
		if c.Status != ControlByParameter {
			continue
		}
		if f, err = resolved(c.Params); err != nil {
			return nil, err
		}
		if got, err = g.Evaluate(ctx, c.ID, f); err != nil {
			return nil, err
		}
		if got != "PASS" {
			add(c.ID, "listed as met with %v, but cfn-guard says %s", slices.Sorted(maps.Keys(c.Params)), got)
		}
	}
	return out, nil
}
