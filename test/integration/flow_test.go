package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// receiveOne long-polls queueURL until a message arrives or the test's deadline.
func receiveOne(t *testing.T, q *sqs.Client, queueURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL, WaitTimeSeconds: 5})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) > 0 {
			return aws.ToString(out.Messages[0].Body)
		}
	}
	t.Fatal("no message arrived")
	return ""
}

func queueWithARN(t *testing.T, q *sqs.Client, name string) (url, arn string) {
	t.Helper()
	ctx := context.Background()
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	return *out.QueueUrl, attrs.Attributes["QueueArn"]
}

// TestPutEventsReachesAnSQSTargetThroughARule drives EventBridge → SQS with the
// SDK: a rule's pattern selects the event, and the queue gets the AWS envelope.
func TestPutEventsReachesAnSQSTargetThroughARule(t *testing.T) {
	t.Parallel()
	ep := start(t)
	cfg := awsConfig(ep, "test", "test", "")
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := context.Background()
	url, arn := queueWithARN(t, q, "orders")

	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("big-orders"),
		EventPattern: aws.String(`{"source":["shop"],"detail":{"total":[{"numeric":[">",100]}]}}`)}); err != nil {
		t.Fatal(err)
	}
	if out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("big-orders"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(arn)}}}); err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %v %+v", err, out)
	}
	put, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`{"total":5}`)},
		{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`{"total":500}`)},
	}})
	if err != nil || put.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, put)
	}
	var env struct {
		Version, ID, Source, Account, Region string
		DetailType                           string `json:"detail-type"`
		Detail                               struct{ Total int }
	}
	if err := json.Unmarshal([]byte(receiveOne(t, q, url)), &env); err != nil {
		t.Fatal(err)
	}
	if env.Detail.Total != 500 || env.Source != "shop" || env.DetailType != "Order" || env.Version != "0" || env.Account != "000000000000" || env.ID != *put.Entries[1].EventId {
		t.Errorf("delivered %+v", env)
	}
}

// TestDurablePutEventsReachesOneQueueAndTwoQueues drives a wharf on disk,
// where PutEvents delivers an event whose targets are one SQS queue itself
// and leaves an event for two queues to the outbox's dispatcher: each queue
// gets each event its rules send it, once.
func TestDurablePutEventsReachesOneQueueAndTwoQueues(t *testing.T) {
	t.Parallel()
	ep := start(t, "--ephemeral=false", "--data-dir", t.TempDir())
	cfg := awsConfig(ep, "test", "test", "")
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := context.Background()
	urlA, arnA := queueWithARN(t, q, "a")
	urlB, arnB := queueWithARN(t, q, "b")
	rules := map[string][]string{"one": {arnA}, "two": {arnA, arnB}}
	for name, arns := range rules {
		if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name),
			EventPattern: aws.String(`{"detail":{"rule":["` + name + `"]}}`)}); err != nil {
			t.Fatal(err)
		}
		var targets []ebtypes.Target
		for i, arn := range arns {
			targets = append(targets, ebtypes.Target{Id: aws.String(fmt.Sprint("t", i)), Arn: aws.String(arn)})
		}
		if out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: targets}); err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("PutTargets %s: %v %+v", name, err, out)
		}
	}
	for _, name := range []string{"one", "two"} {
		put, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
			{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`{"rule":"` + name + `"}`)},
		}})
		if err != nil || put.FailedEntryCount != 0 {
			t.Fatalf("PutEvents %s: %v %+v", name, err, put)
		}
	}
	for url, want := range map[string][]string{urlA: {"one", "two"}, urlB: {"two"}} {
		var got []string
		for range want {
			var env struct{ Detail struct{ Rule string } }
			if err := json.Unmarshal([]byte(receiveOne(t, q, url)), &env); err != nil {
				t.Fatal(err)
			}
			got = append(got, env.Detail.Rule)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s got the events of rules %q, want %q", url, got, want)
		}
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 1})
		if err != nil || len(out.Messages) != 0 {
			t.Errorf("%s holds more: %v %+v", url, err, out)
		}
	}
}

// TestObjectCreatedFlowsFromS3ThroughEventBridgeToSQS is the first half of
// architecture 1: an object lands in a bucket with EventBridge notifications on, a
// rule matches AWS's "Object Created" event, and its target queue gets it.
func TestObjectCreatedFlowsFromS3ThroughEventBridgeToSQS(t *testing.T) {
	t.Parallel()
	ep := start(t)
	cfg := awsConfig(ep, "test", "test", "")
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := context.Background()
	url, arn := queueWithARN(t, q, "uploads")

	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inbox")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket:                    aws.String("inbox"),
		NotificationConfiguration: &s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("csv-uploads"),
		EventPattern: aws.String(`{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["inbox"]},"object":{"key":[{"suffix":".csv"}]}}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("csv-uploads"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(arn)}}}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"notes.txt", "data/report.csv"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("inbox"), Key: aws.String(key), Body: strings.NewReader("a,b\n1,2\n")}); err != nil {
			t.Fatal(err)
		}
	}
	var env struct {
		Source     string
		DetailType string `json:"detail-type"`
		Resources  []string
		Detail     struct {
			Bucket struct{ Name string }
			Object struct {
				Key  string
				Size int
				Etag string
			}
			Reason string
		}
	}
	if err := json.Unmarshal([]byte(receiveOne(t, q, url)), &env); err != nil {
		t.Fatal(err)
	}
	if env.Source != "aws.s3" || env.DetailType != "Object Created" || env.Detail.Bucket.Name != "inbox" ||
		env.Detail.Object.Key != "data/report.csv" || env.Detail.Object.Size != 8 || env.Detail.Reason != "PutObject" ||
		len(env.Resources) != 1 || env.Resources[0] != "arn:aws:s3:::inbox" {
		t.Errorf("delivered %+v", env)
	}
	// notes.txt matched no rule: nothing else is waiting.
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 0 {
		t.Errorf("unexpected extra messages %v, %v", out, err)
	}
}

// TestQueueConfigurationDeliversS3RecordsToSQS checks S3's own notification path:
// a bucket's QueueConfiguration sends the s3:TestEvent, then an ObjectCreated
// record in S3's Records format, to the queue.
func TestQueueConfigurationDeliversS3RecordsToSQS(t *testing.T) {
	t.Parallel()
	ep := start(t)
	cfg := awsConfig(ep, "test", "test", "")
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	q := sqs.NewFromConfig(cfg)
	ctx := context.Background()
	url, arn := queueWithARN(t, q, "s3-records")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String("photos"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(arn), Events: []s3types.Event{"s3:ObjectCreated:*"},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	if body := receiveOne(t, q, url); !strings.Contains(body, `"s3:TestEvent"`) {
		t.Fatalf("first message is not the test event: %s", body)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("cat.jpg"), Body: strings.NewReader("meow")}); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Records []struct {
			EventSource string
			EventName   string
			S3          struct {
				Bucket struct{ Name string }
				Object struct {
					Key  string
					Size int
				}
			}
		}
	}
	// The test event may still be in flight on a slow machine; skip past it.
	for {
		body := receiveOne(t, q, url)
		if strings.Contains(body, "s3:TestEvent") {
			continue
		}
		if err := json.Unmarshal([]byte(body), &rec); err != nil {
			t.Fatal(err)
		}
		break
	}
	if len(rec.Records) != 1 || rec.Records[0].EventSource != "aws:s3" || rec.Records[0].EventName != "ObjectCreated:Put" ||
		rec.Records[0].S3.Bucket.Name != "photos" || rec.Records[0].S3.Object.Key != "cat.jpg" || rec.Records[0].S3.Object.Size != 4 {
		t.Errorf("record %+v", rec)
	}
}
