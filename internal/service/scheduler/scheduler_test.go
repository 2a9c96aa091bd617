package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	schedapi "github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/store"
)

const (
	acct  = "123456789012"
	queue = "arn:aws:sqs:us-east-1:" + acct + ":q"
	role  = "arn:aws:iam::" + acct + ":role/scheduler"
)

// submitter records what would go to EventBridge, failing while fail is set.
type submitter struct {
	mu   sync.Mutex
	got  []events.Delivery
	fail bool
}

func (r *submitter) Submit(_ context.Context, d events.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return fmt.Errorf("eventbridge unavailable")
	}
	r.got = append(r.got, d)
	return nil
}

func (r *submitter) deliveries() []events.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Delivery(nil), r.got...)
}

type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

type fixture struct {
	s   *Service
	st  store.Store
	clk *fixedClock
	sub *submitter
	ctx context.Context
	ids int
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{st: store.OpenMemory(), clk: &fixedClock{time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}, sub: &submitter{}}
	f.ctx = awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: acct, Region: "us-east-1"})
	f.s = f.service()
	return f
}

// service is a Service over the fixture's store: a second one stands for
// wharf after a restart.
func (f *fixture) service() *Service {
	s := New(Options{Store: f.st, Clock: clock.Func(f.clk.now), Account: acct, Region: "us-east-1",
		NewID: func() string { f.ids++; return fmt.Sprintf("exec-%d", f.ids) }})
	s.SetSubmitter(f.sub)
	return s
}

// at advances the clock by d and runs one round of the loop.
func (f *fixture) at(t *testing.T, d time.Duration) {
	t.Helper()
	f.clk.t = f.clk.t.Add(d)
	if err := f.s.Fire(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
}

func create(name, expr string, mod func(*schedapi.CreateScheduleInput)) *schedapi.CreateScheduleInput {
	in := &schedapi.CreateScheduleInput{Name: awsapi.String(name), ScheduleExpression: awsapi.String(expr),
		FlexibleTimeWindow: &schedapi.FlexibleTimeWindow{Mode: awsapi.String("OFF")},
		Target:             &schedapi.Target{Arn: awsapi.String(queue), RoleArn: awsapi.String(role), Input: awsapi.String(`{"job":"` + name + `"}`)}}
	if mod != nil {
		mod(in)
	}
	return in
}

func (f *fixture) create(t *testing.T, in *schedapi.CreateScheduleInput) {
	t.Helper()
	if _, err := f.s.CreateSchedule(f.ctx, in); err != nil {
		t.Fatalf("CreateSchedule: %v", err)
	}
}

func code(err error) string {
	if e := apierr.As(err); e != nil {
		return e.Code
	}
	return fmt.Sprint(err)
}

func TestRateScheduleFiresAtOnceThenEveryPeriod(t *testing.T) {
	f := newFixture(t)
	f.create(t, create("every-minute", "rate(1 minute)", func(in *schedapi.CreateScheduleInput) {
		in.Target.Input = awsapi.String(`{"arn":"<aws.scheduler.schedule-arn>","at":"<aws.scheduler.scheduled-time>","id":"<aws.scheduler.execution-id>"}`)
	}))
	f.at(t, 0)
	if n := len(f.sub.deliveries()); n != 1 {
		t.Fatalf("a rate schedule without StartDate fired %d times on creation, want 1", n)
	}
	f.at(t, 59*time.Second)
	if n := len(f.sub.deliveries()); n != 1 {
		t.Fatalf("fired %d times before the minute passed", n)
	}
	f.at(t, time.Second)
	got := f.sub.deliveries()
	if len(got) != 2 {
		t.Fatalf("fired %d times after a minute, want 2", len(got))
	}
	arn := "arn:aws:scheduler:us-east-1:" + acct + ":schedule/default/every-minute"
	want := `{"arn":"` + arn + `","at":"2024-03-01T12:01:00Z","id":"exec-2"}`
	if string(got[1].Input) != want {
		t.Errorf("input\n got %s\nwant %s", got[1].Input, want)
	}
	if got[1].ScheduleArn != arn || awsapi.ToString(got[1].Target.Arn) != queue || got[1].Account != acct || got[1].EventID != "exec-2" {
		t.Errorf("delivery %+v", got[1])
	}
}

func TestAtScheduleFiresOnceInItsTimeZoneAndIsDeletedAfterCompletion(t *testing.T) {
	f := newFixture(t)
	// 13:30 in Paris on 1 March is 12:30 UTC.
	f.create(t, create("once", "at(2024-03-01T13:30:00)", func(in *schedapi.CreateScheduleInput) {
		in.ScheduleExpressionTimezone = awsapi.String("Europe/Paris")
		in.ActionAfterCompletion = awsapi.String("DELETE")
	}))
	f.create(t, create("kept", "at(2024-03-01T12:30:00)", nil))
	f.at(t, 29*time.Minute)
	if n := len(f.sub.deliveries()); n != 0 {
		t.Fatalf("fired %d times early", n)
	}
	f.at(t, time.Minute)
	if n := len(f.sub.deliveries()); n != 2 {
		t.Fatalf("fired %d times at 12:30 UTC, want 2", n)
	}
	f.at(t, 24*time.Hour)
	if n := len(f.sub.deliveries()); n != 2 {
		t.Errorf("a one-time schedule fired again")
	}
	if _, err := f.s.GetSchedule(f.ctx, &schedapi.GetScheduleInput{Name: awsapi.String("once")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("ActionAfterCompletion DELETE left the schedule: %v", err)
	}
	if _, err := f.s.GetSchedule(f.ctx, &schedapi.GetScheduleInput{Name: awsapi.String("kept")}); err != nil {
		t.Errorf("ActionAfterCompletion NONE deleted the schedule: %v", err)
	}
}

func TestCronScheduleHonoursTimeZoneStartAndEndDates(t *testing.T) {
	f := newFixture(t)
	start := f.clk.t.Add(48 * time.Hour)
	end := f.clk.t.Add(72*time.Hour + time.Minute)
	// 09:00 in New York (EST, UTC-5 on 2 to 4 March) is 14:00 UTC.
	f.create(t, create("daily", "cron(0 9 * * ? *)", func(in *schedapi.CreateScheduleInput) {
		in.ScheduleExpressionTimezone = awsapi.String("America/New_York")
		in.StartDate, in.EndDate = &start, &end
	}))
	var fired []string
	for range 6 * 24 {
		f.at(t, time.Hour)
	}
	for _, d := range f.sub.deliveries() {
		fired = append(fired, d.EventID)
	}
	// Start is 3 March 12:00 UTC, end 4 March 12:01 UTC: only 3 March 14:00 UTC.
	if len(fired) != 1 {
		t.Fatalf("fired %d times, want once between StartDate and EndDate", len(fired))
	}
}

func TestDisabledScheduleDoesNotFireUntilEnabled(t *testing.T) {
	f := newFixture(t)
	in := create("paused", "rate(5 minutes)", func(in *schedapi.CreateScheduleInput) { in.State = awsapi.String("DISABLED") })
	f.create(t, in)
	f.at(t, time.Hour)
	if n := len(f.sub.deliveries()); n != 0 {
		t.Fatalf("a disabled schedule fired %d times", n)
	}
	up := &schedapi.UpdateScheduleInput{Name: in.Name, ScheduleExpression: in.ScheduleExpression, FlexibleTimeWindow: in.FlexibleTimeWindow,
		Target: in.Target, State: awsapi.String("ENABLED")}
	if _, err := f.s.UpdateSchedule(f.ctx, up); err != nil {
		t.Fatal(err)
	}
	f.at(t, 0)
	f.at(t, 5*time.Minute)
	if n := len(f.sub.deliveries()); n != 2 {
		t.Errorf("enabled schedule fired %d times, want 2", n)
	}
	// An update that keeps the timing keeps the phase: no extra firing.
	up.Description = awsapi.String("changed")
	if _, err := f.s.UpdateSchedule(f.ctx, up); err != nil {
		t.Fatal(err)
	}
	f.at(t, time.Minute)
	if n := len(f.sub.deliveries()); n != 2 {
		t.Errorf("an update re-fired the schedule: %d firings", n)
	}
}

func TestRestartNeitherLosesNorRepeatsAFiring(t *testing.T) {
	f := newFixture(t)
	f.create(t, create("hourly", "rate(1 hour)", nil))
	f.at(t, 0)
	f.clk.t = f.clk.t.Add(time.Hour)
	// The firing is recorded, then wharf stops before handing it over.
	if err := f.s.Fire(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.s = f.service()
	if err := f.s.loadAll(); err != nil {
		t.Fatal(err)
	}
	f.at(t, 0)
	f.at(t, 0)
	if n := len(f.sub.deliveries()); n != 2 {
		t.Fatalf("%d firings after a restart between recording and delivering, want 2", n)
	}
	// EventBridge refusing a firing keeps it for the next round.
	f.sub.fail = true
	f.clk.t = f.clk.t.Add(time.Hour)
	f.s.Fire(f.ctx)
	if err := f.s.Drain(f.ctx); err == nil {
		t.Fatal("Drain hid EventBridge's failure")
	}
	f.sub.fail = false
	f.at(t, 0)
	if n := len(f.sub.deliveries()); n != 3 {
		t.Errorf("%d firings after EventBridge recovered, want 3", n)
	}
}

func TestScheduleMissedWhileDownFiresOnceWithinMaximumEventAge(t *testing.T) {
	f := newFixture(t)
	f.create(t, create("hourly", "rate(1 hour)", nil))
	f.create(t, create("strict", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) {
		in.Target.RetryPolicy = &schedapi.RetryPolicy{MaximumEventAgeInSeconds: awsapi.Int32(600)}
	}))
	f.at(t, 0)
	if n := len(f.sub.deliveries()); n != 2 {
		t.Fatalf("%d firings on creation", n)
	}
	// Down for five hours and a half.
	f.clk.t = f.clk.t.Add(5*time.Hour + 30*time.Minute)
	f.s = f.service()
	f.s.loadAll()
	f.at(t, 0)
	got := f.sub.deliveries()
	if len(got) != 3 {
		t.Fatalf("%d firings after the restart, want 3: the missed periods of hourly once, strict's too old", len(got))
	}
	if got[2].Target.Id == nil || *got[2].Target.Id != "hourly" {
		t.Errorf("the missed firing is %v's", awsapi.ToString(got[2].Target.Id))
	}
	// Both resume on their phase: next at +6h.
	f.at(t, 30*time.Minute)
	if n := len(f.sub.deliveries()); n != 5 {
		t.Errorf("%d firings at the next period, want 5", n)
	}
}

func TestTargetsBecomeEventBridgeDeliveries(t *testing.T) {
	f := newFixture(t)
	f.create(t, create("fifo", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) {
		in.Target.Arn = awsapi.String(queue + ".fifo")
		in.Target.SqsParameters = &schedapi.SqsParameters{MessageGroupId: awsapi.String("g1")}
		in.Target.RetryPolicy = &schedapi.RetryPolicy{MaximumRetryAttempts: awsapi.Int32(3)}
		in.Target.DeadLetterConfig = &schedapi.DeadLetterConfig{Arn: awsapi.String(queue + "-dlq")}
	}))
	f.create(t, create("task", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) {
		in.Target.Arn = awsapi.String("arn:aws:ecs:us-east-1:" + acct + ":cluster/default")
		in.Target.EcsParameters = &schedapi.EcsParameters{TaskDefinitionArn: awsapi.String("arn:aws:ecs:us-east-1:" + acct + ":task-definition/job:1"),
			TaskCount: awsapi.Int32(2), LaunchType: awsapi.String("FARGATE"), Tags: []map[string]string{{"team": "data"}},
			NetworkConfiguration: &schedapi.NetworkConfiguration{AwsvpcConfiguration: &schedapi.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}}
	}))
	f.create(t, create("bus", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) {
		in.Target.Arn = awsapi.String("arn:aws:events:us-east-1:" + acct + ":event-bus/default")
		in.Target.EventBridgeParameters = &schedapi.EventBridgeParameters{Source: awsapi.String("my.app"), DetailType: awsapi.String("Tick")}
	}))
	f.at(t, 0)
	by := map[string]events.Delivery{}
	for _, d := range f.sub.deliveries() {
		by[*d.Target.Id] = d
	}
	if d := by["fifo"]; awsapi.ToString(d.Target.SqsParameters.MessageGroupId) != "g1" || awsapi.ToInt32(d.Target.RetryPolicy.MaximumRetryAttempts) != 3 ||
		awsapi.ToString(d.Target.DeadLetterConfig.Arn) != queue+"-dlq" {
		t.Errorf("sqs delivery %+v", d.Target)
	}
	e := by["task"].Target.EcsParameters
	if e == nil || awsapi.ToInt32(e.TaskCount) != 2 || awsapi.ToString(e.LaunchType) != "FARGATE" || len(e.Tags) != 1 || *e.Tags[0].Key != "team" ||
		e.NetworkConfiguration == nil || e.NetworkConfiguration.AwsvpcConfiguration.Subnets[0] != "subnet-1" {
		b, _ := json.Marshal(e)
		t.Errorf("ecs parameters %s", b)
	}
	if d := by["bus"]; d.Source != "my.app" || d.DetailType != "Tick" {
		t.Errorf("event bus delivery %+v", d)
	}
}

// TestFiringsGoThroughEventBridgeRetriesAndDeadLetters runs a schedule into a
// real EventBridge service whose target fails: EventBridge's retry policy
// and dead-letter queue apply, with Scheduler's attributes.
func TestFiringsGoThroughEventBridgeRetriesAndDeadLetters(t *testing.T) {
	f := newFixture(t)
	failing, dlq := &target{fail: true}, &target{}
	eb := events.New(events.Options{Store: f.st, Clock: clock.Func(f.clk.now), Account: acct, Region: "us-east-1",
		Targets: func(svc string) events.Target {
			if svc == "sns" {
				return failing
			}
			return dlq
		}})
	f.s.SetSubmitter(eb)
	f.create(t, create("alert", "at(2024-03-01T12:10:00)", func(in *schedapi.CreateScheduleInput) {
		in.Target.Arn = awsapi.String("arn:aws:sns:us-east-1:" + acct + ":alerts")
		in.Target.RetryPolicy = &schedapi.RetryPolicy{MaximumRetryAttempts: awsapi.Int32(0)}
		in.Target.DeadLetterConfig = &schedapi.DeadLetterConfig{Arn: awsapi.String(queue)}
	}))
	f.at(t, 10*time.Minute)
	if err := eb.Dispatch(f.ctx); err != nil {
		t.Fatal(err)
	}
	if len(dlq.got) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dlq.got))
	}
	if a := dlq.got[0].Attributes; a["SCHEDULE_ARN"] != "arn:aws:scheduler:us-east-1:"+acct+":schedule/default/alert" || a["ERROR_MESSAGE"] == "" {
		t.Errorf("dead-letter attributes %v", a)
	}
}

type target struct {
	got  []events.Delivery
	fail bool
}

func (t *target) Deliver(_ context.Context, d *events.Delivery) error {
	if t.fail {
		return fmt.Errorf("topic unavailable")
	}
	t.got = append(t.got, *d)
	return nil
}

func TestScheduleAPIErrors(t *testing.T) {
	f := newFixture(t)
	f.create(t, create("exists", "rate(1 hour)", nil))
	past := f.clk.t.Add(-time.Hour)
	tests := []struct {
		name string
		in   *schedapi.CreateScheduleInput
		code string
	}{
		{"duplicate name", create("exists", "rate(1 hour)", nil), "ConflictException"},
		{"bad expression", create("x", "rate(1 minutes)", nil), "ValidationException"},
		{"not an expression", create("x", "every hour", nil), "ValidationException"},
		{"bad time zone", create("x", "cron(0 9 * * ? *)", func(in *schedapi.CreateScheduleInput) { in.ScheduleExpressionTimezone = awsapi.String("Mars/Olympus") }), "ValidationException"},
		{"bad name", create("a/b", "rate(1 hour)", nil), "ValidationException"},
		{"bad state", create("x", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) { in.State = awsapi.String("ON") }), "ValidationException"},
		{"missing group", create("x", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) { in.GroupName = awsapi.String("nope") }), "ResourceNotFoundException"},
		{"flexible without window", create("x", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) {
			in.FlexibleTimeWindow = &schedapi.FlexibleTimeWindow{Mode: awsapi.String("FLEXIBLE")}
		}), "ValidationException"},
		{"start long ago", create("x", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) { in.StartDate = &past }), "ValidationException"},
		{"end in the past", create("x", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) { in.EndDate = &past }), "ValidationException"},
		{"bad action", create("x", "at(2030-01-01T00:00:00)", func(in *schedapi.CreateScheduleInput) { in.ActionAfterCompletion = awsapi.String("KEEP") }), "ValidationException"},
		{"bad target arn", create("x", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) { in.Target.Arn = awsapi.String("queue") }), "ValidationException"},
		{"retry attempts over 185", create("x", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) {
			in.Target.RetryPolicy = &schedapi.RetryPolicy{MaximumRetryAttempts: awsapi.Int32(186)}
		}), "ValidationException"},
		{"aws. source", create("x", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) {
			in.Target.EventBridgeParameters = &schedapi.EventBridgeParameters{Source: awsapi.String("aws.events"), DetailType: awsapi.String("d")}
		}), "ValidationException"},
		{"missing target", create("x", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) { in.Target = nil }), "ValidationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.CreateSchedule(f.ctx, tc.in)
			if got := code(err); got != tc.code {
				t.Errorf("got %s (%v), want %s", got, err, tc.code)
			}
		})
	}
	_, err := f.s.GetSchedule(f.ctx, &schedapi.GetScheduleInput{Name: awsapi.String("nope")})
	if e := apierr.As(err); e == nil || e.Code != "ResourceNotFoundException" || e.Message != "Schedule nope does not exist." || e.Status != 404 {
		t.Errorf("GetSchedule of a missing schedule: %v", err)
	}
	up := &schedapi.UpdateScheduleInput{Name: awsapi.String("nope"), ScheduleExpression: awsapi.String("rate(1 hour)"),
		FlexibleTimeWindow: &schedapi.FlexibleTimeWindow{Mode: awsapi.String("OFF")}, Target: &schedapi.Target{Arn: awsapi.String(queue), RoleArn: awsapi.String(role)}}
	if _, err := f.s.UpdateSchedule(f.ctx, up); code(err) != "ResourceNotFoundException" {
		t.Errorf("UpdateSchedule of a missing schedule: %v", err)
	}
	if _, err := f.s.DeleteSchedule(f.ctx, &schedapi.DeleteScheduleInput{Name: awsapi.String("nope")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("DeleteSchedule of a missing schedule: %v", err)
	}
}

func TestGetScheduleReturnsWhatWasCreated(t *testing.T) {
	f := newFixture(t)
	start := f.clk.t.Add(time.Hour)
	f.create(t, create("s", "cron(0/15 * * * ? *)", func(in *schedapi.CreateScheduleInput) {
		in.StartDate = &start
		in.Description = awsapi.String("quarterly")
		in.ScheduleExpressionTimezone = awsapi.String("Asia/Tokyo")
		in.FlexibleTimeWindow = &schedapi.FlexibleTimeWindow{Mode: awsapi.String("FLEXIBLE"), MaximumWindowInMinutes: awsapi.Int32(5)}
	}))
	out, err := f.s.GetSchedule(f.ctx, &schedapi.GetScheduleInput{Name: awsapi.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Arn != "arn:aws:scheduler:us-east-1:"+acct+":schedule/default/s" || *out.GroupName != "default" || *out.State != "ENABLED" ||
		*out.Description != "quarterly" || *out.ScheduleExpressionTimezone != "Asia/Tokyo" || !out.StartDate.Equal(start) ||
		*out.FlexibleTimeWindow.Mode != "FLEXIBLE" || *out.ActionAfterCompletion != "NONE" || *out.Target.RetryPolicy.MaximumRetryAttempts != 185 ||
		*out.Target.Input != `{"job":"s"}` {
		b, _ := json.Marshal(out)
		t.Errorf("GetSchedule = %s", b)
	}
}

func TestListSchedulesFiltersAndPages(t *testing.T) {
	f := newFixture(t)
	if _, err := f.s.CreateScheduleGroup(f.ctx, &schedapi.CreateScheduleGroupInput{Name: awsapi.String("batch")}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		f.create(t, create(fmt.Sprintf("job-%d", i), "rate(1 hour)", func(in *schedapi.CreateScheduleInput) {
			if i%2 == 1 {
				in.GroupName = awsapi.String("batch")
				in.State = awsapi.String("DISABLED")
			}
		}))
	}
	f.create(t, create("other", "rate(1 hour)", nil))
	list := func(in *schedapi.ListSchedulesInput) []string {
		t.Helper()
		var names []string
		for {
			out, err := f.s.ListSchedules(f.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range out.Schedules {
				names = append(names, *s.GroupName+"/"+*s.Name)
			}
			if out.NextToken == nil {
				return names
			}
			in.NextToken = out.NextToken
		}
	}
	for _, tc := range []struct {
		name string
		in   *schedapi.ListSchedulesInput
		want string
	}{
		{"all, two a page", &schedapi.ListSchedulesInput{MaxResults: awsapi.Int32(2)}, "[batch/job-1 batch/job-3 default/job-0 default/job-2 default/job-4 default/other]"},
		{"by group", &schedapi.ListSchedulesInput{GroupName: awsapi.String("batch")}, "[batch/job-1 batch/job-3]"},
		{"by prefix", &schedapi.ListSchedulesInput{NamePrefix: awsapi.String("job-")}, "[batch/job-1 batch/job-3 default/job-0 default/job-2 default/job-4]"},
		{"by state", &schedapi.ListSchedulesInput{State: awsapi.String("ENABLED")}, "[default/job-0 default/job-2 default/job-4 default/other]"},
	} {
		if got := fmt.Sprint(list(tc.in)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if _, err := f.s.ListSchedules(f.ctx, &schedapi.ListSchedulesInput{GroupName: awsapi.String("nope")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("listing a missing group: %v", err)
	}
}

func TestScheduleGroupsLifecycleAndTags(t *testing.T) {
	f := newFixture(t)
	out, err := f.s.CreateScheduleGroup(f.ctx, &schedapi.CreateScheduleGroupInput{Name: awsapi.String("g"),
		Tags: []schedapi.Tag{{Key: awsapi.String("env"), Value: awsapi.String("dev")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := *out.ScheduleGroupArn
	if arn != "arn:aws:scheduler:us-east-1:"+acct+":schedule-group/g" {
		t.Errorf("arn %s", arn)
	}
	if _, err := f.s.CreateScheduleGroup(f.ctx, &schedapi.CreateScheduleGroupInput{Name: awsapi.String("g")}); code(err) != "ConflictException" {
		t.Errorf("duplicate group: %v", err)
	}
	f.s.TagResource(f.ctx, &schedapi.TagResourceInput{ResourceArn: &arn, Tags: []schedapi.Tag{{Key: awsapi.String("team"), Value: awsapi.String("data")}}})
	f.s.UntagResource(f.ctx, &schedapi.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"env"}})
	tags, err := f.s.ListTagsForResource(f.ctx, &schedapi.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" {
		t.Errorf("tags %+v %v", tags, err)
	}
	groups, _ := f.s.ListScheduleGroups(f.ctx, &schedapi.ListScheduleGroupsInput{})
	if len(groups.ScheduleGroups) != 2 || *groups.ScheduleGroups[0].Name != "default" || *groups.ScheduleGroups[0].State != "ACTIVE" {
		t.Errorf("groups %+v", groups.ScheduleGroups)
	}
	f.create(t, create("in-g", "rate(1 hour)", func(in *schedapi.CreateScheduleInput) { in.GroupName = awsapi.String("g") }))
	if _, err := f.s.DeleteScheduleGroup(f.ctx, &schedapi.DeleteScheduleGroupInput{Name: awsapi.String("default")}); code(err) != "ValidationException" {
		t.Errorf("deleting the default group: %v", err)
	}
	if _, err := f.s.DeleteScheduleGroup(f.ctx, &schedapi.DeleteScheduleGroupInput{Name: awsapi.String("g")}); err != nil {
		t.Fatal(err)
	}
	// The group's schedules went with it, also after a restart.
	f.s = f.service()
	if _, err := f.s.GetScheduleGroup(f.ctx, &schedapi.GetScheduleGroupInput{Name: awsapi.String("g")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("deleted group: %v", err)
	}
	l, _ := f.s.ListSchedules(f.ctx, &schedapi.ListSchedulesInput{})
	if len(l.Schedules) != 0 {
		t.Errorf("schedules of a deleted group remain: %d", len(l.Schedules))
	}
}
