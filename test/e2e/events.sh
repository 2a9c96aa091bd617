#!/usr/bin/env bash
# EventBridge end to end with clients nobody here wrote: boto3 runs every case of
# internal/pattern/testdata through TestEventPattern and compares with the
# expected answer, and boto3, the aws CLI v2 and v1 run a sample of every
# operator's cases and must agree with it; the aws CLI v2 (/usr/bin/aws) and v1
# (aws on PATH) create a bus, a rule, targets, put events and test patterns;
# both deliver put-events through rules to SQS queues (InputTransformer,
# InputPath, the whole event) and read the exact bodies back; both create EventBridge
# Scheduler schedules whose at() firing lands in an SQS queue; an archive is
# replayed into a queue; and an at() schedule that comes due while wharf is
# stopped fires once when it starts again.
source "$(dirname "$0")/lib.sh"
wharf_start --ephemeral

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

echo "aws CLI v2, v1 and boto3: TestEventPattern on a sample of internal/pattern/testdata"
# Every operator's file contributes cases spread over it (invalid patterns
# too); each goes through all three clients, which must all give the answer
# the file records for the matcher (Result, or InvalidEventPatternException
# whose reason holds the file's message, as the Go test checks).
WHARF_ENDPOINT=$endpoint python3 - <<'PY' || fail "TestEventPattern across clients"
import concurrent.futures, glob, json, os, subprocess, boto3
endpoint = os.environ["WHARF_ENDPOINT"]
envelope = {"id": "e2e", "account": "000000000000", "source": "wharf.e2e", "time": "2024-01-01T00:00:00Z",
            "region": "us-east-1", "detail-type": "e2e"}
sample = []
for f in sorted(glob.glob("internal/pattern/testdata/*.json")):
    cases = json.load(open(f))
    k = 4 if f.endswith("invalid.json") else 3 if len(cases) >= 10 else 2
    step = max(1, len(cases) // k)
    for c in cases[::step][:k]:
        sample.append((os.path.basename(f), c))

def want(case):
    return ("error", case["error"]) if "error" in case else ("result", case["match"])

def agrees(got, want):
    # The service words an invalid pattern "Event pattern is not valid.
    # Reason: <the matcher's message>".
    if want[0] == "error":
        return got[0] == "error" and "Reason: " in got[1] and want[1] in got[1].split("Reason: ", 1)[1]
    return got == want

def args(case):
    ev = dict(envelope); ev.update(case.get("event", {}))
    return json.dumps(case["pattern"]), json.dumps(ev)

b3 = boto3.client("events", endpoint_url=endpoint)
def via_boto3(case):
    pat, ev = args(case)
    try:
        return ("result", b3.test_event_pattern(EventPattern=pat, Event=ev)["Result"])
    except b3.exceptions.InvalidEventPatternException as e:
        return ("error", e.response["Error"]["Message"])

def via_cli(aws):
    def run(case):
        pat, ev = args(case)
        p = subprocess.run([aws, "--endpoint-url", endpoint, "events", "test-event-pattern", "--event-pattern", pat,
                            "--event", ev, "--output", "json"], capture_output=True, text=True)
        if p.returncode == 0:
            return ("result", json.loads(p.stdout)["Result"])
        if "InvalidEventPatternException" in p.stderr:
            # "An error occurred (Code) when calling the Op operation: message"
            return ("error", p.stderr.strip().split(" operation: ", 1)[-1])
        return ("failed", p.stderr.strip())
    return run

clients = {"boto3": via_boto3, "aws v2": via_cli("/usr/bin/aws"), "aws v1": via_cli("aws")}
bad = 0
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    for name, fn in clients.items():
        got = list(pool.map(fn, [c for _, c in sample]))
        wrong = [(f, c["name"], g) for (f, c), g in zip(sample, got) if not agrees(g, want(c))]
        for w in wrong:
            print("  ", name, "disagrees:", *w)
        bad += len(wrong)
        print(f"  {name}: {len(sample)} cases, {len(wrong)} disagree")
ops = sorted({f for f, _ in sample})
print(f"  {len(ops)} operator files, {sum('error' in c for _, c in sample)} invalid patterns")
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

# receive AWS QUEUE_URL: the body of one message (deleted), waiting up to 10 s.
receive() {
  local aws=$1 url=$2 out
  out=$("$aws" --endpoint-url "$endpoint" sqs receive-message --queue-url "$url" --wait-time-seconds 10 --output json) || return 1
  python3 - "$out" <<'PY'
import json, sys
o = json.loads(sys.argv[1] or "{}")
assert len(o.get("Messages", [])) == 1, o
print(o["Messages"][0]["Body"])
PY
}

# receive_by AWS QUEUE_URL EPOCH: as receive, waiting on until the epoch second EPOCH.
receive_by() {
  local body
  until body=$(receive "$1" "$2"); do
    (($(date +%s) < $3)) || return 1
  done
  echo "$body"
}

# at_ahead SECONDS: sets due (epoch seconds) and when (its at() time) that far ahead.
# 15 s: on a loaded machine one aws CLI call can take seconds, and an at() time that
# has passed before the schedule exists never fires.
at_ahead() {
  due=$(($(date +%s) + $1))
  when=$(date -u -d "@$due" +%Y-%m-%dT%H:%M:%S)
}

# Rules with SQS targets deliver through real clients: put-rule, put-targets
# (an InputTransformer with a JSON template, one with a string template, and an
# InputPath), put-events, then receive-message shows each body exactly.
for aws in /usr/bin/aws aws; do
  echo "$aws: put-events → rule → SQS (InputTransformer, InputPath)"
  sqs() { "$aws" --endpoint-url "$endpoint" sqs "$@"; }
  s=$RANDOM
  # Messages received below are not deleted: a long visibility timeout keeps
  # them hidden, so the check that the unmatched event reached no queue is not
  # fooled by one of them coming back on a slow machine.
  for q in json text path whole; do
    sqs create-queue --queue-name "$q-$s" --attributes VisibilityTimeout=900 >/dev/null || fail "$aws create-queue $q-$s"
  done
  rule="orders-$s"
  cli "$aws" put-rule --name "$rule" --event-pattern '{"source":["e2e.shop"],"detail-type":["Order Placed"],"detail":{"total":[{"numeric":[">",10]}]}}' >/dev/null || fail "$aws put-rule $rule"
  q="arn:aws:sqs:us-east-1:000000000000"
  targets=$(S=$s Q=$q python3 -c '
import json, os
s, q = os.environ["S"], os.environ["Q"]
paths = {"id": "$.detail.id", "name": "$.detail.customer.name", "total": "$.detail.total", "items": "$.detail.items", "missing": "$.detail.nope"}
print(json.dumps([
  {"Id": "json", "Arn": q + ":json-" + s, "InputTransformer": {"InputPathsMap": paths,
   "InputTemplate": "{\"order\":<id>,\"who\":\"<name> via <aws.events.rule-name>\",\"total\":<total>,\"items\":<items>,\"gone\":<missing>}"}},
  {"Id": "text", "Arn": q + ":text-" + s, "InputTransformer": {"InputPathsMap": paths,
   "InputTemplate": "\"Order <id> for <name>: \\\"<total>\\\"\""}},
  {"Id": "path", "Arn": q + ":path-" + s, "InputPath": "$.detail.customer"},
  {"Id": "whole", "Arn": q + ":whole-" + s},
]))')
  [ "$(cli "$aws" put-targets --rule "$rule" --targets "$targets" --query FailedEntryCount --output text)" = "0" ] || fail "$aws put-targets $rule"
  detail='{"id":"o-1","customer":{"name":"Ann","tier":"gold"},"total":42.5,"items":["a","b"]}'
  entries=$(D=$detail python3 -c 'import json,os; d=os.environ["D"]; print(json.dumps([
    {"Source":"e2e.shop","DetailType":"Order Placed","Detail":d,"Resources":["arn:aws:e2e:::order/o-1"]},
    {"Source":"e2e.shop","DetailType":"Order Placed","Detail":d.replace("42.5","5")}]))')
  id=$(cli "$aws" put-events --entries "$entries" --query 'Entries[0].EventId' --output text) || fail "$aws put-events orders"
  body=$(receive "$aws" "$endpoint/000000000000/json-$s") || fail "$aws: nothing in json-$s"
  [ "$body" = "{\"order\":\"o-1\",\"who\":\"Ann via $rule\",\"total\":42.5,\"items\":[\"a\",\"b\"],\"gone\":null}" ] || fail "$aws transformed JSON body $body"
  body=$(receive "$aws" "$endpoint/000000000000/text-$s") || fail "$aws: nothing in text-$s"
  [ "$body" = '"Order o-1 for Ann: \"42.5\""' ] || fail "$aws transformed string body $body"
  body=$(receive "$aws" "$endpoint/000000000000/path-$s") || fail "$aws: nothing in path-$s"
  [ "$body" = '{"name":"Ann","tier":"gold"}' ] || fail "$aws InputPath body $body"
  body=$(receive "$aws" "$endpoint/000000000000/whole-$s") || fail "$aws: nothing in whole-$s"
  python3 - "$body" "$id" "$detail" <<'PY' || fail "$aws whole event $body"
import json, re, sys
body, eid, detail = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
ev = json.loads(body)
assert list(ev) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"], list(ev)
assert ev["id"] == eid and ev["version"] == "0" and ev["account"] == "000000000000" and ev["region"] == "us-east-1", ev
assert ev["source"] == "e2e.shop" and ev["detail-type"] == "Order Placed", ev
assert ev["resources"] == ["arn:aws:e2e:::order/o-1"] and ev["detail"] == detail, ev
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ev["time"]), ev["time"]
PY
  # The second event (total 5) matched no rule: every queue is empty now.
  for q in json text path whole; do
    out=$(sqs receive-message --queue-url "$endpoint/000000000000/$q-$s" --wait-time-seconds 1 --output json) || fail "$aws receive $q-$s"
    [ -z "$out" ] || python3 -c 'import json,sys; assert not json.loads(sys.argv[1]).get("Messages")' "$out" || fail "$aws unmatched event delivered to $q-$s: $out"
  done
  cli "$aws" remove-targets --rule "$rule" --ids json text path whole >/dev/null || fail "$aws remove-targets $rule"
  cli "$aws" delete-rule --name "$rule" || fail "$aws delete-rule $rule"
done

for aws in /usr/bin/aws aws; do
  echo "$aws: scheduler"
  q="sched-$RANDOM"
  url=$("$aws" --endpoint-url "$endpoint" sqs create-queue --queue-name "$q" --query QueueUrl --output text) || fail "$aws create-queue"
  sch() { "$aws" --endpoint-url "$endpoint" scheduler "$@"; }
  sch create-schedule-group --name "batch-$q" >/dev/null || fail "$aws create-schedule-group"
  # ActionAfterCompletion came after CLI v2 2.9.19's model.
  aac=()
  if sch create-schedule help 2>/dev/null | grep -q action-after-completion; then aac=(--action-after-completion DELETE); fi
  at_ahead 15
  arn=$(sch create-schedule --name once --group-name "batch-$q" --schedule-expression "at($when)" \
    --flexible-time-window Mode=OFF "${aac[@]}" \
    --target "{\"Arn\":\"arn:aws:sqs:us-east-1:000000000000:$q\",\"RoleArn\":\"arn:aws:iam::000000000000:role/s\",\"Input\":\"{\\\"job\\\":\\\"<aws.scheduler.schedule-arn>\\\"}\"}" \
    --query ScheduleArn --output text) || fail "$aws create-schedule"
  [ "$arn" = "arn:aws:scheduler:us-east-1:000000000000:schedule/batch-$q/once" ] || fail "$aws ScheduleArn $arn"
  # A disabled schedule for the API checks: the one-time one may have fired
  # (and deleted itself) by the time a slow CLI gets to it.
  sch create-schedule --name paused --group-name "batch-$q" --schedule-expression 'cron(0 9 ? * MON-FRI *)' \
    --schedule-expression-timezone Europe/Berlin --state DISABLED --flexible-time-window Mode=OFF \
    --target "Arn=arn:aws:sqs:us-east-1:000000000000:$q,RoleArn=arn:aws:iam::000000000000:role/s" >/dev/null || fail "$aws create-schedule paused"
  [ "$(sch get-schedule --name paused --group-name "batch-$q" --query '[State,ScheduleExpressionTimezone]' --output text)" = "DISABLED	Europe/Berlin" ] || fail "$aws get-schedule"
  [ "$(sch list-schedules --group-name "batch-$q" --state DISABLED --query 'length(Schedules)' --output text)" = "1" ] || fail "$aws list-schedules"
  if err=$(sch create-schedule --name paused --group-name "batch-$q" --schedule-expression 'rate(1 hour)' --flexible-time-window Mode=OFF \
    --target "Arn=arn:aws:sqs:us-east-1:000000000000:$q,RoleArn=arn:aws:iam::000000000000:role/s" 2>&1); then fail "$aws duplicate schedule accepted"; fi
  echo "$err" | grep -q ConflictException || fail "$aws duplicate schedule error: $err"
  body=$(receive_by "$aws" "$url" $((due + 20))) || fail "$aws: no message from the schedule"
  [ "$body" = "{\"job\":\"$arn\"}" ] || fail "$aws schedule body $body"
  if [ ${#aac[@]} -gt 0 ]; then
    if err=$(sch get-schedule --name once --group-name "batch-$q" 2>&1); then fail "$aws completed schedule not deleted"; fi
    echo "$err" | grep -q ResourceNotFoundException || fail "$aws get-schedule error: $err"
  fi
  sch delete-schedule-group --name "batch-$q" || fail "$aws delete-schedule-group"
done

echo "/usr/bin/aws: archive and replay"
ev() { /usr/bin/aws --endpoint-url "$endpoint" events "$@"; }
url=$(/usr/bin/aws --endpoint-url "$endpoint" sqs create-queue --queue-name replayed --query QueueUrl --output text) || fail "create-queue replayed"
archive=$(ev create-archive --archive-name shop --event-source-arn arn:aws:events:us-east-1:000000000000:event-bus/default \
  --event-pattern '{"source":["shop"]}' --query ArchiveArn --output text) || fail "create-archive"
ev put-rule --name shop --event-pattern '{"source":["shop"]}' >/dev/null || fail "put-rule shop"
ev put-targets --rule shop --targets Id=q,Arn=arn:aws:sqs:us-east-1:000000000000:replayed >/dev/null || fail "put-targets shop"
start=$(date -u -d '-2 seconds' +%Y-%m-%dT%H:%M:%SZ)
ev put-events --entries '[{"Source":"shop","DetailType":"Order","Detail":"{\"id\":1}"}]' >/dev/null || fail "put-events shop"
body=$(receive /usr/bin/aws "$url") || fail "no live event"
case "$body" in *replay-name*) fail "live event has replay-name: $body" ;; esac
for _ in $(seq 50); do
  [ "$(ev describe-archive --archive-name shop --query EventCount --output text)" = "1" ] && break
  sleep 0.1
done
[ "$(ev describe-archive --archive-name shop --query EventCount --output text)" = "1" ] || fail "archive count"
sleep 1
ev start-replay --replay-name again --event-source-arn "$archive" --event-start-time "$start" --event-end-time "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --destination Arn=arn:aws:events:us-east-1:000000000000:event-bus/default >/dev/null || fail "start-replay"
body=$(receive /usr/bin/aws "$url") || fail "no replayed event"
case "$body" in *'"replay-name":"again"'*) ;; *) fail "replayed event $body" ;; esac
for _ in $(seq 50); do
  [ "$(ev describe-replay --replay-name again --query State --output text)" = "COMPLETED" ] && break
  sleep 0.1
done
[ "$(ev describe-replay --replay-name again --query State --output text)" = "COMPLETED" ] || fail "replay state"

echo "restart: a one-time schedule due while wharf is stopped fires once on start"
data="$tmp/data"
port2=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
start2() {
  "$bin" serve --listen "127.0.0.1:$port2" --data-dir "$data" 2>>"$tmp/log2" &
  pid2=$!
  pids+=("$pid2")
  for _ in $(seq 400); do # 20 s, as lib.sh's wharf_start_on
    curl -fs "http://127.0.0.1:$port2/_wharf/health" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  fail "durable wharf did not start within 20 s"
}
start2
e2="http://127.0.0.1:$port2"
url=$(/usr/bin/aws --endpoint-url "$e2" sqs create-queue --queue-name late --query QueueUrl --output text) || fail "create-queue late"
at_ahead 15
/usr/bin/aws --endpoint-url "$e2" scheduler create-schedule --name late --schedule-expression "at($when)" --flexible-time-window Mode=OFF \
  --target 'Arn=arn:aws:sqs:us-east-1:000000000000:late,RoleArn=arn:aws:iam::000000000000:role/s' >/dev/null || fail "create-schedule late"
kill "$pid2"; wait "$pid2" 2>/dev/null || true
# Stopped until the schedule's time has passed.
while (($(date +%s) <= due)); do sleep 0.5; done
start2
endpoint=$e2 receive /usr/bin/aws "$url" >/dev/null || { cat "$tmp/log2"; fail "the missed schedule did not fire after the restart"; }
out=$(/usr/bin/aws --endpoint-url "$e2" sqs receive-message --queue-url "$url" --wait-time-seconds 2 --output json) || fail "receive-message late"
[ -z "$out" ] || python3 -c 'import json,sys; assert not json.loads(sys.argv[1]).get("Messages")' "$out" || fail "the missed schedule fired more than once: $out"

echo "PASS events"
