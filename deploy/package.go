package deploy

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rolegate/rolegate/internal/cfn"
)

// S3Location is where `aws cloudformation package` puts an artifact.
type S3Location struct {
	Bucket string
	Key    string
}

// Package rewrites a template the way `aws cloudformation package` does for
// the artifacts this project has: every AWS::Lambda::Function whose Code is a
// local path gets Code: {S3Bucket, S3Key} from locate, an s3://bucket/key Code
// is split the same way, and every short-form intrinsic is written in long
// form. Nothing is uploaded; locate decides the keys (see ContentKeys).
//
// It exists so the packaged form, which is what CloudFormation validates, can
// be linted without S3 and credentials.
func Package(src []byte, locate func(localPath string) (S3Location, error)) ([]byte, error) {
	root, err := cfn.ParseNode(src)
	if err != nil {
		return nil, err
	}
	resources := mappingValue(root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil, errors.New("package: no Resources")
	}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		name, res := resources.Content[i].Value, resources.Content[i+1]
		if t := mappingValue(res, "Type"); t == nil || t.Value != "AWS::Lambda::Function" {
			continue
		}
		code := mappingValue(mappingValue(res, "Properties"), "Code")
		if code == nil || code.Kind != yaml.ScalarNode {
			continue // already {S3Bucket, S3Key}, {ZipFile} or {ImageUri}
		}
		loc, err := codeLocation(code.Value, locate)
		if err != nil {
			return nil, fmt.Errorf("package: %s Code: %w", name, err)
		}
		*code = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			str("S3Bucket"), str(loc.Bucket), str("S3Key"), str(loc.Key),
		}}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("package: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("package: %w", err)
	}
	return buf.Bytes(), nil
}

func codeLocation(path string, locate func(string) (S3Location, error)) (S3Location, error) {
	if rest, ok := strings.CutPrefix(path, "s3://"); ok {
		bucket, key, ok := strings.Cut(rest, "/")
		if !ok || bucket == "" || key == "" {
			return S3Location{}, fmt.Errorf("%q is not s3://bucket/key", path)
		}
		return S3Location{Bucket: bucket, Key: key}, nil
	}
	return locate(path)
}

// ContentKeys returns a locate function for Package that names each artifact
// as `aws cloudformation package` does: the hex MD5 of the file's content, in
// bucket, with local paths taken relative to templateDir.
func ContentKeys(templateDir, bucket string) func(string) (S3Location, error) {
	return func(p string) (S3Location, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(templateDir, p)
		}
		f, err := os.Open(p)
		if err != nil {
			return S3Location{}, err
		}
		defer f.Close()
		// MD5 names the object (the CLI's de-duplication key); it proves nothing.
		h := md5.New()
		if _, err := io.Copy(h, f); err != nil {
			return S3Location{}, err
		}
		return S3Location{Bucket: bucket, Key: hex.EncodeToString(h.Sum(nil))}, nil
	}
}

// PlaceholderKeys returns a locate function for Package that needs no files:
// each path becomes the MD5 of the path itself, in bucket. The shape is what
// matters to a linter, not the content.
func PlaceholderKeys(bucket string) func(string) (S3Location, error) {
	return func(p string) (S3Location, error) {
		sum := md5.Sum([]byte(p))
		return S3Location{Bucket: bucket, Key: hex.EncodeToString(sum[:])}, nil
	}
}

// mappingValue returns the value node of key in mapping node m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
