// Command backend is the rolegate backend Lambda: GET /whoami and, with
// DATA_BUCKET set, the caller's own files (package files), each run with the
// temporary credentials of the role the authorizer validated for the caller.
// Configuration comes from the environment (see backend.ConfigFromEnv); the
// SDK's own variables, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_S3 included,
// point it at STS and S3.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/files"
)

// stsTimeout bounds one STS HTTP attempt, so a hung connection cannot hold a
// user's shared credentials refresh until the Lambda deadline.
const stsTimeout = 5 * time.Second

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	fail := func(msg string, err error) {
		logger.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	cfg, err := backend.ConfigFromEnv(os.Getenv)
	if err != nil {
		fail("invalid configuration", err)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(stsTimeout)))
	if err != nil {
		fail("cannot load AWS configuration", err)
	}
	h, err := backend.New(cfg, awsCfg, sts.NewFromConfig(awsCfg), backend.WithLogger(logger))
	if err != nil {
		fail("invalid configuration", err)
	}
	routes := []backend.Route{h.WhoamiRoute()}
	if bucket := os.Getenv("DATA_BUCKET"); bucket != "" {
		// An emulator at a custom endpoint (make run's moto) serves buckets by path only.
		pathStyle := os.Getenv("AWS_ENDPOINT_URL_S3")+os.Getenv("AWS_ENDPOINT_URL") != ""
		fs, err := files.New(bucket, func(c aws.Config) files.S3API { // from each caller's own Config
			return s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = pathStyle })
		})
		if err != nil {
			fail("invalid configuration", err)
		}
		routes = append(routes, fs.Routes()...)
	}
	logger.Info("backend starting",
		"allowedRoleArns", cfg.AllowedRoleARNs, // empty: the function's own account
		"sourceIdentity", !cfg.DisableSourceIdentity,
		"sessionTags", !cfg.DisableSessionTags,
		"dataBucket", os.Getenv("DATA_BUCKET"),
		"roleSource", cfg.RoleSource)
	lambda.Start(h.ProxyEvent(routes...))
}
