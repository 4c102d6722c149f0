package backend

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Keys of requestContext.authorizer that this package reads. They are the
// flat string context the rolegate authorizer writes; nothing else in the
// event is a source of identity.
const (
	keyRole        = "preferredRole"
	keySub         = "sub"
	keyUsername    = "username"
	keyPrincipalID = "principalId"
)

// Size caps for context values. API Gateway already bounds the context, but a
// different authorizer could put anything there; a cap keeps log lines, cache
// keys and STS requests small.
const (
	maxRoleARNLen = 2048 // IAM's own limit for a role ARN
	maxUserLen    = 256  // Cognito usernames and subs are at most 128
)

// Identity is who a request runs as, as the authorizer validated it.
type Identity struct {
	// Role is the IAM role ARN to assume (authorizer's preferredRole).
	Role string
	// Sub is the user's stable id; it becomes the session's SourceIdentity.
	Sub string
	// Username is the human-readable name; it becomes the RoleSessionName.
	Username string
	// PrincipalID is the authorizer's principalId (the sub for rolegate's
	// authorizer); it stands in for Sub when sub is absent.
	PrincipalID string
}

// User returns the name to show for the caller: the username, else the sub.
func (id Identity) User() string {
	if id.Username != "" {
		return id.Username
	}
	return id.userID()
}

// userID is the stable id that keys the credentials cache.
func (id Identity) userID() string {
	if id.Sub != "" {
		return id.Sub
	}
	return id.PrincipalID
}

// ParseIdentity reads the caller's identity from requestContext.authorizer,
// the only place API Gateway lets an authorizer speak. Values must be strings
// (a number or object where a string belongs is refused, not converted), of
// bounded size and valid UTF-8; the role must be a well-formed IAM role ARN.
// Any claims map in the context is ignored: it is what a Cognito authorizer
// would pass, unvalidated by rolegate's authorizer.
//
// The returned error wraps ErrNoRole, ErrNoUser, ErrBadContext or ErrBadRole.
// The identity is returned even on error, as far as it was read, for logging.
func ParseIdentity(authorizer map[string]any) (Identity, error) {
	id, err := readContext(authorizer)
	switch {
	case err != nil:
		return id, err
	case id.Role == "":
		return id, ErrNoRole
	case id.userID() == "":
		return id, ErrNoUser
	case !ValidRoleARN(id.Role):
		return id, ErrBadRole
	}
	return id, nil
}

// readContext reads the four identity strings without judging the role; the
// Assumer judges it (again, for identities built by hand) before any use.
func readContext(authorizer map[string]any) (Identity, error) {
	var id Identity
	var err error
	if id.Role, err = contextString(authorizer, keyRole, maxRoleARNLen); err != nil {
		return id, err
	}
	if id.Sub, err = contextString(authorizer, keySub, maxUserLen); err != nil {
		return id, err
	}
	if id.Username, err = contextString(authorizer, keyUsername, maxUserLen); err != nil {
		return id, err
	}
	id.PrincipalID, err = contextString(authorizer, keyPrincipalID, maxUserLen)
	return id, err
}

// contextString returns authorizer[key] if it is an acceptable string; a
// missing key is the empty string.
func contextString(authorizer map[string]any, key string, maxLen int) (string, error) {
	v, ok := authorizer[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	switch {
	case !ok:
		return "", fmt.Errorf("%w: %s is a %T, not a string", ErrBadContext, key, v)
	case len(s) > maxLen:
		return "", fmt.Errorf("%w: %s is %d bytes, limit %d", ErrBadContext, key, len(s), maxLen)
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		// control characters have no business in an id and would only help
		// someone forge structure downstream
		if c := s[i]; c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%w: %s has a control character", ErrBadContext, key)
		} else if c >= 0x80 {
			ascii = false
		}
	}
	if !ascii && !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: %s is not UTF-8", ErrBadContext, key)
	}
	return s, nil
}

// ValidRoleARN reports whether s is a well-formed IAM role ARN:
// arn:<partition>:iam::<12 digits>:role/<path/><name>, where the partition is
// aws or aws-<suffix>, every path segment and the name use only [\w+=,.@-],
// the name has 1 to 64 characters, the path at most 512, the whole ARN at
// most 2048.
func ValidRoleARN(s string) bool {
	_, ok := splitRoleARN(s)
	return ok
}

// roleARN is a well-formed role ARN split into the fields allowlist
// patterns match, field by field.
type roleARN struct {
	partition, account, resource string // resource is "role/<path/><name>"
}

// splitRoleARN validates s as ValidRoleARN describes and splits it.
func splitRoleARN(s string) (roleARN, bool) {
	var r roleARN
	if len(s) > maxRoleARNLen {
		return r, false
	}
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return r, false
	}
	if r.partition, rest, ok = strings.Cut(rest, ":"); !ok || !validPartition(r.partition) {
		return r, false
	}
	if rest, ok = strings.CutPrefix(rest, "iam::"); !ok {
		return r, false
	}
	if r.account, r.resource, ok = strings.Cut(rest, ":"); !ok || !validAccount(r.account) {
		return r, false
	}
	name, ok := strings.CutPrefix(r.resource, "role/")
	if !ok {
		return r, false
	}
	// name is path segments and the name, separated by '/'.
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '/' {
			if !isNameByte(name[i]) {
				return r, false
			}
			continue
		}
		if i == start { // empty segment: "//", leading or trailing '/'
			return r, false
		}
		if i == len(name) && (i-start > 64 || start+1 > 512) { // the path is "/" + name[:start]
			return r, false
		}
		start = i + 1
	}
	return r, true
}

// validPartition accepts "aws" and "aws-" followed by lowercase letters,
// digits and dashes ("aws-cn", "aws-us-gov", "aws-iso-b").
func validPartition(p string) bool {
	if len(p) > 32 {
		return false
	}
	rest, ok := strings.CutPrefix(p, "aws")
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	if rest[0] != '-' || rest[len(rest)-1] == '-' {
		return false
	}
	for i := 1; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validAccount(a string) bool {
	if len(a) != 12 {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] < '0' || a[i] > '9' {
			return false
		}
	}
	return true
}

// isNameByte reports whether c may appear in an IAM name or a
// RoleSessionName: [\w+=,.@-].
func isNameByte(c byte) bool {
	return nameByteTable[c]
}

// nameByteTable is isNameByte as a table, written once at init and only
// read after. The comparisons it is built from mispredict on every switch
// between digit and letter of a UUID sub, and they run for most bytes of
// every request: the table is some 2.5 times faster.
var nameByteTable = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-'
	}
	return t
}()
