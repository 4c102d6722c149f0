package emftest_test

import (
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/emf/emftest"
)

func TestValidateRefuses(t *testing.T) {
	good := `{"_aws":{"Timestamp":1764590400000,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Outcome"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}]},"Outcome":"ok","Requests":1}`
	if _, err := emftest.Validate([]byte(good)); err != nil {
		t.Fatalf("the good document: %v", err)
	}
	tests := []struct{ name, line string }{
		{"a line that is not JSON", `nope`},
		{"two lines", strings.Replace(good, `,"Outcome"`, ",\n\"Outcome\"", 1)},
		{"no _aws member", `{"Requests":1}`},
		{"a timestamp in seconds as a string", strings.Replace(good, `1764590400000`, `"1764590400"`, 1)},
		{"a fractional timestamp", strings.Replace(good, `1764590400000`, `1764590400000.5`, 1)},
		{"no directives", strings.Replace(good, `[{"Namespace":"n","Dimensions":[["Outcome"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}]`, `[]`, 1)},
		{"a directive without namespace", strings.Replace(good, `"Namespace":"n",`, ``, 1)},
		{"a dimension missing from the top level", strings.Replace(good, `"Outcome":"ok",`, ``, 1)},
		{"a dimension that is not a string", strings.Replace(good, `"Outcome":"ok"`, `"Outcome":1`, 1)},
		{"a metric missing from the top level", strings.Replace(good, `,"Requests":1`, ``, 1)},
		{"a bidi override as it is", strings.Replace(good, `"Outcome":"ok"`, "\"Outcome\":\"ok\u202e\"", 1)},
		{"a metric that is not a number", strings.Replace(good, `"Requests":1`, `"Requests":"1"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := emftest.Validate([]byte(tt.line)); err == nil {
				t.Fatalf("Validate accepted %s", tt.line)
			}
		})
	}
}
