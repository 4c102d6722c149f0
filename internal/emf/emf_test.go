package emf_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/emf"
	"github.com/rolegate/rolegate/internal/emf/emftest"
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

	d, err := emftest.Validate(buf.Bytes())
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
