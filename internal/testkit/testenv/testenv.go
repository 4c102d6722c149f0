// Package testenv tells tests whether the real parts they drive are here:
// the Lambda Runtime Interface Emulator, moto_server, cfn-lint and the aws
// CLI, looked for where the local stack looks (proc.Find). MustHave skips
// under -short and otherwise fails with the install hint, so that
// `go test -short ./...` passes on a machine with only Go while `make test`
// runs, or loudly misses, everything. (Go's own internal/testenv skips in
// both cases; the failure outside -short is this package's choice.)
package testenv

import (
	"testing"

	"github.com/rolegate/rolegate/internal/local/proc"
)

// MustHave returns tool's path. When tool is missing it skips t under -short,
// and otherwise fails t with how to install it.
func MustHave(t testing.TB, tool proc.Tool) string {
	t.Helper()
	p, err := proc.Find(tool)
	if err == nil {
		return p
	}
	if testing.Short() {
		t.Skipf("%v; skipped under -short", err)
	}
	t.Fatal(err)
	return ""
}
