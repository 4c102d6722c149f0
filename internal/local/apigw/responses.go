package apigw

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// Gateway response types (AWS::ApiGateway::GatewayResponse ResponseType) the
// local gateway produces.
const (
	ResponseUnauthorized                 = "UNAUTHORIZED"
	ResponseAccessDenied                 = "ACCESS_DENIED"
	ResponseAuthorizerFailure            = "AUTHORIZER_FAILURE"
	ResponseAuthorizerConfigurationError = "AUTHORIZER_CONFIGURATION_ERROR"
	ResponseMissingAuthenticationToken   = "MISSING_AUTHENTICATION_TOKEN"
	ResponseRequestTooLarge              = "REQUEST_TOO_LARGE"
	ResponseIntegrationFailure           = "INTEGRATION_FAILURE"
	ResponseIntegrationTimeout           = "INTEGRATION_TIMEOUT"
	ResponseThrottled                    = "THROTTLED"
	ResponseInvalidAPIKey                = "INVALID_API_KEY"
	ResponseDefault4XX                   = "DEFAULT_4XX"
	ResponseDefault5XX                   = "DEFAULT_5XX"
)

// GatewayResponse customises what API Gateway answers for one response type,
// as an AWS::ApiGateway::GatewayResponse does.
type GatewayResponse struct {
	// StatusCode replaces the type's default status when non-zero.
	StatusCode int
	// Headers are the literal response headers (ResponseParameters of the
	// form gatewayresponse.header.Name: "'value'").
	Headers map[string]string
	// Templates maps a content type to a body template. Only the
	// $context.error.* and $context.requestId variables are rendered.
	Templates map[string]string
}

// gatewayError is one of API Gateway's own answers before a backend runs.
type gatewayError struct {
	Type      string
	Status    int
	ErrorType string // x-amzn-ErrorType
	// Message is $context.error.message; nil renders as JSON null.
	Message *string
	// Body is API Gateway's built-in body, used when no GatewayResponse
	// customises the type.
	Body string
}

func msg(s string) *string { return &s }

// API Gateway's built-in answers. The bodies are byte-for-byte what a REST
// API returns without gateway responses, quirks included (the capital M of
// the access-denied bodies, the space in "Internal server error").
var (
	errResponseUnauthorized = gatewayError{Type: ResponseUnauthorized, Status: 401, ErrorType: "UnauthorizedException",
		Message: msg(unauthorizedMessage), Body: `{"message":"` + unauthorizedMessage + `"}`}
	errResponseExplicitDeny = gatewayError{Type: ResponseAccessDenied, Status: 403, ErrorType: "AccessDeniedException",
		Message: msg("User is not authorized to access this resource with an explicit deny"),
		Body:    `{"Message":"User is not authorized to access this resource with an explicit deny"}`}
	errResponseImplicitDeny = gatewayError{Type: ResponseAccessDenied, Status: 403, ErrorType: "AccessDeniedException",
		Message: msg("User is not authorized to access this resource"),
		Body:    `{"Message":"User is not authorized to access this resource"}`}
	// An authorizer that fails with anything but "Unauthorized", or answers
	// an unusable policy, gives this famously unhelpful body.
	errResponseAuthorizerFailure = gatewayError{Type: ResponseAuthorizerFailure, Status: 500,
		ErrorType: "AuthorizerConfigurationException", Body: `{"message": null}`}
	errResponseAuthorizerConfig = gatewayError{Type: ResponseAuthorizerConfigurationError, Status: 500,
		ErrorType: "AuthorizerConfigurationException", Body: `{"message": null}`}
	errResponseMissingToken = gatewayError{Type: ResponseMissingAuthenticationToken, Status: 403,
		ErrorType: "MissingAuthenticationTokenException", Message: msg("Missing Authentication Token"),
		Body: `{"message":"Missing Authentication Token"}`}
	// A method that requires an API key, called without one of the stage's.
	errResponseInvalidAPIKey = gatewayError{Type: ResponseInvalidAPIKey, Status: 403, ErrorType: "ForbiddenException",
		Message: msg("Forbidden"), Body: `{"message":"Forbidden"}`}
	errResponseThrottled = gatewayError{Type: ResponseThrottled, Status: 429, ErrorType: "TooManyRequestsException",
		Message: msg("Too Many Requests"), Body: `{"message":"Too Many Requests"}`}
	// A path outside the stage is not the API's at all, so none of its
	// gateway responses apply.
	errResponseNoStage = gatewayError{Status: 403, ErrorType: "ForbiddenException",
		Message: msg("Forbidden"), Body: `{"message":"Forbidden"}`}
	errResponseTooLarge = gatewayError{Type: ResponseRequestTooLarge, Status: 413, ErrorType: "RequestTooLarge",
		Message: msg("Request Too Long"), Body: `{"message":"Request Too Long"}`}
	// A Lambda proxy integration that fails or answers a malformed response.
	errResponseBadIntegration = gatewayError{Type: ResponseDefault5XX, Status: 502,
		ErrorType: "InternalServerErrorException", Message: msg("Internal server error"),
		Body: `{"message": "Internal server error"}`}
	errResponseIntegrationTimeout = gatewayError{Type: ResponseIntegrationTimeout, Status: 504,
		ErrorType: "InternalServerErrorException", Message: msg("Endpoint request timed out"),
		Body: `{"message": "Endpoint request timed out"}`}
)

// incompleteSignature is API Gateway's answer to a request with an
// Authorization header for a path and method the API does not have: it reads
// the header as a SigV4 one, and a bearer token has no key=value pairs.
// Today's wording names a hash instead of echoing the header; what exactly is
// hashed is not documented, so the whole value is (see docs/local.md).
func incompleteSignature(authorization string) gatewayError {
	sum := sha256.Sum256([]byte(authorization))
	m := "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'."
	if hasKeyValuePairs(authorization) {
		m = "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
			"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a " +
			"'X-Amz-Date' or a 'Date' header."
	}
	b, _ := json.Marshal(map[string]string{"message": m})
	return gatewayError{Type: ResponseMissingAuthenticationToken, Status: 403, ErrorType: "IncompleteSignatureException",
		Message: &m, Body: string(b)}
}

// hasKeyValuePairs reports whether every comma-separated part after the
// scheme is key=value, as in "AWS4-HMAC-SHA256 Credential=…, Signature=…".
func hasKeyValuePairs(authorization string) bool {
	_, params, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok {
		return false
	}
	for p := range strings.SplitSeq(params, ",") {
		if !strings.Contains(p, "=") {
			return false
		}
	}
	return true
}

// render builds the HTTP answer for e. A GatewayResponse for e's type wins,
// then DEFAULT_4XX or DEFAULT_5XX by status, then the built-in answer, which
// is how API Gateway picks.
func (e gatewayError) render(custom map[string]GatewayResponse, requestID string) (int, http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-RequestId", requestID)
	h.Set("x-amzn-ErrorType", e.ErrorType)
	if e.Type == "" {
		return e.Status, h, []byte(e.Body)
	}
	gr, ok := custom[e.Type]
	if !ok {
		fallback := ResponseDefault4XX
		if e.Status >= 500 {
			fallback = ResponseDefault5XX
		}
		gr, ok = custom[fallback]
	}
	if !ok {
		return e.Status, h, []byte(e.Body)
	}
	status := e.Status
	if gr.StatusCode != 0 {
		status = gr.StatusCode
	}
	for k, v := range gr.Headers {
		h.Set(k, v)
	}
	ct, tmpl := pickTemplate(gr.Templates)
	if ct == "" {
		// No template for the type: API Gateway's default mapping.
		ct, tmpl = "application/json", `{"message":$context.error.messageString}`
	}
	h.Set("Content-Type", ct)
	return status, h, []byte(e.renderTemplate(tmpl, requestID))
}

func pickTemplate(ts map[string]string) (string, string) {
	if t, ok := ts["application/json"]; ok {
		return "application/json", t
	}
	keys := make([]string, 0, len(ts))
	for k := range ts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "", ""
	}
	return keys[0], ts[keys[0]]
}

// renderTemplate substitutes the few mapping-template variables a gateway
// response uses. Unknown variables stay as written, as Velocity leaves them.
func (e gatewayError) renderTemplate(tmpl, requestID string) string {
	messageString := "null"
	message := ""
	if e.Message != nil {
		message = *e.Message
		b, _ := json.Marshal(message)
		messageString = string(b)
	}
	vars := []struct{ name, value string }{
		{"context.error.messageString", messageString},
		{"context.error.message", message},
		{"context.error.responseType", e.Type},
		{"context.error.validationErrorString", ""},
		{"context.requestId", requestID},
		{"context.extendedRequestId", extendedRequestID(requestID)},
	}
	var args []string
	for _, v := range vars {
		args = append(args, "${"+v.name+"}", v.value, "$"+v.name, v.value)
	}
	return strings.NewReplacer(args...).Replace(tmpl)
}
