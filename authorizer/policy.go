package authorizer

import (
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// stageResource returns the Allow/Deny resource for methodArn: the whole stage of
// the calling API, arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/*,
// so that API Gateway's per-token result cache serves every method of that stage.
//
// The shape is checked strictly and by hand (this runs on the cached path too):
// a methodArn we do not understand must never widen into a policy.
func stageResource(methodArn string) (string, error) {
	prefix, ok := stagePrefix(methodArn)
	if !ok {
		return "", fmt.Errorf("%w (%d bytes)", ErrBadMethodARN, len(methodArn))
	}
	return prefix + "/*", nil
}

// stagePrefix returns arn:…:<apiId>/<stage> from
// arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<verb>/<resource…>.
func stagePrefix(arn string) (string, bool) {
	if len(arn) > 2048 {
		return "", false
	}
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return "", false
	}
	partition, rest, _ := strings.Cut(rest, ":")
	service, rest, _ := strings.Cut(rest, ":")
	region, rest, _ := strings.Cut(rest, ":")
	account, rest, _ := strings.Cut(rest, ":")
	apiID, rest, _ := strings.Cut(rest, "/")
	stage, rest, _ := strings.Cut(rest, "/")
	verb, resource, found := strings.Cut(rest, "/")
	if !found || !isPartition(partition) || service != "execute-api" || !isRegion(region) ||
		!isAccount(account) || !isAPIID(apiID) || !isStage(stage) || !isVerb(verb) || !isResource(resource) {
		return "", false
	}
	return arn[:len(arn)-len(rest)-1], true
}

// isPartition: aws, aws-cn, aws-us-gov, aws-iso-b, …
func isPartition(s string) bool {
	if s == "aws" {
		return true
	}
	rest, ok := strings.CutPrefix(s, "aws-")
	return ok && words(rest) > 0
}

// isRegion: us-east-1, us-gov-west-1, cn-north-1, eu-isoe-west-1, …
func isRegion(s string) bool {
	i := strings.LastIndexByte(s, '-')
	return i > 0 && i < len(s)-1 && all(s[i+1:], isDigit) && words(s[:i]) >= 2
}

// words counts the hyphen-separated lower-case words of s; 0 if any is empty or not lower-case.
func words(s string) int {
	n, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '-' {
			if !isLower(s[i]) {
				return 0
			}
			continue
		}
		if i == start {
			return 0
		}
		n, start = n+1, i+1
	}
	return n
}

func isAccount(s string) bool { return len(s) == 12 && all(s, isDigit) }

// isAPIID: API Gateway ids are short lower-case alphanumerics.
func isAPIID(s string) bool {
	return s != "" && len(s) <= 64 && all(s, func(c byte) bool { return isLower(c) || isDigit(c) })
}

// isStage: stage names are letters, digits, hyphens and underscores; a wildcard here would widen the policy.
func isStage(s string) bool {
	return s != "" && len(s) <= 128 && all(s, func(c byte) bool {
		return isLower(c) || isUpper(c) || isDigit(c) || c == '-' || c == '_'
	})
}

// isVerb: an HTTP method, or * for ANY.
func isVerb(s string) bool { return s == "*" || (s != "" && len(s) <= 16 && all(s, isUpper)) }

// isResource: the path after the verb; empty for the root resource. Only
// printable ASCII: control characters would make the policy hard to read.
func isResource(s string) bool { return all(s, func(c byte) bool { return c > ' ' && c < 0x7f }) }

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// policyVersion is the IAM policy language version API Gateway expects.
const policyVersion = "2012-10-17"

// policy is the one-statement execute-api:Invoke policy for resource.
func policy(effect, resource string) events.APIGatewayCustomAuthorizerPolicy {
	return events.APIGatewayCustomAuthorizerPolicy{
		Version: policyVersion,
		Statement: []events.IAMPolicyStatement{{
			Action:   []string{"execute-api:Invoke"},
			Effect:   effect,
			Resource: []string{resource},
		}},
	}
}
