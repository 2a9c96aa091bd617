package ecs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/store"
)

// taskRun is one task's supervision from launch (or adoption) until it stops:
// the containers started and exited so far, their health, and the first reason
// the task has to stop. supervise drives it one step at a time:
//
//	PENDING: start every container whose dependencies are met
//	RUNNING: once none is left to start
//	then:    wait for an exit, a health change or a stop request
//
// until a stop code is set; finish then takes the task to STOPPED.
type taskRun struct {
	s   *Service
	ctx context.Context
	sup *supervisor
	key string
	r   *taskRecord

	exits   chan exit
	pending []*ecsapi.ContainerDefinition // not started yet, in start order
	started map[string]bool
	exited  map[string]*exit
	health  map[string]taskstate.Health // ECS health status of containers with a health check
	running bool                        // the task was recorded RUNNING
	fileEnv map[string]map[string]string

	stopCode        taskstate.StopCode // set once: the task's first reason to stop
	stopReason      string
	containerReason map[string]string // why a container never started
	logs            sync.WaitGroup
}

// supervise drives a task: start its containers in dependency order, mark it
// RUNNING, watch for container exits and stop requests, then stop it. With
// adopt it takes over a task a previous wharf started.
func (s *Service) supervise(ctx context.Context, sup *supervisor, r *taskRecord, adopt bool) {
	t := &taskRun{s: s, ctx: ctx, sup: sup, key: r.key(), r: r,
		exits:   make(chan exit, len(r.Def.ContainerDefinitions)),
		started: map[string]bool{}, exited: map[string]*exit{}, health: map[string]taskstate.Health{},
		containerReason: map[string]string{}, running: adopt}
	var healthTick <-chan time.Time
	if hasHealthCheck(&r.Def) {
		tick := time.NewTicker(s.healthPoll)
		defer tick.Stop()
		healthTick = tick.C
	}
	if adopt {
		t.adopt()
	} else if !t.provision() {
		return
	}
	if tr, ok := s.runner.(runtime.TaskRunner); ok && !adopt && !t.stopped() && !t.startTask(tr) {
		return // shutdown
	}
	for !t.stopped() {
		if !t.startReady() || !t.markRunning() {
			return // shutdown, or the store failed
		}
		if t.stopped() {
			break
		}
		if !t.await(healthTick) {
			return // shutdown: the next wharf re-adopts the task
		}
	}
	s.finish(ctx, t.key, t.r, t.exits, t.exited, t.containerReason, t.stopCode, t.stopReason, &t.logs)
}

func hasHealthCheck(def *ecsapi.TaskDefinition) bool {
	for _, cd := range def.ContainerDefinitions {
		if cd.HealthCheck != nil {
			return true
		}
	}
	return false
}

// stopped reports whether the task has a reason to stop.
func (t *taskRun) stopped() bool { return t.stopCode != "" }

// fail records why the task stops, unless it already has a reason.
func (t *taskRun) fail(code taskstate.StopCode, reason string) {
	if !t.stopped() {
		t.stopCode, t.stopReason = code, reason
	}
}

// adopt watches the containers of a task a previous wharf started; one with
// no container recorded has vanished.
func (t *taskRun) adopt() {
	for _, cd := range t.r.Def.ContainerDefinitions {
		name := awsapi.ToString(cd.Name)
		if id := t.r.Runtime[name]; id != "" {
			t.watch(name, id, false)
		} else {
			t.exits <- exit{name: name, vanished: true}
		}
	}
}

// provision records the task PENDING and fetches its environment files. It
// returns false when the task cannot go on being supervised (shutdown, or the
// store failed); a task whose files cannot be read is failed, not abandoned.
func (t *taskRun) provision() bool {
	t.pending = startOrder(&t.r.Def)
	now := t.s.now().UTC()
	r, err := t.s.update(t.key, func(r *taskRecord) { r.Task.LastStatus, r.Task.PullStartedAt = taskstate.Pending.Ptr(), &now })
	if err != nil {
		t.s.log.Error("ecs: task state", "task", t.key, "err", err)
		return false
	}
	t.r = r
	// Environment files are task resources: fetched before any container
	// starts, and a task whose files cannot be read never starts (AWS's
	// "ResourceInitializationError: failed to download env files").
	if t.fileEnv, err = t.s.loadEnvFiles(t.ctx, t.r); err != nil {
		if t.ctx.Err() != nil {
			return false
		}
		t.fail(taskstate.TaskFailedToStart, "ResourceInitializationError: failed to download env files: "+err.Error())
	}
	return true
}

// watch follows a started container: its exit reaches t.exits, and an
// awslogs container's output goes to CloudWatch Logs.
func (t *taskRun) watch(name, id string, withLogs bool) {
	t.started[name] = true
	t.s.wg.Add(1)
	go func() {
		defer t.s.wg.Done()
		st, err := t.s.runner.Wait(t.ctx, id)
		if t.ctx.Err() != nil {
			return // shutdown: the next wharf re-adopts the task
		}
		t.exits <- exit{name: name, state: st, vanished: errors.Is(err, runtime.ErrNotFound) || (err != nil && st.ID == "")}
	}()
	if cd := containerDef(&t.r.Def, name); withLogs && cd != nil {
		t.s.pumpLogs(t.ctx, &t.logs, t.r, cd, id)
	}
}

// userStop stops the task for StopTask, with the code and reason it stored.
func (t *taskRun) userStop() {
	var cur taskRecord
	err := t.s.st.View(func(tx store.Tx) error {
		found, err := getJSON(tx, t.key, &cur)
		if found {
			t.fail(taskstate.CodeOf(cur.Task.StopCode), awsapi.ToString(cur.Task.StoppedReason))
		}
		return err
	})
	if err != nil {
		t.s.log.Error("ecs: read the stop reason", "task", t.key, "err", err)
	}
	t.fail(taskstate.UserInitiated, "Task stopped by user")
}

// startReady starts every pending container whose dependencies are met,
// stopping at the first that cannot start. It returns false on shutdown.
func (t *taskRun) startReady() bool {
	for i := 0; i < len(t.pending) && !t.stopped(); {
		select {
		case <-t.sup.stop: // StopTask while the task is starting
			t.userStop()
			continue
		default:
		}
		cd := t.pending[i]
		name := awsapi.ToString(cd.Name)
		ok, never := ready(cd, t.started, t.exited, t.health)
		if never != "" {
			t.containerReason[name] = never
			t.fail(taskstate.TaskFailedToStart, "Dependency condition not met: "+never)
			break
		}
		if !ok {
			i++
			continue
		}
		id, err := t.s.runner.Start(t.ctx, t.s.spec(t.r, cd, t.fileEnv[name]))
		if err != nil {
			if t.ctx.Err() != nil {
				return false
			}
			var pe *runtime.PullError
			reason := "CannotStartContainerError: " + err.Error()
			if errors.As(err, &pe) {
				reason = "CannotPullContainerError: " + pe.Err.Error()
			}
			t.containerReason[name] = reason
			t.fail(taskstate.TaskFailedToStart, reason)
			break
		}
		t.r.Runtime[name] = id
		t.pending = append(t.pending[:i], t.pending[i+1:]...)
		t.watch(name, id, true)
		if _, err := t.s.update(t.key, func(r *taskRecord) {
			r.Runtime[name] = id
			for j := range r.Task.Containers {
				if awsapi.ToString(r.Task.Containers[j].Name) == name {
					r.Task.Containers[j].RuntimeId = awsapi.String(id)
				}
			}
		}); err != nil {
			t.s.log.Error("ecs: task state", "task", t.key, "err", err)
		}
		i = 0 // a start may unblock containers earlier in the list
	}
	return true
}

// markRunning records the task RUNNING once every container has started. It
// returns false when the store failed.
func (t *taskRun) markRunning() bool {
	if t.stopped() || t.running || len(t.pending) > 0 {
		return true
	}
	t.running = true
	now := t.s.now().UTC()
	r, err := t.s.update(t.key, func(r *taskRecord) {
		r.Task.LastStatus, r.Task.PullStoppedAt, r.Task.StartedAt = taskstate.Running.Ptr(), &now, &now
		for j := range r.Task.Containers {
			c := &r.Task.Containers[j]
			if t.exited[awsapi.ToString(c.Name)] == nil {
				c.LastStatus = taskstate.Running.Ptr()
			}
			c.NetworkBindings = hostBindings(containerDef(&r.Def, awsapi.ToString(c.Name)))
		}
	})
	if err != nil {
		t.s.log.Error("ecs: task state", "task", t.key, "err", err)
		return false
	}
	t.r = r
	return true
}

// await waits for the next thing that can change the task: a container's
// exit, a health poll, a stop request. It returns false on shutdown.
func (t *taskRun) await(healthTick <-chan time.Time) bool {
	select {
	case e := <-t.exits:
		t.exited[e.name] = &e
		cd := containerDef(&t.r.Def, e.name)
		if _, err := t.s.update(t.key, func(r *taskRecord) { markExited(r, &e) }); err != nil {
			t.s.log.Error("ecs: task state", "task", t.key, "err", err)
		}
		if e.state.StopCode != "" {
			t.fail(taskstate.StopCode(e.state.StopCode), e.state.Reason) // the runtime ended the task (an eviction)
		}
		if cd == nil || awsapi.ToBool(cd.Essential) {
			t.fail(taskstate.EssentialContainerExited, "Essential container in task exited")
		}
	case <-healthTick:
		if changed := t.s.pollHealth(t.ctx, t.r, t.exited, t.health); changed {
			if _, err := t.s.update(t.key, func(r *taskRecord) { setHealth(r, t.health) }); err != nil {
				t.s.log.Error("ecs: task state", "task", t.key, "err", err)
			}
		}
	case <-t.sup.stop:
		t.userStop()
	case <-t.ctx.Done():
		return false
	}
	return true
}
