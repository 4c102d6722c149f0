// Package arn is rolegate's one home for the Amazon Resource Name grammar:
// partitions and their DNS suffixes, regions, account ids, IAM role ARNs and
// API Gateway execute-api method ARNs.
//
// Parsing is strict and fails closed: anything it does not fully understand
// is an error, so a malformed ARN never widens into a policy or a role.
package arn

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLen is the longest ARN accepted: IAM's limit for a role ARN, and more
// than any execute-api method ARN API Gateway sends.
const MaxLen = 2048

// ErrMalformed is wrapped by every parse error of this package.
var ErrMalformed = errors.New("arn: malformed")

// ARN is a parsed arn:<partition>:<service>:<region>:<account>:<resource>.
type ARN struct {
	Partition string
	Service   string
	Region    string // empty for global services such as IAM
	AccountID string
	Resource  string
}

// String is the ARN in its text form.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// Parse splits s into its fields. The partition must be valid, the service
// lower-case, the region empty or valid, the account empty or 12 digits; the
// resource may contain ':' and '/'.
func Parse(s string) (ARN, error) {
	if len(s) > MaxLen {
		return ARN{}, malformed("too long")
	}
	var a ARN
	var ok bool // false when any colon is missing: the Cuts after it see ""
	scheme, rest, _ := strings.Cut(s, ":")
	a.Partition, rest, _ = strings.Cut(rest, ":")
	a.Service, rest, _ = strings.Cut(rest, ":")
	a.Region, rest, _ = strings.Cut(rest, ":")
	a.AccountID, a.Resource, ok = strings.Cut(rest, ":")
	switch {
	case scheme != "arn" || !ok:
		return a, malformed("want arn:<partition>:<service>:<region>:<account>:<resource>")
	case !ValidPartition(a.Partition):
		return a, malformed("partition")
	case a.Service == "" || !all(a.Service, func(c byte) bool { return isLower(c) || isDigit(c) || c == '-' }):
		return a, malformed("service")
	case a.Region != "" && !ValidRegion(a.Region):
		return a, malformed("region")
	case a.AccountID != "" && !ValidAccount(a.AccountID):
		return a, malformed("account")
	}
	return a, nil
}

func malformed(what string) error { return fmt.Errorf("%w (%s)", ErrMalformed, what) }

// ValidPartition reports whether s is "aws" or "aws-" and lower-case words of
// letters and digits joined by single hyphens: aws-cn, aws-us-gov, aws-iso-b.
func ValidPartition(s string) bool {
	if s == "aws" {
		return true
	}
	rest, ok := strings.CutPrefix(s, "aws-")
	return ok && len(s) <= 32 && words(rest, isLowerOrDigit) > 0
}

// ValidRegion reports whether s has a region's shape: two or more lower-case
// words and a number, as us-east-1, us-gov-west-1, cn-north-1, eu-isoe-west-1.
func ValidRegion(s string) bool {
	i := strings.LastIndexByte(s, '-')
	return len(s) <= 32 && i > 0 && i < len(s)-1 && all(s[i+1:], isDigit) && words(s[:i], isLower) >= 2
}

// ValidAccount reports whether s is an AWS account id: exactly 12 digits.
func ValidAccount(s string) bool { return len(s) == 12 && all(s, isDigit) }

// partitions are the partitions other than aws, by their regions' first
// words. A region not listed is in the aws partition.
var partitions = []partition{
	{"cn-", "aws-cn", "amazonaws.com.cn"},
	{"us-gov-", "aws-us-gov", "amazonaws.com"},
	{"us-iso-", "aws-iso", "c2s.ic.gov"},
	{"us-isob-", "aws-iso-b", "sc2s.sgov.gov"},
	{"eu-isoe-", "aws-iso-e", "cloud.adc-e.uk"},
	{"us-isof-", "aws-iso-f", "csp.hci.ic.gov"},
	{"eusc-", "aws-eusc", "amazonaws.eu"},
}

type partition struct{ regionPrefix, name, dnsSuffix string }

// PartitionOf returns the partition of region: aws-cn for cn-north-1, aws for us-east-1.
func PartitionOf(region string) string { return partitionOf(region).name }

// DNSSuffix returns the DNS suffix of region's partition, the one CloudFormation
// calls AWS::URLSuffix: amazonaws.com.cn for cn-north-1, amazonaws.com for us-east-1.
func DNSSuffix(region string) string { return partitionOf(region).dnsSuffix }

func partitionOf(region string) partition {
	for _, p := range partitions {
		if strings.HasPrefix(region, p.regionPrefix) {
			return p
		}
	}
	return partition{name: "aws", dnsSuffix: "amazonaws.com"}
}

// words counts the hyphen-separated words of s whose bytes all satisfy ok; 0
// if any word is empty or has another byte.
func words(s string, ok func(byte) bool) int {
	n := 0
	for w := range strings.SplitSeq(s, "-") {
		if w == "" || !all(w, ok) {
			return 0
		}
		n++
	}
	return n
}

func all(s string, ok func(byte) bool) bool {
	for i := range len(s) {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isLower(c byte) bool        { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool        { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool        { return '0' <= c && c <= '9' }
func isLowerOrDigit(c byte) bool { return isLower(c) || isDigit(c) }
