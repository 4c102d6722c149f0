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
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/moto/mototest"
	"github.com/rolegate/rolegate/internal/testkit/testenv"

	"github.com/rolegate/rolegate/internal/local/moto"
)

// TestSmokeScript runs deploy/smoke.sh, the check users run against a real
// stack, against moto's Cognito and CloudFormation on loopback and stand-ins
// for the deployed API and for IAM's policy simulator. It shows the script
// passes on a working stack and fails, saying why, on a broken one. (Only the
// script is under test here: moto cannot create this template's API and has
// no policy simulator, so those are stand-ins.)
func TestSmokeScript(t *testing.T) {
	t.Parallel()
	testenv.MustHave(t, "aws")
	srv := mototest.Start(t)

	ownPrefixOnly := func(key, sub string) bool { return strings.HasPrefix(key, "users/"+sub+"/") }
	tests := []struct {
		name         string
		passwordAuth bool                       // USER_PASSWORD_AUTH on the app client
		groupRole    string                     // the admins group's role name, after "<stack>-"
		ranAs        string                     // the role the stand-in API reports, after "<stack>-"
		mayWrite     func(key, sub string) bool // the stand-in simulator's s3:PutObject decision
		wantOK       bool
		wantOutput   string
	}{
		{
			name: "a user of the group reaches /whoami as the group's role", passwordAuth: true,
			groupRole: "us-east-1-admins", ranAs: "us-east-1-admins", mayWrite: ownPrefixOnly,
			wantOK: true, wantOutput: "PASS: a user of group admins reached /whoami as smoke-0-us-east-1-admins",
		},
		{
			name: "a backend running as another role fails the smoke test", passwordAuth: true,
			groupRole: "us-east-1-admins", ranAs: "us-east-1-readers", mayWrite: ownPrefixOnly,
			wantOutput: "/whoami ran as something other than smoke-1-us-east-1-admins",
		},
		{
			name:      "a client without USER_PASSWORD_AUTH is reported with the fix",
			groupRole: "us-east-1-admins", ranAs: "us-east-1-admins", mayWrite: ownPrefixOnly,
			wantOutput: "redeploy with: make deploy STACK=smoke-2 BUCKET=<bucket> PASSWORD_AUTH=true",
		},
		{
			name: "a role named without the region fails the smoke test", passwordAuth: true,
			groupRole: "admins", ranAs: "admins", mayWrite: ownPrefixOnly,
			wantOutput: "group admins's role is smoke-3-admins, want smoke-3-us-east-1-admins",
		},
		{
			name: "a role that may write another user's prefix fails the smoke test", passwordAuth: true,
			groupRole: "us-east-1-admins", ranAs: "us-east-1-admins",
			mayWrite:   func(key, sub string) bool { return strings.HasPrefix(key, "users/") },
			wantOutput: "may write another user's prefix users/someone-else/",
		},
		{
			name: "a role that may not write the user's own prefix fails the smoke test", passwordAuth: true,
			groupRole: "us-east-1-admins", ranAs: "us-east-1-admins",
			mayWrite:   func(key, sub string) bool { return false },
			wantOutput: "may not write the user's own prefix",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stack := fmt.Sprintf("smoke-%d", i)
			api := httptest.NewServer(standInAPI(map[string]string{"admins": stack + "-" + tt.ranAs}))
			t.Cleanup(api.Close)
			iam := httptest.NewServer(standInSimulator(tt.mayWrite))
			t.Cleanup(iam.Close)

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
				"RoleArn": "arn:aws:iam::" + moto.AccountID + ":role/" + stack + "-" + tt.groupRole,
			})
			createOutputsStack(t, srv, stack, map[string]string{
				"ApiUrl": api.URL + "/prod", "UserPoolId": pool, "UserPoolClientId": client,
			})

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "smoke.sh", stack, "admins")
			shims, argv := recordArgv(t, "aws", "curl")
			cmd.Env = append(cliEnv(srv), "AWS_ENDPOINT_URL_IAM="+iam.URL, "AWS="+shims+"/aws", "PATH="+shims+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			if (err == nil) != tt.wantOK || !strings.Contains(string(out), tt.wantOutput) {
				t.Fatalf("smoke.sh: err = %v, want ok=%v and output containing %q; output:\n%s", err, tt.wantOK, tt.wantOutput, out)
			}
			// Other local users can read any process's arguments (ps): no secret goes there.
			if secret := secretArg.FindString(argv()); secret != "" {
				t.Errorf("smoke.sh put a secret on a command line: %q", secret)
			}
			users := motoJSON(t, srv, "cognito-idp", "AWSCognitoIdentityProviderService.ListUsers", map[string]any{"UserPoolId": pool})
			if n := len(users["Users"].([]any)); n != 0 {
				t.Errorf("smoke.sh left %d users behind", n)
			}
		})
	}
}

// secretArg matches what must never be a command-line argument: the test
// user's password (smoke.sh's "Smoke-<hex>-Aa1!") and an ID token (a JWT's
// header starts with base64 of `{"`).
var secretArg = regexp.MustCompile(`Smoke-[0-9a-f]{8,}|PASSWORD=\S+|--password \S+|eyJ[-\w]*\.[-\w]*`)

// recordArgv puts shims for the named commands in a directory it returns:
// each appends its arguments to a log, then runs the real command. argv
// returns the log.
func recordArgv(t *testing.T, names ...string) (dir string, argv func() string) {
	t.Helper()
	dir = t.TempDir()
	log := filepath.Join(dir, "argv.log")
	for _, name := range names {
		real, err := exec.LookPath(name)
		if err != nil {
			t.Fatal(err)
		}
		shim := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >>'%s'\nexec '%s' \"$@\"\n", log, real)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(shim), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, func() string {
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
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

// standInSimulator answers IAM's SimulatePrincipalPolicy for s3:PutObject
// on one object: allowed when mayWrite(key, the aws:PrincipalTag/sub context
// value), else implicitDeny, as the simulator does for a role's policies.
func standInSimulator(mayWrite func(key, sub string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "SimulatePrincipalPolicy" {
			http.Error(w, "stand-in IAM: only SimulatePrincipalPolicy", http.StatusBadRequest)
			return
		}
		f := r.Form
		sub := ""
		if f.Get("ContextEntries.member.1.ContextKeyName") == "aws:PrincipalTag/sub" {
			sub = f.Get("ContextEntries.member.1.ContextKeyValues.member.1")
		}
		_, key, _ := strings.Cut(f.Get("ResourceArns.member.1"), ":::")
		_, key, _ = strings.Cut(key, "/")
		decision := "implicitDeny"
		if f.Get("ActionNames.member.1") == "s3:PutObject" && sub != "" && mayWrite(key, sub) {
			decision = "allowed"
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults><member>
<EvalActionName>s3:PutObject</EvalActionName><EvalResourceName>%s</EvalResourceName><EvalDecision>%s</EvalDecision>
<MatchedStatements/><MissingContextValues/></member></EvaluationResults></SimulatePrincipalPolicyResult>
<ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>`, f.Get("ResourceArns.member.1"), decision)
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

// motoRequest POSTs to moto, unsigned (moto.Authorization).
func motoRequest(t *testing.T, srv *moto.Server, service, contentType, target string, body []byte) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", moto.Authorization(service))
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
