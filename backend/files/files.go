// Package files serves each caller's own files in the stack's data bucket,
// under users/<sub>/, as routes of the backend adapter: PUT, GET and DELETE
// /files/{name}, and GET /files to list them. Every S3 call is made with the
// caller's role credentials that the adapter hands the route; the key is
// built from the validated sub and a name checked before any AWS call, never
// from anything else the client sends. On AWS the roles' session-tag policy
// (users/${aws:PrincipalTag/sub}/) confines each user as well.
package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rolegate/rolegate/backend"
)

// MaxSize is the largest file stored or served: the request and the response
// of a Lambda proxy integration are each at most 6 MB, and a binary body
// travels base64-encoded (4/3 of its size).
const MaxSize = 4 << 20

// MaxList is how many files GET /files lists, one S3 page.
const MaxList = 1000

// name is what a file name may be: one path segment of letters, digits, '.',
// '_' and '-', at most 255 bytes ("." and ".." are refused apart).
var name = regexp.MustCompile(`^[A-Za-z0-9._-]{1,255}$`)

// ValidName reports whether s may name a file.
func ValidName(s string) bool { return name.MatchString(s) && s != "." && s != ".." }

// S3API is the part of the S3 client the routes use; *s3.Client satisfies it.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Files is the file routes on one bucket.
type Files struct {
	bucket string
	client func(aws.Config) S3API
}

// New returns the routes on bucket. client builds an S3 client from the
// per-request aws.Config the adapter hands a route, whose only credentials
// are the caller's; nil means s3.NewFromConfig.
func New(bucket string, client func(aws.Config) S3API) (*Files, error) {
	if bucket == "" {
		return nil, errors.New("files: no bucket (DATA_BUCKET)")
	}
	if client == nil {
		client = func(cfg aws.Config) S3API { return s3.NewFromConfig(cfg) }
	}
	return &Files{bucket: bucket, client: client}, nil
}

// Routes are the file routes, for backend.Handler.Proxy.
func (f *Files) Routes() []backend.Route {
	return []backend.Route{
		{Method: http.MethodGet, Path: "/files", Func: f.list},
		{Method: http.MethodPut, Path: "/files/{name}", Func: f.put, Check: checkName},
		{Method: http.MethodGet, Path: "/files/{name}", Func: f.get, Check: checkName},
		{Method: http.MethodDelete, Path: "/files/{name}", Func: f.delete, Check: checkName},
	}
}

// File is one entry of GET /files.
type File struct {
	Name         string    `json:"name"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"lastModified,omitzero"`
}

// Listing is the body of GET /files: the caller's files in name order, the
// first MaxList of them; Truncated says there are more.
type Listing struct {
	Files     []File `json:"files"`
	Truncated bool   `json:"truncated"`
}

// prefix is the caller's own part of the bucket. A sub that is not a name
// (Cognito's are UUIDs) could reach outside it, so it is refused.
func prefix(id backend.Identity) (string, error) {
	if !ValidName(id.Sub) {
		return "", fmt.Errorf("files: sub %q cannot make a key", id.Sub)
	}
	return "users/" + id.Sub + "/", nil
}

// checkName refuses a request whose {name} is not a file name, before any
// AWS call. A decoded %2F is a '/' here, and refused.
func checkName(req *backend.Request) error {
	if !ValidName(req.PathParameters["name"]) {
		return backend.BadRequest("a file name is 1 to 255 of A-Z a-z 0-9 . _ - and not . or ..")
	}
	if len(req.Body) > MaxSize {
		return backend.BadRequest(fmt.Sprintf("a file is at most %d bytes", MaxSize))
	}
	return nil
}

// key is the caller's key for the request's {name}, checked again here: a
// key is never built from an unchecked name.
func key(req *backend.Request, id backend.Identity) (string, error) {
	if err := checkName(req); err != nil {
		return "", err
	}
	p, err := prefix(id)
	return p + req.PathParameters["name"], err
}

func (f *Files) put(ctx context.Context, req *backend.Request, id backend.Identity, cfg aws.Config) (*backend.Response, error) {
	k, err := key(req, id)
	if err != nil {
		return nil, err
	}
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	} else if _, _, err := mime.ParseMediaType(ct); err != nil {
		return nil, backend.BadRequest("Content-Type is not a media type")
	}
	_, err = f.client(cfg).PutObject(ctx, &s3.PutObjectInput{
		Bucket: &f.bucket, Key: &k, Body: bytes.NewReader(req.Body), ContentLength: aws.Int64(int64(len(req.Body))), ContentType: &ct,
	})
	if err != nil {
		return nil, err
	}
	return backend.JSON(http.StatusOK, File{Name: req.PathParameters["name"], Size: int64(len(req.Body))})
}

func (f *Files) get(ctx context.Context, req *backend.Request, id backend.Identity, cfg aws.Config) (*backend.Response, error) {
	k, err := key(req, id)
	if err != nil {
		return nil, err
	}
	out, err := f.client(cfg).GetObject(ctx, &s3.GetObjectInput{Bucket: &f.bucket, Key: &k})
	if err != nil {
		return nil, notFound(err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, MaxSize+1))
	switch {
	case err != nil:
		return nil, backend.AWSError(fmt.Errorf("files: reading %s: %w", k, err))
	case len(body) > MaxSize: // stored some other way: too large to answer through Lambda
		return nil, fmt.Errorf("files: %s is over %d bytes", k, MaxSize)
	}
	return &backend.Response{Status: http.StatusOK, Header: map[string]string{"Content-Type": aws.ToString(out.ContentType)}, Body: body}, nil
}

func (f *Files) delete(ctx context.Context, req *backend.Request, id backend.Identity, cfg aws.Config) (*backend.Response, error) {
	k, err := key(req, id)
	if err != nil {
		return nil, err
	}
	// S3 answers a missing key alike: DELETE is idempotent, 204 either way.
	if _, err := f.client(cfg).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &f.bucket, Key: &k}); err != nil {
		return nil, err
	}
	return nil, nil
}

func (f *Files) list(ctx context.Context, _ *backend.Request, id backend.Identity, cfg aws.Config) (*backend.Response, error) {
	p, err := prefix(id)
	if err != nil {
		return nil, err
	}
	out, err := f.client(cfg).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: &p, MaxKeys: aws.Int32(MaxList)})
	if err != nil {
		return nil, err
	}
	l := Listing{Files: []File{}, Truncated: aws.ToBool(out.IsTruncated)}
	for _, o := range out.Contents {
		n := aws.ToString(o.Key)[len(p):]
		if ValidName(n) { // another key under the prefix (users/<sub>/a/b) is not one of these files
			l.Files = append(l.Files, File{Name: n, Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified).UTC()})
		}
	}
	return backend.JSON(http.StatusOK, l)
}

// notFound makes S3's "no such key" the caller's 404; other errors are the
// adapter's to classify.
func notFound(err error) error {
	if _, ok := errors.AsType[*types.NoSuchKey](err); ok {
		return fmt.Errorf("%w: %w", backend.NotFound("no such file"), err)
	}
	return err
}
