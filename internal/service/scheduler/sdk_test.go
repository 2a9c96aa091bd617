package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func startWharf(t *testing.T) (*scheduler.Client, *sqs.Client) {
	t.Helper()
	cfg := wharftest.Start(t).Config()
	return scheduler.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
}

// TestSDKv2OneTimeScheduleSendsToSQS: an at() schedule five seconds ahead puts
// its Input in an SQS queue through EventBridge's SQS target, then deletes
// itself (ActionAfterCompletion DELETE).
func TestSDKv2OneTimeScheduleSendsToSQS(t *testing.T) {
	t.Parallel()
	sc, q := startWharf(t)
	ctx := context.Background()
	qu, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	// Five seconds ahead (four at least, as the time is whole seconds):
	// CreateSchedule and GetSchedule must both be done by then on a loaded
	// machine, as an at() time already past never fires, and the schedule
	// deletes itself once it has.
	due := time.Now().UTC().Add(5 * time.Second).Truncate(time.Second)
	when := due.Format("2006-01-02T15:04:05")
	out, err := sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{
		Name: aws.String("soon"), ScheduleExpression: aws.String("at(" + when + ")"),
		FlexibleTimeWindow:    &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		ActionAfterCompletion: types.ActionAfterCompletionDelete,
		Target: &types.Target{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:jobs"), RoleArn: aws.String("arn:aws:iam::000000000000:role/scheduler"),
			Input: aws.String(`{"job":"nightly","schedule":"<aws.scheduler.schedule-arn>"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *out.ScheduleArn != "arn:aws:scheduler:us-east-1:000000000000:schedule/default/soon" {
		t.Errorf("ScheduleArn %s", *out.ScheduleArn)
	}
	got, err := sc.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("soon")})
	if err != nil {
		t.Fatal(err)
	}
	if *got.ScheduleExpression != "at("+when+")" || got.State != types.ScheduleStateEnabled || got.FlexibleTimeWindow.Mode != types.FlexibleTimeWindowModeOff {
		t.Errorf("GetSchedule %+v", got)
	}
	msg, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qu.QueueUrl, WaitTimeSeconds: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Messages) != 1 {
		t.Fatal("no message from the schedule within 20 s")
	}
	// Reported, not asserted: how long after its due second the message was there.
	t.Logf("at() schedule → SQS message %v after the due time", time.Since(due).Round(time.Millisecond))
	if want := `{"job":"nightly","schedule":"arn:aws:scheduler:us-east-1:000000000000:schedule/default/soon"}`; *msg.Messages[0].Body != want {
		t.Errorf("body %s, want %s", *msg.Messages[0].Body, want)
	}
	var nf *types.ResourceNotFoundException
	if _, err := sc.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("soon")}); !errors.As(err, &nf) {
		t.Errorf("a completed schedule with ActionAfterCompletion DELETE: %v", err)
	}
}

func TestSDKv2ScheduleErrorsAndListings(t *testing.T) {
	t.Parallel()
	sc, _ := startWharf(t)
	ctx := context.Background()
	target := &types.Target{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:jobs"), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")}
	off := &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff}
	if _, err := sc.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String("batch"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		if _, err := sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String(name), GroupName: aws.String("batch"),
			ScheduleExpression: aws.String("cron(0 3 * * ? *)"), ScheduleExpressionTimezone: aws.String("Europe/Berlin"),
			FlexibleTimeWindow: off, Target: target, State: types.ScheduleStateDisabled}); err != nil {
			t.Fatal(err)
		}
	}
	var conflict *types.ConflictException
	_, err := sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("a"), GroupName: aws.String("batch"),
		ScheduleExpression: aws.String("rate(1 hour)"), FlexibleTimeWindow: off, Target: target})
	if !errors.As(err, &conflict) || *conflict.Message != "Schedule a already exists." {
		t.Errorf("duplicate schedule: %v", err)
	}
	var invalid *types.ValidationException
	if _, err := sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("x"), ScheduleExpression: aws.String("rate(1 hours)"),
		FlexibleTimeWindow: off, Target: target}); !errors.As(err, &invalid) {
		t.Errorf("invalid expression: %v", err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := sc.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("a")}); !errors.As(err, &nf) {
		t.Errorf("schedule looked up in the wrong group: %v", err)
	}
	var names []string
	p := scheduler.NewListSchedulesPaginator(sc, &scheduler.ListSchedulesInput{GroupName: aws.String("batch"), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Schedules {
			names = append(names, *s.Name)
			if s.State != types.ScheduleStateDisabled || *s.Target.Arn != *target.Arn {
				t.Errorf("summary %+v", s)
			}
		}
	}
	if len(names) != 3 {
		t.Errorf("listed %v", names)
	}
	groups, err := sc.ListScheduleGroups(ctx, &scheduler.ListScheduleGroupsInput{})
	if err != nil || len(groups.ScheduleGroups) != 2 {
		t.Fatalf("groups %+v %v", groups, err)
	}
	tags, err := sc.ListTagsForResource(ctx, &scheduler.ListTagsForResourceInput{ResourceArn: groups.ScheduleGroups[0].Arn})
	if err != nil || len(tags.Tags) != 1 {
		t.Errorf("tags of %s: %+v %v", *groups.ScheduleGroups[0].Arn, tags, err)
	}
	if _, err := sc.DeleteScheduleGroup(ctx, &scheduler.DeleteScheduleGroupInput{Name: aws.String("batch")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.GetScheduleGroup(ctx, &scheduler.GetScheduleGroupInput{Name: aws.String("batch")}); !errors.As(err, &nf) {
		t.Errorf("deleted group: %v", err)
	}
}
