package backend

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
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
	errNotIDToken     = &rejection{http.StatusForbidden, "forbidden", "wrong_token_use", "not an ID token"}
	errWrongIssuer    = &rejection{http.StatusForbidden, "forbidden", "wrong_issuer", "token from an issuer this API does not trust"}
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
	errAWSDenied      = &rejection{http.StatusForbidden, "forbidden", "aws_access_denied", "access denied"}
	errAWS            = &rejection{http.StatusBadGateway, "aws_error", "aws_error", "AWS error"}
	errAWSThrottled   = &rejection{http.StatusServiceUnavailable, "throttled", "aws_throttled", "AWS is throttling, retry later"}
	errInternal       = &rejection{http.StatusInternalServerError, "internal", "internal", "internal error"}
)

// classify returns the rejection err wraps. A failed AWS call the code did
// not classify itself is classified as [AWSError] says; anything else is
// internal.
func classify(err error) *rejection {
	if r, ok := errors.AsType[*rejection](err); ok {
		return r
	}
	if _, ok := errors.AsType[*smithy.OperationError](err); ok {
		return classify(AWSError(err))
	}
	return errInternal
}

// stsError classifies a failed STS call. The SDK has already retried what is
// retryable; what reaches here is final.
func stsError(err error) error { return awsError(err, errAccessDenied, errThrottled, errSTS) }

// AWSError classifies err, a failed call a route made with the caller's
// credentials, for the answer: access denied is 403, throttling (what the SDK
// retried and gave up on) 503 with Retry-After, anything else 502. A route
// may return such an error as it is; AWSError is for wrapping it with detail.
func AWSError(err error) error { return awsError(err, errAWSDenied, errAWSThrottled, errAWS) }

func awsError(err error, denied, throttled, other *rejection) error {
	code := ""
	if api, ok := errors.AsType[smithy.APIError](err); ok {
		code = api.ErrorCode()
	}
	_, throttle := retry.DefaultThrottleErrorCodes[code]
	_, budget := errors.AsType[ratelimit.QuotaExceededError](err) // the SDK's retry budget ran out: still throttling
	switch {
	case code == "AccessDenied" || code == "AccessDeniedException":
		return fmt.Errorf("%w: %w", denied, err)
	case throttle || budget:
		return fmt.Errorf("%w: %w", throttled, err)
	}
	return fmt.Errorf("%w: %w", other, err)
}

// errorResponse is the answer to err: the status of its outcome, and a JSON
// body with a short message and API Gateway's request id. The error's own
// text (which may carry AWS detail) never reaches the body; it is logged.
func errorResponse(req *Request, err error) *Response {
	r := classify(err)
	resp, _ := JSON(r.status, errorBody{Message: r.message, RequestID: req.RequestID})
	if r.status == http.StatusServiceUnavailable { // throttling clears within seconds; the SDK has already retried
		resp.Header["Retry-After"] = "2"
	}
	return resp
}

type errorBody struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}
