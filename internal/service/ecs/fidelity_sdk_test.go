package ecs_test

import (
	"context"
	"errors"
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
// deregistered one goes to DELETE_IN_PROGRESS, is described and listed under
// that status while a task still runs from it, and no new task can start
// from it; once the task stops it is deleted for good (DescribeTaskDefinition
// cannot find it), a family whose every revision is deleted is no longer
// listed, and its next revision is numbered after the deleted ones.
func TestDeleteTaskDefinitions(t *testing.T) {
	t.Parallel()
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx := context.Background()
	for range 2 {
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("job"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"), Command: []string{"-c", "sleep 60"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("job:1")})
	if err != nil {
		t.Fatal(err)
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
		t.Errorf("describe while a task runs from it: %v %+v", err, d)
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

	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Task: run.Tasks[0].TaskArn}); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, c, aws.ToString(run.Tasks[0].TaskArn))
	waitTaskDefinitionGone(t, c, "job:1")
	if l, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: ecstypes.TaskDefinitionStatusDeleteInProgress}); err != nil || len(l.TaskDefinitionArns) != 0 {
		t.Errorf("DELETE_IN_PROGRESS after the deletion: %v %v", err, l)
	}
	if l, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: "ALL"}); err != nil || len(l.TaskDefinitionArns) != 1 || l.TaskDefinitionArns[0] != arn2 {
		t.Errorf("every revision after the deletion: %v %v, want job:2 alone", err, l)
	}

	// The last revision of the family: the family goes, its name's count stays.
	if _, err := c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("job:2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"job:2"}}); err != nil {
		t.Fatal(err)
	}
	waitTaskDefinitionGone(t, c, "job:2")
	for _, st := range []ecstypes.TaskDefinitionFamilyStatus{"ALL", ecstypes.TaskDefinitionFamilyStatusInactive} {
		f, err := c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{Status: st})
		if err != nil || len(f.Families) != 0 {
			t.Errorf("families (%s) once every revision is deleted: %v %v", st, err, f)
		}
	}
	reg, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("job"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh")}}})
	if err != nil {
		t.Fatal(err)
	}
	if reg.TaskDefinition.Revision != 3 {
		t.Errorf("registered after deleting revisions 1 and 2: revision %d, want 3", reg.TaskDefinition.Revision)
	}
}

// waitTaskDefinitionGone polls DescribeTaskDefinition until it answers
// ClientException "Unable to describe task definition.", as ECS does once a
// revision is deleted for good.
func waitTaskDefinitionGone(t *testing.T, c *ecs.Client, ref string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d, err := c.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
		var ce *ecstypes.ClientException
		if errors.As(err, &ce) {
			if ce.ErrorMessage() != "Unable to describe task definition." {
				t.Fatalf("describe %s: %v", ref, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("describe %s: %v", ref, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still described (%s) after a minute", ref, d.TaskDefinition.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServiceScalesFromARevisionBeingDeleted: a service keeps scaling with
// its revision after it is deregistered and submitted for deletion, which
// stays DELETE_IN_PROGRESS while the service exists and is deleted for good
// once the service is deleted (DeleteTaskDefinitions docs).
func TestServiceScalesFromARevisionBeingDeleted(t *testing.T) {
	t.Parallel()
	c := ecs.NewFromConfig(startWharf(t, "process"))
	ctx := context.Background()
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"), Command: []string{"-c", "sleep 60"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waitRunning := func(n int32) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Services: []string{"web"}})
			if err != nil {
				t.Fatal(err)
			}
			if out.Services[0].RunningCount == n && len(out.Services[0].Deployments) == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("service runs %d tasks, want %d; events %+v", out.Services[0].RunningCount, n, out.Services[0].Events)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitRunning(1)
	if _, err := c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"web:1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	waitRunning(2)
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	waitRunning(0)
	d, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:1")})
	if err != nil || d.TaskDefinition.Status != ecstypes.TaskDefinitionStatusDeleteInProgress {
		t.Fatalf("describe while its service exists (with no task): %v %+v", err, d)
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{ServiceName: aws.String("other"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(1)}); err == nil {
		t.Error("a service was created from a DELETE_IN_PROGRESS revision")
	}
	if _, err := c.DeleteService(ctx, &ecs.DeleteServiceInput{Service: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	waitTaskDefinitionGone(t, c, "web:1")
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
