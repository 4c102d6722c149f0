// Command rolegate-check applies the project rules to rolegate's
// CloudFormation template and prints each finding; it exits 1 when there is
// any. `make cfn-lint` runs it beside cfn-lint.
//
//	rolegate-check [-template deploy/template.yaml] [-packaged FILE]
//	               [-guard DIR -controls docs/deploy.md] [-rules]
//
// -packaged also writes the template as `aws cloudformation package` would
// (offline, placeholder S3 keys), for cfn-lint to check the packaged form.
// -guard names the installed @cdklabs/cdk-validator-cfnguard package: the
// AWS Control Tower controls are then run with cfn-guard and held to the
// table in -controls.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/rolegate/rolegate/deploy"
	"github.com/rolegate/rolegate/internal/cfn"
)

func main() {
	var o options
	flag.StringVar(&o.template, "template", "deploy/template.yaml", "the CloudFormation template to check")
	flag.StringVar(&o.packaged, "packaged", "", "also write the offline-packaged template to this file")
	flag.StringVar(&o.guard, "guard", "", "directory of the @cdklabs/cdk-validator-cfnguard npm package: check the Control Tower controls")
	flag.StringVar(&o.controls, "controls", "docs/deploy.md", "the document whose table says which controls the template meets")
	rules := flag.Bool("rules", false, "list the rules and exit")
	flag.Parse()
	if *rules {
		for _, r := range deploy.Rules() {
			fmt.Printf("%-36s %s\n", r.ID, r.Doc)
		}
		return
	}
	findings, err := run(context.Background(), o)
	for _, f := range findings {
		fmt.Println(f)
	}
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "rolegate-check:", err)
		os.Exit(2)
	case len(findings) > 0:
		fmt.Fprintf(os.Stderr, "rolegate-check: %s: %d findings\n", o.template, len(findings))
		os.Exit(1)
	}
	fmt.Printf("rolegate-check: %s passes all %d project rules", o.template, len(deploy.Rules()))
	if o.guard != "" {
		fmt.Printf(" and the Control Tower table in %s", o.controls)
	}
	fmt.Println()
}

type options struct {
	template, packaged, guard, controls string
}

func run(ctx context.Context, o options) ([]deploy.Finding, error) {
	b, err := os.ReadFile(o.template)
	if err != nil {
		return nil, err
	}
	t, err := cfn.ParseTemplate(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.template, err)
	}
	if o.packaged != "" {
		out, err := deploy.Package(b, deploy.PlaceholderKeys("rolegate-artifacts"))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(o.packaged, out, 0o644); err != nil {
			return nil, err
		}
	}
	findings := deploy.Check(t)
	if o.guard == "" {
		return findings, nil
	}
	g, err := deploy.FindGuard(o.guard)
	if err != nil {
		return findings, err
	}
	md, err := os.ReadFile(o.controls)
	if err != nil {
		return findings, err
	}
	controls, err := deploy.ParseControls(md)
	if err != nil {
		return findings, err
	}
	dir, err := os.MkdirTemp("", "rolegate-check")
	if err != nil {
		return findings, err
	}
	defer os.RemoveAll(dir)
	more, err := deploy.CheckControls(ctx, g, t, controls, dir)
	return append(findings, more...), err
}
