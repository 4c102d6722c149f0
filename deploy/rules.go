package deploy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rolegate/rolegate/internal/cfn"
)

// A Rule is one project rule: a mistake cfn-lint accepts but a real
// deployment would reveal (or worse, would not).
type Rule struct {
	ID    string
	Doc   string // one line: what must hold, and why
	check func(c *checker, report reporter)
}

// reporter records a finding of the rule being checked.
type reporter func(resource, format string, args ...any)

// Rules returns the project rules, in the order Check applies them: a copy,
// so a caller cannot change what Check applies.
func Rules() []Rule { return slices.Clone(rules) }

// rules are the project rules, each defined here once. Check applies them
// all; the mutation test plants, for each, a mistake it must catch.
var rules = []Rule{
	{"reference-target-exists", "every Ref, GetAtt, ${}, Condition and DependsOn names something that exists", (*checker).references},
	{"lambda-permission-source", "a Lambda permission is for API Gateway with a SourceArn naming this account, API and the authorizer or route that invokes the function; no SourceAccount (API Gateway may not send it)", (*checker).permissionSources},
	{"lambda-permission-missing", "every authorizer and proxy route may invoke its function, or API Gateway answers 500", (*checker).permissionsMissing},
	{"proxy-integration-post", "Lambda integrations use IntegrationHttpMethod POST and this template's function", (*checker).proxyPost},
	{"method-custom-authorizer", "every method but CORS preflight is guarded by a CUSTOM authorizer of its API", (*checker).methodAuthorizer},
	{"deployment-depends-on-methods", "a deployment DependsOn every method and gateway response of its API, or it may snapshot the API without them", (*checker).deploymentDependsOn},
	{"stage-settings", "every stage takes StageName from a parameter, throttles all methods and traces with X-Ray", (*checker).stageSettings},
	{"gateway-responses-json", "UNAUTHORIZED answers 401 and ACCESS_DENIED 403, both JSON", (*checker).gatewayResponses},
	{"authorizer-settings", "a TOKEN authorizer on Authorization, accepting a bare or Bearer JWT only, with its cache TTL from a parameter", (*checker).authorizerSettings},
	{"http-payload-format", "an HTTP API's Lambda authorizer uses payload 2.0 with simple responses, and its Lambda integrations payload 2.0 (1.0 is the default)", (*checker).httpPayloadFormat},
	{"http-authorizer-settings", "an HTTP API authorizer's one identity source is the Authorization header; a REQUEST one's cache TTL comes from a parameter, a JWT one trusts this pool's issuer and app clients only", (*checker).httpAuthorizerSettings},
	{"http-route-authorization", "every HTTP API route, for every Authorizer value, is CUSTOM or JWT with an authorizer of that type on its API, asks for no scopes, and targets an integration of its API", (*checker).httpRouteAuthorization},
	{"http-stage-settings", "an HTTP API stage takes StageName from a parameter, deploys automatically and throttles its routes by default", (*checker).httpStageSettings},
	{"backend-role-source", "the backend's ROLE_SOURCE matches the authorizer in front of it, for every Authorizer value: rolegate (or unset) behind rolegate's, jwt with USER_POOL_ID this pool behind a JWT authorizer", (*checker).backendRoleSource},
	{"integer-parameters", "a whole-number parameter is a String whose AllowedPattern refuses 1.5, -1 and 1e3, with a ConstraintDescription (a Number accepts 1.5 and fails at deploy time)", (*checker).integerParameters},
	{"cognito-groups", "every group has a role of this template and a distinct Precedence (cognito:preferred_role is ambiguous otherwise)", (*checker).groups},
	{"user-pool-settings", "the pool's tier is a parameter, and its deletion protection too (make deploy creates a stack unprotected, then protects it)", (*checker).userPoolSettings},
	{"role-name-region-safe", "a named role includes ${AWS::StackName} and ${AWS::Region}: role names are account-wide and case-insensitive", (*checker).roleNames},
	{"group-role-trust", "a group role trusts the backend's execution role only, for sts:AssumeRole, TagSession and SetSourceIdentity, all three, and only for a named user: SourceIdentity equal to the sub session tag, no tag keys but sub and username", (*checker).groupRoleTrust},
	{"group-role-session", "a group role allows sessions of 3600s (the most SESSION_DURATION asks) and cannot assume further roles", (*checker).groupRoleSession},
	{"group-role-own-prefix", "every group role may read and write users/${aws:PrincipalTag/sub}/ in the data bucket: the session tag scopes each user to their own prefix", (*checker).groupRoleOwnPrefix},
	{"backend-assumes-exactly-group-roles", "the backend's role may assume, tag and set source identity on exactly the group roles", (*checker).backendAssume},
	{"backend-environment", "the backend's ALLOWED_ROLE_ARNS lists exactly the group roles (unset, any role of the account), and SESSION_TAGS is set", (*checker).backendEnvironment},
	{"group-role-no-star-resource", "a group role grants nothing on Resource \"*\" (s3:ListAllMyBuckets on * lists every bucket of the account)", (*checker).groupRoleNoStar},
	{"user-pool-email-update-verified", "a pool holds a changed email until it is verified (UserAttributeUpdateSettings)", (*checker).userPoolEmailUpdates},
	{"app-client-attributes", "an app client lists ReadAttributes and WriteAttributes, and users may write only profile attributes: never email_verified or a custom one", (*checker).appClientAttributes},
	{"user-pool-mfa", "MFA comes from a parameter whose default is OPTIONAL or ON, with authenticator apps (SOFTWARE_TOKEN_MFA) enabled", (*checker).userPoolMfa},
	{"stage-access-log", "a REST stage writes a JSON access log with $context.requestId to a log group of this template, and no header (the token)", (*checker).stageAccessLog},
	{"function-reserved-concurrency", "each function's ReservedConcurrentExecutions comes from a parameter, unreserved by default through AWS::NoValue", (*checker).reservedConcurrency},
	{"backend-data-bucket", "the backend's DATA_BUCKET, when set, is !Ref a bucket of this template, and each REST API invoking it has BinaryMediaTypes [\"*/*\"]: file bodies travel base64, both ways", (*checker).backendDataBucket},
	{"authorizer-no-sts", "the authorizer's role has no STS permission", (*checker).authorizerNoSTS},
	{"execution-role-least-privilege", "an execution role writes its function's own log group and X-Ray traces (and, for the backend, assumes group roles); no managed policies", (*checker).executionRoles},
	{"no-wildcard-sts-iam", "no statement grants sts: or iam: actions by wildcard or NotAction, or on a wildcard resource, and no role trusts \"*\"", (*checker).wildcards},
	{"log-group-retention", "every log group has RetentionInDays (else logs are kept forever)", (*checker).logRetention},
	{"function-json-logs-own-group", "every function logs JSON to a log group of this template", (*checker).functionLogging},
	{"function-runtime", "provided.al2023, arm64, handler bootstrap, 128 MB, timeout 1..10s, a role of this template, X-Ray tracing Active", (*checker).functionRuntime},
	{"function-memory-limit", "GOMEMLIMIT is set in MiB to 80..90% of MemorySize, so the Go heap collects before Lambda kills the function", (*checker).memoryLimit},
	{"function-metrics-namespace", "every function has METRICS_NAMESPACE, the namespace the alarms watch", (*checker).metricsNamespace},
	{"authorizer-environment", "the authorizer's USER_POOL_ID and APP_CLIENT_IDS name this template's pool and one of its clients first (existing pools and clients may follow)", (*checker).authorizerEnv},
	{"dashboard", "the dashboard's body is JSON once its ${} are substituted, and shows decisions, cache hits, AssumeRole calls and latency", (*checker).dashboard},
	{"alarms", "alarms watch authorizer errors, unauthorized bursts and backend STS errors and throttling in the functions' namespace, notifying AlarmTopicArn when set", (*checker).alarms},
}

// Finding is one broken project rule.
type Finding struct {
	Rule     string // a Rule's ID
	Resource string // logical ID the finding is about
	Message  string
}

// String is the finding as the check command prints it: rule, resource, message.
func (f Finding) String() string { return f.Rule + " " + f.Resource + ": " + f.Message }

// Check applies every rule to t and returns the findings, sorted by rule then
// resource. A template that passes has none.
func Check(t *cfn.Template) []Finding {
	c := newChecker(t)
	var out []Finding
	for _, r := range rules {
		r.check(c, func(resource, format string, args ...any) {
			out = append(out, Finding{Rule: r.ID, Resource: resource, Message: fmt.Sprintf(format, args...)})
		})
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		return strings.Compare(a.Rule+" "+a.Resource, b.Rule+" "+b.Resource)
	})
	return out
}

// checker holds the template and the facts the rules share: which function
// each authorizer and method invokes, which roles the functions run as, and
// which roles the Cognito groups carry.
type checker struct {
	t *cfn.Template

	authorizerFn map[string]string // Authorizer (REST, or HTTP API REQUEST) → function it invokes
	methodFn     map[string]string // Method, or HTTP API Route → function it proxies to
	fnRole       map[string]string // function → its execution role
	groupRoles   []string          // roles named by Cognito groups, sorted
	backendFns   []string          // functions behind a method, sorted
	authFns      []string          // functions behind an authorizer, sorted
}

var invokeURI = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:apigateway:\$\{AWS::Region\}:lambda:path/2015-03-31/functions/\$\{([A-Za-z0-9]+)\.Arn\}/invocations$`)

// invokedFunction returns the function an AuthorizerUri or Integration Uri invokes.
func invokedFunction(uri any) (string, bool) {
	s, vars, ok := cfn.SubString(uri)
	if !ok || vars != nil {
		return "", false
	}
	m := invokeURI.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func newChecker(t *cfn.Template) *checker {
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
	c.httpAPIFunctions()
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

func (c *checker) isParameter(name string) bool {
	_, ok := c.t.Parameter(name)
	return ok
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

// env returns the Environment.Variables of function f.
func env(f cfn.Resource) map[string]any {
	e, _ := f.Properties["Environment"].(map[string]any)
	vars, _ := e["Variables"].(map[string]any)
	return vars
}

// ---------------------------------------------------------------- references

func (c *checker) references(report reporter) {
	checkRef := func(where string, ref cfn.Reference) {
		_, isResource := c.t.Resources[ref.Target]
		_, isParam := c.t.Parameters[ref.Target]
		switch {
		case ref.Attr != "" && !isResource:
			report(where, "%s.%s at %s: no such resource", ref.Target, ref.Attr, strings.Join(ref.Path, "."))
		case ref.Attr == "" && !isResource && !isParam && !cfn.IsPseudoParameter(ref.Target):
			report(where, "%s at %s: no such parameter or resource", ref.Target, strings.Join(ref.Path, "."))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.t.Resources)) {
		r, _ := c.t.Resource(name)
		for _, ref := range cfn.References(r.Attributes) {
			checkRef(name, ref)
		}
		for _, d := range r.DependsOn {
			if _, ok := c.t.Resources[d]; !ok {
				report(name, "DependsOn %s: no such resource", d)
			}
		}
		if cond, ok := r.Attributes["Condition"].(string); ok {
			if _, ok := c.t.Conditions[cond]; !ok {
				report(name, "Condition %s: no such condition", cond)
			}
		}
		for _, cond := range ifConditions(r.Attributes) {
			if _, ok := c.t.Conditions[cond]; !ok {
				report(name, "Fn::If %s: no such condition", cond)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.t.Outputs)) {
		for _, ref := range cfn.References(c.t.Outputs[name]) {
			checkRef("Outputs."+name, ref)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.t.Conditions)) {
		for _, ref := range cfn.References(c.t.Conditions[name]) {
			checkRef("Conditions."+name, ref)
		}
	}
}

// ifConditions returns the condition names of every Fn::If in v.
func ifConditions(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if f, ok := x["Fn::If"].([]any); ok && len(f) == 3 {
			if cond, ok := f[0].(string); ok {
				out = append(out, cond)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = append(out, ifConditions(x[k])...)
		}
	case []any:
		for _, e := range x {
			out = append(out, ifConditions(e)...)
		}
	}
	return out
}

// ---------------------------------------------------------------- parameters

// integerParameters: a Number parameter takes 1.5, which then fails at
// deploy time; whole numbers are Strings with a pattern that says so.
func (c *checker) integerParameters(report reporter) {
	for _, name := range slices.Sorted(maps.Keys(c.t.Parameters)) {
		p, _ := c.t.Parameter(name)
		if p.Type == "Number" {
			if len(p.AllowedValues) == 0 || slices.ContainsFunc(p.AllowedValues, func(v any) bool { _, ok := v.(int); return !ok }) {
				report(name, "a Number parameter accepts 1.5; make it a String with AllowedPattern '^[0-9]+$' (or list whole AllowedValues)")
			}
			continue
		}
		isDigits := false
		switch d := p.Default.(type) {
		case int:
			isDigits = true
		case string:
			isDigits = d != "" && strings.Trim(d, "0123456789") == ""
		}
		if p.Type != "String" || !isDigits {
			continue
		}
		re, err := regexp.Compile(p.AllowedPattern)
		if p.AllowedPattern == "" || err != nil {
			report(name, "whole-number parameter needs an AllowedPattern such as '^[0-9]+$'")
			continue
		}
		for _, bad := range []string{"1.5", "-1", "1e3", "", " 1", "1 "} {
			if re.MatchString(bad) {
				report(name, "AllowedPattern %q accepts %q, not a whole number", p.AllowedPattern, bad)
			}
		}
		if !re.MatchString(fmt.Sprint(p.Default)) {
			report(name, "AllowedPattern %q refuses the Default %v", p.AllowedPattern, p.Default)
		}
		if p.ConstraintDescription == "" {
			report(name, "whole-number parameter needs a ConstraintDescription: CloudFormation shows it instead of the bare pattern")
		}
	}
}
