package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCompactLog(t *testing.T) {
	in := []string{
		`{"time":"t","level":"INFO","msg":"request","component":"gateway","apiRequestId":"r1","method":"GET","route":"GET /whoami","status":200,"outcome":"ok","authorizer":"invoked","durationMs":31}`,
		`backend | {"time":"t","level":"INFO","msg":"backend starting","allowedRoleArns":["a"]}`,
		`authorizer | START RequestId: 1 Version: $LATEST`,
		`authorizer | {"time":"t","level":"INFO","msg":"authorizer decision","_aws":{},"Outcome":"allow","Reason":"ok","Decisions":1,"CacheHit":0,"awsRequestId":"1","sub":"s"}`,
		`authorizer | END RequestId: 1`,
		`authorizer | REPORT RequestId: 1	Init Duration: 0.10 ms	Duration: 1.23 ms	Billed Duration: 2 ms	Memory Size: 128 MB	Max Memory Used: 128 MB	`,
		`backend | {"time":"t","level":"INFO","msg":"request","awsRequestId":"2","role":"arn:aws:iam::123456789012:role/rolegate-local-us-east-1-admins","status":200,"Reason":"ok","Outcome":"ok","AssumeRoleCalls":1,"Requests":1}`,
		`backend | panic: something the function wrote`,
	}
	var out, raw bytes.Buffer
	c := newCompactLog(&out, &raw)
	for _, l := range in {
		c.Write([]byte(l + "\n"))
	}
	c.Close()
	want := []string{
		"gateway     GET /whoami → 200 ok (authorizer invoked) 31 ms",
		"backend     backend starting",
		"authorizer  allow  1.23 ms",
		"backend     200 ok as rolegate-local-us-east-1-admins, 1 AssumeRole",
		"backend | panic: something the function wrote",
	}
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("compact lines:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	if raw.String() != strings.Join(in, "\n")+"\n" {
		t.Errorf("the raw log is not every line unchanged:\n%s", raw.String())
	}
	if strings.Contains(out.String(), "Max Memory Used") || strings.Contains(out.String(), "START") {
		t.Error("the emulator's own lines reach the terminal")
	}
}
