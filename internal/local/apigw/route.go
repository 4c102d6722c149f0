package apigw

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Route is one method of the REST API.
type Route struct {
	// Method is the HTTP method, or ANY.
	Method string
	// Path is the resource path, e.g. /whoami, /items/{id} or /{proxy+}.
	Path string
	// Authorized means the method uses the TOKEN authorizer (CUSTOM);
	// otherwise it is open (NONE).
	Authorized bool
	// APIKeyRequired is the method's ApiKeyRequired: a request needs one
	// of the stage's APIKeys.
	APIKeyRequired bool
	// Timeout is the integration's TimeoutInMillis; zero means the
	// gateway's IntegrationTimeout.
	Timeout time.Duration
}

// String is the route as API Gateway writes it, e.g. "GET /whoami".
func (r Route) String() string { return r.Method + " " + r.Path }

func (r Route) validate() error {
	if r.Method == "" || !strings.HasPrefix(r.Path, "/") {
		return fmt.Errorf("route %q: need a method and a path starting with /", r)
	}
	segs := splitPath(r.Path)
	for i, s := range segs {
		if strings.HasSuffix(s, "+}") && i != len(segs)-1 {
			return fmt.Errorf("route %q: a greedy {name+} must be the last segment", r)
		}
	}
	return nil
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// router finds the route for a request the way API Gateway ranks resources:
// literal segments before {param}, {param} before {greedy+}.
type router struct {
	routes []Route
}

func newRouter(routes []Route) *router {
	rs := append([]Route(nil), routes...)
	sort.SliceStable(rs, func(i, j int) bool { return specificity(rs[i]) > specificity(rs[j]) })
	return &router{routes: rs}
}

// specificity ranks literal segments highest; ANY ranks below a named method.
func specificity(r Route) int {
	score := 0
	for _, s := range splitPath(r.Path) {
		switch {
		case strings.HasSuffix(s, "+}"):
			score += 1
		case strings.HasPrefix(s, "{"):
			score += 100
		default:
			score += 10000
		}
	}
	score *= 2
	if r.Method != "ANY" {
		score++
	}
	return score
}

// match returns the route for method and path with its path parameters.
func (rt *router) match(method, path string) (r Route, params map[string]string, ok bool) {
	segs := splitPath(path)
	for _, r := range rt.routes {
		if r.Method != "ANY" && r.Method != method {
			continue
		}
		if p, ok := matchPath(splitPath(r.Path), segs); ok {
			return r, p, true
		}
	}
	return Route{}, nil, false
}

func matchPath(pattern, segs []string) (map[string]string, bool) {
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			if i >= len(segs) {
				return nil, false
			}
			set(strings.TrimSuffix(strings.TrimPrefix(p, "{"), "+}"), strings.Join(segs[i:], "/"))
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, false
			}
			set(strings.Trim(p, "{}"), segs[i])
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, len(pattern) == len(segs)
}
