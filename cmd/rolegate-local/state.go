package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// lockFile names, under the state directory, the file a running stack holds
// an exclusive flock on, with its pid and URL as content: one stack per state
// directory, since two would share the issuer, the builds and the logs.
const lockFile = "run.lock"

// lockState takes dir's lock for this process, or says which stack holds it.
// The lock goes when the process does, however it ends.
func lockState(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := stackRunning(dir)
		f.Close()
		return nil, fmt.Errorf("a stack already runs with the state in %s (%s): stop it first, "+
			"or give this one its own state and port: build/rolegate-local run -state DIR -port N", dir, holder)
	}
	return f, nil
}

// noteRunning writes who holds the lock, for a second run's refusal and for token.
func noteRunning(f *os.File, url string) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt(fmt.Appendf(nil, "pid %d, %s\n", os.Getpid(), url), 0)
	return err
}

// stackRunning reports whether a stack holds dir's lock, and what it noted. It
// asks by taking a shared lock, which a running stack's exclusive one refuses,
// and lets it go at once.
func stackRunning(dir string) (string, bool) {
	f, err := os.Open(filepath.Join(dir, lockFile))
	if err != nil {
		return "", false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) == nil {
		return "", false
	}
	b, _ := io.ReadAll(f)
	return cmp.Or(strings.TrimSpace(string(b)), "a stack"), true
}

// errNoStack is token's answer when no stack runs and none has left an issuer.
var errNoStack = errors.New("no stack is running and none has run here, so no issuer would accept the token: start one with make run")
