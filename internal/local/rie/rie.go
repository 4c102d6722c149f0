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
	"time"

	"github.com/rolegate/rolegate/internal/local/proc"
)

const invokePath = "/2015-03-31/functions/function/invocations"

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
	p      *proc.Process
	mu     sync.Mutex // RIE serves one invocation at a time
}

// Start runs o.Bootstrap under aws-lambda-rie on two free loopback ports and
// waits until the emulator answers.
func Start(ctx context.Context, o Options) (*Function, error) {
	bin, err := proc.Find(proc.RIE)
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
	if o.Log == nil {
		o.Log = io.Discard
	}
	return proc.Retry(ctx, func() (*Function, error) { return start(ctx, bin, o) })
}

func start(ctx context.Context, bin string, o Options) (*Function, error) {
	ports, err := proc.FreePorts(2)
	if err != nil {
		return nil, fmt.Errorf("rie: %w", err)
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
	cmd.Stdout = o.Log
	cmd.Stderr = o.Log
	p, err := proc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("rie: %w", err)
	}
	listening := func() bool {
		c, err := net.DialTimeout("tcp", emu, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	if err := p.WaitReady(ctx, 15*time.Second, listening); err != nil {
		p.Stop()
		return nil, fmt.Errorf("rie: %w", err)
	}
	return &Function{URL: "http://" + emu, client: &http.Client{Timeout: o.Timeout + 5*time.Second}, p: p}, nil
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
	f.p.Stop()
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
