package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/timeline"
	"github.com/wharf-dev/wharf/internal/wharftest"
)

// metricSum waits until the Sum of a metric over the last day reaches want
// (metrics are published every second) and returns it.
func metricSum(t *testing.T, base string, cw *cloudwatch.Client, ns, name string, dims map[string]string, want float64) float64 {
	t.Helper()
	var ds []cwtypes.Dimension
	for k, v := range dims {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	var sum float64
	waitFor(t, 15*time.Second, ns+" "+name+" to reach its value", func() bool {
		now := readClock(t, base).Now
		out, err := cw.GetMetricStatistics(context.Background(), &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String(ns), MetricName: aws.String(name),
			Dimensions: ds, StartTime: aws.Time(now.Add(-24 * time.Hour)), EndTime: aws.Time(now.Add(time.Hour)), Period: aws.Int32(86400 + 3600),
			Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
		if err != nil {
			t.Fatal(err)
		}
		sum = 0
		for _, p := range out.Datapoints {
			sum += aws.ToFloat64(p.Sum)
		}
		return sum >= want
	})
	return sum
}

func TestSNSAndSchedulerPublishTheirMetricsAsAWSDoes(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	tp, sq, sc, cw := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg), scheduler.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{"pager", "pages-only", "gone", "gone-redriven", "gone-not-redriven", "sns-dlq", "sched-dlq"} {
		must(sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q)}))
	}
	topic, err := tp.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	arn := func(q string) *string { return aws.String("arn:aws:sqs:us-east-1:000000000000:" + q) }
	must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: arn("pager")}))
	must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: arn("gone")}))
	must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: arn("pages-only"),
		Attributes: map[string]string{"FilterPolicy": `{"severity":["page"]}`}}))
	// Two more subscribers whose queues are gone, with dead-letter queues:
	// one that takes the message and one that does not exist.
	must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: arn("gone-redriven"),
		Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + *arn("sns-dlq") + `"}`}}))
	must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: arn("gone-not-redriven"),
		Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + *arn("no-such-dlq") + `"}`}}))
	for _, q := range []string{"gone", "gone-redriven", "gone-not-redriven"} {
		gone, err := sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
		if err != nil {
			t.Fatal(err)
		}
		must(sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: gone.QueueUrl}))
	}
	for range 2 {
		must(tp.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("disk full")}))
	}
	// A schedule whose target is gone: no retries, so its one attempt is
	// dropped and dead-lettered.
	must(sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("to-gone"), ScheduleExpression: aws.String("rate(1 hour)"),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target: &schedtypes.Target{Arn: arn("gone"), RoleArn: aws.String("arn:aws:iam::000000000000:role/s"),
			RetryPolicy:      &schedtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)},
			DeadLetterConfig: &schedtypes.DeadLetterConfig{Arn: arn("sched-dlq")}}}))

	topicDim := map[string]string{"TopicName": "alerts"}
	for name, want := range map[string]float64{"NumberOfMessagesPublished": 2, "NumberOfNotificationsDelivered": 2,
		"NumberOfNotificationsFailed": 6, "NumberOfNotificationsFilteredOut": 2,
		"NumberOfNotificationsRedrivenToDlq": 2, "NumberOfNotificationsFailedToRedriveToDlq": 2} {
		if got := metricSum(t, srv.URL, cw, "AWS/SNS", name, topicDim, want); got != want {
			t.Errorf("AWS/SNS %s for the topic: %v, want %v", name, got, want)
		}
	}
	// Each move to a dead-letter queue, or failure to move, is on the timeline.
	var moved, notMoved int
	for _, e := range timelineOf(t, srv.URL, "service=sns") {
		switch {
		case e.Kind == "Redrive" && e.Outcome == timeline.OK && strings.HasSuffix(e.Detail, ":sns-dlq"):
			moved++
		case e.Kind == "Redrive" && e.Outcome == timeline.Failed && strings.HasSuffix(e.Detail, ":no-such-dlq") && e.Error != "":
			notMoved++
		}
	}
	if moved != 2 || notMoved != 2 {
		t.Errorf("timeline: %d moves to the dead-letter queue and %d failures to move, want 2 and 2", moved, notMoved)
	}
	group := map[string]string{"ScheduleGroup": "default"}
	for name, want := range map[string]float64{"InvocationAttemptCount": 1, "TargetErrorCount": 1, "InvocationDroppedCount": 1,
		"InvocationsSentToDeadLetterCount": 1} {
		if got := metricSum(t, srv.URL, cw, "AWS/Scheduler", name, group, want); got != want {
			t.Errorf("AWS/Scheduler %s for the default group: %v, want %v", name, got, want)
		}
		if got := metricSum(t, srv.URL, cw, "AWS/Scheduler", name, nil, want); got != want {
			t.Errorf("AWS/Scheduler %s account-wide: %v, want %v", name, got, want)
		}
	}
}

func timelineOf(t *testing.T, base, query string) []timeline.Entry {
	t.Helper()
	var es entries
	if code := getJSON(t, base+"/_wharf/api/timeline?"+query, &es); code != http.StatusOK {
		t.Fatalf("GET timeline?%s: %d", query, code)
	}
	return es.Entries
}

func TestTimelineShowsMissedScheduleFirings(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	eb, sc, sq := eventbridge.NewFromConfig(cfg), scheduler.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ruleQ, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("from-rule")})
	if err != nil {
		t.Fatal(err)
	}
	schedQ, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("from-schedule")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("hourly"), ScheduleExpression: aws.String("rate(1 hour)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("hourly"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:from-rule")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("hourly"), ScheduleExpression: aws.String("rate(1 hour)"),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target: &schedtypes.Target{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:from-schedule"),
			RoleArn: aws.String("arn:aws:iam::000000000000:role/scheduler")}}); err != nil {
		t.Fatal(err)
	}
	receiveOne(t, sq, *schedQ.QueueUrl, "the schedule, on creation")

	// Three hours pass at once: each fires once, and says two firings were
	// missed.
	moveClock(t, srv.URL, map[string]string{"advance": "3h"})
	receiveOne(t, sq, *ruleQ.QueueUrl, "the rule after 3h")
	receiveOne(t, sq, *schedQ.QueueUrl, "the schedule after 3h")
	for _, svc := range []string{"events", "scheduler"} {
		var missed *timeline.Entry
		for _, e := range timelineOf(t, srv.URL, "service="+svc) {
			if e.Kind == "ScheduleMissed" {
				missed = &e
				break
			}
		}
		if missed == nil || missed.Outcome != timeline.Failed || missed.Error != "2 firing(s) missed" || !strings.Contains(missed.Resource, "hourly") {
			t.Errorf("%s: the missed firings on the timeline: %+v", svc, missed)
		}
	}
}

func TestTimelineShowsIAMDenialsAndWhyADeliveryWasRefused(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t, "--iam", "enforce")
	cfg := srv.Config()
	ctx := context.Background()
	eb, sq, im := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg), iam.NewFromConfig(cfg)

	// A queue whose policy does not let EventBridge in, as a rule's target.
	if _, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("locked")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"), EventPattern: aws.String(`{"source":["shop"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:locked")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("shop"), DetailType: aws.String("Order Placed"), Detail: aws.String(`{"id":1}`)}}})
	if err != nil || out.Entries[0].EventId == nil {
		t.Fatalf("PutEvents: %v %+v", err, out)
	}
	chain := waitTrace(t, srv.URL, *out.Entries[0].EventId, "AccessDenied")
	denied, inv := find(chain, "AccessDenied"), find(chain, "Invocation")
	if denied.Service != "iam" || denied.Outcome != timeline.Failed || denied.Resource != "arn:aws:sqs:us-east-1:000000000000:locked" ||
		!strings.Contains(denied.Detail, "events.amazonaws.com") || !strings.Contains(denied.Detail, "sqs:SendMessage") || denied.Cause != *out.Entries[0].EventId {
		t.Errorf("the denial in the event's trace: %+v", denied)
	}
	if inv == nil || inv.Outcome != timeline.Failed {
		t.Errorf("the invocation in the event's trace: %+v", inv)
	}

	// A user with no policy is refused, and the timeline says so.
	if _, err := im.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("intern")}); err != nil {
		t.Fatal(err)
	}
	key, err := im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("intern")})
	if err != nil {
		t.Fatal(err)
	}
	intern := sqs.NewFromConfig(srv.ConfigWith(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, ""))
	if _, err := intern.ListQueues(ctx, &sqs.ListQueuesInput{}); err == nil {
		t.Fatal("a user without a policy listed queues under --iam enforce")
	}
	var userDenial *timeline.Entry
	waitFor(t, 10*time.Second, "the user's denial on the timeline", func() bool {
		for _, e := range timelineOf(t, srv.URL, "service=iam") {
			if strings.Contains(e.Detail, "user/intern") && strings.Contains(e.Detail, "sqs:ListQueues") {
				userDenial = &e
				return true
			}
		}
		return false
	})
	if userDenial.Outcome != timeline.Failed || userDenial.Error == "" || userDenial.Subject == "" {
		t.Errorf("the user's denial: %+v", userDenial)
	}
}
