package ecs_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/runtime/docker"
	"github.com/wharf-dev/wharf/internal/wharftest"
	"github.com/wharf-dev/wharf/test/images"
)

// startWharf runs wharf on a free loopback port with the given runtime and
// strict authentication, so that what a task's container sends must be signed
// with its role's real temporary credentials.
func startWharf(t *testing.T, rt string) aws.Config {
	t.Helper()
	cfg := wharftest.Start(t, "--auth", "strict", "--runtime", rt).Config()
	cfg.RetryMaxAttempts = 1
	return cfg
}

// taskImage returns the test program's image for the runtime: an image in the
// engine for docker (skipped without an engine, failed in CI), a host
// executable for process.
func taskImage(t *testing.T, rt string) string {
	t.Helper()
	if rt == "process" {
		bin, err := images.Binary("task", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return bin
	}
	if _, ok := docker.Available(context.Background()); !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Docker engine answers (CI requires one: dockerd --bridge=none --iptables=false)")
		}
		t.Skip("no Docker engine answers at DOCKER_HOST or " + docker.DefaultSocket + "; start dockerd to run this test")
	}
	ref, err := images.Docker("task")
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// waitStopped polls DescribeTasks until the task is STOPPED.
func waitStopped(t *testing.T, c *ecs.Client, arn string) ecstypes.Task {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := c.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) == 1 && aws.ToString(out.Tasks[0].LastStatus) == "STOPPED" {
			return out.Tasks[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s not STOPPED before the deadline: %+v", arn, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const trustECSTasks = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// TestTaskUsesItsRoleThroughTheSDKDefaultChain runs, in a real container, a
// program that uses the AWS SDK's default configuration only: it must find
// wharf (AWS_ENDPOINT_URL), its task role's credentials (container credentials
// provider) and send a message to SQS under strict SigV4 verification.
func TestTaskUsesItsRoleThroughTheSDKDefaultChain(t *testing.T) {
	t.Parallel()
	for _, rt := range []string{"docker", "process"} {
		t.Run(rt, func(t *testing.T) {
			image := taskImage(t, rt)
			cfg := startWharf(t, rt)
			ctx := context.Background()
			ic, qc, ec, lc := iam.NewFromConfig(cfg), sqs.NewFromConfig(cfg), ecs.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
			role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("task-role"), AssumeRolePolicyDocument: aws.String(trustECSTasks)})
			if err != nil {
				t.Fatal(err)
			}
			q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("from-task")})
			if err != nil {
				t.Fatal(err)
			}
			td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
				Family: aws.String("sdk"), TaskRoleArn: role.Role.Arn, NetworkMode: ecstypes.NetworkModeHost,
				ContainerDefinitions: []ecstypes.ContainerDefinition{{
					Name: aws.String("main"), Image: aws.String(image), Essential: aws.Bool(true), Command: []string{"sdk", "from-task"},
					LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
						"awslogs-group": "/ecs/sdk", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}},
				}},
			})
			if err != nil {
				t.Fatal(err)
			}
			run, err := ec.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: td.TaskDefinition.TaskDefinitionArn, StartedBy: aws.String("sdk-test")})
			if err != nil {
				t.Fatal(err)
			}
			arn := aws.ToString(run.Tasks[0].TaskArn)
			id := arn[strings.LastIndexByte(arn, '/')+1:]
			task := waitStopped(t, ec, arn)
			if c := task.Containers[0]; aws.ToInt32(c.ExitCode) != 0 || task.StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
				ev, _ := lc.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/sdk"), LogStreamName: aws.String("ecs/main/" + id)})
				var out []string
				if ev != nil {
					for _, e := range ev.Events {
						out = append(out, aws.ToString(e.Message))
					}
				}
				t.Fatalf("task stopped with %s, exit %d, reason %q; output %q", task.StopCode, aws.ToInt32(c.ExitCode), aws.ToString(c.Reason), out)
			}
			msg, err := qc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5})
			if err != nil || len(msg.Messages) != 1 {
				t.Fatalf("receive = %+v, %v", msg, err)
			}
			want := "arn:aws:sts::000000000000:assumed-role/task-role/" + id
			if got := aws.ToString(msg.Messages[0].Body); got != want {
				t.Errorf("the task's identity was %q, want %q", got, want)
			}
			// awslogs: the container's stdout is in CloudWatch Logs.
			ev, err := lc.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/sdk"), LogStreamName: aws.String("ecs/main/" + id)})
			if err != nil || len(ev.Events) == 0 || aws.ToString(ev.Events[0].Message) != "identity "+want {
				t.Errorf("log events = %+v, %v", ev, err)
			}
		})
	}
}

// TestRuleRunsTaskWithInputOverrides: an EventBridge rule with an ECS target
// runs a task; the target's input overrides the command, and the task's
// non-zero exit code is what DescribeTasks reports.
func TestRuleRunsTaskWithInputOverrides(t *testing.T) {
	t.Parallel()
	image := taskImage(t, "docker")
	cfg := startWharf(t, "docker")
	ctx := context.Background()
	ec, eb := ecs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String("job"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String(image), Command: []string{"exit", "0"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("on-order"), EventPattern: aws.String(`{"source":["shop"]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("on-order"), Targets: []ebtypes.Target{{
		Id: aws.String("job"), Arn: aws.String("arn:aws:ecs:us-east-1:000000000000:cluster/default"),
		RoleArn:       aws.String("arn:aws:iam::000000000000:role/events"),
		EcsParameters: &ebtypes.EcsParameters{TaskDefinitionArn: td.TaskDefinition.TaskDefinitionArn, TaskCount: aws.Int32(1)},
		Input:         aws.String(`{"containerOverrides":[{"name":"main","command":["exit","5"]}]}`),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("shop"), DetailType: aws.String("order"), Detail: aws.String(`{"id":1}`)}}}); err != nil {
		t.Fatal(err)
	}
	var arn string
	deadline := time.Now().Add(60 * time.Second)
	for arn == "" {
		for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
			l, err := ec.ListTasks(ctx, &ecs.ListTasksInput{StartedBy: aws.String("events-rule/on-order"), DesiredStatus: status})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.TaskArns) > 0 {
				arn = l.TaskArns[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the rule started no task")
		}
		time.Sleep(50 * time.Millisecond)
	}
	task := waitStopped(t, ec, arn)
	if c := task.Containers[0]; aws.ToInt32(c.ExitCode) != 5 || task.StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
		t.Errorf("task = %s, container exit %d", task.StopCode, aws.ToInt32(c.ExitCode))
	}
}
