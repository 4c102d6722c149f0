package backend

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rolegate/rolegate/internal/arn"
)

// allowlist is the compiled Config.AllowedRoleARNs.
type allowlist []*regexp.Regexp

// allows reports whether role may be assumed: it matches a pattern or, with
// none, is in the partition and account of the invoked function ARN that the
// Lambda runtime puts in ctx. Without that ARN nothing is allowed: failing
// closed beats assuming a role in whatever account a caller names.
func (l allowlist) allows(ctx context.Context, role arn.Role) bool {
	if len(l) > 0 {
		s := role.String()
		return slices.ContainsFunc(l, func(p *regexp.Regexp) bool { return p.MatchString(s) })
	}
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return false
	}
	fn, err := arn.Parse(lc.InvokedFunctionArn)
	return err == nil && fn.Service == "lambda" && strings.HasPrefix(fn.Resource, "function:") &&
		fn.Partition == role.Partition && fn.AccountID != "" && fn.AccountID == role.AccountID
}

// patternGrammar is what an ALLOWED_ROLE_ARNS entry may be: an IAM role ARN,
// with '*' allowed in the partition, the account (12 digits without one) and
// the path and name. A pattern that could never match a role (a typo) is
// refused at start-up rather than silently denying everyone.
var patternGrammar = regexp.MustCompile(`^arn:[a-z0-9*-]+:iam::(\d{12}|[\d*]*\*[\d*]*):role/[\w+=,.@/*-]+$`)

// compilePattern checks p against patternGrammar and compiles it. The only
// wildcard is '*', matching any run of characters but ':', so it can never
// stretch from one ARN field into the next: in "arn:aws:iam::*:role/*" the
// first star matches only an account, never "123456789012:role/x". '?' and
// '[' are refused.
func compilePattern(p string) (*regexp.Regexp, error) {
	if !patternGrammar.MatchString(p) {
		return nil, fmt.Errorf("%q is not arn:<partition>:iam::<account>:role/<path/name>, '*' the only wildcard", p)
	}
	return regexp.Compile("^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, `[^:]*`) + "$")
}
