package apigw

import (
	"errors"
	"sync"
	"time"
)

// Throttle is a stage's rate limit, from its MethodSettings: Rate requests
// per second in the steady state, and bursts of up to Burst. The zero value
// throttles nothing.
type Throttle struct {
	Rate  float64
	Burst int
}

func (t Throttle) validate() error {
	if t.Rate < 0 || t.Burst < 0 || (t.Rate > 0) != (t.Burst > 0) {
		return errors.New("throttle: rate and burst must both be positive, or both zero")
	}
	return nil
}

// bucket is the token bucket API Gateway describes for throttling: it holds
// up to Burst tokens, refills at Rate per second, and a request that finds
// it empty is answered 429.
type bucket struct {
	rate, burst float64
	now         func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// newBucket returns a full bucket for t, or nil (no limit) for the zero value.
func newBucket(t Throttle, now func() time.Time) *bucket {
	if t.Rate == 0 {
		return nil
	}
	return &bucket{rate: t.Rate, burst: float64(t.Burst), now: now, tokens: float64(t.Burst), last: now()}
}

// take spends one token, or reports false when there is none.
func (b *bucket) take() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
