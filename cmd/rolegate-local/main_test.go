package main

import (
	"context"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClaimFlags(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		key  string
		want any
	}{
		{"a plain value is a string", "custom:team=blue", "custom:team", "blue"},
		{"a number is a number", "exp=123", "exp", float64(123)},
		{"a JSON list is a list", `cognito:groups=["a","b"]`, "cognito:groups", []any{"a", "b"}},
		{"null removes the claim", "aud=null", "aud", nil},
		{"an empty value is an empty string", "email=", "email", ""},
		{"a value may hold =", "x=a=b", "x", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claimFlags{}
			if err := c.Set(tt.arg); err != nil {
				t.Fatal(err)
			}
			got, ok := c[tt.key]
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("claims = %#v, want %s=%#v", c, tt.key, tt.want)
			}
		})
	}
	for _, bad := range []string{"novalue", "=x"} {
		if err := (claimFlags{}).Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

// TestRunRefusesABadPort: PORT=abc is refused before anything starts, not replaced by 3000.
func TestRunRefusesABadPort(t *testing.T) {
	for _, v := range []string{"abc", "0", "65536", "30 00"} {
		t.Setenv("PORT", v)
		if err := runCmd(nil); err == nil || !strings.Contains(err.Error(), `PORT="`+v+`"`) {
			t.Errorf("PORT=%q: err = %v, want one naming PORT", v, err)
		}
	}
}

// TestHangUpStops: closing the terminal (SIGHUP) stops the stack as Ctrl-C does. Without SIGHUP among the
// signals, its default action kills this test binary.
func TestHangUpStops(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM} {
		ctx, stop := notifyStop(context.Background())
		if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Errorf("%v did not stop the command", sig)
		}
		stop()
	}
}
