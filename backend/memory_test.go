package backend_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rolegate/rolegate/backend"
)

// TestSessionMemoryIsBounded fills the credentials cache with four times as many
// users as it may hold, each with the largest identity the backend accepts
// (a 64-character sub, a 256-byte username, a role ARN with a 500-character
// path), and checks the heap it keeps against the bound DefaultMaxSessions
// documents: 5 KiB a session.
func TestSessionMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const sessions, perSession = 2000, 5 << 10
	role := "arn:aws:iam::123456789012:role/" + strings.Repeat("p", 500) + "/rolegate-readers"
	h, err := backend.New(backend.Config{MaxSessions: sessions}, aws.Config{}, forgetfulSTS{})
	if err != nil {
		t.Fatal(err)
	}
	heap := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	for i := range 4 * sessions {
		sub := fmt.Sprintf("%064d", i)
		req := whoamiEvent(role, sub, strings.Repeat("u", 250)+fmt.Sprintf("%06d", i))
		if _, _, err := h.ConfigFor(lambdaCtx(), req); err != nil {
			t.Fatal(err)
		}
	}
	with := heap()
	runtime.KeepAlive(h) // until here; then the cache goes with the handler
	kept := with - heap()
	t.Logf("%d sessions of the largest identities keep %.1f KiB each", sessions, float64(kept)/sessions/1024)
	if kept > sessions*perSession {
		t.Errorf("the cache keeps %d bytes for %d sessions, over %d a session", kept, sessions, perSession)
	}
}

// forgetfulSTS answers AssumeRole with credentials of real sizes (STS session
// tokens run to about a kilobyte) and keeps no record, which would weigh on
// the heap.
type forgetfulSTS struct{}

func (forgetfulSTS) AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return &sts.AssumeRoleOutput{Credentials: &types.Credentials{
		AccessKeyId:     aws.String(strings.Clone("ASIASTUBSTUBSTUBSTUB")),
		SecretAccessKey: aws.String(strings.Repeat("s", 40)),
		SessionToken:    aws.String(strings.Repeat("t", 1100)),
		Expiration:      aws.Time(time.Now().Add(time.Hour)),
	}}, nil
}
