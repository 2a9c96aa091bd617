#!/usr/bin/env bash
# Architecture 4, monitoring and alerts: ECS emits "ECS Task State Change"
# events; a rule matches tasks that STOPPED with a non-zero exit code (or that
# failed to start), an input transformer turns the event into a readable line,
# and an SNS topic delivers it by email (SMTP) and to an SQS queue.
#
# Email needs wharf started with --smtp-addr pointing at an SMTP server. The
# script starts examples/4-alerts/smtpsink on SMTP_SINK_ADDR (default
# 127.0.0.1:2525) unless SMTP_SINK_DIR names the directory of a sink already
# running there (examples/run-all.sh starts one before wharf). Without email,
# the SQS half still runs; EXAMPLES_REQUIRE_EMAIL=1 makes a missing email fail.
source "$(dirname "$0")/../lib.sh"

step "4 · alerts: ECS Task State Change (STOPPED, exit ≠ 0) → EventBridge → SNS → email + SQS"
require_wharf
build_task_image

name=wharf-ex4-$SUFFIX
cluster=$name
family=$name-nightly-report
email=ops@example.com
sink_addr=${SMTP_SINK_ADDR:-127.0.0.1:2525}

if [ -z "${SMTP_SINK_DIR:-}" ]; then
  SMTP_SINK_DIR=$EXAMPLES_WORK/mail
  (cd "$REPO_DIR" && go build -o "$EXAMPLES_WORK/smtpsink" ./examples/4-alerts/smtpsink)
  "$EXAMPLES_WORK/smtpsink" -listen "$sink_addr" -dir "$SMTP_SINK_DIR" >"$EXAMPLES_WORK/smtpsink.log" 2>&1 &
  sink_pid=$!
  on_exit "kill $sink_pid"
  _sink_up() { grep -q listening "$EXAMPLES_WORK/smtpsink.log" || ! kill -0 $sink_pid 2>/dev/null; }
  wait_for 10 "the SMTP sink" _sink_up
  kill -0 $sink_pid 2>/dev/null || die "SMTP sink: $(cat "$EXAMPLES_WORK/smtpsink.log")"
  ok "SMTP sink on $sink_addr writes mail to $SMTP_SINK_DIR"
fi
# mail_with TEXT: the newest message in the sink that contains TEXT.
mail_with() { grep -l -F -- "$1" "$SMTP_SINK_DIR"/*.eml 2>/dev/null | tail -1; }

step "topic, email and SQS subscriptions"
topic_arn=$(aws sns create-topic --name "$name-alerts" --query TopicArn)
on_exit "aws sns delete-topic --topic-arn $topic_arn"
queue_url=$(aws sqs create-queue --queue-name "$name-alerts" --query QueueUrl)
on_exit "aws sqs delete-queue --queue-url $queue_url"
queue_arn=$(aws sqs get-queue-attributes --queue-url "$queue_url" --attribute-names QueueArn --query Attributes.QueueArn)
# The queue lets the topic send to it, as on AWS.
cat >"$EXAMPLES_WORK/queue-attrs.json" <<JSON
{"Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"sns.amazonaws.com\"},\"Action\":\"sqs:SendMessage\",\"Resource\":\"$queue_arn\",\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":\"$topic_arn\"}}}]}"}
JSON
aws sqs set-queue-attributes --queue-url "$queue_url" --attributes "file://$EXAMPLES_WORK/queue-attrs.json"
aws sns subscribe --topic-arn "$topic_arn" --protocol sqs --notification-endpoint "$queue_arn" \
  --attributes RawMessageDelivery=true >/dev/null
ok "queue $queue_url subscribed (raw message delivery)"
aws sns subscribe --topic-arn "$topic_arn" --protocol email --notification-endpoint "$email" >/dev/null
info "email $email subscribed: pending confirmation"

email_ok=no
_confirmation() { [ -n "$(mail_with 'Subscription Confirmation')" ]; }
if (wait_for 15 "the confirmation email" _confirmation) 2>/dev/null; then
  # The email holds the ConfirmSubscription link; its token confirms, as
  # clicking the link would.
  token=$(grep -o 'Token=[A-Za-z0-9]*' "$(mail_with 'Subscription Confirmation')" | head -1 | cut -d= -f2)
  aws sns confirm-subscription --topic-arn "$topic_arn" --token "$token" >/dev/null
  ok "confirmation email arrived; subscription confirmed with its token"
  email_ok=yes
elif [ "${EXAMPLES_REQUIRE_EMAIL:-}" = 1 ]; then
  die "no confirmation email at $sink_addr: is wharf started with --smtp-addr $sink_addr?"
else
  printf '    %sSKIPPING EMAIL%s no confirmation email reached %s: start wharf with --smtp-addr %s to see it\n' "$YELLOW" "$RESET" "$sink_addr" "$sink_addr"
fi

step "rule: task STOPPED with exit code ≠ 0, or failed to start → readable alert on the topic"
cluster_arn=$(aws ecs create-cluster --cluster-name "$cluster" --query cluster.clusterArn)
on_exit "aws ecs delete-cluster --cluster $cluster"
rule_arn=$(aws events put-rule --name "$name" --query RuleArn --event-pattern '{
  "source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
  "detail": {"clusterArn": ["'"$cluster_arn"'"], "lastStatus": ["STOPPED"],
    "$or": [{"containers": {"exitCode": [{"anything-but": 0}]}}, {"stopCode": ["TaskFailedToStart"]}]}}')
on_exit "aws events delete-rule --name $name"
# EventBridge publishes as events.amazonaws.com: the topic's policy must let
# it in, for this rule only, or (as on AWS, and on wharf --iam enforce) the
# alert never arrives.
aws sns set-topic-attributes --topic-arn "$topic_arn" --attribute-name Policy --attribute-value '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":"'"$topic_arn"'",
   "Condition":{"ArnEquals":{"aws:SourceArn":"'"$rule_arn"'"}}}]}'
# group is "family:<task definition family>" for tasks RunTask starts. The
# template is a JSON string, so placeholders inside it insert their text; the
# message keeps the string's quotes, as on AWS ("Transforming target input").
cat >"$EXAMPLES_WORK/targets.json" <<JSON
[{"Id": "alerts", "Arn": "$topic_arn",
  "InputTransformer": {
    "InputPathsMap": {"family": "\$.detail.group", "reason": "\$.detail.stoppedReason", "code": "\$.detail.containers[0].exitCode"},
    "InputTemplate": "\\"Task <family> stopped: <reason>, exit <code>\\""}}]
JSON
aws events put-targets --rule "$name" --targets "file://$EXAMPLES_WORK/targets.json" >/dev/null
on_exit "aws events remove-targets --rule $name --ids alerts"
ok "rule $name → topic $topic_arn"

task_def_arn=$(aws ecs register-task-definition --family "$family" --query taskDefinition.taskDefinitionArn \
  --container-definitions '[{"name": "report", "image": "'"$TASK_IMAGE"'", "essential": true, "command": ["crash", "0"]}]')
on_exit "aws ecs deregister-task-definition --task-definition $task_def_arn"

step "a task that exits 0: no alert"
good=$(aws ecs run-task --cluster "$cluster" --task-definition "$task_def_arn" --query 'tasks[0].taskArn')
wait_task_stopped "$cluster" "$good" 60
ok "task stopped, exit $(aws ecs describe-tasks --cluster "$cluster" --tasks "$good" --query 'tasks[0].containers[0].exitCode')"

step "a task that crashes with exit 3: an alert"
bad=$(aws ecs run-task --cluster "$cluster" --task-definition "$task_def_arn" --query 'tasks[0].taskArn' \
  --overrides '{"containerOverrides": [{"name": "report", "command": ["crash", "3"]}]}')
wait_task_stopped "$cluster" "$bad" 60
ok "task stopped: $(aws ecs describe-tasks --cluster "$cluster" --tasks "$bad" \
  --query 'tasks[0].[stoppedReason, containers[0].exitCode]' | tr '\t' ' ')"

want="Task family:$family stopped: Essential container in task exited, exit 3"
messages=()
_alert() {
  local body
  body=$(aws sqs receive-message --queue-url "$queue_url" --wait-time-seconds 1 --max-number-of-messages 10 \
    --query 'Messages[].[ReceiptHandle, Body]' --output json)
  while read -r line; do
    [ -n "$line" ] && messages+=("$line")
  done < <(python3 -c 'import json,sys
for h, b in json.load(sys.stdin) or []: print(b)' <<<"$body")
  [ ${#messages[@]} -gt 0 ]
}
wait_for 60 "the alert in the SQS queue" _alert
sleep 2 && _alert || true # anything the exit-0 task might (wrongly) have sent
for m in "${messages[@]}"; do info "SQS message: $m"; done
[ ${#messages[@]} -eq 1 ] || die "expected exactly 1 alert (exit 3 only), got ${#messages[@]}"
[ "${messages[0]}" = "\"$want\"" ] || die "expected the alert \"$want\""
ok "one alert in the queue, naming the task and its exit code"

if [ $email_ok = yes ]; then
  _email() { [ -n "$(mail_with "$want")" ]; }
  wait_for 30 "the alert email" _email
  info "email $(basename "$(mail_with "$want")"):"
  tr -d '\r' <"$(mail_with "$want")" |
    awk '/^Subject:/ && !b {print "    | " $0} /^--$/ && b {exit} b && NF {print "    | " $0} /^$/ {b=1}'
  ok "the alert email reached $email"
fi
ok "architecture 4 works"
