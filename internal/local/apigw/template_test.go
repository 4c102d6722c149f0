package apigw

import (
	"slices"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/cfn"
)

var testDeployment = Deployment{StackName: "stack", Region: "us-east-1", AccountID: "123456789012"}

// apiTemplate is a minimal REST API; tests add resources and parameters.
const apiTemplate = `
Parameters:
  Rate: {Type: String, Default: "2.5"}
  Name: {Type: String, Default: beta}
Resources:
  Api: {Type: AWS::ApiGateway::RestApi}
  Fn: {Type: AWS::Lambda::Function}
  AuthFn: {Type: AWS::Lambda::Function}
  Authorizer: {Type: AWS::ApiGateway::Authorizer, Properties: {Type: TOKEN, IdentitySource: method.request.header.Authorization,
    AuthorizerUri: !Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${AuthFn.Arn}/invocations"}}
  Get:
    Type: AWS::ApiGateway::Method
    Properties:
      HttpMethod: GET
      ResourceId: !GetAtt Api.RootResourceId
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Authorizer
      Integration: {Type: AWS_PROXY, Uri: !Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
  FnPermission: {Type: AWS::Lambda::Permission, Properties: {Action: lambda:InvokeFunction, FunctionName: !GetAtt Fn.Arn,
    Principal: apigateway.amazonaws.com, SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*"}}
  AuthFnPermission: {Type: AWS::Lambda::Permission, Properties: {Action: lambda:InvokeFunction, FunctionName: !GetAtt AuthFn.Arn,
    Principal: apigateway.amazonaws.com, SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/${Authorizer}"}}
`

func readAPI(t *testing.T, extra string) (API, error) {
	t.Helper()
	return readTemplate(t, apiTemplate+extra)
}

// readTemplate reads the API of a whole template.
func readTemplate(t *testing.T, template string) (API, error) {
	t.Helper()
	tpl, err := cfn.ParseTemplate([]byte(template))
	if err != nil {
		t.Fatal(err)
	}
	return ReadAPI(Resolver{Template: tpl, Deployment: testDeployment})
}

func TestReadAPI(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		check func(t *testing.T, a API)
	}{
		{name: "without a Stage resource the stage is prod and unthrottled", check: func(t *testing.T, a API) {
			if a.Config.Stage != "prod" || a.Config.Throttle != (Throttle{}) {
				t.Errorf("stage %q throttle %+v", a.Config.Stage, a.Config.Throttle)
			}
			if a.AuthorizerFunction != "AuthFn" || a.BackendFunction != "Fn" {
				t.Errorf("functions %q %q", a.AuthorizerFunction, a.BackendFunction)
			}
		}},
		{name: "the stage name and stage-wide throttling come from parameter defaults", extra: `
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      StageName: !Ref Name
      MethodSettings:
        - {ResourcePath: "/*", HttpMethod: "*", ThrottlingRateLimit: !Ref Rate, ThrottlingBurstLimit: 10}
        - {ResourcePath: "/~1whoami", HttpMethod: GET, LoggingLevel: INFO}
`, check: func(t *testing.T, a API) {
			if a.Config.Stage != "beta" || a.Config.Throttle != (Throttle{Rate: 2.5, Burst: 10}) {
				t.Errorf("stage %q throttle %+v", a.Config.Stage, a.Config.Throttle)
			}
			if len(a.Skipped) != 1 || !strings.Contains(a.Skipped[0], "MethodSettings.LoggingLevel INFO") {
				t.Errorf("skipped = %v, want the per-method logging", a.Skipped)
			}
		}},
		{name: "binary media types are read in either spelling of the slash", extra: `
  Api2: {Type: AWS::ApiGateway::RestApi, Properties: {BinaryMediaTypes: ["image~1png", "application/pdf"]}}
`, check: func(t *testing.T, a API) {
			if !slices.Equal(a.Config.BinaryMediaTypes, []string{"image/png", "application/pdf"}) {
				t.Errorf("binary media types = %v", a.Config.BinaryMediaTypes)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := readAPI(t, tt.extra)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, a)
		})
	}
}

func TestReadAPIRefuses(t *testing.T) {
	tests := []struct{ name, extra, errHas string }{
		{"a rate without a burst is an error", `
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {StageName: s, MethodSettings: [{ResourcePath: "/*", HttpMethod: "*", ThrottlingRateLimit: 5}]}
`, "throttle"},
		{"a stage name only a deployment knows is an error", `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {StageName: !GetAtt Api.RootResourceId}}
`, "StageName"},
		{"per-method throttling is refused", `
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {StageName: s, MethodSettings: [{ResourcePath: "/~1whoami", HttpMethod: GET, ThrottlingRateLimit: 1, ThrottlingBurstLimit: 1}]}
`, "per-method throttling"},
		{"two stages are an error", `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {StageName: a}}
  Stage2: {Type: AWS::ApiGateway::Stage, Properties: {StageName: b}}
`, "at most one"},
	}
	for _, tt := range tests {
		if _, err := readAPI(t, tt.extra); err == nil || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.errHas)
		}
	}
}

func TestResolverString(t *testing.T) {
	tpl, err := cfn.ParseTemplate([]byte(apiTemplate))
	if err != nil {
		t.Fatal(err)
	}
	r := Resolver{Template: tpl, Deployment: Deployment{StackName: "s", Region: "cn-north-1", AccountID: "123456789012"}}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"a literal is itself", "x", "x"},
		{"a number is its text", 3, "3"},
		{"a parameter is its default", map[string]any{"Ref": "Name"}, "beta"},
		{"pseudo parameters follow the region's partition", map[string]any{"Fn::Sub": "${AWS::Partition}:${AWS::URLSuffix}:${AWS::StackName}"}, "aws-cn:amazonaws.com.cn:s"},
		{"${!Literal} stays literal", map[string]any{"Fn::Sub": "${!Name}"}, "${Name}"},
	}
	for _, tt := range tests {
		if got, err := r.String(tt.in); err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := r.String(map[string]any{"Ref": "Api"}); err == nil {
		t.Error("a resource Ref was resolved")
	}
}
