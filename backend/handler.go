package backend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	gocache "github.com/patrickmn/go-cache"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/cognito"
	"github.com/rolegate/rolegate/internal/emf"
)

// deadlineReserve is kept back from the Lambda deadline so that a slow STS
// still gets a JSON 502 out instead of a Lambda timeout.
const deadlineReserve = 500 * time.Millisecond

// Handler runs routes with each caller's role ([Handler.Proxy]), GET /whoami
// among them. Build it with [New]. Safe for concurrent use.
type Handler struct {
	cfg       Config
	issuers   []string // of cfg.UserPoolIDs, trusted in iss with ROLE_SOURCE=jwt
	allow     allowlist
	base      aws.Config
	sts       AssumeRoleAPI
	sessions  *gocache.Cache // *session by user, username and role
	refreshes sync.WaitGroup // background refreshes under way
	now       func() time.Time
	log       *slog.Logger
}

// Option configures a Handler.
type Option func(*Handler)

// WithClock sets the clock of timestamps and latencies (default time.Now).
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// WithLogger sets where requests are logged (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// New returns a Handler for cfg. base is the function's own aws.Config
// (region, endpoints, retryer, HTTP client): every Config handed out is a copy
// whose Credentials are replaced by the caller's role's. client makes the
// AssumeRole calls, signed with the execution role.
func New(cfg Config, base aws.Config, client AssumeRoleAPI, opts ...Option) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("backend: invalid config: %w", err)
	}
	if client == nil {
		return nil, errors.New("backend: New needs an STS client")
	}
	cfg.SessionDuration = cmp.Or(cfg.SessionDuration, DefaultSessionDuration)
	cfg.MaxSessions = cmp.Or(cfg.MaxSessions, DefaultMaxSessions)
	cfg.MetricsNamespace = cmp.Or(cfg.MetricsNamespace, emf.DefaultNamespace)
	h := &Handler{cfg: cfg, base: base, sts: client, now: time.Now, log: slog.Default()}
	for _, p := range cfg.UserPoolIDs {
		h.issuers = append(h.issuers, cognito.Issuer(p), cognito.UpdatedIssuer(p))
	}
	for _, p := range cfg.AllowedRoleARNs {
		pat, _ := compilePattern(p) // Validate has vetted them
		h.allow = append(h.allow, pat)
	}
	// go-cache's janitor drops expired sessions, as the authorizer's decisions.
	h.sessions = gocache.New(cfg.SessionDuration-refreshWindow, time.Minute)
	for _, o := range opts {
		o(h)
	}
	h.sts = countedSTS{client, h.now}
	return h, nil
}

// Whoami is the body of a successful GET /whoami.
type Whoami struct {
	// ARN, Account and UserID are what sts:GetCallerIdentity answers for the
	// assumed credentials: the proof of who the work ran as.
	ARN     string `json:"arn"`
	Account string `json:"account"`
	UserID  string `json:"userId"`
	// Role is the role ARN assumed; User the caller's username (else sub).
	Role string `json:"role"`
	User string `json:"user"`
	// Roles are the caller's roles that may be chosen with RoleHeader: the
	// validated roles that the allowlist admits.
	Roles []string `json:"roles"`
}

// configFor returns an aws.Config for the caller of req, signed with the
// temporary credentials of the role chosen from its authorizer context (see
// [RoleHeader]), and that identity. The role is checked before any STS call
// and the credentials are obtained before configFor returns, so an error
// means no user work may run, and the Config is the zero value, with no
// credentials, the execution role's least of all.
func (h *Handler) configFor(ctx context.Context, req *Request) (aws.Config, Identity, error) {
	if h.cfg.RoleSource == RoleSourceJWT { // only the claims; never a rolegate-style context
		ctx, err := claimsContext(req, h.issuers)
		if err != nil {
			return aws.Config{}, Identity{}, err
		}
		req.authorizer = ctx
	}
	id, role, err := readIdentity(req)
	switch {
	case err != nil:
		return aws.Config{}, id, err
	case !h.allow.allows(ctx, role):
		return aws.Config{}, id, errRoleNotAllowed
	}
	s, err := h.session(id)
	if err != nil {
		return aws.Config{}, id, err
	}
	cache := s.cache.Load()
	creds, err := cache.Retrieve(ctx)
	if err != nil {
		return aws.Config{}, id, stsError(err)
	}
	h.refreshAhead(s, id, creds)
	cfg := h.base
	cfg.Credentials = cache
	return cfg, id, nil
}

// Handle serves GET /whoami alone: h.Proxy(h.WhoamiRoute()).
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return h.Proxy(h.WhoamiRoute())(ctx, ev)
}

// WhoamiRoute is GET /whoami, which answers a [Whoami].
func (h *Handler) WhoamiRoute() Route {
	return Route{Method: http.MethodGet, Path: "/whoami", Func: h.whoami}
}

// record is what one request learnt, for its log line. Its AssumeRole calls
// are counted by the STS client (see countedSTS), possibly after a cancelled
// request stopped waiting for them.
type record struct {
	start      time.Time
	id         Identity
	err        error
	assumes    atomic.Int64
	assumeTime atomic.Int64 // a time.Duration
}

func (h *Handler) whoami(ctx context.Context, _ *Request, id Identity, cfg aws.Config) (*Response, error) {
	// The client is built from the per-user Config, whose only credentials
	// are the assumed role's: there is nothing to fall back to.
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, stsError(err)
	}
	w := Whoami{
		ARN: aws.ToString(out.Arn), Account: aws.ToString(out.Account), UserID: aws.ToString(out.UserId),
		Role: id.Role, User: id.User(), Roles: []string{},
	}
	for _, s := range id.Roles {
		if role, err := arn.ParseRole(s); err == nil && h.allow.allows(ctx, role) {
			w.Roles = append(w.Roles, s)
		}
	}
	return JSON(http.StatusOK, w)
}

// logRequest writes the request's one line, which is also its EMF metrics
// document. Credentials are never in reach of this function.
func (h *Handler) logRequest(ctx context.Context, req *Request, status int, r *record) {
	var awsRequestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		awsRequestID = lc.AwsRequestID
	}
	h.logRecord(ctx, "request", r, "ok",
		slog.String("awsRequestId", awsRequestID),
		slog.String("apiRequestId", req.RequestID),
		slog.String("method", req.Method),
		slog.String("path", emf.Text(req.Path)), // the caller's
		slog.String("route", emf.Text(req.Route)),
		slog.String("role", r.id.Role),
		slog.String("user", r.id.User()),
		slog.Int("status", status))
}

// logRecord writes one line of r: a request ("request", with the Requests
// metric) or a background refresh ("refresh"), outcome ok its outcome when
// it has no error.
func (h *Handler) logRecord(ctx context.Context, msg string, r *record, ok string, attrs ...slog.Attr) {
	outcome, reason, level := ok, "ok", slog.LevelInfo
	if r.err != nil {
		rej := classify(r.err)
		outcome, reason, level = rej.outcome, rej.reason, slog.LevelWarn
		if rej.status >= 500 {
			level = slog.LevelError
		}
		// SDK errors name the operation, status, STS request id and message;
		// they never include credentials.
		attrs = append(attrs, slog.String("error", r.err.Error()))
	}
	// Reason is a plain member here, spelt as the authorizer's Reason
	// dimension so that one Logs Insights query reads both functions.
	attrs = append(attrs, slog.String("Reason", reason))
	calls, latency := r.assumes.Load(), time.Duration(r.assumeTime.Load())
	metrics := []emf.Metric{{Name: "AssumeRoleCalls", Unit: emf.Count, Value: float64(calls)}}
	if msg == "request" {
		metrics = append(metrics, emf.Metric{Name: "Requests", Unit: emf.Count, Value: 1})
	}
	if calls > 0 {
		metrics = append(metrics, emf.Metric{Name: "AssumeRoleLatency", Unit: emf.Milliseconds, Value: float64(latency.Microseconds()) / 1000})
	}
	attrs = append(attrs, emf.Record{
		Namespace:  h.cfg.MetricsNamespace,
		Time:       r.start,
		Dimensions: []emf.Dimension{{Name: "Outcome", Value: outcome}},
		Sets:       [][]string{{"Outcome"}},
		Metrics:    metrics,
	}.Attrs()...)
	h.log.LogAttrs(ctx, level, msg, attrs...)
}
