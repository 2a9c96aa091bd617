#!/usr/bin/env bash
# Architecture 3 end to end, in bounded time, with clients nobody here wrote
# (aws CLI v2 at /usr/bin/aws, v1 on PATH) and real containers: 500 messages
# flood an SQS queue; an ECS service whose tasks are queue workers (the
# examples/task image FROM scratch, Docker host network, AWS SDK default
# config) scales out from 1 task to its target tracking policy's maximum on
# backlog per task (m1 = AWS/SQS ApproximateNumberOfMessagesVisible, m2 =
# ECS/ContainerInsights RunningTaskCount, e1 = m1 / m2), drains the queue and
# scales back in. Asserts on DescribeScalingActivities, the counts on the way
# and the final desired count; removes every container it caused.
#
# Docker is required in CI (CI=true); elsewhere, without an engine, the tasks
# run as host processes and the script says so loudly. With
# QUEUE_WORKERS_RUNTIME=kubernetes (test/e2e/kubernetes-queue-workers.sh) the
# tasks are Pods on the cluster WHARF_KUBECONFIG names, the image loaded with
# scripts/kube-load.
set -euo pipefail
cd "$(dirname "$0")/../.."

MESSAGES=500 MAX=5 TARGET=20 WORK_MS=150 BUDGET=180

tmp=$(mktemp -d)
runtime=docker
kube=()
if [ "${QUEUE_WORKERS_RUNTIME:-}" = kubernetes ]; then
  [ -n "${WHARF_KUBECONFIG:-}" ] || { echo "FAIL: QUEUE_WORKERS_RUNTIME=kubernetes needs WHARF_KUBECONFIG (scripts/kube-up prints it)"; exit 1; }
  runtime=kubernetes
  kube=(--kubeconfig "$WHARF_KUBECONFIG")
  . scripts/kube-env.sh
  kctl() { "$KUBE_BIN/kubectl" --kubeconfig "$WHARF_KUBECONFIG" "$@"; }
elif ! docker info >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: no Docker engine answers (CI requires one: dockerd --bridge=none --iptables=false)"
    exit 1
  fi
  runtime=process
  printf '\033[33mWARNING: no Docker engine answers: the workers run as host processes (--runtime process)\033[0m\n'
fi

image="" pid="" cluster=e2e-queue-$$
# ECS labels a task's containers with their cluster's ARN (as the agent does):
# set from CreateCluster, it finds what is left to remove.
cluster_arn=""
cleanup() {
  rc=$?
  if [ -n "$pid" ]; then
    # Ask wharf to stop the service's tasks before it goes, so its containers
    # are stopped and removed by ECS as on AWS.
    aws ecs delete-service --cluster "$cluster" --service workers --force >/dev/null 2>&1 || true
    for _ in $(seq 60); do
      [ -z "$(aws ecs list-tasks --cluster "$cluster" --query 'taskArns[0]' --output text 2>/dev/null | grep -v None)" ] && break
      sleep 0.5
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ $runtime = kubernetes ]; then
    # Whatever is left (wharf killed mid-test) goes with its namespace.
    kctl delete namespace "wharf-$cluster" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  if [ $runtime != process ] && [ -n "$cluster_arn" ]; then
    # Whatever is left (wharf killed mid-test) is removed by its cluster label.
    ids=$(docker ps -aq --filter "label=com.amazonaws.ecs.cluster=$cluster_arn" 2>/dev/null || true)
    [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1 || true
    [ -n "$image" ] && docker rmi "$image" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

go build -o "$tmp/wharf" ./cmd/wharf
CGO_ENABLED=0 go build -trimpath -o "$tmp/task" ./examples/task
if [ $runtime != process ]; then
  image=wharf-e2e/queue-worker:$$
  tar -C "$tmp" -cf - task | docker import -c 'ENTRYPOINT ["/task"]' - "$image" >/dev/null
  if [ $runtime = kubernetes ]; then scripts/kube-load "$image"; fi
fi
image_ref=${image:-$tmp/task} # the process runtime runs the binary itself

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$tmp/wharf" serve --listen "127.0.0.1:$port" --ephemeral --runtime $runtime "${kube[@]}" 2>"$tmp/log" &
pid=$!
for _ in $(seq 400); do # 20 s, as lib.sh's wharf_start_on
  curl -fs "http://127.0.0.1:$port/_wharf/health" >/dev/null 2>&1 && break
  sleep 0.05
done

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
endpoint="http://127.0.0.1:$port"
aws() { /usr/bin/aws --endpoint-url "$endpoint" --output text "$@"; }
v1cli=$(type -P aws || true) # the first aws on PATH: CLI v1 on CI machines
v1() { "$v1cli" --endpoint-url "$endpoint" --output text "$@"; }
fail() {
  echo "FAIL: $*"
  v1 application-autoscaling describe-scaling-activities --service-namespace ecs --output json 2>/dev/null | head -60 || true
  tail -30 "$tmp/log"
  exit 1
}
echo "aws CLI v2: $(/usr/bin/aws --version)"
echo "aws CLI on PATH: $("$v1cli" --version 2>&1)"

# Queue, table the workers record into, task role, task definition.
queue_url=$(aws sqs create-queue --queue-name "$cluster-jobs" --attributes VisibilityTimeout=10 --query QueueUrl)
aws dynamodb create-table --table-name "$cluster-done" --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=object,AttributeType=S --key-schema AttributeName=object,KeyType=HASH >/dev/null
role=$(aws iam create-role --role-name "$cluster-task" --query Role.Arn --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
cluster_arn=$(aws ecs create-cluster --cluster-name "$cluster" --query cluster.clusterArn)
aws ecs register-task-definition --family worker --task-role-arn "$role" --network-mode host --container-definitions '[{
  "name": "worker", "image": "'"$image_ref"'", "essential": true, "command": ["worker"], "stopTimeout": 2,
  "environment": [{"name": "QUEUE_URL", "value": "'"$queue_url"'"}, {"name": "TABLE", "value": "'"$cluster-done"'"},
                  {"name": "WORK_MS", "value": "'"$WORK_MS"'"}]}]' >/dev/null
aws ecs create-service --cluster "$cluster" --service-name workers --task-definition worker --desired-count 1 >/dev/null
for _ in $(seq 120); do
  [ "$(aws ecs describe-services --cluster "$cluster" --services workers --query 'services[0].runningCount')" = 1 ] && break
  sleep 0.5
done
[ "$(aws ecs describe-services --cluster "$cluster" --services workers --query 'services[0].runningCount')" = 1 ] ||
  fail "the service's first task is not running"
echo "  service workers: 1 task running ($runtime runtime)"

# Target tracking on backlog per task, 1 to $MAX tasks.
res=service/$cluster/workers
target=(--service-namespace ecs --resource-id "$res" --scalable-dimension ecs:service:DesiredCount)
aws application-autoscaling register-scalable-target "${target[@]}" --min-capacity 1 --max-capacity $MAX
cat >"$tmp/policy.json" <<JSON
{"TargetValue": $TARGET, "ScaleOutCooldown": 5, "ScaleInCooldown": 5,
 "CustomizedMetricSpecification": {"Metrics": [
   {"Id": "m1", "ReturnData": false, "MetricStat": {"Stat": "Average", "Metric": {
     "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
     "Dimensions": [{"Name": "QueueName", "Value": "$cluster-jobs"}]}}},
   {"Id": "m2", "ReturnData": false, "MetricStat": {"Stat": "Average", "Metric": {
     "Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount",
     "Dimensions": [{"Name": "ClusterName", "Value": "$cluster"}, {"Name": "ServiceName", "Value": "workers"}]}}},
   {"Id": "e1", "Expression": "m1 / m2", "Label": "Backlog per task", "ReturnData": true}]}}
JSON
# Metric math in CustomizedMetricSpecification came to CLI v2 in 2.13 and v1
# in 1.29: use whichever installed CLI knows it.
cli=""
for c in /usr/bin/aws $v1cli; do
  if "$c" --endpoint-url "$endpoint" application-autoscaling put-scaling-policy "${target[@]}" --policy-name backlog \
    --policy-type TargetTrackingScaling --target-tracking-scaling-policy-configuration "file://$tmp/policy.json" >/dev/null 2>"$tmp/err"; then
    cli=$c
    break
  fi
done
[ -n "$cli" ] || fail "no installed aws CLI accepts metric math in put-scaling-policy: $(cat "$tmp/err")"
echo "  policy backlog (target $TARGET messages per task, max $MAX) put with $("$cli" --version 2>&1 | cut -d' ' -f1)"

# The flood: 500 messages in batches of 10, sent by boto3 from 8 threads so
# the backlog crosses the target at once rather than over the CLI's
# start-up times.
start=$SECONDS
python3 - "$endpoint" "$queue_url" "$MESSAGES" <<'PY' || fail "flooding the queue"
import sys, boto3
from concurrent.futures import ThreadPoolExecutor
endpoint, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
def send(b):
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "m%d" % i, "MessageBody": "job-%d" % (b * 10 + i)} for i in range(10)])
    assert not out.get("Failed"), out["Failed"]
with ThreadPoolExecutor(8) as pool:
    list(pool.map(send, range(n // 10)))
PY
echo "  $MESSAGES messages sent in $((SECONDS - start)) s"

# Watch: the service reaches $MAX running tasks, the queue drains, the
# desired count returns to 1.
max_desired=1 max_running=1 drained_at="" phase=out
deadline=$((start + BUDGET))
while :; do
  read -r desired running < <(aws ecs describe-services --cluster "$cluster" --services workers --query 'services[0].[desiredCount, runningCount]')
  read -r visible inflight < <(aws sqs get-queue-attributes --queue-url "$queue_url" \
    --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
    --query 'Attributes.[ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible]')
  ((desired > max_desired)) && max_desired=$desired
  ((running > max_running)) && max_running=$running
  echo "  t+$((SECONDS - start))s desired $desired running $running, queue $visible visible $inflight in flight"
  if [ -z "$drained_at" ] && [ "$visible" = 0 ] && [ "$inflight" = 0 ]; then drained_at=$((SECONDS - start)); fi
  [ -n "$drained_at" ] && ((max_desired == MAX)) && [ "$desired" = 1 ] && [ "$running" = 1 ] && break
  ((SECONDS >= deadline)) && fail "not scaled out to $MAX, drained and back to 1 within ${BUDGET}s (max desired $max_desired, drained at ${drained_at:-never})"
  sleep 1
done
echo "  scaled out to $max_desired ($max_running running), drained at t+${drained_at}s, back to 1 at t+$((SECONDS - start))s"

((max_running == MAX)) || fail "at most $max_running tasks ran together, want $MAX"
processed=$(aws dynamodb scan --table-name "$cluster-done" --select COUNT --query Count)
[ "$processed" = $MESSAGES ] || fail "$processed of $MESSAGES messages recorded by the workers"

# DescribeScalingActivities, as AWS words them: a successful scale-out to the
# maximum and a later successful scale-in to the minimum, both caused by the
# policy's alarms.
"$cli" --endpoint-url "$endpoint" --output json application-autoscaling describe-scaling-activities "${target[@]}" >"$tmp/activities.json"
python3 - "$tmp/activities.json" "$MAX" "$res" <<'PY' || fail "scaling activities"
import json, sys
acts = json.load(open(sys.argv[1]))["ScalingActivities"]
mx, res = int(sys.argv[2]), sys.argv[3]
assert acts, "no scaling activities"
for a in acts:
    assert a["ResourceId"] == res and a["ScalableDimension"] == "ecs:service:DesiredCount", a
    assert a["StatusCode"] == "Successful", a
# Newest first.
times = [a["StartTime"] for a in acts]
assert times == sorted(times, reverse=True), times
descs = [a["Description"] for a in acts]
out = [i for i, d in enumerate(descs) if d == "Setting desired count to %d." % mx]
back = [i for i, d in enumerate(descs) if d == "Setting desired count to 1."]
assert out, "no activity scaling out to %d: %s" % (mx, descs)
assert back and back[0] < out[-1], "no scale-in to 1 after the scale-out: %s" % descs
for i in out[:1] + back[:1]:
    c = acts[i]["Cause"]
    assert c.startswith("monitor alarm TargetTracking-" + res) and "in state ALARM triggered policy backlog" in c, c
    assert acts[i]["EndTime"] >= acts[i]["StartTime"], acts[i]
print("  %d scaling activities, newest first: %s" % (len(acts), " <- ".join(descs)))
PY

[ "$(aws ecs describe-services --cluster "$cluster" --services workers --query 'services[0].desiredCount')" = 1 ] ||
  fail "final desired count is not 1"
[ "$(aws application-autoscaling describe-scalable-targets --service-namespace ecs --resource-ids "$res" --query 'ScalableTargets[0].MinCapacity')" = 1 ] ||
  fail describe-scalable-targets

# Clean up through the API: the service's tasks stop and their containers go.
aws ecs delete-service --cluster "$cluster" --service workers --force >/dev/null
for _ in $(seq 60); do
  [ "$(aws ecs list-tasks --cluster "$cluster" --query 'length(taskArns)')" = 0 ] && break
  sleep 0.5
done
[ "$(aws ecs list-tasks --cluster "$cluster" --query 'length(taskArns)')" = 0 ] || fail "tasks still running after delete-service"
if [ $runtime = docker ]; then
  for _ in $(seq 60); do
    [ -z "$(docker ps -aq --filter "label=com.amazonaws.ecs.cluster=$cluster_arn")" ] && break
    sleep 0.5
  done
  [ -z "$(docker ps -aq --filter "label=com.amazonaws.ecs.cluster=$cluster_arn")" ] || fail "containers left after the tasks stopped"
fi
if [ $runtime = kubernetes ]; then
  # The tasks were Pods, and none is left.
  pods=$(kctl get pods -n "wharf-$cluster" -l wharf.managed=true -o name)
  [ -z "$pods" ] || fail "Pods left after the tasks stopped: $pods"
  grep -q "runtime=kubernetes" "$tmp/log" || fail "wharf did not say it runs tasks on Kubernetes"
fi
echo "PASS queue-workers ($runtime): 1 -> $MAX -> 1 tasks, $MESSAGES messages in $((SECONDS - start)) s"
