// Command hello is a team's own backend on rolegate, the one
// docs/build-your-api.md builds: GET /hello greets the caller and says which
// role their request runs as, proven by STS; GET /whoami stays beside it.
// Run it behind the real authorizer
// with `make run BACKEND=./examples/hello`.
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
)

// hello is the route: a plain function of the request, the caller and an
// aws.Config signed with the caller's own role.
func hello(ctx context.Context, req *backend.Request, id backend.Identity, cfg aws.Config) (*backend.Response, error) {
	name := req.Query.Get("name")
	if len(name) > 64 {
		return nil, backend.BadRequest("name: at most 64 bytes")
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, err // the adapter answers 403, 503 or 502
	}
	return backend.JSON(http.StatusOK, map[string]any{
		"hello":  id.User(),
		"name":   name,
		"groups": id.Groups,
		"runsAs": aws.ToString(out.Arn),
	})
}

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
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fail("cannot load AWS configuration", err)
	}
	h, err := backend.New(cfg, awsCfg, sts.NewFromConfig(awsCfg), backend.WithLogger(logger))
	if err != nil {
		fail("invalid configuration", err)
	}
	lambda.Start(h.Proxy(
		backend.Route{Method: http.MethodGet, Path: "/hello", Func: hello},
		h.WhoamiRoute(),
	))
}
