// Package jwkstest is a stand-in Cognito user pool for tests, in the spirit of net/http/httptest: it mints RSA keys,
// serves their JWKS on loopback, and mints Cognito-shaped ID and access tokens, well-formed or hostile.
//
// It serves keys and signs tokens; it verifies nothing. Claims come from internal/local/userpool and keys and
// signatures from internal/local/mint: it never imports jwx itself.
package jwkstest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/cognito"
	"github.com/rolegate/rolegate/internal/local/mint"
)

// Defaults of a new Issuer.
const (
	DefaultRegion = "us-east-1"
	DefaultPoolID = "us-east-1_TestPool1"
	// DefaultClientID has the shape of a Cognito app client id: 26 lowercase letters and digits.
	DefaultClientID = "4v2rolegate7test0client9q3"
)

// Issuer is a user pool whose JWKS is served at URL, http://127.0.0.1:<port>/<PoolID>/.well-known/jwks.json.
type Issuer struct {
	URL      string // the JWKS URL
	Region   string
	PoolID   string
	ClientID string

	now     func() time.Time
	roles   map[string]string
	srv     *httptest.Server
	fetches atomic.Int64

	mu       sync.Mutex
	current  *mint.PrivateKey
	previous *mint.PrivateKey
	set      []byte        // the JWKS of current and previous
	failing  int           // status to answer with, 0 when healthy
	delay    time.Duration // wait before answering
	body     []byte        // served instead of set when non-nil
	redirect string        // answer 302 to it, when non-empty
	fixed    map[*mint.PrivateKey]int
	hold     chan struct{} // requests wait until it is closed, when non-nil
}

// Option configures NewIssuer.
type Option func(*Issuer)

// WithNow sets the clock that claims take their times from. Default time.Now.
func WithNow(now func() time.Time) Option { return func(i *Issuer) { i.now = now } }

// WithRegion sets the region; without WithPoolID the pool id becomes "<region>_TestPool1".
func WithRegion(region string) Option { return func(i *Issuer) { i.Region = region } }

// WithPoolID sets the user pool id; without WithRegion the region is the part before "_".
func WithPoolID(id string) Option { return func(i *Issuer) { i.PoolID = id } }

// WithClientID sets the app client id, the aud of ID tokens.
func WithClientID(id string) Option { return func(i *Issuer) { i.ClientID = id } }

// WithKey uses k as the first signing key instead of minting one, which saves key generation in big test suites.
func WithKey(k *mint.PrivateKey) Option { return func(i *Issuer) { i.current = k } }

// WithRoles maps groups to role ARNs for cognito:roles and cognito:preferred_role. A group not in the map gets
// arn:aws:iam::123456789012:role/rolegate-<group>.
func WithRoles(roles map[string]string) Option {
	return func(i *Issuer) {
		for g, r := range roles {
			i.roles[g] = r
		}
	}
}

// NewIssuer mints a key and starts serving its JWKS; t.Cleanup stops the server.
func NewIssuer(t testing.TB, opts ...Option) *Issuer {
	t.Helper()
	i := &Issuer{now: time.Now, roles: map[string]string{}, fixed: map[*mint.PrivateKey]int{}}
	for _, o := range opts {
		o(i)
	}
	switch {
	case i.Region == "" && i.PoolID == "":
		i.Region, i.PoolID = DefaultRegion, DefaultPoolID
	case i.Region == "":
		i.Region = cognito.Region(i.PoolID)
	case i.PoolID == "":
		i.PoolID = i.Region + "_TestPool1"
	}
	if i.ClientID == "" {
		i.ClientID = DefaultClientID
	}
	if i.current == nil {
		i.current = i.NewKey(t)
	}
	i.publish(t)

	path := "/" + i.PoolID + "/.well-known/jwks.json"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path, i.serveJWKS)
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	i.URL = i.srv.URL + path
	return i
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.fetches.Add(1)
	i.mu.Lock()
	failing, delay, body, hold, redirect := i.failing, i.delay, i.body, i.hold, i.redirect
	if body == nil {
		body = i.set
	}
	i.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	if delay > 0 {
		// Waiting on the request's context lets a client that timed out end the handler, and the test, at once.
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		}
	}
	if failing != 0 {
		http.Error(w, http.StatusText(failing), failing)
		return
	}
	if redirect != "" {
		http.Redirect(w, r, redirect, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// Issuer returns the iss of the pool's tokens, cognito.Issuer of the pool: https://cognito-idp.<region>.<DNS
// suffix>/<pool>.
func (i *Issuer) Issuer() string { return cognito.Issuer(i.PoolID) }

// Now returns the issuer's clock reading.
func (i *Issuer) Now() time.Time { return i.now() }

// NewKey mints a 2048-bit key without publishing it, e.g. an attacker's key.
func (i *Issuer) NewKey(t testing.TB) *mint.PrivateKey {
	t.Helper()
	k, err := mint.GenerateKey("", 0)
	if err != nil {
		t.Fatalf("jwkstest: %v", err)
	}
	return k
}

// Key returns the current signing key.
func (i *Issuer) Key() *mint.PrivateKey {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.current
}

// Rotate mints a new current key and returns it; the served set becomes the new key and the one it replaces.
func (i *Issuer) Rotate(t testing.TB) *mint.PrivateKey {
	t.Helper()
	k := i.NewKey(t)
	i.mu.Lock()
	i.previous, i.current = i.current, k
	i.mu.Unlock()
	i.publish(t)
	return k
}

func (i *Issuer) publish(t testing.TB) {
	t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	keys := []*mint.PrivateKey{i.current}
	if i.previous != nil {
		keys = append(keys, i.previous)
	}
	set, err := mint.MarshalSet(keys...)
	if err != nil {
		t.Fatalf("jwkstest: %v", err)
	}
	i.set = set
}

// JWKS returns the key set served when no raw body is set.
func (i *Issuer) JWKS() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.set
}

// SetFailing makes the JWKS endpoint answer with status code; 0 heals it.
func (i *Issuer) SetFailing(code int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.failing = code
}

// SetDelay makes the JWKS endpoint wait d before answering, or until the client gives up; 0 removes the delay.
func (i *Issuer) SetDelay(d time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.delay = d
}

// Hold makes requests to the JWKS endpoint wait, from now until release is called or the client gives up, so that
// a test can have fetches in flight without depending on timing. t.Cleanup releases them.
func (i *Issuer) Hold(t testing.TB) (release func()) {
	ch := make(chan struct{})
	i.mu.Lock()
	i.hold = ch
	i.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			i.mu.Lock()
			if i.hold == ch {
				i.hold = nil
			}
			i.mu.Unlock()
			close(ch)
		})
	}
	t.Cleanup(release)
	return release
}

// SetRedirect makes the JWKS endpoint answer 302 Found to url, as a compromised key host or proxy might (for
// example to another Issuer's URL, serving an attacker's keys); "" ends it.
func (i *Issuer) SetRedirect(url string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.redirect = url
}

// SetBody serves b (garbage, oversized, a hand-made set…) instead of the key set; nil goes back to the key set.
func (i *Issuer) SetBody(b []byte) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.body = b
}

// Fetches counts requests to the JWKS endpoint, failed ones included.
func (i *Issuer) Fetches() int { return int(i.fetches.Load()) }
