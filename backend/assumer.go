package backend

import (
	"context"
	"errors"
	"fmt"
	"math"
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

	cfg   Config
	allow allowlist
	base  aws.Config
	sts   AssumeRoleAPI

	// sessions maps a user id to that user's sessions, a []*session that is
	// never modified once stored (a change stores a new slice). Keying by the
	// user id, a string the event already holds, means a lookup builds no
	// key; a user has one session per role they use, so the list is short.
	// Entries never expire inside go-cache: sessions age on Now, which tests
	// control, and go-cache's own clock would be a second read per lookup.
	sessions *gocache.Cache

	mu        sync.Mutex // serialises cache changes, so a burst creates one session per key
	count     int        // sessions held in the cache; guarded by mu
	lastSweep time.Time  // guarded by mu
}

// maxSessionsPerUser bounds one user's list, which every request of that
// user scans: a user beyond it loses their oldest session, not others'.
const maxSessionsPerUser = 8

// session is one cached (role, user) credentials provider.
type session struct {
	role, name string // with the user id, the key of the session
	creds      *aws.CredentialsCache
	assumes    *atomic.Uint64 // AssumeRole attempts made through creds
	stale      time.Time      // by Assumer.Now: from then on a new session replaces this one

	// fresh is when (Unix ns) the credentials creds last returned stop
	// being handed out by the SDK's own rule. Until then, by Assumer.Now, a
	// request uses them without calling creds.Retrieve, whose own clock
	// read would be the request's second; from then on, or before the first
	// Retrieve (zero), Retrieve decides, refreshes, and merges concurrent
	// refreshes. Signing with creds calls Retrieve again regardless.
	fresh atomic.Int64
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
		cfg:   c,
		allow: allowlist{patterns: patterns},
		base:  base,
		sts:   client,
		// No janitor goroutine: stale sessions are swept when the cache is
		// full (see session), which is the only time they cost anything.
		sessions: gocache.New(gocache.NoExpiration, 0),
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
func (a *Assumer) ConfigFor(ctx context.Context, req events.APIGatewayProxyRequest) (cfg aws.Config, id Identity, err error) {
	if id, err = readContext(req.RequestContext.Authorizer); err != nil {
		return aws.Config{}, id, err
	}
	creds, _, err := a.credentials(ctx, id) // judges the role as ParseIdentity would
	if err != nil {
		return aws.Config{}, id, err
	}
	// aws.Config is some 700 bytes: written once, straight into the result.
	cfg = a.base
	cfg.Credentials = creds
	return cfg, id, nil
}

// Assume is ConfigFor for an identity already parsed, and also reports
// whether the credentials came from the cache or from a new AssumeRole. It
// checks id again (role format, allowlist), so an Identity built by hand is
// no way around the rules.
func (a *Assumer) Assume(ctx context.Context, id Identity) (cfg aws.Config, src Source, err error) {
	creds, src, err := a.credentials(ctx, id)
	if err != nil {
		return aws.Config{}, SourceNone, err
	}
	cfg = a.base
	cfg.Credentials = creds
	return cfg, src, nil
}

// credentials judges id and returns its session's credentials, retrieved:
// Assume without building the Config.
func (a *Assumer) credentials(ctx context.Context, id Identity) (*aws.CredentialsCache, Source, error) {
	user := id.userID()
	role, valid := splitRoleARN(id.Role)
	switch {
	case id.Role == "":
		return nil, SourceNone, ErrNoRole
	case user == "":
		return nil, SourceNone, ErrNoUser
	case !valid:
		return nil, SourceNone, ErrBadRole
	case !a.allow.allows(ctx, role):
		return nil, SourceNone, ErrRoleNotAllowed
	}
	var sourceIdentity string
	if !a.cfg.DisableSourceIdentity {
		// SourceIdentity is what CloudTrail shows for every call of the
		// session; a mangled sub would name the wrong person, so refuse.
		if sourceIdentity = user; !validSessionString(sourceIdentity) {
			return nil, SourceNone, fmt.Errorf("%w: sub is not usable as SourceIdentity", ErrBadContext)
		}
	}
	// One clock read per request, for the session's age and the
	// credentials' expiry alike: a read is some 60 ns, a seventh of a
	// cached request.
	now := a.now()
	s := a.session(id.Role, sessionName(id), user, sourceIdentity, now)
	if now.UnixNano() < s.fresh.Load() {
		return s.creds, SourceCache, nil
	}
	before := s.assumes.Load()
	creds, err := s.creds.Retrieve(ctx)
	if err != nil {
		return nil, SourceNone, stsError(err)
	}
	// Retrieve returns the expiry already brought forward by the refresh
	// window, as it checks it. A racing store of an older expiry only
	// lowers the mark, which costs one more Retrieve.
	fresh := int64(math.MaxInt64)
	if creds.CanExpire {
		fresh = creds.Expires.UnixNano()
	}
	s.fresh.Store(fresh)
	if s.assumes.Load() != before {
		return s.creds, SourceAssumed, nil
	}
	return s.creds, SourceCache, nil
}

// session returns the cached session for (role, name, user), creating it if
// missing or stale. When the cache holds MaxSessions sessions, stale ones are
// swept (at most once a minute); if it is still full the new session is used
// for this request only and not cached: a flood of distinct users then costs
// one AssumeRole each, but never unbounded memory.
func (a *Assumer) session(role, name, user, sourceIdentity string, now time.Time) *session {
	if s := a.cached(role, name, user, now); s != nil {
		return s
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	v, _ := a.sessions.Get(user)
	old, _ := v.([]*session)
	if s := find(old, role, name, now); s != nil {
		return s // another request created it while we waited
	}
	s := a.newSession(role, name, sourceIdentity, now)
	// The user's new list: their live sessions but the one replaced, oldest
	// first, then s.
	list := make([]*session, 0, len(old)+1)
	for _, o := range old {
		if now.Before(o.stale) && (o.role != role || o.name != name) {
			list = append(list, o)
		}
	}
	if len(list) == maxSessionsPerUser {
		list = list[1:]
	}
	list = append(list, s)
	grow := len(list) - len(old)
	if grow > 0 && a.count+grow > a.cfg.MaxSessions && now.Sub(a.lastSweep) >= time.Minute {
		a.sweep(now)
		a.lastSweep = now
	}
	if grow <= 0 || a.count+grow <= a.cfg.MaxSessions {
		a.sessions.Set(user, list, gocache.NoExpiration)
		a.count += grow
	}
	return s
}

// cached is the lookup every request makes: one read lock, no key built,
// no clock read of its own.
func (a *Assumer) cached(role, name, user string, now time.Time) *session {
	v, ok := a.sessions.Get(user)
	if !ok {
		return nil
	}
	return find(v.([]*session), role, name, now)
}

// find returns the live session for (role, name) in one user's list.
func find(list []*session, role, name string, now time.Time) *session {
	for _, s := range list {
		if s.role == role && s.name == name && now.Before(s.stale) {
			return s
		}
	}
	return nil
}

// sweep drops stale sessions from the cache. a.mu must be held: the cache
// changes only under it, so the lists read here are still current.
func (a *Assumer) sweep(now time.Time) {
	for user, item := range a.sessions.Items() {
		old := item.Object.([]*session)
		var live []*session
		for _, s := range old {
			if now.Before(s.stale) {
				live = append(live, s)
			}
		}
		switch {
		case len(live) == len(old):
			continue
		case len(live) == 0:
			a.sessions.Delete(user)
		default:
			a.sessions.Set(user, live, gocache.NoExpiration)
		}
		a.count -= len(old) - len(live)
	}
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
		role: role,
		name: name,
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
