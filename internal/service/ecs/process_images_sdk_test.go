package ecs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestProcessRuntimeRunsOnlyPathsAndListedImages: on the process runtime,
// through the real server, an image that names a host program only by
// coincidence ("sleep", "alpine:3"'s /bin/sh as an entry point) stops its task
// with a CannotPullContainerError that names the missing engine — the host's
// program is never run in its place — while an image --process-images lists
// runs as the program it maps to.
func TestProcessRuntimeRunsOnlyPathsAndListedImages(t *testing.T) {
	t.Parallel()
	cfg := wharftest.Start(t, "--runtime", "process", "--process-images", "worker:1=/bin/true").Config()
	c := ecs.NewFromConfig(cfg)
	ctx := context.Background()
	run := func(family string, def ecstypes.ContainerDefinition) ecstypes.Task {
		t.Helper()
		def.Name, def.Essential = aws.String("main"), aws.Bool(true)
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
			ContainerDefinitions: []ecstypes.ContainerDefinition{def}}); err != nil {
			t.Fatal(err)
		}
		out, err := c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String(family)})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("RunTask %s: %+v, %v", family, out, err)
		}
		return waitStopped(t, c, *out.Tasks[0].TaskArn)
	}
	for _, tc := range []struct {
		family string
		def    ecstypes.ContainerDefinition
	}{
		{"host-name", ecstypes.ContainerDefinition{Image: aws.String("sleep"), Command: []string{"0"}}},
		{"registry-image", ecstypes.ContainerDefinition{Image: aws.String("public.ecr.aws/docker/library/alpine:3")}},
		{"entry-point", ecstypes.ContainerDefinition{Image: aws.String("worker:1"), EntryPoint: []string{"sh", "-c"}, Command: []string{"exit 0"}}},
	} {
		task := run(tc.family, tc.def)
		reason := aws.ToString(task.StoppedReason)
		if task.StopCode != ecstypes.TaskStopCodeTaskFailedToStart || !strings.HasPrefix(reason, "CannotPullContainerError: ") ||
			!strings.Contains(reason, "no container engine") {
			t.Errorf("%s: stop code %s, reason %q; want TaskFailedToStart, CannotPullContainerError naming the missing engine", tc.family, task.StopCode, reason)
		}
		if len(task.Containers) != 1 || task.Containers[0].ExitCode != nil {
			t.Errorf("%s: container %+v ran", tc.family, task.Containers)
		}
	}
	task := run("listed", ecstypes.ContainerDefinition{Image: aws.String("worker:1")})
	if len(task.Containers) != 1 || aws.ToInt32(task.Containers[0].ExitCode) != 0 || task.Containers[0].ExitCode == nil {
		t.Errorf("the listed image: %s, containers %+v; want its program (/bin/true) to run and exit 0", aws.ToString(task.StoppedReason), task.Containers)
	}
}
