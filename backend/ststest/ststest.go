// Package ststest serves a fake AWS STS on loopback for tests, the way
// net/http/httptest serves a fake HTTP server: the real SDK talks to it over
// the real STS Query protocol (form POSTs, XML answers and errors), signed
// with SigV4, which the server verifies against the credentials it issued.
//
// It implements AssumeRole and GetCallerIdentity, records every call with the
// access key that signed it and its AssumeRole parameters, session tags
// included, and can be told to fail (AccessDenied, Throttling,
// InternalError), to answer slowly, or to issue short-lived credentials. It
// checks what real STS checks about session names, source identities,
// session tags and durations, but not trust policies: every well-formed role
// can be assumed unless told otherwise.
package ststest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rolegate/rolegate/internal/arn"
)

// The execution role: the credentials the function itself runs with. Tests
// assert that user work is never signed with ExecAccessKeyID.
const (
	Account             = "123456789012"
	Region              = "us-east-1"
	ExecAccessKeyID     = "EXECROLEAKIDEXAMPLE0"
	ExecSecretAccessKey = "EXECROLE/secret/never/used/for/user/work"
	// ExecRoleARN is what GetCallerIdentity reports for the execution
	// credentials; seeing it in a response means a fallback happened.
	ExecRoleARN = "arn:aws:sts::" + Account + ":assumed-role/rolegate-backend-exec/rolegate-backend"
)

// STS actions the server implements.
const (
	AssumeRole        = "AssumeRole"
	GetCallerIdentity = "GetCallerIdentity"
)

// Failure is an error the server can be told to answer with.
type Failure int

// Failures, with the status and code real STS uses for them.
const (
	OK            Failure = iota
	AccessDenied          // 403 Sender AccessDenied: the role does not trust the caller
	Throttling            // 400 Sender Throttling: the SDK retries it
	InternalError         // 500 Receiver InternalFailure: the SDK retries it
)

// Call is one request the server received.
type Call struct {
	Action string
	// AccessKeyID is the key in the SigV4 Authorization header ("" if none).
	AccessKeyID string
	// Verified reports that the signature matched the secret the server knows
	// for AccessKeyID and the session token matched too.
	Verified bool
	// Status is the HTTP status answered.
	Status int
	// AssumeRole parameters; Tags are the session tags, by key.
	RoleARN, RoleSessionName, SourceIdentity string
	DurationSeconds                          int
	Tags                                     map[string]string
}

// Server is a fake STS. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port, for BaseEndpoint or
	// AWS_ENDPOINT_URL_STS.
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	now      func() time.Time
	calls    []Call
	failures map[string]failure
	delay    time.Duration
	lifetime time.Duration
	issued   map[string]issued // by access key id
	seq      int
}

type failure struct {
	f     Failure
	times int // remaining; negative means forever
}

type issued struct {
	creds       aws.Credentials
	arn, userID string
}

// NewServer starts a fake STS on loopback. Close it when done.
func NewServer() *Server {
	s := &Server{
		now:      time.Now,
		failures: map[string]failure{},
		issued:   map[string]issued{},
	}
	s.issued[ExecAccessKeyID] = issued{
		creds:  aws.Credentials{AccessKeyID: ExecAccessKeyID, SecretAccessKey: ExecSecretAccessKey},
		arn:    ExecRoleARN,
		userID: "AROAEXECROLEEXAMPLE0:rolegate-backend",
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down, cutting off slow answers in progress.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Config returns an aws.Config for the execution role against this server:
// static execution credentials, BaseEndpoint = URL, and a standard retryer
// whose backoff is a millisecond so that retried throttling costs no time.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(ExecAccessKeyID, ExecSecretAccessKey, ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// Fail makes the next times calls of action answer with f; times < 0 means
// until told otherwise, and Fail(action, OK, 0) clears it.
func (s *Server) Fail(action string, f Failure, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == OK || times == 0 {
		delete(s.failures, action)
		return
	}
	s.failures[action] = failure{f, times}
}

// SetDelay makes every answer wait d, or until the client gives up.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetLifetime makes AssumeRole issue credentials that expire d after issue,
// whatever duration was asked for; 0 restores the asked-for duration.
func (s *Server) SetLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// SetNow sets the server's clock, used for Expiration and for refusing
// expired credentials.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Calls returns how many requests for action arrived; "" counts all.
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if action == "" || c.Action == action {
			n++
		}
	}
	return n
}

// Log returns a copy of every call so far, in order of arrival.
func (s *Server) Log() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Issued returns every credential AssumeRole handed out, for tests that check
// no secret ever leaks into a response or a log.
func (s *Server) Issued() []aws.Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []aws.Credentials
	for k, i := range s.issued {
		if k != ExecAccessKeyID {
			out = append(out, i.creds)
		}
	}
	return out
}

// ARN returns the assumed-role ARN STS reports for a session of role:
// arn:<partition>:sts::<account>:assumed-role/<role name>/<session>.
func ARN(role, session string) string {
	partition, account, name := splitRole(role)
	return "arn:" + partition + ":sts::" + account + ":assumed-role/" + name + "/" + session
}

func splitRole(role string) (partition, account, name string) {
	f := strings.SplitN(role, ":", 6)
	if len(f) != 6 {
		return "aws", Account, role
	}
	return f[1], f[4], f[5][strings.LastIndexByte(f[5], '/')+1:]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	form, err := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || err != nil {
		s.answer(w, r, Call{}, http.StatusBadRequest, errorXML("Sender", "InvalidAction", "expected a form POST"))
		return
	}
	c := Call{Action: form.Get("Action")}
	key, verified := s.verify(r, body)
	c.AccessKeyID, c.Verified = key, verified

	s.mu.Lock()
	fail := s.failures[c.Action]
	if fail.times > 0 {
		fail.times--
		if fail.times == 0 {
			delete(s.failures, c.Action)
		} else {
			s.failures[c.Action] = fail
		}
	}
	now := s.now()
	cred, known := s.issued[key]
	s.mu.Unlock()

	switch {
	case form.Get("Version") != "2011-06-15":
		s.answer(w, r, c, http.StatusBadRequest, errorXML("Sender", "InvalidParameterValue", "unsupported Version"))
	case !known || !verified:
		s.answer(w, r, c, http.StatusForbidden, errorXML("Sender", "InvalidClientTokenId", "The security token included in the request is invalid."))
	case cred.creds.CanExpire && !now.Before(cred.creds.Expires):
		s.answer(w, r, c, http.StatusBadRequest, errorXML("Sender", "ExpiredToken", "The security token included in the request is expired"))
	case fail.f == AccessDenied:
		s.answer(w, r, c, http.StatusForbidden, errorXML("Sender", "AccessDenied",
			"User: "+cred.arn+" is not authorized to perform: sts:"+c.Action))
	case fail.f == Throttling:
		s.answer(w, r, c, http.StatusBadRequest, errorXML("Sender", "Throttling", "Rate exceeded"))
	case fail.f == InternalError:
		s.answer(w, r, c, http.StatusInternalServerError, errorXML("Receiver", "InternalFailure", "An internal error occurred"))
	case c.Action == GetCallerIdentity:
		_, account, _ := splitRole(cred.arn)
		s.answer(w, r, c, http.StatusOK, fmt.Sprintf(
			`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
				`<Arn>%s</Arn><UserId>%s</UserId><Account>%s</Account></GetCallerIdentityResult>`+
				`<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
			esc(cred.arn), esc(cred.userID), esc(account), requestID()))
	case c.Action == AssumeRole:
		s.assumeRole(w, r, c, form, now)
	default:
		s.answer(w, r, c, http.StatusBadRequest, errorXML("Sender", "InvalidAction", "Could not find operation "+c.Action))
	}
}

var (
	roleARN   = regexp.MustCompile(`^arn:aws[a-z0-9-]*:iam::\d{12}:role/[/` + arn.NameClass + `]{1,512}$`)
	nameChars = regexp.MustCompile(`^[` + arn.NameClass + `]{2,64}$`)
	tagKey    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	tagValue  = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
)

// tags reads Tags.member.N.Key and .Value as STS does, and checks them as
// STS does: at most 50, keys unique regardless of case, IAM's characters.
func tags(form url.Values) (map[string]string, bool) {
	var m map[string]string
	seen := map[string]bool{}
	for n := 1; form.Has(fmt.Sprintf("Tags.member.%d.Key", n)); n++ {
		k, v := form.Get(fmt.Sprintf("Tags.member.%d.Key", n)), form.Get(fmt.Sprintf("Tags.member.%d.Value", n))
		if n > 50 || seen[strings.ToLower(k)] || !tagKey.MatchString(k) || !tagValue.MatchString(v) {
			return nil, false
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k], seen[strings.ToLower(k)] = v, true
	}
	return m, true
}

func (s *Server) assumeRole(w http.ResponseWriter, r *http.Request, c Call, form url.Values, now time.Time) {
	c.RoleARN = form.Get("RoleArn")
	c.RoleSessionName = form.Get("RoleSessionName")
	c.SourceIdentity = form.Get("SourceIdentity")
	c.DurationSeconds = 3600
	if v := form.Get("DurationSeconds"); v != "" {
		c.DurationSeconds, _ = strconv.Atoi(v)
	}
	var tagsOK bool
	c.Tags, tagsOK = tags(form)
	switch {
	case !tagsOK:
		s.answer(w, r, c, http.StatusBadRequest, errorXML("Sender", "ValidationError", "Tags are invalid"))
		return
	case !roleARN.MatchString(c.RoleARN):
		s.answer(w, r, c, http.StatusBadRequest, errorXML("Sender", "ValidationError", "RoleArn is invalid"))
		return
	case !nameChars.MatchString(c.RoleSessionName):
		s.answer(w, r, c, http.StatusBadRequest, errorXML("Sender", "ValidationError", "RoleSessionName is invalid"))
		return
	case form.Has("SourceIdentity") && !nameChars.MatchString(c.SourceIdentity):
		s.answer(w, r, c, http.StatusBadRequest, errorXML("Sender", "ValidationError", "SourceIdentity is invalid"))
		return
	case c.DurationSeconds < 900 || c.DurationSeconds > 43200:
		s.answer(w, r, c, http.StatusBadRequest, errorXML("Sender", "ValidationError", "DurationSeconds is invalid"))
		return
	}
	s.mu.Lock()
	s.seq++
	lifetime := time.Duration(c.DurationSeconds) * time.Second
	if s.lifetime > 0 {
		lifetime = s.lifetime
	}
	_, account, _ := splitRole(c.RoleARN)
	roleID := "AROA" + strings.ToUpper(hex.EncodeToString(sha(c.RoleARN)[:9]))[:17]
	i := issued{
		creds: aws.Credentials{
			AccessKeyID:     fmt.Sprintf("ASIASTSTEST%09d", s.seq),
			SecretAccessKey: randomString(30),
			SessionToken:    "IQoJb3JpZ2luX2VjE" + randomString(300),
			CanExpire:       true,
			Expires:         now.Add(lifetime).UTC().Truncate(time.Second),
			AccountID:       account,
		},
		arn:    ARN(c.RoleARN, c.RoleSessionName),
		userID: roleID + ":" + c.RoleSessionName,
	}
	s.issued[i.creds.AccessKeyID] = i
	s.mu.Unlock()
	var srcID string
	if c.SourceIdentity != "" {
		srcID = "<SourceIdentity>" + esc(c.SourceIdentity) + "</SourceIdentity>"
	}
	s.answer(w, r, c, http.StatusOK, fmt.Sprintf(
		`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>%s`+
			`<AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>%s</AssumedRoleId></AssumedRoleUser>`+
			`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>`+
			`<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>`+
			`<PackedPolicySize>6</PackedPolicySize></AssumeRoleResult>`+
			`<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></AssumeRoleResponse>`,
		srcID, esc(i.arn), esc(i.userID), i.creds.AccessKeyID, esc(i.creds.SecretAccessKey),
		esc(i.creds.SessionToken), i.creds.Expires.Format(time.RFC3339), requestID()))
}

// answer records c with status, waits out any delay, and writes body.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, c Call, status int, body string) {
	c.Status = status
	s.mu.Lock()
	s.calls = append(s.calls, c)
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID())
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// verify re-signs the request with the credentials the server knows for the
// access key in its Authorization header and compares signatures, so a call
// counts as made with a key only if it was really signed with its secret.
func (s *Server) verify(r *http.Request, body []byte) (key string, ok bool) {
	const alg = "AWS4-HMAC-SHA256 "
	auth, found := strings.CutPrefix(r.Header.Get("Authorization"), alg)
	if !found {
		return "", false
	}
	var scope, signed, sig string
	for p := range strings.SplitSeq(auth, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch k {
		case "Credential":
			key, scope, _ = strings.Cut(v, "/")
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	sc := strings.Split(scope, "/") // date/region/service/aws4_request
	if len(sc) != 4 {
		return key, false
	}
	s.mu.Lock()
	cred, known := s.issued[key]
	s.mu.Unlock()
	if !known || r.Header.Get("X-Amz-Security-Token") != cred.creds.SessionToken {
		return key, false
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return key, false
	}
	re, err := http.NewRequestWithContext(context.Background(), r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return key, false
	}
	for h := range strings.SplitSeq(signed, ";") {
		if h != "host" && h != "content-length" && h != "x-amz-date" && h != "x-amz-security-token" {
			re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), cred.creds, re, hex.EncodeToString(sum[:]), sc[2], sc[1], at); err != nil {
		return key, false
	}
	return key, strings.HasSuffix(re.Header.Get("Authorization"), "Signature="+sig) && sig != ""
}

func errorXML(typ, code, msg string) string {
	return fmt.Sprintf(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`+
		`<Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>`+
		`<RequestId>%s</RequestId></ErrorResponse>`, typ, code, esc(msg), requestID())
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func sha(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

func requestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
