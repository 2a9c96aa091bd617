package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
)

// startTask starts every container at once on a runtime that creates a
// task's containers together and orders them itself (Kubernetes: a Pod),
// instead of startReady's one by one. It returns false on shutdown.
func (t *taskRun) startTask(tr runtime.TaskRunner) bool {
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	go func() {
		select {
		case <-t.sup.stop: // StopTask while the task is starting
			cancel()
		case <-ctx.Done():
		}
	}()
	ids, err := tr.StartTask(ctx, t.s.runtimeTask(t.r, t.fileEnv))
	if t.ctx.Err() != nil {
		return false
	}
	if err != nil {
		select {
		case <-t.sup.stop:
			t.userStop()
			return true
		default:
		}
		var pe *runtime.PullError
		reason := "CannotStartContainerError: " + err.Error()
		switch {
		case errors.As(err, &pe):
			reason = "CannotPullContainerError: " + pe.Err.Error()
			for _, cd := range t.r.Def.ContainerDefinitions {
				if awsapi.ToString(cd.Image) == pe.Image {
					t.containerReason[awsapi.ToString(cd.Name)] = reason
				}
			}
		case errors.Is(err, runtime.ErrDependency):
			reason = "Dependency condition not met: " + strings.TrimPrefix(err.Error(), runtime.ErrDependency.Error()+": ")
		}
		t.fail(taskstate.TaskFailedToStart, reason)
		return true
	}
	for _, cd := range t.pending {
		name := awsapi.ToString(cd.Name)
		t.r.Runtime[name] = ids[name]
	}
	if _, err := t.s.update(t.key, func(r *taskRecord) {
		for j := range r.Task.Containers {
			name := awsapi.ToString(r.Task.Containers[j].Name)
			r.Runtime[name] = ids[name]
			r.Task.Containers[j].RuntimeId = awsapi.String(ids[name])
		}
	}); err != nil {
		t.s.log.Error("ecs: task state", "task", t.key, "err", err)
	}
	for _, cd := range t.pending {
		name := awsapi.ToString(cd.Name)
		t.watch(name, ids[name], true)
	}
	t.pending = nil
	return true
}

// runtimeTask is task r as a TaskRunner starts it: every container's spec,
// dependencies first, with its dependencies and stop timeout.
func (s *Service) runtimeTask(r *taskRecord, fileEnv map[string]map[string]string) runtime.Task {
	t := runtime.Task{
		Name: runtimeName(r, "task"), ID: r.id(), Cluster: arnName(awsapi.ToString(r.Task.ClusterArn)),
		Labels: map[string]string{
			labelManaged: "true", labelTaskArn: awsapi.ToString(r.Task.TaskArn), labelCluster: awsapi.ToString(r.Task.ClusterArn),
			labelFamily: awsapi.ToString(r.Def.Family), labelRevision: fmt.Sprint(awsapi.ToInt32(r.Def.Revision)),
		},
	}
	for _, cd := range startOrder(&r.Def) {
		name := awsapi.ToString(cd.Name)
		tc := runtime.TaskContainer{Name: name, Spec: s.spec(r, cd, fileEnv[name]), Essential: awsapi.ToBool(cd.Essential), StopTimeout: defaultStopTimeout}
		if cd.StopTimeout != nil {
			tc.StopTimeout = time.Duration(*cd.StopTimeout) * time.Second
		}
		for _, d := range cd.DependsOn {
			tc.DependsOn = append(tc.DependsOn, runtime.Dependency{Container: awsapi.ToString(d.ContainerName), Condition: awsapi.ToString(d.Condition)})
		}
		t.Containers = append(t.Containers, tc)
	}
	return t
}

// arnName is the name at the end of an ARN (a cluster's).
func arnName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
