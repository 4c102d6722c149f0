package deploy

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rolegate/rolegate/internal/cfn"
)

// apiOf returns the API a resource's RestApiId (REST) or ApiId (HTTP API) refers to.
func apiOf(r cfn.Resource) string {
	if api, ok := cfn.RefTarget(r.Properties["RestApiId"]); ok {
		return api
	}
	api, _ := cfn.RefTarget(r.Properties["ApiId"])
	return api
}

var (
	executeAPIArn  = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{([A-Za-z0-9]+)\}/(.+)$`)
	authorizerPath = regexp.MustCompile(`^authorizers/\$\{([A-Za-z0-9]+)\}$`)
	routePath      = regexp.MustCompile(`^(\*|[A-Za-z0-9_]+|\$\{[A-Za-z0-9]+\})/(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)/(.*)$`)
)

func (c *checker) permissionSources(report reporter) { c.permissionTargets(report) }

func (c *checker) permissionsMissing(report reporter) {
	covered := c.permissionTargets(func(string, string, ...any) {})
	for _, a := range slices.Sorted(maps.Keys(c.authorizerFn)) {
		if !covered[a] {
			report(a, "no Lambda permission lets API Gateway invoke %s for this authorizer (SourceArn .../authorizers/${%s})", c.authorizerFn[a], a)
		}
	}
	for _, m := range slices.Sorted(maps.Keys(c.methodFn)) {
		if !covered[m] {
			report(m, "no Lambda permission lets API Gateway invoke %s for this method", c.methodFn[m])
		}
	}
}

// permissionTargets checks every Lambda permission and returns the
// authorizers and methods one of them correctly covers.
func (c *checker) permissionTargets(report reporter) map[string]bool {
	covered := map[string]bool{}
	for _, p := range c.t.ResourcesOfType("AWS::Lambda::Permission") {
		fn, ok := functionOf(p.Properties["FunctionName"])
		if !ok || !c.isType(fn, "AWS::Lambda::Function") {
			report(p.Name, "FunctionName must be !GetAtt <function>.Arn of this template, got %s", show(p.Properties["FunctionName"]))
			continue
		}
		if p.Properties["Principal"] != "apigateway.amazonaws.com" {
			report(p.Name, "Principal must be apigateway.amazonaws.com, got %s", show(p.Properties["Principal"]))
		}
		if p.Properties["Action"] != "lambda:InvokeFunction" {
			report(p.Name, "Action must be lambda:InvokeFunction, got %s", show(p.Properties["Action"]))
		}
		// API Gateway is not documented to send aws:SourceAccount: with the
		// key set, every invocation could be refused. SourceArn pins the account.
		if v, ok := p.Properties["SourceAccount"]; ok {
			report(p.Name, "drop SourceAccount %s: API Gateway may not supply it, and SourceArn already names the account", show(v))
		}
		src, vars, ok := cfn.SubString(p.Properties["SourceArn"])
		if !ok || vars != nil {
			report(p.Name, "SourceArn must be !Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/..., got %s", show(p.Properties["SourceArn"]))
			continue
		}
		if target := c.permissionTarget(report, p.Name, fn, src); target != "" {
			covered[target] = true
		}
	}
	return covered
}

// functionOf returns the function a permission's FunctionName names.
func functionOf(v any) (string, bool) {
	if r, a, ok := cfn.GetAttTarget(v); ok && a == "Arn" {
		return r, true
	}
	return cfn.RefTarget(v)
}

// permissionTarget checks that SourceArn src of permission p for function fn
// names an authorizer or method of this template's API that invokes fn, and
// returns that authorizer's or method's logical ID ("" after a finding).
func (c *checker) permissionTarget(report reporter, p, fn, src string) string {
	m := executeAPIArn.FindStringSubmatch(src)
	if m == nil {
		report(p, "SourceArn %q is not arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${<RestApi>}/...", src)
		return ""
	}
	api, rest := m[1], m[2]
	if !c.isType(api, "AWS::ApiGateway::RestApi") && !c.isType(api, "AWS::ApiGatewayV2::Api") {
		report(p, "SourceArn names ${%s}, not a RestApi or HTTP API of this template", api)
		return ""
	}
	if am := authorizerPath.FindStringSubmatch(rest); am != nil {
		auth, ok := c.t.Resource(am[1])
		switch {
		case !ok || (auth.Type != "AWS::ApiGateway::Authorizer" && auth.Type != "AWS::ApiGatewayV2::Authorizer"):
			report(p, "SourceArn names ${%s}, not an Authorizer of this template", am[1])
		case apiOf(auth) != api:
			report(p, "SourceArn names API ${%s} but authorizer %s belongs to %s", api, auth.Name, apiOf(auth))
		case c.authorizerFn[auth.Name] != fn:
			report(p, "authorizer %s invokes %s, not %s", auth.Name, c.authorizerFn[auth.Name], fn)
		default:
			return auth.Name
		}
		return ""
	}
	rm := routePath.FindStringSubmatch(rest)
	if rm == nil || strings.Contains(rm[3], "?") || slices.ContainsFunc(strings.Split(rm[3], "/"), func(seg string) bool {
		return seg != "*" && strings.ContainsAny(seg, "*{}")
	}) {
		report(p, "SourceArn %q must end in authorizers/${<Authorizer>} or <stage>/<METHOD>/<path> with no wildcard but the stage and a whole * for each {param} of the path", src)
		return ""
	}
	verb, path := rm[2], "/"+rm[3]
	for _, meth := range c.t.ResourcesOfType("AWS::ApiGateway::Method") {
		if apiOf(meth) == api && meth.Properties["HttpMethod"] == verb && arnPath(c.resourcePath(meth.Properties["ResourceId"])) == path {
			if c.methodFn[meth.Name] != fn {
				report(p, "%s %s (%s) invokes %q, not %s", verb, path, meth.Name, c.methodFn[meth.Name], fn)
				return ""
			}
			return meth.Name
		}
	}
	for _, route := range c.t.ResourcesOfType("AWS::ApiGatewayV2::Route") {
		if apiOf(route) == api && route.Properties["RouteKey"] == verb+" "+path {
			if c.methodFn[route.Name] != fn {
				report(p, "%s %s (%s) invokes %q, not %s", verb, path, route.Name, c.methodFn[route.Name], fn)
				return ""
			}
			return route.Name
		}
	}
	report(p, "SourceArn %q names %s %s, which API %s does not have", src, verb, path, api)
	return ""
}

// arnPath is a resource path as a SourceArn matches it: API Gateway names
// the request's own path there, so each {param} (or {param+}) is a *. A
// literal {param} in a SourceArn matches no request.
func arnPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "*"
		}
	}
	return strings.Join(segs, "/")
}

// resourcePath returns the path of an API resource id: !GetAtt Api.RootResourceId
// is "/", !Ref SomeResource is its parent's path plus its PathPart.
func (c *checker) resourcePath(id any) string {
	for depth, parts := 0, []string{}; depth < 64; depth++ {
		if _, attr, ok := cfn.GetAttTarget(id); ok && attr == "RootResourceId" {
			slices.Reverse(parts)
			return "/" + strings.Join(parts, "/")
		}
		name, ok := cfn.RefTarget(id)
		r, found := c.t.Resource(name)
		if !ok || !found || r.Type != "AWS::ApiGateway::Resource" {
			return ""
		}
		part, _ := r.Properties["PathPart"].(string)
		parts = append(parts, part)
		id = r.Properties["ParentId"]
	}
	return ""
}

func (c *checker) proxyPost(report reporter) {
	for _, m := range c.t.ResourcesOfType("AWS::ApiGateway::Method") {
		integ, _ := m.Properties["Integration"].(map[string]any)
		if integ["Type"] != "AWS_PROXY" && integ["Type"] != "AWS" {
			continue
		}
		if integ["IntegrationHttpMethod"] != "POST" {
			report(m.Name, "Lambda integration must use IntegrationHttpMethod POST, got %s", show(integ["IntegrationHttpMethod"]))
		}
		if _, ok := c.methodFn[m.Name]; !ok {
			report(m.Name, "Integration Uri must be !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${<Function>.Arn}/invocations, got %s", show(integ["Uri"]))
		}
	}
}

func (c *checker) methodAuthorizer(report reporter) {
	for _, m := range c.t.ResourcesOfType("AWS::ApiGateway::Method") {
		if m.Properties["HttpMethod"] == "OPTIONS" {
			continue
		}
		if m.Properties["AuthorizationType"] != "CUSTOM" {
			report(m.Name, "AuthorizationType must be CUSTOM, got %s", show(m.Properties["AuthorizationType"]))
			continue
		}
		auth, ok := cfn.RefTarget(m.Properties["AuthorizerId"])
		if r, found := c.t.Resource(auth); !ok || !found || r.Type != "AWS::ApiGateway::Authorizer" || apiOf(r) != apiOf(m) {
			report(m.Name, "AuthorizerId must be !Ref an Authorizer of the same API, got %s", show(m.Properties["AuthorizerId"]))
		}
	}
}

func (c *checker) deploymentDependsOn(report reporter) {
	for _, api := range c.t.ResourcesOfType("AWS::ApiGateway::RestApi") {
		var needed []string
		for _, typ := range []string{"AWS::ApiGateway::Method", "AWS::ApiGateway::GatewayResponse"} {
			for _, r := range c.t.ResourcesOfType(typ) {
				if apiOf(r) == api.Name {
					needed = append(needed, r.Name)
				}
			}
		}
		found := false
		for _, d := range c.t.ResourcesOfType("AWS::ApiGateway::Deployment") {
			if apiOf(d) != api.Name {
				continue
			}
			found = true
			for _, n := range needed {
				if !slices.Contains(d.DependsOn, n) {
					report(d.Name, "DependsOn lacks %s: the deployment may snapshot API %s without it", n, api.Name)
				}
			}
		}
		if !found {
			report(api.Name, "no AWS::ApiGateway::Deployment for this API")
		}
	}
}

// stageSettings: the local gateway reads StageName and the throttling from
// the stage, so these are template facts, not only AWS settings.
func (c *checker) stageSettings(report reporter) {
	for _, s := range c.t.ResourcesOfType("AWS::ApiGateway::Stage") {
		if p, ok := cfn.RefTarget(s.Properties["StageName"]); !ok || !c.isParameter(p) {
			report(s.Name, "StageName must be !Ref a parameter (default prod), got %s", show(s.Properties["StageName"]))
		}
		throttled := false
		for _, ms := range cfn.List(s.Properties["MethodSettings"]) {
			m, _ := ms.(map[string]any)
			if m["ResourcePath"] == "/*" && m["HttpMethod"] == "*" &&
				c.positive(m["ThrottlingRateLimit"]) && c.positive(m["ThrottlingBurstLimit"]) {
				throttled = true
			}
		}
		if !throttled {
			report(s.Name, `MethodSettings needs ResourcePath "/*", HttpMethod "*" with positive ThrottlingRateLimit and ThrottlingBurstLimit`)
		}
		if v, _ := c.t.ResolveDefault(s.Properties["TracingEnabled"]); v != true && v != "true" {
			report(s.Name, "TracingEnabled must be true (X-Ray), got %s", show(s.Properties["TracingEnabled"]))
		}
	}
}

func (c *checker) gatewayResponses(report reporter) {
	for _, api := range c.t.ResourcesOfType("AWS::ApiGateway::RestApi") {
		for _, want := range []struct{ typ, status string }{{"UNAUTHORIZED", "401"}, {"ACCESS_DENIED", "403"}} {
			ok := false
			for _, r := range c.t.ResourcesOfType("AWS::ApiGateway::GatewayResponse") {
				if apiOf(r) != api.Name || r.Properties["ResponseType"] != want.typ {
					continue
				}
				tmpl, _ := r.Properties["ResponseTemplates"].(map[string]any)
				_, isJSON := tmpl["application/json"]
				status, _ := c.number(r.Properties["StatusCode"])
				if strconv.Itoa(int(status)) != want.status || !isJSON {
					report(r.Name, "%s must answer %s with an application/json template", want.typ, want.status)
				}
				ok = true
			}
			if !ok {
				report(api.Name, "no %s gateway response: it would not answer %s with JSON", want.typ, want.status)
			}
		}
	}
}

func (c *checker) authorizerSettings(report reporter) {
	for _, a := range c.t.ResourcesOfType("AWS::ApiGateway::Authorizer") {
		p := a.Properties
		if p["Type"] != "TOKEN" {
			report(a.Name, "Type must be TOKEN, got %s", show(p["Type"]))
		}
		if p["IdentitySource"] != "method.request.header.Authorization" {
			report(a.Name, "IdentitySource must be method.request.header.Authorization, got %s", show(p["IdentitySource"]))
		}
		if _, ok := c.authorizerFn[a.Name]; !ok {
			report(a.Name, "AuthorizerUri must be !Sub ...functions/${<Function>.Arn}/invocations, got %s", show(p["AuthorizerUri"]))
		}
		checkValidationExpression(report, a.Name, p["IdentityValidationExpression"])
		ttlParam, isRef := cfn.RefTarget(p["AuthorizerResultTtlInSeconds"])
		ttl, ok := c.number(p["AuthorizerResultTtlInSeconds"])
		switch {
		case !isRef || !ok:
			report(a.Name, "AuthorizerResultTtlInSeconds must be !Ref a parameter with a Default, got %s", show(p["AuthorizerResultTtlInSeconds"]))
		case ttl < 0 || ttl > 3600:
			report(a.Name, "parameter %s defaults to %v, outside 0..3600", ttlParam, ttl)
		}
	}
}

// validationHeaders are Authorization values the authorizer's validation
// expression must accept (true) or refuse before the authorizer runs (false).
var validationHeaders = []struct {
	value  string
	accept bool
}{
	{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", true},
	{"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_", true},
	{"bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_", true},
	{"BEARER eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_", true},
	{"", false},
	{"Bearer", false},
	{"Bearer ", false},
	{"Basic dXNlcjpwYXNzd29yZA==", false},
	{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", false},
	{"Token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", false},
	{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln trailing", false},
	{"a.b.c.d.e", false},
}

func checkValidationExpression(report reporter, auth string, v any) {
	expr, ok := v.(string)
	if !ok || expr == "" {
		report(auth, "IdentityValidationExpression must be a literal regular expression")
		return
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		report(auth, "IdentityValidationExpression does not compile: %v", err)
		return
	}
	for _, h := range validationHeaders {
		if re.MatchString(h.value) != h.accept {
			verb := "refuses"
			if !h.accept {
				verb = "accepts"
			}
			report(auth, "IdentityValidationExpression %s Authorization %q", verb, h.value)
		}
	}
}
