package backend_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/ststest"
)

// A team puts its own handler behind ConfigFor: every SDK client built from
// the returned Config acts as the caller's role, and a refusal becomes the
// package's JSON error response.
func ExampleHandler_ConfigFor() {
	// In a Lambda: base, _ := config.LoadDefaultConfig(ctx). Here, a fake STS.
	fakeSTS := ststest.NewServer()
	defer fakeSTS.Close()
	base := fakeSTS.Config()

	rolegate, err := backend.New(backend.Config{
		AllowedRoleARNs: []string{"arn:aws:iam::123456789012:role/rolegate-*"},
	}, base, sts.NewFromConfig(base))
	if err != nil {
		log.Fatal(err) // a bad configuration fails the cold start
	}

	handler := func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		cfg, id, err := rolegate.ConfigFor(ctx, req)
		if err != nil {
			return backend.ErrorResponse(req, err), nil
		}
		// s3.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)… work the same way.
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return backend.ErrorResponse(req, err), nil
		}
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: id.User() + " runs as " + aws.ToString(out.Arn)}, nil
	}

	req := events.APIGatewayProxyRequest{
		HTTPMethod: "GET",
		Path:       "/reports",
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID: "req-1",
			Authorizer: map[string]any{ // as the rolegate authorizer wrote it
				"principalId":   "7c1f3e2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b",
				"sub":           "7c1f3e2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b",
				"username":      "alice",
				"preferredRole": "arn:aws:iam::123456789012:role/rolegate-readers",
				"roles":         "arn:aws:iam::123456789012:role/rolegate-readers,arn:aws:iam::123456789012:role/rolegate-admins",
			},
		},
	}
	resp, _ := handler(context.Background(), req)
	fmt.Println(resp.StatusCode, resp.Body)

	// The caller may choose another of their own roles, by name or ARN…
	req.Headers = map[string]string{"x-rolegate-role": "rolegate-admins"}
	resp, _ = handler(context.Background(), req)
	fmt.Println(resp.StatusCode, resp.Body)

	// …but never one the authorizer did not validate for them.
	req.Headers = map[string]string{"X-Rolegate-Role": "arn:aws:iam::123456789012:role/rolegate-root"}
	resp, _ = handler(context.Background(), req)
	fmt.Println(resp.StatusCode, resp.Body)

	// Output:
	// 200 alice runs as arn:aws:sts::123456789012:assumed-role/rolegate-readers/alice
	// 200 alice runs as arn:aws:sts::123456789012:assumed-role/rolegate-admins/alice
	// 403 {"message":"X-Rolegate-Role names none of your roles","requestId":"req-1"}
}
