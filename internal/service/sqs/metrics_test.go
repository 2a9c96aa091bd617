package sqs

import (
	"context"
	"sync"
	"testing"
	"time"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

// recordedMetrics keeps what PublishMetrics put, by queue and metric name.
type recordedMetrics struct {
	mu   sync.Mutex
	data map[string]map[string]Datum // queue → metric → datum
	ns   []string
}

func (r *recordedMetrics) Put(_ context.Context, account, region, namespace string, data ...Datum) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ns = append(r.ns, account+"/"+region+"/"+namespace)
	for _, d := range data {
		q := d.Dimensions["QueueName"]
		if r.data[q] == nil {
			r.data[q] = map[string]Datum{}
		}
		r.data[q][d.MetricName] = d
	}
	return nil
}

func (r *recordedMetrics) value(t *testing.T, queue, metric string) float64 {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.data[queue][metric]
	if !ok {
		t.Fatalf("no %s for %s", metric, queue)
	}
	if !d.HighResolution {
		t.Fatalf("%s is not a 1-second metric", metric)
	}
	return d.Value
}

func TestPublishMetricsReportsCountsAndEventsSinceTheLastPublication(t *testing.T) {
	f := newFixture(t)
	rec := &recordedMetrics{data: map[string]map[string]Datum{}}
	f.svc.SetMetrics(rec)
	url := f.createQueue("work", nil)
	f.createQueue("idle", nil)
	for _, b := range []string{"a", "bb", "cccccc"} {
		f.send(url, b)
	}
	delay := int32(60)
	if _, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: ptr("later"), DelaySeconds: &delay}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Second)
	got := f.receive(url, 1)
	if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: got[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	f.receive(url, 1) // in flight
	idle := f.createQueue("idle", nil)
	f.receive(idle, 1) // empty
	if err := f.svc.PublishMetrics(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		queue, metric string
		want          float64
	}{
		{"work", "ApproximateNumberOfMessagesVisible", 1},
		{"work", "ApproximateNumberOfMessagesNotVisible", 1},
		{"work", "ApproximateNumberOfMessagesDelayed", 1},
		{"work", "ApproximateAgeOfOldestMessage", 10},
		{"work", "NumberOfMessagesSent", 4},
		{"work", "SentMessageSize", float64(1+2+6+5) / 4},
		{"work", "NumberOfMessagesReceived", 2},
		{"work", "NumberOfMessagesDeleted", 1},
		{"work", "NumberOfEmptyReceives", 0},
		{"idle", "NumberOfEmptyReceives", 1},
		{"idle", "ApproximateNumberOfMessagesVisible", 0},
	} {
		if v := rec.value(t, c.queue, c.metric); v != c.want {
			t.Errorf("%s %s = %v, want %v", c.queue, c.metric, v, c.want)
		}
	}
	if rec.ns[0] != testAccount+"/us-east-1/AWS/SQS" {
		t.Errorf("published to %s", rec.ns[0])
	}
	// The event counters restart at zero; the counts are the queue's state.
	if err := f.svc.PublishMetrics(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := rec.value(t, "work", "NumberOfMessagesSent"); v != 0 {
		t.Errorf("NumberOfMessagesSent after a second publication = %v, want 0", v)
	}
	if v := rec.value(t, "work", "ApproximateNumberOfMessagesVisible"); v != 1 {
		t.Errorf("ApproximateNumberOfMessagesVisible after a second publication = %v, want 1", v)
	}
}

func ptr(s string) *string { return &s }
