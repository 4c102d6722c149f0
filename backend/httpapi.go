package backend

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ProxyEvent returns the Lambda handler that serves routes behind either kind
// of API Gateway: a REST API's proxy event (payload 1.0, as [Handler.Proxy]) or
// an HTTP API's (payload 2.0), told apart by the shape AWS documents for each
// and answered in the same payload's format. Any other event (an HTTP API's
// payload 1.0 among them) is a function error, never a request.
func (h *Handler) ProxyEvent(routes ...Route) func(context.Context, json.RawMessage) (any, error) {
	rest := h.Proxy(routes...)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var shape struct {
			Version, RouteKey, HTTPMethod *string
		}
		err := json.Unmarshal(raw, &shape)
		switch {
		case err != nil:
		case shape.Version == nil && shape.RouteKey == nil && shape.HTTPMethod != nil:
			var ev events.APIGatewayProxyRequest
			if err = json.Unmarshal(raw, &ev); err == nil {
				return rest(ctx, ev)
			}
		case shape.Version != nil && *shape.Version == "2.0" && shape.RouteKey != nil && shape.HTTPMethod == nil:
			var ev events.APIGatewayV2HTTPRequest
			if err = json.Unmarshal(raw, &ev); err == nil {
				req, perr := requestFromHTTP(ev)
				return httpResponse(h.serve(ctx, req, perr, routes)), nil
			}
		default:
			err = errors.New("neither a REST (1.0) nor an HTTP API (2.0) proxy event")
		}
		return nil, errors.New("backend: " + err.Error())
	}
}

// requestFromHTTP is the Request of an HTTP API (payload 2.0) event. The
// path is rawPath below the stage (a named stage's prefix is in rawPath); the
// route is the route key's path ("" for $default); the query is read from
// rawQueryString, since queryStringParameters joins repeated values with
// commas; the cookies are the Cookie header again.
func requestFromHTTP(ev events.APIGatewayV2HTTPRequest) (*Request, error) {
	rc := ev.RequestContext
	path := ev.RawPath
	if rest, ok := strings.CutPrefix(path, "/"+rc.Stage); ok && rc.Stage != "$default" && (rest == "" || rest[0] == '/') {
		path = rest
	}
	_, route, _ := strings.Cut(ev.RouteKey, " ")
	req := &Request{Method: rc.HTTP.Method, Path: path, Route: route, PathParameters: ev.PathParameters,
		Header: http.Header{}, RequestID: rc.RequestID}
	for k, v := range ev.Headers {
		req.Header.Add(k, v)
	}
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	if a := rc.Authorizer; a != nil {
		req.authorizer = a.Lambda
		if a.JWT != nil {
			req.claims, req.claimStrings = map[string]any{}, true
			for k, v := range a.JWT.Claims {
				req.claims[k] = v
			}
		}
	}
	var err error
	if req.Query, err = url.ParseQuery(ev.RawQueryString); err != nil {
		return req, BadRequest("query string is malformed")
	}
	req.Body = []byte(ev.Body)
	if ev.IsBase64Encoded {
		if req.Body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return req, BadRequest("body is not valid base64")
		}
	}
	return req, nil
}

// httpResponse is resp in payload 2.0's structured form.
func httpResponse(resp *Response) events.APIGatewayV2HTTPResponse {
	p := proxyResponse(resp)
	return events.APIGatewayV2HTTPResponse{StatusCode: p.StatusCode, Headers: p.Headers, Body: p.Body, IsBase64Encoded: p.IsBase64Encoded}
}
