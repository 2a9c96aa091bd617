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

// TestConsoleShowsAnUploadsChainLive opens the console in Chromium, uploads
// an object that a rule sends to a queue, and checks that the chain appears
// live and opens as a causal chain. Screenshots go to $WHARF_ARTIFACTS (or
// the test's temporary directory).
func TestConsoleShowsAnUploadsChainLive(t *testing.T) {
	t.Parallel()
	node, pw := browserTools(t)
	srv := wharftest.Start(t, "--runtime", "process")
	cfg := srv.Config()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	eb, sq := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("photos"),
		NotificationConfiguration: &s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("thumbs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("on-photo"),
		EventPattern: aws.String(`{"source":["aws.s3"],"detail":{"bucket":{"name":["photos"]}}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("on-photo"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:thumbs")}}}); err != nil {
		t.Fatal(err)
	}

	// What the resource views must show: a table, a task that failed, an alarm.
	ddb, ec, cw := dynamodb.NewFromConfig(cfg), ecs.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("results"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}); err != nil {
		t.Fatal(err)
	}
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("fails"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
			Essential: aws.Bool(true), Command: []string{"-c", "exit 3"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("work"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("errors-high"), Namespace: aws.String("App"),
		MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
		t.Fatal(err)
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
	if !strings.Contains(chain, "cat.jpg") || !strings.Contains(chain, "message sent to queue thumbs") {
		t.Errorf("the chain the console shows: %s", chain)
	}
	var views struct {
		QueueAfterPurge, RuleTargets, TableKey, Task, Alarm string
	}
	if err := json.Unmarshal([]byte(seen), &views); err != nil {
		t.Fatalf("the resource views: %q: %v", seen, err)
	}
	if views.QueueAfterPurge != "0" || !strings.Contains(views.RuleTargets, "arn:aws:sqs:us-east-1:000000000000:thumbs") ||
		views.TableKey != "id (HASH)" || !strings.Contains(views.Task, "STOPPED") || !strings.Contains(views.Task, "exit 3") ||
		!strings.Contains(views.Alarm, "GreaterThanThreshold 5") {
		t.Errorf("the resource views showed %+v", views)
	}
	t.Logf("screenshots in %s", shots)
}
