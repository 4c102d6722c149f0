package deploy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/rolegate/rolegate/internal/cfn"
)

func (c *checker) groups(report reporter) {
	seen := map[float64]string{}
	for _, g := range c.t.ResourcesOfType("AWS::Cognito::UserPoolGroup") {
		role, ok := roleOf(g.Properties["RoleArn"])
		if !ok || !c.isType(role, "AWS::IAM::Role") {
			report(g.Name, "RoleArn must be !GetAtt <role of this template>.Arn, got %s", show(g.Properties["RoleArn"]))
		}
		if _, ok := g.Properties["GroupName"].(string); !ok {
			report(g.Name, "GroupName must be a literal")
		}
		prec, ok := c.number(g.Properties["Precedence"])
		if !ok {
			report(g.Name, "Precedence must be set: it decides cognito:preferred_role")
			continue
		}
		if other, dup := seen[prec]; dup {
			report(g.Name, "Precedence %v is also %s's: cognito:preferred_role would be ambiguous", prec, other)
		}
		seen[prec] = g.Name
	}
}

func (c *checker) userPoolSettings(report reporter) {
	for _, p := range c.t.ResourcesOfType("AWS::Cognito::UserPool") {
		for _, prop := range []string{"UserPoolTier", "DeletionProtection"} {
			if name, ok := cfn.RefTarget(p.Properties[prop]); !ok || !c.isParameter(name) {
				report(p.Name, "%s must be !Ref a parameter, got %s", prop, show(p.Properties[prop]))
			}
		}
	}
}

func (c *checker) roleNames(report reporter) {
	for _, r := range c.t.ResourcesOfType("AWS::IAM::Role") {
		v, named := r.Properties["RoleName"]
		if !named {
			continue
		}
		s, _, ok := cfn.SubString(v)
		if !ok || !strings.Contains(s, "${AWS::StackName}") || !strings.Contains(s, "${AWS::Region}") {
			report(r.Name, "RoleName %s clashes with the same stack in another region: use !Sub '${AWS::StackName}-${AWS::Region}-...'", show(v))
		}
	}
}

// trustActions are what the backend needs on a group role: assume it, tag
// the session with the caller's sub, and set the source identity.
var trustActions = []string{"sts:assumerole", "sts:setsourceidentity", "sts:tagsession"}

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

// groupRoleResources returns the group roles that are roles of this template.
func (c *checker) groupRoleResources() []cfn.Resource {
	var out []cfn.Resource
	for _, name := range c.groupRoles {
		if r, ok := c.t.Resource(name); ok && r.Type == "AWS::IAM::Role" {
			out = append(out, r)
		}
	}
	return out
}

func (c *checker) groupRoleTrust(report reporter) {
	backend := c.backendRoleNames()
	for _, r := range c.groupRoleResources() {
		allowed := map[string]bool{}
		for _, st := range statements(r.Properties["AssumeRolePolicyDocument"]) {
			if !st.Allow {
				continue
			}
			if st.HasNotPrin {
				report(r.Name, "trust policy uses NotPrincipal: it trusts everyone else")
				continue
			}
			c.checkTrustPrincipal(report, r.Name, st.Principal, backend)
			for _, problem := range trustConditionProblems(st.Condition) {
				report(r.Name, "trust policy must allow the backend's role only for a named user: %s", problem)
			}
			for _, a := range st.Actions {
				if st.NotAction || !slices.Contains(trustActions, a) {
					report(r.Name, "trust policy allows %q; only sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity", a)
				}
				allowed[a] = true
			}
		}
		for _, a := range trustActions {
			if !allowed[a] {
				report(r.Name, "trust policy does not let the backend's role %s: every AssumeRole would be refused", a)
			}
		}
	}
}

// sessionTagKeys are the session tags the backend sets.
var sessionTagKeys = []string{"sub", "username"}

// trustConditionProblems says what a group role's trust condition lacks:
// SourceIdentity equal to the sub session tag (which also requires both to
// be present: a policy variable without a value matches nothing), and tag
// keys limited to sessionTagKeys for every key of the request. Other
// conditions can only narrow the statement, so they are allowed.
func trustConditionProblems(cond any) []string {
	var out []string
	if v := conditionValues(cond, "StringEquals", "sts:SourceIdentity"); len(v) != 1 || v[0] != "${aws:RequestTag/sub}" {
		out = append(out, `StringEquals sts:SourceIdentity "${aws:RequestTag/sub}" (SourceIdentity set, and equal to the sub tag)`)
	}
	if v := conditionValues(cond, "ForAllValues:StringEquals", "aws:TagKeys"); len(v) == 0 || !allIn(v, sessionTagKeys) {
		out = append(out, fmt.Sprintf("ForAllValues:StringEquals aws:TagKeys %v (no other session tag), not %v", sessionTagKeys, v))
	}
	return out
}

// conditionValues returns the string values cond tests key with under
// operator (keys are case-insensitive, operators are not); nil if there are
// none, or any is not a plain string.
func conditionValues(cond any, operator, key string) []string {
	ops, _ := cond.(map[string]any)
	tests, _ := ops[operator].(map[string]any)
	var out []string
	for k, v := range tests {
		if !strings.EqualFold(k, key) {
			continue
		}
		for _, x := range cfn.List(v) {
			s, ok := x.(string)
			if !ok {
				return nil
			}
			out = append(out, s)
		}
	}
	return out
}

func (c *checker) checkTrustPrincipal(report reporter, role string, p any, backend []string) {
	pm, ok := p.(map[string]any)
	if !ok {
		report(role, "trusts Principal %s; only the backend's execution role %v", show(p), backend)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(pm)) {
		if k != "AWS" {
			report(role, "trusts a %s principal %s; only the backend's execution role %v", k, show(pm[k]), backend)
			continue
		}
		for _, v := range cfn.List(pm[k]) {
			if r, ok := roleOf(v); !ok || !slices.Contains(backend, r) {
				report(role, "trusts %s; only the backend's execution role %v", show(v), backend)
			}
		}
	}
}

func (c *checker) groupRoleSession(report reporter) {
	for _, r := range c.groupRoleResources() {
		if d, ok := c.number(r.Properties["MaxSessionDuration"]); !ok || d != 3600 {
			report(r.Name, "MaxSessionDuration must be 3600, got %s", show(r.Properties["MaxSessionDuration"]))
		}
		for _, od := range c.identityPolicies(r.Name) {
			for _, st := range statements(od.doc) {
				if st.grantsService("sts") {
					report(od.owner, "group role %s must not have STS permissions (role chaining)", r.Name)
				}
			}
		}
	}
}

// bucketKeys matches the objects of a bucket as a Fn::Sub: ${Bucket.Arn}/<keys>.
var bucketKeys = regexp.MustCompile(`^\$\{([A-Za-z0-9]+)\.Arn\}/(.*)$`)

// userPrefix is each user's own prefix as written in a Fn::Sub: ${!...}
// keeps the IAM policy variable from being read as a template variable.
const userPrefix = "users/${!aws:PrincipalTag/sub}/*"

func (c *checker) groupRoleOwnPrefix(report reporter) {
	for _, r := range c.groupRoleResources() {
		can := map[string]bool{}
		for _, od := range c.identityPolicies(r.Name) {
			for _, st := range statements(od.doc) {
				if !st.Allow {
					continue
				}
				for _, res := range st.Resources {
					s, _, _ := cfn.SubString(res)
					m := bucketKeys.FindStringSubmatch(s)
					if m == nil || !c.isType(m[1], "AWS::S3::Bucket") {
						continue
					}
					if m[2] == userPrefix {
						for _, a := range st.Actions {
							can[a] = true
						}
						continue
					}
					// A wildcard whose literal part is a prefix of another
					// user's keys lets this role write them.
					lit, _, wild := strings.Cut(strings.ReplaceAll(m[2], "?", "*"), "*")
					if wild && strings.HasPrefix("users/someone-else/", lit) && slices.ContainsFunc(st.Actions, isS3Write) {
						report(od.owner, "group role %s may write %s, other users' prefixes included; only users/${aws:PrincipalTag/sub}/", r.Name, show(res))
					}
				}
			}
		}
		if !can["s3:getobject"] || !can["s3:putobject"] {
			report(r.Name, "group role may not s3:GetObject and s3:PutObject on !Sub \"${<Bucket>.Arn}/%s\"", userPrefix)
		}
	}
}

func isS3Write(a string) bool {
	return a == "*" || a == "s3:*" || strings.HasPrefix(a, "s3:put") || strings.HasPrefix(a, "s3:delete")
}

func (c *checker) backendAssume(report reporter) {
	for _, fn := range c.backendFns {
		role, ok := c.fnRole[fn]
		if !ok {
			continue // reported by function-runtime
		}
		assumable := map[string]bool{}
		for _, od := range c.identityPolicies(role) {
			for _, st := range statements(od.doc) {
				if !st.grantsService("sts") {
					continue
				}
				for _, a := range st.Actions {
					if st.NotAction || !slices.Contains(trustActions, a) {
						report(od.owner, "backend role %s is allowed %q; only sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity on the group roles", role, a)
					}
				}
				if st.NotResource {
					report(od.owner, "backend role %s: STS statement uses NotResource", role)
				}
				for _, res := range st.Resources {
					r, ok := roleOf(res)
					if !ok || !slices.Contains(c.groupRoles, r) {
						report(od.owner, "backend role %s may assume %s, which is not a group role %v", role, show(res), c.groupRoles)
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
				report(role, "backend role may not sts:AssumeRole group role %s: its members would get 403", g)
			}
		}
	}
}

func (c *checker) backendEnvironment(report reporter) {
	for _, fn := range c.backendFns {
		f, _ := c.t.Resource(fn)
		vars := env(f)
		if _, ok := vars["SESSION_TAGS"]; !ok {
			report(fn, "SESSION_TAGS is unset: say whether the caller's sub is passed as a session tag (true) or not")
		}
		v, ok := vars["ALLOWED_ROLE_ARNS"]
		if !ok {
			report(fn, "ALLOWED_ROLE_ARNS is unset: the backend would allow any role of the account; list the group roles %v", c.groupRoles)
			continue
		}
		var roles []string
		bad := false
		if j, ok := v.(map[string]any)["Fn::Join"].([]any); ok && len(j) == 2 && j[0] == "," {
			for _, e := range cfn.List(j[1]) {
				r, ok := roleOf(e)
				bad = bad || !ok
				roles = append(roles, r)
			}
		} else {
			bad = true
		}
		if bad || !slices.Equal(sortedUnique(roles), c.groupRoles) {
			report(fn, "ALLOWED_ROLE_ARNS must be exactly the group roles %v (!Join [\",\", [!GetAtt <Role>.Arn, ...]]), got %s", c.groupRoles, show(v))
		}
	}
}

func (c *checker) backendDataBucket(report reporter) {
	for _, fn := range c.backendFns {
		f, _ := c.t.Resource(fn)
		v, ok := env(f)["DATA_BUCKET"]
		if !ok {
			continue
		}
		if b, ok := cfn.RefTarget(v); !ok || !c.isType(b, "AWS::S3::Bucket") {
			report(fn, "DATA_BUCKET must be !Ref a bucket of this template (the roles' policies name that one), got %s", show(v))
		}
		seen := map[string]bool{}
		for _, m := range c.t.ResourcesOfType("AWS::ApiGateway::Method") {
			api, ok := c.t.Resource(apiOf(m))
			if !ok || c.methodFn[m.Name] != fn || seen[api.Name] {
				continue
			}
			seen[api.Name] = true
			if types := cfn.List(api.Properties["BinaryMediaTypes"]); !slices.Contains(types, any("*/*")) {
				report(api.Name, "BinaryMediaTypes must be [\"*/*\"] for %s's files: else API Gateway mangles binary bodies and sends base64 to clients, got %s", fn, show(api.Properties["BinaryMediaTypes"]))
			}
		}
	}
}

func (c *checker) authorizerNoSTS(report reporter) {
	for _, fn := range c.authFns {
		role, ok := c.fnRole[fn]
		if !ok {
			continue
		}
		for _, od := range c.identityPolicies(role) {
			for _, st := range statements(od.doc) {
				if st.grantsService("sts") {
					report(od.owner, "authorizer %s's role %s may call STS (%s): it must not assume any role", fn, role, strings.Join(st.Actions, ", "))
				}
			}
		}
	}
}

// xrayActions are what Lambda's active tracing needs; X-Ray has no
// resource-level permissions, so their Resource is "*".
var xrayActions = []string{"xray:puttelemetryrecords", "xray:puttracesegments"}

func (c *checker) executionRoles(report reporter) {
	for _, fn := range slices.Sorted(maps.Keys(c.fnRole)) {
		role, isBackend := c.fnRole[fn], slices.Contains(c.backendFns, fn)
		f, _ := c.t.Resource(fn)
		lc, _ := f.Properties["LoggingConfig"].(map[string]any)
		ownLogs, _ := cfn.RefTarget(lc["LogGroup"])
		r, _ := c.t.Resource(role)
		if arns := cfn.List(r.Properties["ManagedPolicyArns"]); len(arns) > 0 {
			report(role, "execution role of %s has ManagedPolicyArns %v: grant what it needs inline, where it can be checked", fn, arns)
		}
		for _, od := range c.identityPolicies(role) {
			for _, st := range statements(od.doc) {
				if !st.Allow || (isBackend && st.grantsService("sts") && !st.grantsService("logs")) {
					continue // backend-assumes-exactly-group-roles
				}
				if !st.NotAction && len(st.Actions) > 0 && allIn(st.Actions, xrayActions) {
					if len(st.Resources) != 1 || st.Resources[0] != "*" {
						report(od.owner, "%s's role %s: X-Ray actions take Resource \"*\" only, got %v", fn, role, st.Resources)
					}
					continue
				}
				checkLogStatement(report, fn, role, ownLogs, od.owner, st)
			}
		}
	}
}

func allIn(xs, set []string) bool {
	for _, x := range xs {
		if !slices.Contains(set, x) {
			return false
		}
	}
	return true
}

func checkLogStatement(report reporter, fn, role, ownLogs, owner string, st statement) {
	for _, a := range st.Actions {
		if st.NotAction || (a != "logs:createlogstream" && a != "logs:putlogevents") {
			report(owner, "%s's role %s is allowed %q; only logs:CreateLogStream and logs:PutLogEvents on its own log group, and X-Ray", fn, role, a)
		}
	}
	if st.NotResource {
		report(owner, "%s's role %s: statement uses NotResource", fn, role)
	}
	for _, res := range st.Resources {
		if ownLogs == "" {
			report(owner, "%s's role %s writes logs to %s, but %s names no log group of its own", fn, role, show(res), fn)
		} else if lg, ok := logGroupOf(res); !ok || lg != ownLogs {
			report(owner, "%s's role %s writes logs to %s; only its own log group %s", fn, role, show(res), ownLogs)
		}
	}
}

func (c *checker) wildcards(report reporter) {
	for _, od := range c.allIdentityPolicies() {
		for _, st := range statements(od.doc) {
			if !st.Allow {
				continue
			}
			for _, svc := range []string{"sts", "iam"} {
				if !st.grantsService(svc) {
					continue
				}
				if st.NotAction {
					report(od.owner, "NotAction allows %s: actions", svc)
					continue
				}
				for _, a := range st.Actions {
					if mayGrant(a, svc) && isWildcard(a) {
						report(od.owner, "action %q grants %s: actions by wildcard", a, svc)
					}
				}
				if st.NotResource {
					report(od.owner, "%s: actions on NotResource", svc)
				}
				for _, res := range st.Resources {
					if s, ok := res.(string); ok && isWildcard(s) {
						report(od.owner, "%s: actions on Resource %q", svc, s)
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
				report(r.Name, `trust policy trusts Principal "*"`)
			}
			if pm, ok := st.Principal.(map[string]any); ok {
				for _, v := range cfn.List(pm["AWS"]) {
					if v == "*" {
						report(r.Name, `trust policy trusts Principal AWS "*"`)
					}
				}
			}
		}
	}
}
