#!/usr/bin/env bash
# smoke.sh STACK [GROUP]: the AWS article's verification, against a deployed
# rolegate stack. It creates a throw-away user in GROUP (default admins), sets
# a permanent password, signs in with `aws cognito-idp initiate-auth` to get an
# ID token, calls GET /whoami with it, and checks that the backend ran as the
# group's role, named <stack>-<region>-<group>. Then it checks that a missing
# or malformed token gets a JSON 401, and, with the IAM policy simulator and
# the session tag aws:PrincipalTag/sub the backend sets, that the role lets
# the user write their own prefix users/<sub>/ of the data bucket and not
# another user's. The user is deleted on exit (KEEP_USER=1 keeps it).
#
# The password and the token are handed to the CLI and curl in files of mode
# 0600, never as arguments.
#
# Needs: aws CLI with credentials allowed to administer the pool and to call
# iam:SimulatePrincipalPolicy, curl, and a stack deployed with
# PASSWORD_AUTH=true (USER_PASSWORD_AUTH on the client).
# AWS may name the CLI with options, e.g. AWS="aws --region eu-west-1".
set -euo pipefail

stack=${1:?usage: deploy/smoke.sh STACK [GROUP]}
group=${2:-admins}
read -r -a aws <<<"${AWS:-aws}"

say() { printf 'smoke: %s\n' "$*"; }
fail() {
	printf 'smoke: FAIL: %s\n' "$*" >&2
	exit 1
}

say "read the outputs of stack $stack"
outputs=$("${aws[@]}" cloudformation describe-stacks --stack-name "$stack" \
	--query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text) ||
	fail "cannot read stack $stack (deployed in this region? credentials?)"
output() { awk -v k="$1" '$1 == k { print $2 }' <<<"$outputs"; }
api=$(output ApiUrl)
pool=$(output UserPoolId)
client=$(output UserPoolClientId)
bucket=$(output DataBucketName)
for v in "$api" "$pool" "$client" "$bucket"; do
	[[ -n $v ]] || fail "stack $stack lacks the ApiUrl, UserPoolId, UserPoolClientId or DataBucketName output"
done
say "  api $api, pool $pool, client $client"

say "the role of group $group"
role_arn=$("${aws[@]}" cognito-idp get-group --user-pool-id "$pool" --group-name "$group" \
	--query Group.RoleArn --output text) || fail "group $group not found in $pool"
role_name=${role_arn##*/}
say "  $role_arn"
# Role names are account-wide and case-insensitive: the template puts the
# region in them. A pool id starts with its region.
region=${pool%%_*}
want_role="$stack-$region-$group"
[[ ${role_name,,} == "${want_role,,}" ]] ||
	fail "group $group's role is $role_name, want $want_role (the template names group roles <stack>-<region>-<group>)"

flows=$("${aws[@]}" cognito-idp describe-user-pool-client --user-pool-id "$pool" --client-id "$client" \
	--query 'UserPoolClient.ExplicitAuthFlows' --output text)
[[ $flows == *ALLOW_USER_PASSWORD_AUTH* ]] ||
	fail "the app client does not allow USER_PASSWORD_AUTH; redeploy with: make deploy STACK=$stack BUCKET=<bucket> PASSWORD_AUTH=true"

suffix=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
email="rolegate-smoke-$suffix@example.com"
# Meets the pool's policy (12+, upper, lower, digit, symbol), with nothing
# JSON would need escaped.
password="Smoke-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')-Aa1!"
# The password and the ID token never go on a command line, where other local
# users can read them (ps): they go to the CLI and curl in files of mode 0600,
# written by printf, a shell builtin.
secrets=$(umask 077 && mktemp -d)
# secret NAME FORMAT ARGS... writes printf FORMAT ARGS to $secrets/NAME.
secret() {
	local name=$1
	shift
	(umask 077 && printf "$@" >"$secrets/$name")
}

cleanup() {
	rm -rf "$secrets"
	if [[ ${KEEP_USER:-} == 1 ]]; then
		say "keeping user $email (KEEP_USER=1)"
	else
		if "${aws[@]}" cognito-idp admin-delete-user --user-pool-id "$pool" --username "$email" >/dev/null 2>&1; then
			say "deleted user $email"
		else
			say "could not delete user $email; delete it by hand"
		fi
	fi
}

say "admin-create-user $email (no invitation email)"
"${aws[@]}" cognito-idp admin-create-user --user-pool-id "$pool" --username "$email" \
	--user-attributes Name=email,Value="$email" Name=email_verified,Value=true \
	--message-action SUPPRESS >/dev/null
trap cleanup EXIT

say "admin-add-user-to-group $group"
"${aws[@]}" cognito-idp admin-add-user-to-group --user-pool-id "$pool" --username "$email" --group-name "$group"

say "admin-set-user-password --permanent"
secret set-password.json '{"UserPoolId":"%s","Username":"%s","Password":"%s","Permanent":true}' "$pool" "$email" "$password"
"${aws[@]}" cognito-idp admin-set-user-password --cli-input-json "file://$secrets/set-password.json"

say "initiate-auth USER_PASSWORD_AUTH: get the ID token"
secret auth.json '{"ClientId":"%s","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"%s","PASSWORD":"%s"}}' \
	"$client" "$email" "$password"
token=$("${aws[@]}" cognito-idp initiate-auth --cli-input-json "file://$secrets/auth.json" \
	--query AuthenticationResult.IdToken --output text)
[[ $token == *.*.* ]] || fail "initiate-auth returned no ID token"
sub=$("${aws[@]}" cognito-idp admin-get-user --user-pool-id "$pool" --username "$email" \
	--query "UserAttributes[?Name=='sub'].Value | [0]" --output text)
[[ -n $sub && $sub != None ]] || fail "cannot read the sub of $email"

# call GETs /whoami with Authorization: $1 (no header without $1), passed
# to curl in a file, and sets status and body.
call() {
	local out
	if [[ $# -gt 0 ]]; then
		secret header 'Authorization: %s\n' "$1"
		out=$(curl -sS -w '\n%{http_code}' -H "@$secrets/header" "$api/whoami")
	else
		out=$(curl -sS -w '\n%{http_code}' "$api/whoami")
	fi
	status=${out##*$'\n'}
	body=${out%$'\n'*}
}

say "GET $api/whoami with Authorization: Bearer <ID token>"
call "Bearer $token"
say "  $status $body"
[[ $status == 200 ]] || fail "/whoami answered $status, want 200"
[[ $body == *"assumed-role/$role_name/"* ]] || fail "/whoami ran as something other than $role_name: $body"
say "  ran as $role_name: the caller got the role of group $group"

say "GET /whoami with the bare ID token (no Bearer)"
call "$token"
[[ $status == 200 ]] || fail "bare token answered $status, want 200"

say "GET /whoami without a token: want a JSON 401"
call
[[ $status == 401 && $body == *'"message"'* ]] || fail "no token answered $status $body, want 401 JSON"

say "GET /whoami with a malformed token: want a JSON 401"
call "Bearer not-a-jwt"
[[ $status == 401 && $body == *'"message"'* ]] || fail "malformed token answered $status $body, want 401 JSON"

# Each user's own prefix: the backend tags the session with the caller's sub,
# and the group roles grant users/${aws:PrincipalTag/sub}/. The simulator
# evaluates the role's policies with that tag as a context key.
partition=$(cut -d: -f2 <<<"$role_arn")
# simulate KEY prints the simulator's decision for s3:PutObject on KEY in the
# data bucket, as a session of $role_name tagged with this user's sub.
simulate() {
	"${aws[@]}" iam simulate-principal-policy --policy-source-arn "$role_arn" \
		--action-names s3:PutObject --resource-arns "arn:$partition:s3:::$bucket/$1" \
		--context-entries "ContextKeyName=aws:PrincipalTag/sub,ContextKeyValues=$sub,ContextKeyType=string" \
		--query 'EvaluationResults[0].EvalDecision' --output text ||
		fail "the IAM policy simulator failed: the caller needs iam:SimulatePrincipalPolicy"
}
say "IAM policy simulator: may $role_name, tagged sub=$sub, write its own prefix and no one else's?"
own=$(simulate "users/$sub/smoke.txt")
say "  s3:PutObject users/$sub/smoke.txt: $own"
[[ $own == allowed ]] || fail "$role_name may not write the user's own prefix users/$sub/: $own"
other=$(simulate "users/someone-else/smoke.txt")
say "  s3:PutObject users/someone-else/smoke.txt: $other"
[[ $other != allowed ]] || fail "$role_name may write another user's prefix users/someone-else/"

say "PASS: a user of group $group reached /whoami as $role_name"
