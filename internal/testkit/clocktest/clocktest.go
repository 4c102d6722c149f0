// Package clocktest provides a hand-wound clock for tests: time passes only
// when the test says so, so code that takes a clock (func() time.Time) is
// tested at exact instants without sleeping.
package clocktest

import (
	"sync/atomic"
	"time"
)

// Clock is a manually advanced clock, safe for concurrent use.
type Clock struct{ ns atomic.Int64 }

// New returns a Clock that reads t until advanced.
func New(t time.Time) *Clock {
	c := &Clock{}
	c.ns.Store(t.UnixNano())
	return c
}

// Now returns the clock's current time, in UTC. Pass c.Now where a
// func() time.Time is wanted.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Advance moves the clock forward by d (backward when d is negative).
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
