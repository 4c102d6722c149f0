// Package backend runs each caller's work with the temporary credentials of
// the IAM role that the Lambda authorizer put in the proxy event's
// requestContext.authorizer, and answers GET /whoami with the identity STS
// sees for those credentials.
//
// The role is read from requestContext.authorizer only (preferredRole, sub,
// username, principalId). Headers, query strings, the body, stage variables
// and any claims map are never consulted, even when they name a role. The
// role must be a well-formed IAM role ARN that matches the allowlist, or no
// STS call is made at all. Credentials come from sts:AssumeRole and are cached
// per (role, user) for no longer than they live; on any failure the caller
// gets an error, never a configuration that carries the function's own
// execution-role credentials.
//
// Teams put their own handlers behind [Assumer.ConfigFor], which turns one
// event into an aws.Config for that user; [Handler] is the whoami handler
// built the same way.
package backend
