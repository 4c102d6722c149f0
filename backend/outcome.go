package backend

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// rejection is every answer but a 200: its status, the outcome and reason it
// is logged and counted under, and the message the caller reads. Errors of
// this package are rejections, wrapped with detail for the log.
type rejection struct {
	status  int
	outcome string // bounded: the metrics' Outcome dimension
	reason  string
	message string
}

func (r *rejection) Error() string { return "backend: " + r.message }

// The outcome table: every answer but a 200 ("ok"). Every 403 is decided
// before any STS call, except access_denied, which is STS's own refusal.
var (
	errNoRole         = &rejection{http.StatusForbidden, "forbidden", "no_role", "no role in authorizer context"}
	errNoUser         = &rejection{http.StatusForbidden, "forbidden", "no_user", "no user in authorizer context"}
	errBadContext     = &rejection{http.StatusForbidden, "forbidden", "bad_context", "malformed authorizer context"}
	errBadRole        = &rejection{http.StatusForbidden, "forbidden", "bad_role", "role is not an IAM role ARN"}
	errChooseRole     = &rejection{http.StatusForbidden, "forbidden", "choose_role", "choose one of your roles with " + RoleHeader}
	errNotYourRole    = &rejection{http.StatusForbidden, "forbidden", "not_your_role", RoleHeader + " names none of your roles"}
	errAmbiguousRole  = &rejection{http.StatusForbidden, "forbidden", "ambiguous_role", RoleHeader + " names more than one of your roles: send its ARN"}
	errManyHeaders    = &rejection{http.StatusForbidden, "forbidden", "many_role_headers", RoleHeader + " must be sent once, with one value"}
	errRoleNotAllowed = &rejection{http.StatusForbidden, "forbidden", "role_not_allowed", "role not allowed"}
	errAccessDenied   = &rejection{http.StatusForbidden, "forbidden", "access_denied", "role cannot be assumed"}
	errNotFound       = &rejection{http.StatusNotFound, "not_found", "not_found", "no such resource"}
	errMethod         = &rejection{http.StatusMethodNotAllowed, "method_not_allowed", "method_not_allowed", "method not allowed"}
	errSTS            = &rejection{http.StatusBadGateway, "sts_error", "sts_error", "STS error"}
	errThrottled      = &rejection{http.StatusServiceUnavailable, "throttled", "throttled", "STS is throttling, retry later"}
	errInternal       = &rejection{http.StatusInternalServerError, "internal", "internal", "internal error"}
)

// classify returns the rejection err wraps; anything else is internal.
func classify(err error) *rejection {
	if r, ok := errors.AsType[*rejection](err); ok {
		return r
	}
	return errInternal
}

// stsError classifies a failed STS call. The SDK has already retried what is
// retryable; what reaches here is final.
func stsError(err error) error {
	code := ""
	if api, ok := errors.AsType[interface {
		error
		ErrorCode() string
	}](err); ok {
		code = api.ErrorCode()
	}
	_, throttle := retry.DefaultThrottleErrorCodes[code]
	_, budget := errors.AsType[ratelimit.QuotaExceededError](err) // the SDK's retry budget ran out: still throttling
	switch {
	case code == "AccessDenied" || code == "AccessDeniedException":
		return fmt.Errorf("%w: %w", errAccessDenied, err)
	case throttle || budget:
		return fmt.Errorf("%w: %w", errThrottled, err)
	}
	return fmt.Errorf("%w: %w", errSTS, err)
}

// ErrorResponse is the proxy response for an error of this package, exactly
// as the handler answers it: the status of its outcome, and a JSON body with
// a short message and API Gateway's request id. The error's own text (which
// may carry STS detail) never reaches the body; log it instead. An error
// from elsewhere is a 500.
func ErrorResponse(req events.APIGatewayProxyRequest, err error) events.APIGatewayProxyResponse {
	r := classify(err)
	resp := jsonResponse(r.status, errorBody{Message: r.message, RequestID: req.RequestContext.RequestID})
	switch r.status {
	case http.StatusServiceUnavailable: // STS throttling clears within seconds; the SDK has already retried
		resp.Headers["Retry-After"] = "2"
	case http.StatusMethodNotAllowed:
		resp.Headers["Allow"] = http.MethodGet
	}
	return resp
}

type errorBody struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

func jsonResponse(status int, v any) events.APIGatewayProxyResponse {
	b, _ := json.Marshal(v) // this package's structs of strings cannot fail
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}
