package local

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rolegate/rolegate/deploy"
)

// The fixed identity of the local "deployment".
const (
	StackName = "rolegate-local"
	Region    = "us-east-1"
	AccountID = "123456789012" // moto's account
	Partition = "aws"
	Stage     = "local"
)

// NoPrecedence is the Precedence of a group that sets none: Cognito ranks
// such a group after every group that has one.
const NoPrecedence = math.MaxInt

// Group is a Cognito user pool group and the IAM role it hands its members.
type Group struct {
	Name       string
	Precedence int
	// RoleName and RolePath name the group's IAM role; RoleName is empty for
	// a group without a role.
	RoleName string
	RolePath string
}

// RoleARN is the group's role ARN in the local account, or "" without a role.
func (g Group) RoleARN() string {
	if g.RoleName == "" {
		return ""
	}
	path := g.RolePath
	if path == "" {
		path = "/"
	}
	return "arn:" + Partition + ":iam::" + AccountID + ":role" + path + g.RoleName
}

// Settings is what the local stack takes from deploy/template.yaml.
type Settings struct {
	// Source says where the settings came from: a template path or
	// "built-in defaults".
	Source string

	Routes               []Route
	IdentitySource       string
	ValidationExpression string
	TTL                  time.Duration
	Responses            map[string]GatewayResponse
	Groups               []Group

	// AuthorizerEnv and BackendEnv are the functions' literal environment
	// variables; ones that name deployed resources are set by the stack.
	AuthorizerEnv map[string]string
	BackendEnv    map[string]string

	// Skipped lists what the template has that the local gateway does not
	// serve, to be printed at start-up rather than silently dropped.
	Skipped []string
}

// Group returns the group called name.
func (s Settings) Group(name string) (Group, bool) {
	i := slices.IndexFunc(s.Groups, func(g Group) bool { return g.Name == name })
	if i < 0 {
		return Group{}, false
	}
	return s.Groups[i], true
}

// GroupNames lists the groups' names in template order.
func (s Settings) GroupNames() []string {
	names := make([]string, len(s.Groups))
	for i, g := range s.Groups {
		names[i] = g.Name
	}
	return names
}

// RoleARNs lists the groups' role ARNs (the backend's ALLOWED_ROLE_ARNS).
func (s Settings) RoleARNs() []string {
	var arns []string
	for _, g := range s.Groups {
		if a := g.RoleARN(); a != "" && !slices.Contains(arns, a) {
			arns = append(arns, a)
		}
	}
	return arns
}

// GatewayConfig is the gateway configuration these settings describe.
func (s Settings) GatewayConfig(apiID string) (Config, error) {
	id, err := NewIdentity(s.IdentitySource, s.ValidationExpression)
	if err != nil {
		return Config{}, err
	}
	c := Config{
		Routes: s.Routes, Identity: id, TTL: s.TTL, Responses: s.Responses,
		Region: Region, AccountID: AccountID, APIID: apiID, Stage: Stage,
	}
	return c, c.Validate()
}

// defaultValidationExpression mirrors deploy/template.yaml's.
const defaultValidationExpression = `^([Bb][Ee][Aa][Rr][Ee][Rr] )?[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$`

// DefaultSettings are used when there is no template: two groups of
// different precedence and one authorized route, as the template defines.
func DefaultSettings() Settings {
	return Settings{
		Source:               "built-in defaults",
		Routes:               []Route{{Method: "GET", Path: "/whoami", Authorized: true}},
		IdentitySource:       headerSourcePrefix + "Authorization",
		ValidationExpression: defaultValidationExpression,
		TTL:                  300 * time.Second,
		Groups: []Group{
			{Name: "admins", Precedence: 1, RoleName: StackName + "-admins"},
			{Name: "readers", Precedence: 10, RoleName: StackName + "-readers"},
		},
	}
}

// LoadSettings reads the template at path, or returns DefaultSettings when
// there is no file there.
func LoadSettings(path string) (Settings, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, err
	}
	s, err := ParseSettings(b)
	if err != nil {
		return Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	s.Source = path
	return s, nil
}

// ParseSettings reads the local stack's settings from a CloudFormation
// template: the TOKEN authorizer, the methods (with their resource paths),
// the gateway responses and the Cognito groups with their roles.
func ParseSettings(b []byte) (Settings, error) {
	t, err := deploy.ParseTemplate(b)
	if err != nil {
		return Settings{}, err
	}
	r := templateReader{t: t}
	s := Settings{Responses: map[string]GatewayResponse{}}
	authorizer, err := r.authorizer(&s)
	if err != nil {
		return Settings{}, err
	}
	backendFn, err := r.methods(&s, authorizer)
	if err != nil {
		return Settings{}, err
	}
	if err := r.responses(&s); err != nil {
		return Settings{}, err
	}
	if err := r.groups(&s); err != nil {
		return Settings{}, err
	}
	if fn := r.authorizerFunction(authorizer); fn != "" {
		s.AuthorizerEnv = r.literalEnv(fn)
	}
	if backendFn != "" {
		s.BackendEnv = r.literalEnv(backendFn)
	}
	if len(s.Routes) == 0 {
		return Settings{}, errors.New("no AWS_PROXY method to serve")
	}
	return s, nil
}

type templateReader struct{ t *deploy.Template }

// str resolves v to a string: a literal, a parameter's default, or a Fn::Sub
// over pseudo parameters and parameter defaults.
func (r templateReader) str(v any) (string, error) {
	if name, ok := deploy.RefTarget(v); ok {
		if d, ok := r.pseudo(name); ok {
			return d, nil
		}
	}
	if lit, ok := r.t.ResolveDefault(v); ok {
		return scalar(lit)
	}
	if sub, vars, ok := deploy.SubString(v); ok && len(vars) == 0 {
		var bad error
		out := subPattern.ReplaceAllStringFunc(sub, func(m string) string {
			name := strings.TrimSpace(m[2 : len(m)-1])
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			if d, ok := r.pseudo(name); ok {
				return d
			}
			if d, ok := r.t.ParameterDefault(name); ok {
				if s, err := scalar(d); err == nil {
					return s
				}
			}
			bad = fmt.Errorf("cannot resolve ${%s} locally", name)
			return m
		})
		return out, bad
	}
	return "", fmt.Errorf("cannot resolve %v locally", v)
}

var subPattern = regexp.MustCompile(`\$\{[^}]*\}`)

func (r templateReader) pseudo(name string) (string, bool) {
	switch name {
	case "AWS::StackName":
		return StackName, true
	case "AWS::Region":
		return Region, true
	case "AWS::AccountId":
		return AccountID, true
	case "AWS::Partition":
		return Partition, true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	}
	return "", false
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

func (r templateReader) integer(v any) (int, error) {
	s, err := r.str(v)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}

// authorizer fills the identity settings from the one TOKEN authorizer and
// returns its logical ID.
func (r templateReader) authorizer(s *Settings) (string, error) {
	var tokens []deploy.Resource
	for _, a := range r.t.ResourcesOfType("AWS::ApiGateway::Authorizer") {
		if typ, _ := r.str(a.Properties["Type"]); typ == "TOKEN" {
			tokens = append(tokens, a)
		} else {
			s.Skipped = append(s.Skipped, fmt.Sprintf("authorizer %s of type %q", a.Name, typ))
		}
	}
	if len(tokens) != 1 {
		return "", fmt.Errorf("want exactly one TOKEN authorizer, found %d", len(tokens))
	}
	a := tokens[0]
	var err error
	if s.IdentitySource, err = r.str(a.Properties["IdentitySource"]); err != nil {
		return "", fmt.Errorf("authorizer %s IdentitySource: %w", a.Name, err)
	}
	if v, ok := a.Properties["IdentityValidationExpression"]; ok {
		if s.ValidationExpression, err = r.str(v); err != nil {
			return "", fmt.Errorf("authorizer %s IdentityValidationExpression: %w", a.Name, err)
		}
	}
	s.TTL = 300 * time.Second // API Gateway's default
	if v, ok := a.Properties["AuthorizerResultTtlInSeconds"]; ok {
		n, err := r.integer(v)
		if err != nil {
			return "", fmt.Errorf("authorizer %s AuthorizerResultTtlInSeconds: %w", a.Name, err)
		}
		s.TTL = time.Duration(n) * time.Second
	}
	return a.Name, nil
}

// authorizerFunction is the Lambda function the authorizer's URI invokes.
func (r templateReader) authorizerFunction(authorizer string) string {
	a, _ := r.t.Resource(authorizer)
	return r.functionIn(a.Properties["AuthorizerUri"])
}

func (r templateReader) functionIn(v any) string {
	for _, ref := range deploy.References(v) {
		if res, ok := r.t.Resource(ref.Target); ok && res.Type == "AWS::Lambda::Function" {
			return res.Name
		}
	}
	return ""
}

// methods fills the routes and returns the logical ID of the function their
// proxy integrations invoke: the local stack runs one backend.
func (r templateReader) methods(s *Settings, authorizer string) (string, error) {
	backend := ""
	for _, m := range r.t.ResourcesOfType("AWS::ApiGateway::Method") {
		method, err := r.str(m.Properties["HttpMethod"])
		if err != nil {
			return "", fmt.Errorf("method %s HttpMethod: %w", m.Name, err)
		}
		path, err := r.resourcePath(m.Properties["ResourceId"], 0)
		if err != nil {
			return "", fmt.Errorf("method %s: %w", m.Name, err)
		}
		route := Route{Method: strings.ToUpper(method), Path: path}
		integration, _ := m.Properties["Integration"].(map[string]any)
		if typ, _ := r.str(integration["Type"]); typ != "AWS_PROXY" {
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s (%s integration %q)", route, m.Name, typ))
			continue
		}
		switch auth, _ := r.str(m.Properties["AuthorizationType"]); auth {
		case "CUSTOM":
			if target, ok := deploy.RefTarget(m.Properties["AuthorizerId"]); !ok || target != authorizer {
				return "", fmt.Errorf("method %s: AuthorizerId is not !Ref %s", m.Name, authorizer)
			}
			route.Authorized = true
		case "NONE", "":
		default:
			s.Skipped = append(s.Skipped, fmt.Sprintf("%s (%s authorization %q)", route, m.Name, auth))
			continue
		}
		fn := r.functionIn(integration["Uri"])
		if fn == "" {
			return "", fmt.Errorf("method %s: integration Uri names no function of this template", m.Name)
		}
		if backend != "" && fn != backend {
			return "", fmt.Errorf("method %s invokes %s, but the local stack runs one backend (%s)", m.Name, fn, backend)
		}
		backend = fn
		s.Routes = append(s.Routes, route)
	}
	return backend, nil
}

// resourcePath follows ParentId links up to the API's root resource.
func (r templateReader) resourcePath(v any, depth int) (string, error) {
	if depth > 32 {
		return "", errors.New("resource ParentId chain too deep")
	}
	if _, attr, ok := deploy.GetAttTarget(v); ok && attr == "RootResourceId" {
		return "/", nil
	}
	name, ok := deploy.RefTarget(v)
	if !ok {
		return "", fmt.Errorf("ResourceId %v is neither !Ref Resource nor !GetAtt Api.RootResourceId", v)
	}
	res, ok := r.t.Resource(name)
	if !ok || res.Type != "AWS::ApiGateway::Resource" {
		return "", fmt.Errorf("%s is not an AWS::ApiGateway::Resource", name)
	}
	part, err := r.str(res.Properties["PathPart"])
	if err != nil {
		return "", fmt.Errorf("resource %s PathPart: %w", name, err)
	}
	parent, err := r.resourcePath(res.Properties["ParentId"], depth+1)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(parent, "/") + "/" + part, nil
}

func (r templateReader) responses(s *Settings) error {
	for _, g := range r.t.ResourcesOfType("AWS::ApiGateway::GatewayResponse") {
		typ, err := r.str(g.Properties["ResponseType"])
		if err != nil {
			return fmt.Errorf("gateway response %s: %w", g.Name, err)
		}
		gr := GatewayResponse{Headers: map[string]string{}, Templates: map[string]string{}}
		if v, ok := g.Properties["StatusCode"]; ok {
			if gr.StatusCode, err = r.integer(v); err != nil {
				return fmt.Errorf("gateway response %s StatusCode: %w", g.Name, err)
			}
		}
		params, _ := g.Properties["ResponseParameters"].(map[string]any)
		for k, v := range params {
			h, ok := strings.CutPrefix(k, "gatewayresponse.header.")
			val, err := r.str(v)
			// Only quoted literals; mappings from the request are not emulated.
			if !ok || err != nil || len(val) < 2 || val[0] != '\'' || val[len(val)-1] != '\'' {
				s.Skipped = append(s.Skipped, fmt.Sprintf("gateway response %s parameter %s", g.Name, k))
				continue
			}
			gr.Headers[h] = val[1 : len(val)-1]
		}
		templates, _ := g.Properties["ResponseTemplates"].(map[string]any)
		for ct, v := range templates {
			if gr.Templates[ct], err = r.str(v); err != nil {
				return fmt.Errorf("gateway response %s template %s: %w", g.Name, ct, err)
			}
		}
		s.Responses[typ] = gr
	}
	return nil
}

func (r templateReader) groups(s *Settings) error {
	for _, g := range r.t.ResourcesOfType("AWS::Cognito::UserPoolGroup") {
		name, err := r.str(g.Properties["GroupName"])
		if err != nil {
			return fmt.Errorf("group %s GroupName: %w", g.Name, err)
		}
		grp := Group{Name: name, Precedence: NoPrecedence}
		if v, ok := g.Properties["Precedence"]; ok {
			if grp.Precedence, err = r.integer(v); err != nil {
				return fmt.Errorf("group %s Precedence: %w", g.Name, err)
			}
		}
		if v, ok := g.Properties["RoleArn"]; ok {
			if grp.RoleName, grp.RolePath, err = r.role(v); err != nil {
				return fmt.Errorf("group %s RoleArn: %w", g.Name, err)
			}
		}
		s.Groups = append(s.Groups, grp)
	}
	if len(s.Groups) == 0 {
		return errors.New("no AWS::Cognito::UserPoolGroup")
	}
	return nil
}

// role names the IAM role behind a group's RoleArn: !GetAtt Role.Arn of a
// role in the template (its RoleName, or the name CloudFormation would
// generate from the stack and logical ID), or a literal role ARN.
func (r templateReader) role(v any) (name, path string, err error) {
	if res, attr, ok := deploy.GetAttTarget(v); ok && attr == "Arn" {
		role, ok := r.t.Resource(res)
		if !ok || role.Type != "AWS::IAM::Role" {
			return "", "", fmt.Errorf("%s is not an AWS::IAM::Role", res)
		}
		name = StackName + "-" + role.Name
		if v, ok := role.Properties["RoleName"]; ok {
			if name, err = r.str(v); err != nil {
				return "", "", err
			}
		}
		if v, ok := role.Properties["Path"]; ok {
			if path, err = r.str(v); err != nil {
				return "", "", err
			}
		}
		return name, path, nil
	}
	arn, err := r.str(v)
	if err != nil {
		return "", "", err
	}
	_, rest, ok := strings.Cut(arn, ":role/")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("%q is not a role ARN", arn)
	}
	i := strings.LastIndex(rest, "/")
	return rest[i+1:], "/" + rest[:i+1], nil
}

// literalEnv returns the environment variables of function fn whose values
// are known without a deployment.
func (r templateReader) literalEnv(fn string) map[string]string {
	res, _ := r.t.Resource(fn)
	env, _ := res.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	out := map[string]string{}
	for k, v := range vars {
		if lit, ok := r.t.ResolveDefault(v); ok {
			if s, err := scalar(lit); err == nil {
				out[k] = s
			}
		}
	}
	return out
}
