package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
)

// compactLog turns the stack's log lines, "<name> | <line>" from the
// functions and bare JSON from the gateway, into one short line per request
// and function for a person at the terminal:
//
//	gateway     GET /prod/whoami → 200 ok (authorizer invoked) 31 ms
//	authorizer  allow  1.23 ms
//	backend     200 ok as rolegate-local-us-east-1-admins, 1 AssumeRole  25.3 ms
//
// A function's line waits for the emulator's REPORT of the same function, to
// take its Duration (RIE's measure; its "Max Memory Used" is a placeholder
// and is dropped, as are START and END). Any other line passes as it is.
// Every line also goes, unchanged, to raw (build/local/functions.log).
type compactLog struct {
	mu      sync.Mutex
	out     io.Writer
	raw     io.Writer
	pending map[string]string // a function's line waiting for its REPORT
}

func newCompactLog(out, raw io.Writer) *compactLog {
	return &compactLog{out: out, raw: raw, pending: map[string]string{}}
}

var reportDuration = regexp.MustCompile(`\tDuration: ([0-9.]+ ms)`)

// Write takes whole lines, as the stack's writers hand them over.
func (c *compactLog) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.raw.Write(p); err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(p)) {
		c.line(strings.TrimRight(line, "\n"))
	}
	return len(p), nil
}

func (c *compactLog) line(line string) {
	name, rest, ok := strings.Cut(line, " | ")
	if !ok || strings.HasPrefix(line, "{") {
		name, rest = "gateway", line // the gateway's own lines carry no name
	}
	switch {
	case strings.HasPrefix(rest, "START RequestId:"), strings.HasPrefix(rest, "END RequestId:"):
		return
	case strings.HasPrefix(rest, "REPORT RequestId:"):
		if pending, ok := c.pending[name]; ok {
			delete(c.pending, name)
			d := ""
			if m := reportDuration.FindStringSubmatch(rest); m != nil {
				d = "  " + m[1]
			}
			fmt.Fprintf(c.out, "%s%s\n", pending, d)
		}
		return
	}
	c.flush(name)
	var rec map[string]any
	if json.Unmarshal([]byte(rest), &rec) != nil {
		fmt.Fprintln(c.out, line)
		return
	}
	s := compactRecord(rec)
	if s == "" {
		fmt.Fprintln(c.out, line)
		return
	}
	s = fmt.Sprintf("%-11s %s", name, s)
	// An invocation's own line waits for the REPORT that ends it; others print now.
	if name == "gateway" || (rec["msg"] != "authorizer decision" && rec["msg"] != "request") {
		fmt.Fprintln(c.out, s)
		return
	}
	c.pending[name] = s
}

// flush prints name's waiting line without a duration.
func (c *compactLog) flush(name string) {
	if pending, ok := c.pending[name]; ok {
		delete(c.pending, name)
		fmt.Fprintln(c.out, pending)
	}
}

// Close prints what still waits.
func (c *compactLog) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.pending {
		c.flush(name)
	}
	return nil
}

// compactRecord is the short form of a gateway, authorizer or backend line,
// or "" for a line of another kind.
func compactRecord(r map[string]any) string {
	str := func(k string) string { s, _ := r[k].(string); return s }
	num := func(k string) string {
		if n, ok := r[k].(float64); ok {
			return fmt.Sprint(n)
		}
		return ""
	}
	var b bytes.Buffer
	switch {
	case r["component"] == "gateway" && r["msg"] == "request":
		route := cmp.Or(str("route"), str("method")+" (no route)")
		fmt.Fprintf(&b, "%s → %s %s (authorizer %s) %s ms", route, num("status"), str("outcome"), str("authorizer"), num("durationMs"))
	case r["msg"] == "authorizer decision":
		fmt.Fprintf(&b, "%s %s", strings.ToLower(str("Outcome")), notOK(str("Reason")))
		if r["CacheHit"] == 1.0 {
			b.WriteString(", cached")
		}
		if e := str("error"); e != "" {
			fmt.Fprintf(&b, ": %s", e)
		}
	case r["msg"] == "request" || r["msg"] == "refresh":
		if r["msg"] == "refresh" {
			b.WriteString("refresh ")
		}
		fmt.Fprintf(&b, "%s %s %s", num("status"), str("Outcome"), notOK(str("Reason")))
		if role := str("role"); role != "" {
			fmt.Fprintf(&b, " as %s", role[strings.LastIndexByte(role, '/')+1:])
		}
		if n := num("AssumeRoleCalls"); n != "" && n != "0" {
			fmt.Fprintf(&b, ", %s AssumeRole", n)
		}
		if e := str("error"); e != "" {
			fmt.Fprintf(&b, ": %s", e)
		}
	case str("msg") != "":
		// Any other line of a function's logger: its message, and its level when not INFO.
		if l := str("level"); l != "INFO" {
			b.WriteString(l + " ")
		}
		b.WriteString(str("msg"))
		if e := str("error"); e != "" {
			fmt.Fprintf(&b, ": %s", e)
		}
	default:
		return ""
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// notOK is reason, or "" for ok, which the outcome already says.
func notOK(reason string) string {
	if reason == "ok" {
		return ""
	}
	return reason
}
