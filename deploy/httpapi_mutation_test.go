package deploy

// httpMutations are mistakes planted in http-api.yaml, as mutations are in template.yaml.
var httpMutations = []mutation{
	{
		name: "Lambda integration left on payload 1.0",
		old:  "      PayloadFormatVersion: \"2.0\"\n",
		new:  "      PayloadFormatVersion: \"1.0\"\n",
		want: []string{"http-payload-format"},
	},
	{
		name: "Lambda authorizer on payload 1.0, which rolegate answers with an error",
		old:  "      AuthorizerPayloadFormatVersion: \"2.0\"\n",
		new:  "      AuthorizerPayloadFormatVersion: \"1.0\"\n",
		want: []string{"http-payload-format"},
	},
	{
		name: "Lambda authorizer expected to return an IAM policy",
		old:  "      EnableSimpleResponses: true\n",
		new:  "      EnableSimpleResponses: false\n",
		want: []string{"http-payload-format"},
	},
	{
		name: "route key added to the identity source (the authorizer would read it as a second token)",
		old:  "      IdentitySource: [$request.header.Authorization]\n      AuthorizerResultTtlInSeconds",
		new:  "      IdentitySource: [$request.header.Authorization, $context.routeKey]\n      AuthorizerResultTtlInSeconds",
		want: []string{"http-authorizer-settings"},
	},
	{
		name: "JWT authorizer reading the token from a query string",
		old:  "      AuthorizerType: JWT\n      IdentitySource: [$request.header.Authorization]\n",
		new:  "      AuthorizerType: JWT\n      IdentitySource: [$request.querystring.token]\n",
		want: []string{"http-authorizer-settings"},
	},
	{
		name: "authorizer cache TTL hard-coded",
		old:  "      AuthorizerResultTtlInSeconds: !Ref AuthorizerCacheTtl\n",
		new:  "      AuthorizerResultTtlInSeconds: 300\n",
		want: []string{"http-authorizer-settings"},
	},
	{
		name: "JWT authorizer trusting another pool's issuer",
		old:  "        Issuer: !Sub \"https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPool}\"\n",
		new:  "        Issuer: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other\n",
		want: []string{"http-authorizer-settings"},
	},
	{
		name: "JWT authorizer accepting any audience it is given",
		old:  "        Audience: [!Ref UserPoolClient]\n",
		new:  "        Audience: [\"*\"]\n",
		want: []string{"http-authorizer-settings"},
	},
	{
		name: "route without authorization",
		old:  "      AuthorizationType: !If [UseLambdaAuthorizer, CUSTOM, JWT]\n      AuthorizerId: !If [UseLambdaAuthorizer, !Ref LambdaAuthorizer, !Ref JwtAuthorizer]\n",
		new:  "      AuthorizationType: NONE\n",
		want: []string{"http-route-authorization", "backend-role-source"},
	},
	{
		name: "route's authorization types swapped between the variants",
		old:  "      AuthorizationType: !If [UseLambdaAuthorizer, CUSTOM, JWT]\n",
		new:  "      AuthorizationType: !If [UseLambdaAuthorizer, JWT, CUSTOM]\n",
		want: []string{"http-route-authorization", "backend-role-source"},
	},
	{
		name: "route asking for scopes an ID token does not carry",
		old:  "      Target: !Sub \"integrations/${BackendIntegration}\"\n",
		new:  "      Target: !Sub \"integrations/${BackendIntegration}\"\n      AuthorizationScopes: [aws.cognito.signin.user.admin]\n",
		want: []string{"http-route-authorization"},
	},
	{
		name: "backend always trusting rolegate's context, even behind the JWT authorizer",
		old:  "          ROLE_SOURCE: !If [UseLambdaAuthorizer, rolegate, jwt]\n",
		new:  "          ROLE_SOURCE: rolegate\n",
		want: []string{"backend-role-source"},
	},
	{
		name: "backend in jwt mode without the pool whose issuer it must check",
		old:  "          USER_POOL_ID: !If [UseJwtAuthorizer, !Ref UserPool, !Ref AWS::NoValue]\n",
		new:  "",
		want: []string{"backend-role-source"},
	},
	{
		name: "stage that is never deployed",
		old:  "      AutoDeploy: true\n",
		new:  "      AutoDeploy: false\n",
		want: []string{"http-stage-settings"},
	},
	{
		name: "stage without throttling",
		old:  "      DefaultRouteSettings:\n        ThrottlingRateLimit: !Ref ThrottlingRateLimit\n        ThrottlingBurstLimit: !Ref ThrottlingBurstLimit\n",
		new:  "",
		want: []string{"http-stage-settings"},
	},
	{
		name: "backend permission for a route the HTTP API does not have",
		old:  "${Api}/*/GET/whoami",
		new:  "${Api}/*/POST/whoami",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},
	{
		name: "Lambda authorizer without a permission to invoke it",
		old:  "      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/${LambdaAuthorizer}\"\n",
		new:  "      SourceArn: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/*\"\n",
		want: []string{"lambda-permission-source", "lambda-permission-missing"},
	},
	{
		name: "authorizer function with STS permissions",
		old:  "      Description: rolegate authorizer; writes its own log group and X-Ray traces, nothing else.\n",
		new:  "      Description: rolegate authorizer; writes its own log group and X-Ray traces, nothing else.\n      ManagedPolicyArns: [!Sub \"arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess\"]\n",
		want: []string{"execution-role-least-privilege"},
	},
	{
		name: "Lambda integration naming the function, not its invocation URI",
		old:  "      IntegrationUri: !Sub \"arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${BackendFunction.Arn}/invocations\"\n",
		new:  "      IntegrationUri: !GetAtt BackendFunction.Arn\n",
		want: []string{"http-payload-format", "lambda-permission-source"},
	},
}
