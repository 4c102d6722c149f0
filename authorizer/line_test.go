package authorizer

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// BenchmarkDecisionLine is what one decision's log line costs: the JSON line with its EMF metrics, as the
// production handler writes it (to io.Discard, so the sink itself costs nothing).
func BenchmarkDecisionLine(b *testing.B) {
	h := &Handler{log: slog.New(slog.NewJSONHandler(io.Discard, nil)), namespace: "rolegate"}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8f2b0c1e-7d7a-4f59-9b1e-3f0c6a1d2e4b"})
	a := &attempt{now: time.Now(), sub: "2541d352-5d5f-447a-8b58-d0d6ca01f29b", cached: true}
	for b.Loop() {
		h.logDecision(ctx, a, nil)
	}
}
