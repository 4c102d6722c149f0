package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/local/rie"
)

// event builds the payload 2.0 event of r for route, as an HTTP API writes
// it: the raw path (with a named stage's prefix), lower-case headers whose
// repeated values are joined by commas, cookies apart from the headers,
// requestContext.http. The authorizer's part is added once it has answered.
func (g *HTTPGateway) event(r *http.Request, route HTTPRoute, params map[string]string, body []byte, id string, start time.Time) events.APIGatewayV2HTTPRequest {
	domain := g.cfg.APIID + ".execute-api." + g.cfg.Region + "." + arn.DNSSuffix(g.cfg.Region)
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		if k = strings.ToLower(k); k == "cookie" {
			for _, v := range vs {
				cookies = append(cookies, strings.Split(v, "; ")...)
			}
			continue
		}
		headers[k] = strings.Join(vs, ",")
	}
	headers["host"] = domain
	headers["x-forwarded-for"] = ip
	headers["x-forwarded-proto"] = "https"
	headers["x-forwarded-port"] = "443"
	var query map[string]string
	for k, vs := range r.URL.Query() {
		if query == nil {
			query = map[string]string{}
		}
		query[k] = strings.Join(vs, ",")
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route.Key, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: query, PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: route.Key, AccountID: g.cfg.AccountID, Stage: g.cfg.Stage, RequestID: id, APIID: g.cfg.APIID,
			DomainName: domain, DomainPrefix: g.cfg.APIID,
			Time: start.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: start.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		// A body that is not text reaches the function base64-encoded.
		if ev.Body = string(body); !utf8.Valid(body) {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// integrate invokes the backend with ev, for at most timeout, and maps its
// payload 2.0 response back to HTTP.
func (g *HTTPGateway) integrate(ctx context.Context, ev events.APIGatewayV2HTTPRequest, id string, timeout time.Duration) reply {
	payload, err := json.Marshal(ev)
	if err != nil {
		return httpBadGateway.reply(id)
	}
	g.backendInvokes.Add(1)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := g.d.Backend.Invoke(ctx, payload)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return httpTimeout.reply(id)
	case err != nil:
		g.d.Logger.Warn("backend invoke failed", "apiRequestId", id, "error", err)
		return httpBadGateway.reply(id)
	}
	if _, isErr := rie.ParseError(out); isErr {
		return httpBadGateway.reply(id)
	}
	status, h, body, err := parseHTTPResponse(out)
	if err != nil {
		g.d.Logger.Warn("malformed payload 2.0 response", "apiRequestId", id, "error", err)
		return httpBadGateway.reply(id)
	}
	h.Set("Apigw-Requestid", id)
	return reply{status: status, header: h, body: body, outcome: "integrated"}
}

// parseHTTPResponse reads a payload 2.0 response. An object with a statusCode
// is the structured form (statusCode, headers, cookies, body,
// isBase64Encoded); any other valid JSON is a 200 whose body is that JSON,
// as application/json: the two forms HTTP APIs document.
func parseHTTPResponse(b []byte) (int, http.Header, []byte, error) {
	if !json.Valid(b) {
		return 0, nil, nil, fmt.Errorf("%w: not JSON", errMalformedProxyResponse)
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(b, &probe) != nil || probe["statusCode"] == nil {
		return 200, http.Header{"Content-Type": {"application/json"}}, bytes.TrimSpace(b), nil
	}
	var resp struct {
		StatusCode      int               `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Cookies         []string          `json:"cookies"`
		Body            *string           `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(b, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
		return 0, nil, nil, fmt.Errorf("%w: statusCode, headers, cookies or body of the wrong type", errMalformedProxyResponse)
	}
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	h.Del("Connection")
	var body []byte
	if resp.Body != nil {
		body = []byte(*resp.Body)
		if resp.IsBase64Encoded {
			dec, err := base64.StdEncoding.DecodeString(*resp.Body)
			if err != nil {
				return 0, nil, nil, fmt.Errorf("%w: body is not base64", errMalformedProxyResponse)
			}
			body = dec
		}
	}
	return resp.StatusCode, h, body, nil
}
