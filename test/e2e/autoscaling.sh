#!/usr/bin/env bash
# Application Auto Scaling end to end with clients nobody here wrote: the aws CLI
# v2 at /usr/bin/aws and v1 on PATH. AWS's backlog-per-task target tracking
# policy (metric math over CloudWatch) scales a target to its maximum; a step
# scaling policy runs from a CloudWatch alarm; a scheduled action moves the
# capacity limits. The target is a real ECS service (host-process tasks); on a
# wharf without ECS services (NotImplemented), wharf keeps the target's
# capacity itself and the desired count is read from the activities alone.
source "$(dirname "$0")/lib.sh"
wharf_start --ephemeral --runtime process --process-images sleep
v2() { /usr/bin/aws --endpoint-url "$endpoint" "$@"; }
v1() { aws --endpoint-url "$endpoint" "$@"; }
res=service/workers/consumer
target=(--service-namespace ecs --resource-id "$res" --scalable-dimension ecs:service:DesiredCount)

# wait_activity DESCRIPTION: poll until an activity with that description exists.
wait_activity() {
  for _ in $(seq 100); do
    got=$(v2 application-autoscaling describe-scaling-activities "${target[@]}" \
      --query "ScalingActivities[?Description=='$1'] | [0].[StatusCode,Cause]" --output text)
    [[ "$got" != "None" && -n "$got" ]] && { echo "$got"; return 0; }
    sleep 0.2
  done
  v2 application-autoscaling describe-scaling-activities "${target[@]}"
  return 1
}

echo "aws CLI v2: $(/usr/bin/aws --version)"
# The service Application Auto Scaling scales: cluster workers, service consumer, one task.
v2 ecs create-cluster --cluster-name workers >/dev/null
v2 ecs register-task-definition --family consumer \
  --container-definitions '[{"name":"main","image":"sleep","command":["300"],"essential":true}]' >/dev/null
services=yes
if ! v2 ecs create-service --cluster workers --service-name consumer --task-definition consumer \
  --desired-count 1 >/dev/null 2>"$tmp/err"; then
  grep -q NotImplemented "$tmp/err" || fail "create-service: $(cat "$tmp/err")"
  services=no
fi
# CLI v2 2.9 predates tags and ScalableTargetARN: register with v1, which has them.
arn=$(v1 application-autoscaling register-scalable-target "${target[@]}" --min-capacity 1 --max-capacity 20 \
  --tags team=queue --query ScalableTargetARN --output text)
[[ "$arn" == arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/* ]] || fail "ScalableTargetARN $arn"
[[ $(v2 application-autoscaling describe-scalable-targets --service-namespace ecs \
  --query 'ScalableTargets[0].[MinCapacity,MaxCapacity]' --output text) == $'1\t20' ]] || fail describe-scalable-targets
[[ $(v1 application-autoscaling list-tags-for-resource --resource-arn "$arn" --query Tags.team --output text) == queue ]] || fail tags

echo "  target tracking on backlog per task (m1 / m2)"
cat >"$tmp/policy.json" <<'JSON'
{
  "TargetValue": 10,
  "ScaleOutCooldown": 60,
  "ScaleInCooldown": 60,
  "CustomizedMetricSpecification": {
    "Metrics": [
      {"Id": "m1", "ReturnData": false, "MetricStat": {"Stat": "Sum", "Metric": {
        "Namespace": "Jobs/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": "jobs"}]}}},
      {"Id": "m2", "ReturnData": false, "MetricStat": {"Stat": "Average", "Metric": {
        "Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount",
        "Dimensions": [{"Name": "ClusterName", "Value": "workers"}, {"Name": "ServiceName", "Value": "consumer"}]}}},
      {"Id": "e1", "Expression": "m1 / m2", "Label": "Backlog per task", "ReturnData": true}
    ]
  }
}
JSON
# CLI v2 2.9 predates metric math in CustomizedMetricSpecification: v1 has it.
out=$(v1 application-autoscaling put-scaling-policy "${target[@]}" --policy-name backlog-per-task \
  --policy-type TargetTrackingScaling --target-tracking-scaling-policy-configuration "file://$tmp/policy.json" --output json)
python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert ":scalingPolicy:" in o["PolicyARN"] and o["PolicyARN"].endswith(":resource/ecs/service/workers/consumer:policyName/backlog-per-task"), o
names = sorted(a["AlarmName"] for a in o["Alarms"])
assert len(names) == 2 and "-AlarmHigh-" in names[0] and "-AlarmLow-" in names[1], names
assert all(n.startswith("TargetTracking-service/workers/consumer-") for n in names), names
' "$out" || fail "put-scaling-policy: $out"
[[ $(v2 cloudwatch describe-alarms --alarm-name-prefix TargetTracking-service/workers/consumer \
  --query 'length(MetricAlarms)') == 2 ]] || fail "target tracking alarms not in CloudWatch"

# 1500 visible messages on 1 running task: 1500 per task, 150 tasks wanted, 20 allowed.
v2 cloudwatch put-metric-data --namespace Jobs/SQS --metric-name ApproximateNumberOfMessagesVisible \
  --dimensions QueueName=jobs --value 1500 --storage-resolution 1
v2 cloudwatch put-metric-data --namespace ECS/ContainerInsights --metric-name RunningTaskCount \
  --dimensions ClusterName=workers,ServiceName=consumer --value 1 --storage-resolution 1
got=$(wait_activity "Setting desired count to 20.") || fail "no scale-out to 20"
[[ "$got" == Successful$'\t'"monitor alarm TargetTracking-service/workers/consumer-AlarmHigh-"*" in state ALARM triggered policy backlog-per-task" ]] \
  || fail "activity: $got"
echo "  scaled out: $got"
# The loop records the max-capacity reason on its next pass (every second, later
# on a loaded machine).
at_max=0
for _ in $(seq 60); do
  at_max=$(v2 application-autoscaling describe-scaling-activities "${target[@]}" --include-not-scaled-activities \
    --query "length(ScalingActivities[?NotScaledReasons[0].Code=='AlreadyAtMaxCapacity'])")
  [[ $at_max -ge 1 ]] && break
  sleep 0.5
done
[[ $at_max -ge 1 ]] || fail "no AlreadyAtMaxCapacity"

echo "  scheduled action"
# 15 s ahead: on a loaded machine each aws CLI call takes seconds, and an at() time
# that has passed before the action exists never fires.
at=$(date -u -d '+15 seconds' +%Y-%m-%dT%H:%M:%S)
v2 application-autoscaling put-scheduled-action "${target[@]}" --scheduled-action-name shrink \
  --schedule "at($at)" --scalable-target-action MinCapacity=2,MaxCapacity=5
[[ $(v2 application-autoscaling describe-scheduled-actions --service-namespace ecs \
  --query 'ScheduledActions[0].Schedule' --output text) == "at($at)" ]] || fail describe-scheduled-actions
got=$(wait_activity "Setting desired count to 5.") || fail "scheduled action did not cap capacity"
[[ "$got" == *"scheduled action name shrink was triggered" ]] || fail "scheduled activity: $got"
wait_activity "Setting min capacity to 2 and max capacity to 5" >/dev/null || fail "scheduled limits activity"
v2 application-autoscaling delete-scheduled-action "${target[@]}" --scheduled-action-name shrink

echo "aws CLI v1: $(aws --version 2>&1)"
v1 application-autoscaling delete-scaling-policy "${target[@]}" --policy-name backlog-per-task
[[ $(v1 cloudwatch describe-alarms --alarm-name-prefix TargetTracking- --query 'length(MetricAlarms)') == 0 ]] \
  || fail "alarms left after delete-scaling-policy"

echo "  step scaling from a CloudWatch alarm"
v1 application-autoscaling register-scalable-target "${target[@]}" --min-capacity 1 --max-capacity 10 >/dev/null
policy=$(v2 application-autoscaling put-scaling-policy "${target[@]}" --policy-name add-two --policy-type StepScaling \
  --step-scaling-policy-configuration \
  '{"AdjustmentType":"ChangeInCapacity","Cooldown":0,"StepAdjustments":[{"MetricIntervalLowerBound":0,"ScalingAdjustment":2}]}' \
  --query PolicyARN --output text)
v1 cloudwatch put-metric-alarm --alarm-name queue-deep --namespace Jobs/SQS --metric-name Depth \
  --statistic Maximum --period 10 --evaluation-periods 1 --threshold 100 \
  --comparison-operator GreaterThanThreshold --alarm-actions "$policy"
v1 cloudwatch put-metric-data --namespace Jobs/SQS --metric-name Depth --value 500 --storage-resolution 1
got=$(wait_activity "Setting desired count to 7.") || fail "step scaling did not add two tasks to 5"
[[ "$got" == Successful$'\t'"monitor alarm queue-deep in state ALARM triggered policy add-two" ]] || fail "step activity: $got"
[[ $(v1 application-autoscaling describe-scaling-policies --service-namespace ecs \
  --query 'ScalingPolicies[0].StepScalingPolicyConfiguration.StepAdjustments[0].ScalingAdjustment') == 2 ]] \
  || fail describe-scaling-policies

if [[ $services == yes ]]; then
  [[ $(v2 ecs describe-services --cluster workers --services consumer --query 'services[0].desiredCount') == 7 ]] \
    || fail "ECS desiredCount is not the scaled 7"
  for _ in $(seq 100); do
    [[ $(v2 ecs describe-services --cluster workers --services consumer --query 'services[0].runningCount') == 7 ]] && break
    sleep 0.1
  done
  [[ $(v2 ecs describe-services --cluster workers --services consumer --query 'services[0].runningCount') == 7 ]] \
    || fail "the service did not converge to 7 running tasks"
  echo "  ECS service converged to 7 running tasks"
fi

echo "  errors"
v1 application-autoscaling deregister-scalable-target "${target[@]}"
if v1 application-autoscaling deregister-scalable-target "${target[@]}" 2>"$tmp/err"; then fail "deregister twice succeeded"; fi
grep -q ObjectNotFoundException "$tmp/err" || fail "deregister twice: $(cat "$tmp/err")"
if v2 application-autoscaling register-scalable-target --service-namespace ecs --resource-id table/x \
  --scalable-dimension ecs:service:DesiredCount --min-capacity 1 --max-capacity 2 2>"$tmp/err"; then fail "bad resource accepted"; fi
grep -q "ValidationException.*Unsupported service namespace, resource type or scalable dimension" "$tmp/err" || fail "$(cat "$tmp/err")"

echo "PASS autoscaling"
