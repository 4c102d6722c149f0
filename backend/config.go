package backend

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/emf"
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
	// one set of credentials: under 5 KiB even for the largest identities
	// (TestSessionMemoryIsBounded), so the default costs under 50 MiB.
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
}

// ConfigFromEnv reads ALLOWED_ROLE_ARNS, SOURCE_IDENTITY, SESSION_TAGS,
// SESSION_DURATION and METRICS_NAMESPACE through getenv (os.Getenv in main)
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
				errs = append(errs, fmt.Errorf("%s=%q: want true or false", name, v))
			}
			*off = !on
		}
	}
	flag("SOURCE_IDENTITY", &c.DisableSourceIdentity)
	flag("SESSION_TAGS", &c.DisableSessionTags)
	if v := strings.TrimSpace(getenv("SESSION_DURATION")); v != "" {
		// a Go duration, or seconds as CloudFormation users know them from DurationSeconds
		d, err := time.ParseDuration(v)
		if n, nerr := strconv.ParseInt(v, 10, 32); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("SESSION_DURATION=%q: want a duration such as 15m or a number of seconds", v))
		}
		c.SessionDuration = d
	}
	c.MetricsNamespace = strings.TrimSpace(getenv("METRICS_NAMESPACE"))
	return c, errors.Join(append(errs, c.Validate())...)
}

// Validate reports every unusable setting, so that a bad deployment fails its
// cold start loudly instead of failing every request.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.AllowedRoleARNs {
		if _, err := compilePattern(p); err != nil {
			errs = append(errs, fmt.Errorf("ALLOWED_ROLE_ARNS: %w", err))
		}
	}
	if d := c.SessionDuration; d != 0 && (d < DefaultSessionDuration || d > MaxSessionDuration || d%time.Second != 0) {
		errs = append(errs, fmt.Errorf("session duration %v: want whole seconds from %v to %v", d, DefaultSessionDuration, MaxSessionDuration))
	}
	if c.MaxSessions < 0 {
		errs = append(errs, fmt.Errorf("max sessions %d: want 0 (default) or more", c.MaxSessions))
	}
	if ns := c.MetricsNamespace; ns != "" && !emf.ValidNamespace(ns) {
		errs = append(errs, fmt.Errorf("metrics namespace %q: want 1 to 255 of [0-9A-Za-z.-_/#:], not starting with AWS/", ns))
	}
	return errors.Join(errs...)
}
