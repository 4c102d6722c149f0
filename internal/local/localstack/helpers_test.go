package localstack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rolegate/rolegate/internal/local/apigw"
)

// recordingBackend is a proxy integration that answers 200 and keeps the
// events it was sent.
type recordingBackend struct {
	mu     sync.Mutex
	events []apigw.ProxyEvent
}

func (b *recordingBackend) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev apigw.ProxyEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
	return []byte(`{"statusCode":200,"body":"{}"}`), nil
}

func (b *recordingBackend) calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events)
}

func (b *recordingBackend) last(t *testing.T) apigw.ProxyEvent {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.events) == 0 {
		t.Fatal("backend never invoked")
	}
	return b.events[len(b.events)-1]
}

// localAPI is the settings' API served on loopback for a test, with the
// given authorizer and a recording backend.
type localAPI struct {
	URL     string // the stage's base URL
	Gateway *apigw.Gateway
	Backend *recordingBackend
}

func serveAPI(t *testing.T, s Settings, authorizer apigw.Invoker) localAPI {
	t.Helper()
	cfg := s.API.Config
	cfg.APIID = "abc123"
	a := localAPI{Backend: &recordingBackend{}}
	var err error
	if a.Gateway, err = apigw.NewGateway(cfg, apigw.Deps{Authorizer: authorizer, Backend: a.Backend}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Gateway)
	t.Cleanup(srv.Close)
	a.URL = srv.URL + "/" + cfg.Stage
	return a
}

// get sends GET path (below the stage) with the bearer token tok.
func (a localAPI) get(t *testing.T, path, tok string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func newIssuer(t *testing.T) *Issuer {
	t.Helper()
	iss, err := NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	return iss
}
