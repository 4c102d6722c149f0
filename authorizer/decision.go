package authorizer

import (
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"
)

// decision is a valid token's verdict, reusable for any methodArn: the policy
// is built for the stage of each request's methodArn, so a decision made for
// API A never yields a policy for API B. Only its two remembered values
// change once it is built.
type decision struct {
	sub  string
	exp  int64          // the token's exp, Unix seconds
	size int            // bytes of the context's strings
	deny error          // nil: Allow; ErrNoRole or ErrRoleNotListed: Deny
	ctx  map[string]any // the authorizer context, shared by every response: see Handle

	// last is the response for the stage this decision last answered, never
	// nil: a token is usually presented again and again to one stage of one API.
	last atomic.Pointer[stageResponse]
	// hitLog logs this decision's cache hits, with sub already formatted.
	hitLog atomic.Pointer[slog.Logger]
	// first is the response for the stage that asked for the decision: built
	// with it, it costs no allocation of its own.
	first stageResponse
}

// newDecision builds the decision for valid claims c, with its response for
// stage. A Deny's context carries who was refused, never a role.
func newDecision(c *claims, stage string) *decision {
	d := &decision{sub: c.Sub, exp: c.Exp, ctx: make(map[string]any, 6)}
	d.ctx["sub"], d.ctx["username"] = c.Sub, c.Username
	if role, err := role(c); err != nil {
		d.deny = err
	} else {
		d.ctx["groups"] = strings.Join(c.Groups, ",")
		d.ctx["preferredRole"] = role
		d.ctx["roles"] = strings.Join(c.Roles.arns, ",")
		// Users can change their own email: only a verified one is passed on as theirs.
		if c.Email != "" && c.EmailVerified {
			d.ctx["email"] = c.Email
		}
	}
	for _, v := range d.ctx {
		d.size += len(v.(string))
	}
	d.first.build(d, stage)
	d.last.Store(&d.first)
	return d
}

// response returns the decision's Allow or Deny for stage, as stageARN returns it.
func (d *decision) response(stage string) events.APIGatewayCustomAuthorizerResponse {
	if r := d.last.Load(); r.stage == stage {
		return r.resp
	}
	r := new(stageResponse)
	r.build(d, stage)
	d.last.Store(r)
	return r.resp
}

// hitLogger returns the logger for d's cache hits: base, which is the same
// for every hit of d, with sub attached once on the first hit.
func (d *decision) hitLogger(base *slog.Logger) *slog.Logger {
	if l := d.hitLog.Load(); l != nil {
		return l
	}
	l := base.With(slog.String("sub", d.sub))
	d.hitLog.Store(l) // a concurrent first hit stores an equal logger
	return l
}

// stageResponse is a decision's response for one stage. It holds the backing
// arrays of its one-statement policy, so that it is a single allocation.
type stageResponse struct {
	stage     string // arn:…:<apiId>/<stage>
	resp      events.APIGatewayCustomAuthorizerResponse
	statement [1]events.IAMPolicyStatement
	action    [1]string
	resource  [1]string
}

// build fills r with d's response for stage: the execute-api:Invoke policy
// for the whole stage, so that API Gateway's per-token result cache serves
// every method of it. r must not move afterwards.
func (r *stageResponse) build(d *decision, stage string) {
	effect := "Allow"
	if d.deny != nil {
		effect = "Deny"
	}
	resource := stage + "/*"
	r.stage = resource[:len(stage)] // not stage: that would keep the whole methodArn alive
	r.action[0], r.resource[0] = "execute-api:Invoke", resource
	r.statement[0] = events.IAMPolicyStatement{Action: r.action[:], Effect: effect, Resource: r.resource[:]}
	r.resp = events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:    d.sub,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: policyVersion, Statement: r.statement[:]},
		Context:        d.ctx,
	}
}
