package apigw

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// A REST API's resource policy (RestApi Policy) is evaluated with the
// authorizer's as API Gateway documents for a Lambda authorizer ("How API
// Gateway resource policies affect authorization workflow", and its outcome
// table A for one account): an explicit Deny refuses before the authorizer
// runs; then an explicit Deny from either refuses, an Allow from either
// allows, and anything else is an implicit deny. A method without an
// authorizer needs the resource policy's Allow.

// readResourcePolicy reads a RestApi's Policy: a policy document whose
// template values r resolves. Only what the local gateway can judge is
// accepted: Principal "*" (every caller of a TOKEN-authorized or open method
// is anonymous to IAM), Action and Resource; a Condition, NotAction,
// NotResource, NotPrincipal or any other principal is refused, since the
// caller's source IP or VPC endpoint cannot mean on loopback what it means
// on AWS and a wrong guess could turn a Deny into an Allow.
func readResourcePolicy(r Resolver, v any) (*Policy, error) {
	resolved, err := resolveAll(r, v)
	if err != nil {
		return nil, err
	}
	if s, ok := resolved.(string); ok {
		if err := json.Unmarshal([]byte(s), &resolved); err != nil {
			return nil, fmt.Errorf("not a JSON policy document: %w", err)
		}
	}
	doc, ok := resolved.(map[string]any)
	if !ok {
		return nil, errors.New("not a policy document")
	}
	for i, st := range listOf(doc["Statement"]) {
		s, ok := st.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("statement %d is not an object", i)
		}
		if !anyone(s["Principal"]) {
			return nil, fmt.Errorf("statement %d: only Principal \"*\" is evaluated locally, got %v", i, s["Principal"])
		}
		delete(s, "Principal")
		for _, k := range []string{"Condition", "NotAction", "NotResource", "NotPrincipal"} {
			if _, ok := s[k]; ok {
				return nil, fmt.Errorf("statement %d: %s is not evaluated locally (source IP and VPC conditions cannot apply on loopback)", i, k)
			}
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	p, err := ParsePolicy(b)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// anyone reports whether a statement's Principal is every caller: "*" or
// {"AWS": "*"}.
func anyone(p any) bool {
	if p == "*" {
		return true
	}
	m, ok := p.(map[string]any)
	return ok && len(m) == 1 && (m["AWS"] == "*" || fmt.Sprint(m["AWS"]) == "[*]")
}

// resolveAll resolves every template value inside v (a !Sub in a Resource,
// say), keeping literals as they are.
func resolveAll(r Resolver, v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = resolveAll(r, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return r.String(x)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			var err error
			if out[k], err = resolveAll(r, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

// withAPI returns p with each "execute-api:/stage/VERB/path" resource
// written out under arnPrefix ("arn:aws:execute-api:region:account:apiId"),
// as API Gateway expands them when it stores the policy.
func (p *Policy) withAPI(arnPrefix string) *Policy {
	out := &Policy{Statements: make([]Statement, len(p.Statements))}
	for i, s := range p.Statements {
		s.Resources = append([]string(nil), s.Resources...)
		for j, res := range s.Resources {
			if rest, ok := strings.CutPrefix(res, "execute-api:/"); ok {
				s.Resources[j] = arnPrefix + "/" + rest
			}
		}
		out.Statements[i] = s
	}
	return out
}

// combine is the decision for a method with an authorizer, from the
// resource policy's and the authorizer's (table A).
func combine(resource, authorizer Decision) Decision {
	switch {
	case resource == ExplicitDeny || authorizer == ExplicitDeny:
		return ExplicitDeny
	case resource == Allow || authorizer == Allow:
		return Allow
	}
	return ImplicitDeny
}

// resourcePolicyDenied is API Gateway's answer when the resource policy
// refuses a caller no authorizer identified, as quoted in public reports:
// {"Message":"User: anonymous is not authorized to perform:
// execute-api:Invoke on resource: arn:…:********2543:…/GET/"} (the account
// masked but for its last four digits), " with an explicit deny" added for a
// Deny.
func resourcePolicyDenied(methodArn, accountID string, explicit bool) gatewayError {
	masked := strings.Replace(methodArn, ":"+accountID+":", ":********"+accountID[len(accountID)-4:]+":", 1)
	m := "User: anonymous is not authorized to perform: execute-api:Invoke on resource: " + masked
	if explicit {
		m += " with an explicit deny"
	}
	b, _ := json.Marshal(map[string]string{"Message": m})
	return gatewayError{Type: ResponseAccessDenied, Status: 403, ErrorType: "AccessDeniedException", Message: &m, Body: string(b)}
}
