package backend

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rolegate/rolegate/internal/arn"
	"github.com/rolegate/rolegate/internal/emf"
)

// RoleHeader is the one request header that may choose the caller's role,
// by ARN or by name, among the roles the authorizer validated.
const RoleHeader = "X-Rolegate-Role"

// Size caps for context values. API Gateway already bounds the context, but a
// different authorizer could put anything there; a cap keeps log lines, cache
// keys and STS requests small.
const (
	maxUserLen  = 256       // Cognito usernames and subs are at most 128
	maxRolesLen = 16 * 1024 // some 100 roles
)

// Identity is who a request runs as, as the authorizer validated it, and the
// role it runs with.
type Identity struct {
	// Sub is the user's stable id (principalId when sub is absent): it keys
	// the credentials cache and becomes the SourceIdentity and the sub tag.
	Sub string
	// Username names the session and is its username tag if STS accepts it.
	Username string
	// Groups are the caller's user pool groups; Email their address, only
	// when the authorizer found it verified ("" otherwise).
	Groups []string
	Email  string
	// Roles are the role ARNs the authorizer validated for the caller;
	// PreferredRole the one Cognito prefers ("" when group precedences tie).
	Roles         []string
	PreferredRole string
	// Role is the role the request runs with: RoleHeader's choice, else
	// PreferredRole.
	Role string
}

// User returns the name to show for the caller: the username, else the sub.
func (id Identity) User() string { return cmp.Or(id.Username, id.Sub) }

// readIdentity reads the caller from requestContext.authorizer, the only place
// API Gateway lets an authorizer speak (see contextString for the value
// rules), and chooses the role. A claims map is ignored: it is what a Cognito
// authorizer would pass, unvalidated by rolegate's authorizer. The identity
// is returned, as far as it was read, even on error, for the log.
func readIdentity(req *Request) (Identity, arn.Role, error) {
	var err error
	read := func(key string, maxLen int) (v string) { // the first error stops the reading
		if err == nil {
			v, err = contextString(req.authorizer, key, maxLen)
		}
		return v
	}
	id := Identity{
		Sub:      cmp.Or(read("sub", maxUserLen), read("principalId", maxUserLen)),
		Username: read("username", maxUserLen),
		Email:    read("email", maxRolesLen),
	}
	groups, roles := read("groups", maxRolesLen), read("roles", maxRolesLen)
	if id.PreferredRole = read("preferredRole", arn.MaxLen); err != nil {
		return id, arn.Role{}, err
	}
	for g := range strings.SplitSeq(groups, ",") {
		if g != "" {
			id.Groups = append(id.Groups, g)
		}
	}
	// Role names cannot hold ':', so a split can never make a second valid ARN out of one.
	var parsed []arn.Role
	for r := range strings.SplitSeq(roles, ",") {
		if r == "" || slices.Contains(id.Roles, r) {
			continue
		}
		role, err := arn.ParseRole(r)
		if err != nil {
			return id, arn.Role{}, fmt.Errorf("%w: roles: %w", errBadRole, err)
		}
		id.Roles, parsed = append(id.Roles, r), append(parsed, role)
	}
	switch {
	case len(id.Roles) == 0 && id.PreferredRole == "":
		return id, arn.Role{}, errNoRole
	case id.Sub == "":
		return id, arn.Role{}, errNoUser
	case id.PreferredRole != "" && !slices.Contains(id.Roles, id.PreferredRole):
		return id, arn.Role{}, fmt.Errorf("%w: preferredRole is not one of roles", errBadContext)
	}
	i, err := chooseRole(req, id, parsed)
	if err != nil {
		return id, arn.Role{}, err
	}
	id.Role = id.Roles[i]
	return id, parsed[i], nil
}

// chooseRole returns the index of the role to run with among the caller's:
// the one RoleHeader names by ARN or by name, else the preferred one.
func chooseRole(req *Request, id Identity, roles []arn.Role) (int, error) {
	choice, sent, err := roleHeader(req)
	switch {
	case err != nil:
		return 0, err
	case !sent && id.PreferredRole == "":
		return 0, errChooseRole
	case !sent:
		return slices.Index(id.Roles, id.PreferredRole), nil
	}
	found := -1
	for i, r := range roles {
		if choice == id.Roles[i] || choice == r.Name {
			if found >= 0 {
				return 0, errAmbiguousRole
			}
			found = i
		}
	}
	if found < 0 {
		return 0, errNotYourRole
	}
	return found, nil
}

// roleHeader returns RoleHeader's one value. More than one value (which a
// name sent in two cases also gives) is refused: which of them a proxy on
// the way would keep is not a guess to make with a role.
func roleHeader(req *Request) (value string, sent bool, err error) {
	switch vs := req.Header.Values(RoleHeader); len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return vs[0], true, nil
	}
	return "", true, errManyHeaders
}

// contextString returns authorizer[key] if it is a string (a number where a
// string belongs is refused, not converted) of at most maxLen bytes, valid
// UTF-8 without an [emf.Hidden] character. A missing key or null is "".
func contextString(authorizer map[string]any, key string, maxLen int) (string, error) {
	v, ok := authorizer[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	switch {
	case !ok:
		return "", fmt.Errorf("%w: %s is a %T, not a string", errBadContext, key, v)
	case len(s) > maxLen:
		return "", fmt.Errorf("%w: %s is %d bytes, limit %d", errBadContext, key, len(s), maxLen)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%w: %s is not UTF-8", errBadContext, key)
	case strings.ContainsFunc(s, emf.Hidden):
		// would only help forge structure downstream, or reorder a log reader's line
		return "", fmt.Errorf("%w: %s has a control or format character", errBadContext, key)
	}
	return s, nil
}
