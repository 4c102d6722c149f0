// Command backend is the rolegate backend Lambda: GET /whoami, run with the
// temporary credentials of the role the authorizer validated for the caller.
// Configuration comes from the environment (see backend.ConfigFromEnv); the
// SDK's own variables, AWS_ENDPOINT_URL_STS included, point it at STS.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
)

// stsTimeout bounds one STS HTTP attempt, so a hung connection cannot hold a
// user's shared credentials refresh until the Lambda deadline.
const stsTimeout = 5 * time.Second

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := backend.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("bad configuration", "error", err.Error())
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(stsTimeout)))
	if err != nil {
		logger.Error("cannot load AWS configuration", "error", err.Error())
		os.Exit(1)
	}
	assumer, err := backend.NewAssumer(cfg, awsCfg, sts.NewFromConfig(awsCfg))
	if err != nil {
		logger.Error("bad configuration", "error", err.Error())
		os.Exit(1)
	}
	duration := cfg.SessionDuration
	if duration == 0 {
		duration = backend.DefaultSessionDuration
	}
	logger.Info("backend starting",
		"allowedRoleArns", cfg.AllowedRoleARNs, // empty: the function's own account
		"sourceIdentity", !cfg.DisableSourceIdentity,
		"sessionDuration", duration.String())
	h := &backend.Handler{Assumer: assumer, Logger: logger}
	lambda.Start(h.Handle)
}
