// Package moto starts moto_server, a real AWS emulator (STS, IAM, Cognito),
// on a free loopback port for tests and local runs, and stops it again.
//
// It never listens beyond 127.0.0.1, and the environment it hands to AWS SDK
// clients carries dummy credentials only, so nothing reaches real AWS.
package moto

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/rolegate/rolegate/internal/local/proc"
)

// AccountID is the account moto reports for every caller.
const AccountID = "123456789012"

// Region is the region Env and Authorization name.
const Region = "us-east-1"

// Server is a running moto_server.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string

	p *proc.Process
}

// Start runs moto_server on a free loopback port and waits until it answers.
// Its output goes to log (nil discards it).
func Start(ctx context.Context, log io.Writer) (*Server, error) {
	bin, err := proc.Find(proc.Moto)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = io.Discard
	}
	return proc.Retry(ctx, func() (*Server, error) { return start(ctx, bin, log) })
}

func start(ctx context.Context, bin string, log io.Writer) (*Server, error) {
	ports, err := proc.FreePorts(1)
	if err != nil {
		return nil, fmt.Errorf("moto: %w", err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(ports[0]))
	cmd.Stdout = log
	cmd.Stderr = log
	p, err := proc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("moto: %w", err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(ports[0]), p: p}
	client := &http.Client{Timeout: time.Second}
	ready := func() bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/", nil)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if err := p.WaitReady(ctx, 30*time.Second, ready); err != nil {
		p.Stop()
		return nil, fmt.Errorf("moto: %w", err)
	}
	return s, nil
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
	s.p.Stop()
	return nil
}
