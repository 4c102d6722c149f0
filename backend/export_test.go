package backend

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
)

// ConfigFor is what the adapter does before a route's Func, for a proxy
// event: the tests of package backend_test call it directly.
func (h *Handler) ConfigFor(ctx context.Context, ev events.APIGatewayProxyRequest) (aws.Config, Identity, error) {
	req, err := requestFromProxy(ev)
	if err != nil {
		return aws.Config{}, Identity{}, err
	}
	return h.configFor(ctx, req)
}

// ErrorStatus is the status the adapter answers err with.
func ErrorStatus(err error) int { return classify(err).status }

// WaitRefreshes waits for the background refreshes under way.
func (h *Handler) WaitRefreshes() { h.refreshes.Wait() }
