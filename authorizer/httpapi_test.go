package authorizer_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rolegate/rolegate/authorizer"
	"github.com/rolegate/rolegate/internal/emf/emftest"
)

// httpResult is what one HandleEvent call produced, with its one log line.
type httpResult struct {
	resp any
	err  error
	log  emftest.Document
}

// outcome is what API Gateway would make of a 2.0 event's result: allow, forbidden (isAuthorized false) or error (500).
func (r httpResult) outcome() string {
	resp, ok := r.resp.(events.APIGatewayV2CustomAuthorizerSimpleResponse)
	switch {
	case r.err != nil:
		return "error"
	case !ok:
		return "not a simple response"
	case resp.IsAuthorized:
		return "allow"
	}
	return "forbidden"
}

// handleEvent runs HandleEvent on raw, as the bootstrap does, and checks its one log line.
func (f *fixture) handleEvent(t testing.TB, raw []byte) httpResult {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-" + t.Name()})
	before := f.logs.Len()
	resp, err := f.h.HandleEvent(ctx, raw)
	lines := strings.Split(strings.TrimSpace(f.logs.String()[before:]), "\n")
	if len(lines) != 1 {
		t.Fatalf("HandleEvent logged %d lines, want exactly one:\n%s", len(lines), f.logs.String()[before:])
	}
	doc, verr := emftest.Validate([]byte(lines[0]))
	if verr != nil {
		t.Fatalf("log line is not an EMF document: %v: %s", verr, lines[0])
	}
	if doc.Members["awsRequestId"] != "req-"+t.Name() || doc.Values["Decisions"] != 1 {
		t.Errorf("log line %s", lines[0])
	}
	return httpResult{resp: resp, err: err, log: doc}
}

// httpEvent is testdata's 2.0 sample with its identity source replaced by token, after edit.
func httpEvent(t testing.TB, token string, edit func(map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readTestdata(t, "authorizer-http-event.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["identitySource"] = []string{token}
	ev["headers"].(map[string]any)["authorization"] = token
	if edit != nil {
		edit(ev)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHTTPSampleEvents feeds the 2.0 events in testdata, as API Gateway sends them: their placeholder token, then a fresh one.
func TestHTTPSampleEvents(t *testing.T) {
	for _, file := range []string{"authorizer-http-event.json", "authorizer-http-event-default-stage.json"} {
		t.Run(file, func(t *testing.T) {
			f := newFixture(t)
			raw := readTestdata(t, file)
			// The placeholder claims no issuer: no pool's keys are looked up.
			if r := f.handleEvent(t, raw); r.outcome() != "forbidden" || r.log.Members["Reason"] != "wrong_issuer" {
				t.Errorf("the sample's placeholder token: %s (%v, %v), want forbidden for wrong_issuer", r.outcome(), r.err, r.log.Members["Reason"])
			}
			var ev map[string]any
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			ev["identitySource"] = []string{"Bearer " + f.idToken(t, nil)}
			raw, _ = json.Marshal(ev)
			r := f.handleEvent(t, raw)
			if r.outcome() != "allow" {
				t.Fatalf("%s (%v), want allow", r.outcome(), r.err)
			}
			ctx := r.resp.(events.APIGatewayV2CustomAuthorizerSimpleResponse).Context
			if ctx["preferredRole"] != f.iss.Role("admins") || ctx["roles"] != f.iss.Role("admins")+","+f.iss.Role("readers") || ctx["username"] != "alice" {
				t.Errorf("context %v", ctx)
			}
			if r.log.Members["apiRequestId"] != ev["requestContext"].(map[string]any)["requestId"] {
				t.Errorf("apiRequestId %v, want the event's requestContext.requestId", r.log.Members["apiRequestId"])
			}
		})
	}
}

// TestHTTPOutcomes: the TOKEN authorizer's rules, answered as an HTTP API allows: isAuthorized, or an error for 500.
func TestHTTPOutcomes(t *testing.T) {
	f := newFixture(t)
	valid := f.idToken(t, nil)
	for _, tt := range []struct {
		name, want, reason string
		event              []byte
	}{
		{"a valid ID token is authorized", "allow", "ok", httpEvent(t, "Bearer "+valid, nil)},
		{"a bare token is authorized too", "allow", "ok", httpEvent(t, valid, nil)},
		{"a valid token without a role is not authorized", "forbidden", "no_role",
			httpEvent(t, f.idToken(t, func(c map[string]any) {
				delete(c, "cognito:groups")
				delete(c, "cognito:roles")
				delete(c, "cognito:preferred_role")
			}), nil)},
		{"an expired token is not authorized", "forbidden", "expired",
			httpEvent(t, f.idToken(t, func(c map[string]any) { c["exp"] = t0.Add(-time.Hour).Unix() }), nil)},
		{"an access token is not authorized", "forbidden", "wrong_token_use", httpEvent(t, f.iss.Mint(t, f.iss.AccessClaims("alice")), nil)},
		{"garbage is not authorized", "forbidden", "malformed", httpEvent(t, "Bearer not-a-token", nil)},
		{"an empty identity source is not authorized", "forbidden", "no_token", httpEvent(t, "", nil)},
		{"a second identity source is an error, never read as the token", "error", "bad_event",
			httpEvent(t, valid, func(ev map[string]any) { ev["identitySource"] = []string{valid, "GET /whoami"} })},
		{"no identity source is an error", "error", "bad_event", httpEvent(t, valid, func(ev map[string]any) { delete(ev, "identitySource") })},
		{"a routeArn of another service is an error", "error", "bad_event",
			httpEvent(t, valid, func(ev map[string]any) { ev["routeArn"] = "arn:aws:lambda:us-east-1:123456789012:function:x" })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.handleEvent(t, tt.event)
			if r.outcome() != tt.want || r.log.Members["Reason"] != tt.reason {
				t.Fatalf("%s for %v (err %v), want %s for %s", r.outcome(), r.log.Members["Reason"], r.err, tt.want, tt.reason)
			}
			if resp, _ := r.resp.(events.APIGatewayV2CustomAuthorizerSimpleResponse); !resp.IsAuthorized && resp.Context != nil {
				t.Errorf("a refusal carries context %v", resp.Context)
			}
			if r.err != nil && r.err.Error() != "Internal error: "+tt.reason {
				t.Errorf("error %q", r.err)
			}
		})
	}

	t.Run("unobtainable keys are an error", func(t *testing.T) {
		f := newFixture(t, withKeySource(func(authorizer.KeySource) authorizer.KeySource { return failingKeys{errBoom} }))
		if r := f.handleEvent(t, httpEvent(t, f.idToken(t, nil), nil)); r.outcome() != "error" || r.err.Error() != "Internal error: keys_unavailable" {
			t.Fatalf("%s (%v), want error keys_unavailable", r.outcome(), r.err)
		}
	})

	t.Run("the decision cache serves the TOKEN and the 2.0 events alike", func(t *testing.T) {
		f := newFixture(t)
		tok := f.idToken(t, nil)
		mustAllow(t, f.authorize(t, "Bearer "+tok, testMethodARN))
		n := f.keys.n.Load()
		r := f.handleEvent(t, httpEvent(t, "Bearer "+tok, nil))
		if r.outcome() != "allow" || r.log.Values["CacheHit"] != 1 || f.keys.n.Load() != n {
			t.Fatalf("%s, CacheHit %v, key lookups %d → %d: want a cached allow", r.outcome(), r.log.Values["CacheHit"], n, f.keys.n.Load())
		}
	})
}

// TestHandleEventShapes: the event's documented shape picks the answer; any other shape is an error, never a decision.
func TestHandleEventShapes(t *testing.T) {
	f := newFixture(t)
	valid := "Bearer " + f.idToken(t, nil)
	token := func(edit func(map[string]any)) []byte {
		ev := map[string]any{"type": "TOKEN", "authorizationToken": valid, "methodArn": testMethodARN}
		if edit != nil {
			edit(ev)
		}
		b, _ := json.Marshal(ev)
		return b
	}
	t.Run("a TOKEN event gets a policy", func(t *testing.T) {
		r := f.handleEvent(t, token(nil))
		resp, ok := r.resp.(events.APIGatewayCustomAuthorizerResponse)
		if r.err != nil || !ok || len(resp.PolicyDocument.Statement) != 1 || resp.PolicyDocument.Statement[0].Effect != "Allow" {
			t.Fatalf("response %#v, error %v: want an Allow policy", r.resp, r.err)
		}
	})
	t.Run("a TOKEN event with a bad token is Unauthorized, as before", func(t *testing.T) {
		r := f.handleEvent(t, token(func(ev map[string]any) { ev["authorizationToken"] = "Bearer x" }))
		if r.err == nil || r.err.Error() != "Unauthorized" {
			t.Fatalf("error %v, want Unauthorized", r.err)
		}
	})
	t.Run("a 2.0 event gets a simple response", func(t *testing.T) {
		if r := f.handleEvent(t, httpEvent(t, valid, nil)); r.outcome() != "allow" {
			t.Fatalf("%s (%v)", r.outcome(), r.err)
		}
	})
	for _, tt := range []struct {
		name  string
		event []byte
	}{
		{"an HTTP API 1.0 event", httpEvent(t, valid, func(ev map[string]any) {
			ev["version"], ev["methodArn"], ev["identitySource"] = "1.0", ev["routeArn"], valid
			delete(ev, "routeArn")
		})},
		{"a 2.0 event that also has a methodArn", httpEvent(t, valid, func(ev map[string]any) { ev["methodArn"] = testMethodARN })},
		{"a 2.0 event of another version", httpEvent(t, valid, func(ev map[string]any) { ev["version"] = "3.0" })},
		{"a 2.0 event of type TOKEN", httpEvent(t, valid, func(ev map[string]any) { ev["type"] = "TOKEN" })},
		{"a REST REQUEST event", token(func(ev map[string]any) { ev["type"] = "REQUEST" })},
		{"a TOKEN event with a version", token(func(ev map[string]any) { ev["version"] = "2.0" })},
		{"a TOKEN event whose token is not a string", token(func(ev map[string]any) { ev["authorizationToken"] = 7 })},
		{"a 2.0 event whose identity source is a string", httpEvent(t, valid, func(ev map[string]any) { ev["identitySource"] = valid })},
		{"an empty object", []byte(`{}`)},
		{"null", []byte(`null`)},
		{"an array", []byte(`[{"type":"TOKEN"}]`)},
		{"not JSON", []byte(`{"type":`)},
	} {
		t.Run(tt.name+" is an error", func(t *testing.T) {
			r := f.handleEvent(t, tt.event)
			if r.err == nil || r.err.Error() != "Internal error: bad_event" || r.log.Members["Outcome"] != "error" {
				t.Fatalf("response %#v, error %v, outcome %v: want the error bad_event", r.resp, r.err, r.log.Members["Outcome"])
			}
		})
	}
}
