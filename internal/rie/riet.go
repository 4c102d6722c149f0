package rie

import (
	"context"
	"testing"

	"github.com/rolegate/rolegate/internal/syncbuf"
)

// BuildT builds pkg for the host into a temporary directory of t and returns
// the bootstrap's path. It fails the test on error.
func BuildT(t testing.TB, pkg string) string {
	t.Helper()
	p, err := Build(context.Background(), pkg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// StartT starts o under the emulator for the duration of t. Unless o.Log is
// set, the output of the emulator and the function is kept and shown only if
// the test fails. A missing emulator fails the test: CI installs it, so its
// absence is a real fault, not a reason to skip.
func StartT(t testing.TB, o Options) *Function {
	t.Helper()
	if o.Log == nil {
		buf := &syncbuf.Buffer{}
		o.Log = buf
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("output of %s under RIE:\n%s", o.Bootstrap, buf.String())
			}
		})
	}
	f, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
