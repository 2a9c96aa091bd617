package ecs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/service/ecs/depends"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/store"
)

// Labels wharf puts on every container it runs: the ECS agent's own labels
// (so tooling that reads them works) and wharf's mark of ownership.
const (
	labelManaged   = "wharf.managed"
	labelTaskArn   = "com.amazonaws.ecs.task-arn"
	labelCluster   = "com.amazonaws.ecs.cluster"
	labelContainer = "com.amazonaws.ecs.container-name"
	labelFamily    = "com.amazonaws.ecs.task-definition-family"
	labelRevision  = "com.amazonaws.ecs.task-definition-version"
)

// defaultStopTimeout is how long a container has between SIGTERM and SIGKILL
// when its definition sets no stopTimeout (30 s on Fargate, stopTimeout docs).
const defaultStopTimeout = 30 * time.Second

// supervisor owns one task's containers from launch (or adoption) to STOPPED.
type supervisor struct {
	stop chan struct{} // closed by requestStop
	once sync.Once
	done chan struct{}
}

// exit is a container's end, as a watcher saw it.
type exit struct {
	name     string
	state    runtime.State
	vanished bool // the runtime no longer knows the container
}

// update applies fn to the stored task, bumps its version, stores it and
// announces the change. It returns the task as stored.
func (s *Service) update(key string, fn func(r *taskRecord)) (*taskRecord, error) {
	var r taskRecord
	before := map[string]string{}
	err := s.st.Update(func(tx store.Tx) error {
		found, err := getJSON(tx, key, &r)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("task %s vanished from the store", key)
		}
		for _, c := range r.Task.Containers {
			before[awsapi.ToString(c.Name)] = awsapi.ToString(c.LastStatus)
		}
		idx, err := taskIndex(&r)
		if err != nil {
			return err
		}
		fn(&r)
		r.Task.Version = awsapi.Int64(awsapi.ToInt64(r.Task.Version) + 1)
		return putTask(tx, idx, &r)
	})
	if err != nil {
		return nil, err
	}
	s.publish(&r)
	for i := range r.Task.Containers {
		c := &r.Task.Containers[i]
		if st := awsapi.ToString(c.LastStatus); st != before[awsapi.ToString(c.Name)] {
			s.publishContainer(&r, c)
		}
	}
	return &r, nil
}

// launch starts supervising a new task.
func (s *Service) launch(r *taskRecord) {
	sup := &supervisor{stop: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		// Shutting down (a service's controller may still be starting a
		// task): the task stays recorded, and the next wharf finds it.
		s.mu.Unlock()
		return
	}
	s.sups[awsapi.ToString(r.Task.TaskArn)] = sup
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer close(sup.done)
		s.supervise(s.base, sup, r, false)
		s.mu.Lock()
		delete(s.sups, awsapi.ToString(r.Task.TaskArn))
		delete(s.cache, awsapi.ToString(r.Task.TaskArn))
		s.mu.Unlock()
	}()
}

// requestStop records the stop request and wakes the task's supervisor.
func (s *Service) requestStop(r *taskRecord, code taskstate.StopCode, reason string) (*ecsapi.Task, error) {
	if taskstate.Of(r.Task.LastStatus).Terminal() || taskstate.Of(r.Task.DesiredStatus) == taskstate.Stopped {
		return &r.Task, nil
	}
	now := s.now().UTC()
	nr, err := s.update(r.key(), func(r *taskRecord) {
		if taskstate.Of(r.Task.DesiredStatus) == taskstate.Stopped {
			return
		}
		r.Task.DesiredStatus = taskstate.Stopped.Ptr()
		r.Task.StopCode, r.Task.StoppedReason, r.Task.StoppingAt = code.Ptr(), awsapi.String(reason), &now
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sup := s.sups[awsapi.ToString(r.Task.TaskArn)]
	s.mu.Unlock()
	if sup != nil {
		sup.once.Do(func() { close(sup.stop) })
	}
	return &nr.Task, nil
}

var nameUnsafe = lazyregexp.New(`[^a-zA-Z0-9_.-]`)

// runtimeName is the container's name in the runtime, after the ECS agent's
// ecs-<family>-<revision>-<container>-<id> pattern.
func runtimeName(r *taskRecord, container string) string {
	return nameUnsafe.ReplaceAllString(fmt.Sprintf("ecs-%s-%d-%s-%s", awsapi.ToString(r.Def.Family), awsapi.ToInt32(r.Def.Revision), container, r.id()), "-")
}

// spec builds what the runtime runs for one container; files are the
// variables of its environment files.
func (s *Service) spec(r *taskRecord, cd *ecsapi.ContainerDefinition, files map[string]string) runtime.Spec {
	name := awsapi.ToString(cd.Name)
	co := containerOverride(r.Task.Overrides, name)
	env := map[string]string{
		"AWS_REGION": r.Region, "AWS_DEFAULT_REGION": r.Region,
		"AWS_ENDPOINT_URL":              s.awsEndpointURL(r),
		"ECS_CONTAINER_METADATA_URI_V4": s.endpointURL() + "/v4/" + r.id() + "/" + name,
		"ECS_CONTAINER_METADATA_URI":    s.endpointURL() + "/v4/" + r.id() + "/" + name,
	}
	if r.RoleArn != "" && s.creds != nil {
		env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = s.endpointURL() + "/v2/credentials/" + r.id()
		env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = r.Token
	}
	for _, kv := range cd.Environment {
		env[awsapi.ToString(kv.Name)] = awsapi.ToString(kv.Value)
	}
	// Environment files only fill what is not set: the environment parameter
	// takes precedence (EnvironmentFile docs), and so do the variables the
	// agent sets (it merges files last, setting only absent keys).
	for k, v := range files {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	sp := runtime.Spec{
		Name: runtimeName(r, name), Image: awsapi.ToString(cd.Image), EntryPoint: cd.EntryPoint, Command: cd.Command,
		WorkingDir: awsapi.ToString(cd.WorkingDirectory), User: awsapi.ToString(cd.User),
		CPU: int(awsapi.ToInt32(cd.Cpu)), Memory: int(awsapi.ToInt32(cd.Memory)), MemoryReservation: int(awsapi.ToInt32(cd.MemoryReservation)),
		ReadonlyRootFS: awsapi.ToBool(cd.ReadonlyRootFilesystem),
		Labels: map[string]string{
			labelManaged: "true", labelTaskArn: awsapi.ToString(r.Task.TaskArn), labelCluster: awsapi.ToString(r.Task.ClusterArn),
			labelContainer: name, labelFamily: awsapi.ToString(r.Def.Family), labelRevision: fmt.Sprint(awsapi.ToInt32(r.Def.Revision)),
		},
	}
	for _, mp := range cd.MountPoints {
		for _, v := range r.Def.Volumes {
			if awsapi.ToString(v.Name) != awsapi.ToString(mp.SourceVolume) {
				continue
			}
			m := runtime.Mount{Volume: awsapi.ToString(v.Name), ContainerPath: awsapi.ToString(mp.ContainerPath), ReadOnly: awsapi.ToBool(mp.ReadOnly)}
			if v.Host != nil {
				m.HostPath = awsapi.ToString(v.Host.SourcePath)
			}
			sp.Mounts = append(sp.Mounts, m)
			if m.HostPath != "" {
				b := m.HostPath + ":" + m.ContainerPath
				if m.ReadOnly {
					b += ":ro"
				}
				sp.Binds = append(sp.Binds, b)
			}
		}
	}
	// Task-level cpu and memory are the ceiling of every container that sets
	// none of its own (Fargate's task size; TaskDefinition docs).
	if sp.Memory == 0 && sp.MemoryReservation == 0 {
		sp.Memory = atoi(awsapi.ToString(r.Task.Memory))
	}
	if sp.CPU == 0 {
		sp.CPU = atoi(awsapi.ToString(r.Task.Cpu))
	}
	if hc := cd.HealthCheck; hc != nil && len(hc.Command) > 0 {
		// ECS's defaults: interval 30 s, timeout 5 s, 3 retries, no start period (HealthCheck docs).
		sec := func(v *int32, def int32) time.Duration {
			if v == nil {
				return time.Duration(def) * time.Second
			}
			return time.Duration(*v) * time.Second
		}
		retries := 3
		if hc.Retries != nil {
			retries = int(*hc.Retries)
		}
		sp.Health = &runtime.HealthCheck{Test: hc.Command, Interval: sec(hc.Interval, 30), Timeout: sec(hc.Timeout, 5),
			StartPeriod: sec(hc.StartPeriod, 0), Retries: retries}
	}
	for _, u := range cd.Ulimits {
		sp.Ulimits = append(sp.Ulimits, runtime.Ulimit{Name: awsapi.ToString(u.Name), Soft: int64(awsapi.ToInt32(u.SoftLimit)), Hard: int64(awsapi.ToInt32(u.HardLimit))})
	}
	for k, v := range cd.DockerLabels {
		if _, ours := sp.Labels[k]; !ours {
			sp.Labels[k] = v
		}
	}
	if co != nil {
		if co.Command != nil {
			sp.Command = co.Command
		}
		for _, kv := range co.Environment {
			env[awsapi.ToString(kv.Name)] = awsapi.ToString(kv.Value)
		}
		if co.Cpu != nil {
			sp.CPU = int(*co.Cpu)
		}
		if co.Memory != nil {
			sp.Memory = int(*co.Memory)
		}
		if co.MemoryReservation != nil {
			sp.MemoryReservation = int(*co.MemoryReservation)
		}
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sp.Env = append(sp.Env, k+"="+env[k])
	}
	return sp
}

// atoi reads a task size ("512"); vCPU and GB forms ("1 vCPU", "2 GB") are
// converted to units and MiB, as ECS accepts both.
func atoi(v string) int {
	v = strings.TrimSpace(strings.ToLower(v))
	mult := 1
	switch {
	case strings.HasSuffix(v, "vcpu"):
		v, mult = strings.TrimSpace(strings.TrimSuffix(v, "vcpu")), 1024
	case strings.HasSuffix(v, "gb"):
		v, mult = strings.TrimSpace(strings.TrimSuffix(v, "gb")), 1024
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0
	}
	return int(f * float64(mult))
}

// dependsOn is cd's name and dependencies, as package depends reads them.
func dependsOn(cd *ecsapi.ContainerDefinition) depends.Container {
	c := depends.Container{Name: awsapi.ToString(cd.Name)}
	for _, d := range cd.DependsOn {
		c.DependsOn = append(c.DependsOn, depends.Dependency{Container: awsapi.ToString(d.ContainerName), Condition: depends.Condition(awsapi.ToString(d.Condition))})
	}
	return c
}

// startOrder returns the container definitions so that each comes after the
// containers it depends on (the definition's order otherwise).
func startOrder(def *ecsapi.TaskDefinition) []*ecsapi.ContainerDefinition {
	cs := make([]depends.Container, len(def.ContainerDefinitions))
	for i := range def.ContainerDefinitions {
		cs[i] = dependsOn(&def.ContainerDefinitions[i])
	}
	var out []*ecsapi.ContainerDefinition
	for _, i := range depends.Order(cs) {
		out = append(out, &def.ContainerDefinitions[i])
	}
	return out
}

// ready reports whether cd's dependencies allow it to start, and whether they
// never will (a SUCCESS dependency that failed).
func ready(cd *ecsapi.ContainerDefinition, started map[string]bool, exited map[string]*exit, health map[string]taskstate.Health) (ok bool, never string) {
	return depends.Ready(dependsOn(cd), func(n string) depends.State {
		st := depends.State{Started: started[n], Healthy: health[n] == taskstate.Healthy}
		if e := exited[n]; e != nil {
			st.Exited, st.ExitCode, st.Vanished = true, e.state.ExitCode, e.vanished
		}
		return st
	})
}

// hostBindings are a container's port mappings as host networking makes
// them: every container port is the same port on the host.
func hostBindings(cd *ecsapi.ContainerDefinition) []ecsapi.NetworkBinding {
	out := []ecsapi.NetworkBinding{}
	if cd == nil {
		return out
	}
	for _, pm := range cd.PortMappings {
		if pm.ContainerPort == nil {
			continue
		}
		proto := awsapi.ToString(pm.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, ecsapi.NetworkBinding{BindIP: awsapi.String("0.0.0.0"), ContainerPort: pm.ContainerPort, HostPort: pm.ContainerPort, Protocol: awsapi.String(proto)})
	}
	return out
}

// pollHealth reads the health of running containers that have a health
// check into health (ECS's words) and reports whether any changed.
func (s *Service) pollHealth(ctx context.Context, r *taskRecord, exited map[string]*exit, health map[string]taskstate.Health) bool {
	changed := false
	for _, cd := range r.Def.ContainerDefinitions {
		name := awsapi.ToString(cd.Name)
		id := r.Runtime[name]
		if cd.HealthCheck == nil || id == "" || exited[name] != nil {
			continue
		}
		st, err := s.runner.Inspect(ctx, id)
		if err != nil {
			continue
		}
		h := taskstate.Unknown
		switch st.Health {
		case runtime.HealthHealthy:
			h = taskstate.Healthy
		case runtime.HealthUnhealthy:
			h = taskstate.Unhealthy
		}
		if health[name] != h {
			health[name], changed = h, true
		}
	}
	return changed
}

// setHealth records container health and derives the task's: UNHEALTHY when
// an essential container is, HEALTHY when every essential container with a
// health check is, else UNKNOWN (Task healthStatus docs).
func setHealth(t *taskRecord, health map[string]taskstate.Health) {
	task, checked := taskstate.Healthy, false
	for j := range t.Task.Containers {
		c := &t.Task.Containers[j]
		name := awsapi.ToString(c.Name)
		h, ok := health[name]
		if !ok {
			continue
		}
		c.HealthStatus = h.Ptr()
		if cd := containerDef(&t.Def, name); cd != nil && awsapi.ToBool(cd.Essential) {
			checked = true
			switch {
			case h == taskstate.Unhealthy:
				task = taskstate.Unhealthy
			case h == taskstate.Unknown && task == taskstate.Healthy:
				task = taskstate.Unknown
			}
		}
	}
	if !checked {
		task = taskstate.Unknown
	}
	t.Task.HealthStatus = task.Ptr()
}

// markExited records a container's end in the task.
func markExited(t *taskRecord, e *exit) {
	for j := range t.Task.Containers {
		c := &t.Task.Containers[j]
		if awsapi.ToString(c.Name) != e.name {
			continue
		}
		c.LastStatus = taskstate.Stopped.Ptr()
		switch {
		case e.vanished && e.state.Reason != "":
			c.Reason = awsapi.String(e.state.Reason) // the runtime knows why (a Pod deleted)
		case e.vanished:
			c.Reason = awsapi.String("Container no longer exists in the runtime (wharf was restarted while it ran)")
		default:
			c.ExitCode = awsapi.Int32(int32(e.state.ExitCode))
			if e.state.Reason != "" {
				c.Reason = awsapi.String(e.state.Reason)
			}
		}
	}
}

// finish stops what still runs, waits for every container to exit, and
// records the task STOPPED.
func (s *Service) finish(ctx context.Context, key string, r *taskRecord, exits chan exit, exited map[string]*exit, containerReason map[string]string, code taskstate.StopCode, reason string, logs *sync.WaitGroup) {
	now := s.now().UTC()
	if _, err := s.update(key, func(t *taskRecord) {
		t.Task.DesiredStatus = taskstate.Stopped.Ptr()
		if t.Task.StopCode == nil {
			t.Task.StopCode, t.Task.StoppedReason = code.Ptr(), awsapi.String(reason)
		}
		if t.Task.StoppingAt == nil {
			t.Task.StoppingAt = &now
		}
		t.Task.LastStatus = taskstate.Stopping.Ptr()
	}); err != nil {
		s.log.Error("ecs: task state", "task", key, "err", err)
	}
	waiting := 0
	for name, id := range r.Runtime {
		if exited[name] != nil {
			continue
		}
		waiting++
		timeout := defaultStopTimeout
		if cd := containerDef(&r.Def, name); cd != nil && cd.StopTimeout != nil {
			timeout = time.Duration(*cd.StopTimeout) * time.Second
		}
		go func() {
			if err := s.runner.Stop(ctx, id, timeout); err != nil && !errors.Is(err, runtime.ErrNotFound) && ctx.Err() == nil {
				s.log.Warn("ecs: stop container", "task", key, "container", name, "err", err)
			}
		}()
	}
	for ; waiting > 0; waiting-- {
		select {
		case e := <-exits:
			exited[e.name] = &e
			if _, err := s.update(key, func(t *taskRecord) { markExited(t, &e) }); err != nil {
				s.log.Error("ecs: task state", "task", key, "err", err)
			}
		case <-ctx.Done():
			return
		}
	}
	logs.Wait() // output is delivered before the task is reported STOPPED
	now = s.now().UTC()
	if _, err := s.update(key, func(t *taskRecord) {
		t.Task.LastStatus, t.Task.ExecutionStoppedAt = taskstate.Deprovisioning.Ptr(), &now
	}); err != nil {
		s.log.Error("ecs: task state", "task", key, "err", err)
	}
	// Containers go before the task is reported STOPPED, so whoever sees
	// STOPPED sees the machine cleaned up.
	for _, id := range r.Runtime {
		if err := s.runner.Remove(context.WithoutCancel(ctx), id); err != nil {
			s.log.Warn("ecs: remove container", "task", key, "err", err)
		}
	}
	now = s.now().UTC()
	if _, err := s.update(key, func(t *taskRecord) {
		t.Task.LastStatus, t.Task.StoppedAt = taskstate.Stopped.Ptr(), &now
		for j := range t.Task.Containers {
			c := &t.Task.Containers[j]
			if why, ok := containerReason[awsapi.ToString(c.Name)]; ok && c.Reason == nil {
				c.Reason = awsapi.String(why)
			}
			c.LastStatus = taskstate.Stopped.Ptr()
		}
	}); err != nil {
		s.log.Error("ecs: task state", "task", key, "err", err)
	}
	s.kickDeletes() // its revision may await deletion
}

// pumpLogs ships an awslogs container's output to CloudWatch Logs, in
// batches, until the container exits.
func (s *Service) pumpLogs(ctx context.Context, wg *sync.WaitGroup, r *taskRecord, cd *ecsapi.ContainerDefinition, id string) {
	lc := cd.LogConfiguration
	w := s.logWriter()
	if lc == nil || awsapi.ToString(lc.LogDriver) != "awslogs" || w == nil {
		return
	}
	group := lc.Options["awslogs-group"]
	if group == "" {
		return
	}
	region := lc.Options["awslogs-region"]
	if region == "" {
		region = r.Region
	}
	stream := awsapi.ToString(cd.Name) + "/" + r.id()
	if p := lc.Options["awslogs-stream-prefix"]; p != "" {
		stream = p + "/" + stream // <prefix>/<container>/<task id> (awslogs docs)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		lines := make(chan LogLine, 1024)
		go func() {
			defer close(lines)
			err := s.runner.Logs(ctx, id, func(l runtime.Line) {
				select {
				case lines <- LogLine{Time: l.Time, Message: l.Text}:
				case <-ctx.Done():
				}
			})
			if err != nil && ctx.Err() == nil {
				s.log.Warn("ecs: container logs", "task", r.id(), "container", awsapi.ToString(cd.Name), "err", err)
			}
		}()
		var batch []LogLine
		flush := func() {
			if len(batch) == 0 {
				return
			}
			if err := w.PutLogLines(context.WithoutCancel(ctx), r.Account, region, group, stream, batch); err != nil {
				s.log.Warn("ecs: awslogs", "group", group, "stream", stream, "err", err)
			}
			batch = nil
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					flush()
					return
				}
				batch = append(batch, l)
				if len(batch) >= 500 {
					flush()
				}
			case <-tick.C:
				flush()
			}
		}
	}()
}

// Run serves the credentials and metadata endpoint and re-adopts the tasks a
// previous wharf left running, until ctx is cancelled; then it waits for the
// supervisors to return. Containers keep running across a restart.
func (s *Service) Run(ctx context.Context) {
	srvDone := s.serveEndpoint(ctx)
	s.reconcile(s.orphans)
	s.orphans = nil
	expired := make(chan struct{})
	go func() { defer close(expired); s.expireLoop(ctx) }()
	deleted := make(chan struct{})
	go func() { defer close(deleted); s.deleteLoop(ctx) }()
	sampled := make(chan struct{})
	go func() { defer close(sampled); s.statsLoop(ctx) }()
	<-ctx.Done()
	<-expired
	<-deleted
	<-sampled
	s.stop()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
	if s.removeOnShutdown {
		s.removeAll()
	}
	<-srvDone
}

// removeAll removes the containers of every task not STOPPED: with an
// ephemeral store no later wharf could re-adopt them.
func (s *Service) removeAll() {
	recs, err := s.unfinished()
	if err != nil {
		s.log.Error("ecs: containers left running", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range recs {
		for _, id := range r.Runtime {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.runner.Remove(ctx, id); err != nil {
					s.log.Warn("ecs: remove container at shutdown", "task", r.id(), "err", err)
				}
			}()
		}
	}
	wg.Wait()
}

// unfinished returns the stored tasks not STOPPED. New calls it before any
// request can start a task, so it finds only those of a previous wharf.
func (s *Service) unfinished() ([]*taskRecord, error) {
	var recs []*taskRecord
	err := s.st.View(func(tx store.Tx) error {
		return liveTasks(tx, livePrefix, func(e liveEntry) (bool, error) {
			var r taskRecord
			found, err := getJSON(tx, e.Key, &r)
			if err != nil || !found {
				return true, nil // unreadable or gone: nothing to adopt
			}
			if !taskstate.Of(r.Task.LastStatus).Terminal() {
				recs = append(recs, &r)
			}
			return true, nil
		})
	})
	return recs, err
}

// reconcile takes over the tasks a previous wharf left unfinished: a task
// that was still starting is stopped (its start cannot be resumed), a running
// one is supervised again; containers that vanished meanwhile stop their task.
func (s *Service) reconcile(recs []*taskRecord) {
	for _, r := range recs {
		arn := awsapi.ToString(r.Task.TaskArn)
		s.mu.Lock()
		_, live := s.sups[arn]
		s.mu.Unlock()
		if live {
			continue // started by this wharf before reconcile ran
		}
		sup := &supervisor{stop: make(chan struct{}), done: make(chan struct{})}
		if taskstate.Of(r.Task.DesiredStatus) == taskstate.Stopped {
			close(sup.stop)
			sup.once.Do(func() {})
		}
		last := taskstate.Of(r.Task.LastStatus)
		adopt := last != taskstate.Provisioning && last != taskstate.Pending
		s.mu.Lock()
		s.sups[arn] = sup
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(sup.done)
			if !adopt {
				// The start was interrupted: stop whatever it started.
				exits := make(chan exit)
				exited := map[string]*exit{}
				for name, id := range r.Runtime {
					s.runner.Remove(s.base, id)
					exited[name] = &exit{name: name, vanished: true}
				}
				var none sync.WaitGroup
				s.finish(s.base, r.key(), r, exits, exited, nil, taskstate.TaskFailedToStart, "Task was starting when wharf stopped", &none)
			} else {
				s.log.Info("ecs: re-adopting task", "task", r.id(), "runtime", s.runner.Name())
				s.supervise(s.base, sup, r, true)
			}
			s.mu.Lock()
			delete(s.sups, arn)
			s.mu.Unlock()
		}()
	}
}
