package localstack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"

	"github.com/rolegate/rolegate/internal/local/userpool"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/local/moto"
)

// awsQuery POSTs an AWS Query API call (IAM, STS) to moto_server, unsigned
// (moto.Authorization): nothing here is real AWS.
func awsQuery(ctx context.Context, client *http.Client, endpoint, service string, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", moto.Authorization(service))
	return do(client, req, form.Get("Action"))
}

func do(client *http.Client, req *http.Request, what string) ([]byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", what, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// groupRoleTrust is the trust policy of a local group role. moto does not
// enforce trust policies; the template's real ones are checked by
// `go test ./deploy/`.
const groupRoleTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
	`"Principal":{"AWS":"arn:aws:iam::` + moto.AccountID + `:root"},` +
	`"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`

// CreateGroupRoles creates each group's IAM role in the IAM at endpoint
// (moto), with MaxSessionDuration 3600 as the template sets it.
func CreateGroupRoles(ctx context.Context, client *http.Client, endpoint string, groups []userpool.Group) error {
	done := map[string]bool{}
	for _, g := range groups {
		if g.RoleARN == "" || done[g.RoleARN] {
			continue
		}
		done[g.RoleARN] = true
		role, err := arn.ParseRole(g.RoleARN)
		if err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
		form := url.Values{
			"Action":                   {"CreateRole"},
			"Version":                  {"2010-05-08"},
			"RoleName":                 {role.Name},
			"Path":                     {role.Path},
			"AssumeRolePolicyDocument": {groupRoleTrust},
			"MaxSessionDuration":       {"3600"},
			"Description":              {"rolegate-local role of group " + g.Name},
		}
		if _, err := awsQuery(ctx, client, endpoint, "iam", form); err != nil {
			return fmt.Errorf("create role %s: %w", role.Name, err)
		}
	}
	return nil
}

// CreateBucket creates bucket in the S3 at endpoint (moto), path-style and
// unsigned (moto.Authorization). A bucket that is already there is fine.
func CreateBucket(ctx context.Context, client *http.Client, endpoint, bucket string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, endpoint+"/"+url.PathEscape(bucket), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", moto.Authorization("s3"))
	if _, err := do(client, req, "CreateBucket "+bucket); err != nil && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		return err
	}
	return nil
}

// STSCounter is a reverse proxy in front of a local STS that counts calls by
// Action, so a load test reports how many AssumeRole calls really reached
// STS rather than what the backend says it made.
type STSCounter struct {
	proxy *httputil.ReverseProxy

	mu     sync.Mutex
	counts map[string]int64
}

// NewSTSCounter proxies to the STS at target (an http:// base URL).
func NewSTSCounter(target string) (*STSCounter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &STSCounter{proxy: httputil.NewSingleHostReverseProxy(u), counts: map[string]int64{}}, nil
}

// ServeHTTP counts the request's Action and forwards it unchanged.
func (c *STSCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	action := "unknown"
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
		action = form.Get("Action")
	}
	c.mu.Lock()
	c.counts[action]++
	c.mu.Unlock()
	c.proxy.ServeHTTP(w, r)
}

// Count returns how many calls of action (e.g. "AssumeRole") were forwarded.
func (c *STSCounter) Count(action string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[action]
}
