package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/localstack"
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

// TestSecondRunLeavesTheFirstAlone: a second run on the state of a running stack is refused before it touches
// any of its files (it used to truncate the first one's moto.log, then find the port busy).
func TestSecondRunLeavesTheFirstAlone(t *testing.T) {
	state := t.TempDir()
	first, err := lockState(state)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := noteRunning(first, "http://127.0.0.1:3000/prod"); err != nil {
		t.Fatal(err)
	}
	motoLog := filepath.Join(state, "moto.log")
	if err := os.WriteFile(motoLog, []byte("the first stack's log\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = runCmd([]string{"-state", state, "-port", "3999"})
	if err == nil || !strings.Contains(err.Error(), "already runs") || !strings.Contains(err.Error(), "http://127.0.0.1:3000/prod") {
		t.Errorf("second run: %v, want a refusal naming the first", err)
	}
	if b, _ := os.ReadFile(motoLog); string(b) != "the first stack's log\n" {
		t.Errorf("moto.log is now %q", b)
	}
}

// TestTokenWithoutAStack: with no stack running and no issuer any stack used, token refuses (exit 1) and
// creates no issuer; with an issuer left by a stack, it mints for that one.
func TestTokenWithoutAStack(t *testing.T) {
	state := t.TempDir()
	err := tokenCmd([]string{"-state", state, "-user", "alice", "-group", "admins"})
	if !errors.Is(err, errNoStack) {
		t.Errorf("token with no stack: %v, want errNoStack", err)
	}
	if _, err := os.Stat(filepath.Join(state, localstack.IssuerFile)); err == nil {
		t.Error("token created an issuer no stack uses")
	}
	if _, err := localstack.LoadIssuer(state); err != nil { // as a stack that ran leaves it
		t.Fatal(err)
	}
	if err := tokenCmd([]string{"-state", state, "-user", "alice", "-group", "admins"}); err != nil {
		t.Errorf("token with a stack's issuer: %v", err)
	}
}

// TestMakeTokenNeedsAName: make token reads NAME, never the USER every shell sets.
func TestMakeTokenNeedsAName(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("no make")
	}
	cmd := exec.Command(mk, "-s", "-C", "../..", "token", "GROUP=admins")
	cmd.Env = append(os.Environ(), "USER=alice")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "NAME is required") {
		t.Errorf("make token without NAME: %v\n%s", err, out)
	}
}
