package moto_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/local/moto/mototest"

	"github.com/rolegate/rolegate/internal/local/moto"
)

func TestServerAnswersSTS(t *testing.T) {
	s := mototest.Start(t)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %q is not loopback", s.URL)
	}
	form := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", moto.Authorization("sts"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<Account>"+moto.AccountID+"</Account>") {
		t.Fatalf("GetCallerIdentity: %s %s", resp.Status, body)
	}

	s.Close()
	if _, err := http.Get(s.URL + "/moto-api/"); err == nil {
		t.Fatal("server still answers after Close")
	}
}
