package ecs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestFastExitingContainerLosesNoLogLines: a container that prints lines on
// stdout and stderr and exits at once has every one of them in CloudWatch
// Logs (the awslogs driver) by the time its task is STOPPED, in the order
// each stream wrote them, on Docker and on the process runtime.
func TestFastExitingContainerLosesNoLogLines(t *testing.T) {
	t.Parallel()
	const n = 3000
	for _, rt := range []string{"docker", "process"} {
		t.Run(rt, func(t *testing.T) {
			t.Parallel()
			image := taskImage(t, rt)
			cfg := startWharf(t, rt)
			ctx := context.Background()
			ec, lc := ecs.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
			td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
				Family: aws.String("chatty"), NetworkMode: ecstypes.NetworkModeHost,
				ContainerDefinitions: []ecstypes.ContainerDefinition{{
					Name: aws.String("main"), Image: aws.String(image), Command: []string{"lines", fmt.Sprint(n)},
					LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
						"awslogs-group": "/ecs/chatty", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}},
				}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for round := range 3 {
				run, err := ec.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: td.TaskDefinition.TaskDefinitionArn})
				if err != nil || len(run.Tasks) != 1 {
					t.Fatalf("RunTask = %+v, %v", run, err)
				}
				arn := aws.ToString(run.Tasks[0].TaskArn)
				task := waitStopped(t, ec, arn)
				if c := task.Containers[0]; aws.ToInt32(c.ExitCode) != 3 {
					t.Fatalf("round %d: task stopped with %s (%q), exit %d", round, task.StopCode, aws.ToString(task.StoppedReason), aws.ToInt32(c.ExitCode))
				}
				// Read the stream once the task is STOPPED: nothing may arrive later.
				var msgs []string
				in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/chatty"),
					LogStreamName: aws.String("ecs/main/" + arn[strings.LastIndexByte(arn, '/')+1:]), StartFromHead: aws.Bool(true)}
				for {
					out, err := lc.GetLogEvents(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range out.Events {
						msgs = append(msgs, aws.ToString(e.Message))
					}
					if len(out.Events) == 0 || aws.ToString(out.NextForwardToken) == aws.ToString(in.NextToken) {
						break
					}
					in.NextToken = out.NextForwardToken
				}
				next := map[string]int{"out": 1, "err": 1}
				for _, m := range msgs {
					var stream string
					var i int
					if _, err := fmt.Sscanf(m, "%s %d", &stream, &i); err != nil || next[stream] != i {
						t.Fatalf("round %d: line %q out of order or unexpected (want out %d, err %d)", round, m, next["out"], next["err"])
					}
					next[stream]++
				}
				if next["out"] != n+1 || next["err"] != n+1 {
					t.Fatalf("round %d: %d of %d stdout lines and %d of %d stderr lines arrived (last: %q)",
						round, next["out"]-1, n, next["err"]-1, n, msgs[max(len(msgs)-3, 0):])
				}
			}
		})
	}
}
