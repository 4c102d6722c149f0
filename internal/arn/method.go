package arn

import "strings"

// Method is an API Gateway method ARN, as a TOKEN authorizer's methodArn:
// arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<verb>/<resource…>.
type Method struct {
	Partition string
	Region    string
	AccountID string
	APIID     string
	Stage     string
	Verb      string // an HTTP method, or * for ANY
	Resource  string // the path after the verb, without its leading '/'; "" for the root
}

// StageARN is the ARN of the method's stage, arn:…:<apiId>/<stage>: a policy
// resource of StageARN()+"/*" covers every method of the stage.
func (m Method) StageARN() string {
	return "arn:" + m.Partition + ":execute-api:" + m.Region + ":" + m.AccountID + ":" + m.APIID + "/" + m.Stage
}

// String is the method's ARN.
func (m Method) String() string { return m.StageARN() + "/" + m.Verb + "/" + m.Resource }

// ParseMethod parses a method ARN strictly: every field present, the API id
// short lower-case alphanumerics, the stage letters, digits, '-' and '_' (a
// wildcard there would widen a policy), the verb upper-case or *, and the
// resource printable ASCII.
func ParseMethod(s string) (Method, error) {
	a, err := Parse(s)
	if err != nil {
		return Method{}, err
	}
	if a.Service != "execute-api" || a.Region == "" || a.AccountID == "" {
		return Method{}, malformed("not an execute-api ARN")
	}
	m := Method{Partition: a.Partition, Region: a.Region, AccountID: a.AccountID}
	var ok bool
	var rest string
	m.APIID, rest, _ = strings.Cut(a.Resource, "/")
	m.Stage, rest, _ = strings.Cut(rest, "/")
	m.Verb, m.Resource, ok = strings.Cut(rest, "/")
	switch {
	case !ok:
		return Method{}, malformed("want <apiId>/<stage>/<verb>/<resource>")
	case m.APIID == "" || len(m.APIID) > 64 || !all(m.APIID, isLowerOrDigit):
		return Method{}, malformed("API id")
	case m.Stage == "" || len(m.Stage) > 128 || !all(m.Stage, isStageChar):
		return Method{}, malformed("stage")
	case m.Verb != "*" && (m.Verb == "" || len(m.Verb) > 16 || !all(m.Verb, isUpper)):
		return Method{}, malformed("verb")
	case !all(m.Resource, func(c byte) bool { return c > ' ' && c < 0x7f }):
		return Method{}, malformed("resource")
	}
	return m, nil
}

func isStageChar(c byte) bool { return isLower(c) || isUpper(c) || isDigit(c) || c == '-' || c == '_' }
