package console_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func TestQueuesViewShowsDepthInFlightAndDeadLetterCounts(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	ctx := context.Background()
	sq := sqs.NewFromConfig(srv.Config())
	dlq, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:jobs-dlq","maxReceiveCount":"3"}`}})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"a", "b", "c"} {
		if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: dlq.QueueUrl, MessageBody: aws.String("dead")}); err != nil {
		t.Fatal(err)
	}
	if rm, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, VisibilityTimeout: 300}); err != nil || len(rm.Messages) != 1 {
		t.Fatalf("receive: %v %+v", err, rm)
	}

	var view struct {
		Items []struct {
			Name, URL, DeadLetterQueue string
			Visible, InFlight          int64
			MaxReceiveCount            int64
			DeadLetterDepth            *int64
		}
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/queues", &view); code != http.StatusOK {
		t.Fatalf("GET queues: %d", code)
	}
	found := false
	for _, it := range view.Items {
		if it.Name != "jobs" {
			continue
		}
		found = true
		if it.Visible != 2 || it.InFlight != 1 || it.DeadLetterQueue != "arn:aws:sqs:us-east-1:000000000000:jobs-dlq" ||
			it.MaxReceiveCount != 3 || it.DeadLetterDepth == nil || *it.DeadLetterDepth != 1 || it.URL != *q.QueueUrl {
			t.Errorf("jobs in the queues view: %+v (dlq depth %v)", it, it.DeadLetterDepth)
		}
	}
	if !found {
		t.Fatalf("jobs is not in the queues view: %+v", view.Items)
	}
	var bad map[string]string
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/nosuch", &bad); code != http.StatusNotFound || bad["error"] == "" {
		t.Errorf("an unknown view: %d %v", code, bad)
	}
	if code := postJSON(t, srv.URL+"/_wharf/api/queues/purge?url="+*q.QueueUrl+"x", nil, &bad); code != http.StatusBadRequest || bad["code"] != "QueueDoesNotExist" {
		t.Errorf("purging a queue that does not exist: %d %v", code, bad)
	}
}
