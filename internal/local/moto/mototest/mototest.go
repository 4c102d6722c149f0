// Package mototest runs a moto_server for the duration of a test. It is for
// tests only: no binary imports it.
package mototest

import (
	"context"
	"testing"

	"github.com/rolegate/rolegate/internal/local/moto"
	"github.com/rolegate/rolegate/internal/testkit/testenv"
)

// Start starts a moto_server for the duration of t. A missing moto_server
// skips under -short and fails otherwise (testenv.MustHave).
func Start(t testing.TB) *moto.Server {
	t.Helper()
	testenv.MustHave(t, "moto_server")
	s, err := moto.Start(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
