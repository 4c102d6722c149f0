package apigw

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests here read a template, serve the gateway ReadAPI makes of it on
// loopback and send it requests: each setting of docs/local.md's fidelity
// table, as the running gateway applies it.

// templateGateway serves the API of apiTemplate plus extra.
func templateGateway(t *testing.T, extra string, authz, backend func([]byte) ([]byte, error)) (*testGateway, API) {
	t.Helper()
	return templateGatewayOf(t, apiTemplate+extra, authz, backend)
}

// withAPIProperties is apiTemplate with props (flow-style YAML) on its RestApi.
func withAPIProperties(props string) string {
	return strings.Replace(apiTemplate, "Api: {Type: AWS::ApiGateway::RestApi}", "Api: {Type: AWS::ApiGateway::RestApi, Properties: {"+props+"}}", 1)
}

// templateGatewayOf serves the API of a whole template.
func templateGatewayOf(t *testing.T, template string, authz, backend func([]byte) ([]byte, error)) (*testGateway, API) {
	t.Helper()
	a, err := readTemplate(t, template)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Config
	c.APIID = "abc123"
	return newTestGateway(t, c, authz, backend), a
}

func TestEventSaysTheClientCameOverHTTPSToTheAPIsName(t *testing.T) {
	tg := newTestGateway(t, testConfig(t), answer(allowStage), answer(backendOK))
	tg.do(t, "GET", "/whoami", goodToken)
	var ev ProxyEvent
	tg.backend.last(t, &ev)
	const domain = "abc123.execute-api.us-east-1.amazonaws.com"
	for k, want := range map[string]string{"Host": domain, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"} {
		if got := ev.Headers[k]; got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	rc := ev.RequestContext
	if rc.DomainName != domain || rc.DomainPrefix != "abc123" {
		t.Errorf("domainName %q, domainPrefix %q", rc.DomainName, rc.DomainPrefix)
	}
	if rc.ExtendedRequestID == rc.RequestID || !regexp.MustCompile(`^[A-Za-z0-9+/]{15}=$`).MatchString(rc.ExtendedRequestID) {
		t.Errorf("extendedRequestId %q (requestId %q): want a value of its own, of AWS's shape", rc.ExtendedRequestID, rc.RequestID)
	}
}

func TestEventCarriesATraceHeaderWhenTheStageTraces(t *testing.T) {
	tests := []struct {
		name    string
		tracing string
		sent    string
		want    string // a pattern; empty: no header
	}{
		{"a traced stage adds a trace header", "true", "", `^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`},
		{"a traced stage keeps the client's", "true", "Root=1-5759e988-bd862e3fe1be46a994272793", `^Root=1-5759e988-bd862e3fe1be46a994272793$`},
		{"an untraced stage adds none", "false", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, _ := templateGateway(t, `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {StageName: prod, TracingEnabled: `+tt.tracing+`}}
`, answer(allowStage), answer(backendOK))
			h := http.Header{"Authorization": {goodToken}}
			if tt.sent != "" {
				h.Set("X-Amzn-Trace-Id", tt.sent)
			}
			tg.send(t, newRequest(t, "GET", tg.URL+"/", "", h))
			var ev ProxyEvent
			tg.backend.last(t, &ev)
			got, ok := ev.Headers["X-Amzn-Trace-Id"]
			if tt.want == "" && ok || tt.want != "" && !regexp.MustCompile(tt.want).MatchString(got) {
				t.Errorf("X-Amzn-Trace-Id = %q (present %v), want %s", got, ok, tt.want)
			}
		})
	}
}

// ctxFunction is an Invoker that hands its answer the invocation's context.
type ctxFunction struct {
	answer func(context.Context, []byte) ([]byte, error)
}

func (f *ctxFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f.answer(ctx, payload)
}

// blockUntilDone is a backend that answers only when its context ends, and
// says how long it was given.
func blockUntilDone(given *time.Duration) func(context.Context, []byte) ([]byte, error) {
	return func(ctx context.Context, _ []byte) ([]byte, error) {
		if d, ok := ctx.Deadline(); ok {
			*given = time.Until(d)
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
}

func TestIntegrationTimeoutInMillisGivesA504(t *testing.T) {
	tpl := strings.Replace(apiTemplate, "Integration: {Type: AWS_PROXY,", "Integration: {Type: AWS_PROXY, TimeoutInMillis: 50,", 1)
	a, err := readTemplate(t, tpl)
	if err != nil {
		t.Fatal(err)
	}
	if a.Config.Routes[0].Timeout != 50*time.Millisecond {
		t.Fatalf("timeout = %s, want 50ms", a.Config.Routes[0].Timeout)
	}
	c := a.Config
	c.APIID = "abc123"
	var given time.Duration
	backend := &ctxFunction{answer: blockUntilDone(&given)}
	_, url := serveGateway(t, c, Deps{Authorizer: &stubFunction{answer: answer(allowStage)}, Backend: backend})
	resp, body := (&testGateway{}).send(t, newRequest(t, "GET", url+"/", "", http.Header{"Authorization": {goodToken}}))
	if resp.StatusCode != 504 || body != `{"message": "Endpoint request timed out"}` {
		t.Errorf("got %d %s, want 504", resp.StatusCode, body)
	}
	if given > 50*time.Millisecond || given <= 0 {
		t.Errorf("the backend was given %s, want at most the template's 50ms", given)
	}
}

func TestIntegrationTimeoutOutsideAPIGatewaysRangeIsRefused(t *testing.T) {
	tests := []struct {
		name, timeout, endpoint string
		ok                      bool
	}{
		{"below 50 ms", "49", "REGIONAL", false},
		{"29 s on an edge API", "29000", "EDGE", true},
		{"above 29 s on an edge API", "29001", "EDGE", false},
		{"above 29 s on a Regional API", "60000", "REGIONAL", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := strings.Replace(apiTemplate, "Integration: {Type: AWS_PROXY,", "Integration: {Type: AWS_PROXY, TimeoutInMillis: "+tt.timeout+",", 1)
			tpl = strings.Replace(tpl, "Api: {Type: AWS::ApiGateway::RestApi}", "Api: {Type: AWS::ApiGateway::RestApi, Properties: {EndpointConfiguration: {Types: ["+tt.endpoint+"]}}}", 1)
			_, err := readTemplate(t, tpl)
			if (err == nil) != tt.ok || err != nil && !strings.Contains(err.Error(), "TimeoutInMillis") {
				t.Errorf("err = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// method is a POST / method of apiTemplate's API with the extra properties
// (flow-style YAML, e.g. "ApiKeyRequired: true").
func method(auth, extra string) string {
	if extra != "" {
		extra = ", " + extra
	}
	return `
  Post:
    Type: AWS::ApiGateway::Method
    Properties: {HttpMethod: POST, ResourceId: !GetAtt Api.RootResourceId, ` + auth + extra + `,
      Integration: {Type: AWS_PROXY, Uri: !Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}}
`
}

const custom = "AuthorizationType: CUSTOM, AuthorizerId: !Ref Authorizer"

func TestReadAPIRefusesWhatCouldMakeAPIGatewayRefuse(t *testing.T) {
	tests := []struct {
		name, extra string
		want        string // the resource and setting the message names
	}{
		{"a request validator", method(custom, "RequestValidatorId: !Ref V") + `
  V: {Type: AWS::ApiGateway::RequestValidator, Properties: {RestApiId: !Ref Api, ValidateRequestParameters: true}}
`, "Post (AWS::ApiGateway::Method): RequestValidatorId"},
		{"authorization scopes", method(custom, "AuthorizationScopes: [read]"), "Post (AWS::ApiGateway::Method): AuthorizationScopes"},
		{"an IAM-authorized method", method("AuthorizationType: AWS_IAM", ""), "Post (AWS::ApiGateway::Method): AuthorizationType AWS_IAM"},
		{"a Cognito user pool authorizer", `
  Pool: {Type: AWS::ApiGateway::Authorizer, Properties: {RestApiId: !Ref Api, Name: p, Type: COGNITO_USER_POOLS, IdentitySource: method.request.header.Authorization, ProviderARNs: ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_x"]}}
`, "Pool (AWS::ApiGateway::Authorizer): Type COGNITO_USER_POOLS"},
		{"a REQUEST authorizer", `
  Req: {Type: AWS::ApiGateway::Authorizer, Properties: {RestApiId: !Ref Api, Name: r, Type: REQUEST}}
`, "Req (AWS::ApiGateway::Authorizer): Type REQUEST"},
		{"an OpenAPI body", `
  Api2: {Type: AWS::ApiGateway::RestApi, Properties: {Body: {openapi: "3.0.1"}}}
`, "Api2 (AWS::ApiGateway::RestApi): Body"},
		{"a private API", `
  Api2: {Type: AWS::ApiGateway::RestApi, Properties: {EndpointConfiguration: {Types: [PRIVATE]}}}
`, "Api2 (AWS::ApiGateway::RestApi): EndpointConfiguration.Types PRIVATE"},
		{"a disabled execute-api endpoint", `
  Api2: {Type: AWS::ApiGateway::RestApi, Properties: {DisableExecuteApiEndpoint: true}}
`, "Api2 (AWS::ApiGateway::RestApi): DisableExecuteApiEndpoint true"},
		{"a web ACL in front of the stage", `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {StageName: prod}}
  Waf: {Type: AWS::WAFv2::WebACLAssociation, Properties: {ResourceArn: !Sub "arn:aws:apigateway:us-east-1::/restapis/${Api}/stages/${Stage}", WebACLArn: y}}
`, "Waf (AWS::WAFv2::WebACLAssociation)"},
		{"a web ACL on a literal stage ARN", `
  Waf: {Type: AWS::WAFv2::WebACLAssociation, Properties: {ResourceArn: "arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod", WebACLArn: y}}
`, "Waf (AWS::WAFv2::WebACLAssociation)"},
		{"a property the table does not know", method(custom, "ApiKeyRequred: true"), "Post (AWS::ApiGateway::Method): ApiKeyRequred: a setting the local gateway does not know"},
		{"a nested property the table does not know", `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {StageName: prod, MethodSettings: [{ResourcePath: "/*", HttpMethod: "*", ThrottlingRateLimt: 5}]}}
`, "Stage (AWS::ApiGateway::Stage): MethodSettings.ThrottlingRateLimt: a setting the local gateway does not know"},
		{"a value the table does not know", method("AuthorizationType: JWT", ""), "Post (AWS::ApiGateway::Method): AuthorizationType JWT: a value the local gateway does not know"},
		{"a resource type the table does not know", `
  Thing: {Type: AWS::ApiGateway::Frobnicator}
`, "Thing (AWS::ApiGateway::Frobnicator): a resource type the local gateway does not know"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAPI(t, tt.extra)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestReadAPIPrintsWhatItDoesNotServe(t *testing.T) {
	tests := []struct {
		name, extra    string
		skipped, warns []string
	}{
		{"an open method is printed loudly", method("AuthorizationType: NONE", ""), nil,
			[]string{"Post (AWS::ApiGateway::Method): AuthorizationType NONE: anyone may call it, no authorizer runs"}},
		{"access logs are not served", `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {StageName: prod, AccessLogSetting: {DestinationArn: x, Format: y}}}
`, []string{"Stage (AWS::ApiGateway::Stage): AccessLogSetting: access logs are not written"}, nil},
		{"execution logging is not served, and OFF is nothing to say", `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {StageName: prod, MethodSettings: [{ResourcePath: "/*", HttpMethod: "*", LoggingLevel: "OFF"}, {ResourcePath: "/~1a", HttpMethod: GET, LoggingLevel: ERROR}]}}
`, []string{"Stage (AWS::ApiGateway::Stage): MethodSettings.LoggingLevel ERROR: execution logs are not written"}, nil},
		{"another integration type is not served", strings.Replace(method(custom, ""), "Type: AWS_PROXY", "Type: MOCK", 1),
			[]string{"Post (AWS::ApiGateway::Method): Integration.Type MOCK: only AWS_PROXY"}, nil},
		{"a custom domain is not served", `
  Domain: {Type: AWS::ApiGateway::DomainName, Properties: {DomainName: api.example.com}}
`, []string{"Domain (AWS::ApiGateway::DomainName): custom domain names are not served"}, nil},
		{"a web ACL on the user pool is not the gateway's", `
  Pool: {Type: AWS::Cognito::UserPool}
  Waf: {Type: AWS::WAFv2::WebACLAssociation, Properties: {ResourceArn: !GetAtt Pool.Arn, WebACLArn: y}}
`, nil, nil},
		{"binary media types and names are served or inert: nothing to say", `
  Api2: {Type: AWS::ApiGateway::RestApi, Properties: {Name: n, Description: d, BinaryMediaTypes: [image~1png]}}
`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := readAPI(t, tt.extra)
			if err != nil {
				t.Fatal(err)
			}
			if !hasPrefixes(a.Skipped, tt.skipped) || !hasPrefixes(a.Warnings, tt.warns) {
				t.Errorf("skipped %q, warnings %q; want %q and %q", a.Skipped, a.Warnings, tt.skipped, tt.warns)
			}
		})
	}
}

// hasPrefixes reports whether got has one line per want, each starting with it.
func hasPrefixes(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			return false
		}
	}
	return true
}

func TestResourcePolicyIsEvaluatedWithTheAuthorizers(t *testing.T) {
	const (
		anonymousDeny     = `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:abc123/prod/POST/ with an explicit deny"}`
		anonymousImplicit = `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:abc123/prod/POST/"}`
		authorizerDeny    = `{"Message":"User is not authorized to access this resource with an explicit deny"}`
	)
	statement := func(effect, resource string) string {
		return `{Effect: ` + effect + `, Principal: "*", Action: "execute-api:Invoke", Resource: "` + resource + `"}`
	}
	policy := func(statements ...string) string {
		return `Policy: {Version: "2012-10-17", Statement: [` + strings.Join(statements, ", ") + `]}`
	}
	tests := []struct {
		name, policy, auth, method string
		authz                      string
		status                     int
		body                       string
		invoked                    bool // the authorizer ran
	}{
		{"an Allow lets an open method through", policy(statement("Allow", "execute-api:/*")), "AuthorizationType: NONE", "POST", allowStage, 200, `{"ok":true}`, false},
		{"an open method the policy does not allow is refused", policy(statement("Allow", "execute-api:/*/GET/*")), "AuthorizationType: NONE", "POST", allowStage, 403, anonymousImplicit, false},
		{"a Deny refuses before the authorizer runs", policy(statement("Allow", "execute-api:/*"), statement("Deny", "execute-api:/*/POST/*")), custom, "POST", allowStage, 403, anonymousDeny, false},
		{"a Deny written as a full ARN refuses too", policy(statement("Allow", "*"), statement("Deny", "arn:aws:execute-api:us-east-1:123456789012:*/*/POST/")), custom, "POST", allowStage, 403, anonymousDeny, false},
		{"the policy's Allow lets through what the authorizer is silent on", policy(statement("Allow", "execute-api:/*")), custom, "POST", allowBeta, 200, `{"ok":true}`, true},
		{"the authorizer's Allow lets through what the policy is silent on", policy(statement("Allow", "execute-api:/*/GET/*")), custom, "POST", allowStage, 200, `{"ok":true}`, true},
		{"the authorizer's Deny wins over the policy's Allow", policy(statement("Allow", "execute-api:/*")), custom, "POST", denyStage, 403, authorizerDeny, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, _ := templateGatewayOf(t, withAPIProperties(tt.policy)+method(tt.auth, ""), answer(tt.authz), answer(backendOK))
			resp, body := tg.do(t, tt.method, "/", goodToken)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.body)
			}
			if got := tg.authorizer.calls() > 0; got != tt.invoked {
				t.Errorf("authorizer invoked %v, want %v", got, tt.invoked)
			}
		})
	}
}

func TestResourcePolicyRefusesWhatItCannotJudgeLocally(t *testing.T) {
	tests := []struct{ name, statement, want string }{
		{"a source IP condition", `{Effect: Allow, Principal: "*", Action: "execute-api:Invoke", Resource: "execute-api:/*", Condition: {IpAddress: {"aws:SourceIp": ["192.0.2.0/24"]}}}`, "Condition"},
		{"an IAM principal", `{Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:root"}, Action: "execute-api:Invoke", Resource: "execute-api:/*"}`, "Principal"},
		{"a NotResource", `{Effect: Deny, Principal: "*", Action: "execute-api:Invoke", NotResource: "execute-api:/*/GET/*"}`, "NotResource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readTemplate(t, withAPIProperties(`Policy: {Statement: [`+tt.statement+`]}`))
			if err == nil || !strings.Contains(err.Error(), "RestApi Api Policy") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming RestApi Api Policy and %s", err, tt.want)
			}
		})
	}
}

// keyed is a stage "prod", a POST / method that requires an API key, and a
// usage plan of stage planStage holding key Key (whose properties are
// keyProps).
func keyed(planStage, keyProps string) string {
	return method(custom, "ApiKeyRequired: true") + `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {RestApiId: !Ref Api, StageName: prod}}
  Plan: {Type: AWS::ApiGateway::UsagePlan, Properties: {ApiStages: [{ApiId: !Ref Api, Stage: ` + planStage + `}]}}
  Key: {Type: AWS::ApiGateway::ApiKey, Properties: {` + keyProps + `}}
  PlanKey: {Type: AWS::ApiGateway::UsagePlanKey, Properties: {KeyId: !Ref Key, KeyType: API_KEY, UsagePlanId: !Ref Plan}}
`
}

func TestApiKeyRequiredNeedsAKeyOfTheStagesUsagePlan(t *testing.T) {
	const value = "local-key-0123456789abcdef"
	tests := []struct {
		name, planStage, keyProps, sent string
		status                          int
	}{
		{"no key is forbidden", "!Ref Stage", "Value: " + value, "", 403},
		{"another key is forbidden", "!Ref Stage", "Value: " + value, value + "x", 403},
		{"the plan's key is let through", "!Ref Stage", "Value: " + value, value, 200},
		{"a disabled key is forbidden", "!Ref Stage", "Enabled: false, Value: " + value, value, 403},
		{"a key of another stage's plan is forbidden", "beta", "Value: " + value, value, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, _ := templateGateway(t, keyed(tt.planStage, tt.keyProps), answer(allowStage), answer(backendOK))
			h := http.Header{"Authorization": {goodToken}}
			if tt.sent != "" {
				h.Set("X-API-Key", tt.sent)
			}
			resp, body := tg.send(t, newRequest(t, "POST", tg.URL+"/", "", h))
			if resp.StatusCode != tt.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == 403 {
				if body != `{"message":"Forbidden"}` || resp.Header.Get("x-amzn-ErrorType") != "ForbiddenException" || tg.backend.calls() != 0 {
					t.Errorf("403 %s, type %q, backend calls %d", body, resp.Header.Get("x-amzn-ErrorType"), tg.backend.calls())
				}
				return
			}
			var ev ProxyEvent
			tg.backend.last(t, &ev)
			id := ev.RequestContext.Identity
			if id.APIKey == nil || *id.APIKey != value || id.APIKeyID == nil || *id.APIKeyID != apiKeyID("Key") {
				t.Errorf("identity apiKey %v, apiKeyId %v", id.APIKey, id.APIKeyID)
			}
		})
	}
}

func TestApiKeyWithoutAValueIsGeneratedAndAccepted(t *testing.T) {
	tg, a := templateGateway(t, keyed("prod", "Name: k"), answer(allowStage), answer(backendOK))
	if len(a.Config.APIKeys) != 1 || !a.Config.APIKeys[0].Generated || len(a.Config.APIKeys[0].Value) < minAPIKeyLength {
		t.Fatalf("keys = %+v, want one generated", a.Config.APIKeys)
	}
	h := http.Header{"Authorization": {goodToken}, "X-API-Key": {a.Config.APIKeys[0].Value}}
	if resp, body := tg.send(t, newRequest(t, "POST", tg.URL+"/", "", h)); resp.StatusCode != 200 {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}

func TestUsagePlanLimitsAreRefused(t *testing.T) {
	for _, limit := range []string{"Quota: {Limit: 5, Period: DAY}", "Throttle: {RateLimit: 1, BurstLimit: 1}"} {
		extra := strings.Replace(keyed("prod", "Name: k"), "Properties: {ApiStages:", "Properties: {"+limit+", ApiStages:", 1)
		if _, err := readAPI(t, extra); err == nil || !strings.Contains(err.Error(), "Plan (AWS::ApiGateway::UsagePlan): "+strings.SplitN(limit, ":", 2)[0]) {
			t.Errorf("%s: err = %v", limit, err)
		}
	}
}

func TestStageVariablesReachTheEvent(t *testing.T) {
	tg, _ := templateGateway(t, `
  Stage: {Type: AWS::ApiGateway::Stage, Properties: {StageName: prod, Variables: {table: !Ref Name, mode: x}}}
`, answer(allowStage), answer(backendOK))
	tg.do(t, "GET", "/", goodToken)
	var ev ProxyEvent
	tg.backend.last(t, &ev)
	if len(ev.StageVariables) != 2 || ev.StageVariables["table"] != "beta" || ev.StageVariables["mode"] != "x" {
		t.Errorf("stageVariables = %v", ev.StageVariables)
	}
}

func TestEverySettingThatIsNotInertSaysWhy(t *testing.T) {
	var walk func(where string, table map[string]setting)
	walk = func(where string, table map[string]setting) {
		for k, s := range table {
			if s.sub != nil {
				walk(where+"."+k, s.sub)
			}
			if s.byValue == nil && s.sub == nil && s.t >= Warned && s.why == "" {
				t.Errorf("%s.%s is %s without a reason", where, k, s.t)
			}
		}
	}
	for typ, rt := range apiGatewayTypes {
		if rt.props == nil && rt.t >= Warned && rt.why == "" {
			t.Errorf("%s is %s without a reason", typ, rt.t)
		}
		walk(typ, rt.props)
	}
}

func TestAMethodNoLambdaPermissionCoversIsRefused(t *testing.T) {
	const fnSource = `SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*"}}`
	const authSource = `SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/${Authorizer}"}}`
	tests := []struct {
		name, old, new, extra string
		want                  string // "" for no error
	}{
		{"a permission for the API's every method covers them", "", "", method(custom, ""), ""},
		{"a permission for one route covers only it", fnSource,
			`SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/"}}`, method(custom, ""),
			"route POST /: no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke Fn from arn:aws:execute-api:us-east-1:123456789012:{api}/prod/POST/"},
		{"a permission without SourceArn covers every API", fnSource, "}}", method(custom, ""), ""},
		{"a permission for another principal does not count", "Principal: apigateway.amazonaws.com, " + fnSource,
			"Principal: s3.amazonaws.com, " + fnSource, "", "route GET /: no AWS::Lambda::Permission"},
		{"the authorizer needs its own", authSource,
			`SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/other"}}`, "",
			"authorizer Authorizer: no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke AuthFn"},
		{"an ANY method needs a permission for every verb", fnSource,
			`SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/*"}}`,
			strings.Replace(method(custom, ""), "HttpMethod: POST", "HttpMethod: ANY", 1), "route ANY /: no AWS::Lambda::Permission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := apiTemplate
			if tt.old != "" {
				if !strings.Contains(tpl, tt.old) {
					t.Fatalf("apiTemplate has no %q", tt.old)
				}
				tpl = strings.Replace(tpl, tt.old, tt.new, 1)
			}
			_, err := readTemplate(t, tpl+tt.extra)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAMethodInvokedAsARoleNeedsNoLambdaPermission(t *testing.T) {
	tpl := strings.Replace(apiTemplate, `SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*"}}`,
		`SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/"}}`, 1)
	post := strings.Replace(method(custom, ""), "Integration: {Type: AWS_PROXY,", "Integration: {Type: AWS_PROXY, Credentials: arn:aws:iam::123456789012:role/invoker,", 1)
	a, err := readTemplate(t, tpl+post)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Skipped) != 1 || !strings.Contains(a.Skipped[0], "Integration.Credentials") {
		t.Errorf("skipped = %q, want the role printed", a.Skipped)
	}
}
