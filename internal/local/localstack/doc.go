// Package localstack runs rolegate on one machine the way AWS runs it: the
// template's API (internal/apigw) in front of the real authorizer and backend
// bootstraps, each under the Lambda Runtime Interface Emulator, a local
// Cognito-shaped issuer whose tokens carry the claims Cognito writes
// (internal/cognito), and moto_server standing in for STS and IAM. Routes,
// the stage, the authorizer settings, the groups and the functions' literal
// environment come from deploy/template.yaml, so the local run and the
// deployment cannot drift apart. It also drives load through a fresh stack.
//
// It listens on loopback only and never talks to AWS.
package localstack
