package apigw

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/rolegate/rolegate/internal/cfn"
)

// HTTPAPI is an HTTP API as a template defines it, for one value of the
// template's Authorizer parameter.
type HTTPAPI struct {
	// Config lacks the APIID, and the JWT authorizer's issuer, audience and
	// keys: a deployment assigns those (the pool and its client).
	Config HTTPConfig
	// AuthorizerFunction is the Lambda authorizer's function, "" when no route uses one.
	AuthorizerFunction string
	BackendFunction    string
	// JWTIssuerPool is the user pool whose issuer the JWT authorizer trusts, "" without one.
	JWTIssuerPool string
	// Warnings lists what start-up prints loudly: routes anyone may call.
	Warnings []string
}

// ReadHTTPAPI reads the one HTTP API of the template r resolves, as
// CloudFormation would create it with the template's Authorizer parameter set
// to authorizer ("" keeps its default): its routes, its Lambda or JWT
// authorizer, its payload 2.0 Lambda integrations (all of one function) and
// its stage. What the local gateway would serve differently from AWS (another
// payload version, other identity sources) is an error, never a guess.
func ReadHTTPAPI(r Resolver, authorizer string) (HTTPAPI, error) {
	if _, ok := r.Template.Parameter("Authorizer"); ok {
		values := map[string]string{}
		if authorizer != "" {
			values["Authorizer"] = authorizer
		}
		b, err := cfn.Resolve(r.Template, values)
		if err != nil {
			return HTTPAPI{}, err
		}
		if r.Template, err = cfn.ParseTemplate(b); err != nil {
			return HTTPAPI{}, err
		}
	} else if authorizer != "" {
		return HTTPAPI{}, fmt.Errorf("the template has no Authorizer parameter to set to %q", authorizer)
	}
	apis := r.Template.ResourcesOfType("AWS::ApiGatewayV2::Api")
	if len(apis) != 1 {
		return HTTPAPI{}, fmt.Errorf("want exactly one AWS::ApiGatewayV2::Api, found %d", len(apis))
	}
	if p, _ := r.String(apis[0].Properties["ProtocolType"]); p != "HTTP" {
		return HTTPAPI{}, fmt.Errorf("API %s: ProtocolType %q, want HTTP", apis[0].Name, p)
	}
	a := HTTPAPI{Config: HTTPConfig{Region: r.Deployment.Region, AccountID: r.Deployment.AccountID}}
	rd := httpReader{r: r, a: &a}
	if err := rd.stage(); err != nil {
		return HTTPAPI{}, err
	}
	if err := rd.routes(); err != nil {
		return HTTPAPI{}, err
	}
	return a, nil
}

type httpReader struct {
	r Resolver
	a *HTTPAPI
}

func (rd httpReader) stage() error {
	stages := rd.r.Template.ResourcesOfType("AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		return fmt.Errorf("want exactly one AWS::ApiGatewayV2::Stage, found %d", len(stages))
	}
	st, c := stages[0], &rd.a.Config
	var err error
	if c.Stage, err = rd.r.String(st.Properties["StageName"]); err != nil {
		return fmt.Errorf("stage %s StageName: %w", st.Name, err)
	}
	if auto, _ := rd.r.String(st.Properties["AutoDeploy"]); auto != "true" {
		return fmt.Errorf("stage %s: without AutoDeploy it serves whichever deployment was made last, which a template does not say", st.Name)
	}
	settings, _ := st.Properties["DefaultRouteSettings"].(map[string]any)
	if c.Throttle, err = rd.throttle(settings); err != nil {
		return fmt.Errorf("stage %s DefaultRouteSettings: %w", st.Name, err)
	}
	return nil
}

func (rd httpReader) throttle(settings map[string]any) (Throttle, error) {
	var t Throttle
	if v, ok := settings["ThrottlingRateLimit"]; ok {
		s, err := rd.r.String(v)
		if err == nil {
			t.Rate, err = strconv.ParseFloat(s, 64)
		}
		if err != nil {
			return t, fmt.Errorf("ThrottlingRateLimit: %w", err)
		}
	}
	if v, ok := settings["ThrottlingBurstLimit"]; ok {
		var err error
		if t.Burst, err = rd.r.Int(v); err != nil {
			return t, fmt.Errorf("ThrottlingBurstLimit: %w", err)
		}
	}
	return t, t.validate()
}

func (rd httpReader) routes() error {
	stage := rd.r.Template.ResourcesOfType("AWS::ApiGatewayV2::Stage")[0]
	routeSettings, _ := stage.Properties["RouteSettings"].(map[string]any)
	for _, res := range rd.r.Template.ResourcesOfType("AWS::ApiGatewayV2::Route") {
		key, err := rd.r.String(res.Properties["RouteKey"])
		if err != nil {
			return fmt.Errorf("route %s RouteKey: %w", res.Name, err)
		}
		route := HTTPRoute{Key: key, Authorization: "NONE"}
		if v, ok := res.Properties["AuthorizationType"]; ok {
			if route.Authorization, err = rd.r.String(v); err != nil {
				return fmt.Errorf("route %s AuthorizationType: %w", res.Name, err)
			}
		}
		for _, s := range cfn.List(res.Properties["AuthorizationScopes"]) {
			scope, err := rd.r.String(s)
			if err != nil {
				return fmt.Errorf("route %s AuthorizationScopes: %w", res.Name, err)
			}
			route.Scopes = append(route.Scopes, scope)
		}
		if err := rd.authorizer(res, route.Authorization); err != nil {
			return err
		}
		if route.Authorization == "NONE" {
			rd.a.Warnings = append(rd.a.Warnings, "route "+key+" has no authorizer: anyone may call it")
		}
		if rs, ok := routeSettings[key].(map[string]any); ok {
			if route.Throttle, err = rd.throttle(rs); err != nil {
				return fmt.Errorf("stage RouteSettings %s: %w", key, err)
			}
		}
		if route.Timeout, err = rd.integration(res); err != nil {
			return err
		}
		rd.a.Config.Routes = append(rd.a.Config.Routes, route)
	}
	if len(rd.a.Config.Routes) == 0 {
		return errors.New("no AWS::ApiGatewayV2::Route to serve")
	}
	return nil
}

// authorizer checks the route's authorizer is one the local gateway serves as
// API Gateway would, and records it.
func (rd httpReader) authorizer(route cfn.Resource, typ string) error {
	if typ == "NONE" {
		return nil
	}
	name, _ := cfn.RefTarget(route.Properties["AuthorizerId"])
	a, ok := rd.r.Template.Resource(name)
	if !ok || a.Type != "AWS::ApiGatewayV2::Authorizer" {
		return fmt.Errorf("route %s: AuthorizerId names no AWS::ApiGatewayV2::Authorizer", route.Name)
	}
	p := a.Properties
	var ids []string
	for _, v := range cfn.List(p["IdentitySource"]) {
		s, _ := rd.r.String(v)
		ids = append(ids, s)
	}
	if !slices.Equal(ids, []string{"$request.header.Authorization"}) {
		return fmt.Errorf("authorizer %s: IdentitySource %v; the local gateway reads the Authorization header alone", a.Name, ids)
	}
	kind, _ := rd.r.String(p["AuthorizerType"])
	switch {
	case typ == "CUSTOM" && kind == "REQUEST":
		version, _ := rd.r.String(p["AuthorizerPayloadFormatVersion"])
		simple, _ := rd.r.String(p["EnableSimpleResponses"])
		if version != "2.0" || simple != "true" {
			return fmt.Errorf("authorizer %s: payload %q, simple responses %q; the local gateway serves 2.0 with simple responses only", a.Name, version, simple)
		}
		rd.a.Config.TTL = 0
		if v, ok := p["AuthorizerResultTtlInSeconds"]; ok {
			n, err := rd.r.Int(v)
			if err != nil {
				return fmt.Errorf("authorizer %s AuthorizerResultTtlInSeconds: %w", a.Name, err)
			}
			rd.a.Config.TTL = time.Duration(n) * time.Second
		}
		rd.a.AuthorizerFunction = functionIn(rd.r.Template, p["AuthorizerUri"])
		if rd.a.AuthorizerFunction == "" {
			return fmt.Errorf("authorizer %s: AuthorizerUri names no function of this template", a.Name)
		}
	case typ == "JWT" && kind == "JWT":
		jc, _ := p["JwtConfiguration"].(map[string]any)
		pool := ""
		for _, ref := range cfn.References(jc["Issuer"]) {
			if res, ok := rd.r.Template.Resource(ref.Target); ok && res.Type == "AWS::Cognito::UserPool" {
				pool = res.Name
			}
		}
		if pool == "" {
			return fmt.Errorf("authorizer %s: JwtConfiguration.Issuer names no user pool of this template, which is the only issuer the local stack has", a.Name)
		}
		rd.a.JWTIssuerPool = pool
	default:
		return fmt.Errorf("route %s: AuthorizationType %s with a %s authorizer", route.Name, typ, kind)
	}
	return nil
}

// integration reads the route's Lambda proxy integration, payload 2.0, and
// returns its timeout.
func (rd httpReader) integration(route cfn.Resource) (time.Duration, error) {
	s, _, _ := cfn.SubString(route.Properties["Target"])
	name, ok := cutTarget(s)
	res, found := rd.r.Template.Resource(name)
	if !ok || !found || res.Type != "AWS::ApiGatewayV2::Integration" {
		return 0, fmt.Errorf("route %s: Target %q names no integration of this template", route.Name, s)
	}
	p := res.Properties
	typ, _ := rd.r.String(p["IntegrationType"])
	version, _ := rd.r.String(p["PayloadFormatVersion"])
	if typ != "AWS_PROXY" || version != "2.0" {
		return 0, fmt.Errorf("integration %s: %s payload %q; the local gateway serves Lambda proxies with payload 2.0 only", res.Name, typ, version)
	}
	fn := functionIn(rd.r.Template, p["IntegrationUri"])
	switch b := rd.a.BackendFunction; {
	case fn == "":
		return 0, fmt.Errorf("integration %s: IntegrationUri names no function of this template", res.Name)
	case b != "" && b != fn:
		return 0, fmt.Errorf("integration %s invokes %s, but the local stack runs one backend (%s)", res.Name, fn, b)
	}
	rd.a.BackendFunction = fn
	if v, ok := p["TimeoutInMillis"]; ok {
		ms, err := rd.r.Int(v)
		if err != nil {
			return 0, fmt.Errorf("integration %s TimeoutInMillis: %w", res.Name, err)
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	return 0, nil
}

func cutTarget(s string) (string, bool) {
	if len(s) < len("integrations/${}") || s[:len("integrations/${")] != "integrations/${" || s[len(s)-1] != '}' {
		return "", false
	}
	return s[len("integrations/${") : len(s)-1], true
}

func functionIn(t *cfn.Template, v any) string {
	for _, ref := range cfn.References(v) {
		if res, ok := t.Resource(ref.Target); ok && res.Type == "AWS::Lambda::Function" {
			return res.Name
		}
	}
	return ""
}
