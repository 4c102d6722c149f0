package authorizer_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rolegate/rolegate/authorizer"
)

// benchPool is how many distinct tokens the fresh-token benchmarks cycle through.
const benchPool = 1024

// benchTokens mints n distinct valid ID tokens of f's pool.
func benchTokens(b *testing.B, f *fixture, n int) []string {
	b.Helper()
	toks := make([]string, n)
	for i := range toks {
		toks[i] = f.idToken(b, nil) // every token has its own jti, event_id and origin_jti
	}
	return toks
}

// benchLoggers are the two log sinks measured: the production JSON handler (writing to io.Discard, so the sink
// itself costs nothing) and a logger that is off.
var benchLoggers = []struct {
	name string
	log  func() *slog.Logger
}{
	{"slog=json", func() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }},
	{"slog=off", func() *slog.Logger { return slog.New(slog.DiscardHandler) }},
}

// BenchmarkRSAVerifyFloor is the floor the handler is measured against: SHA-256 of the signing input and
// rsa.VerifyPKCS1v15, over the same tokens, with the signature already decoded and the key at hand. The targets,
// with the production JSON handler on: a fresh token at most 1.2x this floor, a cache hit at most 0.05x.
func BenchmarkRSAVerifyFloor(b *testing.B) {
	f := newFixture(b)
	toks := benchTokens(b, f, benchPool)
	type signed struct{ input, sig []byte }
	in := make([]signed, len(toks))
	for i, tok := range toks {
		h, p, s := parts(b, tok)
		sig, err := b64.DecodeString(s)
		if err != nil {
			b.Fatal(err)
		}
		in[i] = signed{[]byte(h + "." + p), sig}
	}
	pub := &f.iss.Key().Private.PublicKey
	i := 0
	for b.Loop() {
		s := in[i%len(in)]
		sum := sha256.Sum256(s.input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], s.sig); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAuthorizeFreshToken is Handle on tokens it has not seen: the full path, storing into the decision
// cache included. Target: slog=json at most 1.2x BenchmarkRSAVerifyFloor. The cache's TTL is too short for any
// call to hit, so every call validates afresh, and it stores into a map that has stopped growing, as a long-lived
// function's does.
func BenchmarkAuthorizeFreshToken(b *testing.B) {
	f := newFixture(b)
	toks := benchTokens(b, f, benchPool)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "bench"})
	for _, l := range benchLoggers {
		b.Run(l.name, func(b *testing.B) {
			h := f.newHandler(b, authorizer.WithLogger(l.log()), authorizer.WithDecisionCache(time.Nanosecond, authorizer.DefaultCacheEntries))
			for _, tok := range toks {
				mustHandle(b, h, ctx, tok)
			}
			i := 0
			for b.Loop() {
				mustHandle(b, h, ctx, toks[i%len(toks)])
				i++
			}
		})
	}
}

// BenchmarkAuthorizeCachedToken is Handle on a token it has just allowed: a decision cache hit, which hashes the
// token, builds the response and writes the line. Target: slog=json at most 0.05x BenchmarkRSAVerifyFloor.
func BenchmarkAuthorizeCachedToken(b *testing.B) {
	f := newFixture(b)
	tok := "Bearer " + f.idToken(b, nil)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "bench"})
	for _, l := range benchLoggers {
		b.Run(l.name, func(b *testing.B) {
			h := f.newHandler(b, authorizer.WithLogger(l.log()))
			mustHandle(b, h, ctx, tok)
			for b.Loop() {
				mustHandle(b, h, ctx, tok)
			}
		})
	}
}

func mustHandle(b *testing.B, h *authorizer.Handler, ctx context.Context, tok string) {
	resp, err := h.Handle(ctx, events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tok, MethodArn: testMethodARN})
	if err != nil || resp.PolicyDocument.Statement[0].Effect != "Allow" {
		b.Fatalf("not allowed: %v", err)
	}
}
