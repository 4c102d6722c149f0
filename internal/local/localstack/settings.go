package localstack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/cfn"
	"github.com/rolegate/rolegate/internal/local/userpool"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/local/apigw"
	"github.com/rolegate/rolegate/internal/local/moto"
)

// Deployment is the fixed identity of the local "deployment": moto's
// account, in moto's region.
var Deployment = apigw.Deployment{StackName: "rolegate-local", Region: moto.Region, AccountID: moto.AccountID}

// Settings is what the local stack takes from deploy/template.yaml.
type Settings struct {
	// Source says where the settings came from: a template path or
	// "built-in defaults".
	Source string
	// API is the REST API the gateway serves.
	API apigw.API
	// HTTP, when set, is the HTTP API served instead of API (deploy/http-api.yaml).
	HTTP *HTTPSettings
	// Groups are the user pool's groups with their roles' ARNs.
	Groups []userpool.Group
	// AuthorizerEnv and BackendEnv are the functions' literal environment
	// variables; ones that name deployed resources are set by the stack.
	AuthorizerEnv map[string]string
	BackendEnv    map[string]string
	// DataBucket is the bucket the backend's DATA_BUCKET names ("" without
	// one): the stack creates it in moto.
	DataBucket string
}

// Group returns the group called name.
func (s Settings) Group(name string) (userpool.Group, bool) {
	i := slices.IndexFunc(s.Groups, func(g userpool.Group) bool { return g.Name == name })
	if i < 0 {
		return userpool.Group{}, false
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
		if g.RoleARN != "" && !slices.Contains(arns, g.RoleARN) {
			arns = append(arns, g.RoleARN)
		}
	}
	return arns
}

// defaultValidationExpression mirrors deploy/template.yaml's.
const defaultValidationExpression = `^([Bb][Ee][Aa][Rr][Ee][Rr] )?[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$`

// defaultRoutes are the template's routes, in the order ReadAPI lists them.
var defaultRoutes = []apigw.Route{
	{Method: "DELETE", Path: "/files/{name}", Authorized: true},
	{Method: "GET", Path: "/files/{name}", Authorized: true},
	{Method: "PUT", Path: "/files/{name}", Authorized: true},
	{Method: "GET", Path: "/files", Authorized: true},
	{Method: "GET", Path: "/whoami", Authorized: true},
}

// DefaultSettings are used when there is no template: what the template
// defines, two groups of different precedence, one authorized route and the
// stage with its throttling.
func DefaultSettings() Settings {
	id, err := apigw.NewIdentity("method.request.header.Authorization", defaultValidationExpression)
	if err != nil {
		panic(err) // a constant expression: a programming error
	}
	role := func(name string) string {
		return arn.Role{Partition: "aws", AccountID: Deployment.AccountID, Path: "/", Name: Deployment.StackName + "-" + name}.String()
	}
	return Settings{
		Source: "built-in defaults",
		API: apigw.API{Config: apigw.Config{
			Routes: defaultRoutes,
			// file bodies travel base64 (backend/files)
			BinaryMediaTypes: []string{"*/*"},
			Identity:         id,
			TTL:              300 * time.Second,
			Throttle:         apigw.Throttle{Rate: 50, Burst: 100},
			Region:           Deployment.Region,
			AccountID:        Deployment.AccountID,
			Stage:            apigw.DefaultStage,
		}},
		Groups: []userpool.Group{
			{Name: "admins", Precedence: 1, RoleARN: role("admins")},
			{Name: "readers", Precedence: 10, RoleARN: role("readers")},
		},
		DataBucket: strings.ToLower(Deployment.StackName + "-DataBucket"),
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
// template: the REST API (apigw.ReadAPI), the Cognito groups with their
// roles, and the functions' literal environment.
func ParseSettings(b []byte) (Settings, error) {
	t, err := cfn.ParseTemplate(b)
	if err != nil {
		return Settings{}, err
	}
	r := apigw.Resolver{Template: t, Deployment: Deployment}
	var s Settings
	if s.API, err = apigw.ReadAPI(r); err != nil {
		return Settings{}, err
	}
	if s.Groups, err = readGroups(r); err != nil {
		return Settings{}, err
	}
	s.AuthorizerEnv = literalEnv(r, s.API.AuthorizerFunction)
	s.BackendEnv = literalEnv(r, s.API.BackendFunction)
	if s.DataBucket, err = dataBucket(r, s.API.BackendFunction); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// dataBucket resolves function fn's DATA_BUCKET: !Ref a bucket of the
// template (its BucketName, else the name CloudFormation would generate
// from the stack and logical ID, lower case), or a literal name.
func dataBucket(r apigw.Resolver, fn string) (string, error) {
	res, _ := r.Template.Resource(fn)
	env, _ := res.Properties["Environment"].(map[string]any)
	v, ok := env["Variables"].(map[string]any)["DATA_BUCKET"]
	if !ok {
		return "", nil
	}
	name, isRef := cfn.RefTarget(v)
	b, found := r.Template.Resource(name)
	if !isRef || !found || b.Type != "AWS::S3::Bucket" {
		return r.String(v)
	}
	if n, ok := b.Properties["BucketName"]; ok {
		return r.String(n)
	}
	return strings.ToLower(Deployment.StackName + "-" + b.Name), nil
}

func readGroups(r apigw.Resolver) ([]userpool.Group, error) {
	var groups []userpool.Group
	for _, g := range r.Template.ResourcesOfType("AWS::Cognito::UserPoolGroup") {
		name, err := r.String(g.Properties["GroupName"])
		if err != nil {
			return nil, fmt.Errorf("group %s GroupName: %w", g.Name, err)
		}
		grp := userpool.Group{Name: name, Precedence: userpool.NoPrecedence}
		if v, ok := g.Properties["Precedence"]; ok {
			if grp.Precedence, err = r.Int(v); err != nil {
				return nil, fmt.Errorf("group %s Precedence: %w", g.Name, err)
			}
		}
		if v, ok := g.Properties["RoleArn"]; ok {
			if grp.RoleARN, err = roleARN(r, v); err != nil {
				return nil, fmt.Errorf("group %s RoleArn: %w", g.Name, err)
			}
		}
		groups = append(groups, grp)
	}
	if len(groups) == 0 {
		return nil, errors.New("no AWS::Cognito::UserPoolGroup")
	}
	return groups, nil
}

// roleARN resolves a group's RoleArn: !GetAtt Role.Arn of a role in the
// template (its RoleName, or the name CloudFormation would generate from the
// stack and logical ID, and its Path), or a literal role ARN.
func roleARN(r apigw.Resolver, v any) (string, error) {
	res, attr, ok := cfn.GetAttTarget(v)
	if !ok || attr != "Arn" {
		s, err := r.String(v)
		if err != nil {
			return "", err
		}
		role, err := arn.ParseRole(s)
		if err != nil {
			return "", fmt.Errorf("%q is not a role ARN: %w", s, err)
		}
		return role.String(), nil
	}
	role, ok := r.Template.Resource(res)
	if !ok || role.Type != "AWS::IAM::Role" {
		return "", fmt.Errorf("%s is not an AWS::IAM::Role", res)
	}
	a := arn.Role{Partition: arn.PartitionOf(Deployment.Region), AccountID: Deployment.AccountID, Path: "/",
		Name: Deployment.StackName + "-" + role.Name}
	var err error
	if v, ok := role.Properties["RoleName"]; ok {
		if a.Name, err = r.String(v); err != nil {
			return "", err
		}
	}
	if v, ok := role.Properties["Path"]; ok {
		if a.Path, err = r.String(v); err != nil {
			return "", err
		}
	}
	if _, err := arn.ParseRole(a.String()); err != nil {
		return "", fmt.Errorf("role %s: %w", res, err)
	}
	return a.String(), nil
}

// literalEnv returns the environment variables of function fn whose values
// are known without a deployment.
func literalEnv(r apigw.Resolver, fn string) map[string]string {
	res, _ := r.Template.Resource(fn)
	env, _ := res.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	return r.Literal(vars)
}

// TokenRequest describes an ID token to mint.
type TokenRequest struct {
	User   string
	Groups []string
	// Expired makes a token that expired an hour ago.
	Expired bool
	// Extra claims override the built ones; a nil value removes a claim.
	Extra map[string]any
}

// IDClaims builds the claims Cognito puts in an ID token of the local pool
// for req.User (userpool.Token.IDClaims): cognito:groups, cognito:roles from
// the groups' roles, and cognito:preferred_role by precedence, absent on a
// tie. An unknown group is an error, so a typo does not quietly mint a token
// without a role.
func (s Settings) IDClaims(iss *Issuer, req TokenRequest, now time.Time) (map[string]any, error) {
	if req.User == "" {
		return nil, errors.New("a user name is required")
	}
	var groups []userpool.Group
	for _, name := range req.Groups {
		g, ok := s.Group(name)
		if !ok {
			return nil, fmt.Errorf("unknown group %q (the template defines: %s)", name, strings.Join(s.GroupNames(), ", "))
		}
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	issued := now
	if req.Expired {
		issued = now.Add(-userpool.IDTokenLifetime - time.Hour)
	}
	c := userpool.Token{PoolID: iss.PoolID, ClientID: iss.ClientID, User: req.User, Groups: groups, IssuedAt: issued}.IDClaims()
	for k, v := range req.Extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c, nil
}

// Token mints the ID token whose claims IDClaims builds, signed by iss.
func (s Settings) Token(iss *Issuer, req TokenRequest, now time.Time) (string, error) {
	claims, err := s.IDClaims(iss, req, now)
	if err != nil {
		return "", err
	}
	return iss.Mint(claims)
}
