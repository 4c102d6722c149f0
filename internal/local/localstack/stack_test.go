package localstack

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/local/apigw"
	"github.com/rolegate/rolegate/internal/local/proc"
	"github.com/rolegate/rolegate/internal/testkit/testenv"
)

func mustGet(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return b
}

func TestStartStackReportsABusyPortBeforeBuilding(t *testing.T) {
	// The port is checked before the tools, so this needs none: it runs under -short on a bare machine.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	iss := newIssuer(t)
	_, err = StartStack(context.Background(), StackOptions{Addr: l.Addr().String(), Settings: DefaultSettings(), Issuer: iss})
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("err = %v, want ErrPortInUse", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("message is not one line: %q", err)
	}
}

func TestStartStackWithoutMotoSaysWhatToInstall(t *testing.T) {
	testenv.MustHave(t, "aws-lambda-rie")
	// A PATH with the emulator and go, but no moto_server.
	dir := t.TempDir()
	riePath, err := proc.Find(proc.RIE)
	if err != nil {
		t.Fatal(err)
	}
	goPath, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{riePath, goPath} {
		if err := os.Symlink(bin, filepath.Join(dir, filepath.Base(bin))); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	iss := newIssuer(t)
	buildDir := t.TempDir()
	_, err = StartStack(context.Background(), StackOptions{
		Addr: "127.0.0.1:0", Settings: DefaultSettings(), Issuer: iss, BuildDir: buildDir,
	})
	if !errors.Is(err, proc.ErrNotInstalled) || !strings.Contains(err.Error(), proc.Moto.Install()) {
		t.Fatalf("err = %v, want proc.ErrNotInstalled naming moto_server's install", err)
	}
	if built, _ := filepath.Glob(filepath.Join(buildDir, "*", "bootstrap")); len(built) > 0 {
		t.Errorf("built %v before saying moto_server is missing", built)
	}
}

func TestStartStackRefusesABadAPIFirst(t *testing.T) {
	s := DefaultSettings()
	s.API.Config.Routes = []apigw.Route{{Method: "GET", Path: "/{p+}/x"}}
	iss := newIssuer(t)
	if _, err := StartStack(context.Background(), StackOptions{Addr: "127.0.0.1:0", Settings: s, Issuer: iss}); err == nil {
		t.Fatal("StartStack accepted a greedy path segment before the end")
	}
}

func TestSTSCounterCountsActionsAndForwards(t *testing.T) {
	var got []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		w.Write([]byte("<ok/>"))
	}))
	defer upstream.Close()
	c, err := NewSTSCounter(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(c)
	defer proxy.Close()
	for _, action := range []string{"AssumeRole", "AssumeRole", "GetCallerIdentity"} {
		resp, err := http.PostForm(proxy.URL, url.Values{"Action": {action}, "Version": {"2011-06-15"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "<ok/>" {
			t.Errorf("body = %q", body)
		}
	}
	if c.Count("AssumeRole") != 2 || c.Count("GetCallerIdentity") != 1 {
		t.Errorf("counts: AssumeRole %d GetCallerIdentity %d", c.Count("AssumeRole"), c.Count("GetCallerIdentity"))
	}
	if len(got) != 3 || !strings.Contains(got[0], "Action=AssumeRole") {
		t.Errorf("upstream saw %q", got)
	}
}

func TestPrefixWriterPrefixesWholeLines(t *testing.T) {
	var out bytes.Buffer
	w := newPrefixWriter("fn", &out)
	for _, chunk := range []string{"one\ntw", "o\n", "three"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := out.String(), "fn | one\nfn | two\n"; got != want {
		t.Errorf("got %q, want %q (an unfinished line waits)", got, want)
	}
}

func TestWelcomeShowsRoleChoice(t *testing.T) {
	s := &Stack{URL: "http://127.0.0.1:3000/prod", Settings: DefaultSettings(), Issuer: newIssuer(t)}
	s.Settings.API.Warnings = []string{"Open (AWS::ApiGateway::Method): AuthorizationType NONE: anyone may call it"}
	s.Settings.API.Config.APIKeys = []apigw.APIKey{{Name: "Key", Value: "k0123456789abcdefghij", Generated: true}}
	var out strings.Builder
	if err := s.Welcome(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, `API Gateway stage "prod" at http://127.0.0.1:3000/prod`) {
		t.Errorf("no stage URL in:\n%s", text)
	}
	if !strings.Contains(text, "\n  API key    Key: X-API-Key: k0123456789abcdefghij (generated here") {
		t.Errorf("the API key is not printed in:\n%s", text)
	}
	if !strings.Contains(text, "\n  WARNING    Open (AWS::ApiGateway::Method): AuthorizationType NONE") {
		t.Errorf("the open method is not printed loudly in:\n%s", text)
	}
	var choice string
	for line := range strings.Lines(text) {
		if strings.Contains(line, "X-Rolegate-Role") {
			choice = line
		}
	}
	// dana is in both groups; the curl line picks readers, not the preferred admins.
	if !strings.Contains(text, `$(make -s token NAME=dana GROUP=admins,readers)" \`) || !strings.Contains(choice, `-H 'X-Rolegate-Role: rolegate-local-readers' $U`) {
		t.Fatalf("no curl line choosing a role in:\n%s", text)
	}
	if !strings.Contains(text, "\n  U=http://127.0.0.1:3000/prod/whoami\n") {
		t.Errorf("no URL to curl in:\n%s", text)
	}
	// The banner fits a screen: an earlier one printed three whole tokens, a thousand columns each.
	lines := strings.Split(text, "\n")
	for _, l := range lines {
		if len(l) > 132 {
			t.Errorf("a %d-column line:\n%s", len(l), l)
		}
	}
	if len(lines) > 40 {
		t.Errorf("%d lines", len(lines))
	}
}
