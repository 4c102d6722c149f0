package backend

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// deadlineReserve is kept back from the Lambda deadline so that a slow STS
// still gets a JSON 502 out instead of a Lambda timeout.
const deadlineReserve = 500 * time.Millisecond

// Handler is the backend Lambda's handler for REST API proxy events.
type Handler struct {
	// Assumer gives each request its user's credentials. Required.
	Assumer *Assumer
	// Logger gets one line per request; nil means slog.Default().
	Logger *slog.Logger
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
}

// Handle serves one proxy event: GET /whoami; any other path is 404 and any
// other method 405, as JSON. It always returns a response and a nil error, so
// API Gateway passes the status through rather than answering 502 itself.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineReserve))
		defer cancel()
	}
	r := record{src: SourceNone}
	resp := h.route(ctx, req, &r)
	h.log(ctx, req, resp.StatusCode, &r)
	return resp, nil
}

// record is what one request learnt, for its log line.
type record struct {
	id  Identity
	src Source
	err error
}

func (h *Handler) route(ctx context.Context, req events.APIGatewayProxyRequest, r *record) events.APIGatewayProxyResponse {
	path := req.Resource
	if path == "" || strings.Contains(path, "{") { // "/{proxy+}": the real path is in Path
		path = req.Path
	}
	if path != "/whoami" {
		return jsonResponse(http.StatusNotFound, errorBody{Message: "no such resource", RequestID: req.RequestContext.RequestID})
	}
	if req.HTTPMethod != http.MethodGet {
		resp := jsonResponse(http.StatusMethodNotAllowed, errorBody{Message: "method not allowed", RequestID: req.RequestContext.RequestID})
		resp.Headers["Allow"] = http.MethodGet
		return resp
	}
	return h.whoami(ctx, req, r)
}

func (h *Handler) whoami(ctx context.Context, req events.APIGatewayProxyRequest, r *record) events.APIGatewayProxyResponse {
	var cfg aws.Config
	r.id, r.err = readContext(req.RequestContext.Authorizer)
	if r.err == nil {
		cfg, r.src, r.err = h.Assumer.Assume(ctx, r.id) // judges the role
	}
	if r.err != nil {
		return ErrorResponse(req, r.err)
	}
	// The client is built from the per-user Config, whose only credentials
	// are the assumed role's: there is nothing to fall back to.
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		r.err = stsError(err)
		return ErrorResponse(req, r.err)
	}
	return jsonResponse(http.StatusOK, Whoami{
		ARN:     aws.ToString(out.Arn),
		Account: aws.ToString(out.Account),
		UserID:  aws.ToString(out.UserId),
		Role:    r.id.Role,
		User:    r.id.User(),
	})
}

// log writes the request's one line: who, which role, where the credentials
// came from, the outcome. Credentials are never in reach of this function.
func (h *Handler) log(ctx context.Context, req events.APIGatewayProxyRequest, status int, r *record) {
	l := h.Logger
	if l == nil {
		l = slog.Default()
	}
	outcome, level := "ok", slog.LevelInfo
	switch {
	case r.err != nil:
		outcome = classify(r.err).reason
	case status == http.StatusNotFound:
		outcome = "not_found"
	case status == http.StatusMethodNotAllowed:
		outcome = "method_not_allowed"
	}
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("requestId", req.RequestContext.RequestID),
		slog.String("method", req.HTTPMethod),
		slog.String("path", req.Path),
		slog.String("role", r.id.Role),
		slog.String("user", r.id.User()),
		slog.String("credentials", string(r.src)),
		slog.Int("status", status),
		slog.String("outcome", outcome),
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("lambdaRequestId", lc.AwsRequestID))
	}
	if r.err != nil {
		// SDK errors name the operation, status, STS request id and message;
		// they never include credentials.
		attrs = append(attrs, slog.String("error", r.err.Error()))
	}
	l.LogAttrs(ctx, level, "request", attrs...)
}
