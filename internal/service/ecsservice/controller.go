package ecsservice

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/store"
)

const (
	// throttleAfter tasks in a row that never reach RUNNING start the
	// service throttle logic: launches are spaced out, doubling from
	// throttleBase up to throttleMax ("Service throttle logic": "up to a
	// maximum of 15 minutes").
	throttleAfter = 3
	throttleBase  = 10 * time.Second
	throttleMax   = 15 * time.Minute
	// maxEvents is how many events DescribeServices shows, newest first.
	maxEvents = 100
	// steadyRepeat is how often a steady service says so again; AWS's
	// scheduler reports steady state periodically (ECS Service Action docs).
	steadyRepeat = 6 * time.Hour
)

// Run reconciles every service each interval, and at once after an API
// change; every metrics interval it publishes the task counts. It returns
// when ctx is cancelled.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	var lastMetrics time.Time
	for {
		rctx, done := s.round(ctx)
		s.Tick(rctx)
		if now := s.now(); now.Sub(lastMetrics) >= s.metricsI && rctx.Err() == nil {
			s.PublishMetrics(rctx)
			lastMetrics = now
		}
		done()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// Tick reconciles every service once.
func (s *Service) Tick(ctx context.Context) {
	recs, err := s.records()
	if err != nil {
		s.log.Error("ecs services: load", "err", err)
		return
	}
	for _, r := range recs {
		if ctx.Err() != nil {
			return
		}
		if awsapi.ToString(r.Svc.Status) == "INACTIVE" {
			continue
		}
		if err := s.reconcile(ctx, r.key()); err != nil && ctx.Err() == nil {
			s.log.Warn("ecs services: reconcile", "ecs_service", r.key(), "err", err)
		}
	}
}

// pass is one reconciliation of one service.
type pass struct {
	s      *Service
	ctx    context.Context
	r      *record
	now    time.Time
	events []eventbus.Event
}

func (s *Service) reconcile(ctx context.Context, key string) error {
	defer s.lock(key)()
	var before []byte
	var r *record
	err := s.st.View(func(tx store.Tx) error {
		b, err := tx.Get([]byte(key))
		if err != nil || b == nil {
			return err
		}
		before = bytes.Clone(b)
		r = &record{}
		return json.Unmarshal(b, r)
	})
	if err != nil || r == nil || awsapi.ToString(r.Svc.Status) == "INACTIVE" {
		return err
	}
	p := &pass{s: s, ctx: callerCtx(ctx, r.Account, r.Region, "ServiceScheduler"), r: r, now: s.now().UTC()}
	s.mu.Lock()
	adopt := !s.adopted[key]
	s.mu.Unlock()
	if adopt {
		if err := p.adopt(); err != nil {
			return err
		}
		s.mu.Lock()
		s.adopted[key] = true
		s.mu.Unlock()
	}
	if err := p.refresh(); err != nil {
		return err
	}
	p.breaker()
	p.scale()
	p.settle()
	after, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if !bytes.Equal(before, after) {
		if err := s.st.Update(func(tx store.Tx) error { return tx.Put([]byte(key), after) }); err != nil {
			return err
		}
	}
	if s.bus != nil {
		for _, e := range p.events {
			s.bus.Publish(ctx, e)
		}
	}
	return nil
}

func (p *pass) name() string { return awsapi.ToString(p.r.Svc.ServiceName) }

// event records a service event, newest first, as DescribeServices shows them.
func (p *pass) event(format string, args ...any) {
	msg := "(service " + p.name() + ") " + fmt.Sprintf(format, args...)
	ev := ecsapi.ServiceEvent{Id: awsapi.String(p.s.uuid()), CreatedAt: &p.now, Message: &msg}
	p.r.Events = append([]ecsapi.ServiceEvent{ev}, p.r.Events...)
	if len(p.r.Events) > maxEvents {
		p.r.Events = p.r.Events[:maxEvents]
	}
}

// action queues an "ECS Service Action" event (ECS Service Action docs).
func (p *pass) action(eventType, name string) {
	detail, _ := json.Marshal(map[string]any{
		"eventType": eventType, "eventName": name, "clusterArn": awsapi.ToString(p.r.Svc.ClusterArn),
		"createdAt": p.now.Format("2006-01-02T15:04:05.000Z"),
	})
	p.events = append(p.events, eventbus.Event{
		Source: "aws.ecs", DetailType: "ECS Service Action", Detail: detail,
		Resources: []string{awsapi.ToString(p.r.Svc.ServiceArn)}, Account: p.r.Account, Region: p.r.Region, Time: p.now,
	})
}

// deploymentEvent is an "ECS Deployment State Change" event (service
// deployment state change events docs).
func deploymentEvent(r *record, d *deployment, name string, now time.Time) eventbus.Event {
	typ := "INFO"
	if name == "SERVICE_DEPLOYMENT_FAILED" {
		typ = "ERROR"
	}
	detail, _ := json.Marshal(map[string]any{
		"eventType": typ, "eventName": name, "deploymentId": awsapi.ToString(d.D.Id),
		"updatedAt": now.UTC().Format("2006-01-02T15:04:05Z"), "reason": awsapi.ToString(d.D.RolloutStateReason),
	})
	return eventbus.Event{
		Source: "aws.ecs", DetailType: "ECS Deployment State Change", Detail: detail,
		Resources: []string{awsapi.ToString(r.Svc.ServiceArn)}, Account: r.Account, Region: r.Region, Time: now,
	}
}

func (s *Service) publishDeployment(ctx context.Context, r *record, d *deployment, name string, now time.Time) {
	if s.bus != nil {
		s.bus.Publish(ctx, deploymentEvent(r, d, name, now))
	}
}

func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// adopt finds tasks a deployment started that the record does not know:
// a wharf stopped between RunTask and saving the service leaves such tasks.
func (p *pass) adopt() error {
	known := map[string]bool{}
	for _, d := range p.r.Deployments {
		for _, t := range d.Tasks {
			known[t.Arn] = true
		}
	}
	for _, d := range p.r.Deployments {
		var token *string
		for {
			out, err := p.s.tasks.ListTasks(p.ctx, &ecsapi.ListTasksInput{Cluster: &p.r.Cluster, StartedBy: d.D.Id, NextToken: token})
			if err != nil {
				return err
			}
			for _, arn := range out.TaskArns {
				if !known[arn] {
					d.Tasks = append(d.Tasks, &taskRef{Arn: arn, Status: taskstate.Provisioning})
					known[arn] = true
				}
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
	}
	return nil
}

// refresh reads the state of every task the service started and drops the
// stopped ones, counting those that stopped on their own as failures.
func (p *pass) refresh() error {
	var arns []string
	for _, d := range p.r.Deployments {
		for _, t := range d.Tasks {
			arns = append(arns, t.Arn)
		}
	}
	seen := map[string]*ecsapi.Task{}
	for i := 0; i < len(arns); i += 100 {
		chunk := arns[i:min(i+100, len(arns))]
		out, err := p.s.tasks.DescribeTasks(p.ctx, &ecsapi.DescribeTasksInput{Cluster: &p.r.Cluster, Tasks: chunk})
		if err != nil {
			return err
		}
		for j := range out.Tasks {
			seen[awsapi.ToString(out.Tasks[j].TaskArn)] = &out.Tasks[j]
		}
	}
	for _, d := range p.r.Deployments {
		kept := d.Tasks[:0]
		for _, ref := range d.Tasks {
			t := seen[ref.Arn]
			if t == nil || taskstate.Of(t.LastStatus).Terminal() {
				if !ref.Stopping {
					p.stoppedOnItsOwn(d, t)
				}
				continue
			}
			ref.Status = taskstate.Of(t.LastStatus)
			if ref.Status == taskstate.Running && !ref.Running {
				ref.Running = true
				p.r.StartFailures, p.r.NextLaunch = 0, time.Time{}
				// A healthy task resets the circuit breaker's count of
				// consecutive failures (resetOnHealthyTask defaults to true).
				if awsapi.ToString(d.D.RolloutState) == "IN_PROGRESS" {
					d.D.FailedTasks = awsapi.Int32(0)
				}
			}
			kept = append(kept, ref)
		}
		d.Tasks = kept
	}
	return nil
}

// stoppedOnItsOwn accounts for a task that stopped without the scheduler
// asking: a failure of its deployment while that is in progress, and, when
// it never reached RUNNING, a step towards the throttle.
func (p *pass) stoppedOnItsOwn(d *deployment, t *ecsapi.Task) {
	if awsapi.ToString(d.D.RolloutState) == "IN_PROGRESS" {
		d.D.FailedTasks = awsapi.Int32(awsapi.ToInt32(d.D.FailedTasks) + 1)
	}
	if t != nil && t.StartedAt != nil {
		return // "Tasks that are stopped after they reach the RUNNING state don't start the throttle logic"
	}
	p.startFailed()
}

func (p *pass) startFailed() {
	r := p.r
	r.StartFailures++
	if r.StartFailures < throttleAfter {
		return
	}
	delay := throttleMax
	if n := r.StartFailures - throttleAfter; n < 10 {
		delay = min(throttleBase<<n, throttleMax)
	}
	r.NextLaunch = p.now.Add(delay)
	if r.StartFailures == throttleAfter {
		p.event("is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.")
		p.action("WARN", "SERVICE_TASK_START_IMPAIRED")
	}
}

// threshold is the circuit breaker's failure threshold: half the desired
// count, at least 3 and at most 200 (ServiceDeploymentCircuitBreaker docs).
func threshold(desired int32) int32 {
	return min(max((desired+1)/2, 3), 200)
}

// breaker fails the primary deployment once its failed tasks reach the
// threshold, and rolls back to the last completed deployment when asked to.
func (p *pass) breaker() {
	r := p.r
	cb := r.Svc.DeploymentConfiguration.DeploymentCircuitBreaker
	d := r.primary()
	if cb == nil || !awsapi.ToBool(cb.Enable) || awsapi.ToString(d.D.RolloutState) != "IN_PROGRESS" ||
		awsapi.ToInt32(d.D.FailedTasks) < threshold(awsapi.ToInt32(r.Svc.DesiredCount)) {
		return
	}
	d.D.RolloutState = awsapi.String("FAILED")
	d.D.RolloutStateReason = awsapi.String("ECS deployment circuit breaker: tasks failed to start.")
	d.D.UpdatedAt = &p.now
	p.event("(deployment %s) deployment failed: tasks failed to start.", awsapi.ToString(d.D.Id))
	p.events = append(p.events, deploymentEvent(r, d, "SERVICE_DEPLOYMENT_FAILED", p.now))
	if !awsapi.ToBool(cb.Rollback) || r.Stable == nil {
		return
	}
	st := r.Stable
	r.Svc.TaskDefinition, r.Svc.NetworkConfiguration = st.TaskDefinition, st.NetworkConfiguration
	r.Svc.PlatformVersion, r.Svc.LaunchType, r.Svc.CapacityProviderStrategy = st.PlatformVersion, st.LaunchType, st.CapacityProviderStrategy
	nd := p.s.newDeployment(&r.Svc, p.now, "ECS deployment circuit breaker: rolling back to deploymentId "+awsapi.ToString(st.Id)+".")
	d.D.Status = awsapi.String("ACTIVE")
	// The tasks of the deployment rolled back to keep running: the rollback
	// deployment takes them over instead of replacing them.
	rest := []*deployment{}
	for _, o := range r.Deployments {
		if awsapi.ToString(o.D.Id) == awsapi.ToString(st.Id) {
			nd.Tasks = append(nd.Tasks, o.Tasks...)
			continue
		}
		rest = append(rest, o)
	}
	r.Deployments = append([]*deployment{nd}, rest...)
	r.StartFailures, r.NextLaunch, r.Steady = 0, time.Time{}, false
	p.events = append(p.events, deploymentEvent(r, nd, "SERVICE_DEPLOYMENT_IN_PROGRESS", p.now))
}

// live are a deployment's tasks the scheduler has not asked to stop.
func live(d *deployment) []*taskRef {
	var out []*taskRef
	for _, t := range d.Tasks {
		if !t.Stopping {
			out = append(out, t)
		}
	}
	return out
}

// scale moves the service towards its desired count: the primary deployment
// above desired stops its surplus; older deployments stop their tasks as far
// as minimumHealthyPercent allows; the primary starts tasks as far as
// maximumPercent and the throttle allow.
func (p *pass) scale() {
	r := p.r
	desired := awsapi.ToInt32(r.Svc.DesiredCount)
	if awsapi.ToString(r.Svc.Status) == "DRAINING" {
		desired = 0
	}
	cfg := r.Svc.DeploymentConfiguration
	maxPct, minPct := awsapi.ToInt32(cfg.MaximumPercent), awsapi.ToInt32(cfg.MinimumHealthyPercent)
	// maximumPercent rounds down, minimumHealthyPercent up (UpdateService docs).
	maxTotal := max(int(desired)*int(maxPct)/100, int(desired))
	minHealthy := (int(desired)*int(minPct) + 99) / 100
	prim := r.primary()
	var stop []*taskRef
	var stopBy []string

	// The primary's surplus: tasks not yet running first, then the newest.
	if l := live(prim); len(l) > int(desired) {
		n := len(l) - int(desired)
		for _, running := range []bool{false, true} {
			for i := len(l) - 1; i >= 0 && n > 0; i-- {
				if (l[i].Status == taskstate.Running) == running && !l[i].Stopping {
					l[i].Stopping = true
					stop, stopBy, n = append(stop, l[i]), append(stopBy, awsapi.ToString(prim.D.Id)), n-1
				}
			}
		}
	}
	healthy := 0
	for _, d := range r.Deployments {
		for _, t := range live(d) {
			if t.Status == taskstate.Running {
				healthy++
			}
		}
	}
	for i := len(r.Deployments) - 1; i >= 1; i-- {
		for _, t := range live(r.Deployments[i]) {
			if t.Status == taskstate.Running {
				if healthy-1 < minHealthy {
					continue
				}
				healthy--
			}
			t.Stopping = true
			stop, stopBy = append(stop, t), append(stopBy, awsapi.ToString(prim.D.Id))
		}
	}
	p.stop(stop, stopBy)

	if awsapi.ToString(prim.D.RolloutState) == "FAILED" || p.now.Before(r.NextLaunch) {
		return
	}
	total := 0
	for _, d := range r.Deployments {
		total += len(d.Tasks)
	}
	if n := min(int(desired)-len(live(prim)), maxTotal-total); n > 0 {
		p.launch(prim, n)
	}
}

// stop asks ECS to stop tasks, with the reason AWS's scheduler gives.
func (p *pass) stop(refs []*taskRef, by []string) {
	var ids []string
	for i, t := range refs {
		in := &ecsapi.StopTaskInput{
			Cluster: &p.r.Cluster, Task: awsapi.String(t.Arn),
			Reason: awsapi.String("Scaling activity initiated by (deployment " + by[i] + ")"),
		}
		var err error
		if ss, ok := p.s.tasks.(SchedulerStopper); ok {
			_, err = ss.StopServiceTask(p.ctx, in)
		} else {
			_, err = p.s.tasks.StopTask(p.ctx, in)
		}
		if err != nil {
			p.s.log.Warn("ecs services: stop task", "task", t.Arn, "err", err)
		}
		if t.Status == taskstate.Running {
			ids = append(ids, "(task "+taskID(t.Arn)+")")
		}
	}
	if len(ids) > 0 {
		p.event("has stopped %d running tasks: %s.", len(ids), strings.Join(ids, " "))
		p.action("INFO", "TASKS_STOPPED")
	}
}

// launch starts n tasks of deployment d, ten per RunTask as its limit is.
func (p *pass) launch(d *deployment, n int) {
	r := p.r
	var ids []string
	for n > 0 {
		count := min(n, 10)
		in := &ecsapi.RunTaskInput{
			Cluster: &r.Cluster, TaskDefinition: d.D.TaskDefinition, Count: awsapi.Int32(int32(count)),
			StartedBy: d.D.Id, Group: awsapi.String("service:" + p.name()), NetworkConfiguration: d.D.NetworkConfiguration,
			CapacityProviderStrategy: d.D.CapacityProviderStrategy, EnableExecuteCommand: r.Svc.EnableExecuteCommand,
			EnableECSManagedTags: r.Svc.EnableECSManagedTags,
		}
		if len(in.CapacityProviderStrategy) == 0 {
			in.LaunchType = d.D.LaunchType
		}
		if v := awsapi.ToString(d.D.PlatformVersion); v != "" && v != "LATEST" {
			in.PlatformVersion = d.D.PlatformVersion
		}
		switch awsapi.ToString(r.Svc.PropagateTags) {
		case "SERVICE":
			in.Tags = r.Svc.Tags
		case "TASK_DEFINITION":
			in.PropagateTags = awsapi.String("TASK_DEFINITION")
		}
		var out *ecsapi.RunTaskOutput
		var err error
		if sl, ok := p.s.tasks.(ServiceLauncher); ok {
			out, err = sl.RunServiceTask(p.ctx, in)
		} else {
			out, err = p.s.tasks.RunTask(p.ctx, in)
		}
		if err != nil && strings.HasPrefix(errMessage(err), "ECS was unable to assume the role") {
			// A role the task cannot assume fails the launch, in the words
			// AWS's service events use.
			p.event("failed to launch a task with (error %s).", errMessage(err))
			p.failedToPlace(d)
			break
		}
		if err != nil {
			p.event("was unable to place a task. Reason: %s.", strings.TrimSuffix(errMessage(err), "."))
			p.failedToPlace(d)
			break
		}
		for _, t := range out.Tasks {
			arn := awsapi.ToString(t.TaskArn)
			d.Tasks = append(d.Tasks, &taskRef{Arn: arn, Status: taskstate.Of(t.LastStatus)})
			ids = append(ids, "(task "+taskID(arn)+")")
		}
		if len(out.Failures) > 0 {
			p.event("was unable to place a task. Reason: %s.", awsapi.ToString(out.Failures[0].Reason))
			p.failedToPlace(d)
			break
		}
		n -= count
	}
	if len(ids) > 0 {
		p.event("has started %d tasks: %s.", len(ids), strings.Join(ids, " "))
	}
}

// failedToPlace counts a task the scheduler could not start at all.
func (p *pass) failedToPlace(d *deployment) {
	if awsapi.ToString(d.D.RolloutState) == "IN_PROGRESS" {
		d.D.FailedTasks = awsapi.Int32(awsapi.ToInt32(d.D.FailedTasks) + 1)
	}
	p.startFailed()
}

func errMessage(err error) string {
	if e := apierr.As(err); e != nil {
		return e.Message
	}
	return err.Error()
}

// settle updates the counts, retires drained deployments, completes the
// primary deployment and reports a steady state.
func (p *pass) settle() {
	r := p.r
	desired := awsapi.ToInt32(r.Svc.DesiredCount)
	var running, pending int32
	old := 0 // tasks of deployments other than the primary
	kept := r.Deployments[:1]
	for i, d := range r.Deployments {
		var dr, dp int32
		for _, t := range d.Tasks {
			switch {
			case t.Status == taskstate.Running:
				dr++
			case t.Status.Starting():
				dp++
			}
		}
		dd := awsapi.ToInt32(r.Svc.DesiredCount)
		if i > 0 {
			dd = int32(len(live(d)))
		}
		if awsapi.ToInt32(d.D.RunningCount) != dr || awsapi.ToInt32(d.D.PendingCount) != dp || awsapi.ToInt32(d.D.DesiredCount) != dd {
			d.D.RunningCount, d.D.PendingCount, d.D.DesiredCount, d.D.UpdatedAt = &dr, &dp, &dd, &p.now
		}
		running, pending = running+dr, pending+dp
		// A drained deployment is retired, except a failed one, which stays
		// in view until the deployment after it completes.
		if i > 0 && (len(d.Tasks) > 0 || awsapi.ToString(d.D.RolloutState) == "FAILED") {
			kept = append(kept, d)
			old += len(d.Tasks)
		}
	}
	r.Deployments = kept
	r.Svc.RunningCount, r.Svc.PendingCount = &running, &pending
	prim := r.primary()
	// A deployment made in this pass (a rollback taking over healthy tasks)
	// shows IN_PROGRESS for at least one pass before it completes.
	settled := old == 0 && len(prim.Tasks) == int(desired) && running == desired && prim.D.CreatedAt.Before(p.now)
	if settled {
		r.Deployments = r.Deployments[:1]
	}
	if awsapi.ToString(r.Svc.Status) == "DRAINING" {
		if len(prim.Tasks) == 0 && old == 0 {
			r.Svc.Status = awsapi.String("INACTIVE")
		}
		return
	}
	if settled && awsapi.ToString(prim.D.RolloutState) == "IN_PROGRESS" {
		id := awsapi.ToString(prim.D.Id)
		prim.D.RolloutState, prim.D.RolloutStateReason = awsapi.String("COMPLETED"), awsapi.String("ECS deployment "+id+" completed.")
		prim.D.UpdatedAt = &p.now
		stable := prim.D
		r.Stable = &stable
		p.event("(deployment %s) deployment completed.", id)
		p.events = append(p.events, deploymentEvent(r, prim, "SERVICE_DEPLOYMENT_COMPLETED", p.now))
	}
	if settled && (!r.Steady || p.now.Sub(r.SteadyAt) >= steadyRepeat) {
		p.event("has reached a steady state.")
		p.action("INFO", "SERVICE_STEADY_STATE")
		r.SteadyAt = p.now
	}
	r.Steady = settled
}

// PublishMetrics puts each service's task counts in ECS/ContainerInsights,
// with the ClusterName and ServiceName dimensions AWS uses, so the
// documented backlog-per-task policy can divide by RunningTaskCount.
func (s *Service) PublishMetrics(ctx context.Context) {
	s.mu.Lock()
	m := s.metrics
	s.mu.Unlock()
	if m == nil {
		return
	}
	recs, err := s.records()
	if err != nil {
		return
	}
	now := s.now().UTC()
	// One Put per account and region, not per service: each Put is a store
	// write, and 100 services would otherwise cost 100 writes an interval.
	type scopeKey struct{ account, region string }
	batches := map[scopeKey][]cloudwatch.Datum{}
	var order []scopeKey
	for _, r := range recs {
		if awsapi.ToString(r.Svc.Status) == "INACTIVE" {
			continue
		}
		dims := map[string]string{"ClusterName": r.Cluster, "ServiceName": awsapi.ToString(r.Svc.ServiceName)}
		datum := func(name string, v int32) cloudwatch.Datum {
			return cloudwatch.Datum{MetricName: name, Dimensions: dims, Time: now, Value: float64(v), Unit: "Count", HighResolution: true}
		}
		k := scopeKey{r.Account, r.Region}
		if _, ok := batches[k]; !ok {
			order = append(order, k)
		}
		batches[k] = append(batches[k],
			datum("RunningTaskCount", awsapi.ToInt32(r.Svc.RunningCount)),
			datum("PendingTaskCount", awsapi.ToInt32(r.Svc.PendingCount)),
			datum("DesiredTaskCount", awsapi.ToInt32(r.Svc.DesiredCount)),
			datum("DeploymentCount", int32(len(r.Deployments))))
	}
	for _, k := range order {
		if err := m.Put(ctx, k.account, k.region, "ECS/ContainerInsights", batches[k]...); err != nil {
			s.log.Warn("ecs services: metrics", "err", err)
		}
	}
}
