package backend

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/cognito"
	"github.com/rolegate/rolegate/internal/emf"
	"github.com/rolegate/rolegate/internal/envvar"
)

// Limits and defaults of [Config].
const (
	// DefaultSessionDuration is STS's minimum and the SDK's default.
	DefaultSessionDuration = 15 * time.Minute
	// MaxSessionDuration is the cap on role chaining: the function already
	// runs as a role, so a longer session would be refused by STS.
	MaxSessionDuration = time.Hour
	// DefaultMaxSessions bounds the credentials cache. An entry holds its key
	// (a sub, a username and a role ARN, each capped), the SDK's provider and
	// one set of credentials: 3.4 KiB measured for the largest identities,
	// asserted under 5 KiB (TestSessionMemoryIsBounded), so the default
	// costs under 50 MiB.
	DefaultMaxSessions = 10_000
)

// Config is the backend's configuration, read once at cold start. The zero
// value is usable: each field's zero means its default.
type Config struct {
	// AllowedRoleARNs are ARN globs ('*' matches any run of characters except
	// ':'). Empty means roles in the function's own account, taken from the
	// invoked function ARN; when that is unknown, no role is allowed.
	AllowedRoleARNs []string
	// DisableSourceIdentity stops setting the user's sub as SourceIdentity
	// (for roles whose trust policy does not allow sts:SetSourceIdentity).
	DisableSourceIdentity bool
	// DisableSessionTags stops passing the sub and username session tags
	// (for roles whose trust policy does not allow sts:TagSession).
	DisableSessionTags bool
	// SessionDuration is how long assumed credentials live: 15m to 1h.
	// Zero means DefaultSessionDuration.
	SessionDuration time.Duration
	// MaxSessions bounds the cached (user, role) sessions. Zero means
	// DefaultMaxSessions.
	MaxSessions int
	// MetricsNamespace is the CloudWatch namespace of the request metrics.
	// Empty means emf.DefaultNamespace.
	MetricsNamespace string
	// RoleSource is what the caller's roles are read from: RoleSourceRolegate
	// (empty means it) or RoleSourceJWT, which needs UserPoolIDs.
	RoleSource string
	// UserPoolIDs are the pools whose issuers a JWT's iss must name (USER_POOL_ID).
	UserPoolIDs []string
}

// ConfigFromEnv reads ALLOWED_ROLE_ARNS, SOURCE_IDENTITY, SESSION_TAGS,
// SESSION_DURATION, METRICS_NAMESPACE, ROLE_SOURCE and USER_POOL_ID through getenv (os.Getenv in main)
// and validates the result, reporting every problem at once. An empty
// variable counts as unset, so a template can always pass them all.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	for p := range strings.SplitSeq(getenv("ALLOWED_ROLE_ARNS"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.AllowedRoleARNs = append(c.AllowedRoleARNs, p)
		}
	}
	flag := func(name string, off *bool) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, envvar.Invalid(name, v, "true or false"))
			}
			*off = !on
		}
	}
	flag("SOURCE_IDENTITY", &c.DisableSourceIdentity)
	flag("SESSION_TAGS", &c.DisableSessionTags)
	if v := strings.TrimSpace(getenv("SESSION_DURATION")); v != "" {
		d, err := envvar.Duration("SESSION_DURATION", v)
		errs = append(errs, err)
		c.SessionDuration = d
	}
	c.MetricsNamespace = strings.TrimSpace(getenv("METRICS_NAMESPACE"))
	c.RoleSource = strings.TrimSpace(getenv("ROLE_SOURCE"))
	for p := range strings.SplitSeq(getenv("USER_POOL_ID"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.UserPoolIDs = append(c.UserPoolIDs, p)
		}
	}
	if err := errors.Join(append(errs, c.Validate())...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports every unusable setting, each naming its variable (MaxSessions,
// which has none, by its field), so that a bad deployment fails its cold start
// loudly instead of failing every request.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.AllowedRoleARNs {
		if _, err := compilePattern(p); err != nil {
			errs = append(errs, envvar.Invalid("ALLOWED_ROLE_ARNS", p, err.Error()))
		}
	}
	if d := c.SessionDuration; d != 0 && (d < DefaultSessionDuration || d > MaxSessionDuration || d%time.Second != 0) {
		errs = append(errs, envvar.Invalid("SESSION_DURATION", d.String(), "whole seconds from "+DefaultSessionDuration.String()+" to "+MaxSessionDuration.String()))
	}
	if c.MaxSessions < 0 {
		errs = append(errs, envvar.Invalid("MaxSessions", strconv.Itoa(c.MaxSessions), "0 (default) or more"))
	}
	switch c.RoleSource {
	case "", RoleSourceRolegate:
	case RoleSourceJWT:
		if len(c.UserPoolIDs) == 0 {
			errs = append(errs, envvar.Required("USER_POOL_ID", "the pools whose tokens ROLE_SOURCE=jwt trusts"))
		}
	case "cognito":
		// The Cognito user-pool authorizer's claims are documented nowhere (docs/migrating.md).
		errs = append(errs, envvar.Invalid("ROLE_SOURCE", c.RoleSource, "rolegate or jwt: the Cognito user-pool authorizer's claim format is undocumented, so it is not supported"))
	default:
		errs = append(errs, envvar.Invalid("ROLE_SOURCE", c.RoleSource, "rolegate or jwt"))
	}
	for _, p := range c.UserPoolIDs {
		if !cognito.ValidPoolID(p) {
			errs = append(errs, envvar.Invalid("USER_POOL_ID", p, "comma-separated <region>_<id>, e.g. us-east-1_AbCdEf123"))
		}
	}
	if ns := c.MetricsNamespace; ns != "" && !emf.ValidNamespace(ns) {
		errs = append(errs, envvar.Invalid("METRICS_NAMESPACE", ns, emf.NamespaceRule))
	}
	return errors.Join(errs...)
}

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
// '*' allowed in the partition, the account (12 digits without one), the path
// and name. Another shape (a name, a user ARN, a region) is refused at start-up
// rather than denying everyone; a misspelt partition or name matches nothing.
var patternGrammar = regexp.MustCompile(`^arn:[a-z0-9*-]+:iam::(\d{12}|[\d*]*\*[\d*]*):role/[/*` + arn.NameClass + `]+$`)

// compilePattern checks p against patternGrammar and compiles it. The only
// wildcard is '*', matching any run of characters but ':', so it can never
// stretch from one ARN field into the next: in "arn:aws:iam::*:role/*" the
// first star matches only an account, never "123456789012:role/x". '?' and
// '[' are refused.
func compilePattern(p string) (*regexp.Regexp, error) {
	if !patternGrammar.MatchString(p) {
		return nil, errors.New("arn:<partition>:iam::<account>:role/<path/name>, '*' the only wildcard")
	}
	return regexp.Compile("^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, `[^:]*`) + "$")
}
