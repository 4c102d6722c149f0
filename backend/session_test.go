package backend

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
				creds, err := h.newSession(Identity{Sub: sub, Role: role})
				if err != nil {
					t.Fatal(err)
				}
				items[sub] = gocache.Item{Object: creds, Expiration: tt.expiration.UnixNano()}
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
	tests := []struct {
		name string
		id   Identity
		want string
	}{
		{"a clean username is used as is", Identity{Username: "alice", Sub: "s-1"}, "alice"},
		{"an email username is allowed", Identity{Username: "alice@example.com"}, "alice@example.com"},
		{"spaces and other characters become dashes", Identity{Username: "Alice Smith/ops"}, "Alice-Smith-ops"},
		{"a non-ASCII letter becomes one dash", Identity{Username: "jos\u00e9"}, "jos-"},
		{"a long username is cut to 64", Identity{Username: strings.Repeat("x", 100)}, strings.Repeat("x", 64)},
		{"a one-letter username falls back to the sub", Identity{Username: "a", Sub: "sub-1"}, "sub-1"},
		{"no username uses the sub", Identity{Sub: "7c1f3e2a-5b4d"}, "7c1f3e2a-5b4d"},
		{"no usable name at all uses a fixed one", Identity{Username: "a", Sub: "b"}, "rolegate-user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sessionName(tt.id); got != tt.want {
				t.Errorf("sessionName = %q, want %q", got, tt.want)
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
