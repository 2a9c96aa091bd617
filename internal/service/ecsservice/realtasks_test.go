package ecsservice_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/runtime/process"
	"github.com/wharf-dev/wharf/internal/service/ecs"
	"github.com/wharf-dev/wharf/internal/service/ecsservice"
	"github.com/wharf-dev/wharf/internal/store"
)

var _ ecsservice.Tasks = (*ecs.Service)(nil)

// realServices runs ECS's task service on the process runtime and the
// service controller over it, both on a memory store, as wharf wires them.
func realServices(t *testing.T) (context.Context, *ecs.Service, *ecsservice.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "123456789012", Region: "us-east-1"}))
	st := store.OpenMemory()
	runner := process.New()
	tasks, err := ecs.New(ecs.Options{Store: st, Runner: runner, Account: "123456789012", Region: "us-east-1", Endpoint: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	svcs := ecsservice.New(ecsservice.Options{Store: st, Tasks: tasks, Account: "123456789012", Region: "us-east-1", Interval: 50 * time.Millisecond})
	done := make(chan struct{}, 2)
	go func() { tasks.Run(ctx); done <- struct{}{} }()
	go func() { svcs.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		runner.Close()
	})
	return ctx, tasks, svcs
}

func register(t *testing.T, ctx context.Context, tasks *ecs.Service, image string, command ...string) string {
	t.Helper()
	out, err := tasks.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{Family: awsapi.String("worker"),
		ContainerDefinitions: []ecsapi.ContainerDefinition{{Name: awsapi.String("main"), Image: &image, Command: command, Essential: awsapi.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TaskDefinition.TaskDefinitionArn
}

// healthy counts the service's tasks that are RUNNING and not being stopped.
func healthy(t *testing.T, ctx context.Context, tasks *ecs.Service) map[string]int {
	t.Helper()
	list, err := tasks.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: awsapi.String("c")})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	if len(list.TaskArns) == 0 {
		return out
	}
	for i := 0; i < len(list.TaskArns); i += 100 {
		d, err := tasks.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: awsapi.String("c"), Tasks: list.TaskArns[i:min(i+100, len(list.TaskArns))]})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range d.Tasks {
			if *tk.LastStatus == "RUNNING" && *tk.DesiredStatus == "RUNNING" {
				out[*tk.TaskDefinitionArn]++
			}
		}
	}
	return out
}

func describe(t *testing.T, ctx context.Context, svcs *ecsservice.Service) ecsapi.ServiceShape {
	t.Helper()
	out, err := svcs.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: awsapi.String("c"), Services: []string{"workers"}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("DescribeServices: %v %+v", err, out)
	}
	return out.Services[0]
}

// waitFor polls until ok holds; check runs on every poll (invariants).
func waitFor(t *testing.T, what string, ok func() bool, check func()) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if check != nil {
			check()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServiceOnRealTasksConvergesDeploysAndRollsBack(t *testing.T) {
	ctx, tasks, svcs := realServices(t)
	if _, err := tasks.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: awsapi.String("c")}); err != nil {
		t.Fatal(err)
	}
	rev1 := register(t, ctx, tasks, "sleep", "300")
	cb := &ecsapi.DeploymentConfiguration{MinimumHealthyPercent: awsapi.Int32(100), MaximumPercent: awsapi.Int32(200),
		DeploymentCircuitBreaker: &ecsapi.DeploymentCircuitBreaker{Enable: awsapi.Bool(true), Rollback: awsapi.Bool(true)}}
	if _, err := svcs.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: awsapi.String("c"), ServiceName: awsapi.String("workers"),
		TaskDefinition: awsapi.String("worker"), DesiredCount: awsapi.Int32(2), DeploymentConfiguration: cb}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "2 running tasks", func() bool {
		s := describe(t, ctx, svcs)
		return *s.RunningCount == 2 && *s.Deployments[0].RolloutState == "COMPLETED"
	}, nil)

	// A task stopped behind the service's back is replaced.
	list, _ := tasks.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: awsapi.String("c"), StartedBy: describe(t, ctx, svcs).Deployments[0].Id})
	if len(list.TaskArns) != 2 {
		t.Fatalf("tasks started by the deployment: %v", list.TaskArns)
	}
	if _, err := tasks.StopTask(ctx, &ecsapi.StopTaskInput{Cluster: awsapi.String("c"), Task: &list.TaskArns[0]}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a replacement", func() bool {
		l, _ := tasks.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: awsapi.String("c")})
		return len(l.TaskArns) == 2 && l.TaskArns[0] != list.TaskArns[0] && healthy(t, ctx, tasks)[rev1] == 2
	}, nil)

	// Scaling out, as Application Auto Scaling does.
	if _, err := svcs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("workers"), DesiredCount: awsapi.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 running tasks", func() bool { return *describe(t, ctx, svcs).RunningCount == 3 }, nil)

	// A rolling deployment never drops below minimumHealthyPercent (100 %: 3 tasks).
	rev2 := register(t, ctx, tasks, "sleep", "301")
	if _, err := svcs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("workers"), TaskDefinition: &rev2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "revision 2 deployed", func() bool {
		s := describe(t, ctx, svcs)
		return len(s.Deployments) == 1 && *s.Deployments[0].RolloutState == "COMPLETED" && healthy(t, ctx, tasks)[rev2] == 3
	}, func() {
		h := healthy(t, ctx, tasks)
		if h[rev1]+h[rev2] < 3 {
			t.Fatalf("%d healthy tasks during the deployment, below minimumHealthyPercent", h[rev1]+h[rev2])
		}
	})

	// A revision whose tasks cannot start trips the circuit breaker, which
	// rolls back to revision 2 without touching its tasks.
	bad := register(t, ctx, tasks, "/nonexistent/wharf-test-binary")
	if _, err := svcs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("workers"), TaskDefinition: &bad}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rollback to complete", func() bool {
		s := describe(t, ctx, svcs)
		return *s.TaskDefinition == rev2 && len(s.Deployments) == 1 && *s.Deployments[0].RolloutState == "COMPLETED"
	}, func() {
		if h := healthy(t, ctx, tasks); h[rev2] < 3 {
			t.Fatalf("revision 2 down to %d tasks during the failing deployment", h[rev2])
		}
	})
	s := describe(t, ctx, svcs)
	found := false
	for _, e := range s.Events {
		found = found || strings.Contains(*e.Message, "deployment failed: tasks failed to start.")
	}
	if !found {
		t.Fatalf("no deployment failed event in %d events", len(s.Events))
	}

	// Deleting drains every task.
	if _, err := svcs.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("workers"), Force: awsapi.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "INACTIVE", func() bool { return *describe(t, ctx, svcs).Status == "INACTIVE" }, nil)
	if h := healthy(t, ctx, tasks); len(h) != 0 {
		t.Fatalf("tasks still running after delete: %v", h)
	}
}
