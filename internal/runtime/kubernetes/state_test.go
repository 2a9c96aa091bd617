package kubernetes

import (
	"errors"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/runtime"
)

// The kubelet's words for a container's end, as Pod status reports them,
// mapped onto what ECS reports (exit codes, AWS's reasons, stop codes).
// Real Pods reaching these states are tested in test/kube.

func podWith(phase string, cs ...ContainerStatus) *Pod {
	p := &Pod{Status: PodStatus{Phase: phase, ContainerStatuses: cs}}
	p.Namespace, p.Name = "ns", "pod"
	for _, c := range cs {
		p.Spec.Containers = append(p.Spec.Containers, Container{Name: c.Name})
	}
	return p
}

func TestContainerEndsMapToECS(t *testing.T) {
	rr := &Runner{ready: map[string]bool{}}
	oom := podWith(PodFailed, ContainerStatus{Name: "app", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}})
	if st := rr.state(oom, "app", false); st.Running || st.ExitCode != 137 || !strings.HasPrefix(st.Reason, "OutOfMemoryError") {
		t.Errorf("OOM kill: %+v", st)
	}
	exit3 := podWith(PodFailed, ContainerStatus{Name: "app", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 3, Reason: "Error"}}})
	if st := rr.state(exit3, "app", false); st.ExitCode != 3 || st.Reason != "" {
		t.Errorf("exit 3: %+v", st)
	}
	evicted := podWith(PodFailed, ContainerStatus{Name: "app", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 137}}})
	evicted.Status.Reason, evicted.Status.Message = "Evicted", "The node was low on resource: memory."
	if st := rr.state(evicted, "app", false); st.StopCode != "TerminationNotice" || !strings.Contains(st.Reason, "low on resource") {
		t.Errorf("eviction: %+v", st)
	}
	running := podWith(PodRunning, ContainerStatus{Name: "app", State: ContainerState{Running: &ContainerStateRunning{}}})
	if st := rr.state(running, "app", false); !st.Running {
		t.Errorf("running: %+v", st)
	}
}

func TestStartedReportsPullAndStartFailures(t *testing.T) {
	images := map[string]string{"app": "127.0.0.1:1/nope:1"}
	pull := podWith(PodPending, ContainerStatus{Name: "app", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "ErrImagePull", Message: "connection refused"}}})
	_, err := started(pull, images)
	var pe *runtime.PullError
	if !errors.As(err, &pe) || pe.Image != "127.0.0.1:1/nope:1" || !strings.Contains(pe.Err.Error(), "connection refused") {
		t.Errorf("pull failure: %v", err)
	}
	startErr := podWith(PodFailed, ContainerStatus{Name: "app", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: "exec: no such file"}}})
	if _, err := started(startErr, images); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("start failure: %v", err)
	}
	pending := podWith(PodPending, ContainerStatus{Name: "app", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "ContainerCreating"}}})
	if ok, err := started(pending, images); ok || err != nil {
		t.Errorf("creating: %v %v", ok, err)
	}
	init := podWith(PodFailed, ContainerStatus{Name: "app", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "PodInitializing"}}})
	init.Spec.InitContainers = []Container{{Name: "migrate"}}
	init.Status.InitContainerStatuses = []ContainerStatus{{Name: "migrate", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 2}}}}
	if _, err := started(init, images); !errors.Is(err, runtime.ErrDependency) {
		t.Errorf("failed init container: %v", err)
	}
}
