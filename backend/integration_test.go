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
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/emf/emftest"

	"github.com/rolegate/rolegate/internal/local/moto/mototest"
	"github.com/rolegate/rolegate/internal/local/rie/rietest"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/internal/local/moto"
	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
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
	createRole(t, srv, "/", "rolegate-readers")
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
	createRole(t, srv, "/", "rolegate-readers")
	createRole(t, srv, "/team/", "rolegate-admins")
	bin := rietest.Build(t, "./cmd/backend")
	const anyRole = "ALLOWED_ROLE_ARNS=arn:aws:iam::123456789012:role/*"
	setHeader := func(v string) func(*events.APIGatewayProxyRequest) {
		return func(r *events.APIGatewayProxyRequest) {
			delete(r.Headers, "X-Rolegate-Role")
			delete(r.MultiValueHeaders, "X-Rolegate-Role")
			if v != "" {
				r.Headers["x-rolegate-role"], r.MultiValueHeaders["x-rolegate-role"] = v, []string{v}
			}
		}
	}

	tests := []struct {
		name        string
		env         []string
		event       string
		edit        func(*events.APIGatewayProxyRequest)
		wantStatus  int
		wantARN     string
		wantMsg     string
		wantOutcome string
		wantCalls   float64
	}{
		{"a validated user gets the assumed role's ARN", []string{anyRole}, "backend-whoami.json", nil,
			http.StatusOK, "arn:aws:sts::123456789012:assumed-role/rolegate-readers/alice", "", "ok", 1},
		{"a role named only outside the authorizer context is refused", []string{anyRole}, "backend-spoofed-role.json", nil,
			http.StatusForbidden, "", "no role in authorizer context", "forbidden", 0},
		// RIE runs the function in account 012345678912, not moto's
		{"by default a role outside the function's account is refused", nil, "backend-whoami.json", nil,
			http.StatusForbidden, "", "role not allowed", "forbidden", 0},
		{"X-Rolegate-Role picks a role when group precedences tie", []string{anyRole}, "backend-choose-role.json", nil,
			http.StatusOK, "arn:aws:sts::123456789012:assumed-role/rolegate-admins/alice", "", "ok", 1},
		{"it picks by ARN too, in any case of the header's name", []string{anyRole}, "backend-choose-role.json",
			setHeader("arn:aws:iam::123456789012:role/rolegate-readers"),
			http.StatusOK, "arn:aws:sts::123456789012:assumed-role/rolegate-readers/alice", "", "ok", 1},
		{"a tie without X-Rolegate-Role asks for a choice", []string{anyRole}, "backend-choose-role.json", setHeader(""),
			http.StatusForbidden, "", "choose one of your roles with X-Rolegate-Role", "forbidden", 0},
		{"X-Rolegate-Role cannot pick a role that is not the caller's", []string{anyRole}, "backend-choose-role.json",
			setHeader("arn:aws:iam::123456789012:role/rolegate-root"),
			http.StatusForbidden, "", "X-Rolegate-Role names none of your roles", "forbidden", 0},
		{"ALLOWED_ROLE_ARNS applies to the choice", []string{"ALLOWED_ROLE_ARNS=arn:aws:iam::123456789012:role/rolegate-readers"},
			"backend-choose-role.json", nil, http.StatusForbidden, "", "role not allowed", "forbidden", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncbuf.Buffer{}
			fn := rietest.Start(t, rie.Options{
				Bootstrap:    bin,
				FunctionName: "rolegate-backend",
				Env:          append(srv.Env(), append(tt.env, "METRICS_NAMESPACE=rolegate-test")...),
				Log:          logs,
			})
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("function output:\n%s", logs)
				}
			})
			req := readEvent(t, tt.event)
			if tt.edit != nil {
				tt.edit(&req)
			}
			event, err := json.Marshal(req)
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

			// The function's one line for the request, as CloudWatch would read it.
			d := requestLine(t, logs, req.RequestContext.RequestID)
			if d.Namespace != "rolegate-test" || d.Members["Outcome"] != tt.wantOutcome ||
				d.Values["Requests"] != 1 || d.Values["AssumeRoleCalls"] != tt.wantCalls {
				t.Errorf("EMF line %v: want namespace rolegate-test, Outcome %s, 1 request, %v AssumeRole calls", d.Members, tt.wantOutcome, tt.wantCalls)
			}
			if id, _ := d.Members["awsRequestId"].(string); id == "" {
				t.Errorf("no awsRequestId in %v", d.Members)
			}
		})
	}
}

// requestLine waits for the function's log line of the API request id to
// come through RIE and validates it as an EMF document.
func requestLine(t *testing.T, logs *syncbuf.Buffer, apiRequestID string) emftest.Document {
	t.Helper()
	key := `"apiRequestId":"` + apiRequestID + `"`
	out, _ := logs.WaitFor(10*time.Second, func(s string) bool { return strings.Contains(s, key) })
	for line := range strings.Lines(out) {
		if strings.Contains(line, key) {
			d, err := emftest.Validate([]byte(line))
			if err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			return d
		}
	}
	t.Fatalf("no log line for request %s", apiRequestID)
	return emftest.Document{}
}

// createRole creates an IAM role in moto through IAM's Query API, signed as
// the SDK would sign it (moto's IAM is reached by the service in the scope).
func createRole(t *testing.T, srv *moto.Server, path, name string) {
	t.Helper()
	form := url.Values{
		"Action":                   {"CreateRole"},
		"Version":                  {"2010-05-08"},
		"RoleName":                 {name},
		"Path":                     {path},
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
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "<Arn>arn:aws:iam::"+moto.AccountID+":role"+path+name+"</Arn>") {
		t.Fatalf("CreateRole %s: %s %s", name, resp.Status, b)
	}
}
