package autoscaling

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	aas "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/store"
)

// The fakes below stand in for CloudWatch and ECS services. CloudWatch's real
// GetMetricData/PutMetricAlarm/DeleteAlarms satisfy the same interfaces and are
// exercised by the integration test; ECS services are not built yet, so the
// ECS side is a fake here.

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeCloudWatch serves one value for the query that returns data, and keeps
// the alarms put.
type fakeCloudWatch struct {
	mu      sync.Mutex
	value   float64
	has     bool
	queries []cwapi.MetricDataQuery
	alarms  map[string]*cwapi.PutMetricAlarmInput
	callers []string
}

func (f *fakeCloudWatch) set(v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value, f.has = v, true
}

func (f *fakeCloudWatch) GetMetricData(ctx context.Context, in *cwapi.GetMetricDataInput) (*cwapi.GetMetricDataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := awsapi.CallerFrom(ctx)
	f.callers = append(f.callers, c.Account+"/"+c.Region)
	f.queries = in.MetricDataQueries
	out := &cwapi.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		r := cwapi.MetricDataResult{Id: q.Id}
		if awsapi.ToBool(q.ReturnData) && f.has {
			r.Timestamps = []time.Time{in.EndTime.Add(-time.Second)}
			r.Values = []float64{f.value}
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

func (f *fakeCloudWatch) PutMetricAlarm(ctx context.Context, in *cwapi.PutMetricAlarmInput) (*cwapi.PutMetricAlarmOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.alarms == nil {
		f.alarms = map[string]*cwapi.PutMetricAlarmInput{}
	}
	f.alarms[*in.AlarmName] = in
	return &cwapi.PutMetricAlarmOutput{}, nil
}

func (f *fakeCloudWatch) DeleteAlarms(ctx context.Context, in *cwapi.DeleteAlarmsInput) (*cwapi.DeleteAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range in.AlarmNames {
		delete(f.alarms, n)
	}
	return &cwapi.DeleteAlarmsOutput{}, nil
}

type fakeECS struct {
	mu      sync.Mutex
	desired map[string]int32
	sets    []string
	fail    error
}

func (f *fakeECS) DesiredCount(ctx context.Context, account, region, cluster, service string) (int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.desired[cluster+"/"+service]
	if !ok {
		return 0, &apierr.Error{Code: "ServiceNotFoundException", Message: "Service not found."}
	}
	return n, nil
}

func (f *fakeECS) SetDesiredCount(ctx context.Context, account, region, cluster, service string, count int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.desired[cluster+"/"+service] = count
	f.sets = append(f.sets, fmt.Sprintf("%s/%s=%d", cluster, service, count))
	return nil
}

func (f *fakeECS) count(key string) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.desired[key]
}

type harness struct {
	svc   *Service
	clock *fakeClock
	cw    *fakeCloudWatch
	ecs   *fakeECS
	ctx   context.Context
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		clock: &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)},
		cw:    &fakeCloudWatch{},
		ecs:   &fakeECS{desired: map[string]int32{"workers/consumer": 1}},
		ctx:   awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "123456789012", Region: "eu-west-1"}),
	}
	h.svc = New(Options{Store: store.OpenMemory(), Clock: h.clock})
	h.svc.SetMetrics(h.cw)
	h.svc.SetAlarms(h.cw)
	h.svc.SetServices(h.ecs)
	return h
}

const resource = "service/workers/consumer"

func (h *harness) register(t *testing.T, min, max int32) {
	t.Helper()
	_, err := h.svc.RegisterScalableTarget(h.ctx, &aas.RegisterScalableTargetInput{
		ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource),
		ScalableDimension: awsapi.String("ecs:service:DesiredCount"),
		MinCapacity:       awsapi.Int32(min), MaxCapacity: awsapi.Int32(max),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// backlogPolicy is AWS's documented backlog-per-task policy: visible messages
// divided by running tasks, with a target of 10 messages per task.
func backlogPolicy() *aas.TargetTrackingScalingPolicyConfiguration {
	dims := func(pairs ...string) []aas.TargetTrackingMetricDimension {
		var ds []aas.TargetTrackingMetricDimension
		for i := 0; i < len(pairs); i += 2 {
			ds = append(ds, aas.TargetTrackingMetricDimension{Name: awsapi.String(pairs[i]), Value: awsapi.String(pairs[i+1])})
		}
		return ds
	}
	return &aas.TargetTrackingScalingPolicyConfiguration{
		TargetValue:      f64p(10),
		ScaleOutCooldown: awsapi.Int32(60),
		ScaleInCooldown:  awsapi.Int32(120),
		CustomizedMetricSpecification: &aas.CustomizedMetricSpecification{Metrics: []aas.TargetTrackingMetricDataQuery{
			{Id: awsapi.String("m1"), ReturnData: awsapi.Bool(false), MetricStat: &aas.TargetTrackingMetricStat{
				Stat: awsapi.String("Sum"), Metric: &aas.TargetTrackingMetric{Namespace: awsapi.String("AWS/SQS"),
					MetricName: awsapi.String("ApproximateNumberOfMessagesVisible"), Dimensions: dims("QueueName", "jobs")}}},
			{Id: awsapi.String("m2"), ReturnData: awsapi.Bool(false), MetricStat: &aas.TargetTrackingMetricStat{
				Stat: awsapi.String("Average"), Metric: &aas.TargetTrackingMetric{Namespace: awsapi.String("ECS/ContainerInsights"),
					MetricName: awsapi.String("RunningTaskCount"), Dimensions: dims("ClusterName", "workers", "ServiceName", "consumer")}}},
			{Id: awsapi.String("e1"), Expression: awsapi.String("m1 / m2"), Label: awsapi.String("backlog per task"), ReturnData: awsapi.Bool(true)},
		}},
	}
}

func (h *harness) putTracking(t *testing.T, name string, cfg *aas.TargetTrackingScalingPolicyConfiguration) *aas.PutScalingPolicyOutput {
	t.Helper()
	out, err := h.svc.PutScalingPolicy(h.ctx, &aas.PutScalingPolicyInput{
		PolicyName: awsapi.String(name), ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource),
		ScalableDimension: awsapi.String("ecs:service:DesiredCount"), PolicyType: awsapi.String("TargetTrackingScaling"),
		TargetTrackingScalingPolicyConfiguration: cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (h *harness) activities(t *testing.T, notScaled bool) []aas.ScalingActivity {
	t.Helper()
	out, err := h.svc.DescribeScalingActivities(h.ctx, &aas.DescribeScalingActivitiesInput{
		ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), IncludeNotScaledActivities: awsapi.Bool(notScaled)})
	if err != nil {
		t.Fatal(err)
	}
	return out.ScalingActivities
}

func TestBacklogPerTaskScalesOutToMaxThenInAfterCooldown(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 20)
	out := h.putTracking(t, "backlog-per-task", backlogPolicy())

	// The two alarms, named and set as AWS does, carry the metric math.
	if len(out.Alarms) != 2 {
		t.Fatalf("Alarms = %d, want 2", len(out.Alarms))
	}
	high, low := *out.Alarms[0].AlarmName, *out.Alarms[1].AlarmName
	if !strings.HasPrefix(high, "TargetTracking-"+resource+"-AlarmHigh-") || !strings.HasPrefix(low, "TargetTracking-"+resource+"-AlarmLow-") {
		t.Fatalf("alarm names %q, %q", high, low)
	}
	if *out.Alarms[0].AlarmARN != "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"+high {
		t.Fatalf("AlarmARN = %s", *out.Alarms[0].AlarmARN)
	}
	ha, la := h.cw.alarms[high], h.cw.alarms[low]
	if *ha.Threshold != 10 || *ha.ComparisonOperator != "GreaterThanThreshold" || *ha.EvaluationPeriods != 3 ||
		*la.Threshold != 9 || *la.ComparisonOperator != "LessThanThreshold" || *la.EvaluationPeriods != 15 {
		t.Fatalf("alarms: high %v %v %v, low %v %v %v", *ha.Threshold, *ha.ComparisonOperator, *ha.EvaluationPeriods, *la.Threshold, *la.ComparisonOperator, *la.EvaluationPeriods)
	}
	if len(ha.Metrics) != 3 || *ha.Metrics[2].Expression != "m1 / m2" || ha.AlarmActions[0] != *out.PolicyARN {
		t.Fatalf("high alarm metrics/actions: %+v %v", ha.Metrics, ha.AlarmActions)
	}

	// 1500 visible messages on one task: 1500 per task, 150 tasks wanted, 20 allowed.
	h.cw.set(1500)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 20 {
		t.Fatalf("desired count = %d, want 20 (max)", got)
	}
	if len(h.cw.queries) != 3 || *h.cw.queries[2].Expression != "m1 / m2" || !*h.cw.queries[2].ReturnData || *h.cw.queries[0].ReturnData {
		t.Fatalf("GetMetricData queries: %+v", h.cw.queries)
	}
	if h.cw.callers[0] != "123456789012/eu-west-1" {
		t.Fatalf("metrics read as %s", h.cw.callers[0])
	}
	acts := h.activities(t, false)
	if len(acts) != 1 {
		t.Fatalf("activities = %d, want 1", len(acts))
	}
	a := acts[0]
	if *a.Description != "Setting desired count to 20." || *a.StatusCode != "Successful" ||
		*a.Cause != "monitor alarm "+high+" in state ALARM triggered policy backlog-per-task" ||
		*a.StatusMessage != "Successfully set desired count to 20. Change successfully fulfilled by ecs." {
		t.Fatalf("activity: %s | %s | %s | %s", *a.Description, *a.Cause, *a.StatusCode, *a.StatusMessage)
	}

	// Still above target at max: a not-scaled activity, recorded once.
	h.svc.Tick(context.Background())
	h.svc.Tick(context.Background())
	if n := len(h.activities(t, false)); n != 1 {
		t.Fatalf("scaled activities = %d, want 1", n)
	}
	all := h.activities(t, true)
	if len(all) != 2 || all[0].NotScaledReasons[0].Code == nil || *all[0].NotScaledReasons[0].Code != "AlreadyAtMaxCapacity" ||
		*all[0].NotScaledReasons[0].MaxCapacity != 20 || *all[0].NotScaledReasons[0].CurrentCapacity != 20 {
		t.Fatalf("not scaled activities: %+v", all)
	}

	// Queue drained: no scale-in during the 60 s scale-out cooldown.
	h.cw.set(0)
	h.clock.Advance(30 * time.Second)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 20 {
		t.Fatalf("scaled in during scale-out cooldown: %d", got)
	}
	h.clock.Advance(31 * time.Second)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 1 {
		t.Fatalf("desired count after drain = %d, want 1 (min)", got)
	}
	acts = h.activities(t, false)
	if *acts[0].Description != "Setting desired count to 1." || !strings.Contains(*acts[0].Cause, low) {
		t.Fatalf("scale-in activity: %s | %s", *acts[0].Description, *acts[0].Cause)
	}

	// Load again inside the scale-in cooldown: scale-out is not held back.
	h.cw.set(30)
	h.clock.Advance(time.Second)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 3 {
		t.Fatalf("desired count = %d, want 3", got)
	}
}

func TestDisableScaleInCreatesNoLowAlarmAndNeverScalesIn(t *testing.T) {
	h := newHarness(t)
	h.ecs.desired["workers/consumer"] = 5
	h.register(t, 1, 10)
	cfg := &aas.TargetTrackingScalingPolicyConfiguration{TargetValue: f64p(50), DisableScaleIn: awsapi.Bool(true),
		PredefinedMetricSpecification: &aas.PredefinedMetricSpecification{PredefinedMetricType: awsapi.String("ECSServiceAverageCPUUtilization")}}
	out := h.putTracking(t, "cpu50", cfg)
	if len(out.Alarms) != 1 || !strings.Contains(*out.Alarms[0].AlarmName, "-AlarmHigh-") {
		t.Fatalf("alarms = %+v", out.Alarms)
	}
	a := h.cw.alarms[*out.Alarms[0].AlarmName]
	if *a.Namespace != "AWS/ECS" || *a.MetricName != "CPUUtilization" || *a.Statistic != "Average" || len(a.Dimensions) != 2 ||
		*a.Dimensions[0].Value != "workers" || *a.Dimensions[1].Value != "consumer" {
		t.Fatalf("predefined CPU alarm: %+v", a)
	}
	h.cw.set(1)
	h.clock.Advance(time.Hour)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 5 {
		t.Fatalf("scaled in with DisableScaleIn: %d", got)
	}
}

func TestStepScalingPolicyRunsFromAlarm(t *testing.T) {
	h := newHarness(t)
	h.ecs.desired["workers/consumer"] = 2
	h.register(t, 1, 10)
	out, err := h.svc.PutScalingPolicy(h.ctx, &aas.PutScalingPolicyInput{
		PolicyName: awsapi.String("cpu-gt-75"), ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource),
		ScalableDimension: awsapi.String("ecs:service:DesiredCount"), PolicyType: awsapi.String("StepScaling"),
		StepScalingPolicyConfiguration: &aas.StepScalingPolicyConfiguration{
			AdjustmentType: awsapi.String("PercentChangeInCapacity"), Cooldown: awsapi.Int32(60),
			MetricAggregationType: awsapi.String("Average"),
			StepAdjustments:       []aas.StepAdjustment{step(f64p(0), nil, 200)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Alarms) != 0 || !strings.HasPrefix(*out.PolicyARN, "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:") ||
		!strings.HasSuffix(*out.PolicyARN, ":resource/ecs/"+resource+":policyName/cpu-gt-75") {
		t.Fatalf("PutScalingPolicy = %s %+v", *out.PolicyARN, out.Alarms)
	}
	// OK is not a reason to scale.
	if err := h.svc.ExecutePolicy(context.Background(), "123456789012", "eu-west-1", *out.PolicyARN, "web-cpu-gt-75", "OK", 80, 75); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.ExecutePolicy(context.Background(), "123456789012", "eu-west-1", *out.PolicyARN, "web-cpu-gt-75", "ALARM", 80, 75); err != nil {
		t.Fatal(err)
	}
	if got := h.ecs.count("workers/consumer"); got != 6 {
		t.Fatalf("desired count = %d, want 6 (2 + 200%%)", got)
	}
	// Inside the cooldown the same alarm adds nothing more.
	h.clock.Advance(10 * time.Second)
	if err := h.svc.ExecutePolicy(context.Background(), "123456789012", "eu-west-1", *out.PolicyARN, "web-cpu-gt-75", "ALARM", 80, 75); err != nil {
		t.Fatal(err)
	}
	if got := h.ecs.count("workers/consumer"); got != 6 {
		t.Fatalf("desired count in cooldown = %d, want 6", got)
	}
	h.clock.Advance(time.Minute)
	if err := h.svc.ExecutePolicy(context.Background(), "123456789012", "eu-west-1", *out.PolicyARN, "web-cpu-gt-75", "ALARM", 80, 75); err != nil {
		t.Fatal(err)
	}
	if got := h.ecs.count("workers/consumer"); got != 10 {
		t.Fatalf("desired count after cooldown = %d, want 10 (max)", got)
	}
	acts := h.activities(t, false)
	if *acts[0].Cause != "monitor alarm web-cpu-gt-75 in state ALARM triggered policy cpu-gt-75" {
		t.Fatalf("cause = %s", *acts[0].Cause)
	}
	// Another account does not see the policy.
	err = h.svc.ExecutePolicy(context.Background(), "999999999999", "eu-west-1", *out.PolicyARN, "x", "ALARM", 80, 75)
	if e := apierr.As(err); e == nil || e.Code != "ObjectNotFoundException" {
		t.Fatalf("other account: %v", err)
	}
}

func TestSuspendedScalingOutHoldsCapacityUntilResumed(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	h.putTracking(t, "backlog", backlogPolicy())
	_, err := h.svc.RegisterScalableTarget(h.ctx, &aas.RegisterScalableTargetInput{
		ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount"),
		SuspendedState: &aas.SuspendedState{DynamicScalingOutSuspended: awsapi.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	h.cw.set(100)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 1 {
		t.Fatalf("scaled out while suspended: %d", got)
	}
	d, _ := h.svc.DescribeScalableTargets(h.ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: awsapi.String("ecs")})
	st := d.ScalableTargets[0]
	if !*st.SuspendedState.DynamicScalingOutSuspended || *st.MinCapacity != 1 || *st.MaxCapacity != 10 {
		t.Fatalf("re-register changed more than the suspended state: %+v %+v", st, st.SuspendedState)
	}
	_, err = h.svc.RegisterScalableTarget(h.ctx, &aas.RegisterScalableTargetInput{
		ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount"),
		SuspendedState: &aas.SuspendedState{DynamicScalingOutSuspended: awsapi.Bool(false)}})
	if err != nil {
		t.Fatal(err)
	}
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 10 {
		t.Fatalf("desired count after resume = %d, want 10", got)
	}
}

func TestRegisterWithNewMinimumScalesUp(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	h.register(t, 4, 10)
	if got := h.ecs.count("workers/consumer"); got != 4 {
		t.Fatalf("desired count = %d, want 4", got)
	}
	acts := h.activities(t, false)
	if len(acts) != 1 || *acts[0].Description != "Setting desired count to 4." {
		t.Fatalf("activities: %+v", acts)
	}
}

func TestScheduledActionSetsCapacityLimits(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	put := func(name, sched string, min, max int32) {
		t.Helper()
		_, err := h.svc.PutScheduledAction(h.ctx, &aas.PutScheduledActionInput{
			ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount"),
			ScheduledActionName: awsapi.String(name), Schedule: awsapi.String(sched),
			ScalableTargetAction: &aas.ScalableTargetAction{MinCapacity: awsapi.Int32(min), MaxCapacity: awsapi.Int32(max)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("morning", "cron(0 10 * * ? *)", 5, 20)
	put("once", "at(2025-03-01T09:30:00)", 2, 3)
	d, err := h.svc.DescribeScheduledActions(h.ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: awsapi.String("ecs")})
	if err != nil || len(d.ScheduledActions) != 2 || *d.ScheduledActions[0].ScheduledActionName != "morning" ||
		!strings.Contains(*d.ScheduledActions[0].ScheduledActionARN, ":scheduledAction:") {
		t.Fatalf("DescribeScheduledActions = %+v, %v", d, err)
	}

	h.clock.Advance(29 * time.Minute)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 1 {
		t.Fatalf("fired early: %d", got)
	}
	h.clock.Advance(time.Minute)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 2 {
		t.Fatalf("after at(): desired %d, want 2", got)
	}
	h.clock.Advance(30 * time.Minute)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 5 {
		t.Fatalf("after cron: desired %d, want 5", got)
	}
	tg, _ := h.svc.DescribeScalableTargets(h.ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: awsapi.String("ecs")})
	if *tg.ScalableTargets[0].MinCapacity != 5 || *tg.ScalableTargets[0].MaxCapacity != 20 {
		t.Fatalf("limits = %d..%d", *tg.ScalableTargets[0].MinCapacity, *tg.ScalableTargets[0].MaxCapacity)
	}
	acts := h.activities(t, false)
	var descs []string
	for _, a := range acts {
		descs = append(descs, *a.Description+" / "+*a.Cause)
	}
	want := []string{
		"Setting desired count to 5. / scheduled action name morning was triggered",
		"Setting min capacity to 5 and max capacity to 20 / scheduled action name morning was triggered",
		"Setting desired count to 2. / scheduled action name once was triggered",
		"Setting min capacity to 2 and max capacity to 3 / scheduled action name once was triggered",
	}
	if strings.Join(descs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("activities:\n%s\nwant:\n%s", strings.Join(descs, "\n"), strings.Join(want, "\n"))
	}
	// Fired once: the at() action does not fire again.
	h.clock.Advance(time.Hour)
	h.svc.Tick(context.Background())
	if n := len(h.activities(t, false)); n != 4 {
		t.Fatalf("activities after another hour = %d, want 4", n)
	}
}

func TestScheduledScalingSuspendedSkipsActions(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	_, err := h.svc.RegisterScalableTarget(h.ctx, &aas.RegisterScalableTargetInput{
		ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount"),
		SuspendedState: &aas.SuspendedState{ScheduledScalingSuspended: awsapi.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.PutScheduledAction(h.ctx, &aas.PutScheduledActionInput{
		ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount"),
		ScheduledActionName: awsapi.String("every-minute"), Schedule: awsapi.String("rate(1 minute)"),
		ScalableTargetAction: &aas.ScalableTargetAction{MinCapacity: awsapi.Int32(3)}})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Minute)
	h.svc.Tick(context.Background())
	if got := h.ecs.count("workers/consumer"); got != 1 {
		t.Fatalf("scheduled action ran while suspended: %d", got)
	}
}

func TestECSFailureRecordsFailedActivity(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	h.putTracking(t, "backlog", backlogPolicy())
	h.ecs.fail = &apierr.Error{Code: "ServiceNotActiveException", Message: "Service was not ACTIVE."}
	h.cw.set(50)
	h.svc.Tick(context.Background())
	acts := h.activities(t, false)
	if len(acts) != 1 || *acts[0].StatusCode != "Failed" || *acts[0].StatusMessage != "Failed to set desired count to 5. Service was not ACTIVE." {
		t.Fatalf("activities: %+v", acts)
	}
}

func TestWithoutECSTheServiceKeepsCapacity(t *testing.T) {
	h := newHarness(t)
	h.svc.SetServices(nil)
	h.register(t, 2, 8)
	h.putTracking(t, "backlog", backlogPolicy())
	h.cw.set(35) // 35 per task on 2 tasks, target 10: 7 tasks
	h.svc.Tick(context.Background())
	acts := h.activities(t, false)
	if len(acts) != 1 || *acts[0].Description != "Setting desired count to 7." {
		t.Fatalf("activities: %+v", acts)
	}
}

func TestAlarmActionOnTrackingPolicyUsesFreshMetric(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	out := h.putTracking(t, "backlog", backlogPolicy())
	h.cw.set(30)
	// The alarm saw a stale 1000; the policy reads 30 itself.
	if err := h.svc.ExecutePolicy(context.Background(), "123456789012", "eu-west-1", *out.PolicyARN, *out.Alarms[0].AlarmName, "ALARM", 1000, 10); err != nil {
		t.Fatal(err)
	}
	if got := h.ecs.count("workers/consumer"); got != 3 {
		t.Fatalf("desired = %d, want 3", got)
	}
}

func TestErrorsAsAWS(t *testing.T) {
	h := newHarness(t)
	ecsTarget := func(in *aas.RegisterScalableTargetInput) *aas.RegisterScalableTargetInput {
		if in.ServiceNamespace == nil {
			in.ServiceNamespace = awsapi.String("ecs")
		}
		if in.ScalableDimension == nil {
			in.ScalableDimension = awsapi.String("ecs:service:DesiredCount")
		}
		return in
	}
	cases := []struct {
		name string
		call func() error
		code string
		msg  string
	}{
		{"unknown namespace", func() error {
			_, err := h.svc.DescribeScalableTargets(h.ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: awsapi.String("nope")})
			return err
		}, "ValidationException", "Value 'nope' at 'serviceNamespace' failed to satisfy constraint"},
		{"bad resource id", func() error {
			_, err := h.svc.RegisterScalableTarget(h.ctx, ecsTarget(&aas.RegisterScalableTargetInput{ResourceId: awsapi.String("table/x"), MinCapacity: awsapi.Int32(1), MaxCapacity: awsapi.Int32(2)}))
			return err
		}, "ValidationException", "Unsupported service namespace, resource type or scalable dimension"},
		{"new target without capacities", func() error {
			_, err := h.svc.RegisterScalableTarget(h.ctx, ecsTarget(&aas.RegisterScalableTargetInput{ResourceId: awsapi.String(resource)}))
			return err
		}, "ValidationException", "MinCapacity and MaxCapacity are required"},
		{"min above max", func() error {
			_, err := h.svc.RegisterScalableTarget(h.ctx, ecsTarget(&aas.RegisterScalableTargetInput{ResourceId: awsapi.String(resource), MinCapacity: awsapi.Int32(3), MaxCapacity: awsapi.Int32(2)}))
			return err
		}, "ValidationException", "Maximum capacity cannot be less than minimum capacity"},
		{"missing ECS service", func() error {
			_, err := h.svc.RegisterScalableTarget(h.ctx, ecsTarget(&aas.RegisterScalableTargetInput{ResourceId: awsapi.String("service/workers/ghost"), MinCapacity: awsapi.Int32(1), MaxCapacity: awsapi.Int32(2)}))
			return err
		}, "ValidationException", "ECS service doesn't exist: service/workers/ghost"},
		{"deregister unknown", func() error {
			_, err := h.svc.DeregisterScalableTarget(h.ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount")})
			return err
		}, "ObjectNotFoundException", "No scalable target found for service namespace: ecs, resource ID: service/workers/consumer, scalable dimension: ecs:service:DesiredCount"},
		{"policy on unregistered target", func() error {
			_, err := h.svc.PutScalingPolicy(h.ctx, &aas.PutScalingPolicyInput{PolicyName: awsapi.String("p"), ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource),
				ScalableDimension: awsapi.String("ecs:service:DesiredCount"), PolicyType: awsapi.String("TargetTrackingScaling"), TargetTrackingScalingPolicyConfiguration: backlogPolicy()})
			return err
		}, "ObjectNotFoundException", "No scalable target registered for service namespace: ecs"},
		{"delete unknown policy", func() error {
			_, err := h.svc.DeleteScalingPolicy(h.ctx, &aas.DeleteScalingPolicyInput{PolicyName: awsapi.String("p"), ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount")})
			return err
		}, "ObjectNotFoundException", "No scaling policy found for service namespace: ecs, resource ID: service/workers/consumer, scalable dimension: ecs:service:DesiredCount, policy name: p"},
		{"tags of unknown ARN", func() error {
			_, err := h.svc.ListTagsForResource(h.ctx, &aas.ListTagsForResourceInput{ResourceARN: awsapi.String("arn:aws:application-autoscaling:eu-west-1:123456789012:scalable-target/nope")})
			return err
		}, "ResourceNotFoundException", ""},
		{"bad page size", func() error {
			_, err := h.svc.DescribeScalingPolicies(h.ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: awsapi.String("ecs"), MaxResults: awsapi.Int32(51)})
			return err
		}, "ValidationException", "maxResults"},
		{"bad token", func() error {
			_, err := h.svc.DescribeScalingActivities(h.ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: awsapi.String("ecs"), NextToken: awsapi.String("!!")})
			return err
		}, "InvalidNextTokenException", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := apierr.As(c.call())
			if e == nil || e.Code != c.code || !strings.Contains(e.Message, c.msg) {
				t.Fatalf("error = %v, want %s containing %q", e, c.code, c.msg)
			}
		})
	}
}

func TestPolicyValidation(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	put := func(typ string, st *aas.StepScalingPolicyConfiguration, tt *aas.TargetTrackingScalingPolicyConfiguration) error {
		_, err := h.svc.PutScalingPolicy(h.ctx, &aas.PutScalingPolicyInput{PolicyName: awsapi.String("p"), ServiceNamespace: awsapi.String("ecs"),
			ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount"), PolicyType: awsapi.String(typ),
			StepScalingPolicyConfiguration: st, TargetTrackingScalingPolicyConfiguration: tt})
		return err
	}
	twoReturning := backlogPolicy()
	twoReturning.CustomizedMetricSpecification.Metrics[0].ReturnData = nil
	cases := []struct {
		name string
		err  error
	}{
		{"unknown type", put("Magic", nil, nil)},
		{"step without config", put("StepScaling", nil, nil)},
		{"step without adjustment type", put("StepScaling", &aas.StepScalingPolicyConfiguration{StepAdjustments: []aas.StepAdjustment{step(f64p(0), nil, 1)}}, nil)},
		{"step with gap", put("StepScaling", &aas.StepScalingPolicyConfiguration{AdjustmentType: awsapi.String("ChangeInCapacity"),
			StepAdjustments: []aas.StepAdjustment{step(f64p(0), f64p(1), 1), step(f64p(2), nil, 1)}}, nil)},
		{"MinAdjustmentMagnitude without percent", put("StepScaling", &aas.StepScalingPolicyConfiguration{AdjustmentType: awsapi.String("ChangeInCapacity"),
			MinAdjustmentMagnitude: awsapi.Int32(2), StepAdjustments: []aas.StepAdjustment{step(f64p(0), nil, 1)}}, nil)},
		{"tracking without metric", put("TargetTrackingScaling", nil, &aas.TargetTrackingScalingPolicyConfiguration{TargetValue: f64p(1)})},
		{"tracking with a non-ECS metric", put("TargetTrackingScaling", nil, &aas.TargetTrackingScalingPolicyConfiguration{TargetValue: f64p(1),
			PredefinedMetricSpecification: &aas.PredefinedMetricSpecification{PredefinedMetricType: awsapi.String("DynamoDBReadCapacityUtilization")}})},
		{"metric math with two returning queries", put("TargetTrackingScaling", nil, twoReturning)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if e := apierr.As(c.err); e == nil || e.Code != "ValidationException" {
				t.Fatalf("error = %v, want ValidationException", c.err)
			}
		})
	}
}

func TestDeregisterRemovesPoliciesAndTheirAlarms(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	h.putTracking(t, "backlog", backlogPolicy())
	if len(h.cw.alarms) != 2 {
		t.Fatalf("alarms = %d", len(h.cw.alarms))
	}
	_, err := h.svc.DeregisterScalableTarget(h.ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource), ScalableDimension: awsapi.String("ecs:service:DesiredCount")})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.cw.alarms) != 0 {
		t.Fatalf("alarms left: %v", h.cw.alarms)
	}
	p, _ := h.svc.DescribeScalingPolicies(h.ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: awsapi.String("ecs")})
	if len(p.ScalingPolicies) != 0 {
		t.Fatalf("policies left: %+v", p.ScalingPolicies)
	}
}

func TestRePutPolicyKeepsARNAndAlarmNames(t *testing.T) {
	h := newHarness(t)
	h.register(t, 1, 10)
	a := h.putTracking(t, "backlog", backlogPolicy())
	cfg := backlogPolicy()
	cfg.TargetValue = f64p(20)
	b := h.putTracking(t, "backlog", cfg)
	if *a.PolicyARN != *b.PolicyARN || *a.Alarms[0].AlarmName != *b.Alarms[0].AlarmName || len(h.cw.alarms) != 2 {
		t.Fatalf("re-put changed identity: %v %v", a, b)
	}
	if *h.cw.alarms[*b.Alarms[0].AlarmName].Threshold != 20 {
		t.Fatal("alarm threshold not updated")
	}
	d, _ := h.svc.DescribeScalingPolicies(h.ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: awsapi.String("ecs"), ResourceId: awsapi.String(resource)})
	if len(d.ScalingPolicies) != 1 || *d.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.TargetValue != 20 || len(d.ScalingPolicies[0].Alarms) != 2 {
		t.Fatalf("DescribeScalingPolicies: %+v", d.ScalingPolicies)
	}
}

func TestPagesOfTargets(t *testing.T) {
	h := newHarness(t)
	h.svc.SetServices(nil)
	for i := 0; i < 5; i++ {
		_, err := h.svc.RegisterScalableTarget(h.ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: awsapi.String("ecs"),
			ResourceId: awsapi.String(fmt.Sprintf("service/c/s%d", i)), ScalableDimension: awsapi.String("ecs:service:DesiredCount"),
			MinCapacity: awsapi.Int32(0), MaxCapacity: awsapi.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var next *string
	for {
		out, err := h.svc.DescribeScalableTargets(h.ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: awsapi.String("ecs"), MaxResults: awsapi.Int32(2), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, t := range out.ScalableTargets {
			got = append(got, *t.ResourceId)
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	if strings.Join(got, ",") != "service/c/s0,service/c/s1,service/c/s2,service/c/s3,service/c/s4" {
		t.Fatalf("pages: %v", got)
	}
}
