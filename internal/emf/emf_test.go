package emf_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/emf"
)

func TestRecordWritesAValidDocument(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	at := time.Date(2026, 12, 1, 12, 0, 0, 5e6, time.UTC)
	r := emf.Record{
		Namespace:  "rolegate",
		Time:       at,
		Dimensions: []emf.Dimension{{"Outcome", "deny"}, {"Reason", "no_role"}},
		Sets:       [][]string{{"Outcome"}, {"Outcome", "Reason"}},
		Metrics:    []emf.Metric{{"Decisions", emf.Count, 1}, {"CacheHit", emf.Count, 0}},
	}
	log.LogAttrs(t.Context(), slog.LevelInfo, "decision", append(r.Attrs(), slog.String("sub", "s"))...)

	d, err := emf.Validate(buf.Bytes())
	if err != nil {
		t.Fatalf("Validate: %v\n%s", err, buf.Bytes())
	}
	if d.Namespace != "rolegate" || d.Timestamp != at.UnixMilli() {
		t.Errorf("namespace, timestamp = %q, %d", d.Namespace, d.Timestamp)
	}
	if d.Values["Decisions"] != 1 || d.Values["CacheHit"] != 0 || d.Units["Decisions"] != emf.Count {
		t.Errorf("values = %v, units = %v", d.Values, d.Units)
	}
	if len(d.Sets) != 2 || d.Members["Reason"] != "no_role" || d.Members["sub"] != "s" {
		t.Errorf("sets = %v, members = %v", d.Sets, d.Members)
	}
}

func TestValidateRefuses(t *testing.T) {
	good := `{"_aws":{"Timestamp":1764590400000,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Outcome"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]}]},"Outcome":"ok","Requests":1}`
	if _, err := emf.Validate([]byte(good)); err != nil {
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
		{"a metric that is not a number", strings.Replace(good, `"Requests":1`, `"Requests":"1"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := emf.Validate([]byte(tt.line)); err == nil {
				t.Fatalf("Validate accepted %s", tt.line)
			}
		})
	}
}

func TestValidNamespace(t *testing.T) {
	for _, tt := range []struct {
		ns   string
		want bool
	}{
		{"rolegate", true},
		{"Team/rolegate-prod_1.x#a:b", true},
		{strings.Repeat("n", 255), true},
		{"", false},
		{strings.Repeat("n", 256), false},
		{"AWS/Lambda", false},
		{"role gate", false},
		{"rolegate\n", false},
		{"rôlegate", false},
	} {
		if got := emf.ValidNamespace(tt.ns); got != tt.want {
			t.Errorf("ValidNamespace(%q) = %v, want %v", tt.ns, got, tt.want)
		}
	}
}
