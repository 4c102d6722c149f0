package files_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeS3 is a path-style S3 of one bucket on loopback, enough for the file
// routes: objects in memory, each request's access key id recorded, and a
// switch to fail every call with an S3 error.
type fakeS3 struct {
	*httptest.Server
	bucket string

	mu      sync.Mutex
	objects map[string]object
	calls   []s3Call
	fail    struct {
		status int
		code   string
	}
}

type object struct {
	body        []byte
	contentType string
	modified    time.Time
}

type s3Call struct {
	Method, Key, AccessKeyID string
}

func newFakeS3(t testing.TB, bucket string) *fakeS3 {
	f := &fakeS3{bucket: bucket, objects: map[string]object{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// failWith makes every later call fail with status and an S3 error code.
func (f *fakeS3) failWith(status int, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail.status, f.fail.code = status, code
}

func (f *fakeS3) log() []s3Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeS3) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (f *fakeS3) serve(w http.ResponseWriter, r *http.Request) {
	// Authorization: AWS4-HMAC-SHA256 Credential=<akid>/<date>/<region>/s3/aws4_request, ...
	_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	akid, _, _ := strings.Cut(cred, "/")
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s3Call{r.Method, key, akid})
	errorXML := func(status int, code string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>fake</Message></Error>", code)
	}
	switch {
	case f.fail.status != 0:
		errorXML(f.fail.status, f.fail.code)
	case bucket != f.bucket:
		errorXML(http.StatusNotFound, "NoSuchBucket")
	case r.Method == http.MethodPut && key != "":
		body, _ := io.ReadAll(r.Body)
		f.objects[key] = object{body, r.Header.Get("Content-Type"), time.Now().UTC().Truncate(time.Second)}
	case r.Method == http.MethodGet && key != "":
		o, ok := f.objects[key]
		if !ok {
			errorXML(http.StatusNotFound, "NoSuchKey")
			return
		}
		w.Header().Set("Content-Type", o.contentType)
		w.Write(o.body)
	case r.Method == http.MethodDelete && key != "":
		delete(f.objects, key)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		type content struct {
			Key          string
			Size         int
			LastModified string
		}
		res := struct {
			XMLName     xml.Name `xml:"ListBucketResult"`
			IsTruncated bool
			Contents    []content
		}{}
		prefix := r.URL.Query().Get("prefix")
		for k, o := range f.objects {
			if strings.HasPrefix(k, prefix) {
				res.Contents = append(res.Contents, content{k, len(o.body), o.modified.Format(time.RFC3339)})
			}
		}
		slices.SortFunc(res.Contents, func(a, b content) int { return strings.Compare(a.Key, b.Key) })
		xml.NewEncoder(w).Encode(res)
	default:
		errorXML(http.StatusBadRequest, "NotImplemented")
	}
}
