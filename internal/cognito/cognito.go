// Package cognito is rolegate's one home for the Amazon Cognito user pool
// conventions a relying party needs: the pool id and its region, the pool's two
// issuer forms (with the partition's DNS suffix) and the JWKS URL derived from an issuer.
// What the pool itself does (group precedence, token claims, subs) is in
// package userpool, for tests and local runs.
package cognito

import (
	"regexp"
	"strings"

	"github.com/rolegate/rolegate/internal/arn"
)

var poolIDPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+_[0-9A-Za-z]+$`)

// ValidPoolID reports whether id has a user pool id's shape, <region>_<id>,
// with a valid region.
func ValidPoolID(id string) bool {
	return len(id) <= 55 && poolIDPattern.MatchString(id) && arn.ValidRegion(Region(id))
}

// Region is the AWS region of a user pool: the part of its id before "_".
func Region(poolID string) string {
	region, _, _ := strings.Cut(poolID, "_")
	return region
}

// Issuer is the original iss of the pool's tokens:
// https://cognito-idp.<region>.<dns suffix>/<pool id>, where the DNS suffix is
// the region's partition's (amazonaws.com, amazonaws.com.cn in China).
func Issuer(poolID string) string { return issuer("cognito-idp.", poolID) }

// UpdatedIssuer is the "updated" iss, the one AWS recommends for multi-Region
// replication: https://issuer-cognito-idp.<region>.<dns suffix>/<pool id>,
// where region is still the pool's own (its primary Region), whichever Region
// issued the token. AWS's China documentation writes it, like the original
// form, with amazonaws.com; as for the original, the partition's suffix is used.
func UpdatedIssuer(poolID string) string { return issuer("issuer-cognito-idp.", poolID) }

func issuer(host, poolID string) string {
	region := Region(poolID)
	return "https://" + host + region + "." + arn.DNSSuffix(region) + "/" + poolID
}

// JWKSURL is where an issuer publishes its signing keys.
func JWKSURL(issuer string) string { return strings.TrimSuffix(issuer, "/") + "/.well-known/jwks.json" }

// PoolIDPlaceholder in a JWKS URL template stands for each pool's id.
const PoolIDPlaceholder = "{userPoolId}"
