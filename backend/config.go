package backend

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits and defaults of [Config].
const (
	// DefaultSessionDuration is STS's minimum and the SDK's default.
	DefaultSessionDuration = 15 * time.Minute
	// MaxSessionDuration is the cap on role chaining: the function already
	// runs as a role, so a longer session would be refused by STS.
	MaxSessionDuration = time.Hour
	// DefaultMaxSessions bounds the credentials cache: about 2 KiB per entry,
	// so 10,000 users and roles cost some 20 MiB at most.
	DefaultMaxSessions = 10_000
)

// Config is the backend's configuration, read once at cold start. The zero
// value is usable: roles of the function's own account, SourceIdentity on,
// 15-minute sessions, 10,000 cached sessions.
type Config struct {
	// AllowedRoleARNs are ARN globs ('*' matches any run of characters except
	// ':'). Empty means roles in the function's own account, taken from the
	// invoked function ARN; when that is unknown, no role is allowed.
	AllowedRoleARNs []string
	// DisableSourceIdentity stops setting the user's sub as SourceIdentity
	// (for roles whose trust policy does not allow sts:SetSourceIdentity).
	DisableSourceIdentity bool
	// SessionDuration is how long assumed credentials live: 15m to 1h.
	// Zero means DefaultSessionDuration.
	SessionDuration time.Duration
	// MaxSessions bounds the number of cached (role, user) sessions. Zero
	// means DefaultMaxSessions.
	MaxSessions int
}

// ConfigFromEnv reads ALLOWED_ROLE_ARNS, SOURCE_IDENTITY and
// SESSION_DURATION through getenv (os.Getenv in main) and validates the
// result. An empty variable counts as unset, so a deployment template can
// always pass all three.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	for p := range strings.SplitSeq(getenv("ALLOWED_ROLE_ARNS"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.AllowedRoleARNs = append(c.AllowedRoleARNs, p)
		}
	}
	if v := strings.TrimSpace(getenv("SOURCE_IDENTITY")); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("SOURCE_IDENTITY=%q: want true or false", v)
		}
		c.DisableSourceIdentity = !on
	}
	if v := strings.TrimSpace(getenv("SESSION_DURATION")); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return c, fmt.Errorf("SESSION_DURATION=%q: %w", v, err)
		}
		c.SessionDuration = d
	}
	return c, c.Validate()
}

// parseDuration accepts a Go duration ("30m") or a number of seconds ("1800"),
// the unit CloudFormation users know from DurationSeconds.
func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("want a duration such as 15m or a number of seconds")
	}
	return d, nil
}

// Validate reports the first unusable setting, so that a bad deployment fails
// its cold start loudly instead of failing every request.
func (c Config) Validate() error {
	for _, p := range c.AllowedRoleARNs {
		if _, err := compilePattern(p); err != nil {
			return fmt.Errorf("ALLOWED_ROLE_ARNS: %w", err)
		}
	}
	if d := c.SessionDuration; d != 0 && (d < DefaultSessionDuration || d > MaxSessionDuration || d%time.Second != 0) {
		return fmt.Errorf("session duration %v: want whole seconds from %v to %v", d, DefaultSessionDuration, MaxSessionDuration)
	}
	if c.MaxSessions < 0 {
		return fmt.Errorf("max sessions %d: want 0 (default) or more", c.MaxSessions)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.SessionDuration == 0 {
		c.SessionDuration = DefaultSessionDuration
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	return c
}
