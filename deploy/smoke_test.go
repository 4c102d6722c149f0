package deploy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/moto/mototest"
	"github.com/rolegate/rolegate/internal/testenv"

	"github.com/rolegate/rolegate/internal/moto"
)

// TestSmokeScript runs deploy/smoke.sh, the check users run against a real
// stack, against moto's Cognito and CloudFormation on loopback and a stand-in
// for the deployed API. It shows the script passes on a working stack and
// fails, saying why, on a broken one. (Only the script is under test here:
// moto cannot create this template's API, so the API is a stand-in.)
func TestSmokeScript(t *testing.T) {
	t.Parallel()
	testenv.MustHave(t, "aws")
	srv := mototest.Start(t)

	tests := []struct {
		name         string
		passwordAuth bool              // USER_PASSWORD_AUTH on the app client
		roleOf       map[string]string // group → role name the stand-in API reports
		wantOK       bool
		wantOutput   string
	}{
		{
			name: "a user of the group reaches /whoami as the group's role", passwordAuth: true,
			roleOf: map[string]string{"admins": "smoke-admins"},
			wantOK: true, wantOutput: "PASS: a user of group admins reached /whoami as smoke-admins",
		},
		{
			name: "a backend running as another role fails the smoke test", passwordAuth: true,
			roleOf:     map[string]string{"admins": "smoke-readers"},
			wantOutput: "/whoami ran as something other than smoke-admins",
		},
		{
			name:       "a client without USER_PASSWORD_AUTH is reported with the fix",
			roleOf:     map[string]string{"admins": "smoke-admins"},
			wantOutput: "redeploy with: make deploy STACK=smoke-2 BUCKET=<bucket> PASSWORD_AUTH=true",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stack := fmt.Sprintf("smoke-%d", i)
			api := httptest.NewServer(standInAPI(tt.roleOf))
			t.Cleanup(api.Close)

			flows := []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
			if tt.passwordAuth {
				flows = append(flows, "ALLOW_USER_PASSWORD_AUTH")
			}
			pool := motoJSON(t, srv, "cognito-idp", "AWSCognitoIdentityProviderService.CreateUserPool",
				map[string]any{"PoolName": stack, "UsernameAttributes": []string{"email"}})["UserPool"].(map[string]any)["Id"].(string)
			client := motoJSON(t, srv, "cognito-idp", "AWSCognitoIdentityProviderService.CreateUserPoolClient",
				map[string]any{"UserPoolId": pool, "ClientName": "app", "ExplicitAuthFlows": flows})["UserPoolClient"].(map[string]any)["ClientId"].(string)
			motoJSON(t, srv, "cognito-idp", "AWSCognitoIdentityProviderService.CreateGroup", map[string]any{
				"UserPoolId": pool, "GroupName": "admins", "Precedence": 1,
				"RoleArn": "arn:aws:iam::" + moto.AccountID + ":role/smoke-admins",
			})
			createOutputsStack(t, srv, stack, map[string]string{
				"ApiUrl": api.URL + "/prod", "UserPoolId": pool, "UserPoolClientId": client,
			})

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "smoke.sh", stack, "admins")
			cmd.Env = cliEnv(srv)
			out, err := cmd.CombinedOutput()
			if (err == nil) != tt.wantOK || !strings.Contains(string(out), tt.wantOutput) {
				t.Fatalf("smoke.sh: err = %v, want ok=%v and output containing %q; output:\n%s", err, tt.wantOK, tt.wantOutput, out)
			}
			users := motoJSON(t, srv, "cognito-idp", "AWSCognitoIdentityProviderService.ListUsers", map[string]any{"UserPoolId": pool})
			if n := len(users["Users"].([]any)); n != 0 {
				t.Errorf("smoke.sh left %d users behind", n)
			}
		})
	}
}

// standInAPI answers GET /prod/whoami like the deployed stack: a JSON 401
// for a missing or malformed token, and for a token of group g the backend's
// answer as role roleOf[g] (403 when there is none).
func standInAPI(roleOf map[string]string) http.Handler {
	jwt := regexp.MustCompile(`^(?:[Bb][Ee][Aa][Rr][Ee][Rr] )?([-\w]+)\.([-\w]+)\.([-\w]+)$`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet || r.URL.Path != "/prod/whoami" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Missing Authentication Token"}`)
			return
		}
		m := jwt.FindStringSubmatch(r.Header.Get("Authorization"))
		var claims struct {
			Sub    string   `json:"sub"`
			Groups []string `json:"cognito:groups"`
		}
		if m == nil {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"Unauthorized"}`)
			return
		}
		payload, _ := base64.RawURLEncoding.DecodeString(m[2])
		_ = json.Unmarshal(payload, &claims)
		for _, g := range claims.Groups {
			if role, ok := roleOf[g]; ok {
				json.NewEncoder(w).Encode(map[string]string{
					"arn":     "arn:aws:sts::" + moto.AccountID + ":assumed-role/" + role + "/" + claims.Sub,
					"account": moto.AccountID,
					"role":    "arn:aws:iam::" + moto.AccountID + ":role/" + role,
					"user":    claims.Sub,
				})
				return
			}
		}
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"User is not authorized to access this resource"}`)
	})
}

// createOutputsStack creates, in moto, a stack whose outputs are outputs plus
// a real DataBucketName: all smoke.sh reads from the stack.
func createOutputsStack(t *testing.T, srv *moto.Server, name string, outputs map[string]string) {
	t.Helper()
	tmpl := "Parameters:\n"
	form := url.Values{"Action": {"CreateStack"}, "Version": {"2010-05-15"}, "StackName": {name}}
	i := 1
	for k, v := range outputs {
		tmpl += fmt.Sprintf("  %s: {Type: String}\n", k)
		form.Set(fmt.Sprintf("Parameters.member.%d.ParameterKey", i), k)
		form.Set(fmt.Sprintf("Parameters.member.%d.ParameterValue", i), v)
		i++
	}
	tmpl += "Resources:\n  DataBucket: {Type: AWS::S3::Bucket}\nOutputs:\n  DataBucketName: {Value: !Ref DataBucket}\n"
	for k := range outputs {
		tmpl += fmt.Sprintf("  %s: {Value: !Ref %s}\n", k, k)
	}
	form.Set("TemplateBody", tmpl)
	motoRequest(t, srv, "cloudformation", "application/x-www-form-urlencoded", "", []byte(form.Encode()))
}

// motoJSON calls a JSON-protocol AWS API (Cognito) on moto.
func motoJSON(t *testing.T, srv *moto.Server, service, target string, body any) map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(motoRequest(t, srv, service, "application/x-amz-json-1.1", target, b), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// motoRequest POSTs to moto; the Authorization header is unsigned, only its
// credential scope matters: it tells moto which service is called.
func motoRequest(t *testing.T, srv *moto.Server, service, contentType, target string, body []byte) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto %s %s: %s\n%s", service, target, resp.Status, b)
	}
	return b
}

// cliEnv is the environment for the aws CLI to use moto only: no profile, no
// retries of moto's 500s for APIs it lacks (iam simulate-principal-policy).
func cliEnv(srv *moto.Server) []string {
	env := withoutAWSEnv(os.Environ())
	for _, e := range srv.Env() {
		// The CLI reads AWS_PROFILE= as a profile named "", not as no profile.
		if !strings.HasSuffix(e, "=") {
			env = append(env, e)
		}
	}
	return append(env, "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard")
}
