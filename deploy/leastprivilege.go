package deploy

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/rolegate/rolegate/internal/cfn"
)

// The least-privilege rules of issue 16: what a group role, a user pool, an
// app client, a stage and a function may not leave open.

func (c *checker) groupRoleNoStar(report reporter) {
	for _, r := range c.groupRoleResources() {
		for _, od := range c.identityPolicies(r.Name) {
			for _, st := range statements(od.doc) {
				if st.Allow && (st.NotResource || slices.Contains(st.Resources, any("*"))) {
					report(od.owner, "group role %s is allowed %v on every resource; scope it to the data bucket (s3:ListAllMyBuckets on * lists every bucket of the account)", r.Name, st.Actions)
				}
			}
		}
	}
}

func (c *checker) userPoolEmailUpdates(report reporter) {
	for _, p := range c.t.ResourcesOfType("AWS::Cognito::UserPool") {
		s, _ := p.Properties["UserAttributeUpdateSettings"].(map[string]any)
		if !slices.Contains(cfn.List(s["AttributesRequireVerificationBeforeUpdate"]), any("email")) {
			report(p.Name, "UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate must list email: a changed address is otherwise used before it is verified")
		}
	}
}

// userWritable are the attributes an app client may let users change.
var userWritable = []string{"email", "name", "given_name", "family_name", "locale", "zoneinfo", "picture"}

func (c *checker) appClientAttributes(report reporter) {
	for _, cl := range c.t.ResourcesOfType("AWS::Cognito::UserPoolClient") {
		if len(cfn.List(cl.Properties["ReadAttributes"])) == 0 {
			report(cl.Name, "ReadAttributes must be listed: by default the client reads every attribute")
		}
		write := cfn.List(cl.Properties["WriteAttributes"])
		if len(write) == 0 {
			report(cl.Name, "WriteAttributes must be listed: by default users may write every writable attribute, custom ones included")
		}
		for _, a := range write {
			if s, ok := a.(string); !ok || !slices.Contains(userWritable, s) {
				report(cl.Name, "WriteAttributes lets users change %s; only %v", show(a), userWritable)
			}
		}
	}
}

func (c *checker) userPoolMfa(report reporter) {
	for _, p := range c.t.ResourcesOfType("AWS::Cognito::UserPool") {
		name, ok := cfn.RefTarget(p.Properties["MfaConfiguration"])
		param, isParam := c.t.Parameter(name)
		if !ok || !isParam || param.Default == "OFF" || param.Default == nil {
			report(p.Name, "MfaConfiguration must be !Ref a parameter whose default is OPTIONAL or ON, got %s", show(p.Properties["MfaConfiguration"]))
		}
		totp := false
		for _, b := range ifBranches([]any{p.Properties["EnabledMfas"]}) {
			totp = totp || slices.Contains(cfn.List(b), any("SOFTWARE_TOKEN_MFA"))
		}
		if !totp {
			report(p.Name, "EnabledMfas must list SOFTWARE_TOKEN_MFA when MFA is not OFF: Cognito refuses OPTIONAL or ON without an MFA type")
		}
	}
}

func (c *checker) stageAccessLog(report reporter) {
	for _, s := range c.t.ResourcesOfType("AWS::ApiGateway::Stage") {
		branches := ifBranches([]any{s.Properties["AccessLogSetting"]})
		if len(branches) == 0 || s.Properties["AccessLogSetting"] == nil {
			report(s.Name, "AccessLogSetting must be set (it may be conditional): without it no record says who called")
			continue
		}
		for _, b := range branches {
			m, _ := b.(map[string]any)
			if lg, attr, ok := cfn.GetAttTarget(m["DestinationArn"]); !ok || attr != "Arn" || !c.isType(lg, "AWS::Logs::LogGroup") {
				report(s.Name, "AccessLogSetting.DestinationArn must be !GetAtt <a log group of this template>.Arn, got %s", show(m["DestinationArn"]))
			}
			f, _ := m["Format"].(string)
			lower := strings.ToLower(f)
			switch {
			case !json.Valid([]byte(f)):
				report(s.Name, "AccessLogSetting.Format must be one JSON object, got %q", f)
			case !strings.Contains(f, "$context.requestId"):
				report(s.Name, "AccessLogSetting.Format must include $context.requestId (API Gateway requires it; the backend logs it as apiRequestId)")
			case strings.Contains(lower, "authorization") || strings.Contains(lower, "$input") || strings.Contains(lower, "header"):
				report(s.Name, "AccessLogSetting.Format must not log the Authorization header or other request headers: they carry the token")
			}
		}
	}
}

func (c *checker) reservedConcurrency(report reporter) {
	for _, f := range c.t.ResourcesOfType("AWS::Lambda::Function") {
		v := f.Properties["ReservedConcurrentExecutions"]
		ok := false
		for _, b := range ifBranches([]any{v}) {
			if name, isRef := cfn.RefTarget(b); isRef && c.isParameter(name) {
				ok = true
			}
		}
		if !ok {
			report(f.Name, "ReservedConcurrentExecutions must come from a parameter (!If on a condition, AWS::NoValue for unreserved), got %s", show(v))
		}
	}
}
