package authorizer

import (
	"cmp"
	"errors"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/cognito"
	"github.com/rolegate/rolegate/internal/emf"
	"github.com/rolegate/rolegate/internal/envvar"
)

// DefaultClockSkew is the leeway applied to exp, iat and nbf when CLOCK_SKEW is unset.
const DefaultClockSkew = 60 * time.Second

// MaxClockSkew is the largest accepted CLOCK_SKEW: more would make expiry meaningless.
const MaxClockSkew = 5 * time.Minute

// Config is the authorizer's configuration, read once at cold start.
type Config struct {
	// UserPoolIDs are the Cognito user pools, each "<region>_<id>" (USER_POOL_ID, required, comma-separated).
	UserPoolIDs []string
	// ClientIDs are the app client ids accepted as aud, of any of the pools (APP_CLIENT_IDS, required,
	// comma-separated).
	ClientIDs []string
	// JWKSURLs override where keys are fetched (JWKS_URL, optional, comma-separated, tried in order);
	// cognito.PoolIDPlaceholder in one stands for each pool's id, and with several pools every URL needs it.
	// The issuers checked stay the pools'.
	JWKSURLs []string
	// Issuers, when set, are the exact iss accepted instead of each pool's two default forms (ISSUER, optional,
	// comma-separated). Each names its pool by ending in "/<pool id>", and every pool needs one.
	Issuers []string
	// ClockSkew is the leeway for exp, iat and nbf (CLOCK_SKEW, a Go duration or seconds, default 60s, 0 to 5m).
	ClockSkew time.Duration
	// MetricsNamespace is the CloudWatch namespace of the decision metrics (METRICS_NAMESPACE); "" means
	// emf.DefaultNamespace.
	MetricsNamespace string
}

// ConfigFromEnv reads the configuration through getenv (os.Getenv in main)
// and validates it, reporting every problem at once.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		UserPoolIDs: list(getenv("USER_POOL_ID")),
		ClientIDs:   list(getenv("APP_CLIENT_IDS")),
		JWKSURLs:    list(getenv("JWKS_URL")),
		Issuers:     list(getenv("ISSUER")),
		ClockSkew:   DefaultClockSkew,
		// An empty variable is unset, so a template can always pass it.
		MetricsNamespace: cmp.Or(strings.TrimSpace(getenv("METRICS_NAMESPACE")), emf.DefaultNamespace),
	}
	var errs []error
	if s := strings.TrimSpace(getenv("CLOCK_SKEW")); s != "" {
		d, err := envvar.Duration("CLOCK_SKEW", s)
		errs = append(errs, err)
		c.ClockSkew = d
	}
	if err := errors.Join(append(errs, c.Validate())...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// list splits a comma-separated variable into its trimmed items; blank is none, and a blank item is kept for
// Validate to refuse.
func list(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var items []string
	for item := range strings.SplitSeq(v, ",") {
		items = append(items, strings.TrimSpace(item))
	}
	return items
}

var clientIDPattern = regexp.MustCompile(`^[\w+]{1,128}$`)

// Validate reports every problem with c, joined, so a bad deployment fails its cold start once and loudly.
func (c Config) Validate() error {
	var errs []error
	if len(c.UserPoolIDs) == 0 {
		errs = append(errs, envvar.Required("USER_POOL_ID", "comma-separated user pool ids"))
	}
	for i, id := range c.UserPoolIDs {
		if !cognito.ValidPoolID(id) || slices.Contains(c.UserPoolIDs[:i], id) {
			errs = append(errs, envvar.Invalid("USER_POOL_ID", id, "distinct <region>_<id>, e.g. us-east-1_AbCdEf123"))
		}
	}
	if len(c.ClientIDs) == 0 {
		errs = append(errs, envvar.Required("APP_CLIENT_IDS", "comma-separated app client ids"))
	}
	for _, id := range c.ClientIDs {
		if !clientIDPattern.MatchString(id) {
			errs = append(errs, envvar.Invalid("APP_CLIENT_IDS", id, "app client ids of 1 to 128 of [0-9A-Za-z_+], comma-separated"))
		}
	}
	for _, u := range c.JWKSURLs {
		// One set serving several pools would let a key of one verify the tokens of another.
		if len(c.UserPoolIDs) > 1 && !strings.Contains(u, cognito.PoolIDPlaceholder) {
			errs = append(errs, envvar.Invalid("JWKS_URL", u, "with several pools, each URL needs "+cognito.PoolIDPlaceholder))
		}
		if err := checkURL(strings.ReplaceAll(u, cognito.PoolIDPlaceholder, "us-east-1_Pool")); err != nil {
			errs = append(errs, envvar.Invalid("JWKS_URL", u, err.Error()))
		}
	}
	for _, iss := range c.Issuers {
		if err := checkURL(iss); err != nil {
			errs = append(errs, envvar.Invalid("ISSUER", iss, err.Error()))
		} else if poolOf(iss, c.UserPoolIDs) == "" {
			errs = append(errs, envvar.Invalid("ISSUER", iss, "an issuer ending in /<one of USER_POOL_ID's pools>"))
		}
	}
	for _, p := range c.Pools() {
		if len(p.Issuers) == 0 {
			errs = append(errs, envvar.Invalid("ISSUER", strings.Join(c.Issuers, ","), "an issuer for every pool; no issuer of pool "+p.ID))
		}
	}
	if c.MetricsNamespace != "" && !emf.ValidNamespace(c.MetricsNamespace) {
		errs = append(errs, envvar.Invalid("METRICS_NAMESPACE", c.MetricsNamespace, emf.NamespaceRule))
	}
	if c.ClockSkew < 0 || c.ClockSkew > MaxClockSkew {
		errs = append(errs, envvar.Invalid("CLOCK_SKEW", c.ClockSkew.String(), "0s to "+MaxClockSkew.String()))
	}
	return errors.Join(errs...)
}

// poolOf returns the pool of pools that issuer names by its last path segment, or "".
func poolOf(issuer string, pools []string) string {
	i := strings.LastIndex(issuer, "/")
	if i < 0 || !slices.Contains(pools, issuer[i+1:]) {
		return ""
	}
	return issuer[i+1:]
}

// checkURL accepts an absolute https URL, or http on a loopback host (local runs and tests):
// keys fetched or issuers named over plain http elsewhere could be substituted on the wire.
// Its error says what is wanted.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("an absolute URL without credentials or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errors.New("https (plain http only on loopback)")
	}
	return errors.New("an https URL")
}

// Pool is one user pool as the authorizer serves it.
type Pool struct {
	ID string
	// Issuers are the exact iss its tokens may carry: Config.Issuers naming it when set, else its original and
	// updated issuers, https://cognito-idp.<region>.<DNS suffix>/<pool> and https://issuer-cognito-idp.<same>.
	Issuers []string
	// KeySetURLs are where its keys are fetched, in order: Config.JWKSURLs for it when set, else the
	// /.well-known/jwks.json of its original issuer and then of its updated one (which AWS hosts in several
	// Regions). Config.Issuers does not move the keys.
	KeySetURLs []string
}

// Pools returns each configured pool with its issuers and key set URLs.
func (c Config) Pools() []Pool {
	var pools []Pool
	for _, id := range c.UserPoolIDs {
		p := Pool{ID: id}
		for _, iss := range c.Issuers {
			if poolOf(iss, c.UserPoolIDs) == id {
				p.Issuers = append(p.Issuers, iss)
			}
		}
		if c.Issuers == nil {
			p.Issuers = []string{cognito.Issuer(id), cognito.UpdatedIssuer(id)}
		}
		for _, u := range c.JWKSURLs {
			p.KeySetURLs = append(p.KeySetURLs, strings.ReplaceAll(u, cognito.PoolIDPlaceholder, id))
		}
		if c.JWKSURLs == nil {
			p.KeySetURLs = []string{cognito.JWKSURL(cognito.Issuer(id)), cognito.JWKSURL(cognito.UpdatedIssuer(id))}
		}
		pools = append(pools, p)
	}
	return pools
}
