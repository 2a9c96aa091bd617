package s3_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestNotificationConfigurationRoundTripsAndValidates(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "notify-config")
	cfg := &types.NotificationConfiguration{
		EventBridgeConfiguration: &types.EventBridgeConfiguration{},
		QueueConfigurations: []types.QueueConfiguration{{Id: aws.String("q1"), QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:uploads"),
			Events: []types.Event{"s3:ObjectCreated:*"},
			Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{
				{Name: types.FilterRuleNamePrefix, Value: aws.String("in/")}, {Name: types.FilterRuleNameSuffix, Value: aws.String(".csv")}}}}}},
		TopicConfigurations: []types.TopicConfiguration{{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:removed"),
			Events: []types.Event{"s3:ObjectRemoved:Delete"}}},
	}
	if _, err := e.client.PutBucketNotificationConfiguration(ctx(), &awss3.PutBucketNotificationConfigurationInput{Bucket: aws.String(b), NotificationConfiguration: cfg}); err != nil {
		t.Fatal(err)
	}
	// S3 sends an s3:TestEvent to each destination when the configuration is set.
	for i := 0; i < 2; i++ {
		m := e.notifier.next(t)
		if !strings.Contains(m.body, `"Event":"s3:TestEvent"`) || !strings.Contains(m.body, `"Bucket":"notify-config"`) {
			t.Errorf("test event = %s", m.body)
		}
	}
	got, err := e.client.GetBucketNotificationConfiguration(ctx(), &awss3.GetBucketNotificationConfigurationInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if got.EventBridgeConfiguration == nil || len(got.QueueConfigurations) != 1 || len(got.TopicConfigurations) != 1 ||
		aws.ToString(got.QueueConfigurations[0].Id) != "q1" || got.TopicConfigurations[0].Id == nil ||
		len(got.QueueConfigurations[0].Filter.Key.FilterRules) != 2 {
		t.Errorf("GetBucketNotificationConfiguration = %+v", got)
	}
	_, err = e.client.PutBucketNotificationConfiguration(ctx(), &awss3.PutBucketNotificationConfigurationInput{Bucket: aws.String(b),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
			QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"), Events: []types.Event{"s3:ObjectMade:*"}}}}})
	if errCode(err) != "InvalidArgument" {
		t.Errorf("unknown event = %v", err)
	}
}

func TestObjectEventsReachEventBridgeAsAWSSendsThem(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "eb-events")
	if _, err := e.client.PutBucketNotificationConfiguration(ctx(), &awss3.PutBucketNotificationConfigurationInput{Bucket: aws.String(b),
		NotificationConfiguration: &types.NotificationConfiguration{EventBridgeConfiguration: &types.EventBridgeConfiguration{}}}); err != nil {
		t.Fatal(err)
	}
	put, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("in/data.csv"), Body: strings.NewReader("a,b\n")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy.csv"), CopySource: aws.String(b + "/in/data.csv")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("in/data.csv")}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx(), 10*time.Second)
	defer cancel()
	evs, err := e.events.Wait(wctx, 3)
	if err != nil {
		t.Fatalf("events: %v (%d)", err, len(evs))
	}
	type detail struct {
		Version string `json:"version"`
		Bucket  struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      *int64 `json:"size"`
			ETag      string `json:"etag"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
		RequestID    string `json:"request-id"`
		Requester    string `json:"requester"`
		SourceIP     string `json:"source-ip-address"`
		Reason       string `json:"reason"`
		DeletionType string `json:"deletion-type"`
	}
	var ds []detail
	for _, ev := range evs {
		var d detail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
		if ev.Source != "aws.s3" || len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:s3:::eb-events" || ev.Region != "us-east-1" || ev.Account == "" {
			t.Errorf("envelope = %+v", ev)
		}
		if d.Version != "0" || d.Bucket.Name != b || d.RequestID == "" || d.Requester == "" || d.SourceIP == "" || d.Object.Sequencer == "" {
			t.Errorf("detail = %s", ev.Detail)
		}
	}
	if evs[0].DetailType != "Object Created" || ds[0].Reason != "PutObject" || ds[0].Object.Key != "in/data.csv" ||
		ds[0].Object.Size == nil || *ds[0].Object.Size != 4 || `"`+ds[0].Object.ETag+`"` != aws.ToString(put.ETag) {
		t.Errorf("put event = %s %s", evs[0].DetailType, evs[0].Detail)
	}
	if evs[1].DetailType != "Object Created" || ds[1].Reason != "CopyObject" || ds[1].Object.Key != "copy.csv" {
		t.Errorf("copy event = %s %s", evs[1].DetailType, evs[1].Detail)
	}
	if evs[2].DetailType != "Object Deleted" || ds[2].Reason != "DeleteObject" || ds[2].DeletionType != "Permanently Deleted" || ds[2].Object.Size != nil {
		t.Errorf("delete event = %s %s", evs[2].DetailType, evs[2].Detail)
	}
	if !(ds[0].Object.Sequencer < ds[1].Object.Sequencer && ds[1].Object.Sequencer < ds[2].Object.Sequencer) {
		t.Errorf("sequencers not increasing: %s %s %s", ds[0].Object.Sequencer, ds[1].Object.Sequencer, ds[2].Object.Sequencer)
	}
}

func TestBucketsWithoutEventBridgeSendNoEvents(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "quiet")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	// Completing a later request on a bucket that announces proves ordering.
	loud := e.bucket(t, "loud")
	if _, err := e.client.PutBucketNotificationConfiguration(ctx(), &awss3.PutBucketNotificationConfigurationInput{Bucket: aws.String(loud),
		NotificationConfiguration: &types.NotificationConfiguration{EventBridgeConfiguration: &types.EventBridgeConfiguration{}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(loud), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	evs := e.events.Events()
	if len(evs) != 1 || !strings.Contains(string(evs[0].Detail), `"name":"loud"`) {
		t.Errorf("events = %+v", evs)
	}
}

func TestQueueAndTopicNotificationsFollowEventsAndFilters(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "records")
	queue, topic := "arn:aws:sqs:us-east-1:000000000000:csv", "arn:aws:sns:us-east-1:000000000000:all"
	if _, err := e.client.PutBucketNotificationConfiguration(ctx(), &awss3.PutBucketNotificationConfigurationInput{Bucket: aws.String(b),
		NotificationConfiguration: &types.NotificationConfiguration{
			QueueConfigurations: []types.QueueConfiguration{{Id: aws.String("csv-in"), QueueArn: aws.String(queue), Events: []types.Event{"s3:ObjectCreated:*"},
				Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{
					{Name: types.FilterRuleNamePrefix, Value: aws.String("in/")}, {Name: types.FilterRuleNameSuffix, Value: aws.String(".csv")}}}}}},
			TopicConfigurations: []types.TopicConfiguration{{Id: aws.String("deletes"), TopicArn: aws.String(topic), Events: []types.Event{"s3:ObjectRemoved:*"}}},
		}}); err != nil {
		t.Fatal(err)
	}
	e.notifier.next(t) // test events
	e.notifier.next(t)
	putKeys(t, e, b, "in/skip.txt", "out/skip.csv", "in/a b.csv")
	m := e.notifier.next(t)
	if m.arn != queue {
		t.Fatalf("first notification to %s, want %s: %s", m.arn, queue, m.body)
	}
	var rec struct {
		Records []struct {
			EventVersion string `json:"eventVersion"`
			EventSource  string `json:"eventSource"`
			EventName    string `json:"eventName"`
			AWSRegion    string `json:"awsRegion"`
			S3           struct {
				ConfigurationID string `json:"configurationId"`
				Bucket          struct {
					Name, Arn string
				} `json:"bucket"`
				Object struct {
					Key  string `json:"key"`
					Size int64  `json:"size"`
					ETag string `json:"eTag"`
				} `json:"object"`
			} `json:"s3"`
		}
	}
	if err := json.Unmarshal([]byte(m.body), &rec); err != nil || len(rec.Records) != 1 {
		t.Fatalf("record %s: %v", m.body, err)
	}
	r := rec.Records[0]
	if r.EventVersion != "2.1" || r.EventSource != "aws:s3" || r.EventName != "ObjectCreated:Put" || r.AWSRegion != "us-east-1" ||
		r.S3.ConfigurationID != "csv-in" || r.S3.Bucket.Name != b || r.S3.Bucket.Arn != "arn:aws:s3:::records" ||
		r.S3.Object.Key != "in/a+b.csv" || r.S3.Object.Size != 10 || r.S3.Object.ETag == "" {
		t.Errorf("record = %s", m.body)
	}
	if _, err := e.client.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("out/skip.csv")}); err != nil {
		t.Fatal(err)
	}
	m = e.notifier.next(t)
	if m.arn != topic || m.subject != "Amazon S3 Notification" || !strings.Contains(m.body, `"eventName":"ObjectRemoved:Delete"`) {
		t.Errorf("delete notification = %+v", m)
	}
	select {
	case extra := <-e.notifier.ch:
		t.Errorf("unexpected notification %+v", extra)
	default:
	}
}
