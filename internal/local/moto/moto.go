// Package moto starts moto_server, a real AWS emulator (STS, IAM, Cognito),
// on a free loopback port for tests and local runs, and stops it again.
//
// It never listens beyond 127.0.0.1, and the environment it hands to AWS SDK
// clients carries dummy credentials only, so nothing reaches real AWS.
package moto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled reports that moto_server could not be found.
var ErrNotInstalled = errors.New(`moto_server not found; install it with: pip install "moto[server]"`)

// AccountID is the account moto reports for every caller.
const AccountID = "123456789012"

// Region is the region Env and Authorization name.
const Region = "us-east-1"

// Server is a running moto_server.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string

	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Path finds moto_server on PATH.
func Path() (string, error) {
	p, err := exec.LookPath("moto_server")
	if err != nil {
		return "", ErrNotInstalled
	}
	return p, nil
}

// Start runs moto_server on a free loopback port and waits until it answers.
// Its output goes to log (nil discards it).
func Start(ctx context.Context, log io.Writer) (*Server, error) {
	bin, err := Path()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = io.Discard
	}
	var lastErr error
	// A free port found by listening may be taken before moto binds it;
	// such a start is retried on another port.
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(ctx, bin, log)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, bin string, log io.Writer) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("moto: free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("moto: start: %w", err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("moto: moto_server exited before answering (is the port free?)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("moto: moto_server did not answer within 30s")
		}
	}
}

// Env returns the environment an AWS SDK client (or a Lambda bootstrap) needs
// to use this server for every service, with dummy credentials.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_ENDPOINT_URL_STS=" + s.URL,
		"AWS_ENDPOINT_URL_IAM=" + s.URL,
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=" + s.URL,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
}

// Authorization is an Authorization header for a request to service, as an
// AWS SDK would send it but unsigned: moto_server checks no signature and
// reads only the credential scope, to route the request to service.
func Authorization(service string) string {
	return "AWS4-HMAC-SHA256 Credential=testing/20260101/" + Region + "/" + service + "/aws4_request, SignedHeaders=host, Signature=0"
}

// Close stops the server.
func (s *Server) Close() error {
	s.once.Do(func() {
		pgid := s.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.done
		}
	})
	return nil
}
