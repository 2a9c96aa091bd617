package kubernetes

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/wharf-dev/wharf/internal/runtime"
)

// The kubelet's words for a container's end, as Pod status reports them,
// mapped onto what ECS reports (exit codes, AWS's reasons, stop codes).
// Real Pods reaching these states are tested in test/kube.

func podWith(phase corev1.PodPhase, cs ...corev1.ContainerStatus) *corev1.Pod {
	p := &corev1.Pod{Status: corev1.PodStatus{Phase: phase, ContainerStatuses: cs}}
	p.Namespace, p.Name = "ns", "pod"
	for _, c := range cs {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c.Name})
	}
	return p
}

func TestContainerEndsMapToECS(t *testing.T) {
	rr := &Runner{ready: map[string]bool{}}
	oom := podWith(corev1.PodFailed, corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}})
	if st := rr.state(oom, "app", false); st.Running || st.ExitCode != 137 || !strings.HasPrefix(st.Reason, "OutOfMemoryError") {
		t.Errorf("OOM kill: %+v", st)
	}
	exit3 := podWith(corev1.PodFailed, corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}}})
	if st := rr.state(exit3, "app", false); st.ExitCode != 3 || st.Reason != "" {
		t.Errorf("exit 3: %+v", st)
	}
	evicted := podWith(corev1.PodFailed, corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137}}})
	evicted.Status.Reason, evicted.Status.Message = "Evicted", "The node was low on resource: memory."
	if st := rr.state(evicted, "app", false); st.StopCode != "TerminationNotice" || !strings.Contains(st.Reason, "low on resource") {
		t.Errorf("eviction: %+v", st)
	}
	running := podWith(corev1.PodRunning, corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	if st := rr.state(running, "app", false); !st.Running {
		t.Errorf("running: %+v", st)
	}
}

func TestStartedReportsPullAndStartFailures(t *testing.T) {
	images := map[string]string{"app": "127.0.0.1:1/nope:1"}
	pull := podWith(corev1.PodPending, corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "connection refused"}}})
	_, err := started(pull, images)
	var pe *runtime.PullError
	if !errors.As(err, &pe) || pe.Image != "127.0.0.1:1/nope:1" || !strings.Contains(pe.Err.Error(), "connection refused") {
		t.Errorf("pull failure: %v", err)
	}
	startErr := podWith(corev1.PodFailed, corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: "exec: no such file"}}})
	if _, err := started(startErr, images); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("start failure: %v", err)
	}
	pending := podWith(corev1.PodPending, corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}})
	if ok, err := started(pending, images); ok || err != nil {
		t.Errorf("creating: %v %v", ok, err)
	}
	init := podWith(corev1.PodFailed, corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}})
	init.Spec.InitContainers = []corev1.Container{{Name: "migrate"}}
	init.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2}}}}
	if _, err := started(init, images); !errors.Is(err, runtime.ErrDependency) {
		t.Errorf("failed init container: %v", err)
	}
}
