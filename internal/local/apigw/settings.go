package apigw

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rolegate/rolegate/internal/cfn"
)

// Treatment is what the local gateway does with one template setting. Every
// setting of an API Gateway resource has one; there is no "ignored".
type Treatment int

const (
	// Inert settings change nothing a client can observe of a request:
	// names, descriptions, tags, links between resources, account plumbing.
	Inert Treatment = iota
	// Implemented settings are read and applied as API Gateway applies them.
	Implemented
	// Warned settings are implemented, and printed loudly at start-up
	// because they are a choice worth seeing (an open method).
	Warned
	// Printed settings are not served and are printed at start-up as "not
	// served". None of them makes API Gateway refuse a request the local
	// gateway would let through.
	Printed
	// Refused settings could make API Gateway refuse a request the local
	// gateway cannot judge: it does not start.
	Refused
)

// String names the treatment as docs/local.md's fidelity table does.
func (t Treatment) String() string {
	switch t {
	case Implemented:
		return "implemented"
	case Warned:
		return "implemented, printed loudly"
	case Printed:
		return "printed as not served"
	case Refused:
		return "refused at start"
	}
	return "inert"
}

// setting is one row of the table: the treatment of a property, or of each
// value it may take, and why.
type setting struct {
	t   Treatment
	why string // said at start-up for Warned, Printed and Refused
	// byValue, when set, decides from the property's resolved value; it
	// returns ok false for a value it does not know, which is refused.
	byValue func(value string) (t Treatment, why string, ok bool)
	// sub are the settings of an object property, or of each object of a
	// list property; nil means the object's members share the row's treatment.
	sub map[string]setting
}

// resourceType is the table's entry for a CloudFormation resource type.
type resourceType struct {
	// t and why apply to a type whose every property shares one treatment
	// (props nil).
	t     Treatment
	why   string
	props map[string]setting
	// outside, for a type outside API Gateway, reports whether a resource
	// of it stands in front of this API.
	outside func(r Resolver, res cfn.Resource) bool
}

var (
	inert       = setting{t: Inert}
	implemented = setting{t: Implemented}
)

func printed(why string) setting { return setting{t: Printed, why: why} }
func refused(why string) setting { return setting{t: Refused, why: why} }

// whenTrue is a boolean setting that is inert when false.
func whenTrue(t Treatment, why string) setting {
	return setting{byValue: func(v string) (Treatment, string, bool) {
		switch v {
		case "false":
			return Inert, "", true
		case "true":
			return t, why, true
		}
		return 0, "", false
	}}
}

// oneOf is a setting whose treatment depends on which of a few values it has.
func oneOf(values map[string]setting) setting {
	return setting{byValue: func(v string) (Treatment, string, bool) {
		s, ok := values[v]
		return s.t, s.why, ok
	}}
}

const (
	whyValidation      = "API Gateway validates such requests (400 Invalid request body or Missing required request parameters) and the local gateway does not"
	whyUsagePlanLimits = "API Gateway answers 429 past a usage plan's throttle or quota, and the local gateway does not count per key"
	whyCustomDomain    = "custom domain names are not served: call the execute-api URL the banner prints"
)

// apiGatewayTypes is the one table of what the local gateway does with each
// AWS::ApiGateway resource type and property, as CloudFormation's resource
// and property types reference documented them when it was written.
// checkSettings applies it; a type or property missing from it is refused,
// so a setting is never silently treated as absent.
var apiGatewayTypes = map[string]resourceType{
	"AWS::ApiGateway::RestApi": {props: map[string]setting{
		"Name": inert, "Description": inert, "Tags": inert, "FailOnWarnings": inert,
		"Mode": inert, "Parameters": inert, "SecurityPolicy": inert,
		"BinaryMediaTypes": implemented,
		"ApiKeySourceType": oneOf(map[string]setting{
			"HEADER":     implemented,
			"AUTHORIZER": refused("API keys from the authorizer's usageIdentifierKey are not emulated"),
		}),
		"Body":           refused("the local gateway reads the API from the template's resources, not an OpenAPI body"),
		"BodyS3Location": refused("the local gateway reads the API from the template's resources, not an OpenAPI body"),
		"CloneFrom":      refused("the API it clones is not in the template"),
		"DisableExecuteApiEndpoint": whenTrue(Refused,
			"API Gateway answers 403 on the execute-api endpoint, the only one the local gateway serves"),
		"EndpointConfiguration": {sub: map[string]setting{
			"Types": oneOf(map[string]setting{
				"REGIONAL": implemented, "EDGE": implemented,
				"PRIVATE": refused("a private API answers only through a VPC endpoint"),
			}),
			"VpcEndpointIds": refused("a private API answers only through a VPC endpoint"),
			"IpAddressType":  inert,
		}},
		"MinimumCompressionSize": printed("responses are not compressed"),
		"Policy":                 implemented,
	}},
	"AWS::ApiGateway::Resource": {props: map[string]setting{
		"RestApiId": inert, "ParentId": implemented, "PathPart": implemented,
	}},
	"AWS::ApiGateway::Method": {props: map[string]setting{
		"RestApiId": inert, "OperationName": inert, "MethodResponses": inert,
		"ResourceId": implemented, "HttpMethod": implemented, "AuthorizerId": implemented,
		"AuthorizationType": oneOf(map[string]setting{
			"CUSTOM":             implemented,
			"NONE":               {t: Warned, why: "anyone may call it, no authorizer runs"},
			"AWS_IAM":            refused("IAM (SigV4) authorization is not emulated"),
			"COGNITO_USER_POOLS": refused("Cognito user pool authorizers are not emulated"),
		}),
		"AuthorizationScopes": refused("API Gateway checks the scopes of the caller's access token and the local gateway does not"),
		"ApiKeyRequired":      implemented,
		"RequestValidatorId":  refused(whyValidation),
		// Without a validator, API Gateway only declares these.
		"RequestModels":     inert,
		"RequestParameters": inert,
		"Integration": {sub: map[string]setting{
			"Type": oneOf(map[string]setting{
				"AWS_PROXY":  implemented,
				"AWS":        printed("only AWS_PROXY integrations are served; the route answers 403"),
				"HTTP":       printed("only AWS_PROXY integrations are served; the route answers 403"),
				"HTTP_PROXY": printed("only AWS_PROXY integrations are served; the route answers 403"),
				"MOCK":       printed("only AWS_PROXY integrations are served; the route answers 403"),
			}),
			"Uri": implemented, "TimeoutInMillis": implemented,
			// Lambda is invoked with POST whatever this says.
			"IntegrationHttpMethod": inert,
			// A proxy integration passes the request and response through:
			// API Gateway does not apply these to AWS_PROXY.
			"RequestTemplates": inert, "PassthroughBehavior": inert, "IntegrationResponses": inert,
			"ContentHandling": inert, "RequestParameters": inert,
			"CacheKeyParameters": inert, "CacheNamespace": inert,
			"ConnectionType": inert, "ConnectionId": inert, "IntegrationTarget": inert,
			"Credentials":          printed("the gateway invokes the function directly, not as this role"),
			"ResponseTransferMode": printed("responses are buffered, not streamed"),
		}},
	}},
	"AWS::ApiGateway::Authorizer": {props: map[string]setting{
		"RestApiId": inert, "Name": inert, "AuthType": inert,
		"Type": oneOf(map[string]setting{
			"TOKEN":              implemented,
			"REQUEST":            refused("REQUEST authorizers are not emulated"),
			"COGNITO_USER_POOLS": refused("Cognito user pool authorizers are not emulated"),
		}),
		"AuthorizerUri": implemented, "IdentitySource": implemented,
		"IdentityValidationExpression": implemented, "AuthorizerResultTtlInSeconds": implemented,
		"AuthorizerCredentials": printed("the gateway invokes the authorizer directly, not as this role"),
		"ProviderARNs":          refused("Cognito user pool authorizers are not emulated"),
	}},
	"AWS::ApiGateway::GatewayResponse": {props: map[string]setting{
		"RestApiId": inert, "ResponseType": implemented, "StatusCode": implemented,
		"ResponseParameters": implemented, "ResponseTemplates": implemented,
	}},
	"AWS::ApiGateway::Deployment": {props: map[string]setting{
		"RestApiId": inert, "Description": inert,
		"StageName":                refused("write the stage as an AWS::ApiGateway::Stage"),
		"StageDescription":         refused("write the stage as an AWS::ApiGateway::Stage"),
		"DeploymentCanarySettings": printed("canary deployments are not served"),
	}},
	"AWS::ApiGateway::Stage": {props: map[string]setting{
		"RestApiId": inert, "DeploymentId": inert, "Description": inert, "Tags": inert,
		"DocumentationVersion": inert, "ClientCertificateId": inert,
		"StageName": implemented, "TracingEnabled": implemented,
		"Variables":           implemented,
		"AccessLogSetting":    printed("access logs are not written; the gateway logs one JSON line per request instead"),
		"CacheClusterEnabled": whenTrue(Printed, "responses are not cached"),
		"CacheClusterSize":    inert,
		"CanarySetting":       printed("canary deployments are not served"),
		"MethodSettings": {sub: map[string]setting{
			"ResourcePath": implemented, "HttpMethod": implemented,
			// Per-method entries are refused by stage() when they throttle.
			"ThrottlingRateLimit": implemented, "ThrottlingBurstLimit": implemented,
			"LoggingLevel": oneOf(map[string]setting{
				"OFF":   inert,
				"ERROR": printed("execution logs are not written"),
				"INFO":  printed("execution logs are not written"),
			}),
			"DataTraceEnabled":   whenTrue(Printed, "execution logs are not written"),
			"MetricsEnabled":     whenTrue(Printed, "CloudWatch metrics are not published"),
			"CachingEnabled":     whenTrue(Printed, "responses are not cached"),
			"CacheTtlInSeconds":  inert,
			"CacheDataEncrypted": inert,
		}},
	}},
	"AWS::ApiGateway::ApiKey": {props: map[string]setting{
		"Name": inert, "Description": inert, "Tags": inert, "CustomerId": inert, "GenerateDistinctId": inert,
		"Enabled": implemented, "Value": implemented,
		// Keys open methods only through a usage plan.
		"StageKeys": inert,
	}},
	"AWS::ApiGateway::UsagePlan": {props: map[string]setting{
		"UsagePlanName": inert, "Description": inert, "Tags": inert,
		"ApiStages": {sub: map[string]setting{
			"ApiId": inert, "Stage": implemented,
			"Throttle": refused(whyUsagePlanLimits),
		}},
		"Throttle": refused(whyUsagePlanLimits),
		"Quota":    refused(whyUsagePlanLimits),
	}},
	"AWS::ApiGateway::UsagePlanKey": {props: map[string]setting{
		"KeyId": implemented, "UsagePlanId": implemented,
		"KeyType": oneOf(map[string]setting{"API_KEY": implemented}),
	}},
	// These act only through the settings that name them.
	"AWS::ApiGateway::Account":                     {t: Inert},
	"AWS::ApiGateway::Model":                       {t: Inert},
	"AWS::ApiGateway::RequestValidator":            {t: Inert},
	"AWS::ApiGateway::DocumentationPart":           {t: Inert},
	"AWS::ApiGateway::DocumentationVersion":        {t: Inert},
	"AWS::ApiGateway::ClientCertificate":           {t: Inert},
	"AWS::ApiGateway::VpcLink":                     {t: Inert},
	"AWS::ApiGateway::DomainName":                  {t: Printed, why: whyCustomDomain},
	"AWS::ApiGateway::DomainNameV2":                {t: Printed, why: whyCustomDomain},
	"AWS::ApiGateway::BasePathMapping":             {t: Printed, why: whyCustomDomain},
	"AWS::ApiGateway::BasePathMappingV2":           {t: Printed, why: whyCustomDomain},
	"AWS::ApiGateway::DomainNameAccessAssociation": {t: Printed, why: whyCustomDomain},
	// Outside API Gateway, but in front of it when associated with the stage
	// (API Gateway then answers 403 WAF_FILTERED).
	"AWS::WAFv2::WebACLAssociation": {t: Refused, why: "AWS WAF blocks requests before API Gateway and its rules are not evaluated",
		outside: func(r Resolver, res cfn.Resource) bool { return namesAPIGateway(r, res.Properties["ResourceArn"]) }},
}

// Notice is one line start-up prints about a setting the gateway warns of
// or does not serve.
type Notice struct {
	Treatment Treatment // Warned or Printed
	Text      string
}

// checkSettings applies apiGatewayTypes to every resource of an
// AWS::ApiGateway type (and the others the table lists): it returns the
// notices to print, and an error naming every refused or unknown setting.
func checkSettings(r Resolver) ([]Notice, error) {
	var notices []Notice
	var refusals []error
	for _, name := range slices.Sorted(maps.Keys(r.Template.Resources)) {
		res, _ := r.Template.Resource(name)
		rt, known := apiGatewayTypes[res.Type]
		if !known {
			if strings.HasPrefix(res.Type, "AWS::ApiGateway::") {
				refusals = append(refusals, fmt.Errorf("%s (%s): a resource type the local gateway does not know", name, res.Type))
			}
			continue
		}
		if rt.outside != nil && !rt.outside(r, res) {
			continue
		}
		where := name + " (" + res.Type + ")"
		if rt.props == nil {
			if n, err := outcome(where, "", rt.t, rt.why); err != nil {
				refusals = append(refusals, err)
			} else if n != nil {
				notices = append(notices, *n)
			}
			continue
		}
		n, errs := checkObject(r, where, "", res.Properties, rt.props)
		notices, refusals = append(notices, n...), append(refusals, errs...)
	}
	if len(refusals) > 0 {
		refusals = append(refusals, errors.New("the local gateway refuses what could make API Gateway refuse a request it cannot judge; internal/local/apigw/settings.go lists each setting and its treatment"))
	}
	return notices, errors.Join(refusals...)
}

func checkObject(r Resolver, where, prefix string, props map[string]any, table map[string]setting) ([]Notice, []error) {
	var notices []Notice
	var refusals []error
	for _, k := range slices.Sorted(maps.Keys(props)) {
		path := prefix + k
		s, ok := table[k]
		if !ok {
			refusals = append(refusals, fmt.Errorf("%s: %s: a setting the local gateway does not know", where, path))
			continue
		}
		n, errs := checkValue(r, where, path, props[k], s)
		notices, refusals = append(notices, n...), append(refusals, errs...)
	}
	return notices, refusals
}

func checkValue(r Resolver, where, path string, v any, s setting) ([]Notice, []error) {
	if s.sub != nil {
		var notices []Notice
		var refusals []error
		for _, item := range listOf(v) {
			obj, ok := item.(map[string]any)
			if !ok {
				refusals = append(refusals, fmt.Errorf("%s: %s: want an object", where, path))
				continue
			}
			n, errs := checkObject(r, where, path+".", obj, s.sub)
			notices, refusals = append(notices, n...), append(refusals, errs...)
		}
		return notices, refusals
	}
	t, why := s.t, s.why
	var notices []Notice
	var refusals []error
	if s.byValue != nil {
		for _, item := range listOf(v) {
			value, err := r.String(item)
			if err != nil {
				refusals = append(refusals, fmt.Errorf("%s: %s: %w", where, path, err))
				continue
			}
			t, why, ok := s.byValue(value)
			if !ok {
				t, why = Refused, "a value the local gateway does not know"
			}
			if n, err := outcome(where, path+" "+value, t, why); err != nil {
				refusals = append(refusals, err)
			} else if n != nil {
				notices = append(notices, *n)
			}
		}
		return notices, refusals
	}
	if n, err := outcome(where, path, t, why); err != nil {
		refusals = append(refusals, err)
	} else if n != nil {
		notices = append(notices, *n)
	}
	return notices, refusals
}

// namesAPIGateway reports whether v refers to an API Gateway resource of
// the template or is an API Gateway ARN (arn:…:apigateway:…). A value known
// only to a deployment that names nothing in the template (an imported
// ARN) may be the stage, so it counts.
func namesAPIGateway(r Resolver, v any) bool {
	refs := cfn.References(v)
	for _, ref := range refs {
		if res, ok := r.Template.Resource(ref.Target); ok && strings.HasPrefix(res.Type, "AWS::ApiGateway::") {
			return true
		}
	}
	s, err := r.String(v)
	if err != nil {
		return len(refs) == 0
	}
	return strings.Contains(s, ":apigateway:")
}

// listOf reads a list property as its items (a YAML list) and anything else
// as itself.
func listOf(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func outcome(where, what string, t Treatment, why string) (*Notice, error) {
	if what != "" {
		where += ": " + what
	}
	switch t {
	case Refused:
		return nil, fmt.Errorf("%s: %s", where, why)
	case Printed, Warned:
		return &Notice{Treatment: t, Text: where + ": " + why}, nil
	}
	return nil, nil
}
