package localstack

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rolegate/rolegate/internal/local/proc"
	"github.com/rolegate/rolegate/internal/local/userpool"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/local/apigw"
	"github.com/rolegate/rolegate/internal/local/moto"
	"github.com/rolegate/rolegate/internal/local/rie"
)

// StackOptions configure StartStack.
type StackOptions struct {
	// Addr is where the gateway listens, 127.0.0.1:<port>; port 0 picks a
	// free one.
	Addr     string
	Settings Settings
	Issuer   *Issuer

	// AuthorizerBootstrap and BackendBootstrap are prebuilt host binaries.
	// Empty ones are built (rie.Build) into BuildDir/<function>/, the backend
	// from BackendPackage (default ./cmd/backend): a team's own main.
	AuthorizerBootstrap string
	BackendBootstrap    string
	BackendPackage      string
	BuildDir            string

	// FunctionLog receives the emulators' and functions' output, each line
	// prefixed with the function's name. Nil discards it.
	FunctionLog io.Writer
	// MotoLog receives moto_server's output. Nil discards it.
	MotoLog io.Writer
	// Logger gets the gateway's one line per request. Nil discards them.
	Logger *slog.Logger
}

// ErrPortInUse reports that the gateway's address is taken.
var ErrPortInUse = errors.New("address already in use")

// Stack is the whole system running locally: moto_server as STS and IAM with
// one role per group, the issuer's JWKS, the authorizer and the backend under
// the Runtime Interface Emulator, and the gateway in front.
type Stack struct {
	// URL is the stage's base URL, http://127.0.0.1:port/<stage>, as the
	// template's ApiUrl output is for a deployment.
	URL     string
	Gateway *apigw.Gateway
	// HTTPGateway serves instead of Gateway when Settings.HTTP is set.
	HTTPGateway *apigw.HTTPGateway
	Issuer      *Issuer
	Settings    Settings
	// JWKSURL is the authorizer's JWKS_URL; MotoURL is moto_server's.
	JWKSURL string
	MotoURL string

	sts     *STSCounter
	mu      sync.Mutex
	closers []func() error
}

// StartStack starts everything, or nothing: on error, whatever had started
// is stopped again. Stop a started stack with Close.
func StartStack(ctx context.Context, o StackOptions) (*Stack, error) {
	if o.Issuer == nil {
		return nil, errors.New("stack: an issuer is required")
	}
	gwCfg := o.Settings.API.Config
	gwCfg.APIID = strings.ToLower(rand.Text()[:10])
	stage := "/" + gwCfg.Stage
	if h := o.Settings.HTTP; h != nil {
		stage = h.stagePath()
	} else if err := gwCfg.Validate(); err != nil {
		return nil, fmt.Errorf("stack: %s: %w", o.Settings.Source, err)
	}
	// The quick checks first, so a busy port or a missing tool is reported
	// before a minute of building: the port, which needs no tool, then the tools.
	l, err := net.Listen("tcp", o.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%s: %w", o.Addr, ErrPortInUse)
		}
		return nil, fmt.Errorf("stack: listen on %s: %w", o.Addr, err)
	}
	for _, t := range []proc.Tool{proc.RIE, proc.Moto} {
		if _, err := proc.Find(t); err != nil {
			l.Close()
			return nil, err
		}
	}
	s := &Stack{URL: "http://" + l.Addr().String() + stage, Issuer: o.Issuer, Settings: o.Settings}
	s.onClose(func() error { return l.Close() })
	started := false
	defer func() {
		if !started {
			s.Close()
		}
	}()

	motoSrv, authzBin, backendBin, err := s.startMotoAndBuild(ctx, o)
	if err != nil {
		return nil, err
	}
	s.MotoURL = motoSrv.URL
	client := &http.Client{Timeout: 10 * time.Second}
	if err := CreateGroupRoles(ctx, client, motoSrv.URL, o.Settings.Groups); err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if b := o.Settings.DataBucket; b != "" {
		if err := CreateBucket(ctx, client, motoSrv.URL, b); err != nil {
			return nil, fmt.Errorf("stack: %w", err)
		}
	}

	jwksSrv, err := o.Issuer.ServeJWKS()
	if err != nil {
		return nil, err
	}
	s.onClose(jwksSrv.Close)
	s.JWKSURL = jwksSrv.URL

	if s.sts, err = NewSTSCounter(motoSrv.URL); err != nil {
		return nil, err
	}
	stsListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	stsURL := s.serve(s.sts, stsListener)

	fnLog := newLockedWriter(o.FunctionLog)
	if o.Settings.HTTP != nil {
		if err := s.startHTTP(ctx, o, gwCfg.APIID, authzBin, backendBin, motoSrv, stsURL, jwksSrv.URL, fnLog, l); err != nil {
			return nil, err
		}
		started = true
		return s, nil
	}
	authz, err := rie.Start(ctx, rie.Options{
		Bootstrap:    authzBin,
		FunctionName: Deployment.StackName + "-authorizer",
		Timeout:      5 * time.Second,
		Log:          newPrefixWriter("authorizer", fnLog),
		Env: envList(o.Settings.AuthorizerEnv,
			"USER_POOL_ID="+o.Issuer.PoolID,
			"APP_CLIENT_IDS="+o.Issuer.ClientID,
			"JWKS_URL="+jwksSrv.URL,
		),
	})
	if err != nil {
		return nil, fmt.Errorf("stack: authorizer: %w", err)
	}
	s.onClose(authz.Close)
	backendEnv := append(motoSrv.Env(),
		// Through the counter, so AssumeRole calls are counted on the wire.
		"AWS_ENDPOINT_URL_STS="+stsURL,
		"ALLOWED_ROLE_ARNS="+strings.Join(o.Settings.RoleARNs(), ","),
		"DATA_BUCKET="+o.Settings.DataBucket,
	)
	backend, err := rie.Start(ctx, rie.Options{
		Bootstrap:    backendBin,
		FunctionName: Deployment.StackName + "-backend",
		Timeout:      10 * time.Second,
		Log:          newPrefixWriter("backend", fnLog),
		Env:          envList(o.Settings.BackendEnv, backendEnv...),
	})
	if err != nil {
		return nil, fmt.Errorf("stack: backend: %w", err)
	}
	s.onClose(backend.Close)

	if s.Gateway, err = apigw.NewGateway(gwCfg, apigw.Deps{Authorizer: authz, Backend: backend, Logger: o.Logger}); err != nil {
		return nil, err
	}
	s.serve(s.Gateway, l)
	started = true
	return s, nil
}

// startMotoAndBuild starts moto_server while the bootstraps build: the two
// slowest steps, in parallel.
func (s *Stack) startMotoAndBuild(ctx context.Context, o StackOptions) (*moto.Server, string, string, error) {
	var (
		wg                   sync.WaitGroup
		authzBin, backendBin = o.AuthorizerBootstrap, o.BackendBootstrap
		buildErr             error
	)
	wg.Go(func() {
		if authzBin == "" {
			if authzBin, buildErr = rie.Build(ctx, "./cmd/authorizer", filepath.Join(o.BuildDir, "authorizer")); buildErr != nil {
				return
			}
		}
		if backendBin == "" {
			backendBin, buildErr = rie.Build(ctx, cmp.Or(o.BackendPackage, "./cmd/backend"), filepath.Join(o.BuildDir, "backend"))
		}
	})
	motoSrv, motoErr := moto.Start(ctx, o.MotoLog)
	if motoErr == nil {
		s.onClose(motoSrv.Close)
	}
	wg.Wait()
	if motoErr != nil {
		return nil, "", "", motoErr
	}
	if buildErr != nil {
		return nil, "", "", buildErr
	}
	return motoSrv, authzBin, backendBin, nil
}

// serve runs h on l until the stack closes and returns l's base URL.
func (s *Stack) serve(h http.Handler, l net.Listener) string {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	s.onClose(func() error { return shutdown(srv) })
	return "http://" + l.Addr().String()
}

// shutdown stops srv, closing it outright when requests in flight outlast 3s.
func shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return srv.Close()
	}
	return nil
}

func (s *Stack) onClose(f func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closers = append(s.closers, f)
}

// AssumeRoleCalls is how many sts:AssumeRole calls reached moto.
func (s *Stack) AssumeRoleCalls() int64 {
	if s.sts == nil {
		return 0
	}
	return s.sts.Count("AssumeRole")
}

// Close stops everything the stack started, last started first. It is safe
// to call more than once.
func (s *Stack) Close() error {
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i](); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// envList turns the template's literal variables plus the stack's own into
// KEY=VALUE form; the stack's win.
func envList(literal map[string]string, own ...string) []string {
	var out []string
	for k, v := range literal {
		out = append(out, k+"="+v)
	}
	return append(out, own...)
}

// lockedWriter serialises writes from several processes' output copiers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newLockedWriter(w io.Writer) *lockedWriter {
	if w == nil {
		w = io.Discard
	}
	return &lockedWriter{w: w}
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter writes whole lines, each prefixed with the process's name, so
// two functions' logs can share one terminal.
type prefixWriter struct {
	prefix []byte
	w      io.Writer
	mu     sync.Mutex
	buf    bytes.Buffer
}

func newPrefixWriter(name string, w io.Writer) *prefixWriter {
	return &prefixWriter{prefix: []byte(name + " | "), w: w}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		i := bytes.IndexByte(p.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := append(append([]byte{}, p.prefix...), p.buf.Next(i+1)...)
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

// Welcome prints what runs where, and curl lines to paste, each minting its
// token with make token: alice and bob in the first two groups, and dana in
// both, choosing the role of the second with X-Rolegate-Role. It fits a
// screen: no token is printed whole.
func (s *Stack) Welcome(w io.Writer) error {
	api := s.Settings.API
	if h := s.Settings.HTTP; h != nil {
		s.welcomeHTTP(w, h)
	} else {
		fmt.Fprintf(w, "\nrolegate-local is up: API Gateway stage %q at %s\n", api.Config.Stage, s.URL)
		fmt.Fprintf(w, "  settings   %s (authorizer cache TTL %s, throttling %s)\n", s.Settings.Source, api.Config.TTL, throttling(api.Config.Throttle))
		for _, r := range api.Config.Routes {
			fmt.Fprintf(w, "  route      %s\n", r)
		}
	}
	for _, k := range api.Config.APIKeys {
		note := ""
		if k.Generated {
			note = " (generated here: CloudFormation generates the deployed one)"
		}
		fmt.Fprintf(w, "  API key    %s: X-API-Key: %s%s\n", k.Name, k.Value, note)
	}
	for _, wn := range api.Warnings {
		fmt.Fprintf(w, "  WARNING    %s\n", wn)
	}
	for _, sk := range api.Skipped {
		fmt.Fprintf(w, "  not served %s\n", sk)
	}
	fmt.Fprintf(w, "  issuer     %s (client %s)\n", s.Issuer.URL(), s.Issuer.ClientID)
	fmt.Fprintf(w, "  JWKS       %s\n", s.JWKSURL)
	fmt.Fprintf(w, "  STS, IAM   moto_server at %s\n", s.MotoURL)
	if b := s.Settings.DataBucket; b != "" {
		fmt.Fprintf(w, "  S3         bucket %s in moto_server (the backend's DATA_BUCKET)\n", b)
	}
	for _, g := range s.Settings.Groups {
		prec := "none"
		if g.Precedence != userpool.NoPrecedence {
			prec = strconv.Itoa(g.Precedence)
		}
		fmt.Fprintf(w, "  group      %-10s precedence %-4s role %s\n", g.Name, prec, g.RoleARN)
	}
	fmt.Fprintf(w, "\nTry it in another terminal (make token mints for this stack; tokens live %s):\n\n  U=%s\n",
		userpool.IDTokenLifetime, s.URL+s.Settings.firstPath())
	for _, c := range s.welcomeCalls() {
		fmt.Fprintf(w, "%s  curl -s -H \"Authorization: Bearer $(make -s token NAME=%s GROUP=%s)\"%s $U\n",
			c.note, c.user, strings.Join(c.groups, ","), c.header)
	}
	fmt.Fprintf(w, "\nOne line per request and function below (RAW=1 for the JSON/EMF lines). Ctrl-C stops everything.\n\n")
	return nil
}

// welcomeCall is one curl line of the welcome text.
type welcomeCall struct {
	user         string
	groups       []string
	note, header string
}

func (s *Stack) welcomeCalls() []welcomeCall {
	var calls []welcomeCall
	for i, user := range []string{"alice", "bob"} {
		if i < len(s.Settings.Groups) {
			calls = append(calls, welcomeCall{user: user, groups: []string{s.Settings.Groups[i].Name}})
		}
	}
	if len(s.Settings.Groups) < 2 {
		return calls
	}
	first, second := s.Settings.Groups[0], s.Settings.Groups[1]
	role, err := arn.ParseRole(second.RoleARN)
	if err != nil {
		return calls
	}
	return append(calls, welcomeCall{
		user: "dana", groups: []string{first.Name, second.Name},
		note:   "  # dana is in both groups and chooses " + second.Name + " over her preferred role:\n",
		header: " \\\n       -H 'X-Rolegate-Role: " + role.Name + "'",
	})
}

func throttling(t apigw.Throttle) string {
	if t.Rate == 0 {
		return "off"
	}
	return fmt.Sprintf("%g/s, burst %d", t.Rate, t.Burst)
}
