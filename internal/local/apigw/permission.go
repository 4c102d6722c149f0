package apigw

import (
	"fmt"
	"strings"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/cfn"
)

// API Gateway invokes a function only if the function's resource policy lets
// the apigateway.amazonaws.com principal do so for the calling method's ARN
// (an AWS::Lambda::Permission, its SourceArn pinning the API, stage, verb
// and resource path); otherwise the call fails and the client gets a 500
// (AWS Knowledge Center, "Invalid permissions on Lambda function" from a
// REST API: "Method completed with status: 500"). The local gateway
// invokes the functions directly, so a method no permission covers would be
// served locally and fail once deployed: it refuses to start instead.

// The stand-ins for a deployment's ids in the ARNs compared here.
const (
	apiToken        = "{api}"
	authorizerToken = "{authorizer}"
)

// checkPermissions refuses a route, or the authorizer, whose function no
// AWS::Lambda::Permission lets API Gateway invoke from it. One that API
// Gateway invokes as a role (Credentials) needs none; start-up prints it.
func (rd apiReader) checkPermissions(authorizer string) error {
	m := arn.Method{Partition: arn.PartitionOf(rd.r.Deployment.Region), Region: rd.r.Deployment.Region,
		AccountID: rd.r.Deployment.AccountID, APIID: apiToken, Stage: rd.a.Config.Stage}
	prefix := strings.TrimSuffix(m.StageARN(), "/"+m.Stage)
	if rd.a.AuthorizerFunction != "" && !rd.asRole[""] {
		if err := rd.permitted(rd.a.AuthorizerFunction, prefix+"/authorizers/"+authorizerToken); err != nil {
			return fmt.Errorf("authorizer %s: %w", authorizer, err)
		}
	}
	for _, route := range rd.a.Config.Routes {
		if rd.asRole[route.String()] {
			continue
		}
		m.Verb = route.Method
		if m.Verb == "ANY" {
			m.Verb = "*"
		}
		m.Resource = strings.TrimPrefix(route.Path, "/")
		if err := rd.permitted(rd.a.BackendFunction, m.String()); err != nil {
			return fmt.Errorf("route %s: %w", route, err)
		}
	}
	return nil
}

// permitted reports, as an error, when no permission of the template lets
// API Gateway invoke function fn for sourceArn.
func (rd apiReader) permitted(fn, sourceArn string) error {
	for _, p := range rd.r.Template.ResourcesOfType("AWS::Lambda::Permission") {
		if rd.functionIn(p.Properties["FunctionName"]) != fn {
			continue
		}
		principal, _ := rd.r.String(p.Properties["Principal"])
		action, _ := rd.r.String(p.Properties["Action"])
		if principal != "apigateway.amazonaws.com" || (action != "lambda:InvokeFunction" && action != "lambda:*") {
			continue
		}
		if v, ok := p.Properties["SourceAccount"]; ok {
			if acct, err := rd.r.String(v); err != nil || acct != rd.r.Deployment.AccountID {
				continue
			}
		}
		v, ok := p.Properties["SourceArn"]
		if !ok {
			return nil // any API Gateway API may invoke it
		}
		pattern, err := rd.sourceArn(v)
		if err != nil {
			return fmt.Errorf("permission %s SourceArn: %w", p.Name, err)
		}
		// Lambda compares SourceArn as ArnLike: * and ? wildcards.
		if wildcardMatch(pattern, sourceArn) {
			return nil
		}
	}
	return fmt.Errorf("no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke %s from %s, so API Gateway would answer 500", fn, sourceArn)
}

// sourceArn resolves a permission's SourceArn with the template's RestApi
// and Authorizer standing for the ids a deployment gives them.
func (rd apiReader) sourceArn(v any) (string, error) {
	s, vars, ok := cfn.SubString(v)
	if !ok || len(vars) != 0 {
		return rd.r.String(v)
	}
	for _, name := range cfn.SubVariables(s) {
		res, ok := rd.r.Template.Resource(name)
		switch {
		case ok && res.Type == "AWS::ApiGateway::RestApi":
			s = strings.ReplaceAll(s, "${"+name+"}", apiToken)
		case ok && res.Type == "AWS::ApiGateway::Authorizer":
			s = strings.ReplaceAll(s, "${"+name+"}", authorizerToken)
		}
	}
	return rd.r.String(map[string]any{"Fn::Sub": s})
}
