// Package apigw runs one stage of an API Gateway REST API on loopback, read
// from a CloudFormation template, with no Docker: routes, a Lambda TOKEN
// authorizer with its per-token result cache and policy evaluation, the
// API's resource policy, API keys of usage plans, Lambda proxy integrations
// with their timeouts, gateway responses, binary media types, stage
// variables, tracing headers and stage throttling. HTTPGateway does the same
// for one stage of an HTTP API (http*.go): routes by route key, a payload 2.0
// Lambda authorizer with simple responses or a JWT authorizer, payload 2.0
// Lambda proxies, default and per-route throttling.
//
// It knows the Lambda invoke API and nothing of the functions behind it.
// Every setting of the template's API Gateway resources has one treatment
// in one table (settings.go): implemented, printed at start-up, or refused
// at start when it could make API Gateway refuse a request the gateway
// cannot judge; a setting the table does not know is refused, never
// guessed into an Allow. docs/local.md lists the known differences.
package apigw
