package apigw

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ProxyEvent is the event a REST API hands a Lambda proxy integration, in
// the shape API Gateway writes it: every member present, null where AWS
// writes null (an empty body, no query string, no path parameters), and
// isBase64Encoded always there. aws-lambda-go's events types drop empty
// members (omitempty), so the gateway does not use them.
type ProxyEvent struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  RequestContext      `json:"requestContext"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

// RequestContext is the event's requestContext.
type RequestContext struct {
	ResourceID        string          `json:"resourceId"`
	ResourcePath      string          `json:"resourcePath"`
	HTTPMethod        string          `json:"httpMethod"`
	ExtendedRequestID string          `json:"extendedRequestId"`
	RequestTime       string          `json:"requestTime"`
	Path              string          `json:"path"`
	AccountID         string          `json:"accountId"`
	Protocol          string          `json:"protocol"`
	Stage             string          `json:"stage"`
	DomainPrefix      string          `json:"domainPrefix"`
	RequestTimeEpoch  int64           `json:"requestTimeEpoch"`
	RequestID         string          `json:"requestId"`
	Identity          RequestIdentity `json:"identity"`
	DomainName        string          `json:"domainName"`
	APIID             string          `json:"apiId"`
	// Authorizer is the authorizer's context, principalId and
	// integrationLatency; absent on a method without an authorizer.
	Authorizer map[string]any `json:"authorizer,omitempty"`
}

// RequestIdentity is requestContext.identity. The members other than
// sourceIp, userAgent and the API key's describe IAM or Cognito
// identity-pool callers, a client certificate (mutual TLS) or a VPC endpoint
// (private APIs); a TOKEN-authorized or open method gets them all as null,
// as here. apiKey and apiKeyId name the key of a method that requires one.
type RequestIdentity struct {
	CognitoIdentityPoolID         *string   `json:"cognitoIdentityPoolId"`
	AccountID                     *string   `json:"accountId"`
	CognitoIdentityID             *string   `json:"cognitoIdentityId"`
	Caller                        *string   `json:"caller"`
	SourceIP                      string    `json:"sourceIp"`
	PrincipalOrgID                *string   `json:"principalOrgId"`
	AccessKey                     *string   `json:"accessKey"`
	CognitoAuthenticationType     *string   `json:"cognitoAuthenticationType"`
	CognitoAuthenticationProvider *string   `json:"cognitoAuthenticationProvider"`
	UserArn                       *string   `json:"userArn"`
	UserAgent                     string    `json:"userAgent"`
	User                          *string   `json:"user"`
	APIKey                        *string   `json:"apiKey"`
	APIKeyID                      *string   `json:"apiKeyId"`
	ClientCert                    *struct{} `json:"clientCert"`
	VpcID                         *string   `json:"vpcId"`
	VpceID                        *string   `json:"vpceId"`
}

// request is what the gateway knows about one call when it builds the event.
type request struct {
	r      *http.Request
	path   string // the path below the stage
	route  Route
	params map[string]string
	body   []byte
	authz  map[string]any
	apiKey apiKeyUse
	// methodArn is the request's execute-api ARN; resource is the resource
	// policy's decision for it, when the API has one.
	methodArn string
	resource  Decision
	id        string
	start     time.Time
}

// apiKeyUse is the API key a request presented to a method that requires
// one: its value and id, as requestContext.identity shows them (null
// otherwise).
type apiKeyUse struct {
	value, id *string
}

// proxyEvent builds the Lambda proxy integration event for q.
func (g *Gateway) proxyEvent(q request) ProxyEvent {
	r := q.r
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	hdr := r.Header.Clone()
	// The client reached API Gateway at the API's execute-api name over TLS
	// on 443; the event says so, whatever the local listener is.
	domain := g.cfg.DomainName()
	hdr.Set("Host", domain)
	// API Gateway appends the peer to what the client sent, so the header can
	// be spoofed there too; only sourceIp is the gateway's own observation.
	xff := sourceIP
	if sent := r.Header.Values("X-Forwarded-For"); len(sent) > 0 {
		xff = strings.Join(sent, ", ") + ", " + sourceIP
	}
	hdr.Set("X-Forwarded-For", xff)
	hdr.Set("X-Forwarded-Proto", "https")
	hdr.Set("X-Forwarded-Port", "443")
	// With active tracing API Gateway adds a trace header to a request that
	// has none (X-Ray developer guide, "API Gateway active tracing").
	if g.cfg.Tracing && hdr.Get("X-Amzn-Trace-Id") == "" {
		hdr.Set("X-Amzn-Trace-Id", traceID(q.start, q.id))
	}
	headers, multiHeaders := flatten(hdr)
	query, multiQuery := flatten(r.URL.Query())
	ev := ProxyEvent{
		Resource:                        q.route.Path,
		Path:                            q.path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  q.params,
		StageVariables:                  g.cfg.StageVariables,
		RequestContext: RequestContext{
			AccountID:         g.cfg.AccountID,
			ResourceID:        resourceID(q.route.Path),
			Stage:             g.cfg.Stage,
			DomainName:        domain,
			DomainPrefix:      g.cfg.APIID,
			RequestID:         q.id,
			ExtendedRequestID: extendedRequestID(q.id),
			Protocol:          r.Proto,
			Identity:          RequestIdentity{SourceIP: sourceIP, UserAgent: r.UserAgent(), APIKey: q.apiKey.value, APIKeyID: q.apiKey.id},
			ResourcePath:      q.route.Path,
			Path:              "/" + g.cfg.Stage + q.path,
			Authorizer:        q.authz,
			HTTPMethod:        r.Method,
			RequestTime:       q.start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch:  q.start.UnixMilli(),
			APIID:             g.cfg.APIID,
		},
	}
	if len(q.body) > 0 {
		body := string(q.body)
		if g.binary.matches(r.Header.Get("Content-Type")) {
			body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(q.body), true
		}
		ev.Body = &body
	}
	return ev
}

// flatten gives API Gateway's two views of a multi-map: the last value per
// key, and every value. Both are null when there is nothing.
func flatten(m map[string][]string) (map[string]string, map[string][]string) {
	if len(m) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(m))
	for k, vs := range m {
		if len(vs) > 0 {
			single[k] = vs[len(vs)-1]
		}
	}
	return single, m
}

// extendedRequestID stands in for the id API Gateway's access logs call
// extendedRequestId, a value of its own (16 base64 characters, as in
// "LgzqiF0eIAMEbWQ="), not the requestId: here derived from it, so one
// request's two ids stay tied for a reader of the logs.
func extendedRequestID(requestID string) string {
	sum := sha256.Sum256([]byte("extended:" + requestID))
	return base64.StdEncoding.EncodeToString(sum[:11])
}

// traceID is an X-Ray trace header of AWS's form: version 1, the request's
// epoch seconds in 8 hex digits, 96 bits in 24 hex digits (here derived from
// the request id).
func traceID(start time.Time, requestID string) string {
	sum := sha256.Sum256([]byte("trace:" + requestID))
	return fmt.Sprintf("Root=1-%08x-%x", start.Unix(), sum[:12])
}

// resourceID is a stable stand-in for the id API Gateway gives a resource.
func resourceID(path string) string {
	h := fnv.New32a()
	h.Write([]byte(path))
	return strconv.FormatUint(uint64(h.Sum32())%(36*36*36*36*36*36), 36)
}

// mediaTypes is a RestApi's BinaryMediaTypes: type/subtype, either part
// possibly *.
type mediaTypes []string

// matches reports whether the media type of a Content-Type or Accept value
// (parameters ignored) is one of m.
func (m mediaTypes) matches(value string) bool {
	mt, _, _ := strings.Cut(value, ";")
	typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(mt)), "/")
	if !ok {
		return false
	}
	for _, b := range m {
		bt, bs, _ := strings.Cut(strings.ToLower(b), "/")
		if (bt == "*" || bt == typ) && (bs == "*" || bs == sub) {
			return true
		}
	}
	return false
}

// firstAccept is the first media type a request's Accept header lists,
// which is the one API Gateway compares with the binary media types.
func firstAccept(h http.Header) string {
	first, _, _ := strings.Cut(h.Get("Accept"), ",")
	return first
}
