package ecs

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/runtime"
)

func TestEssentialContainerExitStopsTheTask(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	td := h.register("app", container("main", "img", true), container("side", "img", false))
	task := h.run(td, nil)
	if *task.LastStatus != "PROVISIONING" || *task.DesiredStatus != "RUNNING" || *task.Group != "family:app" {
		t.Errorf("RunTask returned %s/%s group %s", *task.LastStatus, *task.DesiredStatus, *task.Group)
	}
	arn := *task.TaskArn
	if !strings.HasPrefix(arn, "arn:aws:ecs:us-east-1:000000000000:task/default/") {
		t.Errorf("task ARN %s is not in the long format", arn)
	}
	h.waitStatus(arn, "RUNNING")
	h.fake.exit("main", 3)
	d := h.waitStatus(arn, "STOPPED")
	if d["stopCode"] != "EssentialContainerExited" || d["stoppedReason"] != "Essential container in task exited" || d["desiredStatus"] != "STOPPED" {
		t.Errorf("STOPPED detail = %v", d)
	}
	got := h.describe(arn)
	codes := map[string]any{}
	for _, c := range got.Containers {
		codes[*c.Name] = awsapi.ToInt32(c.ExitCode)
		if *c.LastStatus != "STOPPED" {
			t.Errorf("container %s is %s", *c.Name, *c.LastStatus)
		}
	}
	// The non-essential container was stopped (SIGTERM) with the default timeout.
	if codes["main"] != int32(3) || codes["side"] != int32(143) {
		t.Errorf("exit codes = %v", codes)
	}
	if !slices.Contains(h.fake.stops, "side/30s") {
		t.Errorf("stops = %v", h.fake.stops)
	}
	if got.StoppedAt == nil || got.StartedAt == nil || got.StoppingAt == nil || got.PullStartedAt == nil || got.ExecutionStoppedAt == nil {
		t.Errorf("timestamps missing: %+v", got)
	}
}

func TestNonEssentialExitKeepsTheTaskRunning(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	task := h.run(h.register("app", container("main", "img", true), container("init", "img", false)), nil)
	h.waitStatus(*task.TaskArn, "RUNNING")
	h.fake.exit("init", 0)
	h.waitStatusContainer(*task.TaskArn, "init", "STOPPED")
	if got := h.describe(*task.TaskArn); *got.LastStatus != "RUNNING" {
		t.Errorf("task is %s after a non-essential exit", *got.LastStatus)
	}
}

// waitStatusContainer waits for an event where container name has status.
func (h *harness) waitStatusContainer(arn, name, status string) {
	h.t.Helper()
	h.waitEvent(arn, name+" "+status, func(d map[string]any) bool {
		for _, c := range d["containers"].([]any) {
			c := c.(map[string]any)
			if c["name"] == name && c["lastStatus"] == status {
				return true
			}
		}
		return false
	})
}

func TestStopTaskIsUserInitiatedWithStopTimeout(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	c := container("main", "img", true)
	c.StopTimeout = awsapi.Int32(2)
	task := h.run(h.register("app", c), nil)
	h.waitStatus(*task.TaskArn, "RUNNING")
	out, err := h.svc.StopTask(h.ctx, &ecsapi.StopTaskInput{Task: task.TaskArn, Reason: awsapi.String("deploying")})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Task.DesiredStatus != "STOPPED" {
		t.Errorf("StopTask returned desired %s", *out.Task.DesiredStatus)
	}
	d := h.waitStatus(*task.TaskArn, "STOPPED")
	if d["stopCode"] != "UserInitiated" || d["stoppedReason"] != "deploying" {
		t.Errorf("detail = %v", d)
	}
	if !slices.Contains(h.fake.stops, "main/2s") {
		t.Errorf("stops = %v", h.fake.stops)
	}
}

func TestUnpullableImageFailsToStart(t *testing.T) {
	f := newFakeRunner()
	f.failing["nope"] = &runtime.PullError{Image: "nope", Err: errors.New("pull access denied for nope")}
	h := newHarness(t, f, nil)
	task := h.run(h.register("app", container("main", "nope", true)), nil)
	d := h.waitStatus(*task.TaskArn, "STOPPED")
	if d["stopCode"] != "TaskFailedToStart" || !strings.HasPrefix(d["stoppedReason"].(string), "CannotPullContainerError: pull access denied") {
		t.Errorf("detail = %v", d)
	}
	c := h.describe(*task.TaskArn).Containers[0]
	if !strings.HasPrefix(awsapi.ToString(c.Reason), "CannotPullContainerError") || c.ExitCode != nil {
		t.Errorf("container = %+v", c)
	}
}

func TestDependsOnOrdersContainerStarts(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	app := container("app", "img", true)
	app.DependsOn = []ecsapi.ContainerDependency{{ContainerName: awsapi.String("migrate"), Condition: awsapi.String("SUCCESS")}, {ContainerName: awsapi.String("proxy"), Condition: awsapi.String("START")}}
	task := h.run(h.register("app", app, container("migrate", "img", false), container("proxy", "img", false)), nil)
	h.waitStatus(*task.TaskArn, "PENDING")
	for !h.fake.started("migrate") || !h.fake.started("proxy") {
		h.rec.Wait(h.ctx, len(h.rec.Events())+1)
	}
	if h.fake.started("app") {
		t.Fatal("app started before migrate completed")
	}
	h.fake.exit("migrate", 0)
	h.waitStatus(*task.TaskArn, "RUNNING")
	if !h.fake.started("app") {
		t.Error("app not started once migrate succeeded")
	}
}

func TestFailedSuccessDependencyStopsTheTask(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	app := container("app", "img", true)
	app.DependsOn = []ecsapi.ContainerDependency{{ContainerName: awsapi.String("migrate"), Condition: awsapi.String("SUCCESS")}}
	task := h.run(h.register("app", app, container("migrate", "img", false)), nil)
	for !h.fake.started("migrate") {
		h.rec.Wait(h.ctx, len(h.rec.Events())+1)
	}
	h.fake.exit("migrate", 1)
	d := h.waitStatus(*task.TaskArn, "STOPPED")
	if d["stopCode"] != "TaskFailedToStart" || h.fake.started("app") {
		t.Errorf("detail = %v, app started %v", d, h.fake.started("app"))
	}
}

func TestContainerEnvironmentAndOverrides(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	c := container("main", "img", true)
	c.Command = []string{"default"}
	c.Environment = []ecsapi.KeyValuePair{{Name: awsapi.String("A"), Value: awsapi.String("1")}, {Name: awsapi.String("B"), Value: awsapi.String("1")}}
	task := h.run(h.register("app", c), &ecsapi.TaskOverride{ContainerOverrides: []ecsapi.ContainerOverride{{
		Name: awsapi.String("main"), Command: []string{"over"}, Environment: []ecsapi.KeyValuePair{{Name: awsapi.String("B"), Value: awsapi.String("2")}},
	}}})
	h.waitStatus(*task.TaskArn, "RUNNING")
	sp := h.fake.spec("main")
	env := map[string]string{}
	for _, kv := range sp.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	id := (*task.TaskArn)[strings.LastIndexByte(*task.TaskArn, '/')+1:]
	ep := "http://" + h.svc.EndpointAddr()
	want := map[string]string{
		"A": "1", "B": "2", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": ep + "/v2/credentials/" + id,
		"ECS_CONTAINER_METADATA_URI_V4":      ep + "/v4/" + id + "/main",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == "" || !slices.Equal(sp.Command, []string{"over"}) {
		t.Errorf("token %q command %v", env["AWS_CONTAINER_AUTHORIZATION_TOKEN"], sp.Command)
	}
	if sp.Labels[labelTaskArn] != *task.TaskArn || sp.Labels[labelManaged] != "true" {
		t.Errorf("labels = %v", sp.Labels)
	}
}

func TestRestartReadoptsRunningContainersAndStopsVanishedOnes(t *testing.T) {
	f := newFakeRunner()
	h := newHarness(t, f, nil)
	td := h.register("app", container("main", "img", true))
	kept := h.run(td, nil)
	gone := h.run(td, nil)
	h.waitStatus(*kept.TaskArn, "RUNNING")
	h.waitStatus(*gone.TaskArn, "RUNNING")
	h.stop() // wharf stops; containers keep running
	f.mu.Lock()
	for id, c := range f.ctrs {
		if c.spec.Labels[labelTaskArn] == *gone.TaskArn {
			delete(f.ctrs, id) // removed while wharf was down
		}
	}
	f.mu.Unlock()

	h2 := newHarness(t, f, h.st)
	d := h2.waitStatus(*gone.TaskArn, "STOPPED")
	if d["stopCode"] != "EssentialContainerExited" {
		t.Errorf("vanished task detail = %v", d)
	}
	if r := h2.describe(*gone.TaskArn).Containers[0].Reason; !strings.Contains(awsapi.ToString(r), "no longer exists") {
		t.Errorf("reason = %v", awsapi.ToString(r))
	}
	if got := h2.describe(*kept.TaskArn); *got.LastStatus != "RUNNING" {
		t.Fatalf("re-adopted task is %s", *got.LastStatus)
	}
	f.exitTask(*kept.TaskArn, 0)
	d = h2.waitStatus(*kept.TaskArn, "STOPPED")
	if d["stopCode"] != "EssentialContainerExited" {
		t.Errorf("re-adopted task detail = %v", d)
	}
}

func TestDescribeTasksReportsUnknownTasksAsFailures(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	out, err := h.svc.DescribeTasks(h.ctx, &ecsapi.DescribeTasksInput{Tasks: []string{"0123", "arn:aws:ecs:us-east-1:000000000000:task/default/abc"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 0 || len(out.Failures) != 2 || *out.Failures[0].Reason != "MISSING" ||
		*out.Failures[0].Arn != "arn:aws:ecs:us-east-1:000000000000:task/default/0123" {
		t.Errorf("out = %+v", out)
	}
}

func TestEventDetailHasAWSShape(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	task := h.run(h.register("app", container("main", "img", true)), nil)
	d := h.waitStatus(*task.TaskArn, "RUNNING")
	for _, k := range []string{"clusterArn", "taskArn", "taskDefinitionArn", "desiredStatus", "containers", "group", "launchType", "version", "createdAt", "startedAt", "updatedAt", "overrides"} {
		if _, ok := d[k]; !ok {
			t.Errorf("detail lacks %s: %v", k, d)
		}
	}
	if d["createdAt"] != "2025-01-02T03:04:05.000Z" {
		t.Errorf("createdAt = %v", d["createdAt"])
	}
	ev := h.rec.Events()[0]
	if ev.Source != "aws.ecs" || ev.DetailType != "ECS Task State Change" || ev.Resources[0] != *task.TaskArn {
		t.Errorf("event = %+v", ev)
	}
}

func TestMountsUlimitsAndHostPortBindings(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	c := container("main", "img", true)
	c.MountPoints = []ecsapi.MountPoint{{SourceVolume: awsapi.String("data"), ContainerPath: awsapi.String("/data"), ReadOnly: awsapi.Bool(true)}}
	c.Ulimits = []ecsapi.Ulimit{{Name: awsapi.String("nofile"), SoftLimit: awsapi.Int32(1024), HardLimit: awsapi.Int32(2048)}}
	c.PortMappings = []ecsapi.PortMapping{{ContainerPort: awsapi.Int32(8080)}}
	family := "app"
	out, err := h.svc.RegisterTaskDefinition(h.ctx, &ecsapi.RegisterTaskDefinitionInput{Family: &family, ContainerDefinitions: []ecsapi.ContainerDefinition{c},
		Volumes: []ecsapi.Volume{{Name: awsapi.String("data"), Host: &ecsapi.HostVolumeProperties{SourcePath: awsapi.String("/srv/data")}}}})
	if err != nil {
		t.Fatal(err)
	}
	task := h.run(*out.TaskDefinition.TaskDefinitionArn, nil)
	h.waitStatus(*task.TaskArn, "RUNNING")
	sp := h.fake.spec("main")
	if !slices.Equal(sp.Binds, []string{"/srv/data:/data:ro"}) || len(sp.Ulimits) != 1 || sp.Ulimits[0] != (runtime.Ulimit{Name: "nofile", Soft: 1024, Hard: 2048}) {
		t.Errorf("binds %v ulimits %v", sp.Binds, sp.Ulimits)
	}
	nb := h.describe(*task.TaskArn).Containers[0].NetworkBindings
	if len(nb) != 1 || *nb[0].HostPort != 8080 || *nb[0].Protocol != "tcp" {
		t.Errorf("network bindings = %+v", nb)
	}
}

func TestUnsupportedFieldsAreNamed(t *testing.T) {
	c := container("main", "img", true)
	c.HealthCheck = &ecsapi.HealthCheck{Command: []string{"CMD", "true"}}
	c.Secrets = []ecsapi.Secret{{Name: awsapi.String("x")}}
	got := unsupported([]ecsapi.ContainerDefinition{c, c}, []ecsapi.Volume{{Name: awsapi.String("scratch")}})
	if !slices.Equal(got, []string{"secrets", "volumes without host.sourcePath"}) {
		t.Errorf("unsupported = %v", got)
	}
	if got := unsupported([]ecsapi.ContainerDefinition{container("a", "b", true)}, nil); len(got) != 0 {
		t.Errorf("plain definition flagged: %v", got)
	}
}

func TestContainerStateChangeEvents(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	task := h.run(h.register("app", container("main", "img", true)), nil)
	h.waitStatus(*task.TaskArn, "RUNNING")
	h.fake.exit("main", 4)
	h.waitStatus(*task.TaskArn, "STOPPED")
	var got []string
	for _, e := range h.rec.Events() {
		if e.DetailType != "ECS Container State Change" {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d["taskArn"] != *task.TaskArn || d["clusterArn"] != "arn:aws:ecs:us-east-1:000000000000:cluster/default" || e.Resources[0] != d["containerArn"] {
			t.Errorf("container event = %v", d)
		}
		got = append(got, fmt.Sprint(d["name"], " ", d["lastStatus"], " ", d["exitCode"]))
	}
	if !slices.Equal(got, []string{"main RUNNING <nil>", "main STOPPED 4"}) {
		t.Errorf("container events = %q", got)
	}
}

func TestEphemeralShutdownRemovesRunningContainers(t *testing.T) {
	for _, remove := range []bool{false, true} {
		f := newFakeRunner()
		h := newHarness(t, f, nil)
		h.svc.removeOnShutdown = remove
		task := h.run(h.register("app", container("main", "img", true)), nil)
		h.waitStatus(*task.TaskArn, "RUNNING")
		h.stop()
		f.mu.Lock()
		left := len(f.ctrs)
		f.mu.Unlock()
		if want := map[bool]int{false: 1, true: 0}[remove]; left != want {
			t.Errorf("removeOnShutdown=%v: %d containers left, want %d", remove, left, want)
		}
	}
}

func TestStopTaskWhileStartingStartsNothingMore(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	app := container("app", "img", true)
	app.DependsOn = []ecsapi.ContainerDependency{{ContainerName: awsapi.String("init"), Condition: awsapi.String("COMPLETE")}}
	task := h.run(h.register("app", app, container("init", "img", false)), nil)
	h.waitStatus(*task.TaskArn, "PENDING")
	for !h.fake.started("init") {
		h.rec.Wait(h.ctx, len(h.rec.Events())+1)
	}
	if _, err := h.svc.StopTask(h.ctx, &ecsapi.StopTaskInput{Task: task.TaskArn}); err != nil {
		t.Fatal(err)
	}
	d := h.waitStatus(*task.TaskArn, "STOPPED")
	if d["stopCode"] != "UserInitiated" || d["stoppedReason"] != "Task stopped by user" || h.fake.started("app") {
		t.Errorf("detail = %v, app started %v", d, h.fake.started("app"))
	}
	if d["startedAt"] != nil {
		t.Errorf("a task stopped while starting has startedAt %v", d["startedAt"])
	}
}
