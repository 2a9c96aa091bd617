#!/usr/bin/env bash
# The examples end to end: examples/run-all.sh starts wharf from a clean data
# directory (on disk, not --ephemeral) with an SMTP sink, runs the four
# architectures with the aws CLI and real containers, and must exit 0. Then,
# independently of the example's own checks, the texts the issue asks for:
# the task that exits 3 produced an email at the SMTP sink and an SQS message
# that name the task and the exit code, and the task that exits 0 produced
# neither.
#
# Needs a Docker engine. In CI (CI=true) a missing engine fails; elsewhere the
# test runs the examples on wharf's process runtime and says so loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

if docker info >/dev/null 2>&1; then
  export EXAMPLES_RUNTIME=docker
elif [ "${CI:-}" = true ]; then
  fail "CI=true but no Docker engine answers (docker info): the examples need one"
else
  echo "######################################################################"
  echo "# test/e2e/examples.sh: NO DOCKER ENGINE. Running the examples on     #"
  echo "# wharf's process runtime instead: containers are NOT exercised.     #"
  echo "######################################################################"
  export EXAMPLES_RUNTIME=process
fi

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export AWS_ENDPOINT_URL=http://127.0.0.1:$port # nothing there: run-all starts its own wharf
export WHARF_DATA_DIR=$tmp/data SMTP_SINK_DIR=$tmp/mail
# Under --iam enforce, as on AWS: the examples' roles and queue and topic
# policies must allow exactly what each architecture does, or it fails.
export WHARF_IAM=enforce
unset AWS_PROFILE

# Least privilege: every policy the examples write names its resources.
if grep -nE '"Resource" *: *"\*"' examples/*/run.sh examples/lib.sh; then
  fail "an example's policy above allows Resource \"*\": name the bucket, table, queue, task definition or role"
fi

echo "  examples/run-all.sh (data directory $WHARF_DATA_DIR, runtime $EXAMPLES_RUNTIME, --iam $WHARF_IAM)"
rc=0
bash examples/run-all.sh >"$tmp/out" 2>&1 || rc=$?
sed 's/^/  | /' "$tmp/out"
[ $rc -eq 0 ] || fail "examples/run-all.sh exited $rc"
[ -d "$WHARF_DATA_DIR" ] && [ -n "$(ls -A "$WHARF_DATA_DIR")" ] || fail "wharf did not use the data directory $WHARF_DATA_DIR"
for ex in 1-event-driven-task 2-scheduled-task 3-queue-workers 4-alerts; do
  grep -q "passed   $ex" "$tmp/out" || fail "$ex did not pass"
done

echo "  alert texts"
alert='Task family:wharf-ex4-[0-9]+-nightly-report stopped: Essential container in task exited, exit 3'
# The email: a message at the sink, to the subscribed address, whose body is the alert.
mail=$(grep -El "$alert" "$tmp"/mail/*.eml 2>/dev/null || true)
[ "$(echo "$mail" | grep -c .)" -eq 1 ] || fail "want exactly one alert email at the SMTP sink, got: $(ls "$tmp/mail")"
grep -q '^To: ops@example.com' "$mail" || fail "the alert email is not addressed to ops@example.com"
grep -q '^Subject: AWS Notification Message' "$mail" || fail "the alert email's subject is not SNS's"
grep -El 'exit 0' "$tmp"/mail/*.eml >/dev/null 2>&1 && fail "the task that exited 0 produced an email"
echo "  email: $(grep -Eo "$alert" "$mail")"
# The SQS message, as the example printed what it received (raw delivery).
grep -Eq "SQS message: \"$alert\"\$" "$tmp/out" || fail "no SQS message naming the task and exit 3"
echo "  sqs:   $(grep -Eo "SQS message: .*" "$tmp/out")"
echo "examples: ok"
