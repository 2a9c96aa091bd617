package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

type apiError struct {
	Error, Code string
}

func mustOK(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// eventually polls check every 200 ms until it returns "" or the time is
// up, and then fails with what it last said.
func eventually(t *testing.T, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestBucketsObjectsAndDownload(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	must := mustOK(t)
	must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}))
	must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("2026/cat one.txt"),
		Body: strings.NewReader("meow meow"), ContentType: aws.String("text/plain")}))
	must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("dog.txt"), Body: strings.NewReader("woof")}))

	var buckets struct{ Items []struct{ Name string } }
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/buckets", &buckets); code != 200 || len(buckets.Items) != 1 || buckets.Items[0].Name != "photos" {
		t.Fatalf("buckets view: %d %+v", code, buckets)
	}
	var objs struct {
		Items []struct {
			Key  string
			Size int64
			ETag string
		}
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/objects?bucket=photos", &objs); code != 200 || len(objs.Items) != 2 ||
		objs.Items[0].Key != "2026/cat one.txt" || objs.Items[0].Size != 9 || objs.Items[0].ETag == "" || objs.Items[1].Key != "dog.txt" {
		t.Fatalf("objects view: %d %+v", code, objs)
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/objects?bucket=photos&prefix=2026/", &objs); code != 200 || len(objs.Items) != 1 {
		t.Fatalf("objects view under a prefix: %d %+v", code, objs)
	}

	resp, err := http.Get(srv.URL + "/_wharf/api/objects/download?bucket=photos&key=" + url.QueryEscape("2026/cat one.txt"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "meow meow" || resp.Header.Get("Content-Type") != "text/plain" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="cat one.txt"` {
		t.Errorf("download: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	var bad apiError
	if code := getJSON(t, srv.URL+"/_wharf/api/objects/download?bucket=photos&key=nope", &bad); code != 404 || bad.Code != "NoSuchKey" {
		t.Errorf("download of a missing key: %d %+v", code, bad)
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/objects?bucket=nosuch", &bad); code != 404 || bad.Code != "NoSuchBucket" {
		t.Errorf("objects of a missing bucket: %d %+v", code, bad)
	}
}

func TestTopicsShowTheirSubscriptions(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	ctx := context.Background()
	tp, sq := sns.NewFromConfig(srv.Config()), sqs.NewFromConfig(srv.Config())
	must := mustOK(t)
	topic, err := tp.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	must(sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("pager")}))
	must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:pager")}))
	var view struct {
		Items []struct {
			Name, ARN     string
			Subscriptions []struct{ ARN, Protocol, Endpoint string }
		}
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/topics", &view); code != 200 || len(view.Items) != 1 {
		t.Fatalf("topics view: %d %+v", code, view)
	}
	tv := view.Items[0]
	if tv.Name != "alerts" || tv.ARN != *topic.TopicArn || len(tv.Subscriptions) != 1 || tv.Subscriptions[0].Protocol != "sqs" ||
		tv.Subscriptions[0].Endpoint != "arn:aws:sqs:us-east-1:000000000000:pager" || !strings.HasPrefix(tv.Subscriptions[0].ARN, *topic.TopicArn+":") {
		t.Errorf("topic alerts: %+v", tv)
	}
}

// The buses view lists each bus with its rule count and its resource policy,
// the one PutPermission writes.
func TestBusesShowTheirRulesAndPolicy(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	ctx := context.Background()
	eb := eventbridge.NewFromConfig(srv.Config())
	must := mustOK(t)
	must(eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders"), Description: aws.String("order events")}))
	for _, name := range []string{"placed", "shipped"} {
		must(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventBusName: aws.String("orders"),
			EventPattern: aws.String(`{"source":["shop"]}`)}))
	}
	must(eb.PutPermission(ctx, &eventbridge.PutPermissionInput{EventBusName: aws.String("orders"), Action: aws.String("events:PutEvents"),
		Principal: aws.String("111122223333"), StatementId: aws.String("partner")}))
	var view struct {
		Items []struct {
			Name, ARN, Description, Policy string
			Rules                          int
		}
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/buses", &view); code != 200 || len(view.Items) != 2 {
		t.Fatalf("buses view: %d %+v", code, view)
	}
	byName := map[string]int{}
	for i, b := range view.Items {
		byName[b.Name] = i
	}
	def, orders := view.Items[byName["default"]], view.Items[byName["orders"]]
	if def.Name != "default" || def.Rules != 0 || def.Policy != "" {
		t.Errorf("default bus: %+v", def)
	}
	if orders.ARN != "arn:aws:events:us-east-1:000000000000:event-bus/orders" || orders.Rules != 2 || orders.Description != "order events" ||
		!strings.Contains(orders.Policy, `"Sid":"partner"`) || !strings.Contains(orders.Policy, "111122223333") {
		t.Errorf("orders bus: %+v", orders)
	}
}

type scheduleRow struct {
	Kind, Name, Group, Expression, State string
	Next                                 *time.Time
}

func schedulesByName(t *testing.T, base string) map[string]scheduleRow {
	t.Helper()
	var view struct{ Items []scheduleRow }
	if code := getJSON(t, base+"/_wharf/api/resources/schedules", &view); code != 200 {
		t.Fatalf("schedules view: %d", code)
	}
	m := map[string]scheduleRow{}
	for _, s := range view.Items {
		m[s.Kind+":"+s.Name] = s
	}
	return m
}

// The next firing of a scheduled rule and of a Scheduler schedule follows
// wharf's clock: an hour ahead of its now, and an hour later once the clock
// has moved an hour and the schedule has fired.
func TestSchedulesShowTheirNextFiringByWharfsClock(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	// Start a minute into an hour, so that no hour ends in real time while
	// the test runs: the top-of-hour schedule fires only when the clock is
	// moved. (Run within a second of an hour's end, it fired on its own
	// and then again at the move, an hour past the next firing it expects.)
	now := readClock(t, srv.URL).Now
	moveClock(t, srv.URL, map[string]string{"set": now.Truncate(time.Hour).Add(time.Hour + time.Minute).Format(time.RFC3339Nano)})
	ctx := context.Background()
	eb, sc, sq := eventbridge.NewFromConfig(srv.Config()), scheduler.NewFromConfig(srv.Config()), sqs.NewFromConfig(srv.Config())
	must := mustOK(t)
	must(sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ticks")}))
	must(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("hourly"), ScheduleExpression: aws.String("rate(1 hour)")}))
	must(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("off"), ScheduleExpression: aws.String("rate(5 minutes)"), State: "DISABLED"}))
	must(sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("top-of-hour"), ScheduleExpression: aws.String("cron(0 * * * ? *)"),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target:             &schedtypes.Target{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:ticks"), RoleArn: aws.String("arn:aws:iam::000000000000:role/s")}}))
	var clk clockState
	getJSON(t, srv.URL+"/_wharf/clock", &clk)

	s := schedulesByName(t, srv.URL)
	rule, sched, off := s["rule:hourly"], s["schedule:top-of-hour"], s["rule:off"]
	if rule.Next == nil || rule.Expression != "rate(1 hour)" || rule.Group != "default" || !rule.Next.After(clk.Now) || rule.Next.Sub(clk.Now) > time.Hour {
		t.Fatalf("rule hourly at clock %s: %+v", clk.Now, rule)
	}
	if sched.Next == nil || sched.Group != "default" || sched.Next.Minute() != 0 || sched.Next.Second() != 0 || !sched.Next.After(clk.Now) ||
		sched.Next.Sub(clk.Now) > time.Hour {
		t.Fatalf("schedule top-of-hour at clock %s: %+v", clk.Now, sched)
	}
	if off.State != "DISABLED" || off.Next != nil {
		t.Errorf("a disabled rule has no next firing: %+v", off)
	}

	moveClock(t, srv.URL, map[string]string{"advance": "1h"})
	eventually(t, 15*time.Second, func() string {
		s := schedulesByName(t, srv.URL)
		r2, s2 := s["rule:hourly"], s["schedule:top-of-hour"]
		if r2.Next == nil || s2.Next == nil || !r2.Next.Equal(rule.Next.Add(time.Hour)) || !s2.Next.Equal(sched.Next.Add(time.Hour)) {
			return fmt.Sprintf("after +1h, next firings %v and %v, want an hour after %v and %v", r2.Next, s2.Next, rule.Next, sched.Next)
		}
		return ""
	})
}

func TestTestEventPatternBox(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	event := `{"id":"1","account":"000000000000","source":"aws.s3","time":"2026-12-06T10:00:00Z","region":"us-east-1",` +
		`"detail-type":"Object Created","resources":[],"detail":{"bucket":{"name":"photos"},"object":{"key":"cat.jpg","size":4}}}`
	for _, c := range []struct {
		pattern, event string
		code           int
		match          bool
		errCode        string
	}{
		{`{"source":["aws.s3"],"detail":{"bucket":{"name":["photos"]}}}`, event, 200, true, ""},
		{`{"detail":{"object":{"key":[{"suffix":".png"}]}}}`, event, 200, false, ""},
		{`{"detail":{"object":{"size":[{"numeric":["<",10]}]}}}`, event, 200, true, ""},
		{`{"source":"aws.s3"}`, event, 400, false, "InvalidEventPatternException"},
		{`{"source":["aws.s3"]}`, `{"source":"aws.s3"}`, 400, false, "ValidationException"},
	} {
		var out struct {
			Match bool
			Code  string
		}
		code := postJSON(t, srv.URL+"/_wharf/api/rules/test-pattern", map[string]string{"pattern": c.pattern, "event": c.event}, &out)
		if code != c.code || out.Match != c.match || out.Code != c.errCode {
			t.Errorf("pattern %s: %d %+v, want %d match=%v code=%q", c.pattern, code, out, c.code, c.match, c.errCode)
		}
	}
}

// A scaled service: the clusters and services views show its counts and
// deployment, the tasks' log lines come from their awslogs streams,
// registering a minimum above its count is a scaling activity, and the
// service plot draws the queue its policy's alarm watches against its
// running tasks.
func TestServicesTasksLogsScalingAndPlots(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t, "--runtime", "process")
	cfg := srv.Config()
	ctx := context.Background()
	ec, sq, cw, as := ecs.NewFromConfig(cfg), sqs.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg), aas.NewFromConfig(cfg)
	must := mustOK(t)
	must(sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")}))
	must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("worker"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"), Essential: aws.Bool(true),
			Command: []string{"-c", "echo worker up; echo waiting for jobs; exec sleep 120"},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/ecs/worker", "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	must(ec.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("work"), ServiceName: aws.String("workers"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}))
	const resource = "service/work/workers"
	must(as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(resource),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(3)}))
	pol, err := as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(resource),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyName: aws.String("backlog"), PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity,
			StepAdjustments: []aastypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	must(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("jobs-backlog"), Namespace: aws.String("AWS/SQS"),
		MetricName: aws.String("ApproximateNumberOfMessagesVisible"), Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("jobs")}},
		Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(100),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{*pol.PolicyARN}}))

	type svcRow struct {
		Name, Cluster, Status, TaskDefinition string
		Desired, Running, Pending             int32
		Deployments                           []struct {
			Status, RolloutState, TaskDefinition string
			Desired, Running                     int32
		}
		Scaling *struct {
			ResourceID string
			Min, Max   int32
			Policies   []string
		}
	}
	eventually(t, 30*time.Second, func() string {
		var view struct{ Items []svcRow }
		getJSON(t, srv.URL+"/_wharf/api/resources/services", &view)
		if len(view.Items) != 1 {
			return fmt.Sprintf("services view: %+v", view)
		}
		s := view.Items[0]
		if s.Name != "workers" || s.Cluster != "work" || s.Desired != 2 || s.Running != 2 || len(s.Deployments) != 1 ||
			s.Deployments[0].Status != "PRIMARY" || s.Deployments[0].Running != 2 || s.TaskDefinition != "worker:1" ||
			s.Scaling == nil || s.Scaling.Min != 2 || s.Scaling.Max != 3 || len(s.Scaling.Policies) != 1 || s.Scaling.Policies[0] != "backlog (StepScaling)" {
			return fmt.Sprintf("services view: %+v (scaling %+v)", s, s.Scaling)
		}
		return ""
	})
	var clusters struct {
		Items []struct {
			Name                             string
			Running, Pending, ActiveServices int32
		}
	}
	if getJSON(t, srv.URL+"/_wharf/api/resources/clusters", &clusters); len(clusters.Items) != 1 || clusters.Items[0].Name != "work" ||
		clusters.Items[0].Running != 2 || clusters.Items[0].ActiveServices != 1 {
		t.Errorf("clusters view: %+v", clusters)
	}

	var acts struct {
		Items []struct{ ResourceID, Description, Cause, Status string }
	}
	getJSON(t, srv.URL+"/_wharf/api/resources/scaling-activities?resource="+url.QueryEscape(resource), &acts)
	if len(acts.Items) == 0 || acts.Items[0].ResourceID != resource || acts.Items[0].Cause != "minimum capacity was set to 2" || acts.Items[0].Status != "Successful" {
		t.Errorf("scaling activities: %+v", acts)
	}

	list, err := ec.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("work"), ServiceName: aws.String("workers")})
	if err != nil || len(list.TaskArns) == 0 {
		t.Fatalf("tasks: %v %+v", err, list)
	}
	task := list.TaskArns[0]
	eventually(t, 20*time.Second, func() string {
		var logs struct {
			Items []struct {
				Container, Group, Stream string
				Lines                    []struct{ Message string }
			}
		}
		getJSON(t, srv.URL+"/_wharf/api/resources/logs?task="+url.QueryEscape(task), &logs)
		if len(logs.Items) != 1 || logs.Items[0].Group != "/ecs/worker" || logs.Items[0].Stream != "ecs/main/"+task[strings.LastIndex(task, "/")+1:] ||
			len(logs.Items[0].Lines) != 2 || logs.Items[0].Lines[0].Message != "worker up" || logs.Items[0].Lines[1].Message != "waiting for jobs" {
			return fmt.Sprintf("logs of %s: %+v", task, logs)
		}
		return ""
	})
	var bad apiError
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/logs?task=nope", &bad); code != 400 || bad.Code != "InvalidParameterException" {
		t.Errorf("logs of a bad task: %d %+v", code, bad)
	}

	// Both lines of the plot have points: the queue's depth (its metrics
	// are put every second) and the two running tasks.
	type plot struct {
		Title     string
		Period    int32
		Threshold *float64
		Series    []struct {
			Label, Axis string
			Points      []struct {
				T time.Time
				V float64
			}
		}
	}
	eventually(t, 30*time.Second, func() string {
		var p plot
		getJSON(t, srv.URL+"/_wharf/api/plots/service?cluster=work&service=workers&minutes=5", &p)
		if p.Period != 5 || len(p.Series) != 2 || p.Series[0].Label != "AWS/SQS ApproximateNumberOfMessagesVisible QueueName=jobs" ||
			p.Series[0].Axis != "left" || p.Series[1].Label != "running tasks" || p.Series[1].Axis != "right" ||
			len(p.Series[0].Points) == 0 || len(p.Series[1].Points) == 0 || p.Series[1].Points[len(p.Series[1].Points)-1].V != 2 {
			return fmt.Sprintf("service plot: %+v", p)
		}
		return ""
	})
	var p plot
	getJSON(t, srv.URL+"/_wharf/api/plots/alarm?name=jobs-backlog", &p)
	if p.Threshold == nil || *p.Threshold != 100 || p.Period != 60 || len(p.Series) != 1 ||
		p.Series[0].Label != "AWS/SQS ApproximateNumberOfMessagesVisible (Maximum)" || len(p.Series[0].Points) == 0 {
		t.Errorf("alarm plot: %+v", p)
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/plots/alarm?name=nosuch", &bad); code != 404 {
		t.Errorf("plot of a missing alarm: %d %+v", code, bad)
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/plots/service?cluster=work&service=workers&minutes=0", &bad); code != 400 {
		t.Errorf("a plot of no minutes: %d %+v", code, bad)
	}
}

// An alarm's history lists its state changes, newest first.
func TestAlarmHistory(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(srv.Config())
	must := mustOK(t)
	must(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("errors-high"), Namespace: aws.String("App"),
		MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}))
	must(cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("errors-high"), StateValue: cwtypes.StateValueAlarm,
		StateReason: aws.String("testing the pager")}))
	var h struct {
		Items []struct{ Type, Summary, Data string }
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/alarm-history?alarm=errors-high", &h); code != 200 {
		t.Fatalf("alarm history: %d", code)
	}
	found := false
	for _, it := range h.Items {
		if it.Type == "StateUpdate" && strings.Contains(it.Summary, "to ALARM") {
			found = true
		}
	}
	if !found {
		t.Errorf("no state update to ALARM in the history: %+v", h)
	}
	var bad apiError
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/alarm-history", &bad); code != 400 {
		t.Errorf("history without an alarm: %d %+v", code, bad)
	}
}
