#!/usr/bin/env bash
# SQS end to end with clients nobody here wrote: boto3 (query protocol with
# Debian's botocore under /usr/bin/python3, JSON with the current one on PATH), the aws CLI v1 on PATH and the aws CLI v2 at /usr/bin/aws (older
# builds speak the query protocol). botocore does not verify SQS digests, so the
# body digest is checked here; aws-sdk-go-v2 verifies all of them in
# internal/service/sqs/sdk_test.go.
source "$(dirname "$0")/lib.sh"
wharf_start --ephemeral

# One boto3 script, run by two interpreters: Debian's boto3 under /usr/bin/python3
# (botocore 1.29: SQS over the query protocol) and the newer boto3 on PATH (JSON).
cat >"$tmp/sqs_boto3.py" <<'PY'
import hashlib, os, sys, time, boto3, botocore
c = boto3.client("sqs", endpoint_url=os.environ["WHARF_ENDPOINT"])
proto = c.meta.service_model.protocol
want = os.environ["WANT_PROTOCOL"]
print("  botocore", botocore.__version__, "protocol", proto)
assert proto == want, (proto, want)
p = proto + "-"
url = c.create_queue(QueueName=p + "boto3", Attributes={"VisibilityTimeout": "0"}, tags={"team": "a"})["QueueUrl"]
assert url.endswith("/000000000000/" + p + "boto3"), url
assert c.create_queue(QueueName=p + "boto3", Attributes={"VisibilityTimeout": "0"})["QueueUrl"] == url
attrs = {"kind": {"DataType": "String", "StringValue": "x"},
         "n": {"DataType": "Number", "StringValue": "7"},
         "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
body = "hello \u2603 <&>"
sent = c.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs)
assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest(), sent
got = c.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
assert got[0]["Body"] == body, got
assert got[0]["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\xff", got
assert got[0]["MessageAttributes"]["n"] == {"DataType": "Number", "StringValue": "7"}, got
assert got[0]["Attributes"]["ApproximateReceiveCount"] == "1", got
c.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
res = c.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "m%d" % i} for i in range(10)])
assert len(res["Successful"]) == 10 and not res.get("Failed"), res
seen = []
while len(seen) < 10:
    ms = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages", [])
    assert ms, seen
    seen += [m["Body"] for m in ms]
    d = c.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ms)])
    assert len(d["Successful"]) == len(ms), d
assert sorted(seen) == ["m%d" % i for i in range(10)], seen
a = c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
assert a["ApproximateNumberOfMessages"] == "0" and a["VisibilityTimeout"] == "0", a
c.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "5"})
assert c.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"] == {"DelaySeconds": "5"}
assert c.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
assert url in c.list_queues(QueueNamePrefix=p)["QueueUrls"]
fifo = c.create_queue(QueueName=p + "e2e.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
for b in ["1", "2", "3", "1"]:
    c.send_message(QueueUrl=fifo, MessageBody=b, MessageGroupId="g")
got = c.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
assert [m["Body"] for m in got] == ["1", "2", "3"], got  # the second "1" is a duplicate
assert int(got[0]["Attributes"]["SequenceNumber"]) < int(got[1]["Attributes"]["SequenceNumber"]), got
for call, exc in [(lambda: c.get_queue_url(QueueName="nope"), c.exceptions.QueueDoesNotExist),
                  (lambda: c.send_message(QueueUrl=url, MessageBody=""), botocore.exceptions.ClientError),
                  (lambda: c.delete_message_batch(QueueUrl=url, Entries=[]), c.exceptions.EmptyBatchRequest)]:
    try:
        call()
        raise SystemExit("no error from %s" % call)
    except exc:
        pass
# Dead-letter queue and redrive, where this botocore knows the operations.
dlq = c.create_queue(QueueName=p + "dlq")["QueueUrl"]
dlq_arn = c.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
src = c.create_queue(QueueName=p + "src", Attributes={"VisibilityTimeout": "0",
    "RedrivePolicy": '{"deadLetterTargetArn":"%s","maxReceiveCount":"1"}' % dlq_arn})["QueueUrl"]
c.send_message(QueueUrl=src, MessageBody="poison")
c.receive_message(QueueUrl=src)
assert "Messages" not in c.receive_message(QueueUrl=src)
assert c.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
if "StartMessageMoveTask" in c.meta.service_model.operation_names:
    c.start_message_move_task(SourceArn=dlq_arn)
    for _ in range(100):
        t = c.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        if t["Status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert t["Status"] == "COMPLETED" and t["ApproximateNumberOfMessagesMoved"] == 1, t
    assert c.receive_message(QueueUrl=src)["Messages"][0]["Body"] == "poison"
else:
    print("  (no message move tasks in this botocore)")
c.purge_queue(QueueUrl=fifo)
for q in [url, fifo, dlq, src]:
    c.delete_queue(QueueUrl=q)
PY
for py in /usr/bin/python3:query "$(command -v python3)":json; do
  interp=${py%:*} proto=${py##*:}
  "$interp" -c 'import boto3' 2>/dev/null || { [ "$interp" = /usr/bin/python3 ] && fail "no boto3 for /usr/bin/python3 (apt-get install python3-boto3)"; continue; }
  echo "boto3 ($interp)"
  WHARF_ENDPOINT=$endpoint WANT_PROTOCOL=$proto "$interp" "$tmp/sqs_boto3.py" || fail "boto3 $interp"
done

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
