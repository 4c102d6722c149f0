package arn

import "strings"

// Role is an IAM role ARN: arn:<partition>:iam::<account>:role<path><name>.
type Role struct {
	Partition string
	AccountID string
	Path      string // "/" or "/segment/…/", as IAM writes it
	Name      string
}

// String is the role's ARN.
func (r Role) String() string {
	return "arn:" + r.Partition + ":iam::" + r.AccountID + ":role" + r.Path + r.Name
}

// ParseRole parses a strict IAM role ARN: a valid partition, service iam, no
// region, a 12-digit account, and role/<path/><name> where the name has 1 to
// 64 characters and the path at most 512, every segment non-empty and made
// only of IAM name characters (see NameChar).
func ParseRole(s string) (Role, error) {
	a, err := Parse(s)
	if err != nil {
		return Role{}, err
	}
	rest, ok := strings.CutPrefix(a.Resource, "role/")
	if a.Service != "iam" || a.Region != "" || a.AccountID == "" || !ok {
		return Role{}, malformed("not an IAM role")
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if seg == "" || !all(seg, NameChar) {
			return Role{}, malformed("role path or name")
		}
	}
	i := strings.LastIndexByte(a.Resource, '/')
	path, name := a.Resource[len("role"):i+1], a.Resource[i+1:] // path "/" or "/a/b/"
	if len(name) > 64 || len(path) > 512 {
		return Role{}, malformed("role path or name too long")
	}
	return Role{Partition: a.Partition, AccountID: a.AccountID, Path: path, Name: name}, nil
}

// NameClass is the IAM name characters (a role name, a session name, a source
// identity) as the body of a regexp class, [\w+=,.@-]: the grammar's one
// spelling for patterns (more characters go before it: its '-' ends it);
// NameChar is the same set, tested to be.
const NameClass = `\w+=,.@-`

// NameChar reports whether c may appear in an IAM name: a byte of NameClass.
func NameChar(c byte) bool {
	return isLower(c) || isUpper(c) || isDigit(c) || strings.IndexByte("_+=,.@-", c) >= 0
}
