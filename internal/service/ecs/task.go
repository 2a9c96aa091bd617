package ecs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// taskRecord is a task as stored: what AWS reports, plus what wharf needs to
// run, watch and re-adopt it.
type taskRecord struct {
	Task            ecsapi.Task
	Account, Region string
	Cluster         string
	Def             ecsapi.TaskDefinition // the revision it was started from
	RoleArn         string                // task role after overrides
	ExecRoleArn     string                // recorded, not used: images are never pulled with credentials
	Endpoint        string                // wharf's host:port for AWS_ENDPOINT_URL
	Token           string                // AWS_CONTAINER_AUTHORIZATION_TOKEN
	Runtime         map[string]string     // container name → runtime id
	// Cause is what started the task (the event a rule ran it for), as the
	// timeline names it.
	Cause string `json:",omitempty"`
}

func (t *taskRecord) id() string {
	a := awsapi.ToString(t.Task.TaskArn)
	return a[strings.LastIndexByte(a, '/')+1:]
}

func taskKey(sc scope, cluster, id string) string { return sc.prefix() + "task/" + cluster + "/" + id }

func (t *taskRecord) key() string {
	return taskKey(scope{t.Account, t.Region}, t.Cluster, t.id())
}

// runParams are RunTask's and StartTask's inputs, and EventBridge's.
type runParams struct {
	Cluster        string
	TaskDefinition string
	Count          int
	Group          string
	StartedBy      string
	LaunchType     string
	CapacityProv   []ecsapi.CapacityProviderStrategyItem
	Platform       string
	Overrides      *ecsapi.TaskOverride
	Tags           []ecsapi.Tag
	Network        *ecsapi.NetworkConfiguration
	PropagateTags  string
	// Service is set when ECS's service scheduler starts the tasks: an
	// existing service scales from its revision after it is deregistered
	// or submitted for deletion (DeleteTaskDefinitions docs), which no
	// RunTask may.
	Service bool
}

// RunTask starts count tasks from a task definition. The response shows them
// PROVISIONING; they move on in the background.
func (s *Service) RunTask(ctx context.Context, in *ecsapi.RunTaskInput) (*ecsapi.RunTaskOutput, error) {
	return s.runTask(ctx, in, false)
}

// RunServiceTask is RunTask for ECS's service scheduler (package
// ecsservice): it also starts tasks from an INACTIVE or DELETE_IN_PROGRESS
// revision, since existing services keep scaling with theirs.
func (s *Service) RunServiceTask(ctx context.Context, in *ecsapi.RunTaskInput) (*ecsapi.RunTaskOutput, error) {
	return s.runTask(ctx, in, true)
}

func (s *Service) runTask(ctx context.Context, in *ecsapi.RunTaskInput, service bool) (*ecsapi.RunTaskOutput, error) {
	if in.LaunchType != nil && len(in.CapacityProviderStrategy) > 0 {
		return nil, invalidParam("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	count := 1
	if in.Count != nil {
		count = int(*in.Count)
	}
	if count < 1 || count > 10 {
		return nil, invalidParam("Count must be between 1 and 10.")
	}
	tasks, err := s.run(ctx, s.scope(ctx), runParams{
		Cluster: awsapi.ToString(in.Cluster), TaskDefinition: awsapi.ToString(in.TaskDefinition), Count: count,
		Group: awsapi.ToString(in.Group), StartedBy: awsapi.ToString(in.StartedBy), LaunchType: awsapi.ToString(in.LaunchType),
		CapacityProv: in.CapacityProviderStrategy, Platform: awsapi.ToString(in.PlatformVersion), Overrides: in.Overrides,
		Tags: in.Tags, Network: in.NetworkConfiguration, PropagateTags: awsapi.ToString(in.PropagateTags), Service: service,
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.RunTaskOutput{Tasks: tasks, Failures: []ecsapi.Failure{}}, nil
}

// StartTask starts a task "on container instances". wharf has one machine, so
// it starts one task per instance named, with the EC2 launch type.
func (s *Service) StartTask(ctx context.Context, in *ecsapi.StartTaskInput) (*ecsapi.StartTaskOutput, error) {
	if n := len(in.ContainerInstances); n < 1 || n > 10 {
		return nil, invalidParam("containerInstances must contain between 1 and 10 container instances.")
	}
	tasks, err := s.run(ctx, s.scope(ctx), runParams{
		Cluster: awsapi.ToString(in.Cluster), TaskDefinition: awsapi.ToString(in.TaskDefinition), Count: len(in.ContainerInstances),
		Group: awsapi.ToString(in.Group), StartedBy: awsapi.ToString(in.StartedBy), LaunchType: "EC2",
		Overrides: in.Overrides, Tags: in.Tags, Network: in.NetworkConfiguration, PropagateTags: awsapi.ToString(in.PropagateTags),
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.StartTaskOutput{Tasks: tasks, Failures: []ecsapi.Failure{}}, nil
}

func (s *Service) run(ctx context.Context, sc scope, p runParams) ([]ecsapi.Task, error) {
	cluster, err := clusterName(sc, p.Cluster)
	if err != nil {
		return nil, err
	}
	if err := checkTags(p.Tags); err != nil {
		return nil, err
	}
	if len(p.StartedBy) > 128 {
		return nil, invalidParam("startedBy must be at most 128 characters.")
	}
	if err := s.checkRoles(ctx, sc, cluster, p); err != nil {
		return nil, err
	}
	var recs []*taskRecord
	err = s.st.Update(func(tx store.Tx) error {
		cl, err := s.activeCluster(tx, sc, cluster)
		if err != nil {
			return err
		}
		td, _, err := s.findTaskDef(tx, sc, p.TaskDefinition)
		if err != nil {
			return err
		}
		if awsapi.ToString(td.Def.Status) != "ACTIVE" && !p.Service {
			return clientErr("TaskDefinition is inactive")
		}
		if err := checkOverrides(&td.Def, p.Overrides); err != nil {
			return err
		}
		for range p.Count {
			r := s.newTask(sc, cl, td, p)
			r.Cause = timeline.CauseOf(ctx)
			if err := putTask(tx, nil, r); err != nil {
				return err
			}
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	tasks := make([]ecsapi.Task, len(recs))
	for i, r := range recs {
		s.index.Store(r.id(), r.key())
		s.started(ctx, r)
		s.publish(r)
		tasks[i] = r.Task
		s.launch(r)
	}
	return tasks, nil
}

func checkOverrides(def *ecsapi.TaskDefinition, o *ecsapi.TaskOverride) error {
	if o == nil {
		return nil
	}
	for _, co := range o.ContainerOverrides {
		if containerDef(def, awsapi.ToString(co.Name)) == nil {
			return invalidParam("Override for container named %s is not a container in the TaskDefinition.", awsapi.ToString(co.Name))
		}
	}
	return nil
}

func containerDef(def *ecsapi.TaskDefinition, name string) *ecsapi.ContainerDefinition {
	for i := range def.ContainerDefinitions {
		if awsapi.ToString(def.ContainerDefinitions[i].Name) == name {
			return &def.ContainerDefinitions[i]
		}
	}
	return nil
}

func containerOverride(o *ecsapi.TaskOverride, name string) *ecsapi.ContainerOverride {
	if o == nil {
		return nil
	}
	for i := range o.ContainerOverrides {
		if awsapi.ToString(o.ContainerOverrides[i].Name) == name {
			return &o.ContainerOverrides[i]
		}
	}
	return nil
}

func (s *Service) newTask(sc scope, cl *clusterRecord, td *taskDefRecord, p runParams) *taskRecord {
	id := s.newID()
	clusterName := awsapi.ToString(cl.Cluster.ClusterName)
	arn := sc.arn("task/" + clusterName + "/" + id)
	def := td.Def
	now := s.now().UTC()
	launch := p.LaunchType
	var capProvider *string
	if len(p.CapacityProv) > 0 {
		capProvider, launch = p.CapacityProv[0].CapacityProvider, "FARGATE"
	} else if launch == "" {
		launch = "FARGATE"
	}
	group := p.Group
	if group == "" {
		group = "family:" + awsapi.ToString(def.Family) // RunTask docs: the default group
	}
	// Overrides are echoed with an entry per container, as AWS shows them.
	ov := ecsapi.TaskOverride{InferenceAcceleratorOverrides: []ecsapi.InferenceAcceleratorOverride{}}
	if p.Overrides != nil {
		ov = *p.Overrides
		ov.ContainerOverrides = nil
		if ov.InferenceAcceleratorOverrides == nil {
			ov.InferenceAcceleratorOverrides = []ecsapi.InferenceAcceleratorOverride{}
		}
	}
	var containers []ecsapi.Container
	for _, cd := range def.ContainerDefinitions {
		name := awsapi.ToString(cd.Name)
		co := containerOverride(p.Overrides, name)
		if co != nil {
			ov.ContainerOverrides = append(ov.ContainerOverrides, *co)
		} else {
			ov.ContainerOverrides = append(ov.ContainerOverrides, ecsapi.ContainerOverride{Name: cd.Name})
		}
		c := ecsapi.Container{
			ContainerArn: awsapi.String(sc.arn("container/" + clusterName + "/" + id + "/" + uuid(s.newID()))),
			TaskArn:      awsapi.String(arn), Name: cd.Name, Image: cd.Image, LastStatus: taskstate.Pending.Ptr(),
			NetworkBindings: []ecsapi.NetworkBinding{}, NetworkInterfaces: []ecsapi.NetworkInterface{},
			Cpu: awsapi.String(fmt.Sprint(awsapi.ToInt32(cd.Cpu))),
		}
		if co != nil && co.Cpu != nil {
			c.Cpu = awsapi.String(fmt.Sprint(*co.Cpu))
		}
		if m := cd.Memory; m != nil {
			c.Memory = awsapi.String(fmt.Sprint(*m))
		}
		if co != nil && co.Memory != nil {
			c.Memory = awsapi.String(fmt.Sprint(*co.Memory))
		}
		if m := cd.MemoryReservation; m != nil {
			c.MemoryReservation = awsapi.String(fmt.Sprint(*m))
		}
		containers = append(containers, c)
	}
	t := ecsapi.Task{
		TaskArn: awsapi.String(arn), ClusterArn: cl.Cluster.ClusterArn, TaskDefinitionArn: def.TaskDefinitionArn,
		LastStatus: taskstate.Provisioning.Ptr(), DesiredStatus: taskstate.Running.Ptr(),
		CreatedAt: &now, Group: awsapi.String(group), LaunchType: awsapi.String(launch), CapacityProviderName: capProvider,
		Containers: containers, Overrides: &ov, Cpu: def.Cpu, Memory: def.Memory, Version: awsapi.Int64(1),
		AvailabilityZone: awsapi.String(sc.region + "a"), Connectivity: awsapi.String("CONNECTED"), ConnectivityAt: &now,
		EnableExecuteCommand: awsapi.Bool(false), HealthStatus: taskstate.Unknown.Ptr(),
		Attachments: []ecsapi.Attachment{}, Attributes: []ecsapi.Attribute{{Name: awsapi.String("ecs.cpu-architecture"), Value: awsapi.String("x86_64")}},
		InferenceAccelerators: []ecsapi.InferenceAccelerator{},
	}
	if p.StartedBy != "" {
		t.StartedBy = awsapi.String(p.StartedBy)
	}
	if p.Overrides != nil && p.Overrides.Cpu != nil {
		t.Cpu = p.Overrides.Cpu
	}
	if p.Overrides != nil && p.Overrides.Memory != nil {
		t.Memory = p.Overrides.Memory
	}
	if launch == "FARGATE" {
		t.PlatformVersion, t.PlatformFamily = awsapi.String("1.4.0"), awsapi.String("Linux")
		if p.Platform != "" && p.Platform != "LATEST" {
			t.PlatformVersion = awsapi.String(p.Platform)
		}
		t.EphemeralStorage = &ecsapi.EphemeralStorage{SizeInGiB: awsapi.Int32(20)}
	}
	tags := tagsOf(p.Tags)
	if p.PropagateTags == "TASK_DEFINITION" {
		tags = mergeTags(td.Tags, tags)
	}
	t.Tags = tags
	r := &taskRecord{
		Task: t, Account: sc.account, Region: sc.region, Cluster: clusterName, Def: def,
		RoleArn: awsapi.ToString(def.TaskRoleArn), ExecRoleArn: awsapi.ToString(def.ExecutionRoleArn),
		Endpoint: *s.endpoint.Load(), Token: s.newID() + s.newID(), Runtime: map[string]string{},
	}
	if p.Overrides != nil && p.Overrides.TaskRoleArn != nil {
		r.RoleArn = *p.Overrides.TaskRoleArn
	}
	if p.Overrides != nil && p.Overrides.ExecutionRoleArn != nil {
		r.ExecRoleArn = *p.Overrides.ExecutionRoleArn
	}
	return r
}

// uuid formats 32 hex digits as a UUID, as container ARNs carry.
func uuid(h string) string {
	h = (h + strings.Repeat("0", 32))[:32]
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// findTask resolves a task ARN or id in a cluster.
func (s *Service) findTask(tx store.Tx, sc scope, cluster, ref string) (*taskRecord, error) {
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		rest, ok := strings.CutPrefix(ref, sc.arn("task/"))
		if !ok {
			return nil, nil
		}
		cl, tid, ok := strings.Cut(rest, "/")
		if !ok {
			return nil, nil
		}
		cluster, id = cl, tid
	}
	if id == "" || strings.Contains(id, "/") {
		return nil, nil
	}
	var r taskRecord
	found, err := getJSON(tx, taskKey(sc, cluster, id), &r)
	if err != nil || !found {
		return nil, err
	}
	return &r, nil
}

// DescribeTasks describes tasks by ARN or id; unknown ones are failures with
// reason MISSING.
func (s *Service) DescribeTasks(ctx context.Context, in *ecsapi.DescribeTasksInput) (*ecsapi.DescribeTasksOutput, error) {
	sc := s.scope(ctx)
	cluster, err := clusterName(sc, awsapi.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, invalidParam("Tasks cannot be empty.")
	}
	out := &ecsapi.DescribeTasksOutput{Tasks: []ecsapi.Task{}, Failures: []ecsapi.Failure{}}
	err = s.st.View(func(tx store.Tx) error {
		var c clusterRecord
		if found, err := getJSON(tx, sc.prefix()+"cluster/"+cluster, &c); err != nil || (!found && cluster != "default") {
			if err == nil {
				err = clusterNotFound()
			}
			return err
		}
		for _, ref := range in.Tasks {
			r, err := s.findTask(tx, sc, cluster, ref)
			if err != nil {
				return err
			}
			if r == nil {
				arn := ref
				if !strings.HasPrefix(ref, "arn:") {
					arn = sc.arn("task/" + cluster + "/" + ref)
				}
				out.Failures = append(out.Failures, ecsapi.Failure{Arn: awsapi.String(arn), Reason: awsapi.String("MISSING")})
				continue
			}
			t := r.Task
			if !contains(in.Include, "TAGS") {
				t.Tags = nil
			}
			out.Tasks = append(out.Tasks, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTasks lists task ARNs of a cluster, filtered by family, startedBy,
// launch type and desired status (RUNNING unless asked otherwise).
func (s *Service) ListTasks(ctx context.Context, in *ecsapi.ListTasksInput) (*ecsapi.ListTasksOutput, error) {
	sc := s.scope(ctx)
	cluster, err := clusterName(sc, awsapi.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	desired := taskstate.Of(in.DesiredStatus)
	switch {
	case desired == "":
		desired = taskstate.Running
	case !desired.DesiredValid():
		return nil, invalidParam("Invalid desiredStatus: %s", desired)
	}
	// Read the narrowest index the filters allow; the others are checked
	// on its entries.
	dim := "all"
	switch {
	case in.ServiceName != nil:
		dim = "group=" + url.PathEscape("service:"+*in.ServiceName)
	case in.Family != nil:
		dim = "family=" + url.PathEscape(*in.Family)
	case in.StartedBy != nil:
		dim = "startedBy=" + url.PathEscape(*in.StartedBy)
	}
	// Bad paging parameters are reported after a missing cluster, as
	// before the index.
	var pageErr error
	prefix := tasksPrefix(sc, cluster, dim, desired)
	var start []byte
	if t := awsapi.ToString(in.NextToken); t != "" {
		// The token is the created time and id of the next task to list.
		ts, id, ok := strings.Cut(t, "/")
		if !ok || len(ts) != 20 || strings.Trim(ts, "0123456789") != "" || id == "" || strings.ContainsAny(id, "/") {
			pageErr = invalidParam("Invalid nextToken.")
		}
		start = []byte(prefix + t)
	}
	limit := int32(100)
	if in.MaxResults != nil {
		if (*in.MaxResults < 1 || *in.MaxResults > 100) && pageErr == nil {
			pageErr = invalidParam("maxResults must be between 1 and 100.")
		}
		limit = *in.MaxResults
	}
	arns := []string{}
	var next *string
	err = s.st.View(func(tx store.Tx) error {
		var c clusterRecord
		if found, err := getJSON(tx, sc.prefix()+"cluster/"+cluster, &c); err != nil || (!found && cluster != "default") {
			if err == nil {
				err = clusterNotFound()
			}
			return err
		}
		if pageErr != nil {
			return pageErr
		}
		if in.ContainerInstance != nil {
			return nil // wharf has no container instances: nothing runs on one
		}
		return tx.Scan([]byte(prefix), start, func(k, v []byte) (bool, error) {
			var e taskEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return false, err
			}
			switch {
			case in.Family != nil && e.Family != *in.Family:
			case in.StartedBy != nil && e.StartedBy != *in.StartedBy:
			case in.LaunchType != nil && e.LaunchType != *in.LaunchType:
			// A service's tasks carry the group service:<name> (the ECS
			// service scheduler's RunTask sets it, as on AWS).
			case in.ServiceName != nil && e.Group != "service:"+*in.ServiceName:
			case int32(len(arns)) == limit:
				next = awsapi.String(string(k[len(prefix):]))
				return false, nil
			default:
				arns = append(arns, e.Arn)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.ListTasksOutput{TaskArns: arns, NextToken: next}, nil
}

// StopTask asks a task to stop: its containers get SIGTERM, then SIGKILL
// after their stopTimeout. The response shows desiredStatus STOPPED.
func (s *Service) StopTask(ctx context.Context, in *ecsapi.StopTaskInput) (*ecsapi.StopTaskOutput, error) {
	return s.stopTask(ctx, in, taskstate.UserInitiated)
}

// StopServiceTask is StopTask for ECS's service scheduler (package
// ecsservice): the task's stopCode is ServiceSchedulerInitiated, as AWS
// records for tasks a service stops, which StopTask's API cannot ask for.
func (s *Service) StopServiceTask(ctx context.Context, in *ecsapi.StopTaskInput) (*ecsapi.StopTaskOutput, error) {
	return s.stopTask(ctx, in, taskstate.ServiceSchedulerInitiated)
}

func (s *Service) stopTask(ctx context.Context, in *ecsapi.StopTaskInput, code taskstate.StopCode) (*ecsapi.StopTaskOutput, error) {
	sc := s.scope(ctx)
	cluster, err := clusterName(sc, awsapi.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	reason := awsapi.ToString(in.Reason)
	if reason == "" {
		reason = "Task stopped by user"
	}
	if len(reason) > 255 {
		return nil, invalidParam("Reason must be at most 255 characters.")
	}
	var r *taskRecord
	err = s.st.View(func(tx store.Tx) (err error) {
		r, err = s.findTask(tx, sc, cluster, awsapi.ToString(in.Task))
		return err
	})
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, invalidParam("The referenced task was not found.")
	}
	t, err := s.requestStop(r, code, reason)
	if err != nil {
		return nil, err
	}
	return &ecsapi.StopTaskOutput{Task: t}, nil
}
