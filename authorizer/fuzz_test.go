package authorizer_test

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rolegate/rolegate/authorizer"
	"github.com/rolegate/rolegate/jwks/jwkstest"
)

// FuzzAuthorize feeds arbitrary authorizationToken values to the handler. It must never panic, never answer
// anything but "Unauthorized" for a token it was not given as valid, and never Allow a mutated token. The decoder
// is strict (canonical base64url only, no line breaks, signature of exactly the modulus length), so the only
// spellings of a valid token are the token itself, bare or behind a Bearer scheme in any case.
func FuzzAuthorize(f *testing.F) {
	fx := newFixture(f, withHandlerOptions(authorizer.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))))
	allow := fx.idToken(f, nil)
	deny := fx.iss.Mint(f, fx.iss.IDClaims("bob"))
	listed := mintRaw(f, fx.iss.Key(), hdr(fx, "RS256", ""), rawClaims(f, fx, "cognito:roles", `"a,b"`))
	tie := fx.idToken(f, func(c map[string]any) { delete(c, "cognito:preferred_role") })
	badRole := fx.idToken(f, func(c map[string]any) { c["cognito:roles"] = []string{"arn:aws:iam::123456789012:role/a,b"} })
	valid := map[string]string{allow: "Allow", deny: "Deny", listed: "Deny", tie: "Allow", badRole: "Deny"}

	f.Add(allow)
	f.Add("Bearer " + allow)
	f.Add("bEaReR " + deny)
	f.Add(jwkstest.Tamper(allow))
	f.Add(fx.iss.MintAlgNone(f, fx.iss.IDClaims("alice", "admins")))
	f.Add(fx.iss.MintHS256(f, fx.iss.IDClaims("alice", "admins"), publicKeyPEM(f, fx.iss)))
	f.Add(mintAlg(f, fx.iss, "PS256", fx.iss.IDClaims("alice", "admins")))
	f.Add(mintRaw(f, fx.iss.Key(), hdr(fx, "RS256", `,"crit":["b64"]`), rawClaims(f, fx, "", "")))
	f.Add(mintRaw(f, fx.iss.Key(), hdr(fx, "RS256", ""), rawClaims(f, fx, "exp", `"1"`)))
	f.Add(listed)
	f.Add(tie)
	f.Add(badRole)
	f.Add("")
	f.Add("Bearer ")
	f.Add("a.b.c")
	f.Add("...")

	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token string) {
		resp, err := fx.h.Handle(ctx, events.APIGatewayCustomAuthorizerRequest{
			Type: "TOKEN", AuthorizationToken: token, MethodArn: testMethodARN,
		})
		jwt := token
		if scheme, rest, ok := strings.Cut(token, " "); ok && strings.EqualFold(scheme, "bearer") {
			jwt = rest
		}
		want, isValid := valid[jwt]
		if err != nil {
			if err.Error() != "Unauthorized" {
				t.Fatalf("error %q, want only Unauthorized for fuzzed tokens", err)
			}
			if isValid {
				t.Fatalf("a valid token spelled %q was refused", token)
			}
			return
		}
		if !isValid {
			t.Fatalf("a token that was never issued got %+v", resp.PolicyDocument)
		}
		if got := resp.PolicyDocument.Statement[0].Effect; got != want {
			t.Fatalf("effect %q, want %q", got, want)
		}
	})
}

// methodARNShape is the reference grammar internal/arn's ParseMethod must agree with: groups 1 the stage ARN,
// 2 the partition and 4 the region, each at most 32 bytes.
var methodARNShape = regexp.MustCompile(`^(arn:(aws(-[a-z0-9]+)*):execute-api:([a-z]+(-[a-z]+)+-[0-9]+):[0-9]{12}:[a-z0-9]{1,64}/[A-Za-z0-9_-]{1,128})/([A-Z]{1,16}|\*)/[!-~]*$`)

// wellShaped returns the stage ARN of a methodArn of the documented shape, or "".
func wellShaped(methodArn string) string {
	m := methodARNShape.FindStringSubmatch(methodArn)
	if m == nil || len(m[2]) > 32 || len(m[4]) > 32 {
		return ""
	}
	return m[1]
}

// FuzzMethodARN checks that any methodArn yields either an error or exactly the stage of an ARN of the documented
// shape: never a wider resource.
func FuzzMethodARN(f *testing.F) {
	fx := newFixture(f, withHandlerOptions(authorizer.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))))
	tok := fx.idToken(f, nil)
	for _, s := range []string{testMethodARN, "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abc/s/GET/", "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/x", "arn:aws::"} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, arn string) {
		resp, err := fx.h.Handle(ctx, events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: tok, MethodArn: arn})
		if len(arn) > 2048 {
			// Refused unread; the reference regexp would only spend the fuzzer's time on megabytes of input.
			if err == nil {
				t.Fatalf("a %d-byte methodArn was allowed", len(arn))
			}
			return
		}
		stage := wellShaped(arn)
		if err != nil {
			if err.Error() == "Unauthorized" {
				t.Fatalf("a bad methodArn answered Unauthorized")
			}
			if stage != "" {
				t.Fatalf("a well-shaped methodArn was refused: %q", arn)
			}
			return
		}
		if stage == "" {
			t.Fatalf("methodArn %q of no known shape was allowed: %v", arn, resp.PolicyDocument.Statement[0].Resource)
		}
		if got := resp.PolicyDocument.Statement[0].Resource[0]; got != stage+"/*" {
			t.Fatalf("resource %q, want %q", got, stage+"/*")
		}
	})
}
