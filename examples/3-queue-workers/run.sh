#!/usr/bin/env bash
# Architecture 3, queue workers that scale: an ECS service's tasks long-poll
# an SQS queue; Application Auto Scaling's target tracking policy keeps the
# queue's backlog per task (AWS/SQS ApproximateNumberOfMessagesVisible divided
# by ECS/ContainerInsights RunningTaskCount, CloudWatch metric math) near its
# target by changing the service's desired count, as AWS's "Scaling policy
# based on Amazon SQS" guide describes.
#
# Needs ECS services (CreateService and its desired-count controller). Against
# a wharf without them the script says so and exits 77 (skipped).
source "$(dirname "$0")/../lib.sh"

step "3 · queue workers: SQS backlog per task → target tracking → ECS service desired count"
require_wharf

name=wharf-ex3-$SUFFIX
cluster=$name
service=workers
queue=$name-jobs
table=$name-results
family=$name-worker
group=/wharf-examples/$name

cluster_arn=$(aws ecs create-cluster --cluster-name "$cluster" --query cluster.clusterArn)
on_exit "aws ecs delete-cluster --cluster $cluster"
if ! out=$(aws ecs list-services --cluster "$cluster" 2>&1); then
  case $out in
  *NotImplemented* | *"not implemented"* | *"Unknown operation"* | *InvalidAction*)
    printf '    %sSKIPPED%s this wharf has no ECS services yet (ListServices: %s)\n' "$YELLOW" "$RESET" "$(echo "$out" | tail -1)"
    exit 77
    ;;
  esac
  die "ecs list-services: $out"
fi
build_task_image

step "queue, table, role, log group and the worker's task definition"
# A worker stopped by scale-in leaves its message undeleted: it is visible
# again for another worker after the visibility timeout.
queue_url=$(aws sqs create-queue --queue-name "$queue" --attributes VisibilityTimeout=10 --query QueueUrl)
on_exit "aws sqs delete-queue --queue-url $queue_url"
aws dynamodb create-table --table-name "$table" --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=object,AttributeType=S --key-schema AttributeName=object,KeyType=HASH >/dev/null
on_exit "aws dynamodb delete-table --table-name $table"
aws logs create-log-group --log-group-name "$group"
on_exit "aws logs delete-log-group --log-group-name $group"
# Least privilege: the worker receives and deletes messages of this queue and
# writes items of this table, nothing else.
task_role_arn=$(task_role "$name-task" '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage"],"Resource":"arn:aws:sqs:'"$AWS_REGION:$ACCOUNT:$queue"'"},
  {"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:'"$AWS_REGION:$ACCOUNT"':table/'"$table"'"}]}')
on_exit "aws iam delete-role-policy --role-name $name-task --policy-name access; aws iam delete-role --role-name $name-task"
task_def_arn=$(aws ecs register-task-definition --family "$family" --task-role-arn "$task_role_arn" \
  --query taskDefinition.taskDefinitionArn --container-definitions '[{
    "name": "worker", "image": "'"$TASK_IMAGE"'", "essential": true, "command": ["worker"],
    "environment": [{"name": "QUEUE_URL", "value": "'"$queue_url"'"}, {"name": "TABLE", "value": "'"$table"'"},
                    {"name": "WORK_MS", "value": "1000"}],
    "logConfiguration": {"logDriver": "awslogs", "options": {
      "awslogs-group": "'"$group"'", "awslogs-region": "'"$AWS_REGION"'", "awslogs-stream-prefix": "ex3"}}}]')
on_exit "aws ecs deregister-task-definition --task-definition $task_def_arn"
ok "queue $queue_url; each worker spends 1 s per message"

step "service $service with 1 task"
aws ecs create-service --cluster "$cluster" --service-name "$service" --task-definition "$task_def_arn" \
  --desired-count 1 >/dev/null
on_exit "aws ecs delete-service --cluster $cluster --service $service --force"
on_exit "aws ecs update-service --cluster $cluster --service $service --desired-count 0"
_running() { [ "$(aws ecs describe-services --cluster "$cluster" --services "$service" --query 'services[0].runningCount')" -ge "$1" ]; }
wait_for 60 "the service's first task" _running 1
ok "1 task running"

step "target tracking: 5 visible messages per running task, 1 to 4 tasks"
resource=service/$cluster/$service
target=(--service-namespace ecs --resource-id "$resource" --scalable-dimension ecs:service:DesiredCount)
aws application-autoscaling register-scalable-target "${target[@]}" --min-capacity 1 --max-capacity 4
on_exit "aws application-autoscaling deregister-scalable-target ${target[*]}"
cat >"$EXAMPLES_WORK/policy.json" <<JSON
{"TargetValue": 5, "ScaleOutCooldown": 5, "ScaleInCooldown": 30,
 "CustomizedMetricSpecification": {"Metrics": [
   {"Id": "m1", "ReturnData": false, "MetricStat": {"Stat": "Average", "Metric": {
     "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
     "Dimensions": [{"Name": "QueueName", "Value": "$queue"}]}}},
   {"Id": "m2", "ReturnData": false, "MetricStat": {"Stat": "Average", "Metric": {
     "Namespace": "ECS/ContainerInsights", "MetricName": "RunningTaskCount",
     "Dimensions": [{"Name": "ClusterName", "Value": "$cluster"}, {"Name": "ServiceName", "Value": "$service"}]}}},
   {"Id": "e1", "Expression": "m1 / m2", "Label": "backlog per task", "ReturnData": true}]}}
JSON
# Metric math in a target tracking policy came to the CLI v2 in 2.13 (v1 in
# 1.29): use whichever installed CLI knows it.
put_policy() {
  "$1" --endpoint-url "$AWS_ENDPOINT_URL" --output text application-autoscaling put-scaling-policy "${target[@]}" \
    --policy-name backlog-per-task --policy-type TargetTrackingScaling \
    --target-tracking-scaling-policy-configuration "file://$EXAMPLES_WORK/policy.json" >/dev/null 2>&1
}
put=no
for cli in "$AWS_CLI" $(which -a aws 2>/dev/null); do
  if put_policy "$cli"; then put=yes; break; fi
done
[ $put = yes ] || die "no aws CLI here accepts metric math in put-scaling-policy (needs v2 >= 2.13 or v1 >= 1.29)"
on_exit "aws application-autoscaling delete-scaling-policy ${target[*]} --policy-name backlog-per-task"
ok "policy backlog-per-task (alarms $(aws cloudwatch describe-alarms --alarm-name-prefix "TargetTracking-$resource" --query 'MetricAlarms[].AlarmName' | wc -w) in CloudWatch)"

step "sending 60 jobs"
for batch in 0 1 2 3 4 5; do
  entries=()
  for i in 0 1 2 3 4 5 6 7 8 9; do entries+=("Id=m$i,MessageBody=job-$((batch * 10 + i))"); done
  aws sqs send-message-batch --queue-url "$queue_url" --entries "${entries[@]}" >/dev/null
done
ok "60 messages: 60 per task, 12 times the target"

step "watching the service scale out and drain the queue"
max_desired=1
deadline=$((SECONDS + 180))
while :; do
  read -r desired running < <(aws ecs describe-services --cluster "$cluster" --services "$service" --query 'services[0].[desiredCount, runningCount]')
  visible=$(aws sqs get-queue-attributes --queue-url "$queue_url" --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
    --query 'Attributes.[ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible]' | tr '\t' '+')
  done_n=$(aws dynamodb scan --table-name "$table" --select COUNT --query Count)
  info "desired $desired, running $running · queue visible+in flight $visible · processed $done_n/60"
  [ "$desired" -gt "$max_desired" ] && max_desired=$desired
  [ "$done_n" -ge 60 ] && break
  [ $SECONDS -ge $deadline ] && die "the queue was not drained in 180s"
  sleep 3
done
[ "$max_desired" -gt 1 ] || die "the service never scaled out (desired count stayed 1)"
ok "scaled out to $max_desired tasks; all 60 jobs processed"
info "$(aws application-autoscaling describe-scaling-activities "${target[@]}" --query 'ScalingActivities[0].[Description, Cause]' | tr '\t' ' ')"
info "desired count now $(aws ecs describe-services --cluster "$cluster" --services "$service" --query 'services[0].desiredCount') (scale-in once the backlog per task stays below 5, ScaleInCooldown 30 s)"
ok "architecture 3 works"
