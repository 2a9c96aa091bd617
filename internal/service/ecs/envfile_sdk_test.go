package ecs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestEnvironmentFileFromS3ReachesTheTask uploads an env file to wharf's S3
// with the SDK and runs, on the process runtime, a task whose container
// prints its environment to CloudWatch Logs (awslogs): the file's variables
// are there, under the definition's environment. A task naming a missing
// object never starts, with AWS's ResourceInitializationError.
func TestEnvironmentFileFromS3ReachesTheTask(t *testing.T) {
	t.Parallel()
	image := taskImage(t, "process")
	cfg := startWharf(t, "process")
	ctx := context.Background()
	sc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ec, lc := ecs.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("task-config")}); err != nil {
		t.Fatal(err)
	}
	body := "# settings for the env task\nFROM_S3_FILE=hello from s3\nBOTH=from-file\n"
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("task-config"), Key: aws.String("app/settings.env"), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	register := func(family, arn string) *string {
		td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), NetworkMode: ecstypes.NetworkModeHost,
			ContainerDefinitions: []ecstypes.ContainerDefinition{{
				Name: aws.String("main"), Image: aws.String(image), Essential: aws.Bool(true), Command: []string{"env"},
				Environment:      []ecstypes.KeyValuePair{{Name: aws.String("BOTH"), Value: aws.String("explicit")}},
				EnvironmentFiles: []ecstypes.EnvironmentFile{{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String(arn)}},
				LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
					"awslogs-group": "/ecs/" + family, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return td.TaskDefinition.TaskDefinitionArn
	}
	runTask := func(td *string) (arn, id string) {
		run, err := ec.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: td})
		if err != nil || len(run.Tasks) != 1 {
			t.Fatalf("RunTask = %+v, %v", run, err)
		}
		arn = aws.ToString(run.Tasks[0].TaskArn)
		return arn, arn[strings.LastIndexByte(arn, '/')+1:]
	}

	arn, id := runTask(register("envfile", "arn:aws:s3:::task-config/app/settings.env"))
	task := waitStopped(t, ec, arn)
	if c := task.Containers[0]; aws.ToInt32(c.ExitCode) != 0 || task.StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
		t.Fatalf("task stopped with %s (%q), exit %d", task.StopCode, aws.ToString(task.StoppedReason), aws.ToInt32(c.ExitCode))
	}
	ev, err := lc.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/envfile"), LogStreamName: aws.String("ecs/main/" + id)})
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, e := range ev.Events {
		lines[aws.ToString(e.Message)] = true
	}
	for _, want := range []string{"FROM_S3_FILE=hello from s3", "BOTH=explicit"} {
		if !lines[want] {
			t.Errorf("the task's environment lacks %q; it printed %v", want, lines)
		}
	}
	if lines["BOTH=from-file"] {
		t.Error("the env file's BOTH replaced the definition's environment")
	}

	arn, _ = runTask(register("envfile-missing", "arn:aws:s3:::task-config/app/missing.env"))
	task = waitStopped(t, ec, arn)
	const reason = "ResourceInitializationError: failed to download env files: "
	if task.StopCode != ecstypes.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(aws.ToString(task.StoppedReason), reason) ||
		!strings.Contains(aws.ToString(task.StoppedReason), "NoSuchKey") {
		t.Errorf("task with a missing env file: stopCode %s, stoppedReason %q", task.StopCode, aws.ToString(task.StoppedReason))
	}
	if c := task.Containers[0]; c.ExitCode != nil || c.RuntimeId != nil {
		t.Errorf("the container ran: exit %v, runtime id %v", c.ExitCode, aws.ToString(c.RuntimeId))
	}
}
