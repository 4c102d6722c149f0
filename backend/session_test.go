package backend

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	gocache "github.com/patrickmn/go-cache"
)

func TestAFullCacheMakesRoomOnlyFromSweptSessions(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/r"
	tests := []struct {
		name       string
		expiration time.Time // of the two sessions that fill the cache
		swept      bool      // go-cache's janitor has run since they expired
		wantCached bool
	}{
		{"expired sessions the janitor swept make room for a new user", time.Now().Add(-time.Second), true, true},
		{"expired sessions not yet swept still count", time.Now().Add(-time.Second), false, false},
		{"live sessions keep a new user out", time.Now().Add(time.Hour), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(Config{MaxSessions: 2}, aws.Config{}, sts.New(sts.Options{}))
			if err != nil {
				t.Fatal(err)
			}
			items := map[string]gocache.Item{}
			for _, sub := range []string{"u1", "u2"} {
				p, err := h.newSession(Identity{Sub: sub, Role: role})
				if err != nil {
					t.Fatal(err)
				}
				items[sub] = gocache.Item{Object: &session{key: sub, provider: p}, Expiration: tt.expiration.UnixNano()}
			}
			h.sessions = gocache.NewFrom(time.Hour, 0, items)
			if tt.swept {
				h.sessions.DeleteExpired() // what the janitor does every minute
			}

			id := Identity{Sub: "u3", Role: role}
			first, _ := h.session(id)
			if again, _ := h.session(id); (again == first) != tt.wantCached {
				t.Errorf("new user cached = %v, want %v", again == first, tt.wantCached)
			}
			if n := h.sessions.ItemCount(); n > 2 {
				t.Errorf("%d sessions cached, bound 2", n)
			}
		})
	}
}

func TestSessionName(t *testing.T) {
	const sub = "7c1f3e2a-5b4d"
	derived := func(prefix, sub string) string { // the rule, spelt out once for the table
		sum := sha256.Sum256([]byte(sub))
		return prefix + "=" + hex.EncodeToString(sum[:8])
	}
	tests := []struct {
		name string
		id   Identity
		want string
	}{
		{"a clean username is used as is", Identity{Username: "alice", Sub: "s-1"}, "alice"},
		{"an email username is used as is", Identity{Username: "alice+ops@example.com", Sub: "s-1"}, "alice+ops@example.com"},
		{"64 characters are used as is", Identity{Username: strings.Repeat("x", 64), Sub: "s-1"}, strings.Repeat("x", 64)},
		{"other characters become dashes, then the sub's digest", Identity{Username: "Alice Smith/ops", Sub: "s-1"}, derived("Alice-Smith-ops", "s-1")},
		{"an '=' is never kept, so no username looks derived", Identity{Username: "a=b", Sub: "s-1"}, derived("a-b", "s-1")},
		{"a non-ASCII letter becomes one dash", Identity{Username: "jos\u00e9", Sub: "s-1"}, derived("jos-", "s-1")},
		{"a long username keeps 47 characters", Identity{Username: strings.Repeat("x", 100), Sub: "s-1"}, derived(strings.Repeat("x", 47), "s-1")},
		{"a one-letter username keeps its letter", Identity{Username: "a", Sub: "s-1"}, derived("a", "s-1")},
		{"no username shows the sub", Identity{Sub: sub}, derived(sub, sub)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sessionName(tt.id); got != tt.want {
				t.Errorf("sessionName = %q, want %q", got, tt.want)
			}
			if got := sessionName(tt.id); len(got) > 64 || !regexp.MustCompile(`^[\w+=,.@-]{2,64}$`).MatchString(got) {
				t.Errorf("sessionName = %q, which STS refuses", got)
			}
		})
	}
}

// Users whose names sanitise alike still get names of their own: they would
// otherwise share an assumed-role ARN and aws:userid.
func TestSessionNamesOfDifferentUsersDiffer(t *testing.T) {
	long := strings.Repeat("team-member-", 6) // 72 characters
	tests := []struct {
		name string
		a, b Identity
	}{
		{"a character STS refuses and the dash it becomes", Identity{Username: "al!ce", Sub: "s-1"}, Identity{Username: "al-ce", Sub: "s-2"}},
		{"two long names sharing 64 characters", Identity{Username: long + "alice", Sub: "s-1"}, Identity{Username: long + "bob", Sub: "s-2"}},
		{"two names in a non-Latin script", Identity{Username: "\u5c71\u7530", Sub: "s-1"}, Identity{Username: "\u7530\u4e2d", Sub: "s-2"}},
		{"two names in Cyrillic and Greek", Identity{Username: "\u0430\u043d\u043d\u0430", Sub: "s-1"}, Identity{Username: "\u03b1\u03bd\u03bd\u03b1", Sub: "s-2"}},
		{"a username chosen to look like another's derived name", Identity{Username: "al!ce", Sub: "s-1"}, Identity{Username: sessionName(Identity{Username: "al!ce", Sub: "s-1"}), Sub: "s-2"}},
		{"a username equal to another user's sub", Identity{Sub: "s-1"}, Identity{Username: "s-1", Sub: "s-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := sessionName(tt.a), sessionName(tt.b); a == b {
				t.Errorf("%q and %q both get the session name %q", tt.a.Username, tt.b.Username, a)
			}
		})
	}
}

func TestTagValues(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  bool
	}{
		{"a UUID fits", "7c1f3e2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b", true},
		{"an email fits", "alice@example.com", true},
		{"letters of any script, spaces and marks _.:/=+-@ fit", "Zoë Ōtsuka 山田 _.:/=+-@", true},
		{"256 characters fit", strings.Repeat("é", 256), true},
		{"257 characters do not", strings.Repeat("a", 257), false},
		{"a comma does not", "smith,alice", false},
		{"a quote does not", `alice"`, false},
		{"an asterisk does not", "alice*", false},
		{"a control character does not", "alice\t", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tagValue.MatchString(tt.value); got != tt.want {
				t.Errorf("tagValue.MatchString(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestTheSDKCacheSeesTheAssumeRoleProvider(t *testing.T) {
	h, err := New(Config{}, aws.Config{}, sts.New(sts.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := h.session(Identity{Sub: "s-1", Role: "arn:aws:iam::123456789012:role/r"})
	if err != nil {
		t.Fatal(err)
	}
	cache := s.cache.Load()
	if !cache.IsCredentialsProvider(&stscreds.AssumeRoleProvider{}) || !slices.Contains(cache.ProviderSources(), aws.CredentialSourceSTSAssumeRole) {
		t.Errorf("the cache sees sources %v, want the stscreds provider's", cache.ProviderSources())
	}
}
