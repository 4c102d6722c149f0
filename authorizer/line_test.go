package authorizer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rolegate/rolegate/jwks"
)

// BenchmarkDecisionLine is what one decision's log line costs: the JSON line with its EMF metrics, as the
// production handler writes it (to io.Discard, so the sink itself costs nothing). It is most of what a cache hit
// costs beyond hashing the token: see BenchmarkAuthorizeCachedToken.
func BenchmarkDecisionLine(b *testing.B) {
	h, err := New(Config{UserPoolIDs: []string{"us-east-1_AbCdEf123"}, ClientIDs: []string{"client"}},
		map[string]KeySource{"us-east-1_AbCdEf123": jwks.NewCache([]string{"https://127.0.0.1/unused"})},
		WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	if err != nil {
		b.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8f2b0c1e-7d7a-4f59-9b1e-3f0c6a1d2e4b"})
	a := &attempt{now: time.Now(), sub: "2541d352-5d5f-447a-8b58-d0d6ca01f29b", cached: true}
	for b.Loop() {
		h.logDecision(ctx, a, nil)
	}
}

// TestClassify: each rejection keeps its class through wrapping, and an error that carries none is an error (500),
// never an Allow.
func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want *rejection
	}{
		{"a rejection is its own class", errExpired, errExpired},
		{"a wrapped rejection keeps its class", fmt.Errorf("%w: exp", errMissingClaim), errMissingClaim},
		{"the first rejection wrapped decides", fmt.Errorf("%w: %w", errUnknownKey, errKeysUnavailable), errUnknownKey},
		{"an error without a class is internal", errors.New("surprise"), errInternal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err); got != tt.want {
				t.Errorf("classify = %v, want %v", got, tt.want)
			}
		})
	}
	if errInternal.outcome != failed {
		t.Errorf("the unclassified outcome is %q, want an error", errInternal.outcome)
	}
}
