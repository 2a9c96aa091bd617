package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/service/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// recorder is a fake Target (for services wharf does not have yet) that keeps
// what it is given and fails while fail is set.
type recorder struct {
	mu   sync.Mutex
	got  []Delivery
	fail bool
}

func (r *recorder) Deliver(_ context.Context, d *Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return fmt.Errorf("target unavailable")
	}
	r.got = append(r.got, *d)
	return nil
}

func (r *recorder) deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

type fixture struct {
	s   *Service
	st  store.Store
	clk *fixedClock
	tgt map[string]Target
	ctx context.Context
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{st: store.OpenMemory(), clk: &fixedClock{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, tgt: map[string]Target{}}
	f.ctx = awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "123456789012", Region: "us-east-1"})
	f.s = f.service()
	return f
}

func (f *fixture) service() *Service {
	n := 0
	return New(Options{Store: f.st, Clock: clock.Func(f.clk.now), Account: "123456789012", Region: "us-east-1",
		NewID:   func() string { n++; return fmt.Sprintf("id-%d", n) },
		Targets: func(svc string) Target { return f.tgt[svc] }, Volatile: volatileFixtures})
}

// volatileFixtures makes newFixture's services keep accepted events in
// memory (Options.Volatile), as --ephemeral does; TestVolatileOutbox sets it.
var volatileFixtures bool

func (f *fixture) putRule(t *testing.T, name, pat string) {
	t.Helper()
	if _, err := f.s.PutRule(f.ctx, &eventsapi.PutRuleInput{Name: &name, EventPattern: &pat}); err != nil {
		t.Fatalf("PutRule: %v", err)
	}
}

func (f *fixture) putTarget(t *testing.T, rule string, tg eventsapi.Target) {
	t.Helper()
	out, err := f.s.PutTargets(f.ctx, &eventsapi.PutTargetsInput{Rule: &rule, Targets: []eventsapi.Target{tg}})
	if err != nil || *out.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %v %+v", err, out)
	}
}

func (f *fixture) putEvent(t *testing.T, source, detailType, detail string) string {
	t.Helper()
	out, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: []eventsapi.PutEventsRequestEntry{{
		Source: &source, DetailType: &detailType, Detail: &detail, Resources: []string{"arn:aws:s3:::b"}}}})
	if err != nil || *out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, out)
	}
	if err := f.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	return *out.Entries[0].EventId
}

func code(err error) string {
	if e := apierr.As(err); e != nil {
		return e.Code
	}
	return fmt.Sprint(err)
}

func TestPutEventsDeliversAWSEnvelopeToMatchingRulesOnly(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "orders", `{"source":["com.example.orders"],"detail":{"amount":[{"numeric":[">",100]}]}}`)
	f.putTarget(t, "orders", eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:big")})
	f.putRule(t, "other", `{"source":["com.example.other"]}`)
	f.putTarget(t, "other", eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:other")})

	f.putEvent(t, "com.example.orders", "Order Placed", `{"amount": 50}`)
	id := f.putEvent(t, "com.example.orders", "Order Placed", `{ "amount": 150, "note": "<&>" }`)
	got := rec.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1: %+v", len(got), got)
	}
	want := `{"version":"0","id":"` + id + `","detail-type":"Order Placed","source":"com.example.orders","account":"123456789012","time":"2024-01-01T00:00:00Z","region":"us-east-1","resources":["arn:aws:s3:::b"],"detail":{"amount":150,"note":"<&>"}}`
	if string(got[0].Input) != want {
		t.Errorf("event\n got %s\nwant %s", got[0].Input, want)
	}
	if got[0].RuleArn != "arn:aws:events:us-east-1:123456789012:rule/orders" || awsapi.ToString(got[0].Target.Arn) != "arn:aws:sqs:us-east-1:123456789012:big" {
		t.Errorf("delivery %+v", got[0])
	}
}

func TestPutEventsReportsEachEntry(t *testing.T) {
	f := newFixture(t)
	s := func(v string) *string { return &v }
	out, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: []eventsapi.PutEventsRequestEntry{
		{Source: s("a"), DetailType: s("t"), Detail: s(`{}`)},
		{DetailType: s("t"), Detail: s(`{}`)},
		{Source: s("a"), DetailType: s("t"), Detail: s(`not json`)},
		{Source: s("a"), DetailType: s("t"), Detail: s(`{}`), EventBusName: s("nope")},
		{Source: s("aws.s3"), DetailType: s("t"), Detail: s(`{}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if *out.FailedEntryCount != 4 || out.Entries[0].EventId == nil {
		t.Fatalf("%+v", out)
	}
	for i, want := range []string{"", "InvalidArgument", "MalformedDetail", "ResourceNotFoundException", "NotAuthorizedForSourceException"} {
		if got := awsapi.ToString(out.Entries[i].ErrorCode); got != want {
			t.Errorf("entry %d: ErrorCode %q, want %q", i, got, want)
		}
	}
	many := make([]eventsapi.PutEventsRequestEntry, 11)
	if _, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: many}); code(err) != "ValidationException" {
		t.Errorf("11 entries: %v", err)
	}
	big := strings.Repeat("x", 1<<20)
	if _, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: []eventsapi.PutEventsRequestEntry{{Source: s("a"), DetailType: s("t"), Detail: s(`{"a":"` + big + `"}`)}}}); code(err) != "ValidationException" {
		t.Errorf("over 1 MB: %v", err)
	}
	// Past the 256 KB of before 2026, under today's 1 MB.
	if _, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: []eventsapi.PutEventsRequestEntry{{Source: s("a"), DetailType: s("t"), Detail: s(`{"a":"` + big[:900<<10] + `"}`)}}}); err != nil {
		t.Errorf("900 KB: %v", err)
	}
}

func TestRuleLifecycleAndErrors(t *testing.T) {
	f := newFixture(t)
	name := "r1"
	if _, err := f.s.PutRule(f.ctx, &eventsapi.PutRuleInput{Name: &name, EventPattern: awsapi.String(`{"source":"x"}`)}); code(err) != "InvalidEventPatternException" {
		t.Errorf("bad pattern: %v", err)
	} else if !strings.Contains(err.Error(), "Event pattern is not valid. Reason: Match value must be") {
		t.Errorf("message: %v", err)
	}
	if _, err := f.s.PutRule(f.ctx, &eventsapi.PutRuleInput{Name: &name}); code(err) != "ValidationException" {
		t.Errorf("no pattern nor schedule: %v", err)
	}
	if _, err := f.s.PutRule(f.ctx, &eventsapi.PutRuleInput{Name: &name, ScheduleExpression: awsapi.String("rate(1 minutes)")}); code(err) != "ValidationException" {
		t.Errorf("bad schedule: %v", err)
	}
	f.putRule(t, name, `{"source":["x"]}`)
	d, err := f.s.DescribeRule(f.ctx, &eventsapi.DescribeRuleInput{Name: &name})
	if err != nil || *d.State != "ENABLED" || *d.EventBusName != "default" || *d.Arn != "arn:aws:events:us-east-1:123456789012:rule/r1" {
		t.Fatalf("DescribeRule: %v %+v", err, d)
	}
	if _, err := f.s.DisableRule(f.ctx, &eventsapi.DisableRuleInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	d, _ = f.s.DescribeRule(f.ctx, &eventsapi.DescribeRuleInput{Name: &name})
	if *d.State != "DISABLED" {
		t.Errorf("state %s", *d.State)
	}
	f.putTarget(t, name, eventsapi.Target{Id: awsapi.String("t1"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q")})
	if _, err := f.s.DeleteRule(f.ctx, &eventsapi.DeleteRuleInput{Name: &name}); code(err) != "ValidationException" {
		t.Errorf("delete with targets: %v", err)
	}
	rt, _ := f.s.RemoveTargets(f.ctx, &eventsapi.RemoveTargetsInput{Rule: &name, Ids: []string{"t1", "missing"}})
	if *rt.FailedEntryCount != 1 || *rt.FailedEntries[0].TargetId != "missing" {
		t.Errorf("RemoveTargets %+v", rt)
	}
	if _, err := f.s.DeleteRule(f.ctx, &eventsapi.DeleteRuleInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.DescribeRule(f.ctx, &eventsapi.DescribeRuleInput{Name: &name}); code(err) != "ResourceNotFoundException" {
		t.Errorf("deleted rule: %v", err)
	}
}

func TestDisabledRulesDoNotMatch(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "r", `{"source":["a"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: awsapi.String("t"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q")})
	f.s.DisableRule(f.ctx, &eventsapi.DisableRuleInput{Name: awsapi.String("r")})
	f.putEvent(t, "a", "t", `{}`)
	if n := len(rec.deliveries()); n != 0 {
		t.Errorf("disabled rule delivered %d", n)
	}
	f.s.EnableRule(f.ctx, &eventsapi.EnableRuleInput{Name: awsapi.String("r")})
	f.putEvent(t, "a", "t", `{}`)
	if n := len(rec.deliveries()); n != 1 {
		t.Errorf("enabled rule delivered %d", n)
	}
}

func TestPutTargetsReportsInvalidEntriesAndLimits(t *testing.T) {
	f := newFixture(t)
	f.putRule(t, "r", `{"source":["a"]}`)
	out, err := f.s.PutTargets(f.ctx, &eventsapi.PutTargetsInput{Rule: awsapi.String("r"), Targets: []eventsapi.Target{
		{Id: awsapi.String("ok"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q")},
		{Id: awsapi.String("bad"), Arn: awsapi.String("not-an-arn")},
		{Id: awsapi.String("json"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q"), Input: awsapi.String(`{not json`)},
	}})
	if err != nil || *out.FailedEntryCount != 2 {
		t.Fatalf("%v %+v", err, out)
	}
	lt, _ := f.s.ListTargetsByRule(f.ctx, &eventsapi.ListTargetsByRuleInput{Rule: awsapi.String("r")})
	if len(lt.Targets) != 1 || *lt.Targets[0].Id != "ok" {
		t.Errorf("targets %+v", lt.Targets)
	}
	var six []eventsapi.Target
	for i := 0; i < 6; i++ {
		six = append(six, eventsapi.Target{Id: awsapi.String(fmt.Sprint("t", i)), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q")})
	}
	if _, err := f.s.PutTargets(f.ctx, &eventsapi.PutTargetsInput{Rule: awsapi.String("r"), Targets: six}); code(err) != "LimitExceededException" {
		t.Errorf("six targets: %v", err)
	}
	names, _ := f.s.ListRuleNamesByTarget(f.ctx, &eventsapi.ListRuleNamesByTargetInput{TargetArn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q")})
	if len(names.RuleNames) != 1 || names.RuleNames[0] != "r" {
		t.Errorf("ListRuleNamesByTarget %v", names.RuleNames)
	}
}

func TestEventBusTargetForwardsToAnotherBus(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	if _, err := f.s.CreateEventBus(f.ctx, &eventsapi.CreateEventBusInput{Name: awsapi.String("orders")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.CreateEventBus(f.ctx, &eventsapi.CreateEventBusInput{Name: awsapi.String("orders")}); code(err) != "ResourceAlreadyExistsException" {
		t.Errorf("duplicate bus: %v", err)
	}
	f.putRule(t, "fwd", `{"source":["a"]}`)
	f.putTarget(t, "fwd", eventsapi.Target{Id: awsapi.String("bus"), Arn: awsapi.String("arn:aws:events:us-east-1:123456789012:event-bus/orders")})
	name, pat := "on-orders", `{"source":["a"]}`
	if _, err := f.s.PutRule(f.ctx, &eventsapi.PutRuleInput{Name: &name, EventPattern: &pat, EventBusName: awsapi.String("orders")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.PutTargets(f.ctx, &eventsapi.PutTargetsInput{Rule: &name, EventBusName: awsapi.String("orders"), Targets: []eventsapi.Target{{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q")}}}); err != nil {
		t.Fatal(err)
	}
	id := f.putEvent(t, "a", "t", `{"x":1}`)
	got := rec.deliveries()
	if len(got) != 1 || !strings.Contains(string(got[0].Input), `"id":"`+id+`"`) || got[0].RuleArn != "arn:aws:events:us-east-1:123456789012:rule/orders/on-orders" {
		t.Fatalf("forwarded deliveries %+v", got)
	}
	bl, _ := f.s.ListEventBuses(f.ctx, &eventsapi.ListEventBusesInput{})
	if len(bl.EventBuses) != 2 || *bl.EventBuses[0].Name != "default" {
		t.Errorf("buses %+v", bl.EventBuses)
	}
}

func TestScheduledRuleFiresWithInjectedClock(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["ecs"] = rec
	name := "every-minute"
	if _, err := f.s.PutRule(f.ctx, &eventsapi.PutRuleInput{Name: &name, ScheduleExpression: awsapi.String("rate(1 minute)")}); err != nil {
		t.Fatal(err)
	}
	f.putTarget(t, name, eventsapi.Target{Id: awsapi.String("task"), Arn: awsapi.String("arn:aws:ecs:us-east-1:123456789012:cluster/default"),
		RoleArn:       awsapi.String("arn:aws:iam::123456789012:role/events"),
		EcsParameters: &eventsapi.EcsParameters{TaskDefinitionArn: awsapi.String("arn:aws:ecs:us-east-1:123456789012:task-definition/job:1")}})
	step := func(d time.Duration) {
		f.clk.t = f.clk.t.Add(d)
		f.s.FireSchedules(f.ctx)
		f.s.Dispatch(f.ctx)
	}
	step(59 * time.Second)
	if n := len(rec.deliveries()); n != 0 {
		t.Fatalf("fired %d times before a minute passed", n)
	}
	step(time.Second)
	got := rec.deliveries()
	if len(got) != 1 {
		t.Fatalf("fired %d times after a minute", len(got))
	}
	var env map[string]any
	json.Unmarshal(got[0].Input, &env)
	if env["source"] != "aws.events" || env["detail-type"] != "Scheduled Event" || env["time"] != "2024-01-01T00:01:00Z" ||
		fmt.Sprint(env["resources"]) != "[arn:aws:events:us-east-1:123456789012:rule/every-minute]" || fmt.Sprint(env["detail"]) != "map[]" {
		t.Errorf("scheduled event %s", got[0].Input)
	}
	if awsapi.ToString(got[0].Target.EcsParameters.TaskDefinitionArn) == "" {
		t.Error("EcsParameters not passed to the target")
	}
	step(5 * time.Minute) // missed periods fire once
	if n := len(rec.deliveries()); n != 2 {
		t.Errorf("after 5 missed minutes: %d firings, want 2", n)
	}
	f.s.DisableRule(f.ctx, &eventsapi.DisableRuleInput{Name: &name})
	step(time.Hour)
	if n := len(rec.deliveries()); n != 2 {
		t.Errorf("disabled schedule fired")
	}
}

func TestFailedDeliveriesAreRetriedThenDeadLettered(t *testing.T) {
	f := newFixture(t)
	flaky, dlq := &recorder{fail: true}, &recorder{}
	f.tgt["sns"] = flaky
	f.tgt["sqs"] = dlq
	f.putRule(t, "r", `{"source":["a"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: awsapi.String("topic"), Arn: awsapi.String("arn:aws:sns:us-east-1:123456789012:alerts"),
		RetryPolicy:      &eventsapi.RetryPolicy{MaximumRetryAttempts: awsapi.Int32(2)},
		DeadLetterConfig: &eventsapi.DeadLetterConfig{Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:dlq")}})
	f.putEvent(t, "a", "t", `{}`)
	f.clk.t = f.clk.t.Add(time.Hour)
	f.s.Retry(f.ctx) // retry 1 fails
	if len(dlq.deliveries()) != 0 {
		t.Fatal("dead-lettered before retries were exhausted")
	}
	flaky.mu.Lock()
	flaky.fail = false
	flaky.mu.Unlock()
	f.clk.t = f.clk.t.Add(time.Hour)
	f.s.Retry(f.ctx) // retry 2 succeeds
	if len(flaky.deliveries()) != 1 || len(dlq.deliveries()) != 0 {
		t.Fatalf("retry: delivered %d, dead-lettered %d", len(flaky.deliveries()), len(dlq.deliveries()))
	}
	flaky.fail = true
	f.putEvent(t, "a", "t", `{}`)
	for i := 0; i < 3; i++ {
		f.clk.t = f.clk.t.Add(time.Hour)
		f.s.Retry(f.ctx)
	}
	got := dlq.deliveries()
	if len(got) != 1 || got[0].Attributes["RULE_ARN"] != "arn:aws:events:us-east-1:123456789012:rule/r" ||
		got[0].Attributes["TARGET_ARN"] != "arn:aws:sns:us-east-1:123456789012:alerts" || got[0].Attributes["ERROR_MESSAGE"] == "" {
		t.Fatalf("dead letters %+v", got)
	}
}

func TestAcceptedEventsSurviveARestart(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "r", `{"source":["a"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q")})
	src, dt, det := "a", "t", `{}`
	if _, err := f.s.PutEvents(f.ctx, &eventsapi.PutEventsInput{Entries: []eventsapi.PutEventsRequestEntry{{Source: &src, DetailType: &dt, Detail: &det}}}); err != nil {
		t.Fatal(err)
	}
	// A new service over the same store stands for wharf after a restart,
	// before the first one dispatched anything.
	f.s = f.service()
	if err := f.s.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.deliveries()); n != 1 {
		t.Fatalf("delivered %d after restart", n)
	}
	f.s.Dispatch(context.Background())
	if n := len(rec.deliveries()); n != 1 {
		t.Errorf("delivered %d: outbox not emptied", n)
	}
}

func TestPublishedServiceEventsReachTheDefaultBus(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "s3", `{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["uploads"]}}}`)
	f.putTarget(t, "s3", eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:q")})
	bus := eventbus.New()
	bus.Attach(f.s)
	err := bus.Publish(context.Background(), eventbus.Event{Source: "aws.s3", DetailType: "Object Created", Account: "123456789012", Region: "us-east-1",
		Resources: []string{"arn:aws:s3:::uploads"}, Detail: json.RawMessage(`{"version":"0","bucket":{"name":"uploads"},"object":{"key":"a.txt","size":1}}`),
		Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	f.s.Dispatch(context.Background())
	got := rec.deliveries()
	if len(got) != 1 || !strings.Contains(string(got[0].Input), `"time":"2024-05-01T12:00:00Z"`) {
		t.Fatalf("%+v", got)
	}
}

func TestSQSTargetSendsToARealQueue(t *testing.T) {
	f := newFixture(t)
	q := sqs.New(sqs.Options{Store: f.st})
	f.tgt["sqs"] = SQSTarget{Queues: q}
	if _, err := q.CreateQueue(f.ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String("jobs.fifo"), Attributes: map[string]string{"FifoQueue": "true"}}); err != nil {
		t.Fatal(err)
	}
	f.putRule(t, "r", `{"source":["a"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:jobs.fifo"),
		SqsParameters:    &eventsapi.SqsParameters{MessageGroupId: awsapi.String("g1")},
		InputTransformer: &eventsapi.InputTransformer{InputPathsMap: map[string]string{"k": "$.detail.key"}, InputTemplate: awsapi.String(`{"key": <k>, "msg": "got <k>"}`)}})
	f.putEvent(t, "a", "t", `{"key":"photo.png"}`)
	out, err := q.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: awsapi.String("https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo"),
		MessageSystemAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %v %+v", err, out)
	}
	if body := awsapi.ToString(out.Messages[0].Body); body != `{"key":"photo.png","msg":"got photo.png"}` {
		t.Errorf("body %s", body)
	}
	if g := out.Messages[0].Attributes["MessageGroupId"]; g != "g1" {
		t.Errorf("MessageGroupId %q", g)
	}
}

func TestTestEventPattern(t *testing.T) {
	f := newFixture(t)
	ev := `{"id":"1","account":"123456789012","source":"aws.ec2","time":"2024-01-01T00:00:00Z","region":"us-east-1","detail-type":"x","resources":[],"detail":{"state":"running"}}`
	for pat, want := range map[string]bool{`{"detail":{"state":["running"]}}`: true, `{"detail":{"state":[{"anything-but":"running"}]}}`: false} {
		out, err := f.s.TestEventPattern(f.ctx, &eventsapi.TestEventPatternInput{EventPattern: &pat, Event: &ev})
		if err != nil || *out.Result != want {
			t.Errorf("%s: %v %v", pat, err, out)
		}
	}
	bad := `{"detail":{"state":"running"}}`
	if _, err := f.s.TestEventPattern(f.ctx, &eventsapi.TestEventPatternInput{EventPattern: &bad, Event: &ev}); code(err) != "InvalidEventPatternException" {
		t.Errorf("bad pattern: %v", err)
	}
	pat, noID := `{"source":["aws.ec2"]}`, `{"source":"aws.ec2"}`
	if _, err := f.s.TestEventPattern(f.ctx, &eventsapi.TestEventPatternInput{EventPattern: &pat, Event: &noID}); code(err) != "ValidationException" {
		t.Errorf("event without envelope: %v", err)
	}
}

func TestTagsOnBusesAndRules(t *testing.T) {
	f := newFixture(t)
	f.putRule(t, "r", `{"source":["a"]}`)
	for _, arn := range []string{"arn:aws:events:us-east-1:123456789012:rule/r", "arn:aws:events:us-east-1:123456789012:event-bus/default"} {
		if _, err := f.s.TagResource(f.ctx, &eventsapi.TagResourceInput{ResourceARN: &arn, Tags: []eventsapi.Tag{{Key: awsapi.String("team"), Value: awsapi.String("a")}, {Key: awsapi.String("env"), Value: awsapi.String("dev")}}}); err != nil {
			t.Fatal(err)
		}
		f.s.UntagResource(f.ctx, &eventsapi.UntagResourceInput{ResourceARN: &arn, TagKeys: []string{"env"}})
		out, err := f.s.ListTagsForResource(f.ctx, &eventsapi.ListTagsForResourceInput{ResourceARN: &arn})
		if err != nil || len(out.Tags) != 1 || *out.Tags[0].Key != "team" {
			t.Errorf("%s: %v %+v", arn, err, out)
		}
	}
	arn := "arn:aws:events:us-east-1:123456789012:rule/missing"
	if _, err := f.s.ListTagsForResource(f.ctx, &eventsapi.ListTagsForResourceInput{ResourceARN: &arn}); code(err) != "ResourceNotFoundException" {
		t.Errorf("missing: %v", err)
	}
}

// TestStoredRuleWithLooseRateSpacingStillCompiles: a rule an older wharf
// stored with rate( 5 minutes ) (PutRule refuses it now, as AWS does) still
// compiles when the store is loaded, so it keeps firing and stays listed.
func TestStoredRuleWithLooseRateSpacingStillCompiles(t *testing.T) {
	rr := &ruleRecord{Name: "old", Bus: "default", Schedule: "rate( 5 minutes )", State: "ENABLED"}
	if err := rr.compile(); err != nil || rr.compiledSchd == nil {
		t.Fatalf("compile: %v (schedule %v)", err, rr.compiledSchd)
	}
}
