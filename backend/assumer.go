package backend

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	gocache "github.com/patrickmn/go-cache"
)

// AssumeRoleAPI is the part of the STS client an [Assumer] uses; *sts.Client
// satisfies it. It must be signed with the function's execution role.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// Source says where a request's credentials came from, for the log line.
type Source string

// Sources of credentials.
const (
	SourceNone    Source = "none"    // no credentials: the request was refused first
	SourceCache   Source = "cache"   // cached credentials of an earlier AssumeRole
	SourceAssumed Source = "assumed" // this request waited for a new AssumeRole
)

// refreshWindow is how long before expiry credentials stop being handed out.
// User work started with them must not have them expire mid-call.
const refreshWindow = time.Minute

// Assumer turns a validated identity into an aws.Config that signs with the
// temporary credentials of the identity's role, assumed for that user. It
// caches one credentials provider per (role, user); a cached user costs no
// STS call until the credentials are due for refresh. Safe for concurrent use.
type Assumer struct {
	// Now is the clock that ages cached sessions; nil means time.Now.
	// Set it before first use.
	Now func() time.Time

	cfg      Config
	patterns []rolePattern
	base     aws.Config
	sts      AssumeRoleAPI

	sessions *gocache.Cache

	mu        sync.Mutex // serialises cache misses, so a burst creates one session per key
	lastSweep time.Time  // guarded by mu
}

// session is one cached (role, user) credentials provider.
type session struct {
	creds   *aws.CredentialsCache
	assumes *atomic.Uint64 // AssumeRole attempts made through creds
	stale   time.Time      // by Assumer.Now: from then on a new session replaces this one
}

// NewAssumer returns an Assumer for c. base is the function's own aws.Config
// (region, endpoints, retryer, HTTP client); its Credentials are replaced in
// every Config handed out and are never used for user work. client makes the
// AssumeRole calls with the execution role.
func NewAssumer(c Config, base aws.Config, client AssumeRoleAPI) (*Assumer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		return nil, errors.New("backend: NewAssumer needs an STS client")
	}
	c = c.withDefaults()
	patterns := make([]rolePattern, len(c.AllowedRoleARNs))
	for i, p := range c.AllowedRoleARNs {
		patterns[i], _ = compilePattern(p) // Validate has vetted them
	}
	return &Assumer{
		cfg:      c,
		patterns: patterns,
		base:     base,
		sts:      client,
		// No janitor goroutine: expired entries are swept when the cache is
		// full (see session), which is the only time they cost anything.
		sessions: gocache.New(c.SessionDuration-refreshWindow, 0),
	}, nil
}

// ConfigFor returns an aws.Config for the caller of req, signed with the
// temporary credentials of the role its authorizer context names (see
// [ParseIdentity]), and that identity. The role is checked against the
// allowlist before any STS call, and the credentials are obtained before
// ConfigFor returns, so an error here means no user work should run.
//
// On error the Config is the zero value: it carries no credentials at all,
// in particular not the execution role's. The error wraps one of the
// package's sentinel errors; [ErrorResponse] turns it into a response.
func (a *Assumer) ConfigFor(ctx context.Context, req events.APIGatewayProxyRequest) (aws.Config, Identity, error) {
	id, err := readContext(req.RequestContext.Authorizer)
	if err != nil {
		return aws.Config{}, id, err
	}
	cfg, _, err := a.Assume(ctx, id) // judges the role as ParseIdentity would
	return cfg, id, err
}

// Assume is ConfigFor for an identity already parsed, and also reports
// whether the credentials came from the cache or from a new AssumeRole. It
// checks id again (role format, allowlist), so an Identity built by hand is
// no way around the rules.
func (a *Assumer) Assume(ctx context.Context, id Identity) (aws.Config, Source, error) {
	role, valid := splitRoleARN(id.Role)
	switch {
	case id.Role == "":
		return aws.Config{}, SourceNone, ErrNoRole
	case id.userID() == "":
		return aws.Config{}, SourceNone, ErrNoUser
	case !valid:
		return aws.Config{}, SourceNone, ErrBadRole
	case !allowed(ctx, a.patterns, role):
		return aws.Config{}, SourceNone, ErrRoleNotAllowed
	}
	var sourceIdentity string
	if !a.cfg.DisableSourceIdentity {
		// SourceIdentity is what CloudTrail shows for every call of the
		// session; a mangled sub would name the wrong person, so refuse.
		if sourceIdentity = id.userID(); !validSessionString(sourceIdentity) {
			return aws.Config{}, SourceNone, fmt.Errorf("%w: sub is not usable as SourceIdentity", ErrBadContext)
		}
	}
	s := a.session(id.Role, sessionName(id), id.userID(), sourceIdentity)
	before := s.assumes.Load()
	if _, err := s.creds.Retrieve(ctx); err != nil {
		return aws.Config{}, SourceNone, stsError(err)
	}
	src := SourceCache
	if s.assumes.Load() != before {
		src = SourceAssumed
	}
	cfg := a.base.Copy()
	cfg.Credentials = s.creds
	return cfg, src, nil
}

// session returns the cached session for (role, name, user), creating it if
// missing or stale. When the cache holds MaxSessions entries, expired ones are
// swept (at most once a minute); if it is still full the new session is used
// for this request only and not cached: a flood of distinct users then costs
// one AssumeRole each, but never unbounded memory.
func (a *Assumer) session(role, name, user, sourceIdentity string) *session {
	// role and name cannot contain NUL (validated and sanitised), so the key
	// is unambiguous whatever the user id holds.
	key := role + "\x00" + name + "\x00" + user
	now := a.now()
	if v, ok := a.sessions.Get(key); ok && now.Before(v.(*session).stale) {
		return v.(*session)
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	v, present := a.sessions.Get(key)
	if present && now.Before(v.(*session).stale) {
		return v.(*session) // another request created it while we waited
	}
	s := a.newSession(role, name, sourceIdentity, now)
	if !present && a.sessions.ItemCount() >= a.cfg.MaxSessions && now.Sub(a.lastSweep) >= time.Minute {
		a.sessions.DeleteExpired()
		a.lastSweep = now
	}
	if present || a.sessions.ItemCount() < a.cfg.MaxSessions {
		a.sessions.Set(key, s, gocache.DefaultExpiration)
	}
	return s
}

func (a *Assumer) newSession(role, name, sourceIdentity string, now time.Time) *session {
	assumes := new(atomic.Uint64)
	p := stscreds.NewAssumeRoleProvider(a.sts, role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = name
		o.Duration = a.cfg.SessionDuration
		if sourceIdentity != "" {
			o.SourceIdentity = aws.String(sourceIdentity)
		}
	})
	return &session{
		creds: aws.NewCredentialsCache(countingProvider{p, assumes}, func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = refreshWindow
		}),
		assumes: assumes,
		stale:   now.Add(a.cfg.SessionDuration - refreshWindow),
	}
}

func (a *Assumer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// countingProvider counts Retrieve calls of the provider it wraps, so that a
// request can tell whether it waited for an AssumeRole.
type countingProvider struct {
	aws.CredentialsProvider
	n *atomic.Uint64
}

func (c countingProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c.n.Add(1)
	return c.CredentialsProvider.Retrieve(ctx)
}

// sessionName derives the RoleSessionName from the username, else the user
// id, keeping [\w+=,.@-] and replacing anything else with '-'. It only labels
// the session in CloudTrail; SourceIdentity and the cache key carry the id.
func sessionName(id Identity) string {
	if n := sanitizeName(id.Username); len(n) >= 2 {
		return n
	}
	if n := sanitizeName(id.userID()); len(n) >= 2 {
		return n
	}
	return "rolegate-user"
}

func sanitizeName(s string) string {
	if len(s) <= 64 && allNameBytes(s) {
		return s // the common case: no allocation
	}
	b := make([]byte, 0, min(len(s), 64))
	for _, r := range s {
		if len(b) == 64 {
			break
		}
		if r < 0x80 && isNameByte(byte(r)) {
			b = append(b, byte(r))
		} else {
			b = append(b, '-')
		}
	}
	return string(b)
}

// validSessionString reports whether s is acceptable to STS as a
// SourceIdentity: 2 to 64 characters of [\w+=,.@-].
func validSessionString(s string) bool {
	return len(s) >= 2 && len(s) <= 64 && allNameBytes(s)
}

// allNameBytes is onlyBytes(s, isNameByte) without the indirect call per
// byte: it runs on every request.
func allNameBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return s != ""
}

// stsError maps an STS failure to its outcome. The SDK has already retried
// what is retryable; what reaches here is final.
func stsError(err error) error {
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		code := api.ErrorCode()
		if code == "AccessDenied" || code == "AccessDeniedException" {
			return fmt.Errorf("%w: %w", ErrAccessDenied, err)
		}
		if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
			return fmt.Errorf("%w: %w", ErrThrottled, err)
		}
	}
	var quota ratelimit.QuotaExceededError
	if errors.As(err, &quota) { // the SDK's own retry budget ran out: still throttling
		return fmt.Errorf("%w: %w", ErrThrottled, err)
	}
	return fmt.Errorf("%w: %w", ErrSTS, err)
}
