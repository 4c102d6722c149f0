package deploy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/rolegate/rolegate/internal/cfn"
)

// statement is one IAM policy statement, with its one-or-many fields as lists.
type statement struct {
	Allow       bool
	Actions     []string // lower-cased; an action written as an intrinsic becomes "*"
	NotAction   bool
	Resources   []any
	NotResource bool
	Principal   any
	HasNotPrin  bool
	Condition   any
}

// statements returns the statements of a policy document. An unreadable
// document yields one statement that allows everything, so that rules
// treating statements as grants fail closed.
func statements(doc any) []statement {
	m, ok := doc.(map[string]any)
	if !ok {
		return []statement{{Allow: true, Actions: []string{"*"}, Resources: []any{"*"}}}
	}
	var raw []any
	switch s := m["Statement"].(type) {
	case []any:
		raw = s
	case map[string]any:
		raw = []any{s}
	}
	var out []statement
	for _, r := range ifBranches(raw) {
		sm, ok := r.(map[string]any)
		if !ok {
			out = append(out, statement{Allow: true, Actions: []string{"*"}, Resources: []any{"*"}})
			continue
		}
		st := statement{Allow: sm["Effect"] == "Allow", Principal: sm["Principal"], Condition: sm["Condition"]}
		action, hasAction := sm["Action"]
		if !hasAction {
			action, st.NotAction = sm["NotAction"], true
		}
		for _, a := range cfn.List(action) {
			s, ok := a.(string)
			if !ok {
				s = "*"
			}
			st.Actions = append(st.Actions, strings.ToLower(s))
		}
		resource, hasResource := sm["Resource"]
		if !hasResource {
			resource, st.NotResource = sm["NotResource"], sm["NotResource"] != nil
		}
		st.Resources = cfn.List(resource)
		if _, ok := sm["NotPrincipal"]; ok {
			st.HasNotPrin = true
			st.Principal = sm["NotPrincipal"]
		}
		out = append(out, st)
	}
	return out
}

// ifBranches replaces each {"Fn::If": [cond, a, b]} in raw by both a and b
// (minus AWS::NoValue): a rule must hold whichever way the condition goes.
func ifBranches(raw []any) []any {
	var out []any
	for _, r := range raw {
		m, _ := r.(map[string]any)
		f, ok := m["Fn::If"].([]any)
		if !ok || len(m) != 1 || len(f) != 3 {
			out = append(out, r)
			continue
		}
		for _, b := range ifBranches(f[1:]) {
			if name, ok := cfn.RefTarget(b); !ok || name != "AWS::NoValue" {
				out = append(out, b)
			}
		}
	}
	return out
}

// mayGrant reports whether action pattern p (lower-case, IAM wildcards * and
// ?) can match some action of service svc ("sts", "iam").
func mayGrant(p, svc string) bool {
	if strings.HasPrefix(p, svc+":") {
		return true
	}
	lit, _, wild := strings.Cut(strings.ReplaceAll(p, "?", "*"), "*")
	return wild && strings.HasPrefix(svc+":", lit)
}

// grantsService reports whether the Allow statement st can grant any action of svc.
func (st statement) grantsService(svc string) bool {
	if !st.Allow {
		return false
	}
	if st.NotAction {
		return true // "everything except ..." includes the service unless proven otherwise
	}
	for _, a := range st.Actions {
		if mayGrant(a, svc) {
			return true
		}
	}
	return false
}

func isWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// roleOf returns the logical ID X of a value that names role X's ARN:
// !GetAtt X.Arn or !Sub "${X.Arn}".
func roleOf(v any) (string, bool) {
	if r, a, ok := cfn.GetAttTarget(v); ok && a == "Arn" {
		return r, true
	}
	if s, vars, ok := cfn.SubString(v); ok && vars == nil {
		if m := wholeArnSub.FindStringSubmatch(s); m != nil {
			return m[1], true
		}
	}
	return "", false
}

var wholeArnSub = regexp.MustCompile(`^\$\{([A-Za-z0-9]+)\.Arn\}$`)

// logGroupOf returns the log group X an IAM Resource value names:
// !GetAtt X.Arn, !Sub "${X.Arn}" or
// !Sub "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${X}:*".
func logGroupOf(v any) (string, bool) {
	if r, ok := roleOf(v); ok {
		return r, true
	}
	if s, vars, ok := cfn.SubString(v); ok && vars == nil {
		if m := logGroupArnSub.FindStringSubmatch(s); m != nil {
			return m[1], true
		}
	}
	return "", false
}

var logGroupArnSub = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:logs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:log-group:\$\{([A-Za-z0-9]+)\}(:\*)?$`)

// show renders a policy value for a message: "*", !GetAtt X.Arn, !Sub "...".
func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	if r, a, ok := cfn.GetAttTarget(v); ok {
		return "!GetAtt " + r + "." + a
	}
	if r, ok := cfn.RefTarget(v); ok {
		return "!Ref " + r
	}
	if s, _, ok := cfn.SubString(v); ok {
		return fmt.Sprintf("!Sub %q", s)
	}
	if v == nil {
		return "nothing"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// identityPolicies returns the identity-based policy documents attached to
// role name anywhere in the template: its inline Policies, and every
// AWS::IAM::RolePolicy, AWS::IAM::Policy and AWS::IAM::ManagedPolicy naming it.
func (c *checker) identityPolicies(role string) []ownedDoc {
	t := c.t
	var out []ownedDoc
	if r, ok := t.Resource(role); ok {
		for _, p := range cfn.List(r.Properties["Policies"]) {
			pm, _ := p.(map[string]any)
			out = append(out, ownedDoc{role, pm["PolicyDocument"]})
		}
	}
	for _, rp := range t.ResourcesOfType("AWS::IAM::RolePolicy") {
		if n, ok := cfn.RefTarget(rp.Properties["RoleName"]); ok && n == role {
			out = append(out, ownedDoc{rp.Name, rp.Properties["PolicyDocument"]})
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for _, p := range t.ResourcesOfType(typ) {
			for _, r := range cfn.List(p.Properties["Roles"]) {
				if n, ok := cfn.RefTarget(r); ok && n == role {
					out = append(out, ownedDoc{p.Name, p.Properties["PolicyDocument"]})
				}
			}
		}
	}
	return out
}

// ownedDoc is a policy document and the resource that declares it.
type ownedDoc struct {
	owner string
	doc   any
}

// allIdentityPolicies returns every identity-based policy document in the
// template, whoever it is attached to.
func (c *checker) allIdentityPolicies() []ownedDoc {
	t := c.t
	var out []ownedDoc
	for _, typ := range []string{"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"} {
		for _, r := range t.ResourcesOfType(typ) {
			for _, p := range cfn.List(r.Properties["Policies"]) {
				pm, _ := p.(map[string]any)
				out = append(out, ownedDoc{r.Name, pm["PolicyDocument"]})
			}
		}
	}
	for _, typ := range []string{
		"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy",
		"AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy",
	} {
		for _, p := range t.ResourcesOfType(typ) {
			out = append(out, ownedDoc{p.Name, p.Properties["PolicyDocument"]})
		}
	}
	return out
}
