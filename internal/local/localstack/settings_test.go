package localstack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/userpool"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/local/apigw"
)

func TestLoadSettingsFromTheProjectTemplate(t *testing.T) {
	s, err := LoadSettings("../../../deploy/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := s.API.Config
	if !slices.Equal(c.Routes, defaultRoutes) || !slices.Equal(c.BinaryMediaTypes, []string{"*/*"}) || s.DataBucket != "rolegate-local-databucket" {
		t.Errorf("routes = %v, binary media types %v, data bucket %q", c.Routes, c.BinaryMediaTypes, s.DataBucket)
	}
	if c.Identity.Header != "Authorization" || c.Identity.Validation == nil {
		t.Errorf("identity = %+v", c.Identity)
	}
	if c.TTL != 300*time.Second {
		t.Errorf("TTL = %s, want the AuthorizerCacheTtl default 300s", c.TTL)
	}
	if c.Stage != "prod" || c.Throttle != (apigw.Throttle{Rate: 50, Burst: 100}) {
		t.Errorf("stage %q throttle %+v, want the StageName and throttling defaults", c.Stage, c.Throttle)
	}
	admins, ok1 := s.Group("admins")
	readers, ok2 := s.Group("readers")
	if !ok1 || !ok2 {
		t.Fatalf("groups = %v", s.Groups)
	}
	if admins.Precedence >= readers.Precedence {
		t.Errorf("admins precedence %d should beat readers %d", admins.Precedence, readers.Precedence)
	}
	for _, g := range []userpool.Group{admins, readers} {
		if !isStackRoleOf(g) {
			t.Errorf("group %s role = %s, want a role of the local stack named for the group", g.Name, g.RoleARN)
		}
	}
	for _, typ := range []string{apigw.ResponseUnauthorized, apigw.ResponseAccessDenied} {
		if gr, ok := c.Responses[typ]; !ok || gr.Templates["application/json"] == "" {
			t.Errorf("gateway response %s = %+v", typ, gr)
		}
	}
	// The stage's access log is printed as not written (the gateway logs its own line); nothing else is skipped.
	if len(s.API.Skipped) != 1 || !strings.Contains(s.API.Skipped[0], "AccessLogSetting") {
		t.Errorf("skipped = %v, want only the access log", s.API.Skipped)
	}
	c.APIID = "abc"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadSettingsWithoutTemplateUsesDefaults(t *testing.T) {
	s, err := LoadSettings(filepath.Join(t.TempDir(), "none.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != "built-in defaults" || len(s.Groups) != 2 || s.Groups[0].Precedence != 1 || s.Groups[1].Precedence != 10 {
		t.Errorf("settings = %+v", s)
	}
	c := s.API.Config
	c.APIID = "abc"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestDefaultsMirrorTheTemplate(t *testing.T) {
	def := DefaultSettings()
	tpl, err := LoadSettings("../../../deploy/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, p := def.API.Config, tpl.API.Config
	if d.Identity.Validation.String() != p.Identity.Validation.String() || d.TTL != p.TTL || d.Stage != p.Stage || d.Throttle != p.Throttle ||
		!slices.EqualFunc(def.Groups, tpl.Groups, sameGroup) || !slices.Equal(d.Routes, p.Routes) ||
		!slices.Equal(d.BinaryMediaTypes, p.BinaryMediaTypes) || def.DataBucket != tpl.DataBucket {
		t.Errorf("defaults drifted from the template:\n%+v\n%+v", def, tpl)
	}
}

// isStackRoleOf reports whether g's role is one the local stack's template
// makes for g: rolegate-local-…-<group> in moto's account.
func isStackRoleOf(g userpool.Group) bool {
	r, err := arn.ParseRole(g.RoleARN)
	return err == nil && r.AccountID == Deployment.AccountID &&
		strings.HasPrefix(r.Name, Deployment.StackName+"-") && strings.HasSuffix(r.Name, "-"+g.Name)
}

// sameGroup compares groups by name, precedence and what their roles are
// for; the template may put more (such as the region) in the role names.
func sameGroup(a, b userpool.Group) bool {
	return a.Name == b.Name && a.Precedence == b.Precedence && isStackRoleOf(a) && isStackRoleOf(b)
}

// base is a minimal template; tests add resources to it.
const base = `
Parameters:
  Ttl: {Type: Number, Default: 60}
Resources:
  Api: {Type: AWS::ApiGateway::RestApi}
  Fn: {Type: AWS::Lambda::Function, Properties: {Environment: {Variables: {LITERAL: "x", NUM: 3, REF: !Ref Api}}}}
  AuthFn: {Type: AWS::Lambda::Function}
  FnPermission: {Type: AWS::Lambda::Permission, Properties: {Action: lambda:InvokeFunction, FunctionName: !GetAtt Fn.Arn,
    Principal: apigateway.amazonaws.com, SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*"}}
  AuthFnPermission: {Type: AWS::Lambda::Permission, Properties: {Action: lambda:InvokeFunction, FunctionName: !GetAtt AuthFn.Arn,
    Principal: apigateway.amazonaws.com, SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/${Authorizer}"}}
  Authorizer:
    Type: AWS::ApiGateway::Authorizer
    Properties:
      Type: TOKEN
      AuthorizerUri: !Sub "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${AuthFn.Arn}/invocations"
      IdentitySource: method.request.header.Authorization
      AuthorizerResultTtlInSeconds: !Ref Ttl
  Items: {Type: AWS::ApiGateway::Resource, Properties: {ParentId: !GetAtt Api.RootResourceId, PathPart: items}}
  Item: {Type: AWS::ApiGateway::Resource, Properties: {ParentId: !Ref Items, PathPart: "{id}"}}
  ItemAny:
    Type: AWS::ApiGateway::Method
    Properties:
      HttpMethod: ANY
      ResourceId: !Ref Item
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Authorizer
      Integration: {Type: AWS_PROXY, Uri: !Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
  Health:
    Type: AWS::ApiGateway::Method
    Properties:
      HttpMethod: get
      ResourceId: !GetAtt Api.RootResourceId
      AuthorizationType: NONE
      Integration: {Type: AWS_PROXY, Uri: !Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
  Cors:
    Type: AWS::ApiGateway::Method
    Properties: {HttpMethod: OPTIONS, ResourceId: !Ref Items, AuthorizationType: NONE, Integration: {Type: MOCK}}
`

func TestParseSettings(t *testing.T) {
	tests := []struct {
		name   string
		extra  string
		check  func(t *testing.T, s Settings)
		errHas string
	}{
		{name: "nested resources, ANY, open routes and a TTL parameter are read", extra: `
  G: {Type: AWS::Cognito::UserPoolGroup, Properties: {GroupName: g, Precedence: 2, RoleArn: !GetAtt R.Arn}}
  R: {Type: AWS::IAM::Role, Properties: {RoleName: !Sub "${AWS::StackName}-g", Path: /team/}}
`, check: func(t *testing.T, s Settings) {
			want := []apigw.Route{{Method: "GET", Path: "/"}, {Method: "ANY", Path: "/items/{id}", Authorized: true}}
			if !slices.Equal(s.API.Config.Routes, want) {
				t.Errorf("routes = %v, want %v", s.API.Config.Routes, want)
			}
			if s.API.Config.TTL != time.Minute {
				t.Errorf("TTL = %s", s.API.Config.TTL)
			}
			if g, _ := s.Group("g"); g.RoleARN != "arn:aws:iam::123456789012:role/team/rolegate-local-g" || g.Precedence != 2 {
				t.Errorf("group = %+v", g)
			}
			if len(s.API.Skipped) != 1 || !strings.Contains(s.API.Skipped[0], "MOCK") {
				t.Errorf("skipped = %v", s.API.Skipped)
			}
			if s.BackendEnv["LITERAL"] != "x" || s.BackendEnv["NUM"] != "3" || s.BackendEnv["REF"] != "" {
				t.Errorf("backend env = %v", s.BackendEnv)
			}
		}},
		{name: "a role without RoleName gets the name CloudFormation would derive", extra: `
  G: {Type: AWS::Cognito::UserPoolGroup, Properties: {GroupName: g, RoleArn: !GetAtt R.Arn}}
  R: {Type: AWS::IAM::Role}
`, check: func(t *testing.T, s Settings) {
			if g, _ := s.Group("g"); g.RoleARN != role("rolegate-local-R") || g.Precedence != userpool.NoPrecedence {
				t.Errorf("group = %+v", g)
			}
		}},
		{name: "a literal role ARN is read", extra: `
  G: {Type: AWS::Cognito::UserPoolGroup, Properties: {GroupName: g, RoleArn: "arn:aws:iam::123456789012:role/a/b/name"}}
`, check: func(t *testing.T, s Settings) {
			if g, _ := s.Group("g"); g.RoleARN != "arn:aws:iam::123456789012:role/a/b/name" {
				t.Errorf("group = %+v", g)
			}
		}},
		{name: "a group without a role has none", extra: `
  G: {Type: AWS::Cognito::UserPoolGroup, Properties: {GroupName: g, Precedence: 1}}
`, check: func(t *testing.T, s Settings) {
			if g, _ := s.Group("g"); g.RoleARN != "" {
				t.Errorf("group = %+v", g)
			}
		}},
		{name: "a RoleArn pointing at something else is an error", extra: `
  G: {Type: AWS::Cognito::UserPoolGroup, Properties: {GroupName: g, RoleArn: !GetAtt Fn.Arn}}
`, errHas: "not an AWS::IAM::Role"},
		{name: "a role name the local stack cannot know is an error", extra: `
  G: {Type: AWS::Cognito::UserPoolGroup, Properties: {GroupName: g, RoleArn: !GetAtt R.Arn}}
  R: {Type: AWS::IAM::Role, Properties: {RoleName: !Sub "${Api}-g"}}
`, errHas: "cannot resolve"},
		{name: "no group is an error", extra: "", errHas: "UserPoolGroup"},
		{name: "a second TOKEN authorizer is an error", extra: `
  G: {Type: AWS::Cognito::UserPoolGroup, Properties: {GroupName: g}}
  Authorizer2: {Type: AWS::ApiGateway::Authorizer, Properties: {Type: TOKEN, IdentitySource: method.request.header.X}}
`, errHas: "exactly one TOKEN authorizer"},
		{name: "two different backends are an error", extra: `
  G: {Type: AWS::Cognito::UserPoolGroup, Properties: {GroupName: g}}
  Fn2: {Type: AWS::Lambda::Function}
  Other:
    Type: AWS::ApiGateway::Method
    Properties: {HttpMethod: GET, ResourceId: !Ref Items, AuthorizationType: NONE, Integration: {Type: AWS_PROXY, Uri: !Sub "${Fn2.Arn}"}}
`, errHas: "one backend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSettings([]byte(base + tt.extra))
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestLoadSettingsReportsABrokenTemplate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte("Resources: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSettings(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v", err)
	}
}
