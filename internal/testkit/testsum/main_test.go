package main

import (
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	in := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: want 2\n"}
{"Action":"fail","Package":"p","Test":"TestB"}
{"Action":"skip","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
{"Action":"output","Package":"q","Output":"?   \tq\t[no test files]\n"}
{"Action":"skip","Package":"q"}
`
	var out strings.Builder
	if summarize(strings.NewReader(in), &out, time.Now()) {
		t.Error("a failed test was reported as passing")
	}
	for _, want := range []string{"b_test.go:9: want 2", "FAIL\tp", "tests: 2 packages (1 without tests, 1 failed), 1 tests passed, 1 skipped, 1 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "--- PASS") {
		t.Error("a passing test's output was printed")
	}
}
