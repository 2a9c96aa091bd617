#!/usr/bin/env bash
# ECS end to end with the aws CLI v2 and boto3 against the built binary, tasks as
# real Docker containers (host networking) from an image built FROM scratch with
# the static test program (test/images/task). Without an engine the tasks run
# with the process runtime instead, except in CI (CI=true), where that fails.
source "$(dirname "$0")/lib.sh"
CGO_ENABLED=0 go build -trimpath -o "$tmp/task" ./test/images/task
if docker info >/dev/null 2>&1; then
  runtime=docker image=wharf-test/task:latest
  tar -C "$tmp" -cf - task | docker import -c 'ENTRYPOINT ["/task"]' - "$image" >/dev/null
elif [ "${CI:-}" = true ]; then
  echo "FAIL: no Docker engine answers (CI requires one)"; exit 1
else
  echo "no Docker engine: running tasks with the process runtime"
  runtime=process image="$tmp/task"
fi
wharf_start --ephemeral --runtime "$runtime"
aws2() { /usr/bin/aws --endpoint-url "$endpoint" "$@"; }

# wait_status ARN STATUS: poll describe-tasks (the CLI's waiter polls every 6 s).
wait_status() {
  for _ in $(seq 600); do
    [ "$(aws2 ecs describe-tasks --cluster e2e --tasks "$1" --query 'tasks[0].lastStatus' --output text)" = "$2" ] && return 0
    sleep 0.1
  done
  fail "task $1 never reached $2"
}

echo "aws CLI v2 ($runtime runtime)"
aws2 ecs create-cluster --cluster-name e2e --query cluster.status --output text | grep -qx ACTIVE || fail create-cluster
cat >"$tmp/td.json" <<JSON
{"family": "e2e", "networkMode": "host", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
 "containerDefinitions": [{"name": "main", "image": "$image", "essential": true, "command": ["exit", "3"], "stopTimeout": 5,
   "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/e2e", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}}]}
JSON
td=$(aws2 ecs register-task-definition --cli-input-json "file://$tmp/td.json" --query taskDefinition.taskDefinitionArn --output text) || fail register
[ "$td" = "arn:aws:ecs:us-east-1:000000000000:task-definition/e2e:1" ] || fail "task definition ARN $td"

task=$(aws2 ecs run-task --cluster e2e --task-definition e2e --launch-type FARGATE \
  --network-configuration 'awsvpcConfiguration={subnets=[subnet-1],assignPublicIp=DISABLED}' \
  --query 'tasks[0].taskArn' --output text) || fail run-task
case "$task" in arn:aws:ecs:us-east-1:000000000000:task/e2e/*) ;; *) fail "task ARN $task" ;; esac
wait_status "$task" STOPPED
got=$(aws2 ecs describe-tasks --cluster e2e --tasks "$task" --query 'tasks[0].[stopCode,containers[0].exitCode]' --output text)
[ "$got" = "EssentialContainerExited	3" ] || fail "stopped task: $got"
id=${task##*/}
aws2 logs get-log-events --log-group-name /ecs/e2e --log-stream-name "ecs/main/$id" --query 'events[].message' --output text | grep -q "exiting with 3" \
  || fail "awslogs output missing"

task=$(aws2 ecs run-task --cluster e2e --task-definition e2e --overrides '{"containerOverrides":[{"name":"main","command":["sleep"]}]}' \
  --query 'tasks[0].taskArn' --output text) || fail run-task sleep
wait_status "$task" RUNNING
aws2 ecs list-tasks --cluster e2e --query taskArns --output text | grep -q "$task" || fail list-tasks
aws2 ecs stop-task --cluster e2e --task "$task" --reason "e2e says stop" --query task.desiredStatus --output text | grep -qx STOPPED || fail stop-task
wait_status "$task" STOPPED
got=$(aws2 ecs describe-tasks --cluster e2e --tasks "$task" --query 'tasks[0].[stopCode,stoppedReason,containers[0].exitCode]' --output text)
[ "$got" = "UserInitiated	e2e says stop	0" ] || fail "stopped task: $got"

echo "boto3"
WHARF_ENDPOINT=$endpoint python3 - <<'PY' || fail boto3
import os, boto3
c = boto3.client("ecs", endpoint_url=os.environ["WHARF_ENDPOINT"])
assert c.list_task_definition_families()["families"] == ["e2e"]
stopped = c.list_tasks(cluster="e2e", desiredStatus="STOPPED")["taskArns"]
assert len(stopped) == 2, stopped
d = c.describe_tasks(cluster="e2e", tasks=stopped + ["arn:aws:ecs:us-east-1:000000000000:task/e2e/0000"])
assert len(d["tasks"]) == 2 and d["failures"][0]["reason"] == "MISSING", d["failures"]
c.deregister_task_definition(taskDefinition="e2e:1")
assert c.list_task_definitions()["taskDefinitionArns"] == []
try:
    c.run_task(cluster="e2e", taskDefinition="e2e")
    raise SystemExit("ran an inactive task definition")
except c.exceptions.ClientException:
    pass
assert c.delete_cluster(cluster="e2e")["cluster"]["status"] == "INACTIVE"
PY
echo "ok"
