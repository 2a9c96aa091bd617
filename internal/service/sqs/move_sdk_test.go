package sqs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TestSDKv2RedrivesADeadLetterQueue drives messages into a dead-letter queue
// and back with StartMessageMoveTask on the real server, whose mover loop
// finishes the task in the background.
func TestSDKv2RedrivesADeadLetterQueue(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	_, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("redrive-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	const dlqARN = "arn:aws:sqs:us-east-1:000000000000:redrive-dlq"
	src, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("redrive-src"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"1"}`, "VisibilityTimeout": "0",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"a", "b", "c"} {
		if _, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: src.QueueUrl, MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	// One receive (visible again at once), then the next receive moves them.
	if _, err := c.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: src.QueueUrl, MaxNumberOfMessages: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: src.QueueUrl, MaxNumberOfMessages: 10}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartMessageMoveTask(ctx, &sdksqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN)})
	if err != nil {
		t.Fatal(err)
	}
	var task types.ListMessageMoveTasksResultEntry
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		out, err := c.ListMessageMoveTasks(ctx, &sdksqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlqARN)})
		if err != nil || len(out.Results) != 1 {
			t.Fatalf("list: %+v %v", out, err)
		}
		if task = out.Results[0]; *task.Status != "RUNNING" {
			break
		}
	}
	if *task.Status != "COMPLETED" || task.ApproximateNumberOfMessagesMoved != 3 || task.ApproximateNumberOfMessagesToMove == nil || *task.ApproximateNumberOfMessagesToMove != 3 {
		t.Fatalf("task = %+v", task)
	}
	got, err := c.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: src.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil || len(got.Messages) != 3 {
		t.Fatalf("source queue got %d messages back: %v", len(got.Messages), err)
	}
	_, err = c.StartMessageMoveTask(ctx, &sdksqs.StartMessageMoveTaskInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:redrive-src")})
	if err == nil || !strings.Contains(err.Error(), "Source queue must be configured as a Dead Letter Queue.") {
		t.Fatalf("non-DLQ source: %v", err)
	}
	_, err = c.CancelMessageMoveTask(ctx, &sdksqs.CancelMessageMoveTaskInput{TaskHandle: aws.String("bm9wZQ==")})
	if err == nil || !strings.Contains(err.Error(), "TaskHandle") {
		t.Fatalf("bad handle: %v", err)
	}
}
