#!/usr/bin/env bash
# CloudWatch metrics and alarms, and CloudWatch Logs, end to end with clients
# nobody here wrote: boto3 (CloudWatch in whichever protocol this botocore
# picks), the aws CLI v1 on PATH and the aws CLI v2 at /usr/bin/aws (query
# protocol for CloudWatch; JSON 1.1 for Logs), including `aws logs tail`.
source "$(dirname "$0")/lib.sh"
wharf_start --ephemeral

echo "boto3"
WHARF_ENDPOINT=$endpoint python3 - <<'PY' || fail boto3
import os, datetime, boto3, botocore
ep = os.environ["WHARF_ENDPOINT"]
cw = boto3.client("cloudwatch", endpoint_url=ep)
print("  botocore", botocore.__version__, "cloudwatch protocol", getattr(cw.meta.service_model, "resolved_protocol", cw.meta.service_model.protocol))
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
cw.put_metric_data(Namespace="E2E/Boto3", MetricData=[
    {"MetricName": "Latency", "Dimensions": [{"Name": "Api", "Value": "get"}], "Value": v,
     "Unit": "Milliseconds", "Timestamp": now - datetime.timedelta(seconds=s), "StorageResolution": 1}
    for s, v in [(3, 10.0), (2, 20.0), (1, 30.0)]])
st = cw.get_metric_statistics(Namespace="E2E/Boto3", MetricName="Latency", Dimensions=[{"Name": "Api", "Value": "get"}],
    StartTime=now - datetime.timedelta(minutes=5), EndTime=now + datetime.timedelta(minutes=1), Period=360,
    Statistics=["Average", "Maximum", "SampleCount"])
dp = st["Datapoints"]
assert len(dp) == 1 and dp[0]["Average"] == 20.0 and dp[0]["Maximum"] == 30.0 and dp[0]["Unit"] == "Milliseconds", dp
md = cw.get_metric_data(StartTime=now - datetime.timedelta(seconds=10), EndTime=now, ScanBy="TimestampAscending", MetricDataQueries=[
    {"Id": "l", "MetricStat": {"Metric": {"Namespace": "E2E/Boto3", "MetricName": "Latency", "Dimensions": [{"Name": "Api", "Value": "get"}]}, "Period": 1, "Stat": "Sum"}, "ReturnData": False},
    {"Id": "twice", "Expression": "l * 2"}])
assert md["MetricDataResults"][0]["Values"] == [20.0, 40.0, 60.0], md["MetricDataResults"]
cw.put_metric_alarm(AlarmName="e2e-latency", Namespace="E2E/Boto3", MetricName="Latency", Statistic="Average",
    Period=60, EvaluationPeriods=1, Threshold=100, ComparisonOperator="GreaterThanThreshold")
cw.set_alarm_state(AlarmName="e2e-latency", StateValue="ALARM", StateReason="e2e")
# The alarm loop may already have re-evaluated it (SetAlarmState lasts until the
# next evaluation), so look for the transition in the history.
assert cw.describe_alarms(AlarmNames=["e2e-latency"])["MetricAlarms"][0]["AlarmName"] == "e2e-latency"
h = cw.describe_alarm_history(AlarmName="e2e-latency", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in [i["HistorySummary"] for i in h], h
try:
    cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "x", "Value": 1}])
    raise SystemExit("no error for the AWS/ namespace")
except cw.exceptions.InvalidParameterValueException:
    pass
logs = boto3.client("logs", endpoint_url=ep)
logs.create_log_group(logGroupName="/e2e/boto3")
logs.create_log_stream(logGroupName="/e2e/boto3", logStreamName="s")
ms = int(now.timestamp() * 1000)
r = logs.put_log_events(logGroupName="/e2e/boto3", logStreamName="s", logEvents=[{"timestamp": ms, "message": "hello"}, {"timestamp": ms + 1, "message": "world"}])
ev = logs.get_log_events(logGroupName="/e2e/boto3", logStreamName="s", startFromHead=True)["events"]
assert [e["message"] for e in ev] == ["hello", "world"], ev
try:
    logs.create_log_group(logGroupName="/e2e/boto3")
    raise SystemExit("no error for a duplicate group")
except logs.exceptions.ResourceAlreadyExistsException:
    pass
PY

for cli in "$(command -v aws)" /usr/bin/aws; do
  [ -x "$cli" ] || continue
  echo "$("$cli" --version 2>&1)"
  aws() { "$cli" --endpoint-url "$endpoint" "$@"; }
  ns="E2E/CLI$RANDOM"
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  aws cloudwatch put-metric-data --namespace "$ns" --metric-name Jobs --value 5 --unit Count --timestamp "$now" \
    --dimensions Queue=jobs || fail "$cli put-metric-data"
  aws cloudwatch put-metric-data --namespace "$ns" --metric-name Jobs --value 7 --unit Count --timestamp "$now" \
    --dimensions Queue=jobs || fail "$cli put-metric-data"
  sum=$(aws cloudwatch get-metric-statistics --namespace "$ns" --metric-name Jobs --dimensions Name=Queue,Value=jobs \
    --start-time "$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)" --end-time "$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)" \
    --period 1200 --statistics Sum --query 'Datapoints[0].Sum' --output text) || fail "$cli get-metric-statistics"
  [ "$sum" = "12.0" ] || [ "$sum" = "12" ] || fail "$cli get-metric-statistics: Sum=$sum"
  n=$(aws cloudwatch list-metrics --namespace "$ns" --query 'length(Metrics)' --output text) || fail "$cli list-metrics"
  [ "$n" = "1" ] || fail "$cli list-metrics: $n"

  group="/e2e/cli$RANDOM"
  aws logs create-log-group --log-group-name "$group" || fail "$cli create-log-group"
  aws logs create-log-stream --log-group-name "$group" --log-stream-name web || fail "$cli create-log-stream"
  ms=$(($(date +%s) * 1000))
  aws logs put-log-events --log-group-name "$group" --log-stream-name web \
    --log-events "timestamp=$ms,message=GET / 200" "timestamp=$((ms + 1)),message=GET /x 500 ERROR" >/dev/null || fail "$cli put-log-events"
  got=$(aws logs get-log-events --log-group-name "$group" --log-stream-name web --start-from-head --query 'events[].message' --output text) || fail "$cli get-log-events"
  [ "$got" = "$(printf 'GET / 200\tGET /x 500 ERROR')" ] || fail "$cli get-log-events: $got"
  got=$(aws logs filter-log-events --log-group-name "$group" --filter-pattern ERROR --query 'events[].message' --output text) || fail "$cli filter-log-events"
  [ "$got" = "GET /x 500 ERROR" ] || fail "$cli filter-log-events: $got"
  if "$cli" logs tail help >/dev/null 2>&1; then
    echo "  logs tail, logs tail --follow"
    out=$(aws logs tail "$group" --since 1h --format short) || fail "$cli logs tail"
    echo "$out" | grep -q "GET /x 500 ERROR" || fail "$cli logs tail: $out"
    # --follow polls FilterLogEvents; an event written while it runs must show up.
    aws logs tail "$group" --follow --since 1m --format short >"$tmp/follow" 2>&1 &
    tpid=$!
    sleep 2
    aws logs put-log-events --log-group-name "$group" --log-stream-name web \
      --log-events "timestamp=$(($(date +%s) * 1000)),message=followed line" >/dev/null
    for _ in $(seq 100); do grep -q "followed line" "$tmp/follow" && break; sleep 0.1; done
    kill $tpid 2>/dev/null; wait $tpid 2>/dev/null || true
    grep -q "followed line" "$tmp/follow" || fail "$cli logs tail --follow: $(cat "$tmp/follow")"
  fi
  unset -f aws
done
echo "PASS cloudwatch"
