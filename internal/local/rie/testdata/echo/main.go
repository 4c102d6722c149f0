// Command echo is a tiny Lambda function for the rie package's own tests: it
// returns its event, or fails with the event's "fail" message.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Fail string `json:"fail"`
	Echo string `json:"echo"`
}

type reply struct {
	Echo        string `json:"echo"`
	FunctionARN string `json:"functionArn"`
	Env         string `json:"env"`
}

func main() {
	lambda.Start(func(ctx context.Context, e event) (reply, error) {
		if e.Fail != "" {
			return reply{}, errors.New(e.Fail)
		}
		lc, _ := lambdacontext.FromContext(ctx)
		return reply{Echo: e.Echo, FunctionARN: lc.InvokedFunctionArn, Env: os.Getenv("ECHO_ENV")}, nil
	})
}
