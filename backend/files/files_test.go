package files_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolegate/rolegate/backend"
	"github.com/rolegate/rolegate/backend/files"
	"github.com/rolegate/rolegate/backend/ststest"
)

const (
	readers  = "arn:aws:iam::123456789012:role/rolegate-readers"
	aliceSub = "7c1f3e2a-5b4d-4e6f-8a9b-0c1d2e3f4a5b"
	bobSub   = "2e4c6a8b-1d3f-4a5b-9c7d-8e0f1a2b3c4d"
)

// fixture is the file routes behind the adapter, with a fake STS and S3.
type fixture struct {
	handle func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
	sts    *ststest.Server
	s3     *fakeS3
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{sts: ststest.NewServer(), s3: newFakeS3(t, "data")}
	t.Cleanup(f.sts.Close)
	base := f.sts.Config() // signed with the execution role: AssumeRole only
	h, err := backend.New(backend.Config{AllowedRoleARNs: []string{readers}}, base, sts.NewFromConfig(base),
		backend.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := files.New("data", func(cfg aws.Config) files.S3API {
		return s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint, o.UsePathStyle = aws.String(f.s3.URL), true
			o.RetryMaxAttempts = 1 // the SDK's retries sleep; the mapping is what is tested
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	f.handle = h.Proxy(fs.Routes()...)
	return f
}

// event is method on /files/{name} (or /files when name is "") from sub.
func event(method, name, sub string) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: method, Resource: "/files", Path: "/files",
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r-1", Authorizer: map[string]any{
			"sub": sub, "username": sub[:4], "preferredRole": readers, "roles": readers,
		}},
	}
	if name != "" {
		ev.Resource, ev.Path, ev.PathParameters = "/files/{name}", "/files/"+name, map[string]string{"name": name}
	}
	return ev
}

func (f *fixture) do(t testing.TB, ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := f.handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestAFileRoundTripsAsBinary(t *testing.T) {
	f := newFixture(t)
	content := []byte{0x89, 'P', 'N', 'G', 0x00, 0xff, 0xfe}
	put := event(http.MethodPut, "logo.png", aliceSub)
	put.Headers = map[string]string{"Content-Type": "image/png"}
	put.Body, put.IsBase64Encoded = base64.StdEncoding.EncodeToString(content), true
	if resp := f.do(t, put); resp.StatusCode != http.StatusOK || resp.Body != `{"name":"logo.png","size":7}` {
		t.Fatalf("PUT: %d %s", resp.StatusCode, resp.Body)
	}

	resp := f.do(t, event(http.MethodGet, "logo.png", aliceSub))
	got, _ := base64.StdEncoding.DecodeString(resp.Body)
	if resp.StatusCode != http.StatusOK || !resp.IsBase64Encoded || string(got) != string(content) || resp.Headers["Content-Type"] != "image/png" {
		t.Fatalf("GET: %d %v base64=%v %q", resp.StatusCode, resp.Headers, resp.IsBase64Encoded, resp.Body)
	}

	resp = f.do(t, event(http.MethodGet, "", aliceSub))
	var l files.Listing
	if err := json.Unmarshal([]byte(resp.Body), &l); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /files: %d %s", resp.StatusCode, resp.Body)
	}
	if len(l.Files) != 1 || l.Files[0].Name != "logo.png" || l.Files[0].Size != 7 || l.Files[0].LastModified.IsZero() || l.Truncated {
		t.Errorf("listing = %+v", l)
	}

	if resp := f.do(t, event(http.MethodDelete, "logo.png", aliceSub)); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := f.do(t, event(http.MethodGet, "logo.png", aliceSub)); resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Body, "no such file") {
		t.Errorf("GET after DELETE: %d %s", resp.StatusCode, resp.Body)
	}
	f.assertOnlyUserCredentials(t)
}

func TestEachUserSeesOnlyTheirOwnFiles(t *testing.T) {
	f := newFixture(t)
	for _, sub := range []string{aliceSub, bobSub} {
		put := event(http.MethodPut, "notes.txt", sub)
		put.Body = "by " + sub
		if resp := f.do(t, put); resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT: %d %s", resp.StatusCode, resp.Body)
		}
	}
	if got, want := strings.Join(f.s3.keys(), " "), "users/"+bobSub+"/notes.txt users/"+aliceSub+"/notes.txt"; got != want {
		t.Errorf("keys %q, want %q", got, want)
	}
	for _, sub := range []string{aliceSub, bobSub} {
		if resp := f.do(t, event(http.MethodGet, "notes.txt", sub)); resp.Body != "by "+sub {
			t.Errorf("%s reads %q", sub, resp.Body)
		}
		resp := f.do(t, event(http.MethodGet, "", sub))
		if resp.Body != `{"files":[{"name":"notes.txt","size":`+itoa(len("by "+sub))+`,"lastModified":`+jsonTime(t, f, sub)+`}],"truncated":false}` {
			t.Errorf("%s lists %s", sub, resp.Body)
		}
	}
	f.assertOnlyUserCredentials(t)
}

func TestNamesAreCheckedBeforeAnyAWSCall(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"report-2026_Q3.v2.csv", true},
		{strings.Repeat("a", 255), true},
		{"...", true},
		{strings.Repeat("a", 256), false},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},   // what an encoded slash (%2F) decodes to
		{"a%2Fb", false}, // and one left encoded
		{"a b", false},
		{"a\\b", false},
		{"caf\u00e9", false},
		{"a\x00", false},
		{"a\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if files.ValidName(tt.name) != tt.ok {
				t.Fatalf("ValidName(%q) = %v", tt.name, !tt.ok)
			}
			if tt.ok {
				return
			}
			f := newFixture(t)
			for _, m := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
				ev := event(m, "x", aliceSub)
				ev.PathParameters["name"] = tt.name
				if resp := f.do(t, ev); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%s %q: %d %s", m, tt.name, resp.StatusCode, resp.Body)
				}
			}
			if n := f.sts.Calls("") + len(f.s3.log()); n != 0 {
				t.Errorf("%d AWS calls for a bad name", n)
			}
		})
	}
}

func TestS3ErrorsMapToStatuses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		code       string
		wantStatus int
		wantRetry  bool
	}{
		{"access denied is 403", 403, "AccessDenied", 403, false},
		{"no such key is 404", 404, "NoSuchKey", 404, false},
		{"throttling is 503 with Retry-After", 503, "SlowDown", 503, true},
		{"anything else is 502", 500, "InternalError", 502, false},
		{"a missing bucket is 502", 404, "NoSuchBucket", 502, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.s3.failWith(tt.status, tt.code)
			resp := f.do(t, event(http.MethodGet, "a.txt", aliceSub))
			if resp.StatusCode != tt.wantStatus || (resp.Headers["Retry-After"] != "") != tt.wantRetry {
				t.Errorf("%s answered %d %v %s, want %d", tt.code, resp.StatusCode, resp.Headers, resp.Body, tt.wantStatus)
			}
			if strings.Contains(resp.Body, "fake") {
				t.Errorf("body %q shows S3's message", resp.Body)
			}
		})
	}
}

// assertOnlyUserCredentials fails unless every S3 call was signed with
// credentials STS issued for a user, never the execution role's.
func (f *fixture) assertOnlyUserCredentials(t *testing.T) {
	t.Helper()
	issued := map[string]bool{}
	for _, c := range f.sts.Issued() {
		issued[c.AccessKeyID] = true
	}
	calls := f.s3.log()
	if len(calls) == 0 {
		t.Fatal("no S3 calls")
	}
	for _, c := range calls {
		if c.AccessKeyID == ststest.ExecAccessKeyID || !issued[c.AccessKeyID] {
			t.Fatalf("S3 %s %s signed with %q, not a user's assumed credentials", c.Method, c.Key, c.AccessKeyID)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// jsonTime is the JSON of the stored modification time of sub's notes.txt.
func jsonTime(t *testing.T, f *fixture, sub string) string {
	f.s3.mu.Lock()
	defer f.s3.mu.Unlock()
	b, _ := json.Marshal(f.s3.objects["users/"+sub+"/notes.txt"].modified)
	return string(b)
}
