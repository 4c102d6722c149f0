package emf_test

import (
	"bytes"
	"io"
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

func TestRecordWritesNumbers(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 5e6, time.UTC)
	for _, tt := range []struct {
		name    string
		values  []float64
		members string // how the values are written
	}{
		{"whole values are written as integers", []float64{1, 0}, `"Decisions":1,"Latency":0`},
		{"a fraction is kept", []float64{1, 12.345}, `"Decisions":1,"Latency":12.345`},
		{"a negative whole value is an integer", []float64{-3, 1e15}, `"Decisions":-3,"Latency":1000000000000000`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := emf.Record{Namespace: "team/rolegate", Time: at,
				Dimensions: []emf.Dimension{{"Outcome", "deny"}},
				Sets:       [][]string{{"Outcome"}},
				Metrics:    []emf.Metric{{"Decisions", emf.Count, tt.values[0]}, {"Latency", emf.Milliseconds, tt.values[1]}},
			}
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).LogAttrs(t.Context(), slog.LevelInfo, "line", r.Attrs()...)
			d, err := emftest.Validate(buf.Bytes())
			if err != nil {
				t.Fatalf("Validate: %v\n%s", err, buf.Bytes())
			}
			if !strings.Contains(buf.String(), tt.members) {
				t.Errorf("line %s, want %s", buf.Bytes(), tt.members)
			}
			if d.Namespace != "team/rolegate" || d.Values["Latency"] != tt.values[1] || d.Units["Latency"] != emf.Milliseconds {
				t.Errorf("namespace %q, values %v, units %v", d.Namespace, d.Values, d.Units)
			}
		})
	}
}

// BenchmarkRecordLine is what one JSON line with its EMF part costs.
func BenchmarkRecordLine(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for b.Loop() {
		log.LogAttrs(b.Context(), slog.LevelInfo, "line", emf.Record{
			Namespace: "rolegate", Time: time.Now(), Sets: [][]string{{"Outcome"}, {"Outcome", "Reason"}},
			Dimensions: []emf.Dimension{{"Outcome", "allow"}, {"Reason", "ok"}},
			Metrics:    []emf.Metric{{"Decisions", emf.Count, 1}, {"CacheHit", emf.Count, 0}},
		}.Attrs()...)
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

func TestText(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
	}{
		{"plain text is kept", "alice@example.com", "alice@example.com"},
		{"letters of any script and emoji are kept", "Zo\u00eb \u5c71\u7530 \U0001f600", "Zo\u00eb \u5c71\u7530 \U0001f600"},
		{"a bidi override is escaped", "alice\u202egnp.exe", `alice\u202egnp.exe`},
		{"a zero-width space is escaped", "al\u200bice", `al\u200bice`},
		{"C0 controls and DEL are escaped", "a\nb\x00c\x7f", `a\u000ab\u0000c\u007f`},
		{"a C1 control is escaped", "a\u0085", `a\u0085`},
		{"line and paragraph separators are escaped", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"a backslash is escaped, so no escape can be forged", `a\u202e`, `a\u005cu202e`},
		{"a format character beyond the BMP is escaped", "a\U000e0001", `a\U000e0001`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := emf.Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.ContainsFunc(emf.Text(tt.in), emf.Hidden) {
				t.Errorf("Text(%q) keeps a hidden character", tt.in)
			}
		})
	}
}
