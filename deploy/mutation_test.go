package deploy

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/cfn"
	"github.com/rolegate/rolegate/internal/local/proc"
)

// mutation plants one mistake in template.yaml by replacing old, which must
// occur exactly once, with new: the kind of edit a person makes. want lists
// the findings that must catch it: project rule ids or cfn-lint rule ids.
type mutation struct {
	name     string
	old, new string
	want     []string
}

// readersTrust is the readers role's trust policy up to its Action.
const readersTrust = "members of the readers group.\n      MaxSessionDuration: 3600\n      AssumeRolePolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n            Principal:\n              AWS: !GetAtt BackendRole.Arn\n"

// trustCondition is a group role's trust condition: only for a named user.
const trustCondition = "            Condition:\n              StringEquals:\n                sts:SourceIdentity: \"${aws:RequestTag/sub}\"\n              ForAllValues:StringEquals:\n                aws:TagKeys: [sub, username]\n"

// Multi-line olds carry enough context to be unique; indentation matters.
var mutations = []mutation{
	// Lambda permissions
	{
		name: "backend permission without SourceArn",
		old:  "      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/whoami\"\n",
		new:  "",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},
	{
		name: "authorizer permission with SourceAccount, which API Gateway may not send",
		old:  "      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers",
		new:  "      SourceAccount: !Ref AWS::AccountId\n      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers",
		want: []string{"lambda-permission-source"},
	},
	{
		name: "SourceArn for another API",
		old:  "${Api}/*/GET/whoami",
		new:  "a1b2c3d4e5/*/GET/whoami",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},
	{
		name: "SourceArn for every route of the API",
		old:  "${Api}/*/GET/whoami",
		new:  "${Api}/*/*/*",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},
	{
		name: "SourceArn for a route the API does not have",
		old:  "${Api}/*/GET/whoami",
		new:  "${Api}/*/POST/whoami",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},
	{
		name: "authorizer permission scoped to the route instead of the authorizer",
		old:  "${Api}/authorizers/${Authorizer}",
		new:  "${Api}/*/GET/whoami",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},
	{
		name: "permission for any principal's API",
		old:  "      FunctionName: !GetAtt BackendFunction.Arn\n      Principal: apigateway.amazonaws.com\n      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/whoami\"",
		new:  "      FunctionName: !GetAtt BackendFunction.Arn\n      Principal: \"*\"\n      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/whoami\"",
		want: []string{"lambda-permission-source"},
	},
	{
		name: "file permission naming {name} literally, which no request's SourceArn has",
		old:  "${Api}/*/PUT/files/*",
		new:  "${Api}/*/PUT/files/{name}",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},
	{
		name: "file permission with a wildcard for a literal segment",
		old:  "${Api}/*/DELETE/files/*",
		new:  "${Api}/*/DELETE/*/*",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},
	{
		name: "a file method without its permission",
		old:  "      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/files/*\"\n",
		new:  "",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},

	// The files routes
	{
		name: "deployment that does not wait for a file method",
		old:  "      - FilePut\n",
		new:  "",
		want: []string{"deployment-depends-on-methods"},
	},
	{
		name: "DATA_BUCKET naming a bucket outside the stack",
		old:  "DATA_BUCKET: !Ref DataBucket",
		new:  "DATA_BUCKET: my-team-bucket",
		want: []string{"backend-data-bucket"},
	},
	{
		name: "API without binary media types, mangling file bodies",
		old:  "      BinaryMediaTypes: [\"*/*\"]\n",
		new:  "",
		want: []string{"backend-data-bucket"},
	},
	{
		name: "API treating only images as binary",
		old:  "      BinaryMediaTypes: [\"*/*\"]\n",
		new:  "      BinaryMediaTypes: [\"image/png\"]\n",
		want: []string{"backend-data-bucket"},
	},

	// Group roles
	{
		name: "group role trusting the authorizer's role",
		old:  "              AWS: !GetAtt BackendRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n" + trustCondition + "      Policies:\n        - PolicyName: data-bucket-admins",
		new:  "              AWS: !GetAtt AuthorizerRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n" + trustCondition + "      Policies:\n        - PolicyName: data-bucket-admins",
		want: []string{"group-role-trust"},
	},
	{
		name: "group role trusting everyone",
		old:  "              AWS: !GetAtt BackendRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n" + trustCondition + "      Policies:\n        - PolicyName: data-bucket-readers",
		new:  "              AWS: \"*\"\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n" + trustCondition + "      Policies:\n        - PolicyName: data-bucket-readers",
		want: []string{"group-role-trust", "no-wildcard-sts-iam"},
	},
	{
		name: "group role trusting the whole account",
		old:  "              AWS: !GetAtt BackendRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n" + trustCondition + "      Policies:\n        - PolicyName: data-bucket-readers",
		new:  "              AWS: !Sub \"arn:${AWS::Partition}:iam::${AWS::AccountId}:root\"\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n" + trustCondition + "      Policies:\n        - PolicyName: data-bucket-readers",
		want: []string{"group-role-trust"},
	},
	{
		name: "group role trusting a service as well",
		old:  "              AWS: !GetAtt BackendRole.Arn\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n" + trustCondition + "      Policies:\n        - PolicyName: data-bucket-admins",
		new:  "              AWS: !GetAtt BackendRole.Arn\n              Service: lambda.amazonaws.com\n            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n" + trustCondition + "      Policies:\n        - PolicyName: data-bucket-admins",
		want: []string{"group-role-trust"},
	},
	{
		name: "group role with a twelve-hour session",
		old:  "      Description: Assumed by the rolegate backend for members of the admins group.\n      MaxSessionDuration: 3600",
		new:  "      Description: Assumed by the rolegate backend for members of the admins group.\n      MaxSessionDuration: 43200",
		want: []string{"group-role-session"},
	},
	{
		name: "two groups with the same precedence",
		old:  "      Precedence: 10",
		new:  "      Precedence: 1",
		want: []string{"cognito-groups"},
	},

	// The backend's role and environment
	{
		name: "wildcard assume in the backend's policy",
		old:  "            Resource:\n              - !GetAtt AdminsRole.Arn\n              - !GetAtt ReadersRole.Arn\n",
		new:  "            Resource: \"*\"\n",
		want: []string{"backend-assumes-exactly-group-roles", "no-wildcard-sts-iam"},
	},
	{
		name: "backend may assume a role that is no group's",
		old:  "              - !GetAtt ReadersRole.Arn\n",
		new:  "              - !GetAtt ReadersRole.Arn\n              - !GetAtt AuthorizerRole.Arn\n",
		want: []string{"backend-assumes-exactly-group-roles"},
	},
	{
		name: "backend may not assume the readers role",
		old:  "              - !GetAtt AdminsRole.Arn\n              - !GetAtt ReadersRole.Arn\n",
		new:  "              - !GetAtt AdminsRole.Arn\n",
		want: []string{"backend-assumes-exactly-group-roles"},
	},
	{
		name: "backend allowed sts:* on the group roles",
		old:  "            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n            Resource:\n",
		new:  "            Action: \"sts:*\"\n            Resource:\n",
		want: []string{"backend-assumes-exactly-group-roles", "no-wildcard-sts-iam"},
	},
	{
		name: "ALLOWED_ROLE_ARNS left unset",
		old:  "          ALLOWED_ROLE_ARNS: !Join [\",\", [!GetAtt AdminsRole.Arn, !GetAtt ReadersRole.Arn]]\n",
		new:  "",
		want: []string{"backend-environment"},
	},
	{
		name: "ALLOWED_ROLE_ARNS missing a group role",
		old:  "ALLOWED_ROLE_ARNS: !Join [\",\", [!GetAtt AdminsRole.Arn, !GetAtt ReadersRole.Arn]]",
		new:  "ALLOWED_ROLE_ARNS: !Join [\",\", [!GetAtt AdminsRole.Arn]]",
		want: []string{"backend-environment"},
	},

	// The authorizer's role
	{
		name: "authorizer with an STS permission",
		old:  "                Resource: !GetAtt AuthorizerLogGroup.Arn\n",
		new:  "                Resource: !GetAtt AuthorizerLogGroup.Arn\n              - Effect: Allow\n                Action: sts:AssumeRole\n                Resource: !GetAtt AdminsRole.Arn\n",
		want: []string{"authorizer-no-sts", "execution-role-least-privilege"},
	},
	{
		name: "authorizer writing the backend's logs",
		old:  "                Resource: !GetAtt AuthorizerLogGroup.Arn\n",
		new:  "                Resource: !GetAtt BackendLogGroup.Arn\n",
		want: []string{"execution-role-least-privilege"},
	},
	{
		name: "authorizer role with a managed policy",
		old:  "      Description: rolegate authorizer; writes its own log group and X-Ray traces, nothing else.\n",
		new:  "      Description: rolegate authorizer; writes its own log group and X-Ray traces, nothing else.\n      ManagedPolicyArns:\n        - !Sub \"arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\"\n",
		want: []string{"execution-role-least-privilege"},
	},
	{
		name: "authorizer environment naming the pool as the client",
		old:  "!Ref UserPoolClient, !Ref ExtraAppClientIds]], !Ref UserPoolClient]",
		new:  "!Ref UserPoolClient, !Ref ExtraAppClientIds]], !Ref UserPool]",
		want: []string{"authorizer-environment"},
	},
	{
		name: "authorizer environment listing the existing pools before this stack's",
		old:  "!Join [\",\", [!Ref UserPool, !Ref ExtraUserPoolIds]]",
		new:  "!Join [\",\", [!Ref ExtraUserPoolIds, !Ref UserPool]]",
		want: []string{"authorizer-environment"},
	},

	// Wildcards on IAM and STS anywhere
	{
		name: "iam:* on Resource *",
		old:  "                Resource: !GetAtt AuthorizerLogGroup.Arn\n              - Effect: Allow\n                Action: [xray:PutTraceSegments, xray:PutTelemetryRecords]\n",
		new:  "                Resource: !GetAtt AuthorizerLogGroup.Arn\n              - Effect: Allow\n                Action: [xray:PutTraceSegments, xray:PutTelemetryRecords, \"iam:*\"]\n",
		want: []string{"no-wildcard-sts-iam"},
	},
	{
		name: "iam:PassRole on any role",
		old:  "                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/shared/*\"\n",
		new:  "                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/shared/*\"\n              - Effect: Allow\n                Action: iam:PassRole\n                Resource: \"*\"\n",
		want: []string{"no-wildcard-sts-iam"},
	},
	{
		name: "NotAction that leaves STS and IAM allowed",
		old:  "                Action: s3:ListBucket\n                Resource: !GetAtt DataBucket.Arn\n              - Effect: Allow\n                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/*\"\n",
		new:  "                NotAction: s3:DeleteBucket\n                Resource: \"*\"\n              - Effect: Allow\n                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/*\"\n",
		want: []string{"no-wildcard-sts-iam"},
	},

	// The API
	{
		name: "proxy method with IntegrationHttpMethod GET",
		old:  "whatever the client's method.\n        IntegrationHttpMethod: POST",
		new:  "whatever the client's method.\n        IntegrationHttpMethod: GET",
		want: []string{"proxy-integration-post"},
	},
	{
		name: "deployment missing DependsOn on the method",
		old:  "      - WhoamiGet\n",
		new:  "",
		want: []string{"deployment-depends-on-methods"},
	},
	{
		name: "deployment missing DependsOn on the 401 response",
		old:  "      - UnauthorizedResponse\n",
		new:  "",
		want: []string{"deployment-depends-on-methods"},
	},
	{
		name: "method open to anyone",
		old:  "      HttpMethod: GET\n      AuthorizationType: CUSTOM\n      AuthorizerId: !Ref Authorizer\n      Integration:\n        Type: AWS_PROXY\n        # Lambda",
		new:  "      HttpMethod: GET\n      AuthorizationType: NONE\n      Integration:\n        Type: AWS_PROXY\n        # Lambda",
		want: []string{"method-custom-authorizer"},
	},
	{
		name: "validation expression without anchors",
		old:  `'^([Bb][Ee][Aa][Rr][Ee][Rr] )?[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$'`,
		new:  `'([Bb][Ee][Aa][Rr][Ee][Rr] )?[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+'`,
		want: []string{"authorizer-settings"},
	},
	{
		name: "validation expression refusing a lower-case bearer scheme",
		old:  `'^([Bb][Ee][Aa][Rr][Ee][Rr] )?`,
		new:  `'^(Bearer )?`,
		want: []string{"authorizer-settings"},
	},
	{
		name: "authorizer cache TTL hard-coded",
		old:  "AuthorizerResultTtlInSeconds: !Ref AuthorizerCacheTtl",
		new:  "AuthorizerResultTtlInSeconds: 300",
		want: []string{"authorizer-settings"},
	},
	{
		name: "401 gateway response answering 403",
		old:  "      StatusCode: \"401\"",
		new:  "      StatusCode: \"403\"",
		want: []string{"gateway-responses-json"},
	},
	{
		name: "stage without throttling",
		old:  "          ThrottlingRateLimit: !Ref ThrottlingRateLimit\n          ThrottlingBurstLimit: !Ref ThrottlingBurstLimit\n",
		new:  "          MetricsEnabled: true\n",
		want: []string{"stage-settings"},
	},

	// Logs and functions
	{
		name: "log group without retention",
		old:  "    Properties:\n      RetentionInDays: !Ref LogRetentionDays\n      KmsKeyId: !If [HasLogsKey, !Ref LogsKmsKeyArn, !Ref AWS::NoValue]\n\n  AuthorizerFunction:",
		new:  "    Properties:\n      KmsKeyId: !If [HasLogsKey, !Ref LogsKmsKeyArn, !Ref AWS::NoValue]\n\n  AuthorizerFunction:",
		want: []string{"log-group-retention"},
	},
	{
		name: "function logging to a log group Lambda makes",
		old:  "        LogGroup: !Ref BackendLogGroup\n",
		new:  "",
		want: []string{"function-json-logs-own-group", "execution-role-least-privilege"},
	},
	{
		name: "function on x86_64",
		old:  "      Runtime: provided.al2023\n      Architectures: [arm64]\n      Handler: bootstrap\n      MemorySize: 128\n      Timeout: 10\n",
		new:  "      Runtime: provided.al2023\n      Architectures: [x86_64]\n      Handler: bootstrap\n      MemorySize: 128\n      Timeout: 10\n",
		want: []string{"function-runtime"},
	},

	// Mistakes cfn-lint catches on its own (and the project rules too, where they look)
	{
		name: "misspelled property",
		old:  "      IdentityValidationExpression:",
		new:  "      IdentityValidationExpresion:",
		want: []string{"E3002", "authorizer-settings"},
	},
	{
		name: "missing Ref target",
		old:  "      HttpMethod: GET\n      AuthorizationType: CUSTOM\n      AuthorizerId: !Ref Authorizer\n      Integration:\n        Type: AWS_PROXY\n        # Lambda",
		new:  "      HttpMethod: GET\n      AuthorizationType: CUSTOM\n      AuthorizerId: !Ref Authoriser\n      Integration:\n        Type: AWS_PROXY\n        # Lambda",
		want: []string{"E1020", "reference-target-exists"},
	},
	{
		name: "missing Sub target",
		old:  "whatever the client's method.\n        IntegrationHttpMethod: POST\n        Uri: !Sub \"arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${BackendFunction.Arn}/invocations",
		new:  "whatever the client's method.\n        IntegrationHttpMethod: POST\n        Uri: !Sub \"arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${BackendFunc.Arn}/invocations",
		want: []string{"E1019", "reference-target-exists"},
	},
	{
		name: "misspelled runtime",
		old:  "      Runtime: provided.al2023\n      Architectures: [arm64]\n      Handler: bootstrap\n      MemorySize: 128\n      Timeout: 10\n",
		new:  "      Runtime: provided.al2032\n      Architectures: [arm64]\n      Handler: bootstrap\n      MemorySize: 128\n      Timeout: 10\n",
		want: []string{"E3030", "function-runtime"},
	},
	{
		name: "backend policy inlined into the backend role (circular dependency)",
		old:  "      Description: rolegate backend; writes its own log group and X-Ray traces, assumes the group roles.\n",
		new:  "      Description: !Sub \"rolegate backend; assumes ${AdminsRole.Arn}\"\n",
		want: []string{"E3004"},
	},
	// Issue 10: a real account
	{
		name: "role name without the region clashes across regions",
		old:  `RoleName: !Sub "${AWS::StackName}-${AWS::Region}-admins"`,
		new:  `RoleName: !Sub "${AWS::StackName}-admins"`,
		want: []string{"role-name-region-safe"},
	},
	{
		name: "cache TTL as a Number parameter accepts 1.5",
		old:  "  AuthorizerCacheTtl:\n    Type: String\n    Default: \"300\"\n",
		new:  "  AuthorizerCacheTtl:\n    Type: Number\n    Default: 300\n    MinValue: 0\n    MaxValue: 3600\n",
		want: []string{"integer-parameters"},
	},
	{
		name: "rate limit pattern accepting decimals",
		old:  "    Default: \"50\"\n    AllowedPattern: \"^[1-9][0-9]{0,5}$\"\n",
		new:  "    Default: \"50\"\n    AllowedPattern: \"^[0-9.]+$\"\n",
		want: []string{"integer-parameters"},
	},
	{
		name: "burst limit without a ConstraintDescription",
		old:  "    ConstraintDescription: must be a whole number of requests from 1 to 999999.\n",
		new:  "",
		want: []string{"integer-parameters"},
	},
	{
		name: "user pool tier left to Cognito's default",
		old:  "      UserPoolTier: !Ref UserPoolTier\n",
		new:  "",
		want: []string{"user-pool-settings"},
	},
	{
		name: "deletion protection hard-coded, so a failed first create cannot roll back",
		old:  "      DeletionProtection: !Ref UserPoolDeletionProtection\n",
		new:  "      DeletionProtection: ACTIVE\n",
		want: []string{"user-pool-settings"},
	},
	{
		name: "function without X-Ray tracing",
		old:  "      TracingConfig:\n        Mode: Active\n      LoggingConfig:\n        LogFormat: JSON\n        LogGroup: !Ref AuthorizerLogGroup\n",
		new:  "      LoggingConfig:\n        LogFormat: JSON\n        LogGroup: !Ref AuthorizerLogGroup\n",
		want: []string{"function-runtime"},
	},
	{
		name: "X-Ray permission widened to S3",
		old:  "                Resource: !GetAtt BackendLogGroup.Arn\n              - Effect: Allow\n                Action: [xray:PutTraceSegments, xray:PutTelemetryRecords]\n",
		new:  "                Resource: !GetAtt BackendLogGroup.Arn\n              - Effect: Allow\n                Action: [xray:PutTraceSegments, xray:PutTelemetryRecords, s3:GetObject]\n",
		want: []string{"execution-role-least-privilege"},
	},

	// Issue 8: memory
	{
		name: "authorizer without GOMEMLIMIT",
		old:  "          # the runtime the rest, so Lambda does not kill the function.\n          GOMEMLIMIT: 110MiB\n",
		new:  "          # the runtime the rest, so Lambda does not kill the function.\n",
		want: []string{"function-memory-limit"},
	},
	{
		name: "GOMEMLIMIT above MemorySize",
		old:  "          METRICS_NAMESPACE: !Ref MetricsNamespace\n          GOMEMLIMIT: 110MiB\n",
		new:  "          METRICS_NAMESPACE: !Ref MetricsNamespace\n          GOMEMLIMIT: 256MiB\n",
		want: []string{"function-memory-limit"},
	},

	// Issue 11: session tags and each user's prefix
	{
		name: "group role trust without sts:TagSession",
		old:  readersTrust + "            Action: [sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity]\n",
		new:  readersTrust + "            Action: [sts:AssumeRole, sts:SetSourceIdentity]\n",
		want: []string{"group-role-trust"},
	},
	{
		name: "readers cannot write their own prefix",
		old:  "                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/shared/*\"\n              - Effect: Allow\n                Action: [s3:GetObject, s3:PutObject, s3:DeleteObject]\n",
		new:  "                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/shared/*\"\n              - Effect: Allow\n                Action: [s3:GetObject]\n",
		want: []string{"group-role-own-prefix"},
	},
	{
		name: "admins may write every user's prefix",
		old:  "                Action: [s3:PutObject, s3:DeleteObject]\n                Resource: !Sub \"${DataBucket.Arn}/shared/*\"\n",
		new:  "                Action: [s3:PutObject, s3:DeleteObject]\n                Resource: !Sub \"${DataBucket.Arn}/*\"\n",
		want: []string{"group-role-own-prefix"},
	},
	{
		name: "the policy variable read as a template variable",
		old:  "                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/shared/*\"\n              - Effect: Allow\n                Action: [s3:GetObject, s3:PutObject, s3:DeleteObject]\n                Resource: !Sub \"${DataBucket.Arn}/users/${!aws:PrincipalTag/sub}/*\"\n",
		new:  "                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/shared/*\"\n              - Effect: Allow\n                Action: [s3:GetObject, s3:PutObject, s3:DeleteObject]\n                Resource: !Sub \"${DataBucket.Arn}/users/${aws:PrincipalTag/sub}/*\"\n",
		want: []string{"E1019", "reference-target-exists", "group-role-own-prefix"},
	},
	{
		name: "REST backend told to trust JWT claims behind rolegate's authorizer",
		old:  "          SESSION_TAGS: \"true\"\n",
		new:  "          SESSION_TAGS: \"true\"\n          ROLE_SOURCE: jwt\n",
		want: []string{"backend-role-source"},
	},
	{
		name: "SESSION_TAGS left unset",
		old:  "          SESSION_TAGS: \"true\"\n",
		new:  "",
		want: []string{"backend-environment"},
	},

	// Issue 16: the group roles' trust names the user
	{
		name: "group role trust without a condition: the backend's credentials assume it for no one in particular",
		old:  trustCondition + "      Policies:\n        - PolicyName: data-bucket-admins",
		new:  "      Policies:\n        - PolicyName: data-bucket-admins",
		want: []string{"group-role-trust"},
	},
	{
		name: "group role trust with SourceIdentity set but not tied to the sub tag",
		old:  "                sts:SourceIdentity: \"${aws:RequestTag/sub}\"\n              ForAllValues:StringEquals:\n                aws:TagKeys: [sub, username]\n      Policies:\n        - PolicyName: data-bucket-readers",
		new:  "                sts:SourceIdentity: \"${aws:RequestTag/username}\"\n              ForAllValues:StringEquals:\n                aws:TagKeys: [sub, username]\n      Policies:\n        - PolicyName: data-bucket-readers",
		want: []string{"group-role-trust"},
	},
	{
		name: "group role trust letting the backend set a tag key rolegate never sets",
		old:  "                aws:TagKeys: [sub, username]\n      Policies:\n        - PolicyName: data-bucket-admins",
		new:  "                aws:TagKeys: [sub, username, team]\n      Policies:\n        - PolicyName: data-bucket-admins",
		want: []string{"group-role-trust"},
	},
	{
		name: "group role trust limiting tag keys with ForAnyValue, which lets any other key through",
		old:  "              ForAllValues:StringEquals:\n                aws:TagKeys: [sub, username]\n      Policies:\n        - PolicyName: data-bucket-readers",
		new:  "              ForAnyValue:StringEquals:\n                aws:TagKeys: [sub, username]\n      Policies:\n        - PolicyName: data-bucket-readers",
		want: []string{"group-role-trust"},
	},

	// Issue 16: least privilege
	{
		name: "admins listing every bucket of the account again",
		old:  "            Statement:\n              - Effect: Allow\n                Action: s3:ListBucket\n                Resource: !GetAtt DataBucket.Arn\n              - Effect: Allow\n                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/*\"\n",
		new:  "            Statement:\n              - Effect: Allow\n                Action: s3:ListAllMyBuckets\n                Resource: \"*\"\n              - Effect: Allow\n                Action: s3:ListBucket\n                Resource: !GetAtt DataBucket.Arn\n              - Effect: Allow\n                Action: s3:GetObject\n                Resource: !Sub \"${DataBucket.Arn}/*\"\n",
		want: []string{"group-role-no-star-resource"},
	},
	{
		name: "a changed email used before it is verified",
		old:  "      UserAttributeUpdateSettings:\n        AttributesRequireVerificationBeforeUpdate: [email]\n",
		new:  "",
		want: []string{"user-pool-email-update-verified"},
	},
	{
		name: "app client with Cognito's default attributes",
		old:  "      ReadAttributes: [email, email_verified]\n      WriteAttributes: [email]\n",
		new:  "",
		want: []string{"app-client-attributes"},
	},
	{
		name: "users may mark their own email verified",
		old:  "      WriteAttributes: [email]\n",
		new:  "      WriteAttributes: [email, email_verified]\n",
		want: []string{"app-client-attributes"},
	},
	{
		name: "MFA hard-coded off",
		old:  "      MfaConfiguration: !Ref Mfa\n",
		new:  "      MfaConfiguration: \"OFF\"\n",
		want: []string{"user-pool-mfa"},
	},
	{
		name: "optional MFA without an MFA type, which Cognito refuses",
		old:  "      EnabledMfas: !If [MfaOff, !Ref AWS::NoValue, [SOFTWARE_TOKEN_MFA]]\n",
		new:  "",
		want: []string{"user-pool-mfa"},
	},
	{
		name: "stage without an access log",
		old:  "      AccessLogSetting: !If\n",
		new:  "      Variables: !If\n",
		want: []string{"stage-access-log"},
	},
	{
		name: "access log that records the Authorization header",
		old:  `"errorType":"$context.error.responseType"}'`,
		new:  `"errorType":"$context.error.responseType","authorization":"$method.request.header.Authorization"}'`,
		want: []string{"stage-access-log"},
	},
	{
		name: "access log in Common Log Format instead of JSON",
		old:  `Format: '{"requestId":"$context.requestId",`,
		new:  `Format: '$context.identity.sourceIp [$context.requestTime] $context.requestId {"requestId":"$context.requestId",`,
		want: []string{"stage-access-log"},
	},
	{
		name: "backend concurrency reserved by a hard-coded number",
		old:  "      ReservedConcurrentExecutions: !If [ReserveBackend, !Ref BackendReservedConcurrency, !Ref AWS::NoValue]\n",
		new:  "      ReservedConcurrentExecutions: 100\n",
		want: []string{"function-reserved-concurrency"},
	},
	{
		name: "authorizer without a concurrency setting",
		old:  "      ReservedConcurrentExecutions: !If [ReserveAuthorizer, !Ref AuthorizerReservedConcurrency, !Ref AWS::NoValue]\n",
		new:  "",
		want: []string{"function-reserved-concurrency"},
	},

	// Issue 12: metrics and alarms
	{
		name: "authorizer without METRICS_NAMESPACE",
		old:  "          JWKS_URL: !Ref JwksUrls\n          METRICS_NAMESPACE: !Ref MetricsNamespace\n",
		new:  "          JWKS_URL: !Ref JwksUrls\n",
		want: []string{"function-metrics-namespace", "alarms"},
	},
	{
		name: "no alarm on throttled requests",
		old:  "          Value: throttled\n",
		new:  "          Value: throttle\n",
		want: []string{"alarms"},
	},
	{
		name: "alarm watching a hard-coded namespace",
		old:  "callers got 502. See docs/operate.md.\n      Namespace: !Ref MetricsNamespace\n",
		new:  "callers got 502. See docs/operate.md.\n      Namespace: rolegate\n",
		want: []string{"alarms"},
	},
	{
		name: "alarm that fires when there is no traffic",
		old:  "      Threshold: !Ref UnauthorizedAlarmThreshold\n      ComparisonOperator: GreaterThanThreshold\n      TreatMissingData: notBreaching\n",
		new:  "      Threshold: !Ref UnauthorizedAlarmThreshold\n      ComparisonOperator: GreaterThanThreshold\n      TreatMissingData: breaching\n",
		want: []string{"alarms"},
	},

	{
		name: "dashboard body that is not JSON",
		old:  "              [\"...\", \"deny\"], [\"...\", \"unauthorized\"], [\"...\", \"error\"]]}},\n",
		new:  "              [\"...\", \"deny\"], [\"...\", \"unauthorized\"], [\"...\", \"error\"]]}\n",
		want: []string{"dashboard"},
	},

	// Issue 13: the stage the local gateway reads
	{
		name: "stage name hard-coded",
		old:  "      StageName: !Ref StageName\n",
		new:  "      StageName: prod\n",
		want: []string{"stage-settings"},
	},
	{
		name: "stage without X-Ray tracing",
		old:  "      TracingEnabled: true\n",
		new:  "",
		want: []string{"stage-settings"},
	},
}

var cfnLintRuleID = regexp.MustCompile(`^[EWI][0-9]{4}$`)

// TestMutationsAreCaught plants each mistake in a copy of the template and
// requires the expected findings: the checks are only worth having if they
// fail when the template is wrong. Under -short without cfn-lint, only the
// project rules' findings are required.
func TestMutationsAreCaught(t *testing.T) {
	t.Parallel()
	for file, list := range map[string][]mutation{"template.yaml": mutations, "http-api.yaml": httpMutations} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			checkMutations(t, file, string(b), list)
		})
	}
}

func checkMutations(t *testing.T, file, clean string, mutations []mutation) {
	dir := t.TempDir()
	got := make([][]string, len(mutations))
	files := map[string]int{}
	for i, m := range mutations {
		if n := strings.Count(clean, m.old); n != 1 {
			t.Fatalf("mutation %q: its text occurs %d times in %s, want once; update the mutation with the template", m.name, n, file)
		}
		mutated := strings.Replace(clean, m.old, m.new, 1)
		tmpl, err := cfn.ParseTemplate([]byte(mutated))
		if err != nil {
			t.Fatalf("mutation %q: %v", m.name, err)
		}
		for _, f := range Check(tmpl) {
			got[i] = append(got[i], f.String())
		}
		if slices.ContainsFunc(m.want, cfnLintRuleID.MatchString) {
			files[writePackaged(t, []byte(mutated), dir, fmt.Sprintf("mutation-%02d.yaml", i))] = i
		}
	}
	linted := false
	if _, err := proc.Find(proc.CfnLint); (err == nil || !testing.Short()) && len(files) > 0 {
		for file, findings := range cfnLint(t, slices.Sorted(mapsKeys(files))...) {
			for _, f := range findings {
				got[files[file]] = append(got[files[file]], f.Rule.Id+" "+f.String())
			}
		}
		linted = true
	}

	for i, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			for _, w := range m.want {
				if cfnLintRuleID.MatchString(w) && !linted {
					continue
				}
				if !slices.ContainsFunc(got[i], func(g string) bool { return strings.HasPrefix(g, w+" ") }) {
					t.Errorf("want a %s finding; got:\n  %s", w, strings.Join(got[i], "\n  "))
				}
			}
		})
	}
}

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestEveryRuleBites makes sure no project rule goes untested: each must be
// the expected finding of at least one mutation, and every expected finding
// names a real rule.
func TestEveryRuleBites(t *testing.T) {
	var ids []string
	for _, r := range Rules() {
		if slices.Contains(ids, r.ID) {
			t.Errorf("rule %s is defined twice", r.ID)
		}
		ids = append(ids, r.ID)
		if r.Doc == "" || r.check == nil {
			t.Errorf("rule %s lacks a doc or a check", r.ID)
		}
		if !slices.ContainsFunc(slices.Concat(mutations, httpMutations), func(m mutation) bool { return slices.Contains(m.want, r.ID) }) {
			t.Errorf("no mutation expects a %s finding", r.ID)
		}
	}
	for _, m := range slices.Concat(mutations, httpMutations) {
		if len(m.want) == 0 {
			t.Errorf("mutation %q expects no finding: it tests nothing", m.name)
		}
		for _, w := range m.want {
			if !cfnLintRuleID.MatchString(w) && !slices.Contains(ids, w) {
				t.Errorf("mutation %q expects %q, which is no rule", m.name, w)
			}
		}
	}
}

// TestTemplatePassesProjectRules is the clean half of the mutation test.
func TestTemplatePassesProjectRules(t *testing.T) {
	for _, file := range []string{"template.yaml", "http-api.yaml"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := cfn.ParseTemplate(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range Check(tmpl) {
			t.Errorf("%s: %v", file, f)
		}
	}
}
