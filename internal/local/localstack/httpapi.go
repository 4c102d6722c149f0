package localstack

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/cfn"
	"github.com/rolegate/rolegate/internal/local/apigw"
	"github.com/rolegate/rolegate/internal/local/moto"
	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/jwks"
)

// HTTPSettings is the HTTP API of deploy/http-api.yaml, as the local stack serves it.
type HTTPSettings struct {
	apigw.HTTPAPI
	// Authorizer is the template's Authorizer parameter: rolegate or jwt.
	Authorizer string
}

// LoadHTTPSettings reads the HTTP API template at path with its Authorizer
// parameter set to authorizer ("" for its default), with the same groups and
// functions' literal environment as LoadSettings reads from the REST one.
func LoadHTTPSettings(path, authorizer string) (Settings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, err
	}
	t, err := cfn.ParseTemplate(b)
	if err != nil {
		return Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	r := apigw.Resolver{Template: t, Deployment: Deployment}
	api, err := apigw.ReadHTTPAPI(r, authorizer)
	if err != nil {
		return Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	if authorizer == "" {
		authorizer = "rolegate"
		if p, ok := t.ParameterDefault("Authorizer"); ok {
			authorizer = fmt.Sprint(p)
		}
	}
	s := Settings{Source: path, HTTP: &HTTPSettings{HTTPAPI: api, Authorizer: authorizer}}
	if s.Groups, err = readGroups(r); err != nil {
		return Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	// The environment as CloudFormation would set it for this Authorizer value.
	resolved, err := cfn.Resolve(t, map[string]string{"Authorizer": authorizer})
	if err == nil {
		t, err = cfn.ParseTemplate(resolved)
	}
	if err != nil {
		return Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	rr := apigw.Resolver{Template: t, Deployment: Deployment}
	s.AuthorizerEnv = literalEnv(rr, api.AuthorizerFunction)
	s.BackendEnv = literalEnv(rr, api.BackendFunction)
	return s, nil
}

// stagePath is the stage's part of the URL: none for $default.
func (h *HTTPSettings) stagePath() string {
	if h.Config.Stage == apigw.DefaultStageName {
		return ""
	}
	return "/" + h.Config.Stage
}

// firstPath is the path of GET /whoami, else of the first route, for the
// welcome text's curl lines.
func (s Settings) firstPath() string {
	if s.HTTP == nil {
		for _, r := range s.API.Config.Routes {
			if r.Method == "GET" && r.Path == "/whoami" {
				return r.Path
			}
		}
		return s.API.Config.Routes[0].Path
	}
	for _, r := range s.HTTP.Config.Routes {
		if _, path, ok := strings.Cut(r.Key, " "); ok {
			return path
		}
	}
	return "/"
}

// startHTTP starts the functions the HTTP API invokes (no authorizer function
// behind the JWT authorizer) and serves the HTTP API gateway on l.
func (s *Stack) startHTTP(ctx context.Context, o StackOptions, apiID, authzBin, backendBin string, motoSrv *moto.Server, stsURL, jwksURL string, fnLog io.Writer, l net.Listener) error {
	h := o.Settings.HTTP
	cfg := h.Config
	cfg.APIID = apiID
	deps := apigw.Deps{Logger: o.Logger}
	backendEnv := append(motoSrv.Env(), "AWS_ENDPOINT_URL_STS="+stsURL, "ALLOWED_ROLE_ARNS="+strings.Join(o.Settings.RoleARNs(), ","))
	if h.AuthorizerFunction != "" {
		authz, err := rie.Start(ctx, rie.Options{
			Bootstrap: authzBin, FunctionName: Deployment.StackName + "-authorizer", Timeout: 5 * time.Second,
			Log: newPrefixWriter("authorizer", fnLog),
			Env: envList(o.Settings.AuthorizerEnv, "USER_POOL_ID="+o.Issuer.PoolID, "APP_CLIENT_IDS="+o.Issuer.ClientID, "JWKS_URL="+jwksURL),
		})
		if err != nil {
			return fmt.Errorf("stack: authorizer: %w", err)
		}
		s.onClose(authz.Close)
		deps.Authorizer = authz
	}
	if h.JWTIssuerPool != "" {
		// The template's pool is the local issuer; its app client the audience.
		cfg.JWT = &apigw.JWTAuthorizer{Issuer: o.Issuer.URL(), Audience: []string{o.Issuer.ClientID}, Keys: jwks.NewCache([]string{jwksURL})}
		backendEnv = append(backendEnv, "USER_POOL_ID="+o.Issuer.PoolID)
	}
	backend, err := rie.Start(ctx, rie.Options{
		Bootstrap: backendBin, FunctionName: Deployment.StackName + "-backend", Timeout: 10 * time.Second,
		Log: newPrefixWriter("backend", fnLog), Env: envList(o.Settings.BackendEnv, backendEnv...),
	})
	if err != nil {
		return fmt.Errorf("stack: backend: %w", err)
	}
	s.onClose(backend.Close)
	deps.Backend = backend
	if s.HTTPGateway, err = apigw.NewHTTPGateway(cfg, deps); err != nil {
		return fmt.Errorf("stack: %s: %w", o.Settings.Source, err)
	}
	s.serve(s.HTTPGateway, l)
	return nil
}

// welcomeHTTP is the welcome text's head for an HTTP API.
func (s *Stack) welcomeHTTP(w io.Writer, h *HTTPSettings) {
	c := h.Config
	auth := "rolegate's Lambda authorizer (payload 2.0, simple responses, cache TTL " + c.TTL.String() + ")"
	if h.Authorizer == "jwt" {
		auth = "API Gateway's JWT authorizer (issuer " + s.Issuer.URL() + ", audience " + s.Issuer.ClientID + "); backend ROLE_SOURCE=jwt"
	}
	fmt.Fprintf(w, "\nrolegate-local is up: API Gateway HTTP API stage %q at %s\n", c.Stage, s.URL)
	fmt.Fprintf(w, "  settings   %s (Authorizer=%s, throttling %s)\n", s.Settings.Source, h.Authorizer, throttling(c.Throttle))
	fmt.Fprintf(w, "  authorizer %s\n", auth)
	for _, r := range c.Routes {
		fmt.Fprintf(w, "  route      %s (%s)\n", r.Key, r.Authorization)
	}
	for _, wn := range h.Warnings {
		fmt.Fprintf(w, "  WARNING    %s\n", wn)
	}
}
