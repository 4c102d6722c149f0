package authorizer

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// stageParser checks methodArns. It remembers the last stage it found: a
// function serves one stage of one API, or a few, so the next methodArn most
// likely starts with that stage, and then only the method after it is left to
// check.
type stageParser struct {
	last atomic.Pointer[string] // the last stage found, and the '/' after it
}

// stageARN returns the stage of the calling API, arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>,
// from methodArn. The Allow/Deny resource is that stage's "/*".
//
// The shape is checked strictly and by hand (this runs on the cached path too):
// a methodArn we do not understand must never widen into a policy.
func (sp *stageParser) stageARN(methodArn string) (string, error) {
	// The remembered stage passed every check below, and none of its parts can
	// hold a ':' or a '/', so methodArn splits exactly where it ends.
	if s := sp.last.Load(); s != nil && len(methodArn) <= maxMethodARN {
		if method, ok := strings.CutPrefix(methodArn, *s); ok && isMethod(method) {
			return (*s)[:len(*s)-1], nil
		}
	}
	prefix, ok := stagePrefix(methodArn)
	if !ok {
		return "", fmt.Errorf("%w (%d bytes)", ErrBadMethodARN, len(methodArn))
	}
	last := strings.Clone(methodArn[:len(prefix)+1]) // not a slice of methodArn, which would keep it alive
	sp.last.Store(&last)
	return last[:len(prefix)], nil
}

// maxMethodARN caps methodArn: a longer one is refused unread.
const maxMethodARN = 2048

// stagePrefix returns arn:…:<apiId>/<stage> from
// arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<verb>/<resource…>.
func stagePrefix(arn string) (string, bool) {
	if len(arn) > maxMethodARN {
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
	stage, rest, found := strings.Cut(rest, "/")
	if !found || !isPartition(partition) || service != "execute-api" || !isRegion(region) ||
		!isAccount(account) || !isAPIID(apiID) || !isStage(stage) || !isMethod(rest) {
		return "", false
	}
	return arn[:len(arn)-len(rest)-1], true
}

// isMethod checks what follows <stage>/: <verb>/<resource…>.
func isMethod(s string) bool {
	verb, resource, found := strings.Cut(s, "/")
	return found && isVerb(verb) && isResource(resource)
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
