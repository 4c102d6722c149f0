// Package rie runs a Lambda bootstrap under the AWS Lambda Runtime Interface
// Emulator (aws-lambda-rie) on loopback, the way Lambda runs it: the same
// runtime API, the same invoke semantics, one invocation at a time.
//
// It listens only on 127.0.0.1, gives every instance its own pair of free
// ports so that parallel tests never collide on RIE's default 9001/8080, and
// stops the emulator and the function together.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// InstallHint is the command that installs the emulator at the version the
// project pins.
const InstallHint = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// ErrNotInstalled reports that aws-lambda-rie could not be found.
var ErrNotInstalled = errors.New("aws-lambda-rie not found; install it with: " + InstallHint)

const invokePath = "/2015-03-31/functions/function/invocations"

// Path finds aws-lambda-rie on PATH, in $GOBIN or in $(go env GOPATH)/bin.
func Path() (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			if lines[0] != "" {
				dirs = append(dirs, lines[0])
			}
			for _, gp := range filepath.SplitList(lines[1]) {
				dirs = append(dirs, filepath.Join(gp, "bin"))
			}
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "aws-lambda-rie")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Build compiles the Go main package pkg (for example "./cmd/authorizer",
// resolved from the module root) for the host OS and architecture, the way
// `make build` does for Lambda (CGO_ENABLED=0, -tags lambda.norpc), into
// dir/bootstrap, and returns the binary's path.
func Build(ctx context.Context, pkg, dir string) (string, error) {
	root, err := ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("rie: build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// ModuleRoot returns the directory of the rolegate module's go.mod, found
// from the working directory as the go command finds it, so builds and the
// local tools work from any directory of the repository.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("rie: locate module: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("rie: not inside the rolegate module")
	}
	return filepath.Dir(gomod), nil
}

// Options configure one emulated function.
type Options struct {
	// Bootstrap is the path of the bootstrap binary to run.
	Bootstrap string
	// Env is extra environment for the function, as KEY=VALUE. RIE hands
	// its own environment to the function, so these are set on RIE.
	Env []string
	// FunctionName becomes AWS_LAMBDA_FUNCTION_NAME and the last part of the
	// invoked function ARN. Default "function".
	FunctionName string
	// Timeout is the function timeout. Default 10s.
	Timeout time.Duration
	// Log receives the output of RIE and the function. Nil discards it.
	Log io.Writer
}

// Function is a bootstrap running under the emulator.
type Function struct {
	// URL is the emulator's base URL, http://127.0.0.1:port.
	URL string

	client *http.Client
	cmd    *exec.Cmd
	done   chan struct{}
	mu     sync.Mutex // RIE serves one invocation at a time
	once   sync.Once
}

// Start runs o.Bootstrap under aws-lambda-rie on two free loopback ports and
// waits until the emulator answers.
func Start(ctx context.Context, o Options) (*Function, error) {
	bin, err := Path()
	if err != nil {
		return nil, err
	}
	if o.Bootstrap == "" {
		return nil, errors.New("rie: Options.Bootstrap is required")
	}
	if o.FunctionName == "" {
		o.FunctionName = "function"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	var lastErr error
	// Free ports are found by listening and closing; another process may take
	// one in between, so a start that loses that race is retried.
	for attempt := 0; attempt < 3; attempt++ {
		f, err := start(ctx, bin, o, log)
		if err == nil {
			return f, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, bin string, o Options, log io.Writer) (*Function, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	emu := "127.0.0.1:" + strconv.Itoa(ports[0])
	api := "127.0.0.1:" + strconv.Itoa(ports[1])
	cmd := exec.Command(bin,
		"--runtime-interface-emulator-address", emu,
		"--runtime-api-address", api,
		"--log-level", "warn",
		o.Bootstrap)
	cmd.Dir = filepath.Dir(o.Bootstrap)
	cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_FUNCTION_NAME="+o.FunctionName,
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(int((o.Timeout+time.Second-1)/time.Second)),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
	)
	cmd.Env = append(cmd.Env, o.Env...)
	cmd.Stdout = log
	cmd.Stderr = log
	// Its own process group, so Close stops the function RIE started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("rie: start: %w", err)
	}
	f := &Function{
		URL:    "http://" + emu,
		client: &http.Client{Timeout: o.Timeout + 5*time.Second},
		cmd:    cmd,
		done:   make(chan struct{}),
	}
	go func() { _ = cmd.Wait(); close(f.done) }()
	if err := f.waitReady(ctx, emu); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (f *Function) waitReady(ctx context.Context, addr string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-f.done:
			return fmt.Errorf("rie: emulator exited before listening on %s", addr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rie: emulator not listening on %s after 15s", addr)
		}
	}
}

// Invoke sends payload to the function, as Lambda's Invoke API does, and
// returns the raw response body. A function error is not a Go error here: it
// comes back as {"errorMessage":…,"errorType":…}; see ParseError. Concurrent
// calls queue, because the emulator serves one invocation at a time.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL+invokePath, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return nil, fmt.Errorf("rie: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("rie: invoke answered %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// Close stops the emulator and the function it runs.
func (f *Function) Close() error {
	f.once.Do(func() {
		pgid := f.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-f.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-f.done
		}
	})
	return nil
}

// ParseError reports whether body is a Lambda function error and, if so,
// returns its errorMessage.
func ParseError(body []byte) (msg string, isErr bool) {
	var e struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    string  `json:"errorType"`
	}
	if json.Unmarshal(body, &e) != nil || e.ErrorMessage == nil {
		return "", false
	}
	return *e.ErrorMessage, true
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("rie: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
