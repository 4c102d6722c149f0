package deploy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The project rules Check enforces. Each names what a finding is about; the
// rule's doc says which real-deployment failure or hole it stands for.
const (
	// RuleReference: every Ref, GetAtt, ${} and DependsOn names something
	// that exists (CloudFormation rejects the template otherwise).
	RuleReference = "reference-target-exists"
	// RulePermissionSource: every Lambda permission is for API Gateway, has
	// SourceAccount !Ref AWS::AccountId and a SourceArn naming this API's
	// authorizer or route that really invokes that function; anything looser
	// lets another API (or account) invoke it.
	RulePermissionSource = "lambda-permission-source"
	// RulePermissionMissing: every authorizer and proxy route has a permission
	// to invoke its function, or API Gateway answers 500.
	RulePermissionMissing = "lambda-permission-missing"
	// RuleProxyPost: Lambda integrations use IntegrationHttpMethod POST;
	// anything else fails at request time.
	RuleProxyPost = "proxy-integration-post"
	// RuleMethodAuthorizer: every method (but CORS preflight) is guarded by
	// a CUSTOM authorizer of the same API.
	RuleMethodAuthorizer = "method-custom-authorizer"
	// RuleDeploymentDependsOn: a deployment DependsOn every method and gateway
	// response of its API, or it may snapshot the API without them.
	RuleDeploymentDependsOn = "deployment-depends-on-methods"
	// RuleStageThrottling: every stage throttles all its methods.
	RuleStageThrottling = "stage-throttling"
	// RuleGatewayResponses: UNAUTHORIZED answers 401 and ACCESS_DENIED 403, both JSON.
	RuleGatewayResponses = "gateway-responses-json"
	// RuleAuthorizerSettings: TOKEN authorizer on the Authorization header,
	// a validation expression accepting a bare or Bearer JWT only, and a
	// cache TTL from a parameter.
	RuleAuthorizerSettings = "authorizer-settings"
	// RuleGroups: every Cognito group has a role of this template and a
	// distinct Precedence (cognito:preferred_role is ambiguous otherwise).
	RuleGroups = "cognito-groups"
	// RuleGroupRoleTrust: a group role trusts the backend's execution role
	// only, for sts:AssumeRole, TagSession and SetSourceIdentity only.
	RuleGroupRoleTrust = "group-role-trust"
	// RuleGroupRoleSession: a group role allows sessions of up to 3600s
	// (the most SESSION_DURATION may ask) and cannot assume further roles.
	RuleGroupRoleSession = "group-role-session"
	// RuleBackendAssume: the backend's role may assume (tag, set source
	// identity on) exactly the group roles: not one more, not one fewer.
	RuleBackendAssume = "backend-assumes-exactly-group-roles"
	// RuleBackendAllowedRoles: the backend's ALLOWED_ROLE_ARNS lists exactly
	// the group roles; unset, it would allow any role of the account.
	RuleBackendAllowedRoles = "backend-allowed-role-arns"
	// RuleAuthorizerNoSTS: the authorizer's role has no STS permission.
	RuleAuthorizerNoSTS = "authorizer-no-sts"
	// RuleExecutionRoleLogs: an execution role writes its function's own log
	// group and (for the backend) assumes group roles; nothing else, and no
	// managed policies whose content this template cannot show.
	RuleExecutionRoleLogs = "execution-role-own-logs-only"
	// RuleNoWildcardSTSIAM: no statement allows a wildcard or NotAction that
	// covers sts: or iam:, no sts:/iam: action on a wildcard resource, and no
	// role trusts "*".
	RuleNoWildcardSTSIAM = "no-wildcard-sts-iam"
	// RuleLogRetention: every log group has RetentionInDays.
	RuleLogRetention = "log-group-retention"
	// RuleFunctionLogging: every function logs JSON to a log group of this
	// template (else Lambda creates one that keeps logs forever).
	RuleFunctionLogging = "function-json-logs-own-group"
	// RuleFunctionRuntime: provided.al2023, arm64, handler bootstrap, 128 MB,
	// a timeout of at most 10s.
	RuleFunctionRuntime = "function-runtime"
	// RuleAuthorizerEnv: the authorizer's USER_POOL_ID and APP_CLIENT_IDS
	// name this template's pool and one of its clients.
	RuleAuthorizerEnv = "authorizer-environment"
)

// Finding is one broken project rule.
type Finding struct {
	Rule     string // one of the Rule constants
	Resource string // logical ID the finding is about
	Message  string
}

func (f Finding) String() string { return f.Rule + " " + f.Resource + ": " + f.Message }

// Check applies every project rule to t and returns the findings, sorted by
// rule then resource. A template that passes has none.
func Check(t *Template) []Finding {
	c := newChecker(t)
	for _, rule := range []func(){
		c.references, c.permissions, c.methods, c.deployments, c.stages,
		c.gatewayResponses, c.authorizerSettings, c.groups, c.groupRoleRules,
		c.backendRoles, c.executionRoles, c.wildcards, c.logGroups, c.functions,
	} {
		rule()
	}
	slices.SortStableFunc(c.findings, func(a, b Finding) int {
		return strings.Compare(a.Rule+" "+a.Resource, b.Rule+" "+b.Resource)
	})
	return c.findings
}

// checker holds the template and the facts the rules share: which function
// each authorizer and method invokes, which roles the functions run as, and
// which roles the Cognito groups carry.
type checker struct {
	t        *Template
	findings []Finding

	authorizerFn map[string]string // Authorizer → function it invokes
	methodFn     map[string]string // Method → function it proxies to
	fnRole       map[string]string // function → its execution role
	groupRoles   []string          // roles named by Cognito groups, sorted
	backendFns   []string          // functions behind a method, sorted
	authFns      []string          // functions behind an authorizer, sorted
}

func (c *checker) add(rule, resource, format string, args ...any) {
	c.findings = append(c.findings, Finding{Rule: rule, Resource: resource, Message: fmt.Sprintf(format, args...)})
}

var invokeURI = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:apigateway:\$\{AWS::Region\}:lambda:path/2015-03-31/functions/\$\{([A-Za-z0-9]+)\.Arn\}/invocations$`)

// invokedFunction returns the function an AuthorizerUri or Integration Uri invokes.
func invokedFunction(uri any) (string, bool) {
	s, vars, ok := SubString(uri)
	if !ok || vars != nil {
		return "", false
	}
	m := invokeURI.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func newChecker(t *Template) *checker {
	c := &checker{t: t, authorizerFn: map[string]string{}, methodFn: map[string]string{}, fnRole: map[string]string{}}
	for _, a := range t.ResourcesOfType("AWS::ApiGateway::Authorizer") {
		if fn, ok := invokedFunction(a.Properties["AuthorizerUri"]); ok {
			c.authorizerFn[a.Name] = fn
		}
	}
	for _, m := range t.ResourcesOfType("AWS::ApiGateway::Method") {
		integ, _ := m.Properties["Integration"].(map[string]any)
		if fn, ok := invokedFunction(integ["Uri"]); ok {
			c.methodFn[m.Name] = fn
		}
	}
	for _, f := range t.ResourcesOfType("AWS::Lambda::Function") {
		if r, ok := roleOf(f.Properties["Role"]); ok {
			c.fnRole[f.Name] = r
		}
	}
	for _, g := range t.ResourcesOfType("AWS::Cognito::UserPoolGroup") {
		if r, ok := roleOf(g.Properties["RoleArn"]); ok {
			c.groupRoles = append(c.groupRoles, r)
		}
	}
	c.groupRoles = sortedUnique(c.groupRoles)
	c.authFns = sortedUnique(slices.Collect(maps.Values(c.authorizerFn)))
	c.backendFns = sortedUnique(slices.Collect(maps.Values(c.methodFn)))
	return c
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func (c *checker) isType(name, typ string) bool {
	r, ok := c.t.Resource(name)
	return ok && r.Type == typ
}

// apiOf returns the RestApi a resource's RestApiId refers to.
func apiOf(r Resource) string {
	api, _ := RefTarget(r.Properties["RestApiId"])
	return api
}

// ---------------------------------------------------------------- references

func (c *checker) references() {
	for _, name := range slices.Sorted(maps.Keys(c.t.Resources)) {
		r, _ := c.t.Resource(name)
		for _, ref := range References(r.Attributes) {
			c.checkRef(name, ref)
		}
		for _, d := range r.DependsOn {
			if _, ok := c.t.Resources[d]; !ok {
				c.add(RuleReference, name, "DependsOn %s: no such resource", d)
			}
		}
		if cond, ok := r.Attributes["Condition"].(string); ok {
			if _, ok := c.t.Conditions[cond]; !ok {
				c.add(RuleReference, name, "Condition %s: no such condition", cond)
			}
		}
		c.checkIfConditions(name, r.Attributes)
	}
	for _, name := range slices.Sorted(maps.Keys(c.t.Outputs)) {
		for _, ref := range References(c.t.Outputs[name]) {
			c.checkRef("Outputs."+name, ref)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.t.Conditions)) {
		for _, ref := range References(c.t.Conditions[name]) {
			c.checkRef("Conditions."+name, ref)
		}
	}
}

func (c *checker) checkRef(where string, ref Reference) {
	_, isResource := c.t.Resources[ref.Target]
	_, isParam := c.t.Parameters[ref.Target]
	switch {
	case ref.Attr != "" && !isResource:
		c.add(RuleReference, where, "%s.%s at %s: no such resource", ref.Target, ref.Attr, strings.Join(ref.Path, "."))
	case ref.Attr == "" && !isResource && !isParam && !IsPseudoParameter(ref.Target):
		c.add(RuleReference, where, "%s at %s: no such parameter or resource", ref.Target, strings.Join(ref.Path, "."))
	}
}

func (c *checker) checkIfConditions(where string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if f, ok := x["Fn::If"].([]any); ok && len(f) == 3 {
			if cond, ok := f[0].(string); ok {
				if _, ok := c.t.Conditions[cond]; !ok {
					c.add(RuleReference, where, "Fn::If %s: no such condition", cond)
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			c.checkIfConditions(where, x[k])
		}
	case []any:
		for _, e := range x {
			c.checkIfConditions(where, e)
		}
	}
}

// --------------------------------------------------------------- permissions

var (
	executeAPIArn  = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{([A-Za-z0-9]+)\}/(.+)$`)
	authorizerPath = regexp.MustCompile(`^authorizers/\$\{([A-Za-z0-9]+)\}$`)
	routePath      = regexp.MustCompile(`^(\*|[A-Za-z0-9_]+|\$\{[A-Za-z0-9]+\})/(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)/(.*)$`)
)

func (c *checker) permissions() {
	covered := map[string]bool{} // Authorizer or Method logical IDs with a matching permission
	for _, p := range c.t.ResourcesOfType("AWS::Lambda::Permission") {
		fn, ok := functionOf(p.Properties["FunctionName"])
		if !ok || !c.isType(fn, "AWS::Lambda::Function") {
			c.add(RulePermissionSource, p.Name, "FunctionName must be !GetAtt <function>.Arn of this template, got %s", show(p.Properties["FunctionName"]))
			continue
		}
		if p.Properties["Principal"] != "apigateway.amazonaws.com" {
			c.add(RulePermissionSource, p.Name, "Principal must be apigateway.amazonaws.com, got %s", show(p.Properties["Principal"]))
		}
		if p.Properties["Action"] != "lambda:InvokeFunction" {
			c.add(RulePermissionSource, p.Name, "Action must be lambda:InvokeFunction, got %s", show(p.Properties["Action"]))
		}
		if acct, ok := RefTarget(p.Properties["SourceAccount"]); !ok || acct != "AWS::AccountId" {
			c.add(RulePermissionSource, p.Name, "SourceAccount must be !Ref AWS::AccountId, got %s", show(p.Properties["SourceAccount"]))
		}
		src, vars, ok := SubString(p.Properties["SourceArn"])
		if !ok || vars != nil {
			c.add(RulePermissionSource, p.Name, "SourceArn must be !Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/..., got %s", show(p.Properties["SourceArn"]))
			continue
		}
		if target := c.permissionTarget(p.Name, fn, src); target != "" {
			covered[target] = true
		}
	}
	for _, a := range slices.Sorted(maps.Keys(c.authorizerFn)) {
		if !covered[a] {
			c.add(RulePermissionMissing, a, "no Lambda permission lets API Gateway invoke %s for this authorizer (SourceArn .../authorizers/${%s})", c.authorizerFn[a], a)
		}
	}
	for _, m := range slices.Sorted(maps.Keys(c.methodFn)) {
		if !covered[m] {
			c.add(RulePermissionMissing, m, "no Lambda permission lets API Gateway invoke %s for this method", c.methodFn[m])
		}
	}
}

// functionOf returns the function a permission's FunctionName names.
func functionOf(v any) (string, bool) {
	if r, a, ok := GetAttTarget(v); ok && a == "Arn" {
		return r, true
	}
	return RefTarget(v)
}

// permissionTarget checks that SourceArn src of permission p for function fn
// names an authorizer or method of this template's API that invokes fn, and
// returns that authorizer's or method's logical ID ("" after a finding).
func (c *checker) permissionTarget(p, fn, src string) string {
	m := executeAPIArn.FindStringSubmatch(src)
	if m == nil {
		c.add(RulePermissionSource, p, "SourceArn %q is not arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${<RestApi>}/...", src)
		return ""
	}
	api, rest := m[1], m[2]
	if !c.isType(api, "AWS::ApiGateway::RestApi") {
		c.add(RulePermissionSource, p, "SourceArn names ${%s}, not a RestApi of this template", api)
		return ""
	}
	if am := authorizerPath.FindStringSubmatch(rest); am != nil {
		auth, ok := c.t.Resource(am[1])
		switch {
		case !ok || auth.Type != "AWS::ApiGateway::Authorizer":
			c.add(RulePermissionSource, p, "SourceArn names ${%s}, not an Authorizer of this template", am[1])
		case apiOf(auth) != api:
			c.add(RulePermissionSource, p, "SourceArn names API ${%s} but authorizer %s belongs to %s", api, auth.Name, apiOf(auth))
		case c.authorizerFn[auth.Name] != fn:
			c.add(RulePermissionSource, p, "authorizer %s invokes %s, not %s", auth.Name, c.authorizerFn[auth.Name], fn)
		default:
			return auth.Name
		}
		return ""
	}
	rm := routePath.FindStringSubmatch(rest)
	if rm == nil || strings.ContainsAny(rm[3], "*?") {
		c.add(RulePermissionSource, p, "SourceArn %q must end in authorizers/${<Authorizer>} or <stage>/<METHOD>/<path> with no wildcard but the stage", src)
		return ""
	}
	verb, path := rm[2], "/"+rm[3]
	for _, meth := range c.t.ResourcesOfType("AWS::ApiGateway::Method") {
		if apiOf(meth) == api && meth.Properties["HttpMethod"] == verb && c.resourcePath(meth.Properties["ResourceId"]) == path {
			if c.methodFn[meth.Name] != fn {
				c.add(RulePermissionSource, p, "%s %s (%s) invokes %q, not %s", verb, path, meth.Name, c.methodFn[meth.Name], fn)
				return ""
			}
			return meth.Name
		}
	}
	c.add(RulePermissionSource, p, "SourceArn %q names %s %s, which API %s does not have", src, verb, path, api)
	return ""
}

// resourcePath returns the path of an API resource id: !GetAtt Api.RootResourceId
// is "/", !Ref SomeResource is its parent's path plus its PathPart.
func (c *checker) resourcePath(id any) string {
	for depth, parts := 0, []string{}; depth < 64; depth++ {
		if _, attr, ok := GetAttTarget(id); ok && attr == "RootResourceId" {
			slices.Reverse(parts)
			return "/" + strings.Join(parts, "/")
		}
		name, ok := RefTarget(id)
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

// ------------------------------------------------------------------- the API

func (c *checker) methods() {
	for _, m := range c.t.ResourcesOfType("AWS::ApiGateway::Method") {
		integ, _ := m.Properties["Integration"].(map[string]any)
		switch integ["Type"] {
		case "AWS_PROXY", "AWS":
			if integ["IntegrationHttpMethod"] != "POST" {
				c.add(RuleProxyPost, m.Name, "Lambda integration must use IntegrationHttpMethod POST, got %s", show(integ["IntegrationHttpMethod"]))
			}
			if _, ok := c.methodFn[m.Name]; !ok {
				c.add(RuleProxyPost, m.Name, "Integration Uri must be !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${<Function>.Arn}/invocations, got %s", show(integ["Uri"]))
			}
		}
		if m.Properties["HttpMethod"] == "OPTIONS" {
			continue
		}
		if m.Properties["AuthorizationType"] != "CUSTOM" {
			c.add(RuleMethodAuthorizer, m.Name, "AuthorizationType must be CUSTOM, got %s", show(m.Properties["AuthorizationType"]))
			continue
		}
		auth, ok := RefTarget(m.Properties["AuthorizerId"])
		if r, found := c.t.Resource(auth); !ok || !found || r.Type != "AWS::ApiGateway::Authorizer" || apiOf(r) != apiOf(m) {
			c.add(RuleMethodAuthorizer, m.Name, "AuthorizerId must be !Ref an Authorizer of the same API, got %s", show(m.Properties["AuthorizerId"]))
		}
	}
}

func (c *checker) deployments() {
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
					c.add(RuleDeploymentDependsOn, d.Name, "DependsOn lacks %s: the deployment may snapshot API %s without it", n, api.Name)
				}
			}
		}
		if !found {
			c.add(RuleDeploymentDependsOn, api.Name, "no AWS::ApiGateway::Deployment for this API")
		}
	}
}

func (c *checker) stages() {
	for _, s := range c.t.ResourcesOfType("AWS::ApiGateway::Stage") {
		ok := false
		for _, ms := range list(s.Properties["MethodSettings"]) {
			m, _ := ms.(map[string]any)
			if m["ResourcePath"] == "/*" && m["HttpMethod"] == "*" &&
				c.positive(m["ThrottlingRateLimit"]) && c.positive(m["ThrottlingBurstLimit"]) {
				ok = true
			}
		}
		if !ok {
			c.add(RuleStageThrottling, s.Name, `MethodSettings needs ResourcePath "/*", HttpMethod "*" with positive ThrottlingRateLimit and ThrottlingBurstLimit`)
		}
	}
}

// positive reports whether v (a literal or a parameter's default) is a number > 0.
func (c *checker) positive(v any) bool {
	n, ok := c.number(v)
	return ok && n > 0
}

// number returns v, or the default of the parameter v refers to, as a number.
func (c *checker) number(v any) (float64, bool) {
	d, ok := c.t.ResolveDefault(v)
	if !ok {
		return 0, false
	}
	switch x := d.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func (c *checker) gatewayResponses() {
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
					c.add(RuleGatewayResponses, r.Name, "%s must answer %s with an application/json template", want.typ, want.status)
				}
				ok = true
			}
			if !ok {
				c.add(RuleGatewayResponses, api.Name, "no %s gateway response: it would not answer %s with JSON", want.typ, want.status)
			}
		}
	}
}

func (c *checker) authorizerSettings() {
	for _, a := range c.t.ResourcesOfType("AWS::ApiGateway::Authorizer") {
		p := a.Properties
		if p["Type"] != "TOKEN" {
			c.add(RuleAuthorizerSettings, a.Name, "Type must be TOKEN, got %s", show(p["Type"]))
		}
		if p["IdentitySource"] != "method.request.header.Authorization" {
			c.add(RuleAuthorizerSettings, a.Name, "IdentitySource must be method.request.header.Authorization, got %s", show(p["IdentitySource"]))
		}
		if _, ok := c.authorizerFn[a.Name]; !ok {
			c.add(RuleAuthorizerSettings, a.Name, "AuthorizerUri must be !Sub ...functions/${<Function>.Arn}/invocations, got %s", show(p["AuthorizerUri"]))
		}
		c.checkValidationExpression(a.Name, p["IdentityValidationExpression"])
		ttlParam, isRef := RefTarget(p["AuthorizerResultTtlInSeconds"])
		ttl, ok := c.number(p["AuthorizerResultTtlInSeconds"])
		switch {
		case !isRef || !ok:
			c.add(RuleAuthorizerSettings, a.Name, "AuthorizerResultTtlInSeconds must be !Ref a parameter with a Default, got %s", show(p["AuthorizerResultTtlInSeconds"]))
		case ttl < 0 || ttl > 3600:
			c.add(RuleAuthorizerSettings, a.Name, "parameter %s defaults to %v, outside 0..3600", ttlParam, ttl)
		}
	}
}

func (c *checker) checkValidationExpression(auth string, v any) {
	expr, ok := v.(string)
	if !ok || expr == "" {
		c.add(RuleAuthorizerSettings, auth, "IdentityValidationExpression must be a literal regular expression")
		return
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		c.add(RuleAuthorizerSettings, auth, "IdentityValidationExpression does not compile: %v", err)
		return
	}
	// Authorization values the expression must accept (true) or refuse
	// before the authorizer runs (false).
	headers := []struct {
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
	for _, h := range headers {
		if re.MatchString(h.value) != h.accept {
			verb := "refuses"
			if !h.accept {
				verb = "accepts"
			}
			c.add(RuleAuthorizerSettings, auth, "IdentityValidationExpression %s Authorization %q", verb, h.value)
		}
	}
}

// --------------------------------------------------------------- Cognito/IAM

func (c *checker) groups() {
	seen := map[float64]string{}
	for _, g := range c.t.ResourcesOfType("AWS::Cognito::UserPoolGroup") {
		role, ok := roleOf(g.Properties["RoleArn"])
		if !ok || !c.isType(role, "AWS::IAM::Role") {
			c.add(RuleGroups, g.Name, "RoleArn must be !GetAtt <role of this template>.Arn, got %s", show(g.Properties["RoleArn"]))
		}
		if _, ok := g.Properties["GroupName"].(string); !ok {
			c.add(RuleGroups, g.Name, "GroupName must be a literal")
		}
		prec, ok := c.number(g.Properties["Precedence"])
		if !ok {
			c.add(RuleGroups, g.Name, "Precedence must be set: it decides cognito:preferred_role")
			continue
		}
		if other, dup := seen[prec]; dup {
			c.add(RuleGroups, g.Name, "Precedence %v is also %s's: cognito:preferred_role would be ambiguous", prec, other)
		}
		seen[prec] = g.Name
	}
}

// isTrustAction reports whether a (lower-case) is one of the actions the
// backend needs on a group role.
func isTrustAction(a string) bool {
	return a == "sts:assumerole" || a == "sts:tagsession" || a == "sts:setsourceidentity"
}

// backendRoleNames returns the execution roles of the functions behind methods.
func (c *checker) backendRoleNames() []string {
	var out []string
	for _, fn := range c.backendFns {
		if r, ok := c.fnRole[fn]; ok {
			out = append(out, r)
		}
	}
	return sortedUnique(out)
}

func (c *checker) groupRoleRules() {
	backend := c.backendRoleNames()
	for _, role := range c.groupRoles {
		r, ok := c.t.Resource(role)
		if !ok || r.Type != "AWS::IAM::Role" {
			continue // reported by groups
		}
		if d, ok := c.number(r.Properties["MaxSessionDuration"]); !ok || d != 3600 {
			c.add(RuleGroupRoleSession, role, "MaxSessionDuration must be 3600, got %s", show(r.Properties["MaxSessionDuration"]))
		}
		for _, od := range c.t.identityPolicies(role) {
			for _, st := range statements(od.doc) {
				if st.grantsService("sts") {
					c.add(RuleGroupRoleSession, od.owner, "group role %s must not have STS permissions (role chaining)", role)
				}
			}
		}
		assume := false
		for _, st := range statements(r.Properties["AssumeRolePolicyDocument"]) {
			if !st.Allow {
				continue
			}
			if st.HasNotPrin {
				c.add(RuleGroupRoleTrust, role, "trust policy uses NotPrincipal: it trusts everyone else")
				continue
			}
			c.checkTrustPrincipal(role, st.Principal, backend)
			for _, a := range st.Actions {
				if !isTrustAction(a) || st.NotAction {
					c.add(RuleGroupRoleTrust, role, "trust policy allows %q; only sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity", a)
				}
				if a == "sts:assumerole" {
					assume = true
				}
			}
		}
		if !assume {
			c.add(RuleGroupRoleTrust, role, "trust policy does not let the backend's role sts:AssumeRole")
		}
	}
}

func (c *checker) checkTrustPrincipal(role string, p any, backend []string) {
	pm, ok := p.(map[string]any)
	if !ok {
		c.add(RuleGroupRoleTrust, role, "trusts Principal %s; only the backend's execution role %v", show(p), backend)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(pm)) {
		if k != "AWS" {
			c.add(RuleGroupRoleTrust, role, "trusts a %s principal %s; only the backend's execution role %v", k, show(pm[k]), backend)
			continue
		}
		for _, v := range list(pm[k]) {
			if r, ok := roleOf(v); !ok || !slices.Contains(backend, r) {
				c.add(RuleGroupRoleTrust, role, "trusts %s; only the backend's execution role %v", show(v), backend)
			}
		}
	}
}

func (c *checker) backendRoles() {
	for _, fn := range c.backendFns {
		role, ok := c.fnRole[fn]
		if !ok {
			continue // reported by functions
		}
		assumable := map[string]bool{}
		for _, od := range c.t.identityPolicies(role) {
			for _, st := range statements(od.doc) {
				if !st.grantsService("sts") {
					continue
				}
				for _, a := range st.Actions {
					if st.NotAction || !isTrustAction(a) {
						c.add(RuleBackendAssume, od.owner, "backend role %s is allowed %q; only sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity on the group roles", role, a)
					}
				}
				if st.NotResource {
					c.add(RuleBackendAssume, od.owner, "backend role %s: STS statement uses NotResource", role)
				}
				for _, res := range st.Resources {
					r, ok := roleOf(res)
					if !ok || !slices.Contains(c.groupRoles, r) {
						c.add(RuleBackendAssume, od.owner, "backend role %s may assume %s, which is not a group role %v", role, show(res), c.groupRoles)
						continue
					}
					if slices.Contains(st.Actions, "sts:assumerole") {
						assumable[r] = true
					}
				}
			}
		}
		for _, g := range c.groupRoles {
			if !assumable[g] {
				c.add(RuleBackendAssume, role, "backend role may not sts:AssumeRole group role %s: its members would get 403", g)
			}
		}
		c.checkAllowedRoles(fn)
	}
}

func (c *checker) checkAllowedRoles(fn string) {
	f, _ := c.t.Resource(fn)
	env, _ := f.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	v, ok := vars["ALLOWED_ROLE_ARNS"]
	if !ok {
		c.add(RuleBackendAllowedRoles, fn, "ALLOWED_ROLE_ARNS is unset: the backend would allow any role of the account; list the group roles %v", c.groupRoles)
		return
	}
	var roles []string
	bad := false
	if j, ok := v.(map[string]any)["Fn::Join"].([]any); ok && len(j) == 2 && j[0] == "," {
		for _, e := range list(j[1]) {
			r, ok := roleOf(e)
			bad = bad || !ok
			roles = append(roles, r)
		}
	} else if s, vars, ok := SubString(v); ok && vars == nil {
		for _, part := range strings.Split(s, ",") {
			m := wholeArnSub.FindStringSubmatch(part)
			bad = bad || m == nil
			if m != nil {
				roles = append(roles, m[1])
			}
		}
	} else {
		bad = true
	}
	if bad || !slices.Equal(sortedUnique(roles), c.groupRoles) {
		c.add(RuleBackendAllowedRoles, fn, "ALLOWED_ROLE_ARNS must be exactly the group roles %v (!Join [\",\", [!GetAtt <Role>.Arn, ...]]), got %s", c.groupRoles, show(v))
	}
}

func (c *checker) executionRoles() {
	for _, fn := range slices.Sorted(maps.Keys(c.fnRole)) {
		role := c.fnRole[fn]
		isAuth, isBackend := slices.Contains(c.authFns, fn), slices.Contains(c.backendFns, fn)
		f, _ := c.t.Resource(fn)
		lc, _ := f.Properties["LoggingConfig"].(map[string]any)
		ownLogs, _ := RefTarget(lc["LogGroup"])
		r, _ := c.t.Resource(role)
		if arns := list(r.Properties["ManagedPolicyArns"]); len(arns) > 0 {
			c.add(RuleExecutionRoleLogs, role, "execution role of %s has ManagedPolicyArns %v: grant what it needs inline, where it can be checked", fn, arns)
		}
		for _, od := range c.t.identityPolicies(role) {
			for _, st := range statements(od.doc) {
				if !st.Allow {
					continue
				}
				if isAuth && st.grantsService("sts") {
					c.add(RuleAuthorizerNoSTS, od.owner, "authorizer %s's role %s may call STS (%s): it must not assume any role", fn, role, strings.Join(st.Actions, ", "))
				}
				if isBackend && st.grantsService("sts") && !st.grantsService("logs") {
					continue // checked by backendRoles
				}
				c.checkLogStatement(fn, role, ownLogs, od.owner, st)
			}
		}
	}
}

func (c *checker) checkLogStatement(fn, role, ownLogs, owner string, st statement) {
	for _, a := range st.Actions {
		if st.NotAction || (a != "logs:createlogstream" && a != "logs:putlogevents") {
			c.add(RuleExecutionRoleLogs, owner, "%s's role %s is allowed %q; only logs:CreateLogStream and logs:PutLogEvents on its own log group", fn, role, a)
		}
	}
	if st.NotResource {
		c.add(RuleExecutionRoleLogs, owner, "%s's role %s: statement uses NotResource", fn, role)
	}
	for _, res := range st.Resources {
		if ownLogs == "" {
			c.add(RuleExecutionRoleLogs, owner, "%s's role %s writes logs to %s, but %s names no log group of its own", fn, role, show(res), fn)
		} else if lg, ok := logGroupOf(res); !ok || lg != ownLogs {
			c.add(RuleExecutionRoleLogs, owner, "%s's role %s writes logs to %s; only its own log group %s", fn, role, show(res), ownLogs)
		}
	}
}

func (c *checker) wildcards() {
	for _, od := range c.t.allIdentityPolicies() {
		for _, st := range statements(od.doc) {
			if !st.Allow {
				continue
			}
			for _, svc := range []string{"sts", "iam"} {
				if !st.grantsService(svc) {
					continue
				}
				if st.NotAction {
					c.add(RuleNoWildcardSTSIAM, od.owner, "NotAction allows %s: actions", svc)
					continue
				}
				for _, a := range st.Actions {
					if mayGrant(a, svc) && isWildcard(a) {
						c.add(RuleNoWildcardSTSIAM, od.owner, "action %q grants %s: actions by wildcard", a, svc)
					}
				}
				if st.NotResource {
					c.add(RuleNoWildcardSTSIAM, od.owner, "%s: actions on NotResource", svc)
				}
				for _, res := range st.Resources {
					if s, ok := res.(string); ok && isWildcard(s) {
						c.add(RuleNoWildcardSTSIAM, od.owner, "%s: actions on Resource %q", svc, s)
					}
				}
			}
		}
	}
	for _, r := range c.t.ResourcesOfType("AWS::IAM::Role") {
		for _, st := range statements(r.Properties["AssumeRolePolicyDocument"]) {
			if !st.Allow {
				continue
			}
			if st.Principal == "*" {
				c.add(RuleNoWildcardSTSIAM, r.Name, `trust policy trusts Principal "*"`)
			}
			if pm, ok := st.Principal.(map[string]any); ok {
				for _, v := range list(pm["AWS"]) {
					if v == "*" {
						c.add(RuleNoWildcardSTSIAM, r.Name, `trust policy trusts Principal AWS "*"`)
					}
				}
			}
		}
	}
}

// ------------------------------------------------------------ logs/functions

func (c *checker) logGroups() {
	for _, lg := range c.t.ResourcesOfType("AWS::Logs::LogGroup") {
		if !c.positive(lg.Properties["RetentionInDays"]) {
			c.add(RuleLogRetention, lg.Name, "RetentionInDays must be set: without it logs are kept forever")
		}
	}
}

func (c *checker) functions() {
	for _, f := range c.t.ResourcesOfType("AWS::Lambda::Function") {
		p := f.Properties
		lc, _ := p["LoggingConfig"].(map[string]any)
		if lc["LogFormat"] != "JSON" {
			c.add(RuleFunctionLogging, f.Name, "LoggingConfig.LogFormat must be JSON, got %s", show(lc["LogFormat"]))
		}
		if lg, ok := RefTarget(lc["LogGroup"]); !ok || !c.isType(lg, "AWS::Logs::LogGroup") {
			c.add(RuleFunctionLogging, f.Name, "LoggingConfig.LogGroup must be !Ref a log group of this template (with retention), got %s", show(lc["LogGroup"]))
		}
		if p["Runtime"] != "provided.al2023" {
			c.add(RuleFunctionRuntime, f.Name, "Runtime must be provided.al2023, got %s", show(p["Runtime"]))
		}
		if a := list(p["Architectures"]); len(a) != 1 || a[0] != "arm64" {
			c.add(RuleFunctionRuntime, f.Name, "Architectures must be [arm64], got %v", a)
		}
		if p["Handler"] != "bootstrap" {
			c.add(RuleFunctionRuntime, f.Name, "Handler must be bootstrap, got %s", show(p["Handler"]))
		}
		if m, ok := c.number(p["MemorySize"]); !ok || m != 128 {
			c.add(RuleFunctionRuntime, f.Name, "MemorySize must be 128, got %s", show(p["MemorySize"]))
		}
		if t, ok := c.number(p["Timeout"]); !ok || t < 1 || t > 10 {
			c.add(RuleFunctionRuntime, f.Name, "Timeout must be 1..10 seconds, got %s", show(p["Timeout"]))
		}
		if _, ok := c.fnRole[f.Name]; !ok {
			c.add(RuleFunctionRuntime, f.Name, "Role must be !GetAtt <role of this template>.Arn, got %s", show(p["Role"]))
		}
		if slices.Contains(c.authFns, f.Name) {
			c.checkAuthorizerEnv(f)
		}
	}
}

func (c *checker) checkAuthorizerEnv(f Resource) {
	env, _ := f.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	pool, ok := RefTarget(vars["USER_POOL_ID"])
	if !ok || !c.isType(pool, "AWS::Cognito::UserPool") {
		c.add(RuleAuthorizerEnv, f.Name, "USER_POOL_ID must be !Ref the user pool, got %s", show(vars["USER_POOL_ID"]))
		return
	}
	client, ok := RefTarget(vars["APP_CLIENT_IDS"])
	cr, found := c.t.Resource(client)
	if !ok || !found || cr.Type != "AWS::Cognito::UserPoolClient" {
		c.add(RuleAuthorizerEnv, f.Name, "APP_CLIENT_IDS must be !Ref an app client, got %s", show(vars["APP_CLIENT_IDS"]))
		return
	}
	if p, _ := RefTarget(cr.Properties["UserPoolId"]); p != pool {
		c.add(RuleAuthorizerEnv, f.Name, "app client %s belongs to %s, not USER_POOL_ID's %s", client, p, pool)
	}
}
