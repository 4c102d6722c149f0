package backend_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
)

// s3Error is a failed SDK operation as the S3 client returns it.
func s3Error(code string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &smithy.GenericAPIError{Code: code, Message: "secret detail"}}
}

func TestAdapterAnswersEachOutcomeWithOneLogLine(t *testing.T) {
	echo := func(_ context.Context, req *backend.Request, id backend.Identity, _ aws.Config) (*backend.Response, error) {
		return backend.JSON(http.StatusOK, map[string]any{"route": req.Route, "params": req.PathParameters, "user": id.User(), "body": string(req.Body)})
	}
	failing := func(err error) backend.Func {
		return func(context.Context, *backend.Request, backend.Identity, aws.Config) (*backend.Response, error) {
			return nil, err
		}
	}
	tests := []struct {
		name       string
		routes     []backend.Route
		edit       func(*events.APIGatewayProxyRequest)
		wantStatus int
		wantReason string
		wantBody   string // a substring of the body
		wantHeader [2]string
		wantAssume bool // the role was assumed before the answer
	}{
		{"a declared route runs with its path parameters", []backend.Route{{Method: "PUT", Path: "/files/{name}", Func: echo}},
			files("PUT", "a.txt"), 200, "ok", `"params":{"name":"a.txt"}`, [2]string{}, true},
		{"under a greedy resource the path finds the route", []backend.Route{{Method: "GET", Path: "/files/{name}", Func: echo}},
			func(e *events.APIGatewayProxyRequest) {
				e.Resource, e.Path, e.PathParameters = "/{proxy+}", "/files/b", nil
			},
			200, "ok", `"route":"/files/{name}"`, [2]string{}, true},
		{"a literal route wins over a parameter", []backend.Route{{Method: "GET", Path: "/files/{name}", Func: failing(nil)}, {Method: "GET", Path: "/files/latest", Func: echo}},
			func(e *events.APIGatewayProxyRequest) { e.Resource, e.Path = "", "/files/latest" },
			200, "ok", `"route":"/files/latest"`, [2]string{}, true},
		{"a base64 body is decoded", []backend.Route{{Method: "PUT", Path: "/files/{name}", Func: echo}},
			func(e *events.APIGatewayProxyRequest) {
				files("PUT", "a")(e)
				e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte("hi")), true
			}, 200, "ok", `"body":"hi"`, [2]string{}, true},
		{"a body that is not base64 is a 400 before any STS call", []backend.Route{{Method: "PUT", Path: "/files/{name}", Func: echo}},
			func(e *events.APIGatewayProxyRequest) { files("PUT", "a")(e); e.Body, e.IsBase64Encoded = "%%%", true },
			400, "bad_request", "not valid base64", [2]string{}, false},
		{"a path no route declares is 404", []backend.Route{{Method: "GET", Path: "/files", Func: echo}}, nil,
			404, "not_found", "no such resource", [2]string{}, false},
		{"a method no route declares is 405 with the declared ones", []backend.Route{{Method: "GET", Path: "/files/{name}", Func: echo}, {Method: "PUT", Path: "/files/{name}", Func: echo}},
			files("DELETE", "a"), 405, "method_not_allowed", "method not allowed", [2]string{"Allow", "GET, PUT"}, false},
		{"BadRequest is a 400 with its message", []backend.Route{{Method: "GET", Path: "/whoami", Func: failing(backend.BadRequest("name too long"))}}, nil,
			400, "bad_request", `"message":"name too long"`, [2]string{}, true},
		{"NotFound is a 404 with its message", []backend.Route{{Method: "GET", Path: "/whoami", Func: failing(backend.NotFound("no such file"))}}, nil,
			404, "not_found", `"message":"no such file"`, [2]string{}, true},
		{"an AWS access denied is a 403", []backend.Route{{Method: "GET", Path: "/whoami", Func: failing(s3Error("AccessDenied"))}}, nil,
			403, "aws_access_denied", `"message":"access denied"`, [2]string{}, true},
		{"AWS throttling is a 503 with Retry-After", []backend.Route{{Method: "GET", Path: "/whoami", Func: failing(s3Error("SlowDown"))}}, nil,
			503, "aws_throttled", "retry later", [2]string{"Retry-After", "2"}, true},
		{"another AWS error is a 502", []backend.Route{{Method: "GET", Path: "/whoami", Func: failing(s3Error("InternalError"))}}, nil,
			502, "aws_error", `"message":"AWS error"`, [2]string{}, true},
		{"an unclassified error is a 500 that shows nothing of it", []backend.Route{{Method: "GET", Path: "/whoami", Func: failing(errors.New("secret detail"))}}, nil,
			500, "internal", `"message":"internal error"`, [2]string{}, true},
		{"a panic is a 500", []backend.Route{{Method: "GET", Path: "/whoami", Func: func(context.Context, *backend.Request, backend.Identity, aws.Config) (*backend.Response, error) {
			panic("secret detail")
		}}}, nil, 500, "internal", `"message":"internal error"`, [2]string{}, true},
		{"no response and no error is a 204", []backend.Route{{Method: "GET", Path: "/whoami", Func: failing(nil)}}, nil,
			204, "ok", "", [2]string{}, true},
		{"a Check's refusal comes before any STS call", []backend.Route{{Method: "GET", Path: "/whoami", Func: echo,
			Check: func(*backend.Request) error { return backend.BadRequest("bad name") }}}, nil,
			400, "bad_request", `"message":"bad name"`, [2]string{}, false},
		{"a refused role never reaches the route", []backend.Route{{Method: "GET", Path: "/whoami", Func: failing(errors.New("ran"))}},
			func(e *events.APIGatewayProxyRequest) { *e = withHeader(*e, backend.RoleHeader, "rolegate-root") },
			403, "not_your_role", "names none of your roles", [2]string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, backend.Config{})
			ev := whoamiEvent(readers, aliceSub, "alice")
			if tt.edit != nil {
				tt.edit(&ev)
			}
			resp, err := f.h.Proxy(tt.routes...)(lambdaCtx(), ev)
			if err != nil || resp.StatusCode != tt.wantStatus || !strings.Contains(resp.Body, tt.wantBody) {
				t.Fatalf("got %d %q (%v), want %d with %q", resp.StatusCode, resp.Body, err, tt.wantStatus, tt.wantBody)
			}
			if k := tt.wantHeader[0]; k != "" && resp.Headers[k] != tt.wantHeader[1] {
				t.Errorf("%s = %q, want %q", k, resp.Headers[k], tt.wantHeader[1])
			}
			if strings.Contains(resp.Body, "secret detail") {
				t.Errorf("body %q shows the error's detail", resp.Body)
			}
			if got := f.sts.Calls(ststest.AssumeRole) > 0; got != tt.wantAssume {
				t.Errorf("assumed the role: %v, want %v", got, tt.wantAssume)
			}
			if n := strings.Count(f.logs.String(), "\n"); n != 1 {
				t.Fatalf("%d log lines, want 1: %s", n, f.logs)
			}
			d := f.lastLog(t)
			if d.Members["Reason"] != tt.wantReason || fmt.Sprint(d.Members["status"]) != fmt.Sprint(tt.wantStatus) {
				t.Errorf("logged %v %v, want %d %s", d.Members["status"], d.Members["Reason"], tt.wantStatus, tt.wantReason)
			}
			if tt.wantStatus >= 500 && !strings.Contains(f.logs.String(), "secret detail") {
				t.Errorf("a %d did not log its error: %s", tt.wantStatus, f.logs)
			}
		})
	}
}

// files makes the event a request to method /files/{name}.
func files(method, name string) func(*events.APIGatewayProxyRequest) {
	return func(e *events.APIGatewayProxyRequest) {
		e.HTTPMethod, e.Resource, e.Path, e.PathParameters = method, "/files/{name}", "/files/"+name, map[string]string{"name": name}
	}
}

func TestAdapterSendsBinaryBodiesAsBase64(t *testing.T) {
	f := newFixture(t, backend.Config{})
	for _, body := range [][]byte{[]byte("plain text é"), {0xff, 0x00, 0xfe}} {
		route := backend.Route{Method: "GET", Path: "/whoami", Func: func(context.Context, *backend.Request, backend.Identity, aws.Config) (*backend.Response, error) {
			return &backend.Response{Status: 200, Body: body}, nil
		}}
		resp, _ := f.h.Proxy(route)(lambdaCtx(), whoamiEvent(readers, aliceSub, "alice"))
		got := []byte(resp.Body)
		if resp.IsBase64Encoded {
			got, _ = base64.StdEncoding.DecodeString(resp.Body)
		}
		if string(got) != string(body) || resp.IsBase64Encoded == json.Valid([]byte(`"`+string(body)+`"`)) {
			t.Errorf("body %q sent as %q (base64 %v)", body, resp.Body, resp.IsBase64Encoded)
		}
	}
}

func TestProxyRefusesBadRoutes(t *testing.T) {
	f := newFixture(t, backend.Config{})
	ok := f.h.WhoamiRoute()
	for name, routes := range map[string][]backend.Route{
		"a route without a Func":   {{Method: "GET", Path: "/x"}},
		"a path not from /":        {{Method: "GET", Path: "x", Func: ok.Func}},
		"a route declared twice":   {ok, ok},
		"a route without a method": {{Path: "/x", Func: ok.Func}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Proxy accepted it")
				}
			}()
			f.h.Proxy(routes...)
		})
	}
}
