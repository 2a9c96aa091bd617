#!/usr/bin/env bash
# Terraform as on AWS: the four architectures in examples/terraform/, written for
# AWS with the hashicorp/aws provider (Fargate, awsvpc, least-privilege roles,
# public access blocks, encryption, lifecycle rules, DLQs, target tracking,
# topic policies...), each against one wharf:
#
#   terraform init   from the provider's filesystem mirror, offline
#   terraform apply
#   terraform plan -detailed-exitcode   must show no changes (exit 0)
#   an exercise that proves the architecture works:
#     1 upload -> item     2 schedule -> batch     3 backlog -> scale
#     4 failed task -> alert on the topic's SQS subscriber
#   terraform destroy
#
# and, once all are destroyed, nothing they made is left in wharf. A
# fifth stack, extras, declares the resources teams commonly add to these
# (resource policies, bucket notifications, a custom bus and archive,
# capacity providers, managed policies, an instance profile, a table with
# streams, PITR, TTL, a GSI and encryption, a scheduled action, a metric
# filter): applied, re-planned clean, exercised and destroyed alongside.
#
# Needs terraform on PATH and the hashicorp/aws provider in a filesystem mirror
# (a directory holding registry.terraform.io/hashicorp/aws/...): the first found
# of $TF_PROVIDER_MIRROR, ~/.terraform.d/plugins and `find / -xdev -maxdepth 3
# -name registry.terraform.io`. Without them the test fails; it never skips.
# Tasks run on wharf's process runtime (examples/task as a host process), so
# no container engine is needed. The five stacks run at the same time.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

fail() { echo "FAIL: $*"; exit 1; }

command -v terraform >/dev/null 2>&1 ||
  fail "terraform is not on PATH: this test deploys the stacks in examples/terraform with it (install Terraform >= 1.5)"
mirror=""
for reg in ${TF_PROVIDER_MIRROR:+"$TF_PROVIDER_MIRROR/registry.terraform.io"} "$HOME/.terraform.d/plugins/registry.terraform.io" \
  $(find / -xdev -maxdepth 3 -type d -name registry.terraform.io 2>/dev/null); do
  if [ -d "$reg/hashicorp/aws" ]; then
    mirror=$(dirname "$reg")
    break
  fi
done
[ -n "$mirror" ] || fail "no filesystem mirror holding registry.terraform.io/hashicorp/aws (set TF_PROVIDER_MIRROR to its parent directory)"

tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/wharf" ./cmd/wharf
CGO_ENABLED=0 go build -trimpath -o "$tmp/task" ./examples/task
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
"$tmp/wharf" serve --listen "127.0.0.1:$port" --ephemeral --runtime process 2>"$tmp/wharf.log" &
pid=$!
for _ in $(seq 200); do
  curl -fs "$endpoint/_wharf/health" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -fs "$endpoint/_wharf/health" >/dev/null || fail "wharf did not start: $(cat "$tmp/wharf.log")"

# Terraform reads its CLI configuration from this file only; the provider
# comes from the mirror and is unpacked once into the plugin cache.
cat >"$tmp/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/*/*"]
  }
}
plugin_cache_dir = "$tmp/plugin-cache"
EOF
mkdir -p "$tmp/plugin-cache"
export TF_CLI_CONFIG_FILE=$tmp/terraformrc TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
unset TF_PLUGIN_CACHE_DIR TF_DATA_DIR TF_LOG TF_WORKSPACE
echo "  $(terraform version | head -1), provider mirror $mirror"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN
if [ -x /usr/bin/aws ]; then cli=/usr/bin/aws; else cli=aws; fi
aws() { "$cli" --endpoint-url "$endpoint" --output text "$@"; }

# wait_for SECONDS WHAT COMMAND...: run COMMAND every half second until it
# succeeds; fail after SECONDS.
wait_for() {
  local secs=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for $what"
    sleep 0.5
  done
}

# tf STACK ARGS...: terraform in the stack's directory, with state and the
# provider's working directory under $tmp, pointed at this wharf.
tf() {
  local stack=$1
  shift
  TF_DATA_DIR=$tmp/$stack/.terraform timeout 600 terraform -chdir="$repo/examples/terraform/$stack" "$@"
}
vars() { echo -var "endpoint=$endpoint" -var "task_image=$tmp/task"; }

# init STACK: the provider from the mirror. One at a time: terraform does not
# share its plugin cache safely between concurrent inits.
init() {
  mkdir -p "$tmp/$1"
  tf "$1" init -no-color >"$tmp/$1/init.log" 2>&1 || fail "$1: terraform init: $(cat "$tmp/$1/init.log")"
}

# deploy STACK: apply, and a plan that must find nothing to change.
deploy() {
  local stack=$1 rc=0
  # -state keeps the state out of the source tree.
  # shellcheck disable=SC2046
  tf "$stack" apply -no-color -auto-approve -state="$tmp/$stack/tfstate" $(vars) >"$tmp/$stack/apply.log" 2>&1 ||
    fail "$stack: terraform apply: $(grep -A12 'Error' "$tmp/$stack/apply.log" | head -60)"
  # shellcheck disable=SC2046
  tf "$stack" plan -no-color -detailed-exitcode -state="$tmp/$stack/tfstate" $(vars) >"$tmp/$stack/plan.log" 2>&1 || rc=$?
  [ $rc -eq 0 ] || fail "$stack: the plan after apply is not empty (exit $rc): $(grep -v 'Refreshing state\|Reading\|Read complete' "$tmp/$stack/plan.log" | head -80)"
  echo "  $stack: applied ($(grep -o 'Resources: [0-9]* added' "$tmp/$stack/apply.log")), plan shows no changes"
}

destroy() {
  local stack=$1
  # shellcheck disable=SC2046
  tf "$stack" destroy -no-color -auto-approve -state="$tmp/$stack/tfstate" $(vars) >"$tmp/$stack/destroy.log" 2>&1 ||
    fail "$stack: terraform destroy: $(grep -A12 'Error' "$tmp/$stack/destroy.log" | head -60)"
  echo "  $stack: destroyed ($(grep -o 'Resources: [0-9]* destroyed' "$tmp/$stack/destroy.log"))"
}

output() { tf "$1" output -state="$tmp/$1/tfstate" -raw "$2"; }

# 1: an object under incoming/ -> Object Created -> rule -> RunTask -> the
# task reads it with its role and writes its counts to DynamoDB.
exercise1() {
  local bucket table key got
  bucket=$(output 1-event-driven-task bucket)
  table=$(output 1-event-driven-task table)
  printf 'the quick brown fox\njumps over\nthe lazy dog\n' >"$tmp/hello.txt"
  aws s3 cp "$tmp/hello.txt" "s3://$bucket/incoming/hello.txt" >/dev/null
  key='{"object": {"S": "s3://'"$bucket"'/incoming/hello.txt"}}'
  _counted() { [ "$(aws dynamodb get-item --table-name "$table" --key "$key" --query Item.words.N)" = 9 ]; }
  wait_for 90 "the task's item for incoming/hello.txt in $table" _counted
  got=$(aws dynamodb get-item --table-name "$table" --key "$key" --query '[Item.lines.N, Item.words.N, Item.bytes.N]' | tr '\t' ' ')
  [ "$got" = "3 9 44" ] || fail "1-event-driven-task: item counts $got, want 3 9 44"
  echo "  1-event-driven-task: upload -> Object Created -> ECS task -> item (3 lines, 9 words, 44 bytes)"
}

# 2: the schedule runs the batch task, which summarises every object under
# the prefix. Scheduler rate schedules first run when they are created, so
# the apply itself ran a batch over the empty prefix; after three reports are
# uploaded, replacing the schedule runs it again.
exercise2() {
  local bucket table prefix key got i
  bucket=$(output 2-scheduled-task bucket)
  table=$(output 2-scheduled-task table)
  prefix=$(output 2-scheduled-task prefix)
  key='{"object": {"S": "batch:s3://'"$bucket"'/'"$prefix"'"}}'
  _summary() { [ "$(aws dynamodb get-item --table-name "$table" --key "$key" --query Item.objects.N)" = "$1" ]; }
  wait_for 90 "the first scheduled batch's summary in $table" _summary 0
  for i in 1 2 3; do
    printf 'report %s\nall systems nominal\n' "$i" >"$tmp/r$i.txt"
    aws s3 cp "$tmp/r$i.txt" "s3://$bucket/${prefix}r$i.txt" >/dev/null
  done
  aws s3 cp "$tmp/r1.txt" "s3://$bucket/elsewhere/ignored.txt" >/dev/null
  # shellcheck disable=SC2046
  tf 2-scheduled-task apply -no-color -auto-approve -state="$tmp/2-scheduled-task/tfstate" $(vars) \
    -replace=aws_scheduler_schedule.batch >"$tmp/2-scheduled-task/replace.log" 2>&1 ||
    fail "2-scheduled-task: apply -replace: $(grep -A12 'Error' "$tmp/2-scheduled-task/replace.log" | head -40)"
  wait_for 90 "the second scheduled batch's summary in $table" _summary 3
  got=$(aws dynamodb get-item --table-name "$table" --key "$key" --query '[Item.objects.N, Item.lines.N, Item.words.N]' | tr '\t' ' ')
  [ "$got" = "3 6 15" ] || fail "2-scheduled-task: summary $got, want 3 objects, 6 lines, 15 words"
  echo "  2-scheduled-task: schedule -> ECS task -> batch over $prefix (3 objects, 6 lines, 15 words)"
}

# 3: a backlog of 40 jobs, 5 per task wanted: target tracking scales the
# service out (its scaling activities say so) and the workers drain the queue.
exercise3() {
  local queue cluster service table done_n=0 i j entries out
  queue=$(output 3-queue-workers queue_url)
  cluster=$(output 3-queue-workers cluster)
  service=$(output 3-queue-workers service)
  table=$(output 3-queue-workers table)
  for i in 0 1 2 3; do
    entries=()
    for j in 0 1 2 3 4 5 6 7 8 9; do entries+=("Id=m$j,MessageBody=job-$((i * 10 + j))"); done
    aws sqs send-message-batch --queue-url "$queue" --entries "${entries[@]}" >/dev/null
  done
  _drained() {
    done_n=$(aws dynamodb scan --table-name "$table" --select COUNT --query Count)
    [ "$done_n" -ge 40 ]
  }
  wait_for 180 "the workers to process 40 jobs (at $done_n)" _drained
  out=$(aws application-autoscaling describe-scaling-activities --service-namespace ecs \
    --resource-id "service/$cluster/$service" --scalable-dimension ecs:service:DesiredCount \
    --query "ScalingActivities[?StatusCode=='Successful'].Description")
  echo "$out" | grep -Eq 'Setting desired count to [2-4]\.' ||
    fail "3-queue-workers: 40 jobs done but the service never scaled out; activities: $out"
  echo "  3-queue-workers: 40 jobs -> target tracking on backlog per task scaled the service out ($(echo "$out" | grep -Eo 'to [2-4]' | sort -u | tr '\n' ' ')) -> all 40 done"
}

# 4: a task that exits 3 -> ECS Task State Change -> rule -> topic -> the
# queue subscribed to it receives the alert.
exercise4() {
  local queue cluster taskdef msg
  queue=$(output 4-alerts queue_url)
  cluster=$(output 4-alerts cluster)
  taskdef=$(output 4-alerts task_definition)
  aws ecs run-task --cluster "$cluster" --task-definition "$taskdef" --launch-type FARGATE \
    --network-configuration 'awsvpcConfiguration={subnets=[subnet-0a1b2c3d4e5f60001],assignPublicIp=DISABLED}' \
    --overrides '{"containerOverrides": [{"name": "report", "command": ["crash", "3"]}]}' >/dev/null
  _alert() {
    msg=$(aws sqs receive-message --queue-url "$queue" --wait-time-seconds 1 --query 'Messages[0].Body')
    [ -n "$msg" ] && [ "$msg" != None ]
  }
  wait_for 90 "the alert in the subscribed queue" _alert
  echo "$msg" | grep -Eq '^"Task family:tf-alerts-report stopped: Essential container in task exited, exit 3"$' ||
    fail "4-alerts: the alert reads $msg"
  echo "  4-alerts: task exit 3 -> rule -> SNS -> SQS: $msg"
}

# extras: resources beyond the four architectures. A bucket notification
# sends an upload under uploads/ to the queue, and an ERROR line in the
# worker's log group becomes a WorkerErrors datapoint through the metric filter.
exercise5() {
  local bucket queue body got
  bucket=$(output extras bucket)
  queue=$(output extras queue_url)
  printf 'order 1\n' >"$tmp/order.txt"
  aws s3 cp "$tmp/order.txt" "s3://$bucket/uploads/order.txt" >/dev/null
  _notified() {
    body=$(aws sqs receive-message --queue-url "$queue" --wait-time-seconds 1 --query 'Messages[0].Body')
    echo "$body" | grep -q '"eventName":"ObjectCreated:Put"'
  }
  wait_for 60 "the bucket's ObjectCreated notification in the queue" _notified
  echo "$body" | grep -q '"key":"uploads/order.txt"' || fail "extras: the notification names another object: $body"
  aws logs create-log-stream --log-group-name /ecs/tf-extras-worker --log-stream-name manual >/dev/null
  aws logs put-log-events --log-group-name /ecs/tf-extras-worker --log-stream-name manual \
    --log-events "timestamp=$(($(date +%s) * 1000)),message=ERROR disk full" >/dev/null
  got=$(aws cloudwatch get-metric-statistics --namespace Wharf/Extras --metric-name WorkerErrors \
    --start-time "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" --end-time "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
    --period 7200 --statistics Sum --query 'Datapoints[0].Sum')
  [ "$got" = 1.0 ] || fail "extras: WorkerErrors sum is $got after one ERROR line, want 1.0"
  echo "  extras: upload -> bucket notification -> queue; ERROR log line -> metric filter -> WorkerErrors 1"
}

stacks=(1-event-driven-task 2-scheduled-task 3-queue-workers 4-alerts extras)
# The provider's waits (a new queue's attributes are read until six reads
# in a row agree, 5 s apart) dominate: the stacks run side by side.
for stack in "${stacks[@]}"; do init "$stack"; done
jobs=()
for n in 1 2 3 4 5; do
  stack=${stacks[$((n - 1))]}
  (deploy "$stack" && "exercise$n" && destroy "$stack") >"$tmp/$stack.out" 2>&1 &
  jobs+=($!)
done
failed=0
for n in 1 2 3 4 5; do
  stack=${stacks[$((n - 1))]}
  rc=0
  wait "${jobs[$((n - 1))]}" || rc=$?
  sed 's/^/  /' "$tmp/$stack.out"
  if [ $rc -ne 0 ]; then failed=1; fi
done
[ $failed -eq 0 ] || fail "a stack failed (wharf's log: $(tail -30 "$tmp/wharf.log"))"

# Nothing the stacks made is left.
left=""
check_empty() {
  local what=$1 got
  shift
  got=$(aws "$@" 2>&1) || fail "$what: $got"
  got=$(echo "$got" | grep -v '^None$' | grep -v '^$' || true)
  [ -z "$got" ] || left="$left
$what: $got"
}
check_empty buckets s3api list-buckets --query 'Buckets[].Name'
check_empty tables dynamodb list-tables --query 'TableNames[]'
check_empty queues sqs list-queues --query 'QueueUrls[]'
check_empty topics sns list-topics --query 'Topics[].TopicArn'
check_empty clusters ecs describe-clusters --clusters tf-ingest tf-nightly tf-jobs tf-alerts tf-extras-cluster --query "clusters[?status=='ACTIVE'].clusterName"
check_empty "task definitions" ecs list-task-definitions --status ACTIVE --query 'taskDefinitionArns[]'
check_empty roles iam list-roles --query 'Roles[].RoleName'
check_empty policies iam list-policies --scope Local --query 'Policies[].PolicyName'
check_empty users iam list-users --query 'Users[].UserName'
check_empty "instance profiles" iam list-instance-profiles --query 'InstanceProfiles[].InstanceProfileName'
check_empty "event buses" events list-event-buses --query "EventBuses[?Name!='default'].Name"
check_empty archives events list-archives --query 'Archives[].ArchiveName'
check_empty "metric filters" logs describe-metric-filters --query 'metricFilters[].filterName'
check_empty "scheduled actions" application-autoscaling describe-scheduled-actions --service-namespace ecs --query 'ScheduledActions[].ScheduledActionName'
check_empty rules events list-rules --query 'Rules[].Name'
check_empty schedules scheduler list-schedules --query 'Schedules[].Name'
check_empty "schedule groups" scheduler list-schedule-groups --query "ScheduleGroups[?Name!='default'].Name"
check_empty "log groups" logs describe-log-groups --query 'logGroups[].logGroupName'
check_empty alarms cloudwatch describe-alarms --query '[MetricAlarms[].AlarmName, CompositeAlarms[].AlarmName]'
check_empty dashboards cloudwatch list-dashboards --query 'DashboardEntries[].DashboardName'
check_empty "scalable targets" application-autoscaling describe-scalable-targets --service-namespace ecs --query 'ScalableTargets[].ResourceId'
[ -z "$left" ] || fail "left in wharf after destroy:$left"
echo "  nothing left in wharf after the five destroys"
echo "terraform: ok"
