package deploy

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/rolegate/rolegate/internal/cfn"
)

// The HTTP API's own mistakes (http-api.yaml). Each rule looks only at
// AWS::ApiGatewayV2 resources, so a REST template has nothing to find.

// httpAPIFunctions adds the functions behind HTTP API Lambda authorizers and
// routes to the facts the other rules share (permissions, execution roles,
// environments).
func (c *checker) httpAPIFunctions() {
	for _, a := range c.t.ResourcesOfType("AWS::ApiGatewayV2::Authorizer") {
		if fn, ok := invokedFunction(a.Properties["AuthorizerUri"]); ok {
			c.authorizerFn[a.Name] = fn
		}
	}
	for _, r := range c.t.ResourcesOfType("AWS::ApiGatewayV2::Route") {
		if integ, ok := c.routeIntegration(r); ok {
			if fn, ok := invokedFunction(integ.Properties["IntegrationUri"]); ok {
				c.methodFn[r.Name] = fn
			}
		}
	}
}

var integrationTarget = regexp.MustCompile(`^integrations/\$\{([A-Za-z0-9]+)\}$`)

// routeIntegration returns the integration of r's API that r's Target names.
func (c *checker) routeIntegration(r cfn.Resource) (cfn.Resource, bool) {
	s, vars, ok := cfn.SubString(r.Properties["Target"])
	m := integrationTarget.FindStringSubmatch(s)
	if !ok || vars != nil || m == nil {
		return cfn.Resource{}, false
	}
	integ, found := c.t.Resource(m[1])
	return integ, found && integ.Type == "AWS::ApiGatewayV2::Integration" && apiOf(integ) == apiOf(r)
}

// httpPayloadFormat: rolegate's authorizer answers only payload 2.0 with simple
// responses (anything else is a 500), and the backend reads the 2.0 event.
func (c *checker) httpPayloadFormat(report reporter) {
	for _, a := range c.t.ResourcesOfType("AWS::ApiGatewayV2::Authorizer") {
		if a.Properties["AuthorizerType"] != "REQUEST" {
			continue
		}
		if a.Properties["AuthorizerPayloadFormatVersion"] != "2.0" {
			report(a.Name, "AuthorizerPayloadFormatVersion must be \"2.0\", got %s", show(a.Properties["AuthorizerPayloadFormatVersion"]))
		}
		if v, _ := c.t.ResolveDefault(a.Properties["EnableSimpleResponses"]); v != true && v != "true" {
			report(a.Name, "EnableSimpleResponses must be true: rolegate's authorizer answers {isAuthorized, context}, got %s", show(a.Properties["EnableSimpleResponses"]))
		}
	}
	for _, i := range c.t.ResourcesOfType("AWS::ApiGatewayV2::Integration") {
		if i.Properties["IntegrationType"] != "AWS_PROXY" {
			continue
		}
		if i.Properties["PayloadFormatVersion"] != "2.0" {
			report(i.Name, "PayloadFormatVersion must be \"2.0\" (1.0 is the default for a Lambda proxy), got %s", show(i.Properties["PayloadFormatVersion"]))
		}
		if _, ok := invokedFunction(i.Properties["IntegrationUri"]); !ok {
			report(i.Name, "IntegrationUri must be !Sub ...functions/${<Function>.Arn}/invocations, got %s", show(i.Properties["IntegrationUri"]))
		}
	}
}

// httpAuthorizerSettings: the header alone is the identity source, so a request
// without it is a 401 that never reaches the function and the cache is keyed
// by the token; a JWT authorizer trusts this pool and its client only.
func (c *checker) httpAuthorizerSettings(report reporter) {
	for _, a := range c.t.ResourcesOfType("AWS::ApiGatewayV2::Authorizer") {
		p := a.Properties
		if ids := cfn.List(p["IdentitySource"]); len(ids) != 1 || ids[0] != "$request.header.Authorization" {
			report(a.Name, "IdentitySource must be [$request.header.Authorization] alone, got %v", ids)
		}
		switch p["AuthorizerType"] {
		case "REQUEST":
			if _, ok := c.authorizerFn[a.Name]; !ok {
				report(a.Name, "AuthorizerUri must be !Sub ...functions/${<Function>.Arn}/invocations, got %s", show(p["AuthorizerUri"]))
			}
			ttl, ok := c.number(p["AuthorizerResultTtlInSeconds"])
			if _, isRef := cfn.RefTarget(p["AuthorizerResultTtlInSeconds"]); !isRef || !ok || ttl < 0 || ttl > 3600 {
				report(a.Name, "AuthorizerResultTtlInSeconds must be !Ref a parameter defaulting to 0..3600, got %s", show(p["AuthorizerResultTtlInSeconds"]))
			}
		case "JWT":
			c.jwtConfiguration(report, a)
		default:
			report(a.Name, "AuthorizerType must be REQUEST or JWT, got %s", show(p["AuthorizerType"]))
		}
	}
}

var poolIssuer = regexp.MustCompile(`^https://cognito-idp\.\$\{AWS::Region\}\.\$\{AWS::URLSuffix\}/\$\{([A-Za-z0-9]+)\}$`)

func (c *checker) jwtConfiguration(report reporter, a cfn.Resource) {
	jc, _ := a.Properties["JwtConfiguration"].(map[string]any)
	s, vars, ok := cfn.SubString(jc["Issuer"])
	if m := poolIssuer.FindStringSubmatch(s); !ok || vars != nil || m == nil || !c.isType(m[1], "AWS::Cognito::UserPool") {
		report(a.Name, "JwtConfiguration.Issuer must be !Sub https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${<UserPool>} of this template, got %s", show(jc["Issuer"]))
	}
	aud := cfn.List(jc["Audience"])
	if len(aud) == 0 || slices.ContainsFunc(aud, func(v any) bool {
		n, ok := cfn.RefTarget(v)
		return !ok || !c.isType(n, "AWS::Cognito::UserPoolClient")
	}) {
		report(a.Name, "JwtConfiguration.Audience must list !Ref app clients of this template, got %v", aud)
	}
}

// httpRouteAuthorization: every route is guarded by an authorizer of its own
// API, whichever the template's parameters choose, and asks for no scopes (an
// ID token has none, so every caller would get 403).
func (c *checker) httpRouteAuthorization(report reporter) {
	for _, v := range c.variants() {
		for _, r := range v.ResourcesOfType("AWS::ApiGatewayV2::Route") {
			want := map[any]string{"CUSTOM": "REQUEST", "JWT": "JWT"}[r.Properties["AuthorizationType"]]
			auth, _ := cfn.RefTarget(r.Properties["AuthorizerId"])
			a, found := v.Resource(auth)
			switch {
			case want == "":
				report(r.Name, "AuthorizationType must be CUSTOM or JWT%s, got %s", v.name, show(r.Properties["AuthorizationType"]))
			case !found || a.Type != "AWS::ApiGatewayV2::Authorizer" || apiOf(a) != apiOf(r) || a.Properties["AuthorizerType"] != want:
				report(r.Name, "AuthorizerId must be !Ref a %s authorizer of the same API%s, got %s", want, v.name, show(r.Properties["AuthorizerId"]))
			}
			if scopes := cfn.List(r.Properties["AuthorizationScopes"]); len(scopes) > 0 {
				report(r.Name, "AuthorizationScopes %v: ID tokens carry no scope, so every caller would get 403", scopes)
			}
			if _, ok := c.routeIntegration(r); !ok {
				report(r.Name, "Target must be !Sub integrations/${<Integration>} of the same API, got %s", show(r.Properties["Target"]))
			}
		}
	}
}

// httpStageSettings: the local gateway reads the stage name and throttling
// from here; without AutoDeploy a stage serves no deployment at all.
func (c *checker) httpStageSettings(report reporter) {
	for _, s := range c.t.ResourcesOfType("AWS::ApiGatewayV2::Stage") {
		p := s.Properties
		if n, ok := cfn.RefTarget(p["StageName"]); !ok || !c.isParameter(n) {
			report(s.Name, "StageName must be !Ref a parameter, got %s", show(p["StageName"]))
		}
		if v, _ := c.t.ResolveDefault(p["AutoDeploy"]); v != true && v != "true" {
			report(s.Name, "AutoDeploy must be true: this template has no AWS::ApiGatewayV2::Deployment, got %s", show(p["AutoDeploy"]))
		}
		rs, _ := p["DefaultRouteSettings"].(map[string]any)
		if !c.positive(rs["ThrottlingRateLimit"]) || !c.positive(rs["ThrottlingBurstLimit"]) {
			report(s.Name, "DefaultRouteSettings needs positive ThrottlingRateLimit and ThrottlingBurstLimit")
		}
	}
}

// backendRoleSource: the backend trusts what the route's authorizer wrote and
// nothing else, in every variant of the template: rolegate's context behind a
// Lambda authorizer (ROLE_SOURCE unset or rolegate), the claims behind a JWT
// authorizer (ROLE_SOURCE jwt, USER_POOL_ID this template's pool).
func (c *checker) backendRoleSource(report reporter) {
	for _, v := range c.variants() {
		vc := newChecker(v.Template)
		for _, route := range slices.Sorted(maps.Keys(vc.methodFn)) {
			fn, _ := v.Resource(vc.methodFn[route])
			fn.Name = vc.methodFn[route]
			r, _ := v.Resource(route)
			vars := env(fn)
			want := "rolegate"
			if r.Properties["AuthorizationType"] == "JWT" {
				want = "jwt"
			}
			got, _ := vars["ROLE_SOURCE"].(string)
			if _, set := vars["ROLE_SOURCE"]; !set && want == "rolegate" {
				got = "rolegate"
			}
			if got != want {
				report(fn.Name, "ROLE_SOURCE is %s behind %s%s, want %s", show(vars["ROLE_SOURCE"]), route, v.name, want)
			}
			pool, _ := cfn.RefTarget(vars["USER_POOL_ID"])
			if want == "jwt" && !v.isType(pool) {
				report(fn.Name, "USER_POOL_ID must be !Ref this template's user pool with ROLE_SOURCE=jwt%s, got %s", v.name, show(vars["USER_POOL_ID"]))
			}
		}
	}
}

// variant is the template as CloudFormation would create it for one value of
// its Authorizer parameter: conditions evaluated, Fn::If chosen.
type variant struct {
	*cfn.Template
	name string // " (Authorizer=jwt)"; "" for a template without the parameter
}

func (v variant) isType(pool string) bool {
	r, ok := v.Resource(pool)
	return ok && r.Type == "AWS::Cognito::UserPool"
}

// variants returns t once per AllowedValue of its Authorizer parameter, or t
// itself when it has none. A variant that does not resolve is skipped: the
// references rule and cfn-lint report what is wrong with it.
func (c *checker) variants() []variant {
	p, ok := c.t.Parameter("Authorizer")
	if !ok {
		return []variant{{Template: c.t}}
	}
	var out []variant
	for _, a := range p.AllowedValues {
		val, _ := a.(string)
		b, err := cfn.Resolve(c.t, map[string]string{"Authorizer": val})
		if err != nil {
			continue
		}
		if t, err := cfn.ParseTemplate(b); err == nil {
			out = append(out, variant{Template: t, name: " (Authorizer=" + strings.TrimSpace(val) + ")"})
		}
	}
	return out
}
