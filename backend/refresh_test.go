package backend_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
	"github.com/rolegate/rolegate/internal/testkit/clocktest"
)

// TestOnlyTheFirstRequestWaitsOnSTS sends one request a minute for four
// session lifetimes on the injected clock, which STS shares, so credentials
// served past their expiry are refused. Each request after the first is
// served without an AssumeRole call of its own; the refreshes run in the
// background, one about every 11 minutes (three quarters of the 14 minutes
// 15-minute credentials are handed out), each on its own log line.
func TestOnlyTheFirstRequestWaitsOnSTS(t *testing.T) {
	clk := clocktest.New(time.Now())
	f := newFixture(t, backend.Config{}, backend.WithClock(clk.Now))
	f.sts.SetNow(clk.Now)
	const minutes = 4 * 15
	seen, refreshes := 0, 0
	for i := range minutes {
		resp := f.handle(t, lambdaCtx(), whoamiEvent(readers, aliceSub, "alice"))
		f.h.WaitRefreshes()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("minute %d: %d %s", i, resp.StatusCode, resp.Body)
		}
		out := f.logs.String()
		for l := range strings.SplitSeq(strings.TrimSpace(out[seen:]), "\n") {
			switch {
			case strings.Contains(l, `"msg":"refresh"`) && strings.Contains(l, `"AssumeRoleCalls":1`):
				refreshes++
			case strings.Contains(l, `"msg":"request"`) && i > 0 && !strings.Contains(l, `"AssumeRoleCalls":0`):
				t.Errorf("minute %d: the request waited on STS: %s", i, l)
			}
		}
		seen = len(out)
		clk.Advance(time.Minute)
	}
	if got, want := f.sts.Calls(ststest.AssumeRole), 6; got != want || refreshes != want-1 { // minutes 0, 11, 22, 33, 44, 55
		t.Errorf("%d AssumeRole calls (%d refreshes) over %d minutes, want %d", got, refreshes, minutes, want)
	}
}
