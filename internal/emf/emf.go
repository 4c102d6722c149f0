// Package emf makes a JSON log line a CloudWatch Embedded Metric Format
// document, so that one line per decision carries both the log fields and the
// metrics, with no agent and no API call.
//
// A Record becomes slog attributes: the _aws metadata
// member and one top-level member per dimension and metric. Dimensions must
// come from bounded sets (an outcome, a reason class), never a user, token,
// role or request id: each distinct value is a billed metric. emftest checks
// a written line against the specification's rules.
package emf

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
)

// DefaultNamespace is the metric namespace when METRICS_NAMESPACE is unset.
const DefaultNamespace = "rolegate"

// NamespaceRule says what ValidNamespace accepts, for configuration errors.
const NamespaceRule = "1 to 255 of [0-9A-Za-z.-_/#:], not starting with AWS/"

// ValidNamespace reports whether ns is a custom CloudWatch namespace: 1 to 255
// of [0-9A-Za-z.-_/#:], not starting with "AWS/" (reserved for AWS services).
func ValidNamespace(ns string) bool {
	if ns == "" || len(ns) > 255 || strings.HasPrefix(ns, "AWS/") {
		return false
	}
	for _, c := range []byte(ns) {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || strings.IndexByte(".-_/#:", c) >= 0) {
			return false
		}
	}
	return true
}

// Hidden reports whether r must not reach a log line as it is: a control
// character (C0, DEL, C1), a format character (Unicode Cf, such as the bidi
// override U+202E that makes a terminal show a line reordered, or a
// zero-width space) or a line or paragraph separator. It is the one rule for
// values that come from outside: refused where a value is checked, escaped
// by [Text] where it is only shown.
func Hidden(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) }

// Text returns s with each [Hidden] rune spelt \uXXXX (\U00XXXXXX beyond the
// BMP), for a field of a log line that shows a value from outside. A
// backslash is spelt \u005c, so that no value can pass for an escaped one.
func Text(s string) string {
	escaped := func(r rune) bool { return r == '\\' || Hidden(r) }
	if !strings.ContainsFunc(s, escaped) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !escaped(r):
			b.WriteRune(r)
		case r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// Unit is a CloudWatch metric unit.
type Unit string

// The units rolegate uses.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Dimension is one dimension's name and value.
type Dimension struct{ Name, Value string }

// Metric is one metric's name, unit and value.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
}

// Record is the metric part of one log line.
type Record struct {
	Namespace  string
	Time       time.Time
	Dimensions []Dimension // every dimension used by Sets, with its value
	Sets       [][]string  // dimension sets, by name: each set is one series per metric
	Metrics    []Metric
}

// Attrs returns the attributes that make a JSON log line r's EMF document:
// _aws with the timestamp in epoch milliseconds and the metric directive,
// then each dimension and metric as a top-level member.
func (r Record) Attrs() []slog.Attr {
	attrs := append(make([]slog.Attr, 0, 1+len(r.Dimensions)+len(r.Metrics)), metadata(r.Time, newDirectives(r.Namespace, r.Sets, r.Metrics)))
	for _, d := range r.Dimensions {
		attrs = append(attrs, slog.String(d.Name, d.Value))
	}
	for _, m := range r.Metrics {
		attrs = append(attrs, number(m.Name, m.Value))
	}
	return attrs
}

// metadata is the _aws member: the timestamp in epoch milliseconds and the
// directives, marshalled by slog's JSON handler.
func metadata(t time.Time, directives any) slog.Attr {
	return slog.GroupAttrs("_aws", slog.Int64("Timestamp", t.UnixMilli()), slog.Any("CloudWatchMetrics", directives))
}

// newDirectives is the value of _aws.CloudWatchMetrics.
func newDirectives(namespace string, sets [][]string, metrics []Metric) []directive {
	defs := make([]metricDefinition, len(metrics))
	for i, m := range metrics {
		defs[i] = metricDefinition{Name: m.Name, Unit: m.Unit}
	}
	if sets == nil {
		sets = [][]string{} // "Dimensions" is required, even when empty
	}
	return []directive{{Namespace: namespace, Dimensions: sets, Metrics: defs}}
}

// number is a metric's member: an integer when v is one, since slog's JSON
// handler writes any float through encoding/json, at several times the cost.
func number(name string, v float64) slog.Attr {
	if i := int64(v); float64(i) == v {
		return slog.Int64(name, i)
	}
	return slog.Float64(name, v)
}

type directive struct {
	Namespace  string             `json:"Namespace"`
	Dimensions [][]string         `json:"Dimensions"`
	Metrics    []metricDefinition `json:"Metrics"`
}

type metricDefinition struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit,omitempty"`
}
