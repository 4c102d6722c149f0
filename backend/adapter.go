package backend

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
)

// Request is one HTTP request as a route sees it, whichever API Gateway
// payload carried it.
type Request struct {
	Method string
	// Path is the request path below the stage; Route the declared path it
	// matched, such as /files/{name}, and PathParameters its {names}.
	Path           string
	Route          string
	PathParameters map[string]string
	Header         http.Header
	Query          url.Values
	// Body is the request body, decoded when API Gateway sent it base64.
	Body []byte
	// RequestID is API Gateway's request id.
	RequestID string
	// authorizer is the raw authorizer output the Identity is read from.
	authorizer map[string]any
	// claims are a JWT authorizer's claims, read instead with ROLE_SOURCE=jwt;
	// claimStrings says they came as an HTTP API passes them, as strings.
	claims       map[string]any
	claimStrings bool
}

// Response is a route's answer. A nil Response with a nil error is a 204.
type Response struct {
	Status int
	Header map[string]string
	// Body is sent as text when it is valid UTF-8, else base64-encoded for
	// API Gateway to decode (see BinaryMediaTypes in the template).
	Body []byte
}

// JSON returns a response of status whose body is v as JSON.
func JSON(status int, v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("backend: JSON: %w", err)
	}
	return &Response{Status: status, Header: map[string]string{"Content-Type": "application/json"}, Body: b}, nil
}

// Func is a route's work: the request, who sent it, and an aws.Config signed
// with the credentials of the caller's chosen role (and no others). Its
// error is answered as [Handler.Proxy] says.
type Func func(ctx context.Context, req *Request, id Identity, cfg aws.Config) (*Response, error)

// Route declares that Func serves Method on Path, a resource path as API
// Gateway writes it (/whoami, /files/{name}). Check, if set, vets the
// request before any AWS call, AssumeRole included: its error is answered
// as Func's is.
type Route struct {
	Method string
	Path   string
	Func   Func
	Check  func(*Request) error
}

// BadRequest returns an error answered 400 with message, which the caller
// reads: name what was wrong with the request, nothing internal.
func BadRequest(message string) error {
	return &rejection{http.StatusBadRequest, "bad_request", "bad_request", message}
}

// NotFound returns an error answered 404 with message, which the caller reads.
func NotFound(message string) error {
	return &rejection{http.StatusNotFound, "not_found", "not_found", message}
}

// Proxy returns the Lambda handler of a REST API's proxy events that serves
// routes. For each request it finds the route (a path no route declares is
// 404, a method none declares there is 405 with Allow), reads the caller's
// Identity and role, assumes the role (cached), and only then calls the
// route's Func, leaving deadlineReserve of the Lambda deadline to answer in.
// An error is answered in one place: this package's and those of BadRequest
// and NotFound with their status; a failed AWS call as AWSError classifies
// it; anything else is a 500 that logs the error and shows the caller
// nothing of it. Every request writes one log line that is also its EMF
// document. Proxy panics on a route without a method, path or Func, or one
// declared twice, as http.ServeMux does.
func (h *Handler) Proxy(routes ...Route) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	for i, r := range routes {
		if r.Method == "" || !strings.HasPrefix(r.Path, "/") || r.Func == nil {
			panic(fmt.Sprintf("backend: route %q %q needs a method, a path from / and a Func", r.Method, r.Path))
		}
		if slices.ContainsFunc(routes[:i], func(o Route) bool { return o.Method == r.Method && o.Path == r.Path }) {
			panic(fmt.Sprintf("backend: route %s %s declared twice", r.Method, r.Path))
		}
	}
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		req, err := requestFromProxy(ev)
		return proxyResponse(h.serve(ctx, req, err, routes)), nil
	}
}

// requestFromProxy is the Request of a REST API (payload 1.0) proxy event.
// A header sent under names differing in case, or whose two maps disagree,
// keeps every value, so a rule that wants one value sees them all.
func requestFromProxy(ev events.APIGatewayProxyRequest) (*Request, error) {
	req := &Request{
		Method: ev.HTTPMethod, Path: ev.Path, Route: ev.Resource, PathParameters: ev.PathParameters,
		Header: http.Header{}, Query: url.Values{}, RequestID: ev.RequestContext.RequestID,
		authorizer: ev.RequestContext.Authorizer,
	}
	req.claims, _ = ev.RequestContext.Authorizer["claims"].(map[string]any)
	for k, vs := range ev.MultiValueHeaders {
		req.Header[http.CanonicalHeaderKey(k)] = append(req.Header[http.CanonicalHeaderKey(k)], vs...)
	}
	for k, v := range ev.Headers {
		if vs := ev.MultiValueHeaders[k]; len(vs) == 0 || vs[len(vs)-1] != v {
			req.Header.Add(k, v)
		}
	}
	for k, vs := range ev.MultiValueQueryStringParameters {
		req.Query[k] = append(req.Query[k], vs...)
	}
	for k, v := range ev.QueryStringParameters {
		if _, ok := ev.MultiValueQueryStringParameters[k]; !ok {
			req.Query.Add(k, v)
		}
	}
	req.Body = []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return req, BadRequest("body is not valid base64")
		}
		req.Body = b
	}
	return req, nil
}

// proxyResponse is resp as a proxy integration answers it.
func proxyResponse(resp *Response) events.APIGatewayProxyResponse {
	out := events.APIGatewayProxyResponse{StatusCode: resp.Status, Headers: resp.Header, Body: string(resp.Body)}
	if !utf8.Valid(resp.Body) {
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(resp.Body), true
	}
	return out
}

// serve answers one request; parseErr is the reading of its payload.
func (h *Handler) serve(ctx context.Context, req *Request, parseErr error, routes []Route) *Response {
	r := &record{start: h.now(), err: parseErr}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineReserve))
		defer cancel()
	}
	ctx = context.WithValue(ctx, recordKey{}, r)
	var resp *Response
	if r.err == nil {
		resp, r.err = h.run(ctx, req, r, routes)
	}
	if r.err != nil {
		resp = errorResponse(req, r.err)
		if resp.Status == http.StatusMethodNotAllowed {
			resp.Header["Allow"] = strings.Join(allowed(req.Route, routes), ", ")
		}
	}
	if resp == nil {
		resp = &Response{Status: http.StatusNoContent}
	}
	h.logRequest(ctx, req, resp.Status, r)
	return resp
}

// run routes req and calls the route's Func with the caller's credentials.
func (h *Handler) run(ctx context.Context, req *Request, r *record, routes []Route) (resp *Response, err error) {
	route, ok := match(req, routes)
	switch {
	case !ok && len(allowed(req.Route, routes)) == 0:
		return nil, errNotFound
	case !ok:
		return nil, errMethod
	}
	if route.Check != nil {
		if err := route.Check(req); err != nil {
			return nil, err
		}
	}
	cfg, id, err := h.configFor(ctx, req)
	if r.id = id; err != nil {
		return nil, err
	}
	defer func() { // a panic is a 500 with its log line, not a Lambda error API Gateway turns into a 502
		if p := recover(); p != nil {
			resp, err = nil, fmt.Errorf("%w: %s %s panicked: %v", errInternal, route.Method, route.Path, p)
		}
	}()
	return route.Func(ctx, req, id, cfg)
}

// match finds req's route and sets req.Route to its path. The resource API
// Gateway matched is taken as it is; under a greedy resource such as
// /{proxy+}, or without one, the path is matched against each route's path,
// {name} standing for one segment.
func match(req *Request, routes []Route) (Route, bool) {
	declared := func(r Route) bool { return r.Path == req.Route }
	if !slices.ContainsFunc(routes, declared) {
		req.Route = ""
		for _, r := range routes {
			if params, ok := matchPath(r.Path, req.Path); ok && (req.Route == "" || !strings.Contains(r.Path, "{")) {
				req.Route, req.PathParameters = r.Path, params
			}
		}
	}
	i := slices.IndexFunc(routes, func(r Route) bool { return r.Path == req.Route && r.Method == req.Method })
	if i < 0 {
		return Route{}, false
	}
	return routes[i], true
}

// matchPath matches path against a route path, returning its {name}s.
func matchPath(pattern, path string) (map[string]string, bool) {
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return nil, false
	}
	params := map[string]string{}
	for i, w := range want {
		if name, ok := strings.CutPrefix(w, "{"); ok && got[i] != "" {
			params[strings.TrimSuffix(name, "}")] = got[i]
		} else if w != got[i] {
			return nil, false
		}
	}
	return params, true
}

// allowed lists the methods routes declare on path.
func allowed(path string, routes []Route) []string {
	var methods []string
	for _, r := range routes {
		if r.Path == path && path != "" {
			methods = append(methods, r.Method)
		}
	}
	slices.Sort(methods)
	return methods
}
