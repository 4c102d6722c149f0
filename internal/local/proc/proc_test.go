package proc_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/proc"
)

func TestPinsAreWrittenOnce(t *testing.T) {
	for _, name := range []string{"RIE_VERSION", "CFN_LINT_VERSION", "CFNGUARD_PKG"} {
		v := proc.Pin(name)
		if v == "" {
			t.Fatalf("pins.mk gives no %s", name)
		}
		for _, f := range []string{"../../../Makefile", "../../../deploy/deploy.mk"} {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), v) {
				t.Errorf("%s writes %s's %s again; use $(%s) from pins.mk", f, name, v, name)
			}
		}
	}
	if !strings.Contains(proc.RIE.Install(), proc.Pin("RIE_VERSION")) || !strings.Contains(proc.CfnLint.Install(), proc.Pin("CFN_LINT_VERSION")) {
		t.Errorf("install hints without the pins: %q, %q", proc.RIE.Install(), proc.CfnLint.Install())
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "moto_server")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if p, err := proc.Find(proc.Moto); err != nil || p != bin {
		t.Errorf("Find(moto_server) = %q, %v; want %q", p, err, bin)
	}
	_, err := proc.Find(proc.CfnLint)
	if !errors.Is(err, proc.ErrNotInstalled) || !strings.Contains(err.Error(), proc.CfnLint.Install()) {
		t.Errorf("Find(cfn-lint) error %v, want ErrNotInstalled with the install hint", err)
	}
}

// TestChildDiesWithItsParent: a parent killed outright (as a closed terminal may leave it) must not leave its
// child running. Without the parent-death signal the child lives on and this fails.
func TestChildDiesWithItsParent(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^TestHelperParent$")
	parent.Env = append(os.Environ(), "PROC_HELPER=parent")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("helper said %q", line)
	}
	t.Cleanup(func() { syscall.Kill(-child, syscall.SIGKILL) })
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	parent.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(child, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still runs 10s after its parent was killed", child)
		}
		time.Sleep(10 * time.Millisecond) // waiting on another process's exit, not for time to pass
	}
}

// TestHelperParent is the parent of TestChildDiesWithItsParent: it starts a child, prints its pid and waits
// to be killed. The child sleeps.
func TestHelperParent(t *testing.T) {
	switch os.Getenv("PROC_HELPER") {
	case "parent":
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperParent$")
		cmd.Env = append(os.Environ(), "PROC_HELPER=child")
		p, err := proc.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString(strconv.Itoa(p.Pid()) + "\n")
		select {}
	case "child":
		time.Sleep(time.Minute)
	}
}

func TestWaitReadyAndStop(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperParent$")
	cmd.Env = append(os.Environ(), "PROC_HELPER=child")
	p, err := proc.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := p.WaitReady(context.Background(), time.Minute, func() bool { n++; return n == 3 }); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	p.Stop()
	if syscall.Kill(p.Pid(), 0) == nil {
		t.Error("the process runs after Stop")
	}
	if err := p.WaitReady(context.Background(), time.Minute, func() bool { return false }); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("WaitReady on an exited process: %v", err)
	}
}
