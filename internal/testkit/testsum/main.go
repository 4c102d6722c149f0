// Command testsum reads `go test -json` on stdin and prints what `go test`
// prints (each package's ok or FAIL line, and the output of every failed
// test), then one summary line: packages, tests passed, skipped and failed,
// and the time taken. It exits 1 when anything failed. make test uses it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// event is one line of test2json's output (go doc test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	if !summarize(os.Stdin, os.Stdout, time.Now()) {
		os.Exit(1)
	}
}

// summarize copies r's report to w as go test would print it, then the summary line; it reports whether
// everything passed.
func summarize(r io.Reader, w io.Writer, start time.Time) bool {
	var pkgs, noTests, passed, skipped, failed, failedPkgs int
	outputs := map[string][]string{} // a running test's output, printed if it fails
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Fprintln(w, sc.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "output" && e.Test != "":
			outputs[key] = append(outputs[key], e.Output)
		case e.Action == "output" && e.Output == "PASS\n":
			// go test without -v prints only the ok line
		case e.Action == "output" || e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Test != "" && (e.Action == "pass" || e.Action == "skip" || e.Action == "fail"):
			switch e.Action {
			case "pass":
				passed++
			case "skip":
				skipped++
			case "fail":
				failed++
				fmt.Fprint(w, strings.Join(outputs[key], ""))
			}
			delete(outputs, key)
		case e.Test == "" && (e.Action == "pass" || e.Action == "skip" || e.Action == "fail"):
			pkgs++
			if e.Action == "skip" {
				noTests++
			}
			if e.Action == "fail" {
				failedPkgs++
			}
		}
	}
	fmt.Fprintf(w, "\ntests: %d packages (%d without tests, %d failed), %d tests passed, %d skipped, %d failed, in %s\n",
		pkgs, noTests, failedPkgs, passed, skipped, failed, time.Since(start).Round(time.Second))
	return failed == 0 && failedPkgs == 0 && sc.Err() == nil
}
