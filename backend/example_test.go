package backend_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
)

// A team's route is a plain function of the request, the caller and an
// aws.Config signed with the caller's role; Proxy turns routes into the
// Lambda handler (in main: lambda.Start(rolegate.Proxy(routes...))). Role
// choice, credentials, the log line and errors are the adapter's.
func ExampleHandler_Proxy() {
	// In a Lambda: base, _ := config.LoadDefaultConfig(ctx). Here, a fake STS.
	fakeSTS := ststest.NewServer()
	defer fakeSTS.Close()
	base := fakeSTS.Config()

	rolegate, err := backend.New(backend.Config{
		AllowedRoleARNs: []string{"arn:aws:iam::123456789012:role/rolegate-*"},
	}, base, sts.NewFromConfig(base), backend.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err) // a bad configuration fails the cold start
	}

	report := func(ctx context.Context, req *backend.Request, id backend.Identity, cfg aws.Config) (*backend.Response, error) {
		if req.PathParameters["name"] == "secret" {
			return nil, backend.NotFound("no such report") // answered 404 with this message
		}
		// s3.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)… work the same way.
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, err // a failed AWS call: 403, 503 or 502, as backend.AWSError says
		}
		return backend.JSON(http.StatusOK, map[string]string{"user": id.User(), "arn": aws.ToString(out.Arn)})
	}
	handler := rolegate.Proxy(backend.Route{Method: http.MethodGet, Path: "/reports/{name}", Func: report})

	ev := events.APIGatewayProxyRequest{
		HTTPMethod:     "GET",
		Resource:       "/reports/{name}",
		Path:           "/reports/q3",
		PathParameters: map[string]string{"name": "q3"},
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID: "req-1",
			Authorizer: map[string]any{ // as the rolegate authorizer wrote it
				"sub":           "7c1f3e2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b",
				"username":      "alice",
				"preferredRole": "arn:aws:iam::123456789012:role/rolegate-readers",
				"roles":         "arn:aws:iam::123456789012:role/rolegate-readers,arn:aws:iam::123456789012:role/rolegate-admins",
			},
		},
	}
	show := func() {
		resp, _ := handler(context.Background(), ev)
		fmt.Println(resp.StatusCode, resp.Body)
	}
	show()

	// The caller may choose another of their own roles, by name or ARN…
	ev.Headers = map[string]string{"x-rolegate-role": "rolegate-admins"}
	show()

	// …but never one the authorizer did not validate for them.
	ev.Headers = map[string]string{"X-Rolegate-Role": "arn:aws:iam::123456789012:role/rolegate-root"}
	show()

	// The route's own client error, and a method no route declares.
	ev.Headers, ev.Path, ev.PathParameters = nil, "/reports/secret", map[string]string{"name": "secret"}
	show()
	ev.HTTPMethod = "DELETE"
	show()

	// Output:
	// 200 {"arn":"arn:aws:sts::123456789012:assumed-role/rolegate-readers/alice","user":"alice"}
	// 200 {"arn":"arn:aws:sts::123456789012:assumed-role/rolegate-admins/alice","user":"alice"}
	// 403 {"message":"X-Rolegate-Role names none of your roles","requestId":"req-1"}
	// 404 {"message":"no such report","requestId":"req-1"}
	// 405 {"message":"method not allowed","requestId":"req-1"}
}
