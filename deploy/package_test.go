package deploy

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/cfn"
	"github.com/rolegate/rolegate/internal/local/moto/mototest"
	"github.com/rolegate/rolegate/internal/testkit/testenv"

	"go.yaml.in/yaml/v3"
)

func TestPackageRewritesCode(t *testing.T) {
	src := []byte(`Resources:
  Local:
    Type: AWS::Lambda::Function
    Properties:
      Code: ../build/authorizer.zip
      Role: !GetAtt R.Arn
  S3Url:
    Type: AWS::Lambda::Function
    Properties:
      Code: s3://other-bucket/path/to/code.zip
  Inline:
    Type: AWS::Lambda::Function
    Properties:
      Code: {ZipFile: "exit 0"}
  NotAFunction:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content: ../build/layer.zip
`)
	var asked []string
	out, err := Package(src, func(p string) (S3Location, error) {
		asked = append(asked, p)
		return S3Location{Bucket: "b", Key: "k"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := cfn.ParseTemplate(out)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]any{
		"Local":  map[string]any{"S3Bucket": "b", "S3Key": "k"},
		"S3Url":  map[string]any{"S3Bucket": "other-bucket", "S3Key": "path/to/code.zip"},
		"Inline": map[string]any{"ZipFile": "exit 0"},
	} {
		r, _ := tmpl.Resource(name)
		if got := r.Properties["Code"]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s Code = %#v, want %#v", name, got, want)
		}
	}
	if !reflect.DeepEqual(asked, []string{"../build/authorizer.zip"}) {
		t.Errorf("locate asked for %v", asked)
	}
	if !strings.Contains(string(out), "Fn::GetAtt:") || strings.Contains(string(out), "!GetAtt") {
		t.Errorf("packaged template keeps short forms:\n%s", out)
	}

	_, err = Package(src, func(string) (S3Location, error) { return S3Location{}, os.ErrNotExist })
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a locate error comes back as %v", err)
	}
}

// TestPackageMatchesAWSCLI runs the real `aws cloudformation package` against
// moto's S3 on loopback and requires the offline Package to produce the same
// template, so linting the offline form is linting what users deploy.
func TestPackageMatchesAWSCLI(t *testing.T) {
	t.Parallel()
	awsCLI := testenv.MustHave(t, "aws")
	srv := mototest.Start(t)

	// The template's Code paths are relative to it: ../build/*.zip.
	root := t.TempDir()
	for _, d := range []string{"deploy", "build"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tmplPath := filepath.Join(root, "deploy", "template.yaml")
	src := readTemplate(t)
	files := map[string]string{
		tmplPath: string(src),
		filepath.Join(root, "build", "authorizer.zip"): "authorizer bytes",
		filepath.Join(root, "build", "backend.zip"):    "backend bytes",
	}
	for p, content := range files {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	const bucket = "rolegate-artifacts"
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/"+bucket, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket in moto: %s", resp.Status)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	outPath := filepath.Join(root, "packaged.yaml")
	cmd := exec.CommandContext(ctx, awsCLI, "cloudformation", "package",
		"--template-file", tmplPath, "--s3-bucket", bucket, "--output-template-file", outPath)
	cmd.Env = cliEnv(srv)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws cloudformation package: %v\n%s", err, out)
	}
	fromCLI, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}

	ours, err := Package(src, ContentKeys(filepath.Dir(tmplPath), bucket))
	if err != nil {
		t.Fatal(err)
	}
	var want, got map[string]any
	if err := yaml.Unmarshal(fromCLI, &want); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(ours, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("offline Package differs from aws cloudformation package.\n--- aws CLI:\n%s\n--- Package:\n%s", fromCLI, ours)
	}
	fn := got["Resources"].(map[string]any)["AuthorizerFunction"].(map[string]any)["Properties"].(map[string]any)
	if code := fn["Code"].(map[string]any); code["S3Bucket"] != bucket || len(code["S3Key"].(string)) != 32 {
		t.Errorf("AuthorizerFunction Code = %v", code)
	}
}

// withoutAWSEnv drops the caller's AWS settings so only moto's apply.
func withoutAWSEnv(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "AWS_") {
			out = append(out, e)
		}
	}
	return out
}
