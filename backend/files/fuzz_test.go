package files_test

import (
	"net/http"
	"path"
	"strings"
	"testing"
)

// FuzzFileName sends hostile {name}s through the routes: each is a 400 with
// no AWS call, or lands at users/<sub>/<name>, one segment below the
// caller's prefix that no path resolution can leave.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{"a.txt", "..", ".", "a/b", "a%2Fb", "../x", "a\x00", strings.Repeat("a", 256), "é"} {
		f.Add(s)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, name string) {
		before, stsBefore := len(fx.s3.log()), fx.sts.Calls("")
		ev := event(http.MethodPut, "x", aliceSub)
		ev.PathParameters["name"], ev.Body = name, "content"
		resp := fx.do(t, ev)
		calls := fx.s3.log()[before:]
		if resp.StatusCode == http.StatusBadRequest {
			if len(calls) != 0 || fx.sts.Calls("") != stsBefore {
				t.Fatalf("%q refused after AWS calls", name)
			}
			return
		}
		want := "users/" + aliceSub + "/" + name
		if resp.StatusCode != http.StatusOK || len(calls) != 1 || calls[0].Key != want ||
			path.Dir(path.Clean("/"+want)) != "/users/"+aliceSub || strings.ContainsAny(name, "/\\%") {
			t.Fatalf("%q: %d %s, S3 calls %+v", name, resp.StatusCode, resp.Body, calls)
		}
	})
}
