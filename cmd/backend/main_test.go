package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/internal/local/rie/rietest"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
)

// TestBootstrapRefusesBadConfiguration checks that a misconfigured function
// fails its cold start, naming every problem, instead of failing requests.
func TestBootstrapRefusesBadConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	bin := rietest.Build(t, "./cmd/backend")
	logs := &syncbuf.Buffer{}
	fn := rietest.Start(t, rie.Options{Bootstrap: bin, Log: logs, Env: []string{
		"SESSION_TAGS=maybe", "METRICS_NAMESPACE=AWS/Lambda", "ALLOWED_ROLE_ARNS=rolegate-*",
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, err := fn.Invoke(ctx, []byte(`{"path":"/whoami","httpMethod":"GET"}`))
	if err == nil {
		if _, isErr := rie.ParseError(body); !isErr {
			t.Fatalf("a misconfigured function answered %s", body)
		}
	}
	// The function's output reaches the buffer behind the invoke response:
	// wait for it, not for time to pass.
	out, _ := logs.WaitFor(10*time.Second, func(s string) bool { return strings.Contains(s, "invalid configuration") })
	for _, want := range []string{"invalid configuration", "SESSION_TAGS", "METRICS_NAMESPACE", "ALLOWED_ROLE_ARNS"} {
		if !strings.Contains(out, want) {
			t.Errorf("the cold start did not say %q:\n%s", want, out)
		}
	}
}
