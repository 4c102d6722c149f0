package authorizer_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rolegate/rolegate/authorizer"
	"github.com/rolegate/rolegate/internal/emf"
	"github.com/rolegate/rolegate/internal/emf/emftest"
	"github.com/rolegate/rolegate/internal/local/mint"
	"github.com/rolegate/rolegate/internal/testkit/clocktest"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
	"github.com/rolegate/rolegate/jwks"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

// t0 is the fixed "now" of the tests; the issuer mints at t0 and the handler's clock starts there.
var t0 = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

// testMethodARN is a methodArn as API Gateway sends it for GET /whoami on stage prod.
const testMethodARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/whoami"

// testResource is the Allow resource derived from testMethodARN: the whole stage.
const testResource = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*"

// poolKey is minted once per test binary: RSA key generation is the slowest thing these tests do.
var poolKey = sync.OnceValue(func() *mint.PrivateKey {
	k, err := mint.GenerateKey("", 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// countingKeys counts lookups, to tell a cached decision from a fresh one.
type countingKeys struct {
	authorizer.KeySource
	n atomic.Int64
}

func (c *countingKeys) Key(ctx context.Context, kid string) (*jwks.Key, error) {
	c.n.Add(1)
	return c.KeySource.Key(ctx, kid)
}

// fixture is one pool (a jwkstest.Issuer on loopback), the real jwks.Cache in front of it, and a Handler; with
// withOtherPools, further pools beside it, each with its own key and cache.
type fixture struct {
	iss   *jwkstest.Issuer
	cfg   authorizer.Config
	clock *clocktest.Clock
	keys  *countingKeys
	h     *authorizer.Handler
	logs  *syncbuf.Buffer

	others    []*jwkstest.Issuer
	otherKeys []*countingKeys
}

type fixtureOption func(*fixtureSettings)

type fixtureSettings struct {
	cfg       func(*authorizer.Config)
	handler   []authorizer.Option
	keySource func(authorizer.KeySource) authorizer.KeySource
	issuer    []jwkstest.Option
	others    []string // pool ids
}

// withOtherPools adds a pool of each id, each with a key of its own, to the fixture's configuration.
func withOtherPools(ids ...string) fixtureOption {
	return func(s *fixtureSettings) { s.others = append(s.others, ids...) }
}

func withConfig(edit func(*authorizer.Config)) fixtureOption {
	return func(s *fixtureSettings) { s.cfg = edit }
}

func withHandlerOptions(o ...authorizer.Option) fixtureOption {
	return func(s *fixtureSettings) { s.handler = append(s.handler, o...) }
}

func withKeySource(wrap func(authorizer.KeySource) authorizer.KeySource) fixtureOption {
	return func(s *fixtureSettings) { s.keySource = wrap }
}

func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	var s fixtureSettings
	for _, o := range opts {
		o(&s)
	}
	iss := jwkstest.NewIssuer(t, append([]jwkstest.Option{
		jwkstest.WithKey(poolKey()),
		jwkstest.WithNow(func() time.Time { return t0 }),
	}, s.issuer...)...)
	f := &fixture{iss: iss, clock: clocktest.New(t0), logs: &syncbuf.Buffer{}}
	f.cfg = authorizer.Config{
		UserPoolIDs: []string{iss.PoolID},
		ClientIDs:   []string{iss.ClientID},
		JWKSURLs:    []string{iss.URL},
		ClockSkew:   authorizer.DefaultClockSkew,
	}
	for _, id := range s.others {
		other := jwkstest.NewIssuer(t, jwkstest.WithPoolID(id), jwkstest.WithNow(func() time.Time { return t0 }))
		f.others = append(f.others, other)
		f.otherKeys = append(f.otherKeys, &countingKeys{KeySource: jwks.NewCache([]string{other.URL}, jwks.WithClock(f.clock.Now))})
		f.cfg.UserPoolIDs = append(f.cfg.UserPoolIDs, id)
		f.cfg.JWKSURLs = nil // each pool's cache is built on its own issuer's URL
	}
	if s.cfg != nil {
		s.cfg(&f.cfg)
	}
	var keys authorizer.KeySource = jwks.NewCache([]string{iss.URL}, jwks.WithClock(f.clock.Now))
	if s.keySource != nil {
		keys = s.keySource(keys)
	}
	f.keys = &countingKeys{KeySource: keys}
	f.h = f.newHandler(t, append([]authorizer.Option{authorizer.WithLogger(slog.New(slog.NewJSONHandler(f.logs, nil)))}, s.handler...)...)
	return f
}

// newHandler returns a Handler on f's config, keys and clock, with opts.
func (f *fixture) newHandler(t testing.TB, opts ...authorizer.Option) *authorizer.Handler {
	t.Helper()
	keys := map[string]authorizer.KeySource{f.iss.PoolID: f.keys}
	for i, other := range f.others {
		keys[other.PoolID] = f.otherKeys[i]
	}
	h, err := authorizer.New(f.cfg, keys, append([]authorizer.Option{authorizer.WithClock(f.clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// idToken mints a valid ID token for alice in group admins, after edit changes its claims.
func (f *fixture) idToken(t testing.TB, edit func(map[string]any)) string {
	t.Helper()
	c := f.iss.IDClaims("alice", "admins", "readers")
	if edit != nil {
		edit(c)
	}
	return f.iss.Mint(t, c)
}

// result is what one Handle call produced, with its log line, which is also an EMF document.
type result struct {
	resp events.APIGatewayCustomAuthorizerResponse
	err  error
	log  map[string]any
	emf  emftest.Document
}

// outcome is what API Gateway would make of the result.
func (r result) outcome() string {
	switch {
	case r.err != nil && r.err.Error() == "Unauthorized":
		return "unauthorized"
	case r.err != nil:
		return "error"
	case len(r.resp.PolicyDocument.Statement) == 1:
		return strings.ToLower(r.resp.PolicyDocument.Statement[0].Effect)
	}
	return "invalid response"
}

func (r result) reason() string { return r.emf.Members["Reason"].(string) }
func (r result) cached() bool   { return r.emf.Values["CacheHit"] == 1 }

// authorize runs Handle on a TOKEN event with a Lambda request id, and returns the result and its one log line.
func (f *fixture) authorize(t testing.TB, token, methodArn string) result {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-" + t.Name()})
	before := f.logs.Len()
	resp, err := f.h.Handle(ctx, events.APIGatewayCustomAuthorizerRequest{
		Type: "TOKEN", AuthorizationToken: token, MethodArn: methodArn,
	})
	lines := strings.Split(strings.TrimSpace(f.logs.String()[before:]), "\n")
	if len(lines) != 1 {
		t.Fatalf("Handle logged %d lines, want exactly one:\n%s", len(lines), f.logs.String()[before:])
	}
	doc, verr := emftest.Validate([]byte(lines[0]))
	if verr != nil {
		t.Fatalf("log line is not an EMF document: %v: %s", verr, lines[0])
	}
	if got := doc.Members["awsRequestId"]; got != "req-"+t.Name() {
		t.Errorf("log awsRequestId = %v, want the Lambda request id", got)
	}
	if token != "" && len(token) > 16 && strings.Contains(lines[0], token[len(token)/2:]) {
		t.Errorf("log line carries part of the token: %s", lines[0])
	}
	r := result{resp: resp, err: err, log: doc.Members, emf: doc}
	// The metrics: one decision, under its outcome and bounded reason only, and whether the cache answered.
	if doc.Namespace != f.namespace() || doc.Values["Decisions"] != 1 || doc.Units["Decisions"] != emf.Count ||
		(doc.Values["CacheHit"] != 0 && doc.Values["CacheHit"] != 1) || doc.Units["CacheHit"] != emf.Count {
		t.Errorf("metrics: namespace %q, values %v, units %v", doc.Namespace, doc.Values, doc.Units)
	}
	if !reflect.DeepEqual(doc.Sets, [][]string{{"Outcome"}, {"Outcome", "Reason"}}) || doc.Members["Outcome"] != r.outcome() {
		t.Errorf("dimensions: sets %v, Outcome %v for a response that is %s", doc.Sets, doc.Members["Outcome"], r.outcome())
	}
	return r
}

// namespace is the metrics namespace f's handler writes under.
func (f *fixture) namespace() string { return cmp.Or(f.cfg.MetricsNamespace, emf.DefaultNamespace) }

// mustAllow fails unless r is an Allow of testResource.
func mustAllow(t testing.TB, r result) {
	t.Helper()
	if r.outcome() != "allow" {
		t.Fatalf("outcome %q (err %v, reason %q), want allow", r.outcome(), r.err, r.reason())
	}
	if got := r.resp.PolicyDocument.Statement[0].Resource; len(got) != 1 || got[0] != testResource {
		t.Fatalf("resource %q, want [%q]", got, testResource)
	}
}

// b64 is the token encoding; tests use it to build hostile tokens byte by byte.
var b64 = base64.RawURLEncoding

// parts splits a compact JWS.
func parts(t testing.TB, tok string) (header, payload, sig string) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(p))
	}
	return p[0], p[1], p[2]
}

// staticKey is a KeySource that answers every kid with one key, for key properties jwks.Cache would never hand out.
type staticKey struct{ key *jwks.Key }

func (s staticKey) Key(context.Context, string) (*jwks.Key, error) { return s.key, nil }

// failingKeys is a KeySource that always fails with err.
type failingKeys struct{ err error }

func (f failingKeys) Key(context.Context, string) (*jwks.Key, error) { return nil, f.err }

var errBoom = errors.New("boom")
