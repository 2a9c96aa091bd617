package sns_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksns "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

type clients struct {
	sns  *sdksns.Client
	sqs  *sdksqs.Client
	addr string
}

// startWharf runs the real server, as the binary does, on a free loopback port.
func startWharf(t *testing.T, extra ...string) clients {
	t.Helper()
	w := wharftest.Start(t, extra...)
	cfg := w.Config()
	return clients{sns: sdksns.NewFromConfig(cfg), sqs: sdksqs.NewFromConfig(cfg), addr: w.Addr}
}

func apiCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (c clients) queue(t *testing.T, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	ctx := context.Background()
	q, err := c.sqs.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.sqs.GetQueueAttributes(ctx, &sdksqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	return *q.QueueUrl, a.Attributes["QueueArn"]
}

func (c clients) topic(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.sns.CreateTopic(context.Background(), &sdksns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TopicArn
}

func (c clients) subscribe(t *testing.T, topic, protocol, endpoint string, attrs map[string]string) string {
	t.Helper()
	out, err := c.sns.Subscribe(context.Background(), &sdksns.SubscribeInput{
		TopicArn: aws.String(topic), Protocol: aws.String(protocol), Endpoint: aws.String(endpoint),
		Attributes: attrs, ReturnSubscriptionArn: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return *out.SubscriptionArn
}

// receiveAll long-polls until n messages arrived, or fails.
func (c clients) receiveAll(t *testing.T, queueURL string, n int) []sqstypes.Message {
	t.Helper()
	var got []sqstypes.Message
	for tries := 0; len(got) < n && tries < 10; tries++ {
		out, err := c.sqs.ReceiveMessage(context.Background(), &sdksqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, m)
			if _, err := c.sqs.DeleteMessage(context.Background(), &sdksqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(got) != n {
		t.Fatalf("received %d messages, want %d", len(got), n)
	}
	return got
}

// expectEmpty checks that no message is in the queue.
func (c clients) expectEmpty(t *testing.T, queueURL string) {
	t.Helper()
	out, err := c.sqs.ReceiveMessage(context.Background(), &sdksqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("queue has %d unexpected messages, first: %s", len(out.Messages), *out.Messages[0].Body)
	}
}

type envelope struct {
	Type, MessageId, TopicArn, Subject, Message, Timestamp, SequenceNumber string
	SignatureVersion, Signature, SigningCertURL, UnsubscribeURL            string
	Token, SubscribeURL                                                    string
	MessageAttributes                                                      map[string]struct{ Type, Value string }
}

func TestSDKTopicLifecycle(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	arn := c.topic(t, "alerts", map[string]string{"DisplayName": "Alerts"})
	if arn != "arn:aws:sns:us-east-1:000000000000:alerts" {
		t.Fatalf("TopicArn = %s", arn)
	}
	if again := c.topic(t, "alerts", map[string]string{"DisplayName": "Alerts"}); again != arn {
		t.Fatalf("idempotent create returned %s", again)
	}
	_, err := c.sns.CreateTopic(ctx, &sdksns.CreateTopicInput{Name: aws.String("alerts"), Attributes: map[string]string{"DisplayName": "Other"}})
	var ip *snstypes.InvalidParameterException
	if !errors.As(err, &ip) || !strings.Contains(err.Error(), "Topic already exists with different attributes") {
		t.Fatalf("create with other attributes: %v", err)
	}
	if _, err := c.sns.SetTopicAttributes(ctx, &sdksns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("Pager")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.sns.GetTopicAttributes(ctx, &sdksns.GetTopicAttributesInput{TopicArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"DisplayName": "Pager", "TopicArn": arn, "Owner": "000000000000", "SubscriptionsConfirmed": "0"} {
		if got.Attributes[k] != want {
			t.Errorf("attribute %s = %q, want %q", k, got.Attributes[k], want)
		}
	}
	if !json.Valid([]byte(got.Attributes["Policy"])) {
		t.Errorf("Policy is not JSON: %s", got.Attributes["Policy"])
	}
	// Tags.
	if _, err := c.sns.TagResource(ctx, &sdksns.TagResourceInput{ResourceArn: &arn, Tags: []snstypes.Tag{{Key: aws.String("team"), Value: aws.String("ops")}, {Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.sns.UntagResource(ctx, &sdksns.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.sns.ListTagsForResource(ctx, &sdksns.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" || *tags.Tags[0].Value != "ops" {
		t.Fatalf("tags = %+v, %v", tags, err)
	}
	// Listing pages through more than one page.
	for i := range 104 {
		c.topic(t, fmt.Sprintf("t%03d", i), nil)
	}
	var all []string
	p := sdksns.NewListTopicsPaginator(c.sns, &sdksns.ListTopicsInput{})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tp := range out.Topics {
			all = append(all, *tp.TopicArn)
		}
	}
	if len(all) != 105 || pages != 2 {
		t.Fatalf("listed %d topics in %d pages, want 105 in 2", len(all), pages)
	}
	if _, err := c.sns.DeleteTopic(ctx, &sdksns.DeleteTopicInput{TopicArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.sns.GetTopicAttributes(ctx, &sdksns.GetTopicAttributesInput{TopicArn: &arn})
	var nf *snstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("deleted topic: %v", err)
	}
	// Deleting again is not an error.
	if _, err := c.sns.DeleteTopic(ctx, &sdksns.DeleteTopicInput{TopicArn: &arn}); err != nil {
		t.Fatal(err)
	}
}

func TestSDKErrors(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	arn := c.topic(t, "errs", nil)
	missing := "arn:aws:sns:us-east-1:000000000000:missing"
	cases := []struct {
		name string
		call func() error
		code string
		msg  string
	}{
		{"bad topic name", func() error {
			_, err := c.sns.CreateTopic(ctx, &sdksns.CreateTopicInput{Name: aws.String("no spaces")})
			return err
		}, "InvalidParameter", "Invalid parameter: Topic Name"},
		{"fifo name without attribute", func() error {
			_, err := c.sns.CreateTopic(ctx, &sdksns.CreateTopicInput{Name: aws.String("x.fifo")})
			return err
		}, "InvalidParameter", "Fifo Topic names must end with .fifo"},
		{"publish to missing topic", func() error {
			_, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &missing, Message: aws.String("m")})
			return err
		}, "NotFound", "Topic does not exist"},
		{"malformed topic ARN", func() error {
			_, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: aws.String("nope"), Message: aws.String("m")})
			return err
		}, "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"},
		{"unsubscribe twice is not an error", func() error {
			_, err := c.sns.Unsubscribe(ctx, &sdksns.UnsubscribeInput{SubscriptionArn: aws.String(arn + ":00000000-0000-4000-8000-000000000000")})
			return err
		}, "", "<nil>"},
		{"publish empty message", func() error {
			_, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &arn, Message: aws.String("")})
			return err
		}, "InvalidParameter", "Invalid parameter: Empty message"},
		{"publish without target", func() error {
			_, err := c.sns.Publish(ctx, &sdksns.PublishInput{Message: aws.String("m")})
			return err
		}, "InvalidParameter", "TopicArn or TargetArn"},
		{"structure without default", func() error {
			_, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &arn, Message: aws.String(`{"sqs":"x"}`), MessageStructure: aws.String("json")})
			return err
		}, "InvalidParameter", "No default entry in JSON message body"},
		{"number attribute not a number", func() error {
			_, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &arn, Message: aws.String("m"), MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"n": {DataType: aws.String("Number"), StringValue: aws.String("abc")}}})
			return err
		}, "InvalidParameter", "MessageAttributes"},
		{"subscribe unknown protocol", func() error {
			_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("carrier-pigeon"), Endpoint: aws.String("x")})
			return err
		}, "InvalidParameter", "does not support this protocol string"},
		{"subscribe to missing topic", func() error {
			_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &missing, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:q")})
			return err
		}, "NotFound", "Topic does not exist"},
		{"subscribe to missing topic checks the topic before the endpoint", func() error {
			_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &missing, Protocol: aws.String("sqs"), Endpoint: aws.String("not-an-arn")})
			return err
		}, "NotFound", "Topic does not exist"},
		{"subscribe to missing topic checks the topic before the protocol", func() error {
			_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &missing, Protocol: aws.String("carrier-pigeon"), Endpoint: aws.String("x")})
			return err
		}, "NotFound", "Topic does not exist"},
		{"subscribe a FIFO queue to a standard topic", func() error {
			_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:q.fifo")})
			return err
		}, "InvalidParameter", "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"},
		{"subscribe with a bad SQS endpoint", func() error {
			_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("sqs"), Endpoint: aws.String("not-an-arn")})
			return err
		}, "InvalidParameter", "Invalid parameter: SQS endpoint ARN"},
		{"bad filter policy", func() error {
			_, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:q"),
				Attributes: map[string]string{"FilterPolicy": `{"a": "not-a-list"`}})
			return err
		}, "InvalidParameter", "FilterPolicy"},
		{"missing subscription", func() error {
			_, err := c.sns.GetSubscriptionAttributes(ctx, &sdksns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn + ":00000000-0000-4000-8000-000000000000")})
			return err
		}, "NotFound", "Subscription does not exist"},
		{"confirm with a bad token", func() error {
			_, err := c.sns.ConfirmSubscription(ctx, &sdksns.ConfirmSubscriptionInput{TopicArn: &arn, Token: aws.String("nope")})
			return err
		}, "InvalidParameter", "Token"},
		{"tags of a missing topic", func() error {
			_, err := c.sns.ListTagsForResource(ctx, &sdksns.ListTagsForResourceInput{ResourceArn: &missing})
			return err
		}, "ResourceNotFound", "Resource does not exist"},
		{"empty batch", func() error {
			_, err := c.sns.PublishBatch(ctx, &sdksns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{}})
			return err
		}, "EmptyBatchRequest", ""},
		{"batch ids not distinct", func() error {
			_, err := c.sns.PublishBatch(ctx, &sdksns.PublishBatchInput{TopicArn: &arn, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
				{Id: aws.String("a"), Message: aws.String("1")}, {Id: aws.String("a"), Message: aws.String("2")}}})
			return err
		}, "BatchEntryIdsNotDistinct", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if apiCode(err) != tc.code || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Fatalf("err = %v (code %q), want code %s with %q", err, apiCode(err), tc.code, tc.msg)
			}
		})
	}
}

func TestSDKPublishToQueueDeliversEnvelope(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	topic := c.topic(t, "orders", nil)
	qurl, qarn := c.queue(t, "orders-q", nil)
	sub := c.subscribe(t, topic, "sqs", qarn, nil)
	if !strings.HasPrefix(sub, topic+":") {
		t.Fatalf("SubscriptionArn = %s", sub)
	}
	out, err := c.sns.Publish(ctx, &sdksns.PublishInput{
		TopicArn: &topic, Message: aws.String("order <42> & more"), Subject: aws.String("New order"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"kind":  {DataType: aws.String("String"), StringValue: aws.String("order")},
			"total": {DataType: aws.String("Number"), StringValue: aws.String("19.5")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := c.receiveAll(t, qurl, 1)
	var en envelope
	if err := json.Unmarshal([]byte(*msgs[0].Body), &en); err != nil {
		t.Fatalf("body is not the envelope: %v: %s", err, *msgs[0].Body)
	}
	if en.Type != "Notification" || en.MessageId != *out.MessageId || en.TopicArn != topic || en.Subject != "New order" ||
		en.Message != "order <42> & more" || en.SignatureVersion != "1" || en.Signature == "" || en.SigningCertURL == "" ||
		!strings.Contains(en.UnsubscribeURL, "Action=Unsubscribe") {
		t.Fatalf("envelope = %+v", en)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", en.Timestamp); err != nil {
		t.Errorf("Timestamp %q: %v", en.Timestamp, err)
	}
	if a := en.MessageAttributes["total"]; a.Type != "Number" || a.Value != "19.5" {
		t.Errorf("MessageAttributes = %+v", en.MessageAttributes)
	}
	if strings.Contains(*msgs[0].Body, `\u003c`) {
		t.Errorf("body escapes HTML, AWS does not: %s", *msgs[0].Body)
	}
	// Subscriptions are listed, and an unsubscribed queue gets nothing more.
	list, err := c.sns.ListSubscriptionsByTopic(ctx, &sdksns.ListSubscriptionsByTopicInput{TopicArn: &topic})
	if err != nil || len(list.Subscriptions) != 1 || *list.Subscriptions[0].SubscriptionArn != sub || *list.Subscriptions[0].Protocol != "sqs" {
		t.Fatalf("ListSubscriptionsByTopic = %+v, %v", list, err)
	}
	if _, err := c.sns.Unsubscribe(ctx, &sdksns.UnsubscribeInput{SubscriptionArn: &sub}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String("after")}); err != nil {
		t.Fatal(err)
	}
	c.expectEmpty(t, qurl)
}

func TestSDKRawDeliveryPassesAttributes(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	topic := c.topic(t, "raw", nil)
	qurl, qarn := c.queue(t, "raw-q", nil)
	sub := c.subscribe(t, topic, "sqs", qarn, nil)
	if _, err := c.sns.SetSubscriptionAttributes(ctx, &sdksns.SetSubscriptionAttributesInput{SubscriptionArn: &sub, AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")}); err != nil {
		t.Fatal(err)
	}
	attrs, err := c.sns.GetSubscriptionAttributes(ctx, &sdksns.GetSubscriptionAttributesInput{SubscriptionArn: &sub})
	if err != nil || attrs.Attributes["RawMessageDelivery"] != "true" || attrs.Attributes["PendingConfirmation"] != "false" || attrs.Attributes["Endpoint"] != qarn {
		t.Fatalf("attributes = %v, %v", attrs, err)
	}
	if _, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String(`{"id":1}`),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("raw")},
			"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		}}); err != nil {
		t.Fatal(err)
	}
	m := c.receiveAll(t, qurl, 1)[0]
	if *m.Body != `{"id":1}` {
		t.Fatalf("raw body = %s", *m.Body)
	}
	if a := m.MessageAttributes["kind"]; aws.ToString(a.StringValue) != "raw" || aws.ToString(a.DataType) != "String" {
		t.Errorf("kind = %+v", a)
	}
	if a := m.MessageAttributes["blob"]; string(a.BinaryValue) != "\x01\x02\x03" {
		t.Errorf("blob = %+v", a)
	}
}

func TestSDKFilterPolicies(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	topic := c.topic(t, "filtered", nil)
	attrURL, attrARN := c.queue(t, "by-attributes", nil)
	bodyURL, bodyARN := c.queue(t, "by-body", nil)
	c.subscribe(t, topic, "sqs", attrARN, map[string]string{
		"FilterPolicy": `{"kind":["order",{"prefix":"ret"}],"total":[{"numeric":[">",100]}],"region":[{"anything-but":"eu"}]}`,
	})
	c.subscribe(t, topic, "sqs", bodyARN, map[string]string{
		"FilterPolicyScope": "MessageBody",
		"FilterPolicy":      `{"order":{"status":["paid"]}}`,
	})
	str := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	num := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(v)}
	}
	publish := func(body string, attrs map[string]snstypes.MessageAttributeValue) {
		t.Helper()
		if _, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String(body), MessageAttributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	publish(`{"order":{"status":"paid"}}`, map[string]snstypes.MessageAttributeValue{"kind": str("order"), "total": num("150"), "region": str("us")})
	publish(`{"order":{"status":"new"}}`, map[string]snstypes.MessageAttributeValue{"kind": str("return"), "total": num("101"), "region": str("ap")})
	publish(`not json`, map[string]snstypes.MessageAttributeValue{"kind": str("order"), "total": num("50"), "region": str("us")})
	publish(`{"order":{"status":"paid"}}`, map[string]snstypes.MessageAttributeValue{"kind": str("order"), "total": num("500"), "region": str("eu")})
	publish(`{"order":{"status":"paid"}}`, nil)

	byAttr := c.receiveAll(t, attrURL, 2)
	for _, m := range byAttr {
		var en envelope
		json.Unmarshal([]byte(*m.Body), &en)
		if en.Message != `{"order":{"status":"paid"}}` && en.Message != `{"order":{"status":"new"}}` {
			t.Errorf("attribute filter let through %s", en.Message)
		}
	}
	c.expectEmpty(t, attrURL)
	c.receiveAll(t, bodyURL, 3)
	c.expectEmpty(t, bodyURL)
}

func TestSDKFIFOTopicToFIFOQueueKeepsOrderAndDeduplicates(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	topic := c.topic(t, "events.fifo", map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"})
	qurl, qarn := c.queue(t, "events.fifo", map[string]string{"FifoQueue": "true"})
	c.subscribe(t, topic, "sqs", qarn, map[string]string{"RawMessageDelivery": "true"})
	// A standard queue cannot subscribe... to a FIFO topic it can; a FIFO queue to a standard topic cannot.
	std := c.topic(t, "standard", nil)
	if _, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &std, Protocol: aws.String("sqs"), Endpoint: &qarn}); apiCode(err) != "InvalidParameter" {
		t.Fatalf("FIFO queue on a standard topic: %v", err)
	}
	if _, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String("no group")}); apiCode(err) != "InvalidParameter" {
		t.Fatalf("publish without group: %v", err)
	}
	var seqs []string
	for i := range 12 {
		out, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String(fmt.Sprintf("m%02d", i)), MessageGroupId: aws.String("g")})
		if err != nil {
			t.Fatal(err)
		}
		if out.SequenceNumber == nil {
			t.Fatal("FIFO publish returned no SequenceNumber")
		}
		seqs = append(seqs, *out.SequenceNumber)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("sequence numbers not increasing: %v", seqs)
		}
	}
	// Same content within five minutes: deduplicated, same message id back.
	a, _ := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String("m00"), MessageGroupId: aws.String("g")})
	if a == nil {
		t.Fatal("duplicate publish failed")
	}
	var bodies []string
	for len(bodies) < 12 {
		out, err := c.sqs.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: &qurl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			bodies = append(bodies, *m.Body)
			c.sqs.DeleteMessage(ctx, &sdksqs.DeleteMessageInput{QueueUrl: &qurl, ReceiptHandle: m.ReceiptHandle})
		}
	}
	for i, b := range bodies {
		if b != fmt.Sprintf("m%02d", i) {
			t.Fatalf("order broken at %d: %v", i, bodies)
		}
	}
	if len(bodies) != 12 {
		t.Fatalf("received %d, want 12: %v", len(bodies), bodies)
	}
	c.expectEmpty(t, qurl)
}

func TestSDKPublishBatch(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	topic := c.topic(t, "batch", nil)
	qurl, qarn := c.queue(t, "batch-q", nil)
	c.subscribe(t, topic, "sqs", qarn, map[string]string{"RawMessageDelivery": "true"})
	out, err := c.sns.PublishBatch(ctx, &sdksns.PublishBatchInput{TopicArn: &topic, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
		{Id: aws.String("a"), Message: aws.String("one")},
		{Id: aws.String("b"), Message: aws.String("")},
		{Id: aws.String("c"), Message: aws.String("three")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 || *out.Failed[0].Id != "b" || *out.Failed[0].Code != "InvalidParameter" || !out.Failed[0].SenderFault {
		t.Fatalf("PublishBatch = %+v", out)
	}
	c.receiveAll(t, qurl, 2)
}

// An HTTP subscriber gets a SubscriptionConfirmation, confirms by visiting
// SubscribeURL, and then gets notifications with SNS's headers.
func TestSDKHTTPSubscriberConfirmsAndReceives(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	type post struct {
		header http.Header
		body   envelope
	}
	posts := make(chan post, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var en envelope
		if err := json.NewDecoder(r.Body).Decode(&en); err != nil {
			t.Errorf("endpoint got a body that is not JSON: %v", err)
		}
		posts <- post{r.Header, en}
	}))
	defer srv.Close()
	topic := c.topic(t, "hooks", nil)
	out, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("http"), Endpoint: aws.String(srv.URL + "/hook")})
	if err != nil {
		t.Fatal(err)
	}
	if *out.SubscriptionArn != "pending confirmation" {
		t.Fatalf("SubscriptionArn = %s", *out.SubscriptionArn)
	}
	list, _ := c.sns.ListSubscriptionsByTopic(ctx, &sdksns.ListSubscriptionsByTopicInput{TopicArn: &topic})
	if len(list.Subscriptions) != 1 || *list.Subscriptions[0].SubscriptionArn != "PendingConfirmation" {
		t.Fatalf("pending subscription listed as %+v", list.Subscriptions)
	}
	var conf post
	select {
	case conf = <-posts:
	case <-time.After(10 * time.Second):
		t.Fatal("no SubscriptionConfirmation arrived")
	}
	if conf.header.Get("x-amz-sns-message-type") != "SubscriptionConfirmation" || conf.body.Type != "SubscriptionConfirmation" ||
		conf.body.Token == "" || conf.header.Get("x-amz-sns-topic-arn") != topic {
		t.Fatalf("confirmation = %+v %+v", conf.header, conf.body)
	}
	// Messages published before confirmation are not delivered.
	if _, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String("too early")}); err != nil {
		t.Fatal(err)
	}
	// Visit SubscribeURL as a webhook would: a plain unsigned GET.
	u, err := url.Parse(conf.body.SubscribeURL)
	if err != nil || u.Query().Get("Token") != conf.body.Token {
		t.Fatalf("SubscribeURL = %s", conf.body.SubscribeURL)
	}
	resp, err := http.Get(conf.body.SubscribeURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "ConfirmSubscriptionResult") {
		t.Fatalf("visiting SubscribeURL: %d %s", resp.StatusCode, b)
	}
	list, _ = c.sns.ListSubscriptionsByTopic(ctx, &sdksns.ListSubscriptionsByTopicInput{TopicArn: &topic})
	subARN := *list.Subscriptions[0].SubscriptionArn
	if !strings.HasPrefix(subARN, topic+":") {
		t.Fatalf("confirmed subscription listed as %s", subARN)
	}
	pub, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String("hello hook"), Subject: aws.String("Hi")})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-posts:
		if n.header.Get("x-amz-sns-message-type") != "Notification" || n.header.Get("x-amz-sns-subscription-arn") != subARN ||
			n.header.Get("x-amz-sns-message-id") != *pub.MessageId || n.body.Message != "hello hook" || n.body.Subject != "Hi" {
			t.Fatalf("notification = %+v %+v", n.header, n.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification arrived")
	}
	select {
	case n := <-posts:
		t.Fatalf("unexpected extra post: %+v", n.body)
	case <-time.After(100 * time.Millisecond):
	}
}

// smtpReceiver is a minimal SMTP server on loopback that keeps each message's
// recipients and data.
type smtpReceiver struct {
	ln   net.Listener
	msgs chan mailMsg
}

type mailMsg struct {
	to   []string
	data string
}

func startSMTP(t *testing.T) *smtpReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &smtpReceiver{ln: ln, msgs: make(chan mailMsg, 10)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(conn)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return r
}

func (r *smtpReceiver) serve(conn net.Conn) {
	defer conn.Close()
	rd := bufio.NewReader(conn)
	say := func(s string) { fmt.Fprintf(conn, "%s\r\n", s) }
	say("220 localhost ESMTP test")
	var m mailMsg
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 localhost")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			m = mailMsg{}
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO"):
			addr := strings.TrimSpace(line[strings.Index(line, ":")+1:])
			m.to = append(m.to, strings.Trim(addr, "<>"))
			say("250 OK")
		case cmd == "DATA":
			say("354 go on")
			var data strings.Builder
			for {
				l, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = data.String()
			r.msgs <- m
			say("250 OK queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 OK")
		}
	}
}

func (r *smtpReceiver) next(t *testing.T) mailMsg {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no email arrived")
	}
	return mailMsg{}
}

func TestSDKEmailSubscriberConfirmsAndReceivesOverSMTP(t *testing.T) {
	mail := startSMTP(t)
	c := startWharf(t, "--smtp-addr", mail.ln.Addr().String())
	ctx := context.Background()
	topic := c.topic(t, "mail", map[string]string{"DisplayName": "Ops"})
	if _, err := c.sns.Subscribe(ctx, &sdksns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("email"), Endpoint: aws.String("oncall@example.com")}); err != nil {
		t.Fatal(err)
	}
	conf := mail.next(t)
	if len(conf.to) != 1 || conf.to[0] != "oncall@example.com" || !strings.Contains(conf.data, "Subject: AWS Notification - Subscription Confirmation") {
		t.Fatalf("confirmation mail = %+v", conf)
	}
	i := strings.Index(conf.data, "http://")
	if i < 0 {
		t.Fatalf("no confirmation link in %s", conf.data)
	}
	link := strings.Fields(conf.data[i:])[0]
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("confirmation link answered %d", resp.StatusCode)
	}
	if _, err := c.sns.Publish(ctx, &sdksns.PublishInput{TopicArn: &topic, Message: aws.String("disk full on db-1"), Subject: aws.String("ALARM")}); err != nil {
		t.Fatal(err)
	}
	n := mail.next(t)
	if !strings.Contains(n.data, "Subject: ALARM") || !strings.Contains(n.data, "disk full on db-1") || !strings.Contains(n.data, "From: Ops <no-reply@sns.amazonaws.com>") {
		t.Fatalf("notification mail = %s", n.data)
	}
}

func TestSDKPhoneNumberPublishIsAccepted(t *testing.T) {
	c := startWharf(t)
	out, err := c.sns.Publish(context.Background(), &sdksns.PublishInput{PhoneNumber: aws.String("+15555550100"), Message: aws.String("code 1234")})
	if err != nil || aws.ToString(out.MessageId) == "" {
		t.Fatalf("publish to phone: %v %v", out, err)
	}
	_, err = c.sns.Publish(context.Background(), &sdksns.PublishInput{PhoneNumber: aws.String("555"), Message: aws.String("x")})
	if apiCode(err) != "InvalidParameter" {
		t.Fatalf("bad phone number: %v", err)
	}
}
