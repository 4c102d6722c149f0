// Package backend runs each caller's work with the temporary credentials of
// one of the IAM roles that the Lambda authorizer validated and put in the
// proxy event's requestContext.authorizer, and answers GET /whoami with the
// identity STS sees for those credentials.
//
// The rules, all failing closed with a 403 and no STS call:
//   - The caller's roles are read from requestContext.authorizer only: roles
//     (comma-separated role ARNs) and preferredRole, which must be one of
//     them. Other headers, the query string, the body, stage variables and
//     any claims map are never consulted, even when they name a role.
//   - The request runs with preferredRole, unless the X-Rolegate-Role header
//     (name in any case, sent once) picks another of the caller's roles, by
//     ARN or by name. A name shared by two of the caller's roles is refused,
//     as is a role that is not the caller's. Without the header and without
//     preferredRole (Cognito sets none when group precedences tie), the
//     caller is told to choose.
//   - The chosen role must match ALLOWED_ROLE_ARNS, by default the function's
//     own account.
//
// Credentials come from sts:AssumeRole with SourceIdentity and the session
// tags sub and username (left out if STS would refuse it), and are cached per
// (user, role) for as long as they live. The session name is unique per
// user and readable: the username when STS accepts it as it is (2 to 64 of
// [\w+,.@-]), else the username (or sub) made acceptable and cut, then '='
// and a digest of the sub, so that users whose names would clean up alike
// never share an assumed-role ARN or aws:userid. On any failure the caller
// gets an error, never a configuration that carries the execution role's
// credentials.
//
// Teams write their routes as plain functions ([Func]) of the request, the
// caller's [Identity] and an aws.Config signed with the caller's role, and
// [Handler.Proxy] turns them into the Lambda handler: routing (404, 405),
// role choice, credentials, the deadline reserve and the answer to an error
// are its, in one place. GET /whoami ([Handler.WhoamiRoute]) is built on it.
// Each request writes one JSON log line that is also a CloudWatch EMF
// document: Requests by Outcome, AssumeRoleCalls and AssumeRoleLatency.
package backend
