package ecsservice

import (
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
)

func TestControllerStartsDesiredTasksAndReachesSteadyState(t *testing.T) {
	h := newHarness(t)
	created := h.create("web", 2, nil)
	depID := *created.Deployments[0].Id
	if !strings.HasPrefix(depID, "ecs-svc/") || len(depID) != len("ecs-svc/")+19 {
		t.Fatalf("deployment id %q", depID)
	}
	h.step()
	s := h.describe("web")
	if *s.PendingCount != 2 || *s.RunningCount != 0 {
		t.Fatalf("after first tick: pending %d running %d", *s.PendingCount, *s.RunningCount)
	}
	for _, arn := range h.tasks.order {
		tk := h.tasks.tasks[arn]
		if *tk.StartedBy != depID || *tk.Group != "service:web" {
			t.Errorf("task startedBy %q group %q", *tk.StartedBy, *tk.Group)
		}
	}
	ids := []string{taskID(h.tasks.order[0]), taskID(h.tasks.order[1])}
	want := "(service web) has started 2 tasks: (task " + ids[0] + ") (task " + ids[1] + ")."
	if got := messages(s); len(got) != 1 || got[0] != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	h.step()
	s = h.describe("web")
	if *s.RunningCount != 2 || *s.PendingCount != 0 {
		t.Fatalf("running %d pending %d", *s.RunningCount, *s.PendingCount)
	}
	d := s.Deployments[0]
	if *d.RolloutState != "COMPLETED" || *d.RolloutStateReason != "ECS deployment "+depID+" completed." || *d.RunningCount != 2 {
		t.Fatalf("deployment %s %q running %d", *d.RolloutState, *d.RolloutStateReason, *d.RunningCount)
	}
	if m := messages(s); m[0] != "(service web) has reached a steady state." || m[1] != "(service web) (deployment "+depID+") deployment completed." {
		t.Fatalf("events %q", m)
	}
	// Steady state is said once, not on every tick.
	h.step()
	h.step()
	if n := len(h.describe("web").Events); n != 3 {
		t.Fatalf("%d events after more ticks, want 3", n)
	}
	var names []string
	for _, e := range h.busEvents("ECS Deployment State Change") {
		names = append(names, e["eventName"].(string))
		if e["deploymentId"] != depID {
			t.Errorf("deploymentId %v", e["deploymentId"])
		}
	}
	if strings.Join(names, ",") != "SERVICE_DEPLOYMENT_IN_PROGRESS,SERVICE_DEPLOYMENT_COMPLETED" {
		t.Fatalf("deployment events %v", names)
	}
	acts := h.busEvents("ECS Service Action")
	if len(acts) != 1 || acts[0]["eventName"] != "SERVICE_STEADY_STATE" || acts[0]["eventType"] != "INFO" ||
		acts[0]["clusterArn"] != "arn:aws:ecs:us-east-1:123456789012:cluster/c" {
		t.Fatalf("service actions %v", acts)
	}
}

func TestCrashedTaskIsReplaced(t *testing.T) {
	h := newHarness(t)
	h.create("web", 2, nil)
	h.step()
	h.step()
	first := h.tasks.order[0]
	h.tasks.crash(first)
	h.step()
	s := h.describe("web")
	if len(h.tasks.order) != 3 {
		t.Fatalf("%d tasks started, want a third to replace the crashed one", len(h.tasks.order))
	}
	if *s.RunningCount != 1 || *s.PendingCount != 1 {
		t.Fatalf("running %d pending %d", *s.RunningCount, *s.PendingCount)
	}
	h.step()
	if s = h.describe("web"); *s.RunningCount != 2 || !strings.HasPrefix(messages(s)[0], "(service web) has reached a steady state.") {
		t.Fatalf("running %d, events %q", *s.RunningCount, messages(s))
	}
	// A task that ran does not count against the throttle.
	if n := len(h.tasks.running()[tdArn("web", 1)]); n != 2 {
		t.Fatalf("%d running", n)
	}
}

func TestTasksThatNeverStartAreThrottled(t *testing.T) {
	h := newHarness(t)
	h.tasks.failing[tdArn("web", 1)] = true
	h.create("web", 1, nil)
	// Three tasks fail to start, one after another, without delay.
	for range 6 {
		h.step()
	}
	if n := len(h.tasks.order); n != 3 {
		t.Fatalf("%d tasks started before the throttle, want 3", n)
	}
	s := h.describe("web")
	if !hasMessage(s, "(service web) is unable to consistently start tasks successfully.") {
		t.Fatalf("events %q", messages(s))
	}
	acts := h.busEvents("ECS Service Action")
	if len(acts) != 1 || acts[0]["eventName"] != "SERVICE_TASK_START_IMPAIRED" || acts[0]["eventType"] != "WARN" {
		t.Fatalf("service actions %v", acts)
	}
	// The next launch waits 10 s after the third failure, the one after 20 s.
	launchedAt := func() time.Duration {
		start, n := h.now, len(h.tasks.order)
		for len(h.tasks.order) == n {
			if h.now.Sub(start) > time.Hour {
				t.Fatal("no launch within an hour")
			}
			h.step()
		}
		return h.now.Sub(start)
	}
	first := launchedAt()
	h.step() // it fails
	second := launchedAt()
	if first < 8*time.Second || first > 11*time.Second || second < 18*time.Second || second > 21*time.Second {
		t.Fatalf("launch delays %v then %v, want about 10 s then 20 s", first, second)
	}
	// A new task definition ends the throttle at once.
	rev2 := h.tasks.register("web")
	if _, err := h.svc.UpdateService(h.ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("web"), TaskDefinition: &rev2}); err != nil {
		t.Fatal(err)
	}
	h.step()
	h.step()
	if got := h.tasks.running()[rev2]; len(got) != 1 {
		t.Fatalf("revision 2 running %v", got)
	}
}

func TestRollingDeploymentRespectsMinimumHealthyAndMaximumPercent(t *testing.T) {
	for _, tc := range []struct {
		name     string
		min, max int32
	}{
		{"min100max200", 100, 200},
		{"min50max100", 50, 100},
		{"min75max125", 75, 125},
		{"min0max100", 0, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			const desired = 4
			h.create("web", desired, &ecsapi.DeploymentConfiguration{MinimumHealthyPercent: awsapi.Int32(tc.min), MaximumPercent: awsapi.Int32(tc.max)})
			for range 3 {
				h.step()
			}
			rev1 := tdArn("web", 1)
			if n := len(h.tasks.running()[rev1]); n != desired {
				t.Fatalf("%d running before the deployment", n)
			}
			rev2 := h.tasks.register("web")
			out, err := h.svc.UpdateService(h.ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("web"), TaskDefinition: &rev2})
			if err != nil {
				t.Fatal(err)
			}
			if d := out.Service.Deployments; len(d) != 2 || *d[0].Status != "PRIMARY" || *d[0].TaskDefinition != rev2 ||
				*d[0].RolloutState != "IN_PROGRESS" || *d[1].Status != "ACTIVE" || *d[1].TaskDefinition != rev1 {
				t.Fatalf("deployments after UpdateService: %+v", d)
			}
			minHealthy := (desired*int(tc.min) + 99) / 100
			maxAlive := desired * int(tc.max) / 100
			for i := 0; ; i++ {
				if i == 50 {
					t.Fatal("deployment did not complete in 50 steps")
				}
				h.svc.Tick(h.ctx)
				run := h.tasks.running()
				if healthy := len(run[rev1]) + len(run[rev2]); healthy < minHealthy {
					t.Fatalf("step %d: %d healthy tasks, below minimumHealthyPercent (%d)", i, healthy, minHealthy)
				}
				if n := h.tasks.alive(); n > maxAlive {
					t.Fatalf("step %d: %d tasks, above maximumPercent (%d)", i, n, maxAlive)
				}
				s := h.describe("web")
				if len(s.Deployments) == 1 && *s.Deployments[0].RolloutState == "COMPLETED" {
					break
				}
				h.now = h.now.Add(time.Second)
				h.tasks.advance(h.now)
			}
			run := h.tasks.running()
			if len(run[rev2]) != desired || len(run[rev1]) != 0 {
				t.Fatalf("after the deployment: %d of revision 2, %d of revision 1", len(run[rev2]), len(run[rev1]))
			}
			s := h.describe("web")
			if *s.TaskDefinition != rev2 || *s.RunningCount != desired || !hasMessage(s, "(service web) has stopped ") {
				t.Fatalf("service %s running %d events %q", *s.TaskDefinition, *s.RunningCount, messages(s))
			}
			for _, tk := range h.tasks.tasks {
				if *tk.TaskDefinitionArn == rev1 && !strings.HasPrefix(awsapi.ToString(tk.StoppedReason), "Scaling activity initiated by (deployment ecs-svc/") {
					t.Fatalf("old task stopped with %q", awsapi.ToString(tk.StoppedReason))
				}
			}
		})
	}
}

func TestCircuitBreakerRollsBackAFailingDeployment(t *testing.T) {
	h := newHarness(t)
	cb := &ecsapi.DeploymentConfiguration{DeploymentCircuitBreaker: &ecsapi.DeploymentCircuitBreaker{Enable: awsapi.Bool(true), Rollback: awsapi.Bool(true)}}
	first := *h.create("web", 2, cb).Deployments[0].Id
	for range 3 {
		h.step()
	}
	rev1 := tdArn("web", 1)
	kept := h.tasks.running()[rev1]
	rev2 := h.tasks.register("web")
	h.tasks.failing[rev2] = true
	out, err := h.svc.UpdateService(h.ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("web"), TaskDefinition: &rev2})
	if err != nil {
		t.Fatal(err)
	}
	failing := *out.Service.Deployments[0].Id
	var s ecsapi.ServiceShape
	for i := 0; ; i++ {
		if i == 40 {
			t.Fatalf("no rollback in 40 steps: %+v", s.Deployments)
		}
		h.step()
		if got := h.tasks.running()[rev1]; len(got) < 2 {
			t.Fatalf("step %d: revision 1 down to %d tasks during the failing deployment", i, len(got))
		}
		s = h.describe("web")
		if *s.Deployments[0].TaskDefinition == rev1 {
			break
		}
	}
	if len(s.Deployments) != 2 {
		t.Fatalf("deployments after rollback: %d, want the rollback and the failed one", len(s.Deployments))
	}
	prim, failed := s.Deployments[0], s.Deployments[1]
	if *prim.RolloutState != "IN_PROGRESS" || *prim.RolloutStateReason != "ECS deployment circuit breaker: rolling back to deploymentId "+first+"." {
		t.Fatalf("rollback deployment %s %q", *prim.RolloutState, *prim.RolloutStateReason)
	}
	if *failed.Id != failing || *failed.Status != "ACTIVE" || *failed.RolloutState != "FAILED" ||
		*failed.RolloutStateReason != "ECS deployment circuit breaker: tasks failed to start." || *failed.FailedTasks < 3 {
		t.Fatalf("failed deployment %+v", failed)
	}
	if *s.TaskDefinition != rev1 {
		t.Fatalf("service task definition %s after rollback", *s.TaskDefinition)
	}
	if !hasMessage(s, "(service web) (deployment "+failing+") deployment failed: tasks failed to start.") {
		t.Fatalf("events %q", messages(s))
	}
	for range 5 {
		h.step()
	}
	s = h.describe("web")
	if len(s.Deployments) != 1 || *s.Deployments[0].RolloutState != "COMPLETED" || *s.RunningCount != 2 {
		t.Fatalf("after rollback: %+v running %d", s.Deployments, *s.RunningCount)
	}
	// The tasks of the good revision kept running: nothing was replaced.
	if got := h.tasks.running()[rev1]; strings.Join(got, ",") != strings.Join(kept, ",") {
		t.Fatalf("revision 1 tasks %v, want the original %v", got, kept)
	}
	var names []string
	for _, e := range h.busEvents("ECS Deployment State Change") {
		names = append(names, e["eventName"].(string)+"/"+e["eventType"].(string))
	}
	want := "SERVICE_DEPLOYMENT_IN_PROGRESS/INFO,SERVICE_DEPLOYMENT_COMPLETED/INFO,SERVICE_DEPLOYMENT_IN_PROGRESS/INFO," +
		"SERVICE_DEPLOYMENT_FAILED/ERROR,SERVICE_DEPLOYMENT_IN_PROGRESS/INFO,SERVICE_DEPLOYMENT_COMPLETED/INFO"
	if strings.Join(names, ",") != want {
		t.Fatalf("deployment events\n%s\nwant\n%s", strings.Join(names, ","), want)
	}
}

func TestCircuitBreakerWithNothingToRollBackToStopsLaunching(t *testing.T) {
	for _, rollback := range []bool{false, true} {
		h := newHarness(t)
		h.tasks.failing[tdArn("web", 1)] = true
		h.create("web", 1, &ecsapi.DeploymentConfiguration{DeploymentCircuitBreaker: &ecsapi.DeploymentCircuitBreaker{Enable: awsapi.Bool(true), Rollback: &rollback}})
		for range 200 {
			h.step()
		}
		s := h.describe("web")
		if d := s.Deployments; len(d) != 1 || *d[0].RolloutState != "FAILED" || *d[0].FailedTasks != 3 {
			t.Fatalf("rollback %v: deployments %+v", rollback, d)
		}
		if n := len(h.tasks.order); n != 3 {
			t.Fatalf("rollback %v: %d tasks launched, want 3 then none once FAILED", rollback, n)
		}
	}
}

func TestScaleInStopsSurplusTasks(t *testing.T) {
	h := newHarness(t)
	h.create("web", 3, nil)
	h.step()
	h.step()
	if _, err := h.svc.UpdateService(h.ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("web"), DesiredCount: awsapi.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	h.step()
	s := h.describe("web")
	want := "(service web) has stopped 2 running tasks: (task " + taskID(h.tasks.order[2]) + ") (task " + taskID(h.tasks.order[1]) + ")."
	if messages(s)[0] != want {
		t.Fatalf("events %q, want %q", messages(s), want)
	}
	h.step()
	if s = h.describe("web"); *s.RunningCount != 1 || len(s.Deployments) != 1 || *s.Deployments[0].DesiredCount != 1 {
		t.Fatalf("running %d deployments %+v", *s.RunningCount, s.Deployments)
	}
	// Scaling out again converges: what Application Auto Scaling relies on.
	if _, err := h.svc.UpdateService(h.ctx, &ecsapi.UpdateServiceInput{Cluster: awsapi.String("c"), Service: awsapi.String("web"), DesiredCount: awsapi.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	h.step()
	h.step()
	if s = h.describe("web"); *s.RunningCount != 5 || *s.DesiredCount != 5 {
		t.Fatalf("running %d desired %d", *s.RunningCount, *s.DesiredCount)
	}
}

func TestServicesResumeAfterRestart(t *testing.T) {
	h := newHarness(t)
	dep := *h.create("web", 2, nil).Deployments[0].Id
	h.step()
	h.step()
	// A task the deployment started but the record never saw (wharf stopped
	// between RunTask and saving) is adopted, not duplicated.
	if _, err := h.tasks.RunTask(callerCtx(h.ctx, account, region, "RunTask"), &ecsapi.RunTaskInput{TaskDefinition: awsapi.String(tdArn("web", 1)), Count: awsapi.Int32(1), StartedBy: &dep}); err != nil {
		t.Fatal(err)
	}
	h.tasks.advance(h.now)
	h.tasks.crash(h.tasks.order[0])
	h.svc = h.open()
	h.step()
	h.step()
	s := h.describe("web")
	if *s.RunningCount != 2 || *s.DesiredCount != 2 {
		t.Fatalf("after restart: running %d desired %d", *s.RunningCount, *s.DesiredCount)
	}
	if n := len(h.tasks.order); n != 3 {
		t.Fatalf("%d tasks ever started, want 3 (the adopted task replaced the crashed one)", n)
	}
}

func TestPublishMetricsPutsContainerInsightsCounts(t *testing.T) {
	h := newHarness(t)
	m := &fakeMetrics{}
	h.svc.SetMetrics(m)
	h.create("web", 2, nil)
	h.step()
	h.step()
	h.svc.PublishMetrics(h.ctx)
	got := map[string]float64{}
	for _, d := range m.data {
		if d.Dimensions["ClusterName"] != "c" || d.Dimensions["ServiceName"] != "web" || !d.HighResolution || d.Unit != "Count" {
			t.Fatalf("datum %+v", d)
		}
		got[d.MetricName] = d.Value
	}
	if got["RunningTaskCount"] != 2 || got["DesiredTaskCount"] != 2 || got["PendingTaskCount"] != 0 {
		t.Fatalf("metrics %v", got)
	}
}

func TestPublishMetricsPutsEveryServiceOfARegionAtOnce(t *testing.T) {
	h := newHarness(t)
	m := &fakeMetrics{}
	h.svc.SetMetrics(m)
	h.create("web", 2, nil)
	h.create("api", 1, nil)
	h.step()
	h.step()
	h.svc.PublishMetrics(h.ctx)
	running := map[string]float64{}
	for _, d := range m.data {
		if d.MetricName == "RunningTaskCount" {
			running[d.Dimensions["ServiceName"]] = d.Value
		}
	}
	if m.puts != 1 || len(m.data) != 8 || running["web"] != 2 || running["api"] != 1 {
		t.Fatalf("%d puts of %d data, RunningTaskCount %v; want 1 put of 8, web 2 and api 1", m.puts, len(m.data), running)
	}
}
