package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestSDKv2ArchiveAndReplayRedeliverToTheQueue: an event put on the default
// bus reaches a queue and its archive; a replay of the archive delivers it to
// the queue again, with "replay-name".
func TestSDKv2ArchiveAndReplayRedeliverToTheQueue(t *testing.T) {
	eb, q := startWharf(t)
	ctx := context.Background()
	qu, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	bus := "arn:aws:events:us-east-1:000000000000:event-bus/default"
	arc, err := eb.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("orders"), EventSourceArn: aws.String(bus),
		EventPattern: aws.String(`{"source":["shop"]}`), RetentionDays: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if *arc.ArchiveArn != "arn:aws:events:us-east-1:000000000000:archive/orders" || arc.State != types.ArchiveStateEnabled {
		t.Errorf("CreateArchive %+v", arc)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"), EventPattern: aws.String(`{"source":["shop"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), Targets: []types.Target{
		{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:orders")}}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Second)
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("Order Placed"), Detail: aws.String(`{"id":7}`)},
		{Source: aws.String("other"), DetailType: aws.String("Noise"), Detail: aws.String(`{}`)},
	}}); err != nil {
		t.Fatal(err)
	}
	receive := func() map[string]any {
		t.Helper()
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qu.QueueUrl, WaitTimeSeconds: 20})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != 1 {
			t.Fatal("no message within 20 s")
		}
		q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: qu.QueueUrl, ReceiptHandle: out.Messages[0].ReceiptHandle})
		var ev map[string]any
		if err := json.Unmarshal([]byte(*out.Messages[0].Body), &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if ev := receive(); ev["replay-name"] != nil {
		t.Errorf("a live event carries replay-name: %v", ev)
	}
	// The archive is written as the event leaves the outbox, just after
	// delivery: by the dispatcher, which a loaded machine can keep waiting.
	var count int64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		d, err := eb.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String("orders")})
		if err != nil {
			t.Fatal(err)
		}
		if count = d.EventCount; count > 0 {
			break
		}
	}
	if count != 1 {
		t.Fatalf("archive holds %d events, want 1 (the other source does not match)", count)
	}
	// The range travels with millisecond precision and EventEndTime must be in
	// the past: let the clock pass the millisecond the event was ingested in, or
	// the event can fall just outside the range.
	time.Sleep(5 * time.Millisecond)
	end := time.Now()
	rp, err := eb.StartReplay(ctx, &eventbridge.StartReplayInput{ReplayName: aws.String("again"), EventSourceArn: arc.ArchiveArn,
		EventStartTime: aws.Time(start), EventEndTime: aws.Time(end),
		Destination: &types.ReplayDestination{Arn: aws.String(bus), FilterArns: []string{"arn:aws:events:us-east-1:000000000000:rule/orders"}}})
	if err != nil {
		t.Fatal(err)
	}
	if *rp.ReplayArn != "arn:aws:events:us-east-1:000000000000:replay/again" || rp.State != types.ReplayStateStarting {
		t.Errorf("StartReplay %+v", rp)
	}
	// The replay reaches COMPLETED once it has re-sent everything in range.
	state := types.ReplayState("")
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && state != types.ReplayStateCompleted; {
		d, err := eb.DescribeReplay(ctx, &eventbridge.DescribeReplayInput{ReplayName: aws.String("again")})
		if err != nil {
			t.Fatal(err)
		}
		state = d.State
		time.Sleep(50 * time.Millisecond)
	}
	if state != types.ReplayStateCompleted {
		t.Fatalf("replay state %s, want COMPLETED", state)
	}
	ev := receive()
	if ev["replay-name"] != "again" || ev["source"] != "shop" {
		t.Errorf("replayed event %v", ev)
	}
	var d *eventbridge.DescribeReplayOutput
	for range 50 {
		if d, err = eb.DescribeReplay(ctx, &eventbridge.DescribeReplayInput{ReplayName: aws.String("again")}); err != nil {
			t.Fatal(err)
		}
		if d.State == types.ReplayStateCompleted {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d.State != types.ReplayStateCompleted || d.EventLastReplayedTime == nil || d.ReplayEndTime == nil {
		t.Errorf("DescribeReplay %+v", d)
	}
	l, err := eb.ListReplays(ctx, &eventbridge.ListReplaysInput{})
	if err != nil || len(l.Replays) != 1 {
		t.Errorf("ListReplays %+v %v", l, err)
	}
	var exists *types.ResourceAlreadyExistsException
	if _, err := eb.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("orders"), EventSourceArn: aws.String(bus)}); !errors.As(err, &exists) {
		t.Errorf("duplicate archive: %v", err)
	}
	if _, err := eb.DeleteArchive(ctx, &eventbridge.DeleteArchiveInput{ArchiveName: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := eb.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String("orders")}); !errors.As(err, &nf) {
		t.Errorf("deleted archive: %v", err)
	}
}

func TestSDKv2CreateArchiveMakesItsManagedRule(t *testing.T) {
	eb, _ := startWharf(t)
	ctx := context.Background()
	bus := "arn:aws:events:us-east-1:000000000000:event-bus/default"
	if _, err := eb.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("audit"), EventSourceArn: aws.String(bus),
		EventPattern: aws.String(`{"source":["shop"]}`)}); err != nil {
		t.Fatal(err)
	}
	rule, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("Events-Archive-audit")})
	if err != nil {
		t.Fatalf("the archive's rule: %v", err)
	}
	var pat map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(rule.EventPattern)), &pat); err != nil || pat["source"] == nil || pat["replay-name"] == nil ||
		aws.ToString(rule.ManagedBy) != "prod.vhs.events.aws.internal" || rule.State != types.RuleStateEnabled {
		t.Fatalf("rule %s pattern %s managed by %q state %s", aws.ToString(rule.Name), aws.ToString(rule.EventPattern), aws.ToString(rule.ManagedBy), rule.State)
	}
	list, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String("Events-Archive-")})
	if err != nil || len(list.Rules) != 1 || aws.ToString(list.Rules[0].ManagedBy) == "" {
		t.Fatalf("ListRules: %v %+v", err, list)
	}
	var managed *types.ManagedRuleException
	if _, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("Events-Archive-audit")}); !errors.As(err, &managed) {
		t.Errorf("DeleteRule of the managed rule: %v, want ManagedRuleException", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("Events-Archive-audit"),
		Targets: []types.Target{{Id: aws.String("t"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:q")}}}); !errors.As(err, &managed) {
		t.Errorf("PutTargets on the managed rule: %v, want ManagedRuleException", err)
	}
	if _, err := eb.UpdateArchive(ctx, &eventbridge.UpdateArchiveInput{ArchiveName: aws.String("audit"), EventPattern: aws.String(`{"source":["bank"]}`)}); err != nil {
		t.Fatal(err)
	}
	rule, err = eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("Events-Archive-audit")})
	if err != nil || !strings.Contains(aws.ToString(rule.EventPattern), "bank") {
		t.Fatalf("after UpdateArchive: %v %s", err, aws.ToString(rule.EventPattern))
	}
	if _, err := eb.DeleteArchive(ctx, &eventbridge.DeleteArchiveInput{ArchiveName: aws.String("audit")}); err != nil {
		t.Fatal(err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("Events-Archive-audit")}); !errors.As(err, &nf) {
		t.Errorf("rule after DeleteArchive: %v, want ResourceNotFoundException", err)
	}
}

func TestSDKv2EventBusNamesValidatedAsAWS(t *testing.T) {
	eb, _ := startWharf(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, source string
		code, msg    string
	}{
		{"default", "", "ResourceAlreadyExistsException", "Event bus default already exists."},
		{"team/bus", "", "ValidationException", "Event bus name must not contain '/'."},
		{"aws.partner/acme/bus", "aws.partner/acme/other", "ValidationException", "Event bus name must match event source name."},
		{"aws.partner/acme/bus", "aws.partner/acme/bus", "ResourceNotFoundException", "Event source aws.partner/acme/bus does not exist."},
		{"no spaces", "", "ValidationException", "Member must satisfy regular expression pattern"},
		{strings.Repeat("b", 257), "", "ValidationException", "Member must have length less than or equal to 256"},
	} {
		in := &eventbridge.CreateEventBusInput{Name: aws.String(tc.name)}
		if tc.source != "" {
			in.EventSourceName = aws.String(tc.source)
		}
		_, err := eb.CreateEventBus(ctx, in)
		var ae interface {
			ErrorCode() string
			ErrorMessage() string
		}
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || !strings.Contains(ae.ErrorMessage(), tc.msg) {
			t.Errorf("CreateEventBus %.20q: %v, want %s %q", tc.name, err, tc.code, tc.msg)
		}
	}
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders.v2_x-y")}); err != nil {
		t.Errorf("a valid name: %v", err)
	}
}
