#!/usr/bin/env bash
# End-to-end test of STS and IAM with clients nobody here wrote: the aws CLI v2
# (/usr/bin/aws), the aws CLI v1 (python3 -m awscli) and boto3. Each gets the
# caller identity, creates a role, assumes it, and checks the ARNs and account;
# then boto3 calls STS with the temporary credentials it got.
#
# A missing client fails the test when CI=true and is skipped otherwise.
# wharf runs with --auth strict, so every client's SigV4 signature is verified;
# STS_E2E_AUTH=any runs it in the default mode instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

ACCOUNT=123456789012
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$tmp/wharf.log" ] && tail -20 "$tmp/wharf.log" >&2; exit 1; }
missing() {
  if [ "${CI:-}" = "true" ]; then fail "$1 is missing (required in CI)"; fi
  echo "SKIP: $1 is missing"
}

go build -o "$tmp/wharf" ./cmd/wharf

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
endpoint="http://127.0.0.1:$port"
"$tmp/wharf" serve --listen "127.0.0.1:$port" --ephemeral --account "$ACCOUNT" --auth "${STS_E2E_AUTH:-strict}" >"$tmp/wharf.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('$endpoint/_wharf/health', timeout=1)" 2>/dev/null; then break; fi
  kill -0 "$pid" 2>/dev/null || fail "wharf exited"
  sleep 0.1
done
python3 -c "import urllib.request; urllib.request.urlopen('$endpoint/_wharf/health', timeout=1)" || fail "wharf did not become healthy"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL

TRUST='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}'

# field JSON PATH... prints the value at PATH (keys separated by spaces).
field() {
  python3 -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2:]: v=v[int(k)] if isinstance(v,list) else v[k]
print(v)' "$@"
}

expect() { # expect WHAT GOT WANT
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
  echo "ok   $1"
}

# run_cli NAME CMD...: the same checks for both CLIs; each uses its own role.
run_cli() {
  local name=$1; shift
  local role="$name-role"
  local out
  out=$("$@" --endpoint-url "$endpoint" sts get-caller-identity --output json) || fail "$name: get-caller-identity"
  expect "$name get-caller-identity Account" "$(field "$out" Account)" "$ACCOUNT"
  expect "$name get-caller-identity Arn" "$(field "$out" Arn)" "arn:aws:iam::$ACCOUNT:root"

  out=$("$@" --endpoint-url "$endpoint" iam create-role --role-name "$role" --path /e2e/ \
    --assume-role-policy-document "$TRUST" --output json) || fail "$name: create-role"
  expect "$name create-role Arn" "$(field "$out" Role Arn)" "arn:aws:iam::$ACCOUNT:role/e2e/$role"
  # The CLI decodes the URL-encoded trust policy back into JSON.
  expect "$name create-role trust principal" "$(field "$out" Role AssumeRolePolicyDocument Statement 0 Principal Service)" "ecs-tasks.amazonaws.com"
  local roleid
  roleid=$(field "$out" Role RoleId)
  [[ "$roleid" =~ ^AROA[A-Z2-7]{17}$ ]] || fail "$name: RoleId $roleid"

  out=$("$@" --endpoint-url "$endpoint" sts assume-role --role-arn "arn:aws:iam::$ACCOUNT:role/e2e/$role" \
    --role-session-name "$name-session" --output json) || fail "$name: assume-role"
  expect "$name assume-role Arn" "$(field "$out" AssumedRoleUser Arn)" "arn:aws:sts::$ACCOUNT:assumed-role/$role/$name-session"
  expect "$name assume-role AssumedRoleId" "$(field "$out" AssumedRoleUser AssumedRoleId)" "$roleid:$name-session"
  local akid
  akid=$(field "$out" Credentials AccessKeyId)
  [[ "$akid" =~ ^ASIA[A-Z2-7]{16}$ ]] || fail "$name: AccessKeyId $akid"

  # The temporary credentials act as the assumed role.
  out=$(AWS_ACCESS_KEY_ID="$akid" AWS_SECRET_ACCESS_KEY="$(field "$out" Credentials SecretAccessKey)" \
    AWS_SESSION_TOKEN="$(field "$out" Credentials SessionToken)" \
    "$@" --endpoint-url "$endpoint" sts get-caller-identity --output json) || fail "$name: get-caller-identity as the role"
  expect "$name identity with role credentials" "$(field "$out" Arn)" "arn:aws:sts::$ACCOUNT:assumed-role/$role/$name-session"

  # Errors come back as AWS errors.
  if "$@" --endpoint-url "$endpoint" iam get-role --role-name no-such-role >"$tmp/err.out" 2>&1; then
    fail "$name: get-role of a missing role succeeded"
  fi
  grep -q "NoSuchEntity" "$tmp/err.out" || fail "$name: get-role error: $(cat "$tmp/err.out")"
  echo "ok   $name get-role of a missing role is NoSuchEntity"
}

if [ -x /usr/bin/aws ]; then
  run_cli cli-v2 /usr/bin/aws
else
  missing "aws CLI v2 (/usr/bin/aws)"
fi

if python3 -c 'import awscli' 2>/dev/null; then
  run_cli cli-v1 python3 -m awscli
else
  missing "aws CLI v1 (python3 -m awscli)"
fi

if python3 -c 'import boto3' 2>/dev/null; then
  python3 - "$endpoint" "$ACCOUNT" "$TRUST" <<'PY' || fail "boto3"
import sys, boto3, botocore.exceptions
endpoint, account, trust = sys.argv[1:4]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
sts, iam = boto3.client("sts", **kw), boto3.client("iam", **kw)

def expect(what, got, want):
    if got != want:
        sys.exit(f"FAIL: boto3 {what}: got {got!r}, want {want!r}")
    print(f"ok   boto3 {what}")

ident = sts.get_caller_identity()
expect("get_caller_identity Account", ident["Account"], account)
expect("get_caller_identity Arn", ident["Arn"], f"arn:aws:iam::{account}:root")

role = iam.create_role(RoleName="boto3-role", AssumeRolePolicyDocument=trust, MaxSessionDuration=7200)["Role"]
expect("create_role Arn", role["Arn"], f"arn:aws:iam::{account}:role/boto3-role")
expect("create_role trust policy", role["AssumeRolePolicyDocument"]["Statement"][0]["Action"], "sts:AssumeRole")

got = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="boto3-session", DurationSeconds=7200)
expect("assume_role Arn", got["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{account}:assumed-role/boto3-role/boto3-session")
c = got["Credentials"]
as_role = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                       aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
expect("identity with role credentials", as_role.get_caller_identity()["Arn"], got["AssumedRoleUser"]["Arn"])

try:
    sts.assume_role(RoleArn=role["Arn"], RoleSessionName="too-long", DurationSeconds=7201)
    sys.exit("FAIL: boto3 assume_role beyond MaxSessionDuration succeeded")
except botocore.exceptions.ClientError as e:
    expect("assume_role beyond MaxSessionDuration", e.response["Error"]["Code"], "ValidationError")
try:
    iam.get_role(RoleName="no-such-role")
    sys.exit("FAIL: boto3 get_role of a missing role succeeded")
except iam.exceptions.NoSuchEntityException as e:
    expect("get_role of a missing role", e.response["ResponseMetadata"]["HTTPStatusCode"], 404)

user = iam.create_user(UserName="boto3-user")["User"]
key = iam.create_access_key(UserName="boto3-user")["AccessKey"]
as_user = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
ident = as_user.get_caller_identity()
expect("identity with a user's access key", (ident["Arn"], ident["UserId"]), (user["Arn"], user["UserId"]))
PY
else
  missing "boto3"
fi
echo "sts.sh: all checks passed"
