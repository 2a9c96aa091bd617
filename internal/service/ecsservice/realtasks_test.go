package ecsservice_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/runtime/docker"
	"github.com/wharf-dev/wharf/internal/runtime/process"
	"github.com/wharf-dev/wharf/internal/service/ecs"
	"github.com/wharf-dev/wharf/internal/service/ecsservice"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/test/images"
)

var (
	_ ecsservice.Tasks            = (*ecs.Service)(nil)
	_ ecsservice.SchedulerStopper = (*ecs.Service)(nil)
)

// realRuntime is a runtime tasks really run on, with the container
// definition of a task that runs until SIGTERM and of one that can never
// start.
type realRuntime struct {
	runner  runtime.Runner
	healthy func(rev string) ecsapi.ContainerDefinition
	broken  ecsapi.ContainerDefinition
}

// realRuntimes are Docker (the test/images/task image, FROM scratch) and the
// process runtime (the same program as a host binary). Docker is skipped
// when no engine answers, except in CI (CI=true), where that fails.
func realRuntimes() map[string]func(t *testing.T) realRuntime {
	def := func(image string, command ...string) ecsapi.ContainerDefinition {
		return ecsapi.ContainerDefinition{Name: awsapi.String("main"), Image: &image, Command: command, Essential: awsapi.Bool(true),
			StopTimeout: awsapi.Int32(5)}
	}
	return map[string]func(t *testing.T) realRuntime{
		"docker": func(t *testing.T) realRuntime {
			r, ok := docker.Available(context.Background())
			if !ok {
				if os.Getenv("CI") == "true" {
					t.Fatal("no Docker engine answers (CI requires one: dockerd --bridge=none --iptables=false)")
				}
				t.Skip("no Docker engine answers at DOCKER_HOST or " + docker.DefaultSocket + "; start dockerd to run this test")
			}
			ref, err := images.Docker("task")
			if err != nil {
				t.Fatal(err)
			}
			// An entry point missing from the image: the engine refuses to
			// start the container, so the task never reaches RUNNING.
			broken := def(ref)
			broken.EntryPoint = []string{"/nonexistent-wharf-entrypoint"}
			return realRuntime{runner: r, broken: broken,
				healthy: func(rev string) ecsapi.ContainerDefinition { return def(ref, "sleep", rev) }}
		},
		"process": func(t *testing.T) realRuntime {
			bin, err := images.Binary("task", t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			p := process.New()
			t.Cleanup(p.Close)
			return realRuntime{runner: p, broken: def("/nonexistent/wharf-test-binary"),
				healthy: func(rev string) ecsapi.ContainerDefinition { return def(bin, "sleep", rev) }}
		},
	}
}

// realServices runs ECS's task service on runner and the service controller
// over it, both on a memory store, as wharf wires them.
func realServices(t *testing.T, runner runtime.Runner) (context.Context, *ecs.Service, *ecsservice.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "123456789012", Region: "us-east-1"}))
	st := store.OpenMemory()
	tasks, err := ecs.New(ecs.Options{Store: st, Runner: runner, Account: "123456789012", Region: "us-east-1", Endpoint: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	svcs := ecsservice.New(ecsservice.Options{Store: st, Tasks: tasks, Account: "123456789012", Region: "us-east-1", Interval: 50 * time.Millisecond})
	done := make(chan struct{}, 2)
	go func() { tasks.Run(ctx); done <- struct{}{} }()
	go func() { svcs.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		// A test that failed half way leaves tasks running: stop them, so
		// no container outlives the test, before the loops stop.
		list, _ := tasks.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: awsapi.String("c")})
		if list != nil && len(list.TaskArns) > 0 {
			svcs.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("workers"), Force: awsapi.Bool(true)})
			for _, arn := range list.TaskArns {
				tasks.StopTask(ctx, &ecsapi.StopTaskInput{Cluster: awsapi.String("c"), Task: &arn})
			}
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				d, err := tasks.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: awsapi.String("c"), Tasks: list.TaskArns})
				if err != nil {
					break
				}
				stopped := true
				for _, tk := range d.Tasks {
					stopped = stopped && *tk.LastStatus == "STOPPED"
				}
				if stopped {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		cancel()
		<-done
		<-done
	})
	return ctx, tasks, svcs
}

func register(t *testing.T, ctx context.Context, tasks *ecs.Service, c ecsapi.ContainerDefinition) string {
	t.Helper()
	out, err := tasks.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{Family: awsapi.String("worker"),
		ContainerDefinitions: []ecsapi.ContainerDefinition{c}})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TaskDefinition.TaskDefinitionArn
}

// describeTasks describes every task of cluster c with the desired status.
func describeTasks(t *testing.T, ctx context.Context, tasks *ecs.Service, in *ecsapi.ListTasksInput) []ecsapi.Task {
	t.Helper()
	in.Cluster = awsapi.String("c")
	list, err := tasks.ListTasks(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var out []ecsapi.Task
	for i := 0; i < len(list.TaskArns); i += 100 {
		d, err := tasks.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: awsapi.String("c"), Tasks: list.TaskArns[i:min(i+100, len(list.TaskArns))]})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Tasks...)
	}
	return out
}

// healthy counts the service's tasks that are RUNNING and not being stopped,
// by task definition.
func healthy(t *testing.T, ctx context.Context, tasks *ecs.Service) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tk := range describeTasks(t, ctx, tasks, &ecsapi.ListTasksInput{}) {
		if *tk.LastStatus == "RUNNING" && *tk.DesiredStatus == "RUNNING" {
			out[*tk.TaskDefinitionArn]++
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
	deadline := time.Now().Add(90 * time.Second)
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

func update(t *testing.T, ctx context.Context, svcs *ecsservice.Service, in *ecsapi.UpdateServiceInput) {
	t.Helper()
	in.Cluster, in.Service = awsapi.String("c"), awsapi.String("workers")
	if _, err := svcs.UpdateService(ctx, in); err != nil {
		t.Fatal(err)
	}
}

// TestServiceOnRealTasks drives a service whose tasks are real containers
// (Docker) and host processes: it keeps the desired count, replaces a task
// that crashed, rolls from revision 1 to 2 without a moment below
// minimumHealthyPercent, and its circuit breaker rolls back a deployment
// whose tasks cannot start.
func TestServiceOnRealTasks(t *testing.T) {
	t.Parallel()
	for name, open := range realRuntimes() {
		t.Run(name, func(t *testing.T) {
			rt := open(t)
			ctx, tasks, svcs := realServices(t, rt.runner)
			if _, err := tasks.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: awsapi.String("c")}); err != nil {
				t.Fatal(err)
			}
			rev1 := register(t, ctx, tasks, rt.healthy("1"))
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

			// The desired count is kept: a few more passes start nothing more.
			time.Sleep(300 * time.Millisecond)
			if h := healthy(t, ctx, tasks); h[rev1] != 2 || len(h) != 1 {
				t.Fatalf("healthy tasks after steady state: %v", h)
			}
			// ListTasks --service-name finds the service's tasks (group service:workers).
			byService := describeTasks(t, ctx, tasks, &ecsapi.ListTasksInput{ServiceName: awsapi.String("workers")})
			if len(byService) != 2 || *byService[0].Group != "service:workers" {
				t.Fatalf("ListTasks by service name: %d tasks", len(byService))
			}
			if other := describeTasks(t, ctx, tasks, &ecsapi.ListTasksInput{ServiceName: awsapi.String("other")}); len(other) != 0 {
				t.Fatalf("ListTasks of another service: %d tasks", len(other))
			}

			// A task whose container dies behind ECS's back is replaced.
			crashed := byService[0]
			if err := rt.runner.Stop(ctx, *crashed.Containers[0].RuntimeId, 0); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a replacement", func() bool {
				live := describeTasks(t, ctx, tasks, &ecsapi.ListTasksInput{ServiceName: awsapi.String("workers")})
				return healthy(t, ctx, tasks)[rev1] == 2 && len(live) == 2 && *live[0].TaskArn != *crashed.TaskArn &&
					*describe(t, ctx, svcs).RunningCount == 2
			}, nil)
			stopped := describeTasks(t, ctx, tasks, &ecsapi.ListTasksInput{DesiredStatus: awsapi.String("STOPPED")})
			if len(stopped) != 1 || *stopped[0].TaskArn != *crashed.TaskArn || awsapi.ToString(stopped[0].StopCode) != "EssentialContainerExited" {
				t.Fatalf("stopped tasks after the crash: %d, first %+v", len(stopped), stopped)
			}

			// Scaling out, as Application Auto Scaling does.
			update(t, ctx, svcs, &ecsapi.UpdateServiceInput{DesiredCount: awsapi.Int32(3)})
			waitFor(t, "3 running tasks", func() bool { return *describe(t, ctx, svcs).RunningCount == 3 }, nil)

			// A rolling deployment never drops below minimumHealthyPercent
			// (100 %: 3 tasks), sampled on every poll while it rolls.
			rev2 := register(t, ctx, tasks, rt.healthy("2"))
			update(t, ctx, svcs, &ecsapi.UpdateServiceInput{TaskDefinition: &rev2})
			samples, lowest, mixed := 0, 99, false
			waitFor(t, "revision 2 deployed", func() bool {
				s := describe(t, ctx, svcs)
				return len(s.Deployments) == 1 && *s.Deployments[0].RolloutState == "COMPLETED" && healthy(t, ctx, tasks)[rev2] == 3
			}, func() {
				h := healthy(t, ctx, tasks)
				samples, lowest, mixed = samples+1, min(lowest, h[rev1]+h[rev2]), mixed || h[rev1] > 0 && h[rev2] > 0
				if h[rev1]+h[rev2] < 3 {
					t.Fatalf("%d healthy tasks during the deployment (%v), below minimumHealthyPercent", h[rev1]+h[rev2], h)
				}
			})
			t.Logf("rolling deployment: %d samples, at least %d healthy, both revisions seen running together: %v", samples, lowest, mixed)
			// The scheduler's own stops say so (stopCode ServiceSchedulerInitiated).
			retired := 0
			for _, tk := range describeTasks(t, ctx, tasks, &ecsapi.ListTasksInput{DesiredStatus: awsapi.String("STOPPED")}) {
				if *tk.TaskDefinitionArn == rev1 && *tk.TaskArn != *crashed.TaskArn {
					retired++
					if awsapi.ToString(tk.StopCode) != "ServiceSchedulerInitiated" || !strings.HasPrefix(awsapi.ToString(tk.StoppedReason), "Scaling activity initiated by (deployment ecs-svc/") {
						t.Errorf("revision 1 task stopped by the deployment: stopCode %v, reason %v", awsapi.ToString(tk.StopCode), awsapi.ToString(tk.StoppedReason))
					}
				}
			}
			if retired != 3 {
				t.Errorf("%d revision 1 tasks stopped by the deployment, want 3", retired)
			}

			// A revision whose tasks cannot start trips the circuit breaker,
			// which rolls back to revision 2 without touching its tasks.
			bad := register(t, ctx, tasks, rt.broken)
			update(t, ctx, svcs, &ecsapi.UpdateServiceInput{TaskDefinition: &bad})
			waitFor(t, "the rollback to complete", func() bool {
				s := describe(t, ctx, svcs)
				return *s.TaskDefinition == rev2 && len(s.Deployments) == 1 && *s.Deployments[0].RolloutState == "COMPLETED"
			}, func() {
				if h := healthy(t, ctx, tasks); h[rev2] < 3 {
					t.Fatalf("revision 2 down to %d tasks during the failing deployment", h[rev2])
				}
			})
			s := describe(t, ctx, svcs)
			var msgs []string
			for _, e := range s.Events {
				msgs = append(msgs, *e.Message)
			}
			if all := strings.Join(msgs, "\n"); !strings.Contains(all, "deployment failed: tasks failed to start.") {
				t.Fatalf("no deployment failed event in:\n%s", all)
			}

			// Deleting drains every task.
			if _, err := svcs.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("workers"), Force: awsapi.Bool(true)}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "INACTIVE", func() bool { return *describe(t, ctx, svcs).Status == "INACTIVE" }, nil)
			if h := healthy(t, ctx, tasks); len(h) != 0 {
				t.Fatalf("tasks still running after delete: %v", h)
			}
			waitFor(t, "every task STOPPED", func() bool {
				for _, tk := range describeTasks(t, ctx, tasks, &ecsapi.ListTasksInput{DesiredStatus: awsapi.String("STOPPED")}) {
					if *tk.LastStatus != "STOPPED" {
						return false
					}
				}
				return true
			}, nil)
		})
	}
}
