package authorizer

import (
	"maps"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// decision is a valid token's verdict, reusable for any methodArn: the policy
// is built for the stage of each request's methodArn, so a decision made for
// API A never yields a policy for API B.
type decision struct {
	sub  string
	exp  int64          // the token's exp, Unix seconds
	deny error          // nil: Allow; else the Deny's rejection
	ctx  map[string]any // the authorizer context; each response gets its own copy (context)
	size int            // bytes of the context's strings: what a cached decision holds
	// until is when a cached decision stops being served (Unix seconds, on the handler's clock): the earlier of
	// exp and the cache TTL after it was stored.
	until int64
}

// context returns a copy of the authorizer context: a caller may change what it is handed without changing the
// cached decision.
func (d *decision) context() map[string]any { return maps.Clone(d.ctx) }

// newDecision builds the decision for valid claims c of pool poolID. A Deny's
// context carries who was refused, never a role.
func newDecision(c *claims, poolID string) *decision {
	d := &decision{sub: c.Sub, exp: c.Exp, ctx: map[string]any{"sub": c.Sub, "username": c.Username, "userPoolId": poolID}}
	if preferred, all, err := roles(c); err != nil {
		d.deny = err
	} else {
		d.ctx["groups"] = strings.Join(c.Groups, ",")
		d.ctx["preferredRole"] = preferred
		d.ctx["roles"] = strings.Join(all, ",")
		// Users can change their own email: only a verified one is passed on as theirs.
		if c.Email != "" && bool(c.EmailVerified) {
			d.ctx["email"] = c.Email
		}
	}
	for _, v := range d.ctx {
		d.size += len(v.(string))
	}
	return d
}

// response is the decision's Allow or Deny of execute-api:Invoke on the whole
// stage, so that API Gateway's per-token result cache serves every method of it.
func (d *decision) response(stage string) events.APIGatewayCustomAuthorizerResponse {
	effect := "Allow"
	if d.deny != nil {
		effect = "Deny"
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: d.sub,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{stage + "/*"}}}},
		Context: d.context(),
	}
}
