#!/usr/bin/env bash
# SNS end to end with clients nobody here wrote: boto3 (query protocol), the aws
# CLI v1 on PATH and the aws CLI v2 at /usr/bin/aws. Topics fan out to SQS queues
# (the SNS envelope, raw delivery, filter policies, FIFO) and to an HTTP endpoint
# that confirms its subscription by visiting SubscribeURL, as webhooks do.
source "$(dirname "$0")/lib.sh"
wharf_start --ephemeral

echo "boto3"
WHARF_ENDPOINT=$endpoint python3 - <<'PY' || fail boto3
import json, os, queue, threading, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
import boto3, botocore
ep = os.environ["WHARF_ENDPOINT"]
sns = boto3.client("sns", endpoint_url=ep)
sqs = boto3.client("sqs", endpoint_url=ep)
print("  botocore", botocore.__version__, "protocol", sns.meta.service_model.protocol)

def queue_of(name, **attrs):
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn

def receive(url, n):
    got = []
    for _ in range(10):
        if len(got) >= n:
            break
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert len(got) == n, (len(got), n, got)
    return got

topic = sns.create_topic(Name="e2e-boto3", Attributes={"DisplayName": "E2E"}, Tags=[{"Key": "team", "Value": "ops"}])["TopicArn"]
assert topic == "arn:aws:sns:us-east-1:000000000000:e2e-boto3", topic
assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "E2E"
assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "team", "Value": "ops"}]

env_url, env_arn = queue_of("e2e-envelope")
raw_url, raw_arn = queue_of("e2e-raw")
red_url, red_arn = queue_of("e2e-red")
sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=env_arn, ReturnSubscriptionArn=True)["SubscriptionArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=raw_arn, Attributes={"RawMessageDelivery": "true"})
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=red_arn, Attributes={"FilterPolicy": json.dumps({"color": ["red"]})})
assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 3

mid = sns.publish(TopicArn=topic, Message="hello ☃", Subject="greeting",
                  MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"}})["MessageId"]
env = json.loads(receive(env_url, 1)[0]["Body"])
assert env["Type"] == "Notification" and env["MessageId"] == mid and env["Message"] == "hello ☃" and env["Subject"] == "greeting", env
assert env["MessageAttributes"]["color"] == {"Type": "String", "Value": "blue"}, env
raw = receive(raw_url, 1)[0]
assert raw["Body"] == "hello ☃" and raw["MessageAttributes"]["color"]["StringValue"] == "blue", raw
assert "Messages" not in sqs.receive_message(QueueUrl=red_url), "filter let a blue message through"
sns.publish(TopicArn=topic, Message="red one", MessageAttributes={"color": {"DataType": "String", "StringValue": "red"}})
assert json.loads(receive(red_url, 1)[0]["Body"])["Message"] == "red one"

batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "a", "Message": "1"}, {"Id": "b", "Message": "2"}])
assert len(batch["Successful"]) == 2, batch
assert sorted(m["Body"] for m in receive(raw_url, 3)) == ["1", "2", "red one"]

# FIFO topic to FIFO queue: order per group.
ftopic = sns.create_topic(Name="e2e.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
furl, farn = queue_of("e2e.fifo", FifoQueue="true")
sns.subscribe(TopicArn=ftopic, Protocol="sqs", Endpoint=farn, Attributes={"RawMessageDelivery": "true"})
for i in range(5):
    assert "SequenceNumber" in sns.publish(TopicArn=ftopic, Message=f"m{i}", MessageGroupId="g")
assert [m["Body"] for m in receive(furl, 5)] == [f"m{i}" for i in range(5)]

# An HTTP endpoint confirms by visiting SubscribeURL, then gets notifications.
posts = queue.Queue()
class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        posts.put((self.headers["x-amz-sns-message-type"], body))
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
srv = HTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=srv.serve_forever, daemon=True).start()
hook = f"http://127.0.0.1:{srv.server_address[1]}/hook"
assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook)["SubscriptionArn"] == "pending confirmation"
kind, conf = posts.get(timeout=10)
assert kind == "SubscriptionConfirmation" and conf["Token"], conf
urllib.request.urlopen(conf["SubscribeURL"]).read()
sns.publish(TopicArn=topic, Message="to the hook")
kind, note = posts.get(timeout=10)
assert kind == "Notification" and note["Message"] == "to the hook", note

sns.unsubscribe(SubscriptionArn=sub)
try:
    sns.publish(TopicArn=topic + "-missing", Message="x")
    raise SystemExit("no error for a missing topic")
except sns.exceptions.NotFoundException:
    pass
try:
    sns.create_topic(Name="bad name")
    raise SystemExit("no error for a bad name")
except sns.exceptions.InvalidParameterException:
    pass
sns.delete_topic(TopicArn=topic)
PY

for cli in "$(command -v aws)" /usr/bin/aws; do
  [ -x "$cli" ] || continue
  echo "$("$cli" --version 2>&1)"
  a() { "$cli" --endpoint-url "$endpoint" "$@"; }
  name="e2e-cli-$RANDOM"
  topic=$(a sns create-topic --name "$name" --query TopicArn --output text) || fail "$cli create-topic"
  [ "$topic" = "arn:aws:sns:us-east-1:000000000000:$name" ] || fail "$cli topic arn $topic"
  url=$(a sqs create-queue --queue-name "$name" --query QueueUrl --output text) || fail "$cli create-queue"
  qarn=$(a sqs get-queue-attributes --queue-url "$url" --attribute-names QueueArn --query Attributes.QueueArn --output text)
  a sns subscribe --topic-arn "$topic" --protocol sqs --notification-endpoint "$qarn" --attributes RawMessageDelivery=true >/dev/null || fail "$cli subscribe"
  a sns publish --topic-arn "$topic" --message "from the cli" >/dev/null || fail "$cli publish"
  body=$(a sqs receive-message --queue-url "$url" --wait-time-seconds 1 --query 'Messages[0].Body' --output text) || fail "$cli receive"
  [ "$body" = "from the cli" ] || fail "$cli received '$body'"
  a sns list-topics --query 'Topics[].TopicArn' --output text | grep -q "$name" || fail "$cli list-topics"
  a sns list-subscriptions --query 'Subscriptions[].Endpoint' --output text | grep -q "$qarn" || fail "$cli list-subscriptions"
  a sns get-topic-attributes --topic-arn "$topic" --query Attributes.SubscriptionsConfirmed --output text | grep -qx 1 || fail "$cli get-topic-attributes"
  if a sns publish --topic-arn "$topic-missing" --message x >/dev/null 2>"$tmp/err"; then fail "$cli published to a missing topic"; fi
  grep -q "NotFound" "$tmp/err" || fail "$cli error: $(cat "$tmp/err")"
  a sns delete-topic --topic-arn "$topic" || fail "$cli delete-topic"
done
echo "sns e2e passed"
