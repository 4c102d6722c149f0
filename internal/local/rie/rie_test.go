package rie_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/rolegate/rolegate/internal/local/rie/rietest"

	"github.com/rolegate/rolegate/internal/local/rie"
)

func TestEmulatorRunsBootstrap(t *testing.T) {
	bin := rietest.Build(t, "./internal/local/rie/testdata/echo")
	f := rietest.Start(t, rie.Options{Bootstrap: bin, FunctionName: "echo", Env: []string{"ECHO_ENV=passed"}})
	ctx := context.Background()

	t.Run("event comes back with context and environment", func(t *testing.T) {
		body, err := f.Invoke(ctx, []byte(`{"echo":"hi"}`))
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Echo, FunctionARN, Env string }
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if r.Echo != "hi" || r.Env != "passed" || r.FunctionARN != "arn:aws:lambda:us-east-1:012345678912:function:echo" {
			t.Fatalf("got %+v", r)
		}
		if _, isErr := rie.ParseError(body); isErr {
			t.Fatalf("success parsed as an error: %s", body)
		}
	})

	t.Run("function error is reported as Lambda reports it", func(t *testing.T) {
		body, err := f.Invoke(ctx, []byte(`{"fail":"Unauthorized"}`))
		if err != nil {
			t.Fatal(err)
		}
		msg, isErr := rie.ParseError(body)
		if !isErr || msg != "Unauthorized" {
			t.Fatalf("ParseError(%s) = %q, %v", body, msg, isErr)
		}
	})

	t.Run("concurrent invocations queue instead of failing", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				want := fmt.Sprint(i)
				body, err := f.Invoke(ctx, []byte(`{"echo":"`+want+`"}`))
				if err != nil {
					errs <- err
					return
				}
				var r struct{ Echo string }
				if json.Unmarshal(body, &r); r.Echo != want {
					errs <- fmt.Errorf("invocation %d got %s", i, body)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestStartWithoutBootstrapFails(t *testing.T) {
	if _, err := rie.Start(context.Background(), rie.Options{}); err == nil {
		t.Fatal("Start without a bootstrap succeeded")
	}
}
