#!/usr/bin/env bash
# Architecture 2, scheduled tasks: an EventBridge Scheduler schedule,
# rate(1 hour), runs an ECS task that batch-processes every object under a
# prefix and writes one item per object and a summary item to DynamoDB. A rate
# schedule without a start date fires at once and then every hour
# (Scheduler's "Rate-based schedules"), so the first batch runs right away.
source "$(dirname "$0")/../lib.sh"

step "2 · scheduled task: Scheduler rate(1 hour) → ECS RunTask → batch over an S3 prefix"
require_wharf
build_task_image

name=wharf-ex2-$SUFFIX
bucket=$name
table=$name-results
cluster=$name
family=$name-nightly-batch
group=/wharf-examples/$name

step "making the bucket with a day of reports under reports/, the table, roles and cluster"
aws s3api create-bucket --bucket "$bucket" >/dev/null
on_exit "aws s3 rb s3://$bucket --force"
for i in 1 2 3; do
  printf 'report %s\nall systems nominal\n' "$i" >"$EXAMPLES_WORK/r$i.txt"
  aws s3 cp "$EXAMPLES_WORK/r$i.txt" "s3://$bucket/reports/2024-06-01/r$i.txt" >/dev/null
done
# Not under the prefix: the batch must leave it alone.
aws s3 cp "$EXAMPLES_WORK/r1.txt" "s3://$bucket/other/ignored.txt" >/dev/null
ok "s3://$bucket/reports/2024-06-01/ holds 3 objects (2 lines, 5 words each); other/ holds 1"

aws dynamodb create-table --table-name "$table" --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=object,AttributeType=S --key-schema AttributeName=object,KeyType=HASH >/dev/null
on_exit "aws dynamodb delete-table --table-name $table"
aws logs create-log-group --log-group-name "$group"
on_exit "aws logs delete-log-group --log-group-name $group"

# Least privilege: the task lists and reads the day's prefix of this bucket
# and writes items of this table, nothing else.
prefix=reports/2024-06-01/
task_role_arn=$(task_role "$name-task" '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::'"$bucket"'",
   "Condition":{"StringLike":{"s3:prefix":"'"$prefix"'*"}}},
  {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::'"$bucket/$prefix"'*"},
  {"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:'"$AWS_REGION:$ACCOUNT"':table/'"$table"'"}]}')
on_exit "aws iam delete-role-policy --role-name $name-task --policy-name access; aws iam delete-role --role-name $name-task"
cluster_arn=$(aws ecs create-cluster --cluster-name "$cluster" --query cluster.clusterArn)
on_exit "aws ecs delete-cluster --cluster $cluster"
# Scheduler's role may run this family's tasks in this cluster only, and pass
# the task role to ECS tasks only.
scheduler_role_arn=$(aws iam create-role --role-name "$name-scheduler" --query Role.Arn \
  --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
aws iam put-role-policy --role-name "$name-scheduler" --policy-name access --policy-document '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:'"$AWS_REGION:$ACCOUNT"':task-definition/'"$family"':*",
   "Condition":{"ArnEquals":{"ecs:cluster":"'"$cluster_arn"'"}}},
  {"Effect":"Allow","Action":"iam:PassRole","Resource":"'"$task_role_arn"'",
   "Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}]}'
on_exit "aws iam delete-role-policy --role-name $name-scheduler --policy-name access; aws iam delete-role --role-name $name-scheduler"
ok "task role (s3:ListBucket and s3:GetObject of $prefix, dynamodb:PutItem on the table) and Scheduler's role (ecs:RunTask of $family in $cluster, iam:PassRole of the task role)"
task_def_arn=$(aws ecs register-task-definition --family "$family" --task-role-arn "$task_role_arn" \
  --query taskDefinition.taskDefinitionArn --container-definitions '[{
    "name": "batch", "image": "'"$TASK_IMAGE"'", "essential": true, "command": ["batch"],
    "environment": [{"name": "BUCKET", "value": "'"$bucket"'"}, {"name": "PREFIX", "value": "'"$prefix"'"},
                    {"name": "TABLE", "value": "'"$table"'"}],
    "logConfiguration": {"logDriver": "awslogs", "options": {
      "awslogs-group": "'"$group"'", "awslogs-region": "'"$AWS_REGION"'", "awslogs-stream-prefix": "ex2"}}}]')
on_exit "aws ecs deregister-task-definition --task-definition $task_def_arn"
ok "cluster $cluster and task definition $task_def_arn"

step "schedule: rate(1 hour) → run the batch task"
cat >"$EXAMPLES_WORK/target.json" <<JSON
{"Arn": "$cluster_arn", "RoleArn": "$scheduler_role_arn",
 "EcsParameters": {"TaskDefinitionArn": "$task_def_arn", "TaskCount": 1}}
JSON
aws scheduler create-schedule --name "$name" --schedule-expression 'rate(1 hour)' \
  --flexible-time-window Mode=OFF --target "file://$EXAMPLES_WORK/target.json" >/dev/null
on_exit "aws scheduler delete-schedule --name $name"
ok "schedule $name: $(aws scheduler get-schedule --name "$name" --query '[ScheduleExpression, State]' | tr '\t' ' ')"

step "waiting for the first batch's summary in DynamoDB"
key='{"object": {"S": "batch:s3://'"$bucket"'/reports/2024-06-01/"}}'
_summary() { local n; n=$(aws dynamodb get-item --table-name "$table" --key "$key" --query Item.objects.N); [ -n "$n" ] && [ "$n" != None ]; }
wait_for 90 "the batch summary in $table" _summary
read -r objects lines words < <(aws dynamodb get-item --table-name "$table" --key "$key" --query '[Item.objects.N, Item.lines.N, Item.words.N]')
info "summary: objects=$objects lines=$lines words=$words"
[ "$objects $lines $words" = "3 6 15" ] || die "expected 3 objects, 6 lines, 15 words"
items=$(aws dynamodb scan --table-name "$table" --select COUNT --query Count)
[ "$items" = 4 ] || die "expected 4 items (3 objects + summary), found $items"
ok "3 objects under the prefix processed, other/ignored.txt left alone"

task_arn=$(aws ecs list-tasks --cluster "$cluster" --desired-status STOPPED --query 'taskArns[0]')
[ "$task_arn" = None ] && task_arn=$(aws ecs list-tasks --cluster "$cluster" --query 'taskArns[0]')
wait_task_stopped "$cluster" "$task_arn" 60
info "task $task_arn: $(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
  --query 'tasks[0].[lastStatus, startedBy, containers[0].exitCode]' | tr '\t' ' ')"
step "the task's logs (aws logs tail $group)"
show_task_logs "$group"
ok "architecture 2 works"
