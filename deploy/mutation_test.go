package deploy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// mutation plants one mistake in template.yaml by replacing old, which must
// occur exactly once, with new: the kind of edit a person makes. want lists
// the findings that must catch it: project rules (Rule*) or cfn-lint rule ids.
type mutation struct {
	name     string
	old, new string
	want     []string
}

// Multi-line olds carry enough context to be unique; indentation matters.
var mutations = []mutation{
	// Lambda permissions
	{
		name: "backend permission without SourceArn",
		old:  "      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/whoami\"\n",
		new:  "",
		want: []string{RulePermissionSource, RulePermissionMissing},
	},
	{
		name: "authorizer permission without SourceAccount",
		old:  "      SourceAccount: !Ref AWS::AccountId\n      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers",
		new:  "      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers",
		want: []string{RulePermissionSource},
	},
	{
		name: "SourceArn for another API",
		old:  "${Api}/*/GET/whoami",
		new:  "a1b2c3d4e5/*/GET/whoami",
		want: []string{RulePermissionSource, RulePermissionMissing},
	},
	{
		name: "SourceArn for every route of the API",
		old:  "${Api}/*/GET/whoami",
		new:  "${Api}/*/*/*",
		want: []string{RulePermissionSource, RulePermissionMissing},
	},
	{
		name: "SourceArn for a route the API does not have",
		old:  "${Api}/*/GET/whoami",
		new:  "${Api}/*/POST/whoami",
		want: []string{RulePermissionSource, RulePermissionMissing},
	},
	{
		name: "authorizer permission scoped to the route instead of the authorizer",
		old:  "${Api}/authorizers/${Authorizer}",
		new:  "${Api}/*/GET/whoami",
		want: []string{RulePermissionSource, RulePermissionMissing},
	},
	{
		name: "permission for any principal's API",
		old:  "      FunctionName: !GetAtt BackendFunction.Arn\n      Principal: apigateway.amazonaws.com",
		new:  "      FunctionName: !GetAtt BackendFunction.Arn\n      Principal: \"*\"",
		want: []string{RulePermissionSource},
	},

	// Group roles
	{
		name: "group role trusting the authorizer's role",
		old:  "              AWS: !GetAtt BackendRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n      Policies:\n        - PolicyName: data-bucket-read-write",
		new:  "              AWS: !GetAtt AuthorizerRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n      Policies:\n        - PolicyName: data-bucket-read-write",
		want: []string{RuleGroupRoleTrust},
	},
	{
		name: "group role trusting everyone",
		old:  "              AWS: !GetAtt BackendRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n      Policies:\n        - PolicyName: data-bucket-read-shared",
		new:  "              AWS: \"*\"\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n      Policies:\n        - PolicyName: data-bucket-read-shared",
		want: []string{RuleGroupRoleTrust, RuleNoWildcardSTSIAM},
	},
	{
		name: "group role trusting the whole account",
		old:  "              AWS: !GetAtt BackendRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n      Policies:\n        - PolicyName: data-bucket-read-shared",
		new:  "              AWS: !Sub \"arn:${AWS::Partition}:iam::${AWS::AccountId}:root\"\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n      Policies:\n        - PolicyName: data-bucket-read-shared",
		want: []string{RuleGroupRoleTrust},
	},
	{
		name: "group role trusting a service as well",
		old:  "              AWS: !GetAtt BackendRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n      Policies:\n        - PolicyName: data-bucket-read-write",
		new:  "              AWS: !GetAtt BackendRole.Arn\n              Service: lambda.amazonaws.com\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n      Policies:\n        - PolicyName: data-bucket-read-write",
		want: []string{RuleGroupRoleTrust},
	},
	{
		name: "group role with a twelve-hour session",
		old:  "      Description: Assumed by the rolegate backend for members of the admins group.\n      MaxSessionDuration: 3600",
		new:  "      Description: Assumed by the rolegate backend for members of the admins group.\n      MaxSessionDuration: 43200",
		want: []string{RuleGroupRoleSession},
	},
	{
		name: "two groups with the same precedence",
		old:  "      Precedence: 10",
		new:  "      Precedence: 1",
		want: []string{RuleGroups},
	},

	// The backend's role and environment
	{
		name: "wildcard assume in the backend's policy",
		old:  "            Resource:\n              - !GetAtt AdminsRole.Arn\n              - !GetAtt ReadersRole.Arn\n",
		new:  "            Resource: \"*\"\n",
		want: []string{RuleBackendAssume, RuleNoWildcardSTSIAM},
	},
	{
		name: "backend may assume a role that is no group's",
		old:  "              - !GetAtt ReadersRole.Arn\n",
		new:  "              - !GetAtt ReadersRole.Arn\n              - !GetAtt AuthorizerRole.Arn\n",
		want: []string{RuleBackendAssume},
	},
	{
		name: "backend may not assume the readers role",
		old:  "              - !GetAtt AdminsRole.Arn\n              - !GetAtt ReadersRole.Arn\n",
		new:  "              - !GetAtt AdminsRole.Arn\n",
		want: []string{RuleBackendAssume},
	},
	{
		name: "backend allowed sts:* on the group roles",
		old:  "            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n            Resource:\n",
		new:  "            Action: \"sts:*\"\n            Resource:\n",
		want: []string{RuleBackendAssume, RuleNoWildcardSTSIAM},
	},
	{
		name: "ALLOWED_ROLE_ARNS left unset",
		old:  "          ALLOWED_ROLE_ARNS: !Join [\",\", [!GetAtt AdminsRole.Arn, !GetAtt ReadersRole.Arn]]\n",
		new:  "",
		want: []string{RuleBackendAllowedRoles},
	},
	{
		name: "ALLOWED_ROLE_ARNS missing a group role",
		old:  "ALLOWED_ROLE_ARNS: !Join [\",\", [!GetAtt AdminsRole.Arn, !GetAtt ReadersRole.Arn]]",
		new:  "ALLOWED_ROLE_ARNS: !Join [\",\", [!GetAtt AdminsRole.Arn]]",
		want: []string{RuleBackendAllowedRoles},
	},

	// The authorizer's role
	{
		name: "authorizer with an STS permission",
		old:  "                Resource: !GetAtt AuthorizerLogGroup.Arn\n",
		new:  "                Resource: !GetAtt AuthorizerLogGroup.Arn\n              - Effect: Allow\n                Action: sts:AssumeRole\n                Resource: !GetAtt AdminsRole.Arn\n",
		want: []string{RuleAuthorizerNoSTS, RuleExecutionRoleLogs},
	},
	{
		name: "authorizer writing the backend's logs",
		old:  "                Resource: !GetAtt AuthorizerLogGroup.Arn\n",
		new:  "                Resource: !GetAtt BackendLogGroup.Arn\n",
		want: []string{RuleExecutionRoleLogs},
	},
	{
		name: "authorizer role with a managed policy",
		old:  "      Description: rolegate authorizer; writes its own log group and nothing else.\n",
		new:  "      Description: rolegate authorizer; writes its own log group and nothing else.\n      ManagedPolicyArns:\n        - !Sub \"arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\"\n",
		want: []string{RuleExecutionRoleLogs},
	},
	{
		name: "authorizer environment naming the pool as the client",
		old:  "APP_CLIENT_IDS: !Ref UserPoolClient",
		new:  "APP_CLIENT_IDS: !Ref UserPool",
		want: []string{RuleAuthorizerEnv},
	},

	// Wildcards on IAM and STS anywhere
	{
		name: "iam:* on Resource *",
		old:  "                Action: s3:ListAllMyBuckets\n",
		new:  "                Action: [s3:ListAllMyBuckets, \"iam:*\"]\n",
		want: []string{RuleNoWildcardSTSIAM},
	},
	{
		name: "iam:PassRole on any role",
		old:  "                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/shared/*\"\n",
		new:  "                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/shared/*\"\n              - Effect: Allow\n                Action: iam:PassRole\n                Resource: \"*\"\n",
		want: []string{RuleNoWildcardSTSIAM},
	},
	{
		name: "NotAction that leaves STS and IAM allowed",
		old:  "                Action: s3:ListAllMyBuckets\n",
		new:  "                NotAction: s3:DeleteBucket\n",
		want: []string{RuleNoWildcardSTSIAM},
	},

	// The API
	{
		name: "proxy method with IntegrationHttpMethod GET",
		old:  "IntegrationHttpMethod: POST",
		new:  "IntegrationHttpMethod: GET",
		want: []string{RuleProxyPost},
	},
	{
		name: "deployment missing DependsOn on the method",
		old:  "      - WhoamiGet\n",
		new:  "",
		want: []string{RuleDeploymentDependsOn},
	},
	{
		name: "deployment missing DependsOn on the 401 response",
		old:  "      - UnauthorizedResponse\n",
		new:  "",
		want: []string{RuleDeploymentDependsOn},
	},
	{
		name: "method open to anyone",
		old:  "      AuthorizationType: CUSTOM\n      AuthorizerId: !Ref Authorizer\n",
		new:  "      AuthorizationType: NONE\n",
		want: []string{RuleMethodAuthorizer},
	},
	{
		name: "validation expression without anchors",
		old:  `'^([Bb][Ee][Aa][Rr][Ee][Rr] )?[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$'`,
		new:  `'([Bb][Ee][Aa][Rr][Ee][Rr] )?[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+'`,
		want: []string{RuleAuthorizerSettings},
	},
	{
		name: "validation expression refusing a lower-case bearer scheme",
		old:  `'^([Bb][Ee][Aa][Rr][Ee][Rr] )?`,
		new:  `'^(Bearer )?`,
		want: []string{RuleAuthorizerSettings},
	},
	{
		name: "authorizer cache TTL hard-coded",
		old:  "AuthorizerResultTtlInSeconds: !Ref AuthorizerCacheTtl",
		new:  "AuthorizerResultTtlInSeconds: 300",
		want: []string{RuleAuthorizerSettings},
	},
	{
		name: "401 gateway response answering 403",
		old:  "      StatusCode: \"401\"",
		new:  "      StatusCode: \"403\"",
		want: []string{RuleGatewayResponses},
	},
	{
		name: "stage without throttling",
		old:  "          ThrottlingRateLimit: !Ref ThrottlingRateLimit\n          ThrottlingBurstLimit: !Ref ThrottlingBurstLimit\n",
		new:  "          MetricsEnabled: true\n",
		want: []string{RuleStageThrottling},
	},

	// Logs and functions
	{
		name: "log group without retention",
		old:  "    UpdateReplacePolicy: Delete\n    Properties:\n      RetentionInDays: !Ref LogRetentionDays\n\n  AuthorizerFunction:",
		new:  "    UpdateReplacePolicy: Delete\n\n  AuthorizerFunction:",
		want: []string{RuleLogRetention},
	},
	{
		name: "function logging to a log group Lambda makes",
		old:  "        LogGroup: !Ref BackendLogGroup\n",
		new:  "",
		want: []string{RuleFunctionLogging, RuleExecutionRoleLogs},
	},
	{
		name: "function on x86_64",
		old:  "      Runtime: provided.al2023\n      Architectures: [arm64]\n      Handler: bootstrap\n      MemorySize: 128\n      Timeout: 10\n",
		new:  "      Runtime: provided.al2023\n      Architectures: [x86_64]\n      Handler: bootstrap\n      MemorySize: 128\n      Timeout: 10\n",
		want: []string{RuleFunctionRuntime},
	},

	// Mistakes cfn-lint catches on its own (and the project rules too, where they look)
	{
		name: "misspelled property",
		old:  "      IdentityValidationExpression:",
		new:  "      IdentityValidationExpresion:",
		want: []string{"E3002", RuleAuthorizerSettings},
	},
	{
		name: "missing Ref target",
		old:  "      AuthorizerId: !Ref Authorizer\n",
		new:  "      AuthorizerId: !Ref Authoriser\n",
		want: []string{"E1020", RuleReference},
	},
	{
		name: "missing Sub target",
		old:  "${BackendFunction.Arn}/invocations",
		new:  "${BackendFunc.Arn}/invocations",
		want: []string{"E1019", RuleReference},
	},
	{
		name: "misspelled runtime",
		old:  "      Runtime: provided.al2023\n      Architectures: [arm64]\n      Handler: bootstrap\n      MemorySize: 128\n      Timeout: 10\n",
		new:  "      Runtime: provided.al2032\n      Architectures: [arm64]\n      Handler: bootstrap\n      MemorySize: 128\n      Timeout: 10\n",
		want: []string{"E3030", RuleFunctionRuntime},
	},
	{
		name: "backend policy inlined into the backend role (circular dependency)",
		old:  "      Description: rolegate backend; writes its own log group and assumes the group roles.\n",
		new:  "      Description: !Sub \"rolegate backend; assumes ${AdminsRole.Arn}\"\n",
		want: []string{"E3004"},
	},
}

var cfnLintRuleID = regexp.MustCompile(`^[EWI][0-9]{4}$`)

// TestMutationsAreCaught plants each mistake in a copy of the template and
// requires the expected findings: the checks are only worth having if they
// fail when the template is wrong.
func TestMutationsAreCaught(t *testing.T) {
	t.Parallel()
	clean := string(readTemplate(t))
	dir := t.TempDir()
	goFindings := make([][]string, len(mutations))
	files := map[int]string{}
	for i, m := range mutations {
		if n := strings.Count(clean, m.old); n != 1 {
			t.Fatalf("mutation %q: its text occurs %d times in template.yaml, want once; update the mutation with the template", m.name, n)
		}
		mutated := strings.Replace(clean, m.old, m.new, 1)
		tmpl, err := ParseTemplate([]byte(mutated))
		if err != nil {
			t.Fatalf("mutation %q: %v", m.name, err)
		}
		for _, f := range Check(tmpl) {
			goFindings[i] = append(goFindings[i], f.String())
		}
		if slices.ContainsFunc(m.want, cfnLintRuleID.MatchString) {
			files[i] = writePackaged(t, []byte(mutated), dir, fmt.Sprintf("mutation-%02d.yaml", i))
		}
	}
	lint := cfnLint(t, slicesOfValues(files)...)

	for i, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			got := goFindings[i]
			for _, f := range lint[files[i]] {
				got = append(got, f.Rule.Id+" "+f.String())
			}
			for _, w := range m.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w+" ") }) {
					t.Errorf("want a %s finding; got:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
		})
	}
}

func slicesOfValues(m map[int]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// TestEveryRuleBites makes sure no project rule goes untested: each must be
// the expected finding of at least one mutation.
func TestEveryRuleBites(t *testing.T) {
	rules := []string{
		RuleReference, RulePermissionSource, RulePermissionMissing, RuleProxyPost,
		RuleMethodAuthorizer, RuleDeploymentDependsOn, RuleStageThrottling,
		RuleGatewayResponses, RuleAuthorizerSettings, RuleGroups, RuleGroupRoleTrust,
		RuleGroupRoleSession, RuleBackendAssume, RuleBackendAllowedRoles,
		RuleAuthorizerNoSTS, RuleExecutionRoleLogs, RuleNoWildcardSTSIAM,
		RuleLogRetention, RuleFunctionLogging, RuleFunctionRuntime, RuleAuthorizerEnv,
	}
	for _, r := range rules {
		if !slices.ContainsFunc(mutations, func(m mutation) bool { return slices.Contains(m.want, r) }) {
			t.Errorf("no mutation expects a %s finding", r)
		}
	}
}

// TestTemplatePassesProjectRules is the clean half of the mutation test.
func TestTemplatePassesProjectRules(t *testing.T) {
	tmpl, err := ParseTemplate(readTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Check(tmpl) {
		t.Error(f)
	}
}
