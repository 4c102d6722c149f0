// Package local runs rolegate on one machine the way AWS runs it: a local API
// Gateway in front of the real authorizer and backend bootstraps (each under
// the Lambda Runtime Interface Emulator), a local Cognito-shaped token issuer,
// and moto_server standing in for STS and IAM. Routes, authorizer settings and
// groups come from deploy/template.yaml, so the local run and the deployment
// cannot drift apart.
//
// It listens on loopback only and never talks to AWS. It is not a general API
// Gateway emulator: it implements the REST API behaviour rolegate relies on
// (TOKEN authorizer, identity validation, per-token result cache, policy
// evaluation, Lambda proxy integration, gateway responses) and refuses what it
// does not understand rather than guessing an Allow.
package localstack
