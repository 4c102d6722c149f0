// Package apigw runs one stage of an API Gateway REST API on loopback, read
// from a CloudFormation template, with no Docker: routes, a Lambda TOKEN
// authorizer with its per-token result cache and policy evaluation, Lambda
// proxy integrations, gateway responses, binary media types and stage
// throttling.
//
// It knows the Lambda invoke API and nothing of the functions behind it.
// It implements the REST API behaviour it documents (see docs/local.md for
// the known differences from API Gateway) and refuses what it does not
// understand rather than guess an Allow.
package apigw
