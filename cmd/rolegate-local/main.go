// Command rolegate-local runs rolegate on this machine, without AWS or Docker:
//
//	rolegate-local run [-api http [-authorizer jwt]]
//	                                       the whole stack on 127.0.0.1:$PORT (default 3000) until Ctrl-C
//	rolegate-local token -user alice -group admins [-expired] [-claim k=v]...
//	                                       an ID token the running stack accepts
//	rolegate-local loadtest [-n 1000] [-users 10] [-concurrency 10]
//	                                       requests through a fresh local stack, with latency and call counts
//
// It is wiring only: the stack lives in internal/local/localstack, the API Gateway
// emulator in internal/local/apigw. See docs/local.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rolegate/rolegate/internal/envvar"
	"github.com/rolegate/rolegate/internal/local/localstack"
	"github.com/rolegate/rolegate/internal/local/rie"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "token":
		err = tokenCmd(os.Args[2:])
	case "loadtest":
		err = loadtestCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rolegate-local:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: rolegate-local run | token -user NAME -group G1[,G2] [-expired] [-claim k=v] | loadtest [-n N] [-users M] [-concurrency C]")
	os.Exit(2)
}

// paths are the repository's template and the local state directory.
type paths struct{ template, state, defaultTemplate string }

func repoPaths(fs *flag.FlagSet) func() (paths, error) {
	template := fs.String("template", "", "CloudFormation template (default deploy/template.yaml of the repository)")
	state := fs.String("state", "", "state directory for the issuer key and logs (default build/local of the repository)")
	return func() (paths, error) {
		root, err := rie.ModuleRoot(context.Background())
		if err != nil {
			return paths{}, err
		}
		p := paths{template: *template, state: *state}
		p.defaultTemplate = filepath.Join(root, "deploy", "template.yaml")
		if p.template == "" {
			p.template = p.defaultTemplate
		}
		if p.state == "" {
			p.state = filepath.Join(root, "build", "local")
		}
		return p, os.MkdirAll(p.state, 0o700)
	}
}

// load reads the template's settings and the persisted local issuer, which
// `run` and `token` must share so that minted tokens are accepted.
func (p paths) load() (localstack.Settings, *localstack.Issuer, error) {
	settings, err := localstack.LoadSettings(p.template)
	if err != nil {
		return localstack.Settings{}, nil, err
	}
	issuer, err := localstack.LoadIssuer(p.state)
	return settings, issuer, err
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	defPort, err := envPort(3000)
	if err != nil {
		return err
	}
	port := fs.Int("port", defPort, "gateway port on 127.0.0.1 (PORT)")
	api := fs.String("api", os.Getenv("API"), "rest (deploy/template.yaml, the default) or http (deploy/http-api.yaml) (API)")
	authorizer := fs.String("authorizer", os.Getenv("AUTHORIZER"), "with -api http: rolegate (default) or jwt, the template's Authorizer parameter (AUTHORIZER)")
	raw := fs.Bool("raw", os.Getenv("RAW") != "", "print the gateway's and functions' JSON (EMF) lines as they are, not one short line each (RAW)")
	backendPkg := fs.String("backend", os.Getenv("BACKEND"), "the Go main package the backend function is built from, e.g. ./cmd/myapi (BACKEND; default ./cmd/backend)")
	getPaths := repoPaths(fs)
	_ = fs.Parse(args)
	if *port < 1 || *port > 65535 {
		return fmt.Errorf("-port %d: want 1 to 65535", *port)
	}
	p, err := getPaths()
	if err != nil {
		return err
	}
	// Before any file of the state is touched: a second stack on it would
	// truncate the first one's logs and replace its builds.
	lock, err := lockState(p.state)
	if err != nil {
		return err
	}
	defer lock.Close()
	settings, issuer, err := p.load()
	switch {
	case err != nil:
		return err
	case *api == "http":
		if p.template == p.defaultTemplate {
			p.template = filepath.Join(filepath.Dir(p.template), "http-api.yaml")
		}
		if settings, err = localstack.LoadHTTPSettings(p.template, *authorizer); err != nil {
			return err
		}
	case *api != "" && *api != "rest":
		return fmt.Errorf("-api %q: want rest or http", *api)
	case *authorizer != "":
		return errors.New("-authorizer chooses the HTTP API's authorizer: use it with -api http")
	}
	motoLog, err := os.Create(filepath.Join(p.state, "moto.log"))
	if err != nil {
		return err
	}
	defer motoLog.Close()

	// Every line as it is goes to functions.log; the terminal gets one short
	// line per request and function, or the raw lines with -raw.
	fnLog, err := os.Create(filepath.Join(p.state, "functions.log"))
	if err != nil {
		return err
	}
	defer fnLog.Close()
	var logs io.Writer = io.MultiWriter(os.Stderr, fnLog)
	if !*raw {
		compact := newCompactLog(os.Stderr, fnLog)
		defer compact.Close()
		logs = compact
	}

	ctx, stop := notifyStop(context.Background())
	defer stop()
	fmt.Fprintf(os.Stderr, "rolegate-local: building the functions and starting moto_server (%s)...\n", settings.Source)
	stack, err := localstack.StartStack(ctx, localstack.StackOptions{
		Addr:           "127.0.0.1:" + strconv.Itoa(*port),
		Settings:       settings,
		Issuer:         issuer,
		BuildDir:       p.state,
		BackendPackage: *backendPkg,
		FunctionLog:    logs,
		MotoLog:        motoLog,
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)).With("component", "gateway"),
	})
	if errors.Is(err, localstack.ErrPortInUse) {
		return fmt.Errorf("%w: stop what listens there or choose another port, e.g. PORT=%d make run", err, *port+1)
	}
	if err != nil {
		return err
	}
	defer stack.Close()
	// The JWKS port may have moved; `token` in another terminal reads this.
	if err := issuer.Save(p.state); err != nil {
		return err
	}
	if err := noteRunning(lock, stack.URL); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "rolegate-local: moto_server logs to %s, the gateway and functions to %s\n", motoLog.Name(), fnLog.Name())
	if err := stack.Welcome(os.Stdout); err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nrolegate-local: stopping moto_server, the emulators and the gateway")
	return stack.Close()
}

// claimFlags collects repeated -claim k=v.
type claimFlags map[string]any

func (c claimFlags) String() string { return "" }

// Set parses k=v; v is read as JSON when it is JSON (numbers, true, lists,
// null to remove the claim) and as a plain string otherwise.
func (c claimFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want key=value")
	}
	var parsed any
	if err := json.Unmarshal([]byte(v), &parsed); err == nil {
		c[k] = parsed
	} else {
		c[k] = v
	}
	return nil
}

func tokenCmd(args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	user := fs.String("user", "", "user name (cognito:username)")
	groups := fs.String("group", "", "groups, comma-separated (empty: no group)")
	expired := fs.Bool("expired", false, "mint a token that expired an hour ago")
	extra := claimFlags{}
	fs.Var(extra, "claim", "extra claim key=value (repeatable; JSON values allowed, null removes a claim)")
	getPaths := repoPaths(fs)
	_ = fs.Parse(args)
	p, err := getPaths()
	if err != nil {
		return err
	}
	if *user == "" {
		return errors.New("-user is required: the user the token is for (make token NAME=alice GROUP=admins)")
	}
	// Without a running stack, only an issuer a stack has used is worth a
	// token; token never makes a new one, which no stack would accept.
	if _, running := stackRunning(p.state); !running {
		if _, err := os.Stat(filepath.Join(p.state, localstack.IssuerFile)); err != nil {
			return errNoStack
		}
		fmt.Fprintf(os.Stderr, "rolegate-local: no stack is running; the token is for the issuer in %s, which the next make run uses\n", p.state)
	}
	settings, issuer, err := p.load()
	if err != nil {
		return err
	}
	var gs []string
	for g := range strings.SplitSeq(*groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			gs = append(gs, g)
		}
	}
	tok, err := settings.Token(issuer, localstack.TokenRequest{User: *user, Groups: gs, Expired: *expired, Extra: extra}, time.Now())
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

func loadtestCmd(args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ExitOnError)
	n := fs.Int("n", 1000, "number of requests")
	users := fs.Int("users", 10, "number of distinct users (tokens), spread over the groups")
	concurrency := fs.Int("concurrency", 10, "requests in flight at once")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	getPaths := repoPaths(fs)
	_ = fs.Parse(args)
	if *n < 1 || *users < 1 || *concurrency < 1 {
		return errors.New("-n, -users and -concurrency must be at least 1")
	}
	p, err := getPaths()
	if err != nil {
		return err
	}
	settings, err := localstack.LoadSettings(p.template)
	if err != nil {
		return err
	}
	issuer, err := localstack.NewIssuer()
	if err != nil {
		return err
	}
	logPath := filepath.Join(p.state, "loadtest.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()

	ctx, stop := notifyStop(context.Background())
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	fmt.Fprintln(os.Stderr, "loadtest: starting a fresh local stack...")
	stack, err := localstack.StartStack(ctx, localstack.StackOptions{
		// Its own builds: a running make run's stay as they are.
		Addr: "127.0.0.1:0", Settings: settings, Issuer: issuer, BuildDir: filepath.Join(p.state, "loadtest"),
		FunctionLog: logFile, MotoLog: logFile,
	})
	if err != nil {
		return err
	}
	defer stack.Close()
	plan, err := localstack.PlanLoad(stack, *users, time.Now())
	if err != nil {
		return err
	}
	url := stack.URL + plan.Path
	fmt.Fprintf(os.Stderr, "loadtest: %d requests from %d users, %d in flight, GET %s\n", *n, *users, *concurrency, url)
	rep := localstack.RunLoad(ctx, localstack.LoadOptions{URL: url, Tokens: plan.Tokens, Requests: *n, Concurrency: *concurrency, Check: plan.Check})
	res := localstack.LoadResult{LoadReport: rep, Gateway: stack.Gateway.Stats(), AssumeRoleCalls: stack.AssumeRoleCalls()}
	res.Write(os.Stdout)
	fmt.Printf("logs                   %s\n", logPath)
	if rep.Errors > 0 {
		return fmt.Errorf("%d of %d requests failed; first: %s", rep.Errors, rep.Requests, rep.FirstError)
	}
	return nil
}

// envPort is $PORT, or def when it is unset; anything but a port number is
// refused, not silently replaced by def.
func envPort(def int) (int, error) {
	v := os.Getenv("PORT")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return 0, envvar.Invalid("PORT", v, "a port number, 1 to 65535")
	}
	return n, nil
}

// notifyStop returns ctx cancelled on Ctrl-C, SIGTERM or SIGHUP (the terminal
// closed), so that every way a person ends the command stops the stack and its
// children. (Were the command killed outright, its children's parent-death
// signal stops them: proc.Start.)
func notifyStop(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
}
