package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestADispatchRoundsDeliveriesToAQueueArriveAsOneByOne puts ten events in
// one PutEvents call, so that the dispatcher takes them in one round and
// sends every delivery to the FIFO queue in one SendMessages call: two of
// those deliveries (a second rule's, whose MessageGroupId SQS refuses) fail
// on their own and are dead-lettered, and the others arrive in order. The
// dead-letter messages' ERROR_CODE and ERROR_MESSAGE are those of the same
// failure delivered alone. In memory and on disk.
func TestADispatchRoundsDeliveriesToAQueueArriveAsOneByOne(t *testing.T) {
	for _, mode := range []string{"memory", "durable"} {
		t.Run(mode, func(t *testing.T) {
			var args []string
			if mode == "durable" {
				args = []string{"--ephemeral=false", "--data-dir", t.TempDir()}
			}
			cfg := wharftest.Start(t, args...).Config()
			eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
			ctx := context.Background()
			queue := func(name string, attrs map[string]string) (string, string) {
				out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
				if err != nil {
					t.Fatal(err)
				}
				return *out.QueueUrl, "arn:aws:sqs:us-east-1:000000000000:" + name
			}
			jobsURL, jobsARN := queue("jobs.fifo", map[string]string{"FifoQueue": "true"})
			dlqURL, dlqARN := queue("jobs-dlq", nil)
			rule := func(name, pattern string, target types.Target) {
				if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &name, EventPattern: &pattern}); err != nil {
					t.Fatal(err)
				}
				out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &name, Targets: []types.Target{target}})
				if err != nil || out.FailedEntryCount != 0 {
					t.Fatalf("PutTargets: %v %+v", err, out)
				}
			}
			rule("all", `{"source":["shop"]}`, types.Target{Id: aws.String("q"), Arn: &jobsARN,
				SqsParameters: &types.SqsParameters{MessageGroupId: aws.String("g")}})
			rule("bad", `{"source":["shop"],"detail":{"kind":["bad"]}}`, types.Target{Id: aws.String("q"), Arn: &jobsARN,
				SqsParameters:    &types.SqsParameters{MessageGroupId: aws.String("not a group")},
				RetryPolicy:      &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)},
				DeadLetterConfig: &types.DeadLetterConfig{Arn: &dlqARN}})

			put := func(kinds ...string) []string {
				var entries []types.PutEventsRequestEntry
				for i, k := range kinds {
					entries = append(entries, types.PutEventsRequestEntry{Source: aws.String("shop"), DetailType: aws.String("Order"),
						Detail: aws.String(fmt.Sprintf(`{"kind":%q,"n":%d}`, k, i))})
				}
				out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
				if err != nil || out.FailedEntryCount != 0 {
					t.Fatalf("PutEvents: %v %+v", err, out)
				}
				var ids []string
				for _, e := range out.Entries {
					ids = append(ids, *e.EventId)
				}
				return ids
			}
			// receive reads n messages of url, in the order the queue gives them.
			receive := func(url string, n int) []sqstypes.Message {
				var got []sqstypes.Message
				deadline := time.Now().Add(30 * time.Second)
				for len(got) < n && time.Now().Before(deadline) {
					out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
						MessageAttributeNames: []string{"All"}})
					if err != nil {
						t.Fatal(err)
					}
					for _, m := range out.Messages {
						got = append(got, m)
						if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
							t.Fatal(err)
						}
					}
				}
				if len(got) != n {
					t.Fatalf("%s: %d messages, want %d", url, len(got), n)
				}
				return got
			}
			attr := func(m sqstypes.Message, name string) string {
				return aws.ToString(m.MessageAttributes[name].StringValue)
			}

			// Alone first: one event, one delivery per rule.
			lone := put("bad")
			if got := receive(jobsURL, 1); !strings.Contains(*got[0].Body, lone[0]) {
				t.Fatalf("lone event: %s", *got[0].Body)
			}
			want := receive(dlqURL, 1)[0]
			if attr(want, "ERROR_CODE") != "SDK_CLIENT_ERROR" || !strings.Contains(attr(want, "ERROR_MESSAGE"), "MessageGroupId") ||
				!strings.Contains(*want.Body, lone[0]) {
				t.Fatalf("lone dead letter: %s %+v", *want.Body, want.MessageAttributes)
			}

			kinds := []string{"ok", "bad", "ok", "ok", "ok", "bad", "ok", "ok", "ok", "ok"}
			ids := put(kinds...)
			for i, m := range receive(jobsURL, len(ids)) {
				if !strings.Contains(*m.Body, `"id":"`+ids[i]+`"`) {
					t.Errorf("message %d of the FIFO queue is %s, want event %s", i, *m.Body, ids[i])
				}
			}
			dead := receive(dlqURL, 2)
			for i, m := range dead {
				wantID := ids[1]
				if i == 1 {
					wantID = ids[5]
				}
				if !strings.Contains(*m.Body, `"id":"`+wantID+`"`) {
					t.Errorf("dead letter %d is %s, want event %s", i, *m.Body, wantID)
				}
				for _, a := range []string{"ERROR_CODE", "ERROR_MESSAGE", "RULE_ARN", "TARGET_ARN"} {
					if attr(m, a) != attr(want, a) {
						t.Errorf("dead letter %d: %s %q, alone %q", i, a, attr(m, a), attr(want, a))
					}
				}
			}
		})
	}
}
