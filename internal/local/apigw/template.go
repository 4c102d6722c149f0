package apigw

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/cfn"
)

// Deployment is what CloudFormation would know about a stack that a template
// alone does not say: the pseudo parameters a local run resolves against.
type Deployment struct {
	StackName string
	Region    string
	AccountID string
}

// Resolver reads template values the way a deployment with parameter
// defaults would see them: literals, !Ref of a parameter (its Default) or of
// a pseudo parameter, and !Sub over those. Anything that needs a deployed
// resource cannot be known locally and is an error.
type Resolver struct {
	Template   *cfn.Template
	Deployment Deployment
}

// String resolves v to a string.
func (r Resolver) String(v any) (string, error) {
	if name, ok := cfn.RefTarget(v); ok {
		if d, ok := r.pseudo(name); ok {
			return d, nil
		}
	}
	if lit, ok := r.Template.ResolveDefault(v); ok {
		return scalar(lit)
	}
	sub, vars, ok := cfn.SubString(v)
	if !ok || len(vars) != 0 {
		return "", fmt.Errorf("cannot resolve %v locally", v)
	}
	var bad error
	out := subPattern.ReplaceAllStringFunc(sub, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-1])
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if d, ok := r.pseudo(name); ok {
			return d
		}
		if d, ok := r.Template.ParameterDefault(name); ok {
			if s, err := scalar(d); err == nil {
				return s
			}
		}
		bad = fmt.Errorf("cannot resolve ${%s} locally", name)
		return m
	})
	return out, bad
}

// Int resolves v to an integer.
func (r Resolver) Int(v any) (int, error) {
	s, err := r.String(v)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}

var subPattern = regexp.MustCompile(`\$\{[^}]*\}`)

func (r Resolver) pseudo(name string) (string, bool) {
	switch name {
	case "AWS::StackName":
		return r.Deployment.StackName, true
	case "AWS::Region":
		return r.Deployment.Region, true
	case "AWS::AccountId":
		return r.Deployment.AccountID, true
	case "AWS::Partition":
		return arn.PartitionOf(r.Deployment.Region), true
	case "AWS::URLSuffix":
		return arn.DNSSuffix(r.Deployment.Region), true
	}
	return "", false
}

// Literal returns the literal (or parameter-default) scalar values among
// vars as strings, leaving out what only a deployment knows.
func (r Resolver) Literal(vars map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range vars {
		if lit, ok := r.Template.ResolveDefault(v); ok {
			if s, err := scalar(lit); err == nil {
				out[k] = s
			}
		}
	}
	return out
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("%v is not a scalar", v)
}

// API is a REST API as a template defines it: the stage's configuration and
// the logical IDs of the functions its authorizer and its proxy
// integrations invoke.
type API struct {
	// Config lacks only APIID, which a deployment assigns.
	Config             Config
	AuthorizerFunction string
	BackendFunction    string
	// Skipped lists what the template has that the gateway does not serve,
	// to be printed rather than silently dropped.
	Skipped []string
	// Warnings lists what the gateway serves as the template says but
	// start-up prints loudly: methods anyone may call.
	Warnings []string
}

// DefaultStage is the stage name when the template has no Stage resource.
const DefaultStage = "prod"

// ReadAPI reads the one REST API of the template r resolves: its TOKEN
// authorizer, its AWS_PROXY methods (with their resource paths), its gateway
// responses, binary media types and its stage's name and throttling. The
// methods must all invoke one function.
func ReadAPI(r Resolver) (API, error) {
	a := API{Config: Config{
		Responses: map[string]GatewayResponse{},
		Region:    r.Deployment.Region,
		AccountID: r.Deployment.AccountID,
		Stage:     DefaultStage,
	}}
	notices, err := checkSettings(r)
	if err != nil {
		return API{}, err
	}
	for _, n := range notices {
		if n.Treatment == Warned {
			a.Warnings = append(a.Warnings, n.Text)
		} else {
			a.Skipped = append(a.Skipped, n.Text)
		}
	}
	rd := apiReader{r: r, a: &a, asRole: map[string]bool{}}
	authorizer, err := rd.authorizer()
	if err != nil {
		return API{}, err
	}
	if err := rd.methods(authorizer); err != nil {
		return API{}, err
	}
	if err := rd.responses(); err != nil {
		return API{}, err
	}
	if err := rd.restAPI(); err != nil {
		return API{}, err
	}
	if err := rd.stage(); err != nil {
		return API{}, err
	}
	if err := rd.apiKeys(); err != nil {
		return API{}, err
	}
	if err := rd.checkPermissions(authorizer); err != nil {
		return API{}, err
	}
	if len(a.Config.Routes) == 0 {
		return API{}, errors.New("no AWS_PROXY method to serve")
	}
	return a, a.Config.Throttle.validate()
}

type apiReader struct {
	r Resolver
	a *API
	// asRole are the routes, and "" the authorizer, whose integration
	// names the role API Gateway invokes the function as (Credentials):
	// those need no Lambda permission.
	asRole map[string]bool
}

func (rd apiReader) skip(format string, args ...any) {
	rd.a.Skipped = append(rd.a.Skipped, fmt.Sprintf(format, args...))
}

// authorizer reads the one TOKEN authorizer and returns its logical ID.
func (rd apiReader) authorizer() (string, error) {
	var tokens []cfn.Resource
	for _, a := range rd.r.Template.ResourcesOfType("AWS::ApiGateway::Authorizer") {
		// checkSettings refused the other types.
		if typ, _ := rd.r.String(a.Properties["Type"]); typ == "TOKEN" {
			tokens = append(tokens, a)
		}
	}
	if len(tokens) != 1 {
		return "", fmt.Errorf("want exactly one TOKEN authorizer, found %d", len(tokens))
	}
	a, c := tokens[0], &rd.a.Config
	source, err := rd.r.String(a.Properties["IdentitySource"])
	if err != nil {
		return "", fmt.Errorf("authorizer %s IdentitySource: %w", a.Name, err)
	}
	expr := ""
	if v, ok := a.Properties["IdentityValidationExpression"]; ok {
		if expr, err = rd.r.String(v); err != nil {
			return "", fmt.Errorf("authorizer %s IdentityValidationExpression: %w", a.Name, err)
		}
	}
	if c.Identity, err = NewIdentity(source, expr); err != nil {
		return "", fmt.Errorf("authorizer %s: %w", a.Name, err)
	}
	c.TTL = 300 * time.Second // API Gateway's default
	if v, ok := a.Properties["AuthorizerResultTtlInSeconds"]; ok {
		n, err := rd.r.Int(v)
		if err != nil {
			return "", fmt.Errorf("authorizer %s AuthorizerResultTtlInSeconds: %w", a.Name, err)
		}
		c.TTL = time.Duration(n) * time.Second
	}
	rd.a.AuthorizerFunction = rd.functionIn(a.Properties["AuthorizerUri"])
	if _, ok := a.Properties["AuthorizerCredentials"]; ok {
		rd.asRole[""] = true
	}
	return a.Name, nil
}

func (rd apiReader) functionIn(v any) string {
	for _, ref := range cfn.References(v) {
		if res, ok := rd.r.Template.Resource(ref.Target); ok && res.Type == "AWS::Lambda::Function" {
			return res.Name
		}
	}
	return ""
}

// methods reads the routes and the one function their proxy integrations
// invoke.
func (rd apiReader) methods(authorizer string) error {
	for _, m := range rd.r.Template.ResourcesOfType("AWS::ApiGateway::Method") {
		method, err := rd.r.String(m.Properties["HttpMethod"])
		if err != nil {
			return fmt.Errorf("method %s HttpMethod: %w", m.Name, err)
		}
		path, err := rd.resourcePath(m.Properties["ResourceId"], 0)
		if err != nil {
			return fmt.Errorf("method %s: %w", m.Name, err)
		}
		route := Route{Method: strings.ToUpper(method), Path: path}
		integration, _ := m.Properties["Integration"].(map[string]any)
		// checkSettings printed the other integration types as not served.
		if typ, _ := rd.r.String(integration["Type"]); typ != "AWS_PROXY" {
			continue
		}
		switch auth, _ := rd.r.String(m.Properties["AuthorizationType"]); auth {
		case "CUSTOM":
			if target, ok := cfn.RefTarget(m.Properties["AuthorizerId"]); !ok || target != authorizer {
				return fmt.Errorf("method %s: AuthorizerId is not !Ref %s", m.Name, authorizer)
			}
			route.Authorized = true
		case "NONE", "":
			// checkSettings printed NONE loudly.
		default:
			return fmt.Errorf("method %s: AuthorizationType %q", m.Name, auth)
		}
		if v, ok := m.Properties["ApiKeyRequired"]; ok {
			s, err := rd.r.String(v)
			if err == nil {
				route.APIKeyRequired, err = strconv.ParseBool(s)
			}
			if err != nil {
				return fmt.Errorf("method %s ApiKeyRequired: %w", m.Name, err)
			}
		}
		if _, ok := integration["Credentials"]; ok {
			rd.asRole[route.String()] = true
		}
		if route.Timeout, err = rd.timeout(m.Name, integration["TimeoutInMillis"]); err != nil {
			return err
		}
		fn := rd.functionIn(integration["Uri"])
		if fn == "" {
			return fmt.Errorf("method %s: integration Uri names no function of this template", m.Name)
		}
		if b := rd.a.BackendFunction; b != "" && fn != b {
			return fmt.Errorf("method %s invokes %s, but the local stack runs one backend (%s)", m.Name, fn, b)
		}
		rd.a.BackendFunction = fn
		rd.a.Config.Routes = append(rd.a.Config.Routes, route)
	}
	return nil
}

// Integration timeouts API Gateway accepts (Integration.TimeoutInMillis):
// 50 ms to 29 s, the default; Regional and private APIs may go higher.
const (
	minIntegrationTimeout = 50 * time.Millisecond
	maxIntegrationTimeout = 29 * time.Second
)

// timeout reads a method's Integration.TimeoutInMillis (zero when absent).
func (rd apiReader) timeout(method string, v any) (time.Duration, error) {
	if v == nil {
		return 0, nil
	}
	ms, err := rd.r.Int(v)
	if err != nil {
		return 0, fmt.Errorf("method %s Integration.TimeoutInMillis: %w", method, err)
	}
	d := time.Duration(ms) * time.Millisecond
	if d < minIntegrationTimeout || (d > maxIntegrationTimeout && !rd.regional()) {
		return 0, fmt.Errorf("method %s Integration.TimeoutInMillis %d: API Gateway takes 50 to 29000 (more only for a Regional or private API)", method, ms)
	}
	return d, nil
}

// regional reports whether the template's RestApi is Regional or private
// (EndpointConfiguration.Types); without one it is edge-optimized.
func (rd apiReader) regional() bool {
	for _, api := range rd.r.Template.ResourcesOfType("AWS::ApiGateway::RestApi") {
		ec, _ := api.Properties["EndpointConfiguration"].(map[string]any)
		types, _ := ec["Types"].([]any)
		for _, t := range types {
			if s, _ := rd.r.String(t); s == "REGIONAL" || s == "PRIVATE" {
				return true
			}
		}
	}
	return false
}

// resourcePath follows ParentId links up to the API's root resource.
func (rd apiReader) resourcePath(v any, depth int) (string, error) {
	if depth > 32 {
		return "", errors.New("resource ParentId chain too deep")
	}
	if _, attr, ok := cfn.GetAttTarget(v); ok && attr == "RootResourceId" {
		return "/", nil
	}
	name, ok := cfn.RefTarget(v)
	if !ok {
		return "", fmt.Errorf("ResourceId %v is neither !Ref Resource nor !GetAtt Api.RootResourceId", v)
	}
	res, ok := rd.r.Template.Resource(name)
	if !ok || res.Type != "AWS::ApiGateway::Resource" {
		return "", fmt.Errorf("%s is not an AWS::ApiGateway::Resource", name)
	}
	part, err := rd.r.String(res.Properties["PathPart"])
	if err != nil {
		return "", fmt.Errorf("resource %s PathPart: %w", name, err)
	}
	parent, err := rd.resourcePath(res.Properties["ParentId"], depth+1)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(parent, "/") + "/" + part, nil
}

func (rd apiReader) responses() error {
	for _, g := range rd.r.Template.ResourcesOfType("AWS::ApiGateway::GatewayResponse") {
		typ, err := rd.r.String(g.Properties["ResponseType"])
		if err != nil {
			return fmt.Errorf("gateway response %s: %w", g.Name, err)
		}
		gr := GatewayResponse{Headers: map[string]string{}, Templates: map[string]string{}}
		if v, ok := g.Properties["StatusCode"]; ok {
			if gr.StatusCode, err = rd.r.Int(v); err != nil {
				return fmt.Errorf("gateway response %s StatusCode: %w", g.Name, err)
			}
		}
		params, _ := g.Properties["ResponseParameters"].(map[string]any)
		for k, v := range params {
			h, ok := strings.CutPrefix(k, "gatewayresponse.header.")
			val, err := rd.r.String(v)
			// Only quoted literals; mappings from the request are not emulated.
			if !ok || err != nil || len(val) < 2 || val[0] != '\'' || val[len(val)-1] != '\'' {
				rd.skip("gateway response %s parameter %s", g.Name, k)
				continue
			}
			gr.Headers[h] = val[1 : len(val)-1]
		}
		templates, _ := g.Properties["ResponseTemplates"].(map[string]any)
		for ct, v := range templates {
			if gr.Templates[ct], err = rd.r.String(v); err != nil {
				return fmt.Errorf("gateway response %s template %s: %w", g.Name, ct, err)
			}
		}
		rd.a.Config.Responses[typ] = gr
	}
	return nil
}

// restAPI reads the RestApi's resource policy and BinaryMediaTypes. CloudFormation examples
// write the slash as ~1 (a JSON Pointer escape); both spellings are read.
func (rd apiReader) restAPI() error {
	for _, api := range rd.r.Template.ResourcesOfType("AWS::ApiGateway::RestApi") {
		if v, ok := api.Properties["Policy"]; ok {
			p, err := readResourcePolicy(rd.r, v)
			if err != nil {
				return fmt.Errorf("RestApi %s Policy: %w", api.Name, err)
			}
			rd.a.Config.ResourcePolicy = p
		}
		types, _ := api.Properties["BinaryMediaTypes"].([]any)
		for _, v := range types {
			t, err := rd.r.String(v)
			if err != nil {
				return fmt.Errorf("RestApi %s BinaryMediaTypes: %w", api.Name, err)
			}
			rd.a.Config.BinaryMediaTypes = append(rd.a.Config.BinaryMediaTypes, strings.ReplaceAll(t, "~1", "/"))
		}
	}
	return nil
}

// stage reads the stage's name and its stage-wide throttling: the
// MethodSettings entry for every method (ResourcePath /*, HttpMethod *).
// Per-method settings are listed as skipped.
func (rd apiReader) stage() error {
	stages := rd.r.Template.ResourcesOfType("AWS::ApiGateway::Stage")
	if len(stages) == 0 {
		return nil
	}
	if len(stages) > 1 {
		return fmt.Errorf("want at most one AWS::ApiGateway::Stage, found %d", len(stages))
	}
	st, c := stages[0], &rd.a.Config
	name, err := rd.r.String(st.Properties["StageName"])
	if err != nil {
		return fmt.Errorf("stage %s StageName: %w", st.Name, err)
	}
	c.Stage = name
	if v, ok := st.Properties["TracingEnabled"]; ok {
		s, err := rd.r.String(v)
		if err == nil {
			c.Tracing, err = strconv.ParseBool(s)
		}
		if err != nil {
			return fmt.Errorf("stage %s TracingEnabled: %w", st.Name, err)
		}
	}
	if vars, ok := st.Properties["Variables"].(map[string]any); ok && len(vars) > 0 {
		c.StageVariables = make(map[string]string, len(vars))
		for k, v := range vars {
			if c.StageVariables[k], err = rd.r.String(v); err != nil {
				return fmt.Errorf("stage %s Variables %s: %w", st.Name, k, err)
			}
		}
	}
	settings, _ := st.Properties["MethodSettings"].([]any)
	for _, raw := range settings {
		ms, _ := raw.(map[string]any)
		path, _ := rd.r.String(ms["ResourcePath"])
		method, _ := rd.r.String(ms["HttpMethod"])
		if path != "/*" || method != "*" {
			// Its logging and caching settings are in checkSettings' table;
			// its throttling would make API Gateway answer 429 sooner.
			_, rate := ms["ThrottlingRateLimit"]
			_, burst := ms["ThrottlingBurstLimit"]
			if rate || burst {
				return fmt.Errorf("stage %s: MethodSettings for %s %s: per-method throttling is not emulated, only the stage-wide entry (/* *)", st.Name, method, path)
			}
			continue
		}
		if v, ok := ms["ThrottlingRateLimit"]; ok {
			s, err := rd.r.String(v)
			if err == nil {
				c.Throttle.Rate, err = strconv.ParseFloat(s, 64)
			}
			if err != nil {
				return fmt.Errorf("stage %s ThrottlingRateLimit: %w", st.Name, err)
			}
		}
		if v, ok := ms["ThrottlingBurstLimit"]; ok {
			if c.Throttle.Burst, err = rd.r.Int(v); err != nil {
				return fmt.Errorf("stage %s ThrottlingBurstLimit: %w", st.Name, err)
			}
		}
	}
	return nil
}
