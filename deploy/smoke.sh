#!/usr/bin/env bash
# smoke.sh STACK [GROUP]: the AWS article's verification, against a deployed
# rolegate stack. It creates a throw-away user in GROUP (default admins), sets
# a permanent password, signs in with `aws cognito-idp initiate-auth` to get an
# ID token, calls GET /whoami with it, and checks that the backend ran as the
# group's role. Then it checks that a missing or malformed token gets a JSON
# 401, and shows what the group's role may do in the data bucket. The user is
# deleted on exit (KEEP_USER=1 keeps it).
#
# Needs: aws CLI with credentials allowed to administer the pool, curl, and a
# stack deployed with PASSWORD_AUTH=true (USER_PASSWORD_AUTH on the client).
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

flows=$("${aws[@]}" cognito-idp describe-user-pool-client --user-pool-id "$pool" --client-id "$client" \
	--query 'UserPoolClient.ExplicitAuthFlows' --output text)
[[ $flows == *ALLOW_USER_PASSWORD_AUTH* ]] ||
	fail "the app client does not allow USER_PASSWORD_AUTH; redeploy with: make deploy STACK=$stack BUCKET=<bucket> PASSWORD_AUTH=true"

suffix=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
email="rolegate-smoke-$suffix@example.com"
# Meets the pool's policy (12+, upper, lower, digit, symbol); no commas, which
# the CLI's shorthand syntax below would split on.
password="Smoke-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')-Aa1!"

cleanup() {
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
"${aws[@]}" cognito-idp admin-set-user-password --user-pool-id "$pool" --username "$email" \
	--password "$password" --permanent

say "initiate-auth USER_PASSWORD_AUTH: get the ID token"
token=$("${aws[@]}" cognito-idp initiate-auth --client-id "$client" --auth-flow USER_PASSWORD_AUTH \
	--auth-parameters "USERNAME=$email,PASSWORD=$password" \
	--query AuthenticationResult.IdToken --output text)
[[ $token == *.*.* ]] || fail "initiate-auth returned no ID token"

# call GETs /whoami with Authorization: $1 (no header without $1) and sets
# status and body.
call() {
	local out
	if [[ $# -gt 0 ]]; then
		out=$(curl -sS -w '\n%{http_code}' -H "Authorization: $1" "$api/whoami")
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

# What the role may do: the article's "verify that you can access the same
# resources defined in the role". Needs iam:SimulatePrincipalPolicy; skipped
# without it.
partition=$(cut -d: -f2 <<<"$role_arn")
say "what $role_name may do in s3://$bucket (IAM policy simulator)"
for check in "s3:GetObject shared/smoke.txt" "s3:PutObject smoke.txt"; do
	read -r action key <<<"$check"
	if decision=$("${aws[@]}" iam simulate-principal-policy --policy-source-arn "$role_arn" \
		--action-names "$action" --resource-arns "arn:$partition:s3:::$bucket/$key" \
		--query 'EvaluationResults[0].EvalDecision' --output text 2>/dev/null); then
		say "  $action $key: $decision"
	else
		say "  $action $key: not simulated (iam simulate-principal-policy failed: does the caller have iam:SimulatePrincipalPolicy?)"
	fi
done

say "PASS: a user of group $group reached /whoami as $role_name"
