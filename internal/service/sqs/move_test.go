package sqs

import (
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

const dlqARN = "arn:aws:sqs:us-east-1:" + testAccount + ":dlq"

// deadLetter sets up queues "orders" and "billing" whose messages go to "dlq"
// after one receive, and drives n messages of each there.
func deadLetter(t *testing.T, f *fixture, n int) (orders, billing, dlq string) {
	t.Helper()
	dlq = f.createQueue("dlq", nil)
	policy := map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":1}`, "VisibilityTimeout": "5"}
	orders = f.createQueue("orders", policy)
	billing = f.createQueue("billing", policy)
	for _, u := range []string{orders, billing} {
		for range n {
			f.send(u, "m")
		}
		for len(f.receive(u, 10)) > 0 {
		}
	}
	f.clock.Advance(6 * time.Second)
	for _, u := range []string{orders, billing} {
		if got := f.receive(u, 10); len(got) != 0 {
			t.Fatalf("received %d after maxReceiveCount", len(got))
		}
	}
	if v := f.attrs(dlq)["ApproximateNumberOfMessages"]; v != itoa(2*n) {
		t.Fatalf("dead-letter queue has %s messages, want %d", v, 2*n)
	}
	return orders, billing, dlq
}

func itoa(n int) string { return strconv.Itoa(n) }

func (f *fixture) tasks(src string, max int32) []sqsapi.ListMessageMoveTasksResultEntry {
	f.t.Helper()
	out, err := f.svc.ListMessageMoveTasks(f.ctx, &sqsapi.ListMessageMoveTasksInput{SourceArn: &src, MaxResults: &max})
	if err != nil {
		f.t.Fatalf("ListMessageMoveTasks: %v", err)
	}
	return out.Results
}

func TestMessageMoveTaskReturnsMessagesToTheirSourceQueues(t *testing.T) {
	f := newFixture(t)
	orders, billing, dlq := deadLetter(t, f, 3)
	out, err := f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: awsapi.String(dlqARN)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.stepMoves(); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{orders, billing} {
		got := f.receive(u, 10)
		if len(got) != 3 || got[0].Attributes["ApproximateReceiveCount"] != "1" || got[0].Attributes["DeadLetterQueueSourceArn"] != "" {
			t.Fatalf("%s got %d messages back: %+v", u, len(got), got)
		}
	}
	if v := f.attrs(dlq)["ApproximateNumberOfMessages"]; v != "0" {
		t.Fatalf("dead-letter queue still has %s messages", v)
	}
	task := f.tasks(dlqARN, 10)
	if len(task) != 1 || *task[0].Status != "COMPLETED" || *task[0].ApproximateNumberOfMessagesMoved != 6 ||
		*task[0].ApproximateNumberOfMessagesToMove != 6 || task[0].TaskHandle != nil || task[0].DestinationArn != nil || task[0].MaxNumberOfMessagesPerSecond != nil {
		t.Fatalf("task = %+v", task)
	}
	_, err = f.svc.CancelMessageMoveTask(f.ctx, &sqsapi.CancelMessageMoveTaskInput{TaskHandle: out.TaskHandle})
	wantCode(t, err, "InvalidParameterValue") // only a RUNNING task can be cancelled
}

func TestRateLimitedMoveTaskToADestinationCanBeCancelled(t *testing.T) {
	f := newFixture(t)
	deadLetter(t, f, 5)
	retry := f.createQueue("retry", nil)
	retryARN := "arn:aws:sqs:us-east-1:" + testAccount + ":retry"
	out, err := f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: awsapi.String(dlqARN), DestinationArn: &retryARN, MaxNumberOfMessagesPerSecond: awsapi.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.stepMoves() // no time has passed: nothing moves yet
	f.clock.Advance(time.Second)
	if running, err := f.svc.stepMoves(); err != nil || !running {
		t.Fatalf("stepMoves: running %v, %v", running, err)
	}
	if got := f.receive(retry, 10); len(got) != 3 {
		t.Fatalf("moved %d messages in the first second at 3 per second", len(got))
	}
	task := f.tasks(dlqARN, 1)[0]
	if *task.Status != "RUNNING" || *task.ApproximateNumberOfMessagesMoved != 3 || *task.ApproximateNumberOfMessagesToMove != 10 ||
		*task.TaskHandle != *out.TaskHandle || *task.DestinationArn != retryARN || *task.MaxNumberOfMessagesPerSecond != 3 {
		t.Fatalf("task = %+v", task)
	}
	_, err = f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: awsapi.String(dlqARN)})
	wantCode(t, err, "InvalidParameterValue") // one running task per source

	c, err := f.svc.CancelMessageMoveTask(f.ctx, &sqsapi.CancelMessageMoveTaskInput{TaskHandle: out.TaskHandle})
	if err != nil || *c.ApproximateNumberOfMessagesMoved != 3 {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	f.clock.Advance(time.Second)
	if running, _ := f.svc.stepMoves(); running {
		t.Fatal("a cancelled task still runs")
	}
	if task := f.tasks(dlqARN, 1)[0]; *task.Status != "CANCELLED" || *task.ApproximateNumberOfMessagesMoved != 3 {
		t.Fatalf("task after cancel = %+v", task)
	}
	// A new task may start once the first is no longer running.
	if _, err := f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: awsapi.String(dlqARN), DestinationArn: &retryARN}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.tasks(dlqARN, 10)); n != 2 {
		t.Fatalf("%d tasks listed, want 2", n)
	}
}

func TestMoveTaskFailsWhenItsDestinationIsDeleted(t *testing.T) {
	f := newFixture(t)
	deadLetter(t, f, 2)
	retry := f.createQueue("retry", nil)
	retryARN := "arn:aws:sqs:us-east-1:" + testAccount + ":retry"
	if _, err := f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: awsapi.String(dlqARN), DestinationArn: &retryARN, MaxNumberOfMessagesPerSecond: awsapi.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	f.svc.stepMoves()
	if _, err := f.svc.DeleteQueue(f.ctx, &sqsapi.DeleteQueueInput{QueueUrl: &retry}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	if running, _ := f.svc.stepMoves(); running {
		t.Fatal("task still running without a destination")
	}
	task := f.tasks(dlqARN, 1)[0]
	if *task.Status != "FAILED" || awsapi.ToString(task.FailureReason) != "AWS.SimpleQueueService.NonExistentQueue" || *task.ApproximateNumberOfMessagesMoved != 1 {
		t.Fatalf("task = %+v", task)
	}
}

func TestMessageMoveTaskErrors(t *testing.T) {
	f := newFixture(t)
	deadLetter(t, f, 1)
	handle := func(id, arn string) *string {
		return awsapi.String(base64.StdEncoding.EncodeToString([]byte(`{"taskId":"` + id + `","sourceArn":"` + arn + `"}`)))
	}
	ordersARN := "arn:aws:sqs:us-east-1:" + testAccount + ":orders"
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"source is not a dead-letter queue", func() error {
			_, err := f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: &ordersARN})
			return err
		}, "InvalidParameterValue"},
		{"source does not exist", func() error {
			_, err := f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: awsapi.String(dlqARN + "x")})
			return err
		}, "ResourceNotFoundException"},
		{"destination does not exist", func() error {
			_, err := f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: awsapi.String(dlqARN), DestinationArn: awsapi.String(dlqARN + "x")})
			return err
		}, "ResourceNotFoundException"},
		{"rate above 500", func() error {
			_, err := f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: awsapi.String(dlqARN), MaxNumberOfMessagesPerSecond: awsapi.Int32(501)})
			return err
		}, "InvalidParameterValue"},
		{"destination is the source", func() error {
			_, err := f.svc.StartMessageMoveTask(f.ctx, &sqsapi.StartMessageMoveTaskInput{SourceArn: awsapi.String(dlqARN), DestinationArn: awsapi.String(dlqARN)})
			return err
		}, "InvalidParameterValue"},
		{"list of a missing queue", func() error {
			_, err := f.svc.ListMessageMoveTasks(f.ctx, &sqsapi.ListMessageMoveTasksInput{SourceArn: awsapi.String(dlqARN + "x")})
			return err
		}, "ResourceNotFoundException"},
		{"list of more than 10", func() error {
			_, err := f.svc.ListMessageMoveTasks(f.ctx, &sqsapi.ListMessageMoveTasksInput{SourceArn: awsapi.String(dlqARN), MaxResults: awsapi.Int32(11)})
			return err
		}, "InvalidParameterValue"},
		{"cancel with a malformed handle", func() error {
			_, err := f.svc.CancelMessageMoveTask(f.ctx, &sqsapi.CancelMessageMoveTaskInput{TaskHandle: awsapi.String("not a handle")})
			return err
		}, "InvalidParameterValue"},
		{"cancel of a task of a missing queue", func() error {
			_, err := f.svc.CancelMessageMoveTask(f.ctx, &sqsapi.CancelMessageMoveTaskInput{TaskHandle: handle("t", dlqARN+"x")})
			return err
		}, "ResourceNotFoundException"},
		{"cancel of a missing task", func() error {
			_, err := f.svc.CancelMessageMoveTask(f.ctx, &sqsapi.CancelMessageMoveTaskInput{TaskHandle: handle("t", dlqARN)})
			return err
		}, "ResourceNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, c.call(), c.code) })
	}
}
