// Command authorizer is the rolegate authorizer Lambda, TOKEN and HTTP API (bootstrap for the
// provided.al2023 runtime). It only wires: configuration from the environment,
// each pool's JWKS cache, a JSON logger on stdout, and authorizer.Handler.
package main

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rolegate/rolegate/authorizer"
	"github.com/rolegate/rolegate/jwks"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := authorizer.ConfigFromEnv(os.Getenv)
	if err != nil {
		// A bad configuration fails the cold start, loudly, instead of every request.
		log.Error("invalid configuration", "error", err)
		os.Exit(1)
	}
	// One cache per pool: a pool's keys verify only its own tokens.
	keys := map[string]authorizer.KeySource{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	var wg sync.WaitGroup
	for _, p := range cfg.Pools() {
		c := jwks.NewCache(p.KeySetURLs, jwks.WithLogger(log), jwks.WithMetrics(cfg.MetricsNamespace))
		keys[p.ID] = c
		// Fetch at init, where the time is free; on failure the first request tries again.
		wg.Go(func() {
			if err := c.Prefetch(ctx); err != nil {
				log.Warn("prefetching the key set failed; will retry on first request", "userPoolId", p.ID, "error", err)
			}
		})
	}
	wg.Wait()
	cancel()
	h, err := authorizer.New(cfg, keys, authorizer.WithLogger(log))
	if err != nil {
		log.Error("invalid configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.HandleEvent)
}
