package sqs_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// startWharf runs the real server, as the binary does, on a free loopback port.
func startWharf(t *testing.T) *sdksqs.Client {
	t.Helper()
	return sdksqs.NewFromConfig(wharftest.Start(t).Config())
}

// The SDK checks MD5OfMessageBody and MD5OfMessageAttributes of every send and
// receive and fails the call on a mismatch, so these calls verify the digests.
func TestSDKv2SendReceiveDeleteWithAttributes(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	q, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(*q.QueueUrl, "/000000000000/jobs") {
		t.Fatalf("QueueUrl = %s", *q.QueueUrl)
	}
	attrs := map[string]types.MessageAttributeValue{
		"kind":  {DataType: aws.String("String"), StringValue: aws.String("resize")},
		"size":  {DataType: aws.String("Number"), StringValue: aws.String("42")},
		"thumb": {DataType: aws.String("Binary"), BinaryValue: []byte{0xff, 0, 7}},
	}
	if _, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("héllo ☃"), MessageAttributes: attrs}); err != nil {
		t.Fatal(err)
	}
	batch, err := c.SendMessageBatch(ctx, &sdksqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one"), MessageAttributes: attrs},
		{Id: aws.String("b"), MessageBody: aws.String("two")},
	}})
	if err != nil || len(batch.Successful) != 2 {
		t.Fatalf("batch: %v %v", batch, err)
	}
	got := map[string]bool{}
	for len(got) < 3 {
		out, err := c.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{
			QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			t.Fatalf("queue ran dry after %v", got)
		}
		for _, m := range out.Messages {
			got[*m.Body] = true
			if m.Attributes["SentTimestamp"] == "" {
				t.Errorf("no SentTimestamp in %v", m.Attributes)
			}
			if _, err := c.DeleteMessage(ctx, &sdksqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, err := c.GetQueueAttributes(ctx, &sdksqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Attributes["ApproximateNumberOfMessages"] != "0" || a.Attributes["QueueArn"] != "arn:aws:sqs:us-east-1:000000000000:jobs" {
		t.Fatalf("attributes = %v", a.Attributes)
	}
}

func TestSDKv2ErrorsAreTyped(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	_, err := c.GetQueueUrl(ctx, &sdksqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	var notFound *types.QueueDoesNotExist
	if !errors.As(err, &notFound) {
		t.Fatalf("GetQueueUrl of a missing queue: %v", err)
	}
	q, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteMessage(ctx, &sdksqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: aws.String("bogus")})
	var badHandle *types.ReceiptHandleIsInvalid
	if !errors.As(err, &badHandle) {
		t.Fatalf("DeleteMessage with a bad handle: %v", err)
	}
	_, err = c.SendMessageBatch(ctx, &sdksqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("x"), MessageBody: aws.String("1")}, {Id: aws.String("x"), MessageBody: aws.String("2")},
	}})
	var dup *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &dup) {
		t.Fatalf("repeated batch ids: %v", err)
	}
}

func TestSDKv2LongPollWakesOnSend(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	q, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("poll")})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		out *sdksqs.ReceiveMessageOutput
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := c.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 20})
		done <- result{out, err}
	}()
	time.Sleep(50 * time.Millisecond) // let the poll start; the assertion does not depend on it
	if _, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("ping")}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || len(r.out.Messages) != 1 || *r.out.Messages[0].Body != "ping" {
		t.Fatalf("long poll: %v %v", r.out, r.err)
	}
}

// FIFO queues take no per-message delay, but accept DelaySeconds=0, which
// SDKs and frameworks send when no delay is asked for. aws-sdk-go-v2 leaves a
// zero out, so the sends are raw JSON requests, as boto3 and the CLI send them.
func TestFIFOAcceptsZeroDelaySeconds(t *testing.T) {
	srv := wharftest.Start(t)
	c := sdksqs.NewFromConfig(srv.Config())
	ctx := context.Background()
	q, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("zero.fifo"),
		Attributes: map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(op, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AmazonSQS."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	url := aws.ToString(q.QueueUrl)
	if st, body := call("SendMessage", `{"QueueUrl":"`+url+`","MessageBody":"a","MessageGroupId":"g","DelaySeconds":0}`); st != 200 {
		t.Fatalf("DelaySeconds=0 on a FIFO queue: %d %s", st, body)
	}
	st, body := call("SendMessageBatch", `{"QueueUrl":"`+url+`","Entries":[{"Id":"z","MessageBody":"b","MessageGroupId":"g","DelaySeconds":0}]}`)
	if st != 200 || !strings.Contains(body, `"Successful":[{`) {
		t.Fatalf("batch DelaySeconds=0 on a FIFO queue: %d %s", st, body)
	}
	if st, body := call("SendMessage", `{"QueueUrl":"`+url+`","MessageBody":"c","MessageGroupId":"g","DelaySeconds":5}`); st != 400 || !strings.Contains(body, "InvalidParameterValue") {
		t.Fatalf("DelaySeconds=5 on a FIFO queue: %d %s", st, body)
	}
}
