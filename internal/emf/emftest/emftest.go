// Package emftest checks log lines against the CloudWatch Embedded Metric
// Format specification, for tests of the functions and of a local session.
package emftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rolegate/rolegate/internal/emf"
)

// Document is a parsed EMF log line: its members, and the metric values it
// reports by name.
type Document struct {
	Members   map[string]any
	Namespace string
	Timestamp int64
	Values    map[string]float64
	Units     map[string]emf.Unit
	Sets      [][]string
}

// Validate parses one log line and checks it against the EMF specification:
// a single line holding one JSON object; _aws.Timestamp a whole number of
// epoch milliseconds; _aws.CloudWatchMetrics a non-empty list of directives,
// each with a Namespace, Dimensions (sets of at most 30 names) and Metrics
// (each with a Name, at most 100); every dimension a top-level string member
// and every metric a top-level number member. rolegate's own rule too: no
// [emf.Hidden] character as it is (a bidi override, say).
func Validate(line []byte) (Document, error) {
	var d Document
	if bytes.ContainsAny(bytes.TrimRight(line, "\n"), "\n\r") {
		return d, errors.New("emftest: not one line")
	}
	if bytes.ContainsFunc(bytes.TrimRight(line, "\n"), emf.Hidden) {
		return d, errors.New("emftest: a character emf.Hidden names, unescaped")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&d.Members); err != nil {
		return d, fmt.Errorf("emftest: %w", err)
	}
	aws, ok := d.Members["_aws"].(map[string]any)
	if !ok {
		return d, errors.New("emftest: no _aws object")
	}
	ts, ok := aws["Timestamp"].(json.Number)
	if !ok {
		return d, errors.New("emftest: _aws.Timestamp is not a number")
	}
	var err error
	if d.Timestamp, err = ts.Int64(); err != nil || d.Timestamp <= 0 {
		return d, errors.New("emftest: _aws.Timestamp is not epoch milliseconds")
	}
	dirs, ok := aws["CloudWatchMetrics"].([]any)
	if !ok || len(dirs) == 0 {
		return d, errors.New("emftest: _aws.CloudWatchMetrics is not a non-empty list")
	}
	d.Values, d.Units = map[string]float64{}, map[string]emf.Unit{}
	for _, raw := range dirs {
		if err := d.directive(raw); err != nil {
			return d, err
		}
	}
	return d, nil
}

func (d *Document) directive(raw any) error {
	dir, ok := raw.(map[string]any)
	if !ok {
		return errors.New("emftest: a directive is not an object")
	}
	ns, ok := dir["Namespace"].(string)
	if !ok || ns == "" {
		return errors.New("emftest: directive without Namespace")
	}
	d.Namespace = ns
	sets, ok := dir["Dimensions"].([]any)
	if !ok {
		return errors.New("emftest: directive without Dimensions")
	}
	for _, s := range sets {
		names, ok := s.([]any)
		if !ok || len(names) > 30 {
			return errors.New("emftest: a dimension set is not a list of at most 30 names")
		}
		var set []string
		for _, n := range names {
			name, ok := n.(string)
			if !ok {
				return errors.New("emftest: a dimension name is not a string")
			}
			if _, ok := d.Members[name].(string); !ok {
				return fmt.Errorf("emftest: dimension %q is not a top-level string member", name)
			}
			set = append(set, name)
		}
		d.Sets = append(d.Sets, set)
	}
	metrics, ok := dir["Metrics"].([]any)
	if !ok || len(metrics) > 100 {
		return errors.New("emftest: directive Metrics is not a list of at most 100")
	}
	for _, m := range metrics {
		def, ok := m.(map[string]any)
		if !ok {
			return errors.New("emftest: a metric definition is not an object")
		}
		name, ok := def["Name"].(string)
		if !ok || name == "" {
			return errors.New("emftest: a metric definition has no Name")
		}
		v, ok := d.Members[name].(json.Number)
		if !ok {
			return fmt.Errorf("emftest: metric %q is not a top-level number member", name)
		}
		f, err := v.Float64()
		if err != nil {
			return fmt.Errorf("emftest: metric %q: %w", name, err)
		}
		d.Values[name] = f
		if u, ok := def["Unit"].(string); ok {
			d.Units[name] = emf.Unit(u)
		}
	}
	return nil
}
