package backend

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// allowlist decides which roles may be assumed: ALLOWED_ROLE_ARNS, compiled,
// or when that is empty, the roles of the function's own account.
type allowlist struct {
	patterns []rolePattern
	// own is the last invoked function ARN seen, parsed. Lambda passes the
	// same ARN on every invocation, so a request compares it instead of
	// parsing it again.
	own atomic.Pointer[functionARN]
}

// allows reports whether role may be assumed. With patterns, it must match
// one of them. Without, it must be in the partition and account of the
// function itself, read from the invoked function ARN that the Lambda runtime
// puts in ctx; when that is missing too, nothing is allowed: failing closed
// beats assuming a role in whatever account a caller names.
func (l *allowlist) allows(ctx context.Context, role roleARN) bool {
	if len(l.patterns) > 0 {
		for _, p := range l.patterns {
			if p.match(role) {
				return true
			}
		}
		return false
	}
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return false
	}
	f := l.own.Load()
	if f == nil || f.arn != lc.InvokedFunctionArn {
		f = parseFunctionARN(lc.InvokedFunctionArn)
		l.own.Store(f)
	}
	return f.ok && role.partition == f.partition && role.account == f.account
}

// functionARN is an invoked function ARN and, when ok, the partition and
// account it names.
type functionARN struct {
	arn, partition, account string
	ok                      bool
}

// parseFunctionARN reads the partition and account of the running function
// from its invoked ARN, arn:<partition>:lambda:<region>:<account>:function:<name>[:qualifier].
func parseFunctionARN(arn string) *functionARN {
	f := &functionARN{arn: arn}
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return f
	}
	partition, rest, _ := strings.Cut(rest, ":")
	service, rest, _ := strings.Cut(rest, ":")
	_, rest, _ = strings.Cut(rest, ":") // region
	account, rest, _ := strings.Cut(rest, ":")
	if service != "lambda" || !validPartition(partition) || !validAccount(account) || !strings.HasPrefix(rest, "function:") {
		return f
	}
	f.partition, f.account, f.ok = partition, account, true
	return f
}

// rolePattern is an ALLOWED_ROLE_ARNS entry split into the fields of a role
// ARN. The only wildcard is '*', matching any run of characters within one
// field, so it can never stretch from one ARN field into the next:
// "arn:aws:iam::*:role/*" matches any account's roles, and the star there
// can match only an account, never "123456789012:role/x". Every other
// character matches only itself; '?' and '[' are refused in patterns.
type rolePattern struct {
	partition, account, resource fieldPattern
}

func (p rolePattern) match(r roleARN) bool {
	return p.partition.match(r.partition) && p.account.match(r.account) && p.resource.match(r.resource)
}

// fieldPattern is one field of a rolePattern, split at its first star when
// compiled. Fields are mostly literal ("123456789012") or a prefix and one
// final star ("role/team/*"): those match with one string comparison, not
// a byte-by-byte walk, which matters as every request tries every pattern.
type fieldPattern struct {
	glob   string // the field as written
	prefix string // glob before its first '*'; all of glob when it has none
}

func newFieldPattern(glob string) fieldPattern {
	prefix, _, _ := strings.Cut(glob, "*")
	return fieldPattern{glob: glob, prefix: prefix}
}

func (f fieldPattern) match(s string) bool {
	rest, ok := strings.CutPrefix(s, f.prefix)
	switch {
	case !ok:
		return false
	case len(f.glob) == len(f.prefix): // no star
		return rest == ""
	case len(f.glob) == len(f.prefix)+1: // one star, at the end
		return true
	}
	return matchField(f.glob[len(f.prefix):], rest)
}

// matchField matches one ':'-free field where '*' matches any run of
// characters. It backtracks only to the last star, which is enough for this
// pattern language and keeps the worst case at len(p)*len(s).
func matchField(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// compilePattern checks that an ALLOWED_ROLE_ARNS entry can only ever match
// IAM role ARNs, arn:<partition>:iam::<account>:role/<path/name> with '*'
// allowed in the partition, account and path/name, and splits it. A pattern
// that could never match (a typo) is refused at start-up rather than
// silently denying everyone.
func compilePattern(p string) (rolePattern, error) {
	f := strings.Split(p, ":")
	if len(f) != 6 || f[0] != "arn" || f[2] != "iam" || f[3] != "" {
		return rolePattern{}, fmt.Errorf("%q is not of the form arn:<partition>:iam::<account>:role/<name>", p)
	}
	if !onlyBytes(f[1], func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '*' }) {
		return rolePattern{}, fmt.Errorf("%q: bad partition %q", p, f[1])
	}
	if !onlyBytes(f[4], func(c byte) bool { return '0' <= c && c <= '9' || c == '*' }) ||
		!strings.Contains(f[4], "*") && len(f[4]) != 12 {
		return rolePattern{}, fmt.Errorf("%q: bad account %q", p, f[4])
	}
	name, ok := strings.CutPrefix(f[5], "role/")
	if !ok || !onlyBytes(name, func(c byte) bool { return isNameByte(c) || c == '/' || c == '*' }) {
		return rolePattern{}, fmt.Errorf("%q: resource must be role/<path/name> of [\\w+=,.@-/*]", p)
	}
	return rolePattern{partition: newFieldPattern(f[1]), account: newFieldPattern(f[4]), resource: newFieldPattern(f[5])}, nil
}

func onlyBytes(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
