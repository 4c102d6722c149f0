package apigw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Decision is the outcome of evaluating an authorizer's policy for a request.
type Decision int

const (
	// ImplicitDeny means no statement allowed the request.
	ImplicitDeny Decision = iota
	// Allow means an Allow statement matched and no Deny did.
	Allow
	// ExplicitDeny means a Deny statement matched; it wins over any Allow.
	ExplicitDeny
)

// String names the decision as the gateway's outcomes spell it (explicit_deny).
func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case ExplicitDeny:
		return "explicit_deny"
	default:
		return "implicit_deny"
	}
}

// InvokeAction is the IAM action API Gateway evaluates an authorizer's policy
// for.
const InvokeAction = "execute-api:Invoke"

// Policy is the IAM policy document a Lambda authorizer returns.
type Policy struct {
	Statements []Statement
}

// Statement is one statement of a Policy.
type Statement struct {
	Effect    string // "Allow" or "Deny"
	Actions   []string
	Resources []string
}

// errBadPolicy marks a policy document API Gateway would reject, or that uses
// features this evaluator does not implement.
var errBadPolicy = errors.New("bad policy document")

// ParsePolicy decodes a policy document. Action and Resource may each be a
// string or a list, and Statement an object or a list, as IAM allows.
// NotAction, NotResource, Condition and Principal are refused: evaluating them
// wrongly could turn a Deny into an Allow, so an unsupported policy is an
// authorizer configuration error, never a guess.
func ParsePolicy(b []byte) (Policy, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil || doc == nil {
		return Policy{}, fmt.Errorf("%w: not a JSON object", errBadPolicy)
	}
	raw, ok := doc["Statement"]
	if !ok {
		return Policy{}, fmt.Errorf("%w: no Statement", errBadPolicy)
	}
	var raws []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		raws = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &raws); err != nil {
		return Policy{}, fmt.Errorf("%w: Statement is neither an object nor a list", errBadPolicy)
	}
	p := Policy{Statements: make([]Statement, 0, len(raws))}
	for i, r := range raws {
		s, err := parseStatement(r)
		if err != nil {
			return Policy{}, fmt.Errorf("statement %d: %w", i, err)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(b []byte) (Statement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		return Statement{}, fmt.Errorf("%w: statement is not an object", errBadPolicy)
	}
	var s Statement
	for k, v := range fields {
		var err error
		switch k {
		case "Sid":
		case "Effect":
			err = json.Unmarshal(v, &s.Effect)
		case "Action":
			s.Actions, err = stringOrList(v)
		case "Resource":
			s.Resources, err = stringOrList(v)
		default:
			return Statement{}, fmt.Errorf("%w: unsupported key %q", errBadPolicy, k)
		}
		if err != nil {
			return Statement{}, fmt.Errorf("%w: %s: %v", errBadPolicy, k, err)
		}
	}
	if s.Effect != "Allow" && s.Effect != "Deny" {
		return Statement{}, fmt.Errorf("%w: Effect %q", errBadPolicy, s.Effect)
	}
	if len(s.Actions) == 0 || len(s.Resources) == 0 {
		return Statement{}, fmt.Errorf("%w: statement needs Action and Resource", errBadPolicy)
	}
	return s, nil
}

func stringOrList(b []byte) ([]string, error) {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return nil, errors.New("want a string or a list of strings")
	}
	return many, nil
}

// Evaluate decides whether the policy lets the caller perform action on
// resource, as IAM does: a matching Deny wins, then a matching Allow, and
// anything else is an implicit deny. Action names compare case-insensitively,
// resources case-sensitively; both accept the * and ? wildcards.
func (p Policy) Evaluate(action, resource string) Decision {
	d := ImplicitDeny
	for _, s := range p.Statements {
		if !s.matches(action, resource) {
			continue
		}
		if s.Effect == "Deny" {
			return ExplicitDeny
		}
		d = Allow
	}
	return d
}

func (s Statement) matches(action, resource string) bool {
	return anyMatch(s.Actions, strings.ToLower(action), strings.ToLower) && anyMatch(s.Resources, resource, nil)
}

func anyMatch(patterns []string, s string, norm func(string) string) bool {
	for _, p := range patterns {
		if norm != nil {
			p = norm(p)
		}
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches pattern, where * matches any run of
// characters (slashes included, as in IAM) and ? exactly one. It backtracks
// only to the last star, so it runs in O(len(pattern)*len(s)) at worst.
func wildcardMatch(pattern, s string) bool {
	pr, sr := []rune(pattern), []rune(s)
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(sr) {
		switch {
		case p < len(pr) && (pr[p] == '?' || pr[p] == sr[i]):
			p++
			i++
		case p < len(pr) && pr[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pr) && pr[p] == '*' {
		p++
	}
	return p == len(pr)
}
