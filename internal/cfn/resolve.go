package cfn

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
)

// Resolve returns t as JSON with every parameter Ref replaced by its value
// (values[name], else the Default), every condition evaluated, each Fn::If
// replaced by its chosen branch, AWS::NoValue removed, and resources whose
// Condition is false left out: what a CloudFormation hook sees of the
// resources' properties. Resource Refs, GetAtts and Subs stay as they are.
func Resolve(t *Template, values map[string]string) ([]byte, error) {
	r := resolver{t: t, values: values, conds: map[string]bool{}}
	for _, name := range slices.Sorted(maps.Keys(t.Conditions)) {
		if _, err := r.condition(name, 0); err != nil {
			return nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if err := allowed(t, name, values[name]); err != nil {
			return nil, fmt.Errorf("resolve: %w", err)
		}
	}
	resources := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(t.Resources)) {
		res, _ := t.Resources[name].(map[string]any)
		if c, ok := res["Condition"].(string); ok && !r.conds[c] {
			continue
		}
		v, err := r.value(res)
		if err != nil {
			return nil, fmt.Errorf("resolve: %s: %w", name, err)
		}
		resources[name] = v
	}
	return json.MarshalIndent(map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Resources":                resources,
	}, "", "  ")
}

// allowed reports whether CloudFormation would accept v for parameter name:
// one of its AllowedValues, and matching its AllowedPattern as a whole.
func allowed(t *Template, name, v string) error {
	p, ok := t.Parameter(name)
	if !ok {
		return fmt.Errorf("no parameter %s", name)
	}
	if len(p.AllowedValues) > 0 && !slices.ContainsFunc(p.AllowedValues, func(a any) bool { return fmt.Sprint(a) == v }) {
		return fmt.Errorf("parameter %s: %q is not one of %v", name, v, p.AllowedValues)
	}
	if p.AllowedPattern != "" {
		re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
		if err != nil {
			return fmt.Errorf("parameter %s: AllowedPattern: %w", name, err)
		}
		if !re.MatchString(v) {
			return fmt.Errorf("parameter %s: %q does not match %s", name, v, p.AllowedPattern)
		}
	}
	return nil
}

type resolver struct {
	t      *Template
	values map[string]string
	conds  map[string]bool
}

// noValue marks what AWS::NoValue removes from its map or list.
type noValue struct{}

func (r resolver) value(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if name, ok := RefTarget(x); ok {
			if name == "AWS::NoValue" {
				return noValue{}, nil
			}
			if _, isParam := r.t.Parameters[name]; isParam {
				return r.parameter(name)
			}
			return x, nil
		}
		if f, ok := x["Fn::If"].([]any); ok && len(x) == 1 {
			name, _ := f[0].(string)
			on, known := r.conds[name]
			if len(f) != 3 || !known {
				return nil, fmt.Errorf("Fn::If %v: no such condition", f[0])
			}
			if on {
				return r.value(f[1])
			}
			return r.value(f[2])
		}
		out := map[string]any{}
		for k, e := range x {
			v, err := r.value(e)
			if err != nil {
				return nil, err
			}
			if _, drop := v.(noValue); !drop {
				out[k] = v
			}
		}
		return out, nil
	case []any:
		out := []any{}
		for _, e := range x {
			v, err := r.value(e)
			if err != nil {
				return nil, err
			}
			if _, drop := v.(noValue); !drop {
				out = append(out, v)
			}
		}
		return out, nil
	}
	return v, nil
}

// parameter returns a parameter's value, a number for a Number parameter.
func (r resolver) parameter(name string) (any, error) {
	p, _ := r.t.Parameter(name)
	v := p.Default
	if s, ok := r.values[name]; ok {
		v = s
	} else if !p.HasDefault {
		return nil, fmt.Errorf("parameter %s has no Default and no value", name)
	}
	if s, ok := v.(string); ok && p.Type == "Number" {
		if n, err := strconv.Atoi(s); err == nil {
			return n, nil
		}
		return strconv.ParseFloat(s, 64)
	}
	if p.Type == "String" {
		return fmt.Sprint(v), nil
	}
	return v, nil
}

func (r resolver) condition(name string, depth int) (bool, error) {
	if on, ok := r.conds[name]; ok {
		return on, nil
	}
	def, ok := r.t.Conditions[name]
	if !ok || depth > 32 {
		return false, fmt.Errorf("resolve: condition %s: undefined or circular", name)
	}
	on, err := r.evaluate(def, depth+1)
	if err != nil {
		return false, fmt.Errorf("resolve: condition %s: %w", name, err)
	}
	r.conds[name] = on
	return on, nil
}

// evaluate evaluates a condition function: Fn::Equals, Fn::Not, Fn::And,
// Fn::Or and {Condition: name}.
func (r resolver) evaluate(v any, depth int) (bool, error) {
	m, _ := v.(map[string]any)
	if name, ok := m["Condition"].(string); ok && len(m) == 1 {
		return r.condition(name, depth)
	}
	for fn, args := range m {
		list, _ := args.([]any)
		switch fn {
		case "Fn::Equals":
			if len(list) != 2 {
				return false, fmt.Errorf("Fn::Equals takes two values")
			}
			a, err := r.value(list[0])
			if err != nil {
				return false, err
			}
			b, err := r.value(list[1])
			if err != nil {
				return false, err
			}
			return fmt.Sprint(a) == fmt.Sprint(b), nil
		case "Fn::Not", "Fn::And", "Fn::Or":
			var results []bool
			for _, c := range list {
				on, err := r.evaluate(c, depth)
				if err != nil {
					return false, err
				}
				results = append(results, on)
			}
			switch {
			case fn == "Fn::Not" && len(results) == 1:
				return !results[0], nil
			case fn == "Fn::And":
				return !slices.Contains(results, false), nil
			case fn == "Fn::Or":
				return slices.Contains(results, true), nil
			}
		}
	}
	return false, fmt.Errorf("cannot evaluate %v", v)
}
