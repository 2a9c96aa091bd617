package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// browserTools finds node, Debian's Chromium and playwright-core (which
// .ci/run installs into ~/.cache/wharf/playwright). In CI their absence
// fails the test; elsewhere it is skipped, saying what to install.
func browserTools(t *testing.T) (node, playwright string) {
	t.Helper()
	dir := os.Getenv("WHARF_PLAYWRIGHT")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "wharf", "playwright", "node_modules", "playwright-core")
	}
	chromium := os.Getenv("WHARF_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	node, err := exec.LookPath("node")
	var missing []string
	if err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, "chromium (apt-get install chromium)")
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		missing = append(missing, "playwright-core (npm install --prefix ~/.cache/wharf/playwright playwright-core@1)")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("the console's browser test needs %s; .ci/run installs them", strings.Join(missing, ", "))
		}
		t.Skipf("browser test needs %s", strings.Join(missing, ", "))
	}
	return node, dir
}

// TestConsoleShowsAnUploadsChainLive opens the console in Chromium and runs
// architecture 1 while it is open: an upload that a rule sends to an ECS
// task (which writes a DynamoDB item with the aws CLI) and to a queue. The
// page must show the chain appear live and open it as a causal chain, read
// the task's log lines, purge the queue, send a message and peek it, query
// the table, test events against the rule's pattern, download the object, plot a scaled service and an alarm, move
// the clock an hour (a scheduled rule's next firing follows) and reset.
// Screenshots go to $WHARF_ARTIFACTS (or the test's temporary directory).
func TestConsoleShowsAnUploadsChainLive(t *testing.T) {
	t.Parallel()
	node, pw := browserTools(t)
	cli := "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the aws CLI v2 at %s is needed (CI installs it): %v", cli, err)
	}
	srv := wharftest.Start(t, "--runtime", "process")
	cfg := srv.Config()
	ctx, cancel := context.WithTimeout(context.Background(), 110*time.Second)
	defer cancel()
	must := mustOK(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	eb, sq := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ddb, ec, cw := dynamodb.NewFromConfig(cfg), ecs.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}))
	must(s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("photos"),
		NotificationConfiguration: &s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}}}))
	must(sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("thumbs")}))
	must(ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("results"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}))
	must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	logTo := func(prefix string) *ecstypes.LogConfiguration {
		return &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
			"awslogs-group": "/ecs/" + prefix, "awslogs-stream-prefix": prefix, "awslogs-create-group": "true"}}
	}
	// Architecture 1's task: it names the object the event carried and
	// writes its item with the aws CLI (v2 before 2.13 needs --endpoint-url).
	thumb, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("thumbnail"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("/bin/sh"), Essential: aws.Bool(true),
			Environment: []ecstypes.KeyValuePair{{Name: aws.String("AWS_ACCESS_KEY_ID"), Value: aws.String("test")},
				{Name: aws.String("AWS_SECRET_ACCESS_KEY"), Value: aws.String("test")}},
			Command: []string{"-c", `echo "thumbnailing $KEY"; ` + cli + ` --endpoint-url "$AWS_ENDPOINT_URL" dynamodb put-item --table-name results ` +
				`--item "{\"id\": {\"S\": \"$KEY\"}}" && echo "item $KEY written"`},
			LogConfiguration: logTo("thumbnail")}}})
	if err != nil {
		t.Fatal(err)
	}
	must(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("on-photo"),
		EventPattern: aws.String(`{"source":["aws.s3"],"detail":{"bucket":{"name":["photos"]}}}`)}))
	must(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("on-photo"), Targets: []ebtypes.Target{
		{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:thumbs")},
		{Id: aws.String("task"), Arn: aws.String("arn:aws:ecs:us-east-1:000000000000:cluster/work"),
			RoleArn:       aws.String("arn:aws:iam::000000000000:role/events"),
			EcsParameters: &ebtypes.EcsParameters{TaskDefinitionArn: thumb.TaskDefinition.TaskDefinitionArn},
			InputTransformer: &ebtypes.InputTransformer{InputPathsMap: map[string]string{"key": "$.detail.object.key"},
				InputTemplate: aws.String(`{"containerOverrides": [{"name": "app", "environment": [{"name": "KEY", "value": <key>}]}]}`)}},
	}}))
	must(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("hourly"), ScheduleExpression: aws.String("rate(1 hour)")}))

	// A task that failed, a topic, a scaled service, an alarm with data.
	fails, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("fails"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
			Essential: aws.Bool(true), Command: []string{"-c", "exit 3"}}}})
	if err != nil {
		t.Fatal(err)
	}
	must(ec.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("work"), TaskDefinition: fails.TaskDefinition.TaskDefinitionArn}))
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	must(sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:thumbs")}))
	worker, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("worker"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"), Essential: aws.Bool(true),
			Command: []string{"-c", "exec sleep 300"}}}})
	if err != nil {
		t.Fatal(err)
	}
	must(ec.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("work"), ServiceName: aws.String("workers"),
		TaskDefinition: worker.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}))
	as := aas.NewFromConfig(cfg)
	must(as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/work/workers"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(4)}))
	pol, err := as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String("service/work/workers"), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		PolicyName: aws.String("backlog"), PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity,
			StepAdjustments: []aastypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	must(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("thumbs-backlog"), Namespace: aws.String("AWS/SQS"),
		MetricName: aws.String("ApproximateNumberOfMessagesVisible"), Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("thumbs")}},
		Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(100),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{*pol.PolicyARN}}))
	must(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("errors-high"), Namespace: aws.String("App"),
		MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}))
	var clk clockState
	getJSON(t, srv.URL+"/_wharf/clock", &clk)
	for i, v := range []float64{2, 4, 9} { // by wharf's clock, so the plot's window holds them
		must(cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("Errors"), Value: aws.Float64(v), Timestamp: aws.Time(clk.Now.Add(time.Duration(i-2) * time.Minute))}}}))
	}

	shots := os.Getenv("WHARF_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, "testdata/console.cjs", pw, srv.URL, shots)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "READY" {
		cmd.Wait()
		t.Fatalf("the console never went live: %q\n%s", lines.Text(), stderr.String())
	}
	// Only now, with the page open, does the upload happen: what the page
	// shows arrived live.
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("cat.jpg"), Body: strings.NewReader("meow")}); err != nil {
		t.Fatal(err)
	}
	var chain, seen string
	for lines.Scan() {
		if c, ok := strings.CutPrefix(lines.Text(), "CHAIN "); ok {
			chain = c
		}
		if c, ok := strings.CutPrefix(lines.Text(), "VIEWS "); ok {
			seen = c
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("browser: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"cat.jpg", "message sent to queue thumbs", "RunTask", "ContainerExited"} {
		if !strings.Contains(chain, want) {
			t.Errorf("the chain the console shows has no %q: %s", want, chain)
		}
	}
	var views struct {
		QueueAfterPurge, RuleTargets, TableItems, Task, Alarm, TaskLog   string
		PatternMatch, PatternMiss, PatternError, Download, Subscriptions string
		ServiceRow, ScalingCause, ServicePlot, AlarmPlot, AlarmHistory   string
		ClockBefore, ClockAfter, NextBefore, NextAfter, AfterReset       string
		TimelineAfterReset                                               string
		Sent, Peeked, QueueAfterPeek, QueryCount, QueryItems             string
		BusRules                                                         string
	}
	if err := json.Unmarshal([]byte(seen), &views); err != nil {
		t.Fatalf("the resource views: %q: %v", seen, err)
	}
	t.Logf("what the console showed: %+v", views)
	check := func(what string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s: the console showed %+v", what, views)
		}
	}
	check("the queue purged", views.QueueAfterPurge == "0")
	check("a message sent from the form", strings.HasPrefix(views.Sent, "sent "))
	check("the message peeked and still in the queue", strings.Contains(views.Peeked, "hello from the console") &&
		strings.Contains(views.Peeked, strings.TrimPrefix(views.Sent, "sent ")) && views.QueueAfterPeek == "1")
	check("the table queried by its partition key", views.QueryCount == "1" && strings.Contains(views.QueryItems, `{"S":"cat.jpg"}`))
	check("the rule's targets", strings.Contains(views.RuleTargets, "arn:aws:sqs:us-east-1:000000000000:thumbs") &&
		strings.Contains(views.RuleTargets, "arn:aws:ecs:us-east-1:000000000000:cluster/work"))
	check("the task's item in the table", views.TableItems == "1")
	check("the failed task", strings.Contains(views.Task, "STOPPED") && strings.Contains(views.Task, "exit 3"))
	check("the alarm", strings.Contains(views.Alarm, "GreaterThanThreshold 5"))
	check("the task's log lines", strings.Contains(views.TaskLog, "thumbnailing cat.jpg") && strings.Contains(views.TaskLog, "item cat.jpg written"))
	check("the pattern tests", views.PatternMatch == "matches" && views.PatternMiss == "does not match" &&
		strings.HasPrefix(views.PatternError, "ValidationException"))
	check("the download", views.Download == "meow")
	check("the topic's subscription", strings.Contains(views.Subscriptions, "sqs → arn:aws:sqs:us-east-1:000000000000:thumbs"))
	check("the default bus's two rules (on-photo, hourly)", views.BusRules == "2")
	check("the service row", strings.Contains(views.ServiceRow, "PRIMARY worker:1: 2/2 running"))
	check("the scaling activity", strings.Contains(views.ScalingCause, "minimum capacity was set to 2"))
	check("the service plot", strings.HasPrefix(views.ServicePlot, "AWS/SQS ApproximateNumberOfMessagesVisible QueueName=thumbs:") &&
		strings.Contains(views.ServicePlot, "|running tasks:"))
	check("the alarm plot", strings.Contains(views.AlarmPlot, "threshold=5") && strings.Contains(views.AlarmPlot, "App Errors (Sum):"))
	check("the alarm history", strings.Contains(views.AlarmHistory, "ConfigurationUpdate") &&
		strings.Contains(views.AlarmHistory, "StateUpdateAlarm updated from INSUFFICIENT_DATA to "))
	before, err1 := time.Parse(time.RFC3339, views.NextBefore)
	after, err2 := time.Parse(time.RFC3339Nano, views.NextAfter)
	check("the next firing moved an hour with the clock", err1 == nil && err2 == nil && after.Sub(before) == time.Hour)
	check("the clock's +1h", !strings.Contains(views.ClockBefore, "(+") && strings.Contains(views.ClockAfter, "(+1h"))
	check("the reset", views.AfterReset == "0" && strings.Contains(views.TimelineAfterReset, "reset every service"))
	t.Logf("screenshots in %s", shots)
}
