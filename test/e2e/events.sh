#!/usr/bin/env bash
# EventBridge end to end with clients nobody here wrote: boto3 runs every case of
# internal/pattern/testdata through TestEventPattern and compares with the
# expected answer; the aws CLI v2 (/usr/bin/aws) and v1 (aws on PATH) create a
# bus, a rule, targets, put events and test patterns.
set -euo pipefail
cd "$(dirname "$0")/../.."

tmp=$(mktemp -d)
bin="$tmp/wharf"
go build -o "$bin" ./cmd/wharf
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" --ephemeral 2>"$tmp/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/_wharf/health" >/dev/null 2>&1 && break
  sleep 0.05
done

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
endpoint="http://127.0.0.1:$port"
fail() { echo "FAIL: $*"; cat "$tmp/log"; exit 1; }

echo "boto3: TestEventPattern over internal/pattern/testdata"
WHARF_ENDPOINT=$endpoint python3 - <<'PY' || fail boto3
import glob, json, os, boto3, botocore
c = boto3.client("events", endpoint_url=os.environ["WHARF_ENDPOINT"])
envelope = {"id": "e2e", "account": "000000000000", "source": "wharf.e2e", "time": "2024-01-01T00:00:00Z",
            "region": "us-east-1", "detail-type": "e2e"}
n = bad = 0
for f in sorted(glob.glob("internal/pattern/testdata/*.json")):
    for case in json.load(open(f)):
        pat = json.dumps(case["pattern"])
        if "error" in case:
            try:
                c.test_event_pattern(EventPattern=pat, Event=json.dumps(envelope))
                print("  accepted invalid", f, case["name"]); bad += 1
            except c.exceptions.InvalidEventPatternException:
                pass
            n += 1
            continue
        ev = dict(envelope); ev.update(case["event"])
        got = c.test_event_pattern(EventPattern=pat, Event=json.dumps(ev))["Result"]
        if got != case["match"]:
            print("  mismatch", f, case["name"], got); bad += 1
        n += 1
print("  botocore", botocore.__version__, n, "cases", bad, "wrong")
assert bad == 0
PY

cli() {
  local aws=$1; shift
  "$aws" --endpoint-url "$endpoint" events "$@"
}

for aws in /usr/bin/aws aws; do
  echo "$aws: $("$aws" --version 2>&1)"
  bus="e2e-$RANDOM"
  cli "$aws" create-event-bus --name "$bus" >/dev/null || fail "$aws create-event-bus"
  arn=$(cli "$aws" put-rule --name s3-uploads --event-pattern '{"source":["com.example"],"detail":{"key":[{"suffix":".png"}]}}' --query RuleArn --output text) || fail "$aws put-rule"
  [ "$arn" = "arn:aws:events:us-east-1:000000000000:rule/s3-uploads" ] || fail "$aws RuleArn $arn"
  failed=$(cli "$aws" put-targets --rule s3-uploads --targets "Id=bus,Arn=arn:aws:events:us-east-1:000000000000:event-bus/$bus" --query FailedEntryCount --output text) || fail "$aws put-targets"
  [ "$failed" = "0" ] || fail "$aws put-targets failed $failed"
  [ "$(cli "$aws" list-targets-by-rule --rule s3-uploads --query 'length(Targets)' --output text)" = "1" ] || fail "$aws list-targets-by-rule"
  out=$(cli "$aws" put-events --entries '[{"Source":"com.example","DetailType":"Upload","Detail":"{\"key\":\"a.png\"}"},{"Source":"com.example","DetailType":"Upload","Detail":"nope"}]' --output json) || fail "$aws put-events"
  python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["FailedEntryCount"]==1 and o["Entries"][0]["EventId"] and o["Entries"][1]["ErrorCode"]=="MalformedDetail", o' "$out" || fail "$aws put-events result $out"
  ev='{"id":"1","account":"000000000000","source":"com.example","time":"2024-01-01T00:00:00Z","region":"us-east-1","detail-type":"Upload","resources":[],"detail":{"key":"a.png"}}'
  [ "$(cli "$aws" test-event-pattern --event-pattern '{"detail":{"key":[{"wildcard":"*.png"}]}}' --event "$ev" --query Result --output text)" = "True" ] || fail "$aws test-event-pattern true"
  [ "$(cli "$aws" test-event-pattern --event-pattern '{"detail":{"key":[{"anything-but":{"suffix":".png"}}]}}' --event "$ev" --query Result --output text)" = "False" ] || fail "$aws test-event-pattern false"
  if err=$(cli "$aws" put-rule --name bad --event-pattern '{"source":"x"}' 2>&1); then fail "$aws invalid pattern accepted"; fi
  echo "$err" | grep -q InvalidEventPatternException || fail "$aws invalid pattern error: $err"
  cli "$aws" put-rule --name tick --schedule-expression 'rate(5 minutes)' >/dev/null || fail "$aws schedule rule"
  cli "$aws" disable-rule --name tick || fail "$aws disable-rule"
  [ "$(cli "$aws" describe-rule --name tick --query State --output text)" = "DISABLED" ] || fail "$aws describe-rule state"
  cli "$aws" remove-targets --rule s3-uploads --ids bus >/dev/null || fail "$aws remove-targets"
  cli "$aws" delete-rule --name s3-uploads || fail "$aws delete-rule"
  cli "$aws" delete-rule --name tick || fail "$aws delete-rule tick"
  cli "$aws" delete-event-bus --name "$bus" || fail "$aws delete-event-bus"
  [ "$(cli "$aws" list-rules --query 'length(Rules)' --output text)" = "0" ] || fail "$aws list-rules after delete"
done
echo "PASS events"
