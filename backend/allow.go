package backend

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rolegate/rolegate/internal/arn"
)

// allowlist decides which roles may be assumed: the ALLOWED_ROLE_ARNS
// patterns, or when there are none, the roles of the function's own account.
type allowlist []*regexp.Regexp

// allows reports whether role may be assumed. With patterns, it must match
// one of them. Without, it must be in the partition and account of the
// function itself, read from the invoked function ARN that the Lambda runtime
// puts in ctx; when that is missing too, nothing is allowed: failing closed
// beats assuming a role in whatever account a caller names.
func (l allowlist) allows(ctx context.Context, role arn.Role) bool {
	if len(l) > 0 {
		s := role.String()
		for _, p := range l {
			if p.MatchString(s) {
				return true
			}
		}
		return false
	}
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return false
	}
	fn, err := arn.Parse(lc.InvokedFunctionArn)
	return err == nil && fn.Service == "lambda" && strings.HasPrefix(fn.Resource, "function:") &&
		fn.Partition == role.Partition && fn.AccountID != "" && fn.AccountID == role.AccountID
}

// compilePattern checks that an ALLOWED_ROLE_ARNS entry can only ever match
// IAM role ARNs, arn:<partition>:iam::<account>:role/<path/name> with '*'
// allowed in the partition, account and path/name, and compiles it. A pattern
// that could never match (a typo) is refused at start-up rather than
// silently denying everyone.
//
// The only wildcard is '*', matching any run of characters but ':', so it can
// never stretch from one ARN field into the next: in "arn:aws:iam::*:role/*"
// the first star matches only an account, never "123456789012:role/x". '?'
// and '[' are refused.
func compilePattern(p string) (*regexp.Regexp, error) {
	f := strings.Split(p, ":")
	if len(f) != 6 || f[0] != "arn" || f[2] != "iam" || f[3] != "" {
		return nil, fmt.Errorf("%q is not of the form arn:<partition>:iam::<account>:role/<name>", p)
	}
	if !onlyBytes(f[1], func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '*' }) {
		return nil, fmt.Errorf("%q: bad partition %q", p, f[1])
	}
	if !onlyBytes(f[4], func(c byte) bool { return '0' <= c && c <= '9' || c == '*' }) ||
		!strings.Contains(f[4], "*") && len(f[4]) != 12 {
		return nil, fmt.Errorf("%q: bad account %q", p, f[4])
	}
	name, ok := strings.CutPrefix(f[5], "role/")
	if !ok || !onlyBytes(name, func(c byte) bool { return arn.NameChar(c) || c == '/' || c == '*' }) {
		return nil, fmt.Errorf("%q: resource must be role/<path/name> of [\\w+=,.@-/*]", p)
	}
	return regexp.Compile("^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, `[^:]*`) + "$")
}

func onlyBytes(s string, ok func(byte) bool) bool {
	for i := range len(s) {
		if !ok(s[i]) {
			return false
		}
	}
	return s != ""
}
