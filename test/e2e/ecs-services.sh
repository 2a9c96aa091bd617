#!/usr/bin/env bash
# ECS services end to end with clients nobody here wrote: the aws CLI v2 at
# /usr/bin/aws (and its services-stable waiter), v1 on PATH, and boto3, on the
# process runtime (tasks are host processes). A service converges to its
# desired count, scales, rolls to a new revision, and drains on delete; its
# deployment state changes reach an SQS queue through an EventBridge rule.
source "$(dirname "$0")/lib.sh"
wharf_start --ephemeral --runtime process --process-images sleep
v2() { /usr/bin/aws --endpoint-url "$endpoint" "$@"; }
v1() { aws --endpoint-url "$endpoint" "$@"; }
svc=(--cluster c --services web)
# settle: poll until the service looks stable, so the CLI's services-stable
# waiter (which sleeps 15 s between its checks) confirms on its first check.
settle() {
  for _ in $(seq 200); do
    [[ $(v2 ecs describe-services "${svc[@]}" --query 'services[0].[length(deployments),runningCount==desiredCount]' --output text) \
      == $'1\tTrue' ]] && return 0
    sleep 0.1
  done
}

echo "aws CLI v2: $(/usr/bin/aws --version)"
v2 ecs create-cluster --cluster-name c >/dev/null
def='[{"name":"main","image":"sleep","command":["300"],"essential":true}]'
rev1=$(v2 ecs register-task-definition --family web --container-definitions "$def" --query taskDefinition.taskDefinitionArn --output text)

# Deployment state changes go to a queue through a rule on the default bus.
qurl=$(v2 sqs create-queue --queue-name deployments --query QueueUrl --output text)
qarn=$(v2 sqs get-queue-attributes --queue-url "$qurl" --attribute-names QueueArn --query Attributes.QueueArn --output text)
v2 events put-rule --name deployments --event-pattern '{"source":["aws.ecs"],"detail-type":["ECS Deployment State Change"]}' >/dev/null
v2 events put-targets --rule deployments --targets "Id=q,Arn=$qarn" >/dev/null

if ! v2 ecs create-service --cluster c --service-name web --task-definition web --desired-count 2 \
  --deployment-configuration 'maximumPercent=200,minimumHealthyPercent=100,deploymentCircuitBreaker={enable=true,rollback=true}' \
  >/dev/null 2>"$tmp/err"; then
  fail "create-service: $(cat "$tmp/err")"
fi
settle; v2 ecs wait services-stable "${svc[@]}" || fail "services-stable after create"
[[ $(v2 ecs describe-services "${svc[@]}" --query 'services[0].[runningCount,desiredCount,deployments[0].rolloutState]' --output text) \
  == $'2\t2\tCOMPLETED' ]] || fail "counts after create"
[[ $(v2 ecs describe-services "${svc[@]}" --query 'services[0].events[0].message' --output text) \
  == "(service web) has reached a steady state." ]] || fail "steady state event"
dep=$(v2 ecs describe-services "${svc[@]}" --query 'services[0].deployments[0].id' --output text)
[[ $(v2 ecs list-tasks --cluster c --started-by "$dep" --query 'length(taskArns)') == 2 ]] || fail "tasks started by $dep"
echo "  converged to 2 ($dep)"

echo "  a stopped task is replaced"
first=$(v2 ecs list-tasks --cluster c --query 'taskArns[0]' --output text)
v2 ecs stop-task --cluster c --task "$first" >/dev/null
for _ in $(seq 100); do
  [[ $(v2 ecs list-tasks --cluster c --query 'length(taskArns)') == 2 && \
     $(v2 ecs list-tasks --cluster c --query 'taskArns[0]' --output text) != "$first" ]] && break
  sleep 0.1
done
settle; v2 ecs wait services-stable "${svc[@]}" || fail "services-stable after a stopped task"
[[ $(v2 ecs list-tasks --cluster c --query 'length(taskArns)') == 2 ]] || fail "no replacement"

echo "aws CLI v1: $(aws --version 2>&1)"
v1 ecs update-service --cluster c --service web --desired-count 3 >/dev/null
settle; v1 ecs wait services-stable "${svc[@]}" || fail "services-stable after scaling to 3"
[[ $(v1 ecs describe-services "${svc[@]}" --query 'services[0].runningCount') == 3 ]] || fail "not 3 running"
echo "  scaled to 3"

def2='[{"name":"main","image":"sleep","command":["301"],"essential":true}]'
rev2=$(v1 ecs register-task-definition --family web --container-definitions "$def2" --query taskDefinition.taskDefinitionArn --output text)
v1 ecs update-service --cluster c --service web --task-definition web >/dev/null
settle; v1 ecs wait services-stable "${svc[@]}" || fail "services-stable after the deployment"
[[ $(v1 ecs describe-services "${svc[@]}" --query 'services[0].[taskDefinition,length(deployments)]' --output text) \
  == "$rev2"$'\t'1 ]] || fail "not on $rev2"
v1 ecs describe-services "${svc[@]}" --query 'services[0].events[].message' --output text | tr '\t' '\n' \
  | grep -q '^(service web) has stopped 3 running tasks: (task ' || fail "no stopped-tasks event"
echo "  rolled from $rev1 to $rev2"

echo "boto3"
python3 - "$endpoint" <<'PY'
import sys, boto3
ecs = boto3.client("ecs", endpoint_url=sys.argv[1])
out = ecs.describe_services(cluster="c", services=["web", "nope"])
assert [s["serviceName"] for s in out["services"]] == ["web"], out
assert out["failures"][0]["reason"] == "MISSING" and out["failures"][0]["arn"].endswith(":service/c/nope"), out["failures"]
assert ecs.list_services(cluster="c")["serviceArns"] == [out["services"][0]["serviceArn"]]
try:
    ecs.delete_service(cluster="c", service="web")
    raise SystemExit("delete of a service above 0 succeeded")
except ecs.exceptions.InvalidParameterException as e:
    assert "scaled above 0" in str(e), e
try:
    ecs.update_service(cluster="c", service="nope", desiredCount=1)
    raise SystemExit("update of a missing service succeeded")
except ecs.exceptions.ServiceNotFoundException:
    pass
s = ecs.delete_service(cluster="c", service="web", force=True)["service"]
assert s["status"] == "DRAINING" and s["desiredCount"] == 0, s
assert ecs.list_services(cluster="c")["serviceArns"] == []
PY
for _ in $(seq 100); do
  [[ $(v2 ecs describe-services "${svc[@]}" --query 'services[0].status' --output text) == INACTIVE ]] && break
  sleep 0.1
done
[[ $(v2 ecs describe-services "${svc[@]}" --query 'services[0].status' --output text) == INACTIVE ]] || fail "not INACTIVE"
[[ $(v2 ecs list-tasks --cluster c --query 'length(taskArns)') == 0 ]] || fail "tasks left after delete"
echo "  deleted: DRAINING then INACTIVE, no task left"

echo "  deployment events through EventBridge to SQS"
python3 - "$endpoint" "$qurl" "$dep" <<'PY'
import sys, json, time, boto3
sqs = boto3.client("sqs", endpoint_url=sys.argv[1])
seen, deadline = [], time.time() + 10
while time.time() < deadline and len(seen) < 4:
    for m in sqs.receive_message(QueueUrl=sys.argv[2], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        seen.append(json.loads(m["Body"]))
names = [(e["detail"]["eventName"], e["detail"]["deploymentId"]) for e in seen]
assert ("SERVICE_DEPLOYMENT_IN_PROGRESS", sys.argv[3]) in names and ("SERVICE_DEPLOYMENT_COMPLETED", sys.argv[3]) in names, names
e = seen[0]
assert e["source"] == "aws.ecs" and e["resources"][0].endswith(":service/c/web"), e
assert set(e["detail"]) == {"eventType", "eventName", "deploymentId", "updatedAt", "reason"}, e["detail"]
PY

echo "PASS ecs-services"
