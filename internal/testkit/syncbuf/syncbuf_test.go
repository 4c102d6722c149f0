package syncbuf_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/testkit/syncbuf"
)

func TestWaitForSeesALateWrite(t *testing.T) {
	var b syncbuf.Buffer
	b.Write([]byte("first\n"))
	go func() {
		for _, l := range []string{"second\n", "third\n"} {
			b.Write([]byte(l))
		}
	}()
	out, ok := b.WaitFor(time.Minute, func(s string) bool { return strings.Contains(s, "third") })
	if !ok || out != "first\nsecond\nthird\n" {
		t.Fatalf("WaitFor = %q, %v", out, ok)
	}
}

func TestWaitForGivesUpAfterItsTimeout(t *testing.T) {
	var b syncbuf.Buffer
	b.Write([]byte("only\n"))
	out, ok := b.WaitFor(time.Millisecond, func(s string) bool { return strings.Contains(s, "never") })
	if ok || out != "only\n" {
		t.Fatalf("WaitFor = %q, %v; want the contents and false", out, ok)
	}
}
