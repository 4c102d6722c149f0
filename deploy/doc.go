// Package deploy is rolegate's CloudFormation template and its checks. It
// reads the template through internal/cfn, applies the project's own rules
// (Rules: the permission, trust, logging and metric mistakes cfn-lint
// accepts but a real deployment would reveal), holds the AWS Control Tower
// proactive controls to the table in docs/deploy.md (CheckControls, with
// cfn-guard), and packages the template offline the way `aws cloudformation
// package` does, so the packaged form can be linted without S3.
//
// It reads templates; it never talks to AWS.
package deploy
