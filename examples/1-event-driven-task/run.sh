#!/usr/bin/env bash
# Architecture 1, event-driven tasks: an object lands in S3; the bucket sends
# "Object Created" to EventBridge; a rule runs an ECS task with the bucket and
# key as container environment overrides; the task reads the object with its
# task role's credentials and writes its word count to DynamoDB.
source "$(dirname "$0")/../lib.sh"

step "1 · event-driven task: S3 → EventBridge → ECS RunTask → S3 + DynamoDB"
require_wharf
build_task_image

name=wharf-ex1-$SUFFIX
bucket=$name
table=$name-results
cluster=$name
family=$name-word-count
group=/wharf-examples/$name

step "making the bucket, table, log group, roles and cluster"
aws s3api create-bucket --bucket "$bucket" >/dev/null
on_exit "aws s3 rb s3://$bucket --force"
# EventBridge notifications: every event of the bucket goes to the default bus.
aws s3api put-bucket-notification-configuration --bucket "$bucket" \
  --notification-configuration '{"EventBridgeConfiguration":{}}'
ok "bucket $bucket sends its events to EventBridge"

aws dynamodb create-table --table-name "$table" --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=object,AttributeType=S --key-schema AttributeName=object,KeyType=HASH >/dev/null
on_exit "aws dynamodb delete-table --table-name $table"
ok "table $table"

aws logs create-log-group --log-group-name "$group"
on_exit "aws logs delete-log-group --log-group-name $group"

# Least privilege: the task reads objects of this bucket under incoming/ and
# writes items of this table, nothing else.
task_role_arn=$(task_role "$name-task" '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::'"$bucket"'/incoming/*"},
  {"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:'"$AWS_REGION:$ACCOUNT"':table/'"$table"'"}]}')
on_exit "aws iam delete-role-policy --role-name $name-task --policy-name access; aws iam delete-role --role-name $name-task"
ok "task role $task_role_arn (s3:GetObject under incoming/ of the bucket, dynamodb:PutItem on the table)"

cluster_arn=$(aws ecs create-cluster --cluster-name "$cluster" --query cluster.clusterArn)
on_exit "aws ecs delete-cluster --cluster $cluster"
ok "cluster $cluster_arn"

# EventBridge's role may run this family's tasks in this cluster only, and pass
# the task role to ECS tasks only ("Amazon ECS events IAM role").
events_role_arn=$(aws iam create-role --role-name "$name-events" --query Role.Arn \
  --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
aws iam put-role-policy --role-name "$name-events" --policy-name access --policy-document '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:'"$AWS_REGION:$ACCOUNT"':task-definition/'"$family"':*",
   "Condition":{"ArnEquals":{"ecs:cluster":"'"$cluster_arn"'"}}},
  {"Effect":"Allow","Action":"iam:PassRole","Resource":"'"$task_role_arn"'",
   "Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}]}'
on_exit "aws iam delete-role-policy --role-name $name-events --policy-name access; aws iam delete-role --role-name $name-events"
ok "EventBridge's role $events_role_arn (ecs:RunTask of $family in $cluster, iam:PassRole of the task role)"

task_def_arn=$(aws ecs register-task-definition --family "$family" --task-role-arn "$task_role_arn" \
  --query taskDefinition.taskDefinitionArn --container-definitions '[{
    "name": "app", "image": "'"$TASK_IMAGE"'", "essential": true, "command": ["object"],
    "environment": [{"name": "TABLE", "value": "'"$table"'"}],
    "logConfiguration": {"logDriver": "awslogs", "options": {
      "awslogs-group": "'"$group"'", "awslogs-region": "'"$AWS_REGION"'", "awslogs-stream-prefix": "ex1"}}}]')
on_exit "aws ecs deregister-task-definition --task-definition $task_def_arn"
ok "task definition $task_def_arn"

step "rule: Object Created under incoming/ → run the task with BUCKET and KEY"
aws events put-rule --name "$name" --event-pattern '{
  "source": ["aws.s3"], "detail-type": ["Object Created"],
  "detail": {"bucket": {"name": ["'"$bucket"'"]}, "object": {"key": [{"prefix": "incoming/"}]}}}' >/dev/null
on_exit "aws events delete-rule --name $name"
# The input transformer's output is the task override RunTask gets: the
# container's environment names the object.
cat >"$EXAMPLES_WORK/targets.json" <<JSON
[{"Id": "word-count", "Arn": "$cluster_arn", "RoleArn": "$events_role_arn",
  "EcsParameters": {"TaskDefinitionArn": "$task_def_arn", "TaskCount": 1},
  "InputTransformer": {
    "InputPathsMap": {"bucket": "\$.detail.bucket.name", "key": "\$.detail.object.key"},
    "InputTemplate": "{\"containerOverrides\": [{\"name\": \"app\", \"environment\": [{\"name\": \"BUCKET\", \"value\": <bucket>}, {\"name\": \"KEY\", \"value\": <key>}]}]}"}}]
JSON
aws events put-targets --rule "$name" --targets "file://$EXAMPLES_WORK/targets.json" >/dev/null
on_exit "aws events remove-targets --rule $name --ids word-count"
ok "rule $name → ECS task $family"

step "uploading incoming/hello.txt"
printf 'the quick brown fox\njumps over\nthe lazy dog\n' >"$EXAMPLES_WORK/hello.txt"
aws s3 cp "$EXAMPLES_WORK/hello.txt" "s3://$bucket/incoming/hello.txt" >/dev/null
ok "s3://$bucket/incoming/hello.txt (3 lines, 9 words, 44 bytes)"

step "waiting for the task's result in DynamoDB"
key='{"object": {"S": "s3://'"$bucket"'/incoming/hello.txt"}}'
_has_result() { local n; n=$(aws dynamodb get-item --table-name "$table" --key "$key" --query Item.words.N); [ -n "$n" ] && [ "$n" != None ]; }
wait_for 90 "the task's item in $table" _has_result
read -r lines words bytes < <(aws dynamodb get-item --table-name "$table" --key "$key" --query '[Item.lines.N, Item.words.N, Item.bytes.N]')
info "item: lines=$lines words=$words bytes=$bytes"
[ "$lines $words $bytes" = "3 9 44" ] || die "expected 3 lines, 9 words, 44 bytes"
ok "the task read the object with its role's credentials and wrote its counts"

task_arn=$(aws ecs list-tasks --cluster "$cluster" --desired-status STOPPED --query 'taskArns[0]')
[ "$task_arn" = None ] && task_arn=$(aws ecs list-tasks --cluster "$cluster" --query 'taskArns[0]')
wait_task_stopped "$cluster" "$task_arn" 60
info "task $task_arn: $(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
  --query 'tasks[0].[lastStatus, startedBy, containers[0].exitCode]' | tr '\t' ' ')"
step "the task's logs (aws logs tail $group)"
show_task_logs "$group"
ok "architecture 1 works"
