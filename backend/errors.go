package backend

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// Sentinel errors, one per outcome. Every error returned by this package wraps
// exactly one of them; [ErrorResponse] maps them to HTTP statuses.
var (
	// ErrNoRole: requestContext.authorizer names no role (403, no STS call).
	ErrNoRole = errors.New("backend: no role in authorizer context")
	// ErrNoUser: requestContext.authorizer names no user (403, no STS call).
	ErrNoUser = errors.New("backend: no user in authorizer context")
	// ErrBadContext: a value in requestContext.authorizer is not a string, too
	// long, not UTF-8, or unusable as SourceIdentity (403, no STS call).
	ErrBadContext = errors.New("backend: malformed authorizer context")
	// ErrBadRole: the role is not a well-formed IAM role ARN (403, no STS call).
	ErrBadRole = errors.New("backend: role is not an IAM role ARN")
	// ErrRoleNotAllowed: the role does not match the allowlist (403, no STS call).
	ErrRoleNotAllowed = errors.New("backend: role not allowed")
	// ErrAccessDenied: STS refused; typically the role does not trust this
	// function (403).
	ErrAccessDenied = errors.New("backend: role cannot be assumed")
	// ErrThrottled: STS kept throttling after the SDK's retries (503).
	ErrThrottled = errors.New("backend: STS is throttling")
	// ErrSTS: any other STS failure: 5xx, timeouts, unreadable answers (502).
	ErrSTS = errors.New("backend: STS failed")
)

// retryAfterSeconds is what a throttled caller is told to wait. STS throttling
// is per account and clears within seconds; the SDK has already retried.
const retryAfterSeconds = "2"

// outcome is how one sentinel error is reported: the HTTP status, the reason
// class for logs, and the short message for the caller.
type outcome struct {
	err     error
	status  int
	reason  string
	message string
}

// outcomes is the single place that maps errors to statuses and messages.
var outcomes = [...]outcome{
	{ErrNoRole, http.StatusForbidden, "no_role", "no role in authorizer context"},
	{ErrNoUser, http.StatusForbidden, "no_user", "no user in authorizer context"},
	{ErrBadContext, http.StatusForbidden, "bad_context", "malformed authorizer context"},
	{ErrBadRole, http.StatusForbidden, "bad_role", "role is not an IAM role ARN"},
	{ErrRoleNotAllowed, http.StatusForbidden, "role_not_allowed", "role not allowed"},
	{ErrAccessDenied, http.StatusForbidden, "access_denied", "role cannot be assumed"},
	{ErrThrottled, http.StatusServiceUnavailable, "throttled", "STS is throttling, retry later"},
	{ErrSTS, http.StatusBadGateway, "sts_error", "STS error"},
}

// classify returns the outcome err wraps; an unknown error is a 500.
func classify(err error) outcome {
	for _, o := range outcomes {
		if errors.Is(err, o.err) {
			return o
		}
	}
	return outcome{err, http.StatusInternalServerError, "internal", "internal error"}
}

// ErrorResponse turns an error from this package into the proxy response the
// caller gets: the status for its outcome, and a JSON body with a short
// message and API Gateway's request id. The error's own text (which may carry
// STS detail) is never put in the body; log it instead.
func ErrorResponse(req events.APIGatewayProxyRequest, err error) events.APIGatewayProxyResponse {
	o := classify(err)
	resp := jsonResponse(o.status, errorBody{Message: o.message, RequestID: req.RequestContext.RequestID})
	if o.status == http.StatusServiceUnavailable {
		resp.Headers["Retry-After"] = retryAfterSeconds
	}
	return resp
}

type errorBody struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

// jsonResponse encodes v as the body of a proxy response with status.
func jsonResponse(status int, v any) events.APIGatewayProxyResponse {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own plain structs are encoded here; this cannot happen.
		status, b = http.StatusInternalServerError, []byte(`{"message":"internal error"}`)
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}
