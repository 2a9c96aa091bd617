package ecsservice

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
	"github.com/wharf-dev/wharf/internal/store"
)

const (
	account = "123456789012"
	region  = "us-east-1"
)

// fakeTasks is ECS's task side in memory. Tasks move only when the test says
// so (advance, crash), so every intermediate state can be checked.
type fakeTasks struct {
	mu      sync.Mutex
	seq     int
	tasks   map[string]*ecsapi.Task // by ARN
	order   []string
	revs    map[string]int  // family → latest revision
	failing map[string]bool // task definition ARN → its tasks never reach RUNNING
	runErr  error           // RunTask answers this error when set
}

func newFakeTasks() *fakeTasks {
	return &fakeTasks{tasks: map[string]*ecsapi.Task{}, revs: map[string]int{"web": 1}, failing: map[string]bool{}}
}

func tdArn(family string, rev int) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", region, account, family, rev)
}

func (f *fakeTasks) register(family string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revs[family]++
	return tdArn(family, f.revs[family])
}

func (f *fakeTasks) DescribeClusters(_ context.Context, in *ecsapi.DescribeClustersInput) (*ecsapi.DescribeClustersOutput, error) {
	out := &ecsapi.DescribeClustersOutput{}
	for _, c := range in.Clusters {
		if c == "c" {
			out.Clusters = append(out.Clusters, ecsapi.Cluster{ClusterArn: awsapi.String("arn:aws:ecs:" + region + ":" + account + ":cluster/c"), Status: awsapi.String("ACTIVE")})
		}
	}
	return out, nil
}

func (f *fakeTasks) DescribeTaskDefinition(_ context.Context, in *ecsapi.DescribeTaskDefinitionInput) (*ecsapi.DescribeTaskDefinitionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref := strings.TrimPrefix(*in.TaskDefinition, "arn:aws:ecs:"+region+":"+account+":task-definition/")
	family, rev, hasRev := strings.Cut(ref, ":")
	latest, ok := f.revs[family]
	n := latest
	if hasRev {
		n, _ = strconv.Atoi(rev)
	}
	if !ok || n < 1 || n > latest {
		return nil, apierr.New("ClientException", 400, "Unable to describe task definition.")
	}
	return &ecsapi.DescribeTaskDefinitionOutput{TaskDefinition: &ecsapi.TaskDefinition{
		TaskDefinitionArn: awsapi.String(tdArn(family, n)), Status: awsapi.String("ACTIVE"),
	}}, nil
}

func (f *fakeTasks) RunTask(ctx context.Context, in *ecsapi.RunTaskInput) (*ecsapi.RunTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := awsapi.CallerFrom(ctx); c.Account != account || c.Region != region {
		return nil, fmt.Errorf("RunTask as %q/%q, not the service's account and region", c.Account, c.Region)
	}
	if f.runErr != nil {
		return nil, f.runErr
	}
	out := &ecsapi.RunTaskOutput{}
	for range awsapi.ToInt32(in.Count) {
		f.seq++
		arn := fmt.Sprintf("arn:aws:ecs:%s:%s:task/c/%032x", region, account, f.seq)
		t := &ecsapi.Task{
			TaskArn: &arn, TaskDefinitionArn: in.TaskDefinition, LastStatus: awsapi.String("PROVISIONING"),
			DesiredStatus: awsapi.String("RUNNING"), StartedBy: in.StartedBy, Group: in.Group,
		}
		f.tasks[arn] = t
		f.order = append(f.order, arn)
		out.Tasks = append(out.Tasks, *t)
	}
	return out, nil
}

func (f *fakeTasks) StopTask(_ context.Context, in *ecsapi.StopTaskInput) (*ecsapi.StopTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tasks[*in.Task]
	if t == nil {
		return nil, apierr.New("InvalidParameterException", 400, "The referenced task was not found.")
	}
	t.DesiredStatus, t.StoppedReason = awsapi.String("STOPPED"), in.Reason
	return &ecsapi.StopTaskOutput{Task: t}, nil
}

func (f *fakeTasks) DescribeTasks(_ context.Context, in *ecsapi.DescribeTasksInput) (*ecsapi.DescribeTasksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ecsapi.DescribeTasksOutput{}
	for _, arn := range in.Tasks {
		if t := f.tasks[arn]; t != nil {
			out.Tasks = append(out.Tasks, *t)
		} else {
			out.Failures = append(out.Failures, ecsapi.Failure{Arn: awsapi.String(arn), Reason: awsapi.String("MISSING")})
		}
	}
	return out, nil
}

func (f *fakeTasks) ListTasks(_ context.Context, in *ecsapi.ListTasksInput) (*ecsapi.ListTasksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ecsapi.ListTasksOutput{TaskArns: []string{}}
	for _, arn := range f.order {
		t := f.tasks[arn]
		if *t.DesiredStatus == "RUNNING" && (in.StartedBy == nil || awsapi.ToString(t.StartedBy) == *in.StartedBy) {
			out.TaskArns = append(out.TaskArns, arn)
		}
	}
	return out, nil
}

// advance moves every task one step: a task asked to stop stops; a new task
// starts, or stops without starting when its task definition is failing.
func (f *fakeTasks) advance(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tasks {
		switch {
		case *t.LastStatus == "STOPPED":
		case *t.DesiredStatus == "STOPPED":
			t.LastStatus = awsapi.String("STOPPED")
		case *t.LastStatus == "PROVISIONING" && f.failing[*t.TaskDefinitionArn]:
			t.LastStatus, t.DesiredStatus = awsapi.String("STOPPED"), awsapi.String("STOPPED")
			t.StoppedReason = awsapi.String("CannotPullContainerError: pull access denied")
		case *t.LastStatus == "PROVISIONING":
			t.LastStatus, t.StartedAt = awsapi.String("RUNNING"), &now
		}
	}
}

// crash stops a running task on its own (its essential container exited).
func (f *fakeTasks) crash(arn string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tasks[arn]
	t.LastStatus, t.DesiredStatus = awsapi.String("STOPPED"), awsapi.String("STOPPED")
	t.StoppedReason = awsapi.String("Essential container in task exited")
}

// running lists the tasks RUNNING that nobody asked to stop, by task definition.
func (f *fakeTasks) running() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for _, arn := range f.order {
		t := f.tasks[arn]
		if *t.LastStatus == "RUNNING" && *t.DesiredStatus == "RUNNING" {
			out[*t.TaskDefinitionArn] = append(out[*t.TaskDefinitionArn], arn)
		}
	}
	return out
}

// alive counts tasks not STOPPED (RUNNING or PENDING, as maximumPercent counts).
func (f *fakeTasks) alive() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.tasks {
		if *t.LastStatus != "STOPPED" {
			n++
		}
	}
	return n
}

type fakeMetrics struct {
	mu   sync.Mutex
	data []cloudwatch.Datum
	puts int
}

func (m *fakeMetrics) Put(_ context.Context, acct, reg, ns string, data ...cloudwatch.Datum) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if acct != account || reg != region || ns != "ECS/ContainerInsights" {
		return fmt.Errorf("put to %s/%s/%s", acct, reg, ns)
	}
	m.data = append(m.data, data...)
	m.puts++
	return nil
}

// harness is a Service over a fake task side, a memory store and a clock
// that moves only when the test moves it.
type harness struct {
	t     *testing.T
	ctx   context.Context
	st    store.Store
	tasks *fakeTasks
	rec   *eventbus.Recorder
	now   time.Time
	ids   int
	svc   *Service
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, st: store.OpenMemory(), tasks: newFakeTasks(), rec: &eventbus.Recorder{},
		now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	h.ctx = awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: account, Region: region, ARN: "arn:aws:iam::" + account + ":root"})
	h.svc = h.open()
	return h
}

// open builds a Service on the harness's store, as a restarted wharf does.
func (h *harness) open() *Service {
	bus := eventbus.New()
	bus.Attach(h.rec)
	return New(Options{Store: h.st, Bus: bus, Tasks: h.tasks, Account: account, Region: region,
		Clock: clock.Func(func() time.Time { return h.now }),
		NewID: func() string {
			h.ids++
			return fmt.Sprintf("%032x", h.ids*7919)
		}})
}

func (h *harness) create(name string, desired int32, cfg *ecsapi.DeploymentConfiguration) *ecsapi.ServiceShape {
	h.t.Helper()
	out, err := h.svc.CreateService(h.ctx, &ecsapi.CreateServiceInput{Cluster: awsapi.String("c"), ServiceName: &name,
		TaskDefinition: awsapi.String("web"), DesiredCount: &desired, DeploymentConfiguration: cfg})
	if err != nil {
		h.t.Fatalf("CreateService: %v", err)
	}
	return out.Service
}

func (h *harness) describe(name string) ecsapi.ServiceShape {
	h.t.Helper()
	out, err := h.svc.DescribeServices(h.ctx, &ecsapi.DescribeServicesInput{Cluster: awsapi.String("c"), Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		h.t.Fatalf("DescribeServices %s: %v %+v", name, err, out)
	}
	return out.Services[0]
}

// step is one tick of the controller and one step of the tasks, a second apart.
func (h *harness) step() {
	h.svc.Tick(h.ctx)
	h.now = h.now.Add(time.Second)
	h.tasks.advance(h.now)
}

func messages(s ecsapi.ServiceShape) []string {
	var out []string
	for _, e := range s.Events {
		out = append(out, *e.Message)
	}
	return out
}

func hasMessage(s ecsapi.ServiceShape, prefix string) bool {
	for _, m := range messages(s) {
		if strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

// busEvents returns the detail of every bus event of a detail type.
func (h *harness) busEvents(detailType string) []map[string]any {
	var out []map[string]any
	for _, e := range h.rec.Events() {
		if e.DetailType == detailType {
			var m map[string]any
			if err := json.Unmarshal(e.Detail, &m); err != nil {
				h.t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}
