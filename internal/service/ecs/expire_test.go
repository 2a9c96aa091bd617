package ecs

import (
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
)

// TestStoppedTasksExpireAfterAnHour: a stopped task stays listed and
// described for an hour after it stops, as on AWS, then is gone; a running
// task stays.
func TestStoppedTasksExpireAfterAnHour(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	td := h.register("app", container("main", "img", true))
	stopped := *h.run(td, nil).TaskArn
	h.waitStatus(stopped, "RUNNING")
	h.fake.exit("main", 0)
	h.waitStatus(stopped, "STOPPED")
	running := *h.run(td, nil).TaskArn
	h.waitStatus(running, "RUNNING")

	list := func(status string) []string {
		t.Helper()
		out, err := h.svc.ListTasks(h.ctx, &ecsapi.ListTasksInput{DesiredStatus: &status})
		if err != nil {
			t.Fatal(err)
		}
		return out.TaskArns
	}
	advance := func(d time.Duration) {
		now := h.clock.Load().Add(d)
		h.clock.Store(&now)
	}

	advance(59 * time.Minute)
	if n, err := h.svc.expireStopped(); err != nil || n != 0 {
		t.Fatalf("after 59 minutes expireStopped = %d, %v", n, err)
	}
	if got := list("STOPPED"); len(got) != 1 || got[0] != stopped {
		t.Fatalf("stopped tasks after 59 minutes = %v", got)
	}
	h.describe(stopped)

	advance(2 * time.Minute)
	if n, err := h.svc.expireStopped(); err != nil || n != 1 {
		t.Fatalf("after 61 minutes expireStopped = %d, %v", n, err)
	}
	if got := list("STOPPED"); len(got) != 0 {
		t.Errorf("stopped tasks after 61 minutes = %v", got)
	}
	out, err := h.svc.DescribeTasks(h.ctx, &ecsapi.DescribeTasksInput{Tasks: []string{stopped}})
	if err != nil || len(out.Tasks) != 0 || len(out.Failures) != 1 || awsapi.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Errorf("DescribeTasks of an expired task = %+v, %v", out, err)
	}
	if got := list("RUNNING"); len(got) != 1 || got[0] != running {
		t.Errorf("running tasks = %v", got)
	}
	if n, err := h.svc.expireStopped(); err != nil || n != 0 {
		t.Errorf("a second expireStopped = %d, %v", n, err)
	}
}
