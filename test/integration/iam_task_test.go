package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestIAMEnforceATaskRoleLackingPutItemFailsTheUnmodifiedTask: the examples'
// task program (ordinary SDK code, run as a host process) reads an object
// and writes its counts to DynamoDB with its task role's credentials. With a
// role allowed s3:GetObject and dynamodb:PutItem it succeeds; with the same
// role minus dynamodb:PutItem its PutItem fails with DynamoDB's
// AccessDeniedException and AWS's message, and the task exits non-zero.
func TestIAMEnforceATaskRoleLackingPutItemFailsTheUnmodifiedTask(t *testing.T) {
	t.Parallel()
	// Built with the test's own flags, so the SDK packages come from the
	// build cache the test binary filled.
	bin := filepath.Join(t.TempDir(), "task")
	build := exec.Command("go", "build", "-o", bin, "../../examples/task")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/task: %v\n%s", err, out)
	}
	w := newDeliveryWorld(t)
	ctx := callTimeout(t)
	s3c, ddb, ec, lg := s3Client(w.cfg), dynamodb.NewFromConfig(w.cfg), ecs.NewFromConfig(w.cfg), cloudwatchlogs.NewFromConfig(w.cfg)
	w.must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("input")}))
	w.must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("input"), Key: aws.String("a.txt"), Body: strings.NewReader("one two\nthree\n")}))
	w.must(ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("results"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("object"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("object"), KeyType: ddbtypes.KeyTypeHash}}}))
	w.must(lg.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("tasks")}))
	w.must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	read := `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::input/*"}`
	put := `{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:us-east-1:` + acct + `:table/results"}`
	full := w.role("full", "ecs-tasks.amazonaws.com", `{"Version":"2012-10-17","Statement":[`+read+`,`+put+`]}`)
	narrow := w.role("narrow", "ecs-tasks.amazonaws.com", `{"Version":"2012-10-17","Statement":[`+read+`]}`)

	run := func(role string) ecstypes.Task {
		t.Helper()
		family := role[strings.LastIndexByte(role, '/')+1:]
		td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), TaskRoleArn: &role,
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: &bin, Essential: aws.Bool(true),
				Command: []string{"object"}, Environment: []ecstypes.KeyValuePair{
					{Name: aws.String("BUCKET"), Value: aws.String("input")}, {Name: aws.String("KEY"), Value: aws.String("a.txt")},
					{Name: aws.String("TABLE"), Value: aws.String("results")}},
				LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
					"awslogs-group": "tasks", "awslogs-region": "us-east-1", "awslogs-stream-prefix": family}}}}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := ec.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("work"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			d, err := ec.DescribeTasks(callTimeout(t), &ecs.DescribeTasksInput{Cluster: aws.String("work"), Tasks: []string{*out.Tasks[0].TaskArn}})
			if err != nil {
				t.Fatal(err)
			}
			if task := d.Tasks[0]; aws.ToString(task.LastStatus) == "STOPPED" {
				return task
			}
			if time.Now().After(deadline) {
				t.Fatalf("task with role %s not stopped within 60 s", role)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	logs := func(task ecstypes.Task) string {
		t.Helper()
		id := (*task.TaskArn)[strings.LastIndexByte(*task.TaskArn, '/')+1:]
		family := strings.TrimPrefix(aws.ToString(task.Group), "family:")
		out, err := lg.GetLogEvents(callTimeout(t), &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("tasks"),
			LogStreamName: aws.String(family + "/main/" + id), StartFromHead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, e := range out.Events {
			b.WriteString(aws.ToString(e.Message) + "\n")
		}
		return b.String()
	}

	bad := run(narrow)
	if c := bad.Containers[0].ExitCode; c == nil || *c == 0 {
		t.Fatalf("the task whose role lacks dynamodb:PutItem exited %v", c)
	}
	text := logs(bad)
	if !strings.Contains(text, "api error AccessDeniedException: User: arn:aws:sts::"+acct+":assumed-role/narrow/") ||
		!strings.Contains(text, " is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:"+acct+
			":table/results because no identity-based policy allows the dynamodb:PutItem action") {
		t.Fatalf("the task's output does not show DynamoDB's AccessDeniedException:\n%s", text)
	}
	got, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("results"),
		Key: map[string]ddbtypes.AttributeValue{"object": &ddbtypes.AttributeValueMemberS{Value: "s3://input/a.txt"}}})
	if err != nil || len(got.Item) != 0 {
		t.Fatalf("an item was written without dynamodb:PutItem: %v %v", got.Item, err)
	}

	good := run(full)
	if c := good.Containers[0].ExitCode; c == nil || *c != 0 {
		t.Fatalf("the task with the right role exited %v:\n%s", c, logs(good))
	}
	got, err = ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("results"),
		Key: map[string]ddbtypes.AttributeValue{"object": &ddbtypes.AttributeValueMemberS{Value: "s3://input/a.txt"}}})
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := got.Item["words"].(*ddbtypes.AttributeValueMemberN); !ok || w.Value != "3" {
		t.Fatalf("the task with the right role wrote %v", got.Item)
	}
}
