// Package cfn is a CloudFormation template as data: it parses YAML (short-
// or long-form intrinsics) or JSON into one model, Template, with the
// references it makes (Ref, Fn::GetAtt, Fn::Sub variables), and resolves
// parameters and conditions the way CloudFormation does before a hook sees
// the resources. The deployment checks (deploy) and the local API Gateway
// (internal/local/apigw) both read templates through it.
//
// It reads templates; it judges nothing and never talks to AWS.
package cfn

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is a parsed CloudFormation template. Short-form intrinsics
// (!Ref, !GetAtt, !Sub, !Join, !If, ...) are turned into their long form,
// exactly as CloudFormation reads them: {"Ref": name},
// {"Fn::GetAtt": [resource, attribute]}, {"Fn::Sub": ...} and so on, so a
// reader handles one shape only.
type Template struct {
	Parameters map[string]any
	Conditions map[string]any
	Resources  map[string]any
	Outputs    map[string]any
}

// Resource is one entry of the template's Resources section.
type Resource struct {
	Name       string // logical ID
	Type       string
	Properties map[string]any // never nil
	DependsOn  []string       // always a list, even when written as a single name
	Attributes map[string]any // the whole entry: Type, Properties, DependsOn, DeletionPolicy, ...
}

// ParseTemplate parses a CloudFormation template written in YAML (short- or
// long-form intrinsics) or JSON.
func ParseTemplate(b []byte) (*Template, error) {
	root, err := ParseNode(b)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := root.Decode(&doc); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	t := &Template{}
	for _, s := range []struct {
		key string
		dst *map[string]any
	}{
		{"Parameters", &t.Parameters},
		{"Conditions", &t.Conditions},
		{"Resources", &t.Resources},
		{"Outputs", &t.Outputs},
	} {
		v, ok := doc[s.key]
		if !ok || v == nil {
			*s.dst = map[string]any{}
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("template: %s is not a mapping", s.key)
		}
		*s.dst = m
	}
	if len(t.Resources) == 0 {
		return nil, errors.New("template: no Resources")
	}
	return t, nil
}

// ParseNode parses b into a YAML node tree with every short-form intrinsic
// rewritten to its long form: the document's mapping, for a writer that
// keeps the template's order and comments (deploy.Package).
func ParseNode(b []byte) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("template: not a YAML or JSON mapping")
	}
	if err := longForm(root.Content[0]); err != nil {
		return nil, err
	}
	return root.Content[0], nil
}

// longForm rewrites, in place, every node tagged with a short-form intrinsic
// (!Ref x) into the mapping CloudFormation means by it ({Ref: x}).
func longForm(n *yaml.Node) error {
	for _, c := range n.Content {
		if err := longForm(c); err != nil {
			return err
		}
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return nil
	}
	name := n.Tag[1:]
	key := "Fn::" + name
	if name == "Ref" || name == "Condition" {
		key = name
	}
	val := *n
	val.Tag = ""
	val.HeadComment, val.LineComment, val.FootComment = "", "", ""
	if val.Kind == yaml.ScalarNode {
		val.Tag = "!!str"
		val.Style = 0
		if name == "GetAtt" {
			// !GetAtt Res.Attr: the resource is up to the first dot; the
			// attribute may hold more dots (Outputs.Name of a nested stack).
			res, attr, ok := strings.Cut(n.Value, ".")
			if !ok {
				return fmt.Errorf("template: line %d: !GetAtt %q is not Resource.Attribute", n.Line, n.Value)
			}
			val = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: n.Line, Column: n.Column, Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: res, Line: n.Line, Column: n.Column},
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: attr, Line: n.Line, Column: n.Column},
			}}
		}
	}
	*n = yaml.Node{
		Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column,
		HeadComment: n.HeadComment, LineComment: n.LineComment, FootComment: n.FootComment,
		Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: n.Line, Column: n.Column},
			&val,
		},
	}
	return nil
}

// Resource returns the resource with logical ID name.
func (t *Template) Resource(name string) (Resource, bool) {
	m, ok := t.Resources[name].(map[string]any)
	if !ok {
		return Resource{}, false
	}
	r := Resource{Name: name, Attributes: m, Properties: map[string]any{}}
	r.Type, _ = m["Type"].(string)
	if p, ok := m["Properties"].(map[string]any); ok {
		r.Properties = p
	}
	switch d := m["DependsOn"].(type) {
	case string:
		r.DependsOn = []string{d}
	case []any:
		for _, x := range d {
			if s, ok := x.(string); ok {
				r.DependsOn = append(r.DependsOn, s)
			}
		}
	}
	return r, true
}

// ResourcesOfType returns the resources of CloudFormation type typ
// (e.g. "AWS::Cognito::UserPoolGroup"), sorted by logical ID.
func (t *Template) ResourcesOfType(typ string) []Resource {
	var out []Resource
	for _, name := range slices.Sorted(maps.Keys(t.Resources)) {
		if r, ok := t.Resource(name); ok && r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Parameter is one entry of the template's Parameters section.
type Parameter struct {
	Name                  string
	Type                  string // String, Number, ...
	Default               any    // nil when HasDefault is false
	HasDefault            bool
	AllowedPattern        string
	AllowedValues         []any
	ConstraintDescription string
}

// Parameter returns the parameter called name.
func (t *Template) Parameter(name string) (Parameter, bool) {
	m, ok := t.Parameters[name].(map[string]any)
	if !ok {
		return Parameter{}, false
	}
	p := Parameter{Name: name, AllowedValues: List(m["AllowedValues"])}
	p.Type, _ = m["Type"].(string)
	p.Default, p.HasDefault = m["Default"]
	p.AllowedPattern, _ = m["AllowedPattern"].(string)
	p.ConstraintDescription, _ = m["ConstraintDescription"].(string)
	return p, true
}

// ParameterDefault returns the Default of parameter name.
func (t *Template) ParameterDefault(name string) (any, bool) {
	p, ok := t.Parameter(name)
	return p.Default, ok && p.HasDefault
}

// ResolveDefault returns v itself when it is a literal, and the parameter's
// Default when v is {"Ref": parameter}. It reports false for anything it
// cannot know without a deployment (a resource Ref, GetAtt, Sub, ...).
func (t *Template) ResolveDefault(v any) (any, bool) {
	if name, ok := RefTarget(v); ok {
		return t.ParameterDefault(name)
	}
	switch v.(type) {
	case map[string]any, nil:
		return nil, false
	}
	return v, true
}

// RefTarget returns name when v is {"Ref": name}.
func RefTarget(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	s, ok := m["Ref"].(string)
	return s, ok
}

// GetAttTarget returns the resource and attribute of {"Fn::GetAtt": [resource, attribute]}
// (or the long form's "resource.attribute" string).
func GetAttTarget(v any) (resource, attribute string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", "", false
	}
	switch g := m["Fn::GetAtt"].(type) {
	case []any:
		if len(g) == 2 {
			r, ok1 := g[0].(string)
			a, ok2 := g[1].(string)
			return r, a, ok1 && ok2
		}
	case string:
		r, a, ok := strings.Cut(g, ".")
		return r, a, ok
	}
	return "", "", false
}

// SubString returns the template string of {"Fn::Sub": string} or
// {"Fn::Sub": [string, variables]}, and the variables (nil for the first form).
func SubString(v any) (s string, vars map[string]any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	switch x := m["Fn::Sub"].(type) {
	case string:
		return x, nil, true
	case []any:
		if len(x) == 2 {
			s, ok := x[0].(string)
			vars, _ := x[1].(map[string]any)
			return s, vars, ok
		}
	}
	return "", nil, false
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// ReplaceSubVariables returns s with every ${...} of a Fn::Sub template
// string replaced by repl; ${!Literal} is left as it is.
func ReplaceSubVariables(s, repl string) string {
	return subVar.ReplaceAllLiteralString(s, repl)
}

// SubVariables returns the names inside ${...} of a Fn::Sub template string,
// in order: "Api", "AWS::Region", "Function.Arn". ${!Literal} is skipped.
func SubVariables(s string) []string {
	var out []string
	for _, m := range subVar.FindAllStringSubmatch(s, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	return out
}

// Reference is a use of a parameter, resource or pseudo parameter.
type Reference struct {
	Target string   // logical ID or pseudo parameter (AWS::Region)
	Attr   string   // attribute for Fn::GetAtt and ${Res.Attr}; "" for Ref
	Path   []string // where it was found, e.g. Resources, Fn, Properties, Role
}

// References returns every Ref, Fn::GetAtt and Fn::Sub variable in v, in
// document order (map keys sorted).
func References(v any, path ...string) []Reference {
	var out []Reference
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		switch x := v.(type) {
		case map[string]any:
			if name, ok := RefTarget(x); ok {
				out = append(out, Reference{Target: name, Path: slices.Clone(path)})
				return
			}
			if r, a, ok := GetAttTarget(x); ok {
				out = append(out, Reference{Target: r, Attr: a, Path: slices.Clone(path)})
				return
			}
			if s, vars, ok := SubString(x); ok {
				for _, name := range SubVariables(s) {
					if _, isLocal := vars[name]; isLocal {
						continue
					}
					r, a, _ := strings.Cut(name, ".")
					if strings.HasPrefix(name, "AWS::") {
						r, a = name, ""
					}
					out = append(out, Reference{Target: r, Attr: a, Path: slices.Clone(path)})
				}
				for _, k := range slices.Sorted(maps.Keys(vars)) {
					walk(vars[k], append(path, "Fn::Sub", k))
				}
				return
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k], append(path, k))
			}
		case []any:
			for i, e := range x {
				walk(e, append(path, fmt.Sprint(i)))
			}
		}
	}
	walk(v, path)
	return out
}

// IsPseudoParameter reports whether name is one CloudFormation defines in
// every template (AWS::Region, AWS::AccountId, ...).
func IsPseudoParameter(name string) bool {
	switch name {
	case "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
		"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix":
		return true
	}
	return false
}

// List returns v as a list, as CloudFormation reads a property that takes one
// value or several: a single value becomes a list of one, nil none.
func List(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}
