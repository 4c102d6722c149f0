package backend_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/moto/mototest"
	"github.com/rolegate/rolegate/internal/rie/rietest"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/internal/moto"
	"github.com/rolegate/rolegate/internal/rie"
	"github.com/rolegate/rolegate/internal/syncbuf"
)

// The role the sample events name; created in moto before use.
const motoRole = "arn:aws:iam::" + moto.AccountID + ":role/rolegate-readers"

// trustBackend is the trust policy the deployed role has: the backend's
// execution role may assume it and set the source identity.
const trustBackend = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
	`"Principal":{"AWS":"arn:aws:iam::123456789012:role/rolegate-backend"},` +
	`"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}]}`

func TestWhoamiAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	srv := mototest.Start(t)
	createRole(t, srv, "rolegate-readers")
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	// Loaded as main loads it: the endpoint comes from AWS_ENDPOINT_URL_STS.
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	exec := sts.NewFromConfig(awsCfg)
	logs := &syncbuf.Buffer{}
	h, err := backend.New(backend.Config{}, awsCfg, exec, backend.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := lambdaCtx() // a function in moto's account, so the default allowlist admits the role

	resp, err := h.Handle(ctx, readEvent(t, "backend-whoami.json"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("whoami: %v %d %s\nlog: %s", err, resp.StatusCode, resp.Body, logs)
	}
	var got backend.Whoami
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}

	// What moto itself says a session of that role for alice is.
	out, err := exec.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(motoRole), RoleSessionName: aws.String("alice"),
	})
	if err != nil {
		t.Fatal(err)
	}
	self, err := exec.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := "arn:aws:sts::" + moto.AccountID + ":assumed-role/rolegate-readers/alice"
	if got.ARN != want || got.ARN != aws.ToString(out.AssumedRoleUser.Arn) {
		t.Errorf("whoami arn = %q, want %q (moto: %q)", got.ARN, want, aws.ToString(out.AssumedRoleUser.Arn))
	}
	if got.ARN == aws.ToString(self.Arn) {
		t.Errorf("whoami ran as the execution identity %q", got.ARN)
	}
	if got.Account != moto.AccountID || got.Role != motoRole || got.User != "alice" {
		t.Errorf("whoami = %+v", got)
	}

	if resp, _ := h.Handle(ctx, readEvent(t, "backend-whoami.json")); resp.StatusCode != http.StatusOK {
		t.Fatalf("second whoami: %d %s", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(logs.String(), `"AssumeRoleCalls":0`) {
		t.Errorf("second request did not use cached credentials:\n%s", logs)
	}
}

func TestBootstrapUnderRIEWithMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap and starts RIE and moto_server")
	}
	srv := mototest.Start(t)
	createRole(t, srv, "rolegate-readers")
	bin := rietest.Build(t, "./cmd/backend")

	tests := []struct {
		name       string
		env        []string
		event      string
		wantStatus int
		wantARN    string
		wantMsg    string
	}{
		{"a validated user gets the assumed role's ARN",
			[]string{"ALLOWED_ROLE_ARNS=arn:aws:iam::123456789012:role/rolegate-*"},
			"backend-whoami.json", http.StatusOK, "arn:aws:sts::123456789012:assumed-role/rolegate-readers/alice", ""},
		{"a role named only outside the authorizer context is refused",
			[]string{"ALLOWED_ROLE_ARNS=arn:aws:iam::123456789012:role/rolegate-*"},
			"backend-spoofed-role.json", http.StatusForbidden, "", "no role in authorizer context"},
		// RIE runs the function in account 012345678912, not moto's
		{"by default a role outside the function's account is refused",
			nil, "backend-whoami.json", http.StatusForbidden, "", "role not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := rietest.Start(t, rie.Options{
				Bootstrap:    bin,
				FunctionName: "rolegate-backend",
				Env:          append(srv.Env(), tt.env...),
			})
			event, err := os.ReadFile("../testdata/" + tt.event)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := fn.Invoke(ctx, event)
			if err != nil {
				t.Fatal(err)
			}
			if msg, isErr := rie.ParseError(out); isErr {
				t.Fatalf("function error: %s", msg)
			}
			var resp events.APIGatewayProxyResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if resp.StatusCode != tt.wantStatus || resp.Headers["Content-Type"] != "application/json" {
				t.Fatalf("got %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
			}
			var body struct{ ARN, Message string }
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatal(err)
			}
			if body.ARN != tt.wantARN || body.Message != tt.wantMsg {
				t.Errorf("body = %s, want arn %q message %q", resp.Body, tt.wantARN, tt.wantMsg)
			}
		})
	}
}

// createRole creates an IAM role in moto through IAM's Query API, signed as
// the SDK would sign it (moto's IAM is reached by the service in the scope).
func createRole(t *testing.T, srv *moto.Server, name string) {
	t.Helper()
	form := url.Values{
		"Action":                   {"CreateRole"},
		"Version":                  {"2010-05-08"},
		"RoleName":                 {name},
		"AssumeRolePolicyDocument": {trustBackend},
	}
	body := []byte(form.Encode())
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "<Arn>arn:aws:iam::"+moto.AccountID+":role/"+name+"</Arn>") {
		t.Fatalf("CreateRole %s: %s %s", name, resp.Status, b)
	}
}
