package ststest_test

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rolegate/rolegate/backend/ststest"
)

const role = "arn:aws:iam::123456789012:role/team/reader"

func TestServerSpeaksSTS(t *testing.T) {
	s := ststest.NewServer()
	defer s.Close()
	ctx := context.Background()
	exec := sts.NewFromConfig(s.Config())

	out, err := exec.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("alice"),
		SourceIdentity: aws.String("sub-1"), DurationSeconds: aws.Int32(900),
		Tags: []types.Tag{{Key: aws.String("sub"), Value: aws.String("sub-1")}, {Key: aws.String("username"), Value: aws.String("Zoë Ōtsuka")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != ststest.ARN(role, "alice") || got != "arn:aws:sts::123456789012:assumed-role/reader/alice" {
		t.Errorf("assumed-role ARN = %q", got)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 14*time.Minute || d > 15*time.Minute {
		t.Errorf("credentials live %v, want 15m", d)
	}

	c := out.Credentials
	assumed := s.Config()
	assumed.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	id, err := sts.NewFromConfig(assumed).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != ststest.ARN(role, "alice") || aws.ToString(id.Account) != ststest.Account {
		t.Errorf("GetCallerIdentity = %s %s", aws.ToString(id.Arn), aws.ToString(id.Account))
	}
	self, err := exec.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(self.Arn) != ststest.ExecRoleARN {
		t.Errorf("execution GetCallerIdentity = %v %v", aws.ToString(self.Arn), err)
	}

	log := s.Log()
	if len(log) != 3 || log[0].AccessKeyID != ststest.ExecAccessKeyID || log[1].AccessKeyID != aws.ToString(c.AccessKeyId) {
		t.Fatalf("log = %+v", log)
	}
	if got, want := log[0].Tags, map[string]string{"sub": "sub-1", "username": "Zoë Ōtsuka"}; !maps.Equal(got, want) || log[0].SourceIdentity != "sub-1" {
		t.Errorf("recorded tags %v and SourceIdentity %q, want %v and sub-1", got, log[0].SourceIdentity, want)
	}
	for _, call := range log {
		if !call.Verified {
			t.Errorf("call not verified: %+v", call)
		}
	}
}

func TestServerRefuses(t *testing.T) {
	s := ststest.NewServer()
	defer s.Close()
	ctx := context.Background()
	exec := sts.NewFromConfig(s.Config())
	out, err := exec.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials

	tests := []struct {
		name     string
		creds    aws.CredentialsProvider
		call     func(*sts.Client) error
		wantCode string
	}{
		{"a request signed with the wrong secret", credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), "wrong", aws.ToString(c.SessionToken)),
			gci, "InvalidClientTokenId"},
		{"a request with another session's token", credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "forged"),
			gci, "InvalidClientTokenId"},
		{"an unknown access key", credentials.NewStaticCredentialsProvider("AKIAUNKNOWN", "x", ""),
			gci, "InvalidClientTokenId"},
		{"a session name STS would refuse", nil, func(c *sts.Client) error {
			_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("a b")})
			return err
		}, "ValidationError"},
		{"a duration over 12 hours", nil, func(c *sts.Client) error {
			_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("ab"), DurationSeconds: aws.Int32(50000)})
			return err
		}, "ValidationError"},
		{"a tag value with a comma", nil, func(c *sts.Client) error {
			_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("ab"),
				Tags: []types.Tag{{Key: aws.String("username"), Value: aws.String("smith,alice")}}})
			return err
		}, "ValidationError"},
		{"a tag key twice, in another case", nil, func(c *sts.Client) error {
			_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("ab"),
				Tags: []types.Tag{{Key: aws.String("sub"), Value: aws.String("a")}, {Key: aws.String("Sub"), Value: aws.String("b")}}})
			return err
		}, "ValidationError"},
		{"a user ARN as role", nil, func(c *sts.Client) error {
			_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:user/x"), RoleSessionName: aws.String("ab")})
			return err
		}, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := s.Config()
			if tt.creds != nil {
				cfg.Credentials = tt.creds
			}
			err := tt.call(sts.NewFromConfig(cfg))
			var api interface{ ErrorCode() string }
			if !errors.As(err, &api) || api.ErrorCode() != tt.wantCode {
				t.Fatalf("error = %v, want %s", err, tt.wantCode)
			}
		})
	}
}

func gci(c *sts.Client) error {
	_, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	return err
}

func TestServerFailsAsTold(t *testing.T) {
	s := ststest.NewServer()
	defer s.Close()
	exec := sts.NewFromConfig(s.Config())
	s.Fail(ststest.GetCallerIdentity, ststest.Throttling, 2)
	if err := gci(exec); err != nil {
		t.Fatalf("two throttles within three attempts: %v", err)
	}
	if n := s.Calls(ststest.GetCallerIdentity); n != 3 {
		t.Errorf("calls = %d, want 3", n)
	}
	s.Fail(ststest.GetCallerIdentity, ststest.AccessDenied, -1)
	for range 2 {
		var api interface{ ErrorCode() string }
		if err := gci(exec); !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
			t.Fatalf("error = %v, want AccessDenied", err)
		}
	}
	s.Fail(ststest.GetCallerIdentity, ststest.OK, 0)
	if err := gci(exec); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}

func TestServerRefusesExpiredCredentials(t *testing.T) {
	s := ststest.NewServer()
	defer s.Close()
	now := time.Now()
	s.SetNow(func() time.Time { return now })
	out, err := sts.NewFromConfig(s.Config()).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour) // the default asked-for duration is 1h
	c := out.Credentials
	cfg := s.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	var api interface{ ErrorCode() string }
	if err := gci(sts.NewFromConfig(cfg)); !errors.As(err, &api) || api.ErrorCode() != "ExpiredToken" {
		t.Fatalf("error = %v, want ExpiredToken", err)
	}
}
