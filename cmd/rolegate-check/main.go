// Command rolegate-check applies the project rules to rolegate's
// CloudFormation template and prints each finding; it exits 1 when there is
// any. `make cfn-lint` runs it beside cfn-lint and cfn-guard.
//
//	rolegate-check [-template deploy/template.yaml] [-packaged FILE] [-rules]
//
// -packaged also writes the template as `aws cloudformation package` would
// (offline, placeholder S3 keys), for cfn-lint to check the packaged form.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/rolegate/rolegate/deploy"
)

func main() {
	path := flag.String("template", "deploy/template.yaml", "the CloudFormation template to check")
	rules := flag.Bool("rules", false, "list the rules and exit")
	packaged := flag.String("packaged", "", "also write the offline-packaged template to this file")
	flag.Parse()
	if *rules {
		for _, r := range deploy.Rules {
			fmt.Printf("%-36s %s\n", r.ID, r.Doc)
		}
		return
	}
	os.Exit(run(*path, *packaged))
}

func run(path, packaged string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rolegate-check:", err)
		return 2
	}
	t, err := deploy.ParseTemplate(b)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rolegate-check: %s: %v\n", path, err)
		return 2
	}
	if packaged != "" {
		out, err := deploy.Package(b, deploy.PlaceholderKeys("rolegate-artifacts"))
		if err == nil {
			err = os.WriteFile(packaged, out, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "rolegate-check:", err)
			return 2
		}
	}
	findings := deploy.Check(t)
	for _, f := range findings {
		fmt.Println(f)
	}
	if len(findings) > 0 {
		fmt.Fprintf(os.Stderr, "rolegate-check: %s: %d findings\n", path, len(findings))
		return 1
	}
	fmt.Printf("rolegate-check: %s passes all %d project rules\n", path, len(deploy.Rules))
	return 0
}
