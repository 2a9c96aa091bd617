package ecs

import (
	"context"
	"fmt"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// Timeline records the hops of tasks: started (and by what), each state
// change, each container's exit. timeline.Log implements it.
type Timeline interface {
	Record(ctx context.Context, e timeline.Entry)
}

// SetTimeline makes the service record its hops on t. Call it before Run.
func (s *Service) SetTimeline(t Timeline) { s.tl = t }

func (s *Service) hop(ctx context.Context, e timeline.Entry) {
	if s.tl != nil {
		e.Service = "ecs"
		s.tl.Record(ctx, e)
	}
}

// started records a task RunTask (or a rule, or a service) created.
func (s *Service) started(ctx context.Context, r *taskRecord) {
	arn := awsapi.ToString(r.Task.TaskArn)
	def := awsapi.ToString(r.Task.TaskDefinitionArn)
	def = def[strings.LastIndexByte(def, '/')+1:]
	by := awsapi.ToString(r.Task.StartedBy)
	if by == "" {
		by = "RunTask"
	}
	s.hop(ctx, timeline.Entry{Kind: "RunTask", Resource: arn, Subject: arn, Cause: r.Cause,
		Detail: fmt.Sprintf("task %s of %s started by %s", r.id(), def, by)})
}

// stateChanged records the task's new state and returns the context its
// Task State Change event is published under, so the event names the task
// as its cause. RUNNING and STOPPED are info lines; the states between are
// quiet.
func (s *Service) stateChanged(r *taskRecord) context.Context {
	arn := awsapi.ToString(r.Task.TaskArn)
	ctx := timeline.WithCause(context.Background(), arn)
	last := taskstate.Of(r.Task.LastStatus)
	e := timeline.Entry{Kind: "TaskStateChange", Resource: arn, Subject: arn,
		Detail: fmt.Sprintf("task %s is %s", r.id(), last), Quiet: last != taskstate.Running && !last.Terminal()}
	if last.Terminal() {
		code := taskstate.CodeOf(r.Task.StopCode)
		e.Detail += fmt.Sprintf(" (%s: %s)", code, awsapi.ToString(r.Task.StoppedReason))
		if code == taskstate.TaskFailedToStart {
			e.Outcome, e.Error = timeline.Failed, awsapi.ToString(r.Task.StoppedReason)
		}
	}
	s.hop(ctx, e)
	return ctx
}

// containerChanged records a container's exit (other container states are
// in the task's), and returns the context of its Container State Change event.
func (s *Service) containerChanged(r *taskRecord, c *ecsapi.Container) context.Context {
	arn := awsapi.ToString(r.Task.TaskArn)
	ctx := timeline.WithCause(context.Background(), arn)
	if !taskstate.Of(c.LastStatus).Terminal() {
		return ctx
	}
	e := timeline.Entry{Kind: "ContainerExited", Resource: arn, Subject: arn, Outcome: timeline.OK}
	name := awsapi.ToString(c.Name)
	if c.ExitCode != nil {
		e.Detail = fmt.Sprintf("container %s of task %s exited with code %d", name, r.id(), *c.ExitCode)
		if *c.ExitCode != 0 {
			e.Outcome, e.Error = timeline.Failed, fmt.Sprintf("exit code %d", *c.ExitCode)
		}
	} else {
		e.Detail = fmt.Sprintf("container %s of task %s stopped", name, r.id())
	}
	if reason := awsapi.ToString(c.Reason); reason != "" {
		e.Detail += ": " + reason
		if e.Outcome == timeline.Failed {
			e.Error += ": " + reason
		}
	}
	s.hop(ctx, e)
	return ctx
}
