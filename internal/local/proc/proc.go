package proc

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Process is a child process in its own process group.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Start starts cmd in a process group of its own, so that Stop also ends what it starts (RIE's bootstrap), and
// with a parent-death signal (Linux): when this process dies without stopping it (a closed terminal, kill -9),
// the child gets SIGTERM instead of living on. Go sends that signal when the OS thread that started the child
// exits, which the runtime does only for a goroutine that locked its thread and never unlocked it.
func Start(cmd *exec.Cmd) (*Process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(cmd.Path), err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Pid is the process's id, which is also its group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// WaitReady asks ready every 20 ms until it reports true. It fails when the process exits first, when ctx ends,
// or when within has passed.
func (p *Process) WaitReady(ctx context.Context, within time.Duration, ready func() bool) error {
	name := filepath.Base(p.cmd.Path)
	deadline := time.Now().Add(within)
	for !ready() {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (is its port free?)", name)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v", name, within)
		}
	}
	return nil
}

// Stop sends the process's group SIGTERM, then SIGKILL if it has not exited within 3 s, and waits for the exit.
// Calls after the first wait for nothing.
func (p *Process) Stop() {
	p.once.Do(func() {
		_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
			<-p.done
		}
	})
}

// FreePorts returns n loopback ports that were free a moment ago. Another process may take one before the
// caller binds it: see Retry.
func FreePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Retry calls start up to three times while it fails and ctx lasts: a start that lost its free port to another
// process gets new ones.
func Retry[T any](ctx context.Context, start func() (T, error)) (T, error) {
	var v T
	var err error
	for range 3 {
		if v, err = start(); err == nil || ctx.Err() != nil {
			break
		}
	}
	return v, err
}
