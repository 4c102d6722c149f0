package authorizer

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/cognito"
	"github.com/rolegate/rolegate/internal/emf"
)

// DefaultClockSkew is the leeway applied to exp, iat and nbf when CLOCK_SKEW is unset.
const DefaultClockSkew = 60 * time.Second

// MaxClockSkew is the largest accepted CLOCK_SKEW: more would make expiry meaningless.
const MaxClockSkew = 5 * time.Minute

// Config is the authorizer's configuration, read once at cold start.
type Config struct {
	// UserPoolID is the Cognito user pool, "<region>_<id>" (USER_POOL_ID, required).
	UserPoolID string
	// ClientIDs are the app client ids accepted as aud (APP_CLIENT_IDS, required, comma-separated).
	ClientIDs []string
	// JWKSURL overrides where keys are fetched (JWKS_URL, optional); the issuer checked stays the pool's.
	JWKSURL string
	// Issuer, when set, is the exact iss required instead of the pool's default issuer (ISSUER, optional),
	// e.g. Cognito's newer https://issuer-cognito-idp.<region>.amazonaws.com/<pool> form.
	Issuer string
	// ClockSkew is the leeway for exp, iat and nbf (CLOCK_SKEW, Go duration, default 60s, 0 to 5m).
	ClockSkew time.Duration
	// MetricsNamespace is the CloudWatch namespace of the decision metrics (METRICS_NAMESPACE); "" means
	// emf.DefaultNamespace.
	MetricsNamespace string
}

// ConfigFromEnv reads the configuration through getenv (os.Getenv in main)
// and validates it, reporting every problem at once.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		UserPoolID: strings.TrimSpace(getenv("USER_POOL_ID")),
		JWKSURL:    strings.TrimSpace(getenv("JWKS_URL")),
		Issuer:     strings.TrimSpace(getenv("ISSUER")),
		ClockSkew:  DefaultClockSkew,
		// An empty variable is unset, so a template can always pass it.
		MetricsNamespace: cmp.Or(strings.TrimSpace(getenv("METRICS_NAMESPACE")), emf.DefaultNamespace),
	}
	if ids := getenv("APP_CLIENT_IDS"); strings.TrimSpace(ids) != "" {
		for id := range strings.SplitSeq(ids, ",") {
			c.ClientIDs = append(c.ClientIDs, strings.TrimSpace(id))
		}
	}
	var errs []error
	if s := strings.TrimSpace(getenv("CLOCK_SKEW")); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("CLOCK_SKEW: %w", err))
		}
		c.ClockSkew = d
	}
	if err := errors.Join(append(errs, c.Validate())...); err != nil {
		return Config{}, err
	}
	return c, nil
}

var clientIDPattern = regexp.MustCompile(`^[\w+]{1,128}$`)

// Validate reports every problem with c, joined, so a bad deployment fails its cold start once and loudly.
func (c Config) Validate() error {
	var errs []error
	if !cognito.ValidPoolID(c.UserPoolID) {
		errs = append(errs, fmt.Errorf("USER_POOL_ID %q: want <region>_<id>, e.g. us-east-1_AbCdEf123", c.UserPoolID))
	}
	if len(c.ClientIDs) == 0 {
		errs = append(errs, errors.New("APP_CLIENT_IDS: required (comma-separated app client ids)"))
	}
	for _, id := range c.ClientIDs {
		if !clientIDPattern.MatchString(id) {
			errs = append(errs, fmt.Errorf("APP_CLIENT_IDS: %q is not an app client id", id))
		}
	}
	for _, u := range []struct{ env, url string }{{"JWKS_URL", c.JWKSURL}, {"ISSUER", c.Issuer}} {
		if err := checkURL(u.url); u.url != "" && err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.env, err))
		}
	}
	if c.MetricsNamespace != "" && !emf.ValidNamespace(c.MetricsNamespace) {
		errs = append(errs, fmt.Errorf("METRICS_NAMESPACE %q: want 1 to 255 of [0-9A-Za-z.-_/#:], not starting with AWS/", c.MetricsNamespace))
	}
	if c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew {
		errs = append(errs, fmt.Errorf("CLOCK_SKEW %v: want 0 to %v", c.ClockSkew, MaxClockSkew))
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute https URL, or http on a loopback host (local runs and tests):
// keys fetched or issuers named over plain http elsewhere could be substituted on the wire.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q: want an absolute URL without credentials or fragment", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return fmt.Errorf("%q: plain http is only allowed on loopback", s)
	}
	return fmt.Errorf("%q: want an https URL", s)
}

// ExpectedIssuer is the exact iss a token must carry: Issuer when set, else
// the pool's, https://cognito-idp.<region>.<DNS suffix of its partition>/<pool>.
func (c Config) ExpectedIssuer() string {
	if c.Issuer != "" {
		return c.Issuer
	}
	return cognito.Issuer(c.UserPoolID)
}

// KeySetURL is where the pool's keys are fetched: JWKSURL when set, else the
// pool's issuer's /.well-known/jwks.json. ISSUER does not move the keys:
// Cognito serves them from the cognito-idp host for both issuer forms.
func (c Config) KeySetURL() string {
	if c.JWKSURL != "" {
		return c.JWKSURL
	}
	return cognito.JWKSURL(cognito.Issuer(c.UserPoolID))
}
