package apigw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rolegate/rolegate/internal/local/rie"
)

// unauthorizedMessage is the one error message a Lambda authorizer uses to
// make API Gateway answer 401, and the message of that 401.
const unauthorizedMessage = "Unauthorized"

// authFailure is why a method's authorization refuses a request: the answer
// API Gateway sends and the outcome the gateway logs, together. Detail for
// the log is wrapped around it with %w.
type authFailure struct {
	answer  gatewayError
	outcome string
}

func (f *authFailure) Error() string { return "authorizer: " + f.outcome }

var (
	// The authorizer failed with exactly "Unauthorized": 401.
	errUnauthorized = &authFailure{errResponseUnauthorized, "unauthorized"}
	// The authorizer failed with any other error, or could not be invoked: 500.
	errAuthorizerFailure = &authFailure{errResponseAuthorizerFailure, "authorizer_failure"}
	// The authorizer answered something API Gateway cannot use as a policy: 500.
	errAuthorizerConfig = &authFailure{errResponseAuthorizerConfig, "authorizer_config"}
	// The identity source is missing or fails the validation expression:
	// 401, and the authorizer is not invoked.
	errNoIdentity = &authFailure{errResponseUnauthorized, "no_identity"}
	// The policy denies the method, explicitly or by not allowing it: 403.
	errExplicitDeny = &authFailure{errResponseExplicitDeny, "explicit_deny"}
	errImplicitDeny = &authFailure{errResponseImplicitDeny, "implicit_deny"}
)

// authorizerResult is a decoded Lambda authorizer response.
type authorizerResult struct {
	PrincipalID string
	Policy      Policy
	// Context holds the authorizer's context, every value as the string API
	// Gateway hands to a proxy integration.
	Context map[string]string

	latency time.Duration // how long the invocation took
}

// parseAuthorizerResponse decodes what the authorizer function returned;
// every failure is one of the authFailures.
func parseAuthorizerResponse(b []byte) (*authorizerResult, error) {
	if msg, ok := rie.ParseError(b); ok {
		if msg == unauthorizedMessage {
			return nil, errUnauthorized
		}
		return nil, fmt.Errorf("%w: function error", errAuthorizerFailure)
	}
	var raw struct {
		PrincipalID    *string                    `json:"principalId"`
		PolicyDocument json.RawMessage            `json:"policyDocument"`
		Context        map[string]json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", errAuthorizerConfig, err)
	}
	if raw.PrincipalID == nil {
		return nil, fmt.Errorf("%w: no principalId", errAuthorizerConfig)
	}
	if len(raw.PolicyDocument) == 0 {
		return nil, fmt.Errorf("%w: no policyDocument", errAuthorizerConfig)
	}
	p, err := ParsePolicy(raw.PolicyDocument)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errAuthorizerConfig, err)
	}
	res := &authorizerResult{PrincipalID: *raw.PrincipalID, Policy: p, Context: make(map[string]string, len(raw.Context))}
	for k, v := range raw.Context {
		s, ok, err := contextValue(v)
		if err != nil {
			return nil, fmt.Errorf("%w: context %q: %v", errAuthorizerConfig, k, err)
		}
		if ok {
			res.Context[k] = s
		}
	}
	return res, nil
}

// contextValue turns one authorizer context value into the string a proxy
// integration sees. API Gateway refuses objects and arrays there.
func contextValue(v json.RawMessage) (string, bool, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false, errors.New("empty value")
	}
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err == nil, err
	case 't', 'f':
		var b bool
		err := json.Unmarshal(v, &b)
		return strconv.FormatBool(b), err == nil, err
	case 'n':
		return "", false, nil
	case '{', '[':
		return "", false, errors.New("objects and arrays are not allowed")
	default:
		var n json.Number
		err := json.Unmarshal(v, &n)
		return n.String(), err == nil, err
	}
}
