package ecs_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestContainerDefinitionsAreDescribedWithECSsDefaults: a container
// definition registered with only a name, an image and a command is
// described as ECS describes it, with cpu 0 and empty portMappings,
// environment, mountPoints, volumesFrom and systemControls (the SDK decodes
// an absent list as nil, a [] as an empty one); a port mapping gets protocol
// tcp.
func TestContainerDefinitionsAreDescribedWithECSsDefaults(t *testing.T) {
	t.Parallel()
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx := context.Background()
	reg, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("sleep"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("sleep"), Image: aws.String("busybox"), Command: []string{"sleep", "360"}, Memory: aws.Int32(10)},
			{Name: aws.String("web"), Image: aws.String("nginx"), PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(80)}},
				Environment: []ecstypes.KeyValuePair{{Name: aws.String("A"), Value: aws.String("1")}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("sleep:1")})
	if err != nil {
		t.Fatal(err)
	}
	for name, td := range map[string]*ecstypes.TaskDefinition{"RegisterTaskDefinition": reg.TaskDefinition, "DescribeTaskDefinition": desc.TaskDefinition} {
		cd := td.ContainerDefinitions[0]
		if cd.Cpu != 0 || cd.PortMappings == nil || cd.Environment == nil || cd.MountPoints == nil || cd.VolumesFrom == nil || cd.SystemControls == nil ||
			!aws.ToBool(cd.Essential) {
			t.Errorf("%s: container %+v, want cpu 0, essential and empty lists", name, cd)
		}
		web := td.ContainerDefinitions[1]
		if len(web.PortMappings) != 1 || web.PortMappings[0].Protocol != ecstypes.TransportProtocolTcp || aws.ToInt32(web.PortMappings[0].ContainerPort) != 80 ||
			len(web.Environment) != 1 {
			t.Errorf("%s: container %+v, want its port mapping with protocol tcp and its environment", name, web)
		}
	}
}

// TestDeleteTaskDefinitions: an ACTIVE or unknown revision is a failure; a
// deregistered one goes to DELETE_IN_PROGRESS, is still described and
// listed under that status, and no task can start from it.
func TestDeleteTaskDefinitions(t *testing.T) {
	t.Parallel()
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx := context.Background()
	for range 2 {
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("job"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"), Command: []string{"-c", "exit 0"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("job:1")}); err != nil {
		t.Fatal(err)
	}
	arn1 := "arn:aws:ecs:us-east-1:000000000000:task-definition/job:1"
	arn2 := "arn:aws:ecs:us-east-1:000000000000:task-definition/job:2"
	out, err := c.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{arn1, "job:2", "job:9"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TaskDefinitions) != 1 || aws.ToString(out.TaskDefinitions[0].TaskDefinitionArn) != arn1 ||
		out.TaskDefinitions[0].Status != ecstypes.TaskDefinitionStatusDeleteInProgress {
		t.Errorf("deleted %+v, want job:1 DELETE_IN_PROGRESS", out.TaskDefinitions)
	}
	if len(out.Failures) != 2 || aws.ToString(out.Failures[0].Arn) != arn2 ||
		aws.ToString(out.Failures[0].Reason) != "The specified task definition is still in ACTIVE status. Please deregister the target and try again." ||
		aws.ToString(out.Failures[1].Arn) != "job:9" {
		t.Errorf("failures %+v, want job:2 (ACTIVE) and job:9 (missing)", out.Failures)
	}
	d, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("job:1")})
	if err != nil || d.TaskDefinition.Status != ecstypes.TaskDefinitionStatusDeleteInProgress {
		t.Errorf("describe after delete: %v %+v", err, d)
	}
	l, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: ecstypes.TaskDefinitionStatusDeleteInProgress})
	if err != nil || len(l.TaskDefinitionArns) != 1 || l.TaskDefinitionArns[0] != arn1 {
		t.Errorf("listed DELETE_IN_PROGRESS: %v %v", err, l)
	}
	if _, err := c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("job:1")}); err == nil {
		t.Error("a task started from a DELETE_IN_PROGRESS revision")
	}
	if _, err := c.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"job"}}); err == nil {
		t.Error("a family without a revision was accepted")
	}
}

// TestClusterCountsServicesAndTasks: DescribeClusters counts the cluster's
// ACTIVE services and its running tasks, a service's and a RunTask's alike.
func TestClusterCountsServicesAndTasks(t *testing.T) {
	t.Parallel()
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("sleeper"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"), Command: []string{"-c", "sleep 60"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("work"), ServiceName: aws.String("svc"),
		TaskDefinition: aws.String("sleeper"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("work"), TaskDefinition: aws.String("sleeper")})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %+v", err, run)
	}
	counts := func() ecstypes.Cluster {
		t.Helper()
		d, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"work"}})
		if err != nil || len(d.Clusters) != 1 {
			t.Fatalf("DescribeClusters: %v %+v", err, d)
		}
		return d.Clusters[0]
	}
	var cl ecstypes.Cluster
	for cl = counts(); ctx.Err() == nil && (cl.RunningTasksCount != 2 || cl.PendingTasksCount != 0); cl = counts() {
		time.Sleep(50 * time.Millisecond)
	}
	if cl.ActiveServicesCount != 1 || cl.RunningTasksCount != 2 || cl.PendingTasksCount != 0 || cl.RegisteredContainerInstancesCount != 0 {
		t.Errorf("cluster with a service and two tasks: services %d running %d pending %d instances %d",
			cl.ActiveServicesCount, cl.RunningTasksCount, cl.PendingTasksCount, cl.RegisteredContainerInstancesCount)
	}
	if _, err := c.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("work"), Service: aws.String("svc"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("work"), Task: run.Tasks[0].TaskArn}); err != nil {
		t.Fatal(err)
	}
	for cl = counts(); ctx.Err() == nil && (cl.ActiveServicesCount != 0 || cl.RunningTasksCount != 0); cl = counts() {
		time.Sleep(50 * time.Millisecond)
	}
	if cl.ActiveServicesCount != 0 || cl.RunningTasksCount != 0 {
		t.Errorf("after the service is deleted and the task stopped: services %d running %d", cl.ActiveServicesCount, cl.RunningTasksCount)
	}
}
