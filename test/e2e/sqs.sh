#!/usr/bin/env bash
# SQS end to end with clients nobody here wrote: boto3 (JSON protocol in current
# botocore), the aws CLI v1 on PATH and the aws CLI v2 at /usr/bin/aws (older
# builds speak the query protocol). botocore does not verify SQS digests, so the
# body digest is checked here; aws-sdk-go-v2 verifies all of them in
# internal/service/sqs/sdk_test.go.
set -euo pipefail
cd "$(dirname "$0")/../.."

tmp=$(mktemp -d)
bin="$tmp/wharf"
go build -o "$bin" ./cmd/wharf
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" --ephemeral 2>"$tmp/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/_wharf/health" >/dev/null 2>&1 && break
  python3 -c "import socket;socket.create_connection(('127.0.0.1',$port)).close()" 2>/dev/null && break
  sleep 0.05
done

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
endpoint="http://127.0.0.1:$port"
fail() { echo "FAIL: $*"; cat "$tmp/log"; exit 1; }

echo "boto3"
WHARF_ENDPOINT=$endpoint python3 - <<'PY' || fail boto3
import os, boto3, botocore
c = boto3.client("sqs", endpoint_url=os.environ["WHARF_ENDPOINT"])
print("  botocore", botocore.__version__, "protocol", c.meta.service_model.protocol)
url = c.create_queue(QueueName="e2e-boto3", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
assert url.endswith("/000000000000/e2e-boto3"), url
attrs = {"kind": {"DataType": "String", "StringValue": "x"},
         "n": {"DataType": "Number", "StringValue": "7"},
         "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
sent = c.send_message(QueueUrl=url, MessageBody="hello ☃", MessageAttributes=attrs)
assert sent["MD5OfMessageBody"] == "9774026f20b82ca1a8581bf6932330ac", sent
got = c.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
assert got[0]["Body"] == "hello ☃", got
assert got[0]["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\xff"
c.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
fifo = c.create_queue(QueueName="e2e.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
for body in ["1", "2", "3"]:
    c.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g")
got = c.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
assert [m["Body"] for m in got] == ["1", "2", "3"], got
try:
    c.get_queue_url(QueueName="nope")
    raise SystemExit("no error for a missing queue")
except c.exceptions.QueueDoesNotExist:
    pass
PY

for cli in "$(command -v aws)" /usr/bin/aws; do
  [ -x "$cli" ] || continue
  echo "$("$cli" --version 2>&1)"
  name="e2e-cli-$RANDOM"
  url=$("$cli" --endpoint-url "$endpoint" sqs create-queue --queue-name "$name" --query QueueUrl --output text) || fail "$cli create-queue"
  "$cli" --endpoint-url "$endpoint" sqs send-message --queue-url "$url" --message-body "from the cli" \
    --message-attributes '{"k":{"DataType":"String","StringValue":"v"}}' >/dev/null || fail "$cli send-message"
  body=$("$cli" --endpoint-url "$endpoint" sqs receive-message --queue-url "$url" --message-attribute-names All \
    --query 'Messages[0].Body' --output text) || fail "$cli receive-message"
  [ "$body" = "from the cli" ] || fail "$cli received '$body'"
  "$cli" --endpoint-url "$endpoint" sqs list-queues --queue-name-prefix "$name" --query 'QueueUrls[0]' --output text | grep -q "$name" || fail "$cli list-queues"
  if "$cli" --endpoint-url "$endpoint" sqs get-queue-url --queue-name missing-queue >/dev/null 2>"$tmp/err"; then fail "$cli found a missing queue"; fi
  grep -q "NonExistentQueue\|QueueDoesNotExist" "$tmp/err" || fail "$cli error: $(cat "$tmp/err")"
  "$cli" --endpoint-url "$endpoint" sqs delete-queue --queue-url "$url" || fail "$cli delete-queue"
done
echo "sqs e2e passed"
