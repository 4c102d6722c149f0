package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/local/apigw"
	"github.com/rolegate/rolegate/internal/local/moto"
	"github.com/rolegate/rolegate/internal/local/rie"
	"github.com/rolegate/rolegate/internal/local/userpool"
)

func (s testStack) do(t *testing.T, method, path, tok, contentType string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	// API Gateway decodes a base64 body only for a client that accepts a
	// binary media type (its first Accept); curl sends */*, Go nothing.
	req.Header.Set("Accept", "*/*")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// bucketKeys lists the data bucket's keys straight from moto's S3.
func (s testStack) bucketKeys(t *testing.T) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.MotoURL+"/"+s.Settings.DataBucket+"?list-type=2", nil)
	req.Header.Set("Authorization", moto.Authorization("s3"))
	body, err := do(http.DefaultClient, req, "ListObjectsV2")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Contents []struct{ Key string }
	}
	if err := xml.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range res.Contents {
		keys = append(keys, c.Key)
	}
	slices.Sort(keys)
	return keys
}

// TestFilesEndToEnd runs the files routes through the gateway, the real
// authorizer and backend and moto's S3: two users each see only their own
// files, which sit under users/<sub>/ in the template's data bucket.
func TestFilesEndToEnd(t *testing.T) {
	s := startTestStack(t)
	if s.Settings.DataBucket == "" {
		t.Fatal("the template's backend has no DATA_BUCKET")
	}
	alice := s.mint(t, TokenRequest{User: "alice", Groups: []string{"admins"}})
	bob := s.mint(t, TokenRequest{User: "bob", Groups: []string{"readers"}})
	aliceSub, bobSub := userpool.Sub(s.Issuer.PoolID, "alice"), userpool.Sub(s.Issuer.PoolID, "bob")

	png := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0x00, 0xff}
	if code, _, body := s.do(t, "PUT", "/files/logo.png", alice, "image/png", png); code != http.StatusOK {
		t.Fatalf("alice PUT: %d %s", code, body)
	}
	if code, _, body := s.do(t, "PUT", "/files/notes.txt", bob, "text/plain", []byte("bob's notes")); code != http.StatusOK {
		t.Fatalf("bob PUT: %d %s", code, body)
	}
	code, h, body := s.do(t, "GET", "/files/logo.png", alice, "", nil)
	if code != http.StatusOK || !bytes.Equal(body, png) || h.Get("Content-Type") != "image/png" {
		t.Errorf("alice GET: %d %s %q, want the PNG's bytes", code, h.Get("Content-Type"), body)
	}
	list := func(tok string) []string {
		code, _, body := s.do(t, "GET", "/files", tok, "", nil)
		var l struct{ Files []struct{ Name string } }
		if err := json.Unmarshal(body, &l); err != nil || code != http.StatusOK {
			t.Fatalf("GET /files: %d %s", code, body)
		}
		var names []string
		for _, f := range l.Files {
			names = append(names, f.Name)
		}
		return names
	}
	if got := list(alice); !slices.Equal(got, []string{"logo.png"}) {
		t.Errorf("alice lists %v", got)
	}
	if got := list(bob); !slices.Equal(got, []string{"notes.txt"}) {
		t.Errorf("bob lists %v", got)
	}
	if code, _, body := s.do(t, "GET", "/files/logo.png", bob, "", nil); code != http.StatusNotFound {
		t.Errorf("bob reads alice's file: %d %s", code, body)
	}
	want := []string{"users/" + bobSub + "/notes.txt", "users/" + aliceSub + "/logo.png"}
	slices.Sort(want)
	if got := s.bucketKeys(t); !slices.Equal(got, want) {
		t.Errorf("bucket keys %v, want %v", got, want)
	}
	if code, _, body := s.do(t, "GET", "/files/..", alice, "", nil); code != http.StatusBadRequest {
		t.Errorf("GET /files/..: %d %s", code, body)
	}
	if code, _, body := s.do(t, "DELETE", "/files/logo.png", alice, "", nil); code != http.StatusNoContent {
		t.Errorf("alice DELETE: %d %s", code, body)
	}
	if got := s.bucketKeys(t); !slices.Equal(got, []string{"users/" + bobSub + "/notes.txt"}) {
		t.Errorf("after DELETE the bucket holds %v", got)
	}
	for _, l := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		if strings.Contains(l, `"msg":"request"`) && strings.Contains(l, `"route":"/files`) && !strings.Contains(l, `"_aws"`) {
			t.Errorf("a files request line without EMF: %s", l)
		}
	}
}

// TestATeamsBackendRunsBehindTheAuthorizer builds examples/hello, a main in
// another package, as the stack's backend (what make run BACKEND=... does)
// and calls its route through the gateway and the real authorizer.
func TestATeamsBackendRunsBehindTheAuthorizer(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds and runs the real functions")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := rie.Build(ctx, "./examples/hello", filepath.Join(t.TempDir(), "hello"))
	if err != nil {
		t.Fatal(err)
	}
	s := startTestStackWith(t, bin, func(st *Settings) {
		st.API.Config.Routes = append(st.API.Config.Routes, apigw.Route{Method: "GET", Path: "/hello", Authorized: true})
	})
	tok := s.mint(t, TokenRequest{User: "alice", Groups: []string{"readers"}})
	code, _, body := s.do(t, "GET", "/hello?name=team", tok, "", nil)
	var got struct {
		Hello, Name, RunsAs string
		Groups              []string
	}
	if err := json.Unmarshal(body, &got); err != nil || code != http.StatusOK {
		t.Fatalf("GET /hello: %d %s", code, body)
	}
	if got.Hello != "alice" || got.Name != "team" || !strings.Contains(got.RunsAs, ":assumed-role/") || !slices.Equal(got.Groups, []string{"readers"}) {
		t.Errorf("GET /hello = %+v", got)
	}
	if !strings.Contains(s.logs.String(), `"route":"/hello"`) {
		t.Errorf("no request line for /hello:\n%s", s.logs)
	}
}
