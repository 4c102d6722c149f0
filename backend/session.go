package backend

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
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

// refreshWindow is how long before expiry credentials stop being handed out:
// user work started with them must not have them expire mid-call.
const refreshWindow = time.Minute

// session returns the cached credentials of (user, username, role), or new
// ones: an aws.CredentialsCache around an stscreds.AssumeRoleProvider, which
// assumes the role on first use and again within refreshWindow of expiry,
// merging concurrent refreshes into one call. An entry lives as long as
// credentials of a full SessionDuration are handed out. When MaxSessions
// entries are held, a new session serves its request uncached: a flood of
// users costs one AssumeRole each, never unbounded memory.
func (h *Handler) session(id Identity) (*aws.CredentialsCache, error) {
	// Control characters are refused in the context, so "\n" cannot be forged.
	key := id.Sub + "\n" + id.Username + "\n" + id.Role
	if v, ok := h.sessions.Get(key); ok {
		return v.(*aws.CredentialsCache), nil
	}
	creds, err := h.newSession(id)
	if err != nil {
		return nil, err
	}
	if h.sessions.ItemCount() >= h.cfg.MaxSessions {
		return creds, nil
	}
	if h.sessions.Add(key, creds, gocache.DefaultExpiration) != nil {
		if v, ok := h.sessions.Get(key); ok { // a concurrent request added it first: share its calls
			return v.(*aws.CredentialsCache), nil
		}
	}
	return creds, nil
}

// newSession checks what id puts into AssumeRole (a cached session has
// passed the same checks) and builds the session's provider.
func (h *Handler) newSession(id Identity) (*aws.CredentialsCache, error) {
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
	return aws.NewCredentialsCache(metered{p, h.now}, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = refreshWindow
	}), nil
}

// metered is the AssumeRole provider, counting and timing each call into the
// record in the context of the request that made it. A request whose refresh
// merged into another's made no call.
type metered struct {
	aws.CredentialsProvider
	now func() time.Time
}

type recordKey struct{}

func (m metered) Retrieve(ctx context.Context) (aws.Credentials, error) {
	start := m.now()
	creds, err := m.CredentialsProvider.Retrieve(ctx)
	if r, ok := ctx.Value(recordKey{}).(*record); ok {
		r.assumeTime.Add(int64(m.now().Sub(start)))
		r.assumes.Add(1)
	}
	return creds, err
}

// The value rules of STS: a session tag value, and a SourceIdentity.
var (
	tagValue       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
	sourceIdentity = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
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
