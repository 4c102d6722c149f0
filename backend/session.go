package backend

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	gocache "github.com/patrickmn/go-cache"

	"github.com/rolegate/rolegate/internal/arn"
)

// AssumeRoleAPI is the part of the STS client the handler uses; *sts.Client
// satisfies it. It must sign with the function's execution role.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// Timing of a session's credentials. Within refreshWindow of expiry they are
// no longer handed out: user work started with them must not have them
// expire mid-call. Three quarters into the time they are handed out, a
// request starts a refresh in the background and is served them meanwhile.
// A refresh that failed is not tried again for refreshRetry, so that an STS
// outage costs one call per session per refreshRetry, not one per request.
const (
	refreshWindow  = time.Minute
	refreshRetry   = 30 * time.Second
	refreshTimeout = 30 * time.Second
)

// session is the credentials of one (user, username, role): the SDK's
// aws.CredentialsCache around an stscreds.AssumeRoleProvider, which assumes
// the role on first use, merging concurrent requests into one call. A
// background refresh builds a second cache around the same provider and
// swaps it in once it holds new credentials.
type session struct {
	key      string
	cache    atomic.Pointer[aws.CredentialsCache]
	provider aws.CredentialsProvider
	busy     atomic.Bool // a refresh is under way

	mu        sync.Mutex
	expires   time.Time // of the credentials last seen
	refreshAt time.Time // when to refresh them, or to retry a failed refresh
}

// due reports whether creds, about to be used at now, should be refreshed.
func (s *session) due(now time.Time, creds aws.Credentials) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !creds.Expires.Equal(s.expires) {
		s.expires, s.refreshAt = creds.Expires, now.Add(creds.Expires.Sub(now)*3/4)
	}
	return creds.CanExpire && now.After(s.refreshAt) && now.Before(creds.Expires)
}

// retryAfter puts the next refresh off until t.
func (s *session) retryAfter(t time.Time) {
	s.mu.Lock()
	s.refreshAt = t
	s.mu.Unlock()
}

func (h *Handler) newCache(p aws.CredentialsProvider) *aws.CredentialsCache {
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = refreshWindow })
}

// session returns the cached session of (user, username, role), or a new
// one. An entry lives as long as its credentials are handed out, and a
// refresh renews it. When MaxSessions entries are held, a new session serves
// its request uncached: a flood of users costs one AssumeRole each, never
// unbounded memory.
func (h *Handler) session(id Identity) (*session, error) {
	// Control characters are refused in the context, so "\n" cannot be forged.
	key := id.Sub + "\n" + id.Username + "\n" + id.Role
	if v, ok := h.sessions.Get(key); ok {
		return v.(*session), nil
	}
	p, err := h.newSession(id)
	if err != nil {
		return nil, err
	}
	s := &session{key: key, provider: p}
	s.cache.Store(h.newCache(p))
	if h.sessions.ItemCount() >= h.cfg.MaxSessions {
		return s, nil
	}
	if h.sessions.Add(key, s, gocache.DefaultExpiration) != nil {
		if v, ok := h.sessions.Get(key); ok { // a concurrent request added it first: share its calls
			return v.(*session), nil
		}
	}
	return s, nil
}

// refreshAhead starts a background refresh of s when creds, which a request
// is about to use, are due (see session.due), so that only a session's
// first request waits on STS. Credentials already withdrawn are the SDK
// cache's to refresh, in the request. On Lambda a refresh runs while the
// environment runs: one frozen mid-call goes on, or times out, when the next
// invocation thaws it, which the last quarter of the credentials' time
// leaves room for. Each refresh writes its own line, with its
// AssumeRoleCalls.
func (h *Handler) refreshAhead(s *session, id Identity, creds aws.Credentials) {
	if !s.due(h.now(), creds) || !s.busy.CompareAndSwap(false, true) {
		return
	}
	h.refreshes.Go(func() {
		defer s.busy.Store(false)
		r := &record{start: h.now(), id: id}
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), recordKey{}, r), refreshTimeout)
		defer cancel()
		next := h.newCache(s.provider)
		if fresh, err := next.Retrieve(ctx); err != nil {
			r.err = stsError(err)
			s.retryAfter(h.now().Add(refreshRetry))
		} else {
			s.due(h.now(), fresh) // note them before they are served
			s.cache.Store(next)
			_ = h.sessions.Replace(s.key, s, gocache.DefaultExpiration) // lives on; an uncached or swept one does not come back
		}
		h.logRecord(ctx, "refresh", r, "refreshed", slog.String("role", id.Role), slog.String("user", id.User()))
	})
}

// newSession checks what id puts into AssumeRole (a cached session has
// passed the same checks) and builds the session's provider.
func (h *Handler) newSession(id Identity) (aws.CredentialsProvider, error) {
	switch {
	case !h.cfg.DisableSourceIdentity && !sourceIdentity.MatchString(id.Sub):
		// SourceIdentity is what CloudTrail shows for every call of the
		// session; a mangled sub would name the wrong person, so refuse.
		return nil, fmt.Errorf("%w: sub is not usable as SourceIdentity", errBadContext)
	case !h.cfg.DisableSessionTags && !tagValue.MatchString(id.Sub):
		// a role's policy may scope users by this tag: never leave it out
		return nil, fmt.Errorf("%w: sub is not usable as a session tag", errBadContext)
	}
	p := stscreds.NewAssumeRoleProvider(h.sts, id.Role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = sessionName(id)
		o.Duration = h.cfg.SessionDuration
		if !h.cfg.DisableSourceIdentity {
			o.SourceIdentity = aws.String(id.Sub)
		}
		if !h.cfg.DisableSessionTags { // for policies such as users/${aws:PrincipalTag/sub}/*
			o.Tags = []types.Tag{{Key: aws.String("sub"), Value: aws.String(id.Sub)}}
			if id.Username != "" && tagValue.MatchString(id.Username) { // else left out: a name is no reason to fail
				o.Tags = append(o.Tags, types.Tag{Key: aws.String("username"), Value: aws.String(id.Username)})
			}
		}
	})
	return p, nil
}

// countedSTS is the STS client of the AssumeRole provider, counting and
// timing each call into the record in the context of the request (or
// refresh) that made it. A request whose refresh merged into another's made
// no call. Counting here, not around the provider, leaves the provider as
// the SDK's cache expects it (ProviderSources and all).
type countedSTS struct {
	AssumeRoleAPI
	now func() time.Time
}

type recordKey struct{}

func (c countedSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	start := c.now()
	out, err := c.AssumeRoleAPI.AssumeRole(ctx, in, optFns...)
	if r, ok := ctx.Value(recordKey{}).(*record); ok {
		r.assumeTime.Add(int64(c.now().Sub(start)))
		r.assumes.Add(1)
	}
	return out, err
}

// The value rules of STS: a session tag value, and a SourceIdentity.
var (
	tagValue       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
	sourceIdentity = regexp.MustCompile(`^[` + arn.NameClass + `]{2,64}$`)
)

// sessionName is the RoleSessionName: unique per user, and readable. It is
// the username itself when that is 2 to 64 of the characters STS allows
// other than '=' (a pool keeps usernames unique). Otherwise it is the
// username (else the sub) with every other character replaced by '-', cut
// to 47, then '=' and 16 hex digits of the sub's SHA-256. Only this form
// holds '=', so no username can take another user's name.
func sessionName(id Identity) string {
	other := func(r rune) bool { return r >= utf8.RuneSelf || r == '=' || !arn.NameChar(byte(r)) }
	if n := len(id.Username); n >= 2 && n <= 64 && !strings.ContainsFunc(id.Username, other) {
		return id.Username
	}
	prefix := strings.Map(func(r rune) rune {
		if other(r) {
			return '-'
		}
		return r
	}, cmp.Or(id.Username, id.Sub))
	sum := sha256.Sum256([]byte(id.Sub))
	return prefix[:min(len(prefix), 47)] + "=" + hex.EncodeToString(sum[:8])
}
