// Package rietest runs Lambda bootstraps under the Runtime Interface Emulator
// for the duration of a test. It is for tests only: no binary imports it.
package rietest

import (
	"context"
	"testing"

	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
	"github.com/rolegate/rolegate/internal/testkit/testenv"
)

// Build builds pkg for the host into a temporary directory of t and returns
// the bootstrap's path. It fails the test on error.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	p, err := rie.Build(context.Background(), pkg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Start starts o under the emulator for the duration of t. Unless o.Log is
// set, the output of the emulator and the function is kept and shown only if
// the test fails. A missing emulator skips under -short and fails otherwise
// (testenv.MustHave).
func Start(t testing.TB, o rie.Options) *rie.Function {
	t.Helper()
	testenv.MustHave(t, "aws-lambda-rie")
	if o.Log == nil {
		buf := &syncbuf.Buffer{}
		o.Log = buf
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("output of %s under RIE:\n%s", o.Bootstrap, buf.String())
			}
		})
	}
	f, err := rie.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
