package sns_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksns "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// setSubAttr sets one subscription attribute or fails.
func (c clients) setSubAttr(t *testing.T, sub, name, value string) {
	t.Helper()
	if _, err := c.sns.SetSubscriptionAttributes(context.Background(), &sdksns.SetSubscriptionAttributesInput{
		SubscriptionArn: &sub, AttributeName: aws.String(name), AttributeValue: aws.String(value)}); err != nil {
		t.Fatal(err)
	}
}

func (c clients) deleteQueue(t *testing.T, url string) {
	t.Helper()
	if _, err := c.sqs.DeleteQueue(context.Background(), &sdksqs.DeleteQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
}

func redrivePolicy(dlqARN string) string {
	return `{"deadLetterTargetArn":"` + dlqARN + `"}`
}

// A message for a queue that is gone (a client-side error, not retried)
// goes to the subscription's dead-letter queue as the queue would have
// received it: the envelope, or with raw delivery the raw body and
// attributes (SNS's recorded answers, LocalStack's
// test_redrive_policy_sqs_queue_subscription). Other subscribers are not
// affected, and a subscription without a redrive policy loses it.
func TestSDKRedrivePolicyMovesAnUndeliverableQueueMessageToTheDeadLetterQueue(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(map[bool]string{false: "envelope", true: "raw"}[raw], func(t *testing.T) {
			c := startWharf(t)
			ctx := context.Background()
			topic := c.topic(t, "orders", nil)
			goneURL, goneARN := c.queue(t, "gone", nil)
			dlqURL, dlqARN := c.queue(t, "gone-dlq", nil)
			liveURL, liveARN := c.queue(t, "live", nil)
			lostURL, lostARN := c.queue(t, "lost", nil)
			sub := c.subscribe(t, topic, "sqs", goneARN, nil)
			c.setSubAttr(t, sub, "RedrivePolicy", redrivePolicy(dlqARN))
			if raw {
				c.setSubAttr(t, sub, "RawMessageDelivery", "true")
			}
			c.subscribe(t, topic, "sqs", liveARN, nil)
			c.subscribe(t, topic, "sqs", lostARN, nil)
			c.deleteQueue(t, goneURL)
			c.deleteQueue(t, lostURL)

			pub, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String("order 7"),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{
					"n":    {DataType: aws.String("Number"), StringValue: aws.String("111")},
					"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{2, 3, 4}},
				}})
			if err != nil {
				t.Fatal(err)
			}
			c.receiveAll(t, liveURL, 1)
			m := c.receiveAll(t, dlqURL, 1)[0]
			if raw {
				if *m.Body != "order 7" {
					t.Fatalf("dead-letter body = %s, want the raw message", *m.Body)
				}
				if a := m.MessageAttributes["n"]; aws.ToString(a.StringValue) != "111" || aws.ToString(a.DataType) != "Number" {
					t.Errorf("attribute n = %+v", a)
				}
				if a := m.MessageAttributes["blob"]; string(a.BinaryValue) != "\x02\x03\x04" {
					t.Errorf("attribute blob = %+v", a)
				}
				return
			}
			var en envelope
			if err := json.Unmarshal([]byte(*m.Body), &en); err != nil {
				t.Fatalf("dead-letter body is not the envelope: %v: %s", err, *m.Body)
			}
			if en.Type != "Notification" || en.MessageId != *pub.MessageId || en.TopicArn != topic || en.Message != "order 7" ||
				en.Signature == "" || en.MessageAttributes["n"].Value != "111" {
				t.Fatalf("dead-letter envelope = %+v", en)
			}
			if u := en.UnsubscribeURL; u == "" || !containsQuery(u, "SubscriptionArn", sub) {
				t.Errorf("UnsubscribeURL %q does not name the subscription %s", u, sub)
			}
		})
	}
}

func containsQuery(rawURL, key, value string) bool {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	return err == nil && req.URL.Query().Get(key) == value
}

// A FIFO subscription's dead-letter queue is FIFO, and the message keeps
// its group and deduplication ids.
func TestSDKRedrivePolicyOfAFIFOSubscriptionKeepsTheMessageGroup(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	topic := c.topic(t, "orders.fifo", map[string]string{"FifoTopic": "true"})
	fifo := map[string]string{"FifoQueue": "true"}
	goneURL, goneARN := c.queue(t, "gone.fifo", fifo)
	dlqURL, dlqARN := c.queue(t, "gone-dlq.fifo", fifo)
	sub := c.subscribe(t, topic, "sqs", goneARN, nil)
	c.setSubAttr(t, sub, "RedrivePolicy", redrivePolicy(dlqARN))
	c.deleteQueue(t, goneURL)
	if _, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String("first"),
		MessageGroupId: aws.String("g1"), MessageDeduplicationId: aws.String("d1")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.sqs.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: &dlqURL, WaitTimeSeconds: 5,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("dead-letter queue holds %d messages, want 1", len(out.Messages))
	}
	a := out.Messages[0].Attributes
	if a["MessageGroupId"] != "g1" || a["MessageDeduplicationId"] != "d1" {
		t.Fatalf("dead-letter message attributes = %v", a)
	}
	var en envelope
	if err := json.Unmarshal([]byte(*out.Messages[0].Body), &en); err != nil || en.Message != "first" || en.SequenceNumber == "" {
		t.Fatalf("dead-letter body = %s (%v)", *out.Messages[0].Body, err)
	}
}

// An HTTP endpoint that refuses a notification for good (a 4xx answer)
// sends it to the subscription's dead-letter queue.
func TestSDKRedrivePolicyMovesARefusedHTTPNotificationToTheDeadLetterQueue(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	confirmations := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var en envelope
		if err := json.NewDecoder(r.Body).Decode(&en); err != nil {
			t.Errorf("endpoint got a body that is not JSON: %v", err)
		}
		if en.Type == "SubscriptionConfirmation" {
			confirmations <- en.SubscribeURL
			return
		}
		http.Error(w, "gone", http.StatusForbidden)
	}))
	defer srv.Close()
	topic := c.topic(t, "hooks", nil)
	dlqURL, dlqARN := c.queue(t, "hooks-dlq", nil)
	if _, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("http"),
		Endpoint: aws.String(srv.URL + "/hook"), Attributes: map[string]string{"RedrivePolicy": redrivePolicy(dlqARN)}}); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-confirmations:
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("confirming: %s", resp.Status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no SubscriptionConfirmation arrived")
	}
	pub, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String("hello hook")})
	if err != nil {
		t.Fatal(err)
	}
	m := c.receiveAll(t, dlqURL, 1)[0]
	var en envelope
	if err := json.Unmarshal([]byte(*m.Body), &en); err != nil || en.MessageId != *pub.MessageId || en.Message != "hello hook" {
		t.Fatalf("dead-letter body = %s (%v)", *m.Body, err)
	}
}
