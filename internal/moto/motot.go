package moto

import (
	"context"
	"testing"
)

// StartT starts a moto_server for the duration of t. A missing moto_server
// fails the test: CI provides it, so its absence is a real fault.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := Start(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
