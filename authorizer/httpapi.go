package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/internal/arn"
)

// HandleEvent answers one raw event, told apart by the shape AWS documents for it:
//   - a REST TOKEN event, {"type":"TOKEN","authorizationToken","methodArn"}, goes to Handle;
//   - an HTTP API payload 2.0 event, {"version":"2.0","type":"REQUEST","routeArn","identitySource"}, to HandleHTTP.
//
// Anything else (an HTTP API 1.0 or a REST REQUEST event, a WebSocket one) is
// an error, which API Gateway answers with 500: never a decision.
func (h *Handler) HandleEvent(ctx context.Context, raw json.RawMessage) (any, error) {
	var shape struct {
		Version   *string `json:"version"`
		Type      string  `json:"type"`
		MethodArn *string `json:"methodArn"`
		RouteArn  *string `json:"routeArn"`
	}
	err := json.Unmarshal(raw, &shape)
	switch {
	case err != nil:
	case shape.Type == "TOKEN" && shape.Version == nil && shape.RouteArn == nil:
		var req events.APIGatewayCustomAuthorizerRequest
		if err = json.Unmarshal(raw, &req); err == nil {
			return h.Handle(ctx, req)
		}
	case shape.Type == "REQUEST" && shape.Version != nil && *shape.Version == "2.0" && shape.RouteArn != nil && shape.MethodArn == nil:
		var req events.APIGatewayV2CustomAuthorizerV2Request
		if err = json.Unmarshal(raw, &req); err == nil {
			return h.HandleHTTP(ctx, req)
		}
	default:
		err = errors.New("neither a TOKEN nor an HTTP API 2.0 event")
	}
	a := attempt{now: h.now(), err: fmt.Errorf("%w: %w", errBadEvent, err)}
	h.logDecision(ctx, &a, a.err)
	return nil, lambdaError(a.err)
}

// HandleHTTP answers one HTTP API Lambda authorizer event (payload format 2.0)
// with a simple response, from the same checks, cache and log line as Handle.
// The token is the one identity source, the Authorization header.
//
// HTTP APIs document no way for the function to answer 401: API Gateway sends
// that itself when the identity source is missing, without invoking it. So an
// invalid token gets isAuthorized false (403), as a valid one without a usable
// role does; unobtainable keys and a malformed event are errors (500).
func (h *Handler) HandleHTTP(ctx context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	a := attempt{now: h.now(), apiID: req.RequestContext.RequestID}
	if r, err := arn.Parse(req.RouteArn); err != nil || r.Service != "execute-api" {
		a.err = fmt.Errorf("%w: routeArn is not an execute-api ARN", errBadEvent)
	} else if len(req.IdentitySource) != 1 {
		// Another identity source configured beside the header would be read as the token.
		a.err = fmt.Errorf("%w: %d identity sources, want the Authorization header alone", errBadEvent, len(req.IdentitySource))
	} else {
		h.decideToken(ctx, &a, req.IdentitySource[0])
	}
	err := a.err
	if err == nil {
		err = a.d.deny
	}
	h.logDecision(ctx, &a, err)
	switch {
	case err == nil:
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: a.d.context()}, nil
	case classify(err).outcome == failed:
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, lambdaError(err)
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
}

// lambdaError is the function error for a failed decision, which API Gateway
// answers with 500. Its reason names the failure for whoever reads the Lambda
// error; it says nothing about keys or tokens.
func lambdaError(err error) error { return errors.New("Internal error: " + classify(err).reason) }
