package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

type resetResult struct {
	Services     []string `json:"services"`
	Keys         int      `json:"keys"`
	TasksStopped int      `json:"tasksStopped"`
	Error        string   `json:"error"`
}

// processWith reports whether a process whose command line contains arg runs.
func processWith(arg string) bool {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), arg) {
			return true
		}
	}
	return false
}

// runUploadToQueue is architecture 1's first hops: an upload to a bucket
// becomes an event that a rule sends to a queue. It returns the message.
func runUploadToQueue(t *testing.T, cfg aws.Config) string {
	t.Helper()
	ctx := context.Background()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	eb, sq := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("uploads")}))
	must(s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("uploads"),
		NotificationConfiguration: &s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}}}))
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("work")})
	if err != nil {
		t.Fatal(err)
	}
	must(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("on-upload"),
		EventPattern: aws.String(`{"source":["aws.s3"],"detail-type":["Object Created"]}`)}))
	must(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("on-upload"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:work")}}}))
	must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("a.txt"), Body: strings.NewReader("hello")}))
	rm, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 10})
	if err != nil || len(rm.Messages) != 1 {
		t.Fatalf("the upload's event never reached the queue: %v %+v", err, rm)
	}
	return *rm.Messages[0].Body
}

func TestResetEmptiesEveryServiceAndStopsTasksUnderLoad(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t, "--runtime", "process")
	cfg := srv.Config()
	ctx := context.Background()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sq, tp, eb := sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	sc, ddb, ec := scheduler.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	cw, lg, im := cloudwatch.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// State in every service, and a task running.
	runUploadToQueue(t, cfg)
	must(tp.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")}))
	// Nightly, from 2199: a schedule that cannot fire while the test runs,
	// whatever the time of day (a firing during a reset has its own test,
	// the app package's TestAScheduleFiringDuringAResetDoesNotSurviveIt).
	must(sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("nightly"), ScheduleExpression: aws.String("cron(0 2 * * ? 2199)"),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target:             &schedtypes.Target{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:work"), RoleArn: aws.String("arn:aws:iam::000000000000:role/s")}}))
	must(ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("results"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}))
	must(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Namespace: aws.String("App"), MetricName: aws.String("E"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}))
	must(lg.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/app")}))
	must(im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("task"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))
	must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("sleeper"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
			Essential: aws.Bool(true), Command: []string{"-c", "exec sleep 4242"}}}})
	if err != nil {
		t.Fatal(err)
	}
	must(ec.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("work"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn}))
	waitFor(t, 20*time.Second, "the task's process to run", func() bool { return processWith("sleep 4242") })

	// Clients keep working while the reset runs: each request is answered
	// before or after it, never fails for it.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served, failed atomic.Int64
	var firstFailure atomic.Value
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("load")})
				if err == nil {
					_, err = sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")})
				}
				if err == nil {
					_, err = sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 2})
				}
				var ae smithy.APIError
				if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "AWS.SimpleQueueService.NonExistentQueue") {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				}
				served.Add(1)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	var res resetResult
	code := postJSON(t, srv.URL+"/_wharf/reset", nil, &res)
	close(stop)
	wg.Wait()
	if code != http.StatusOK {
		t.Fatalf("POST /_wharf/reset: %d %+v", code, res)
	}
	if res.TasksStopped != 1 || res.Keys == 0 {
		t.Errorf("reset said %+v, want one task stopped and records deleted", res)
	}
	t.Logf("%d requests answered while the reset ran", served.Load())
	if failed.Load() > 0 {
		t.Errorf("%d of %d requests during the reset failed; first: %v", failed.Load(), served.Load(), firstFailure.Load())
	}
	if processWith("sleep 4242") {
		t.Error("the task's process still runs after the reset")
	}

	// Everything is gone (the load's queue may have been made again after).
	buckets, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(buckets.Buckets) != 0 {
		t.Errorf("buckets after reset: %v %+v", err, buckets)
	}
	if qs, err := sq.ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil || len(qs.QueueUrls) > 1 || len(qs.QueueUrls) == 1 && !strings.HasSuffix(qs.QueueUrls[0], "/load") {
		t.Errorf("queues after reset: %v %+v", err, qs)
	}
	if ts, err := tp.ListTopics(ctx, &sns.ListTopicsInput{}); err != nil || len(ts.Topics) != 0 {
		t.Errorf("topics after reset: %v %+v", err, ts)
	}
	if rs, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{}); err != nil || len(rs.Rules) != 0 {
		t.Errorf("rules after reset: %v %+v", err, rs)
	}
	if ss, err := sc.ListSchedules(ctx, &scheduler.ListSchedulesInput{}); err != nil || len(ss.Schedules) != 0 {
		t.Errorf("schedules after reset: %v %+v", err, ss)
	}
	if tb, err := ddb.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil || len(tb.TableNames) != 0 {
		t.Errorf("tables after reset: %v %+v", err, tb)
	}
	if cl, err := ec.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil || len(cl.ClusterArns) != 0 {
		t.Errorf("clusters after reset: %v %+v", err, cl)
	}
	if al, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil || len(al.MetricAlarms) != 0 {
		t.Errorf("alarms after reset: %v %+v", err, al)
	}
	if gs, err := lg.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}); err != nil || len(gs.LogGroups) != 0 {
		t.Errorf("log groups after reset: %v %+v", err, gs)
	}
	if rl, err := im.ListRoles(ctx, &iam.ListRolesInput{}); err != nil || len(rl.Roles) != 0 {
		t.Errorf("roles after reset: %v %+v", err, rl)
	}

	// The same architecture runs again on the emptied wharf.
	if body := runUploadToQueue(t, cfg); !strings.Contains(body, `"a.txt"`) {
		t.Errorf("after the reset the upload's event is %s", body)
	}
}

func TestResetOfOneServiceLeavesTheOthers(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	runUploadToQueue(t, cfg)

	var res resetResult
	if code := postJSON(t, srv.URL+"/_wharf/reset?service=sqs", nil, &res); code != http.StatusOK || len(res.Services) != 1 || res.Services[0] != "sqs" {
		t.Fatalf("reset sqs: %d %+v", code, res)
	}
	if qs, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil || len(qs.QueueUrls) != 0 {
		t.Errorf("queues after resetting sqs: %v %+v", err, qs)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if b, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(b.Buckets) != 1 {
		t.Errorf("buckets after resetting only sqs: %v %+v", err, b)
	}
	if rs, err := eventbridge.NewFromConfig(cfg).ListRules(ctx, &eventbridge.ListRulesInput{}); err != nil || len(rs.Rules) != 1 {
		t.Errorf("rules after resetting only sqs: %v %+v", err, rs)
	}
	if code := postJSON(t, srv.URL+"/_wharf/reset?service=nosuch", nil, &res); code != http.StatusBadRequest || !strings.Contains(res.Error, "sqs") {
		t.Errorf("reset of an unknown service: %d %+v, want 400 naming the services", code, res)
	}
}

// Resetting ECS alone deletes its services too: none is left to start a
// replacement for the tasks the reset stops.
func TestResetOfECSDeletesItsServices(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t, "--runtime", "process")
	ctx := context.Background()
	ec := ecs.NewFromConfig(srv.Config())
	must := mustOK(t)
	must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("sleeper"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
			Essential: aws.Bool(true), Command: []string{"-c", "exec sleep 120"}}}})
	if err != nil {
		t.Fatal(err)
	}
	must(ec.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("work"), ServiceName: aws.String("sleepers"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}))
	eventually(t, 20*time.Second, func() string {
		d, err := ec.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("work"), Services: []string{"sleepers"}})
		if err != nil || len(d.Services) != 1 || d.Services[0].RunningCount != 1 {
			return fmt.Sprintf("service sleepers never ran its task: %v %+v", err, d)
		}
		return ""
	})
	var res resetResult
	if code := postJSON(t, srv.URL+"/_wharf/reset?service=ecs", nil, &res); code != http.StatusOK || res.TasksStopped != 1 {
		t.Fatalf("reset ecs: %d %+v", code, res)
	}
	must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	if l, err := ec.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("work")}); err != nil || len(l.ServiceArns) != 0 {
		t.Errorf("services after resetting ecs: %v %+v", err, l)
	}
	time.Sleep(2 * time.Second) // a service left behind would have started a task by now
	if l, err := ec.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("work")}); err != nil || len(l.TaskArns) != 0 {
		t.Errorf("tasks after resetting ecs: %v %+v", err, l)
	}
}

// A full reset runs the init hooks again, before it answers: wharf is left
// as a first start would leave it, with what the hooks make. A reset of one
// service does not run them.
func TestFullResetRunsTheInitHooksAgain(t *testing.T) {
	t.Parallel()
	cli := "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the aws CLI v2 at %s is needed (CI installs it): %v", cli, err)
	}
	hooks := t.TempDir()
	runs := filepath.Join(t.TempDir(), "runs")
	// aws CLI v2 before 2.13 ignores AWS_ENDPOINT_URL: pass it explicitly.
	if err := os.WriteFile(filepath.Join(hooks, "10-queue.sh"), []byte(`set -e
echo ran >> `+runs+`
`+cli+` --endpoint-url "$AWS_ENDPOINT_URL" sqs create-queue --queue-name from-hook
`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := wharftest.Start(t, "--init-dir", hooks)
	ctx := context.Background()
	sq := sqs.NewFromConfig(srv.Config())
	eventually(t, 60*time.Second, func() string {
		if _, err := sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("from-hook")}); err != nil {
			return fmt.Sprintf("the hook's queue at start: %v", err)
		}
		return ""
	})
	must := mustOK(t)
	must(sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("mine")}))

	var res struct {
		resetResult
		InitHooks     []string
		InitHookError string
	}
	if code := postJSON(t, srv.URL+"/_wharf/reset", nil, &res); code != http.StatusOK || len(res.InitHooks) != 1 || res.InitHooks[0] != "10-queue.sh" || res.InitHookError != "" {
		t.Fatalf("full reset: %d %+v", code, res)
	}
	qs, err := sq.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil || len(qs.QueueUrls) != 1 || !strings.HasSuffix(qs.QueueUrls[0], "/from-hook") {
		t.Errorf("queues once the reset answered: %v %+v, want only the hook's", err, qs)
	}

	res.InitHooks = nil
	if code := postJSON(t, srv.URL+"/_wharf/reset?service=sqs", nil, &res); code != http.StatusOK || len(res.InitHooks) != 0 {
		t.Fatalf("reset of sqs: %d %+v", code, res)
	}
	if qs, err := sq.ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil || len(qs.QueueUrls) != 0 {
		t.Errorf("queues after resetting sqs alone: %v %+v", err, qs)
	}
	if b, _ := os.ReadFile(runs); strings.Count(string(b), "ran") != 2 {
		t.Errorf("the hook ran %d times, want 2 (start and the full reset)", strings.Count(string(b), "ran"))
	}
}
