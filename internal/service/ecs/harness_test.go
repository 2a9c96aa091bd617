package ecs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/store"
)

// fakeRunner is a runtime.Runner whose containers exit when the test says so.
type fakeRunner struct {
	mu      sync.Mutex
	seq     int
	ctrs    map[string]*fakeCtr
	byName  map[string]string // spec name → id
	order   []string          // container names in start order (label)
	failing map[string]error  // image → Start error
	stops   []string
}

type fakeCtr struct {
	spec  runtime.Spec
	state runtime.State
	done  chan struct{}
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{ctrs: map[string]*fakeCtr{}, byName: map[string]string{}, failing: map[string]error{}}
}

func (f *fakeRunner) Name() string { return "fake" }

func (f *fakeRunner) Start(_ context.Context, spec runtime.Spec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failing[spec.Image]; err != nil {
		return "", err
	}
	f.seq++
	id := fmt.Sprintf("c%d", f.seq)
	f.ctrs[id] = &fakeCtr{spec: spec, state: runtime.State{ID: id, Name: spec.Name, Labels: spec.Labels, Running: true}, done: make(chan struct{})}
	f.byName[spec.Labels[labelContainer]] = id
	f.order = append(f.order, spec.Labels[labelContainer])
	return id, nil
}

// exit ends the container named name (its ECS container name) with code.
func (f *fakeRunner) exit(name string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.ctrs[f.byName[name]]
	if c == nil || !c.state.Running {
		return
	}
	c.state.Running, c.state.ExitCode = false, code
	close(c.done)
}

// exitTask ends the container of the task with code.
func (f *fakeRunner) exitTask(arn string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.ctrs {
		if c.spec.Labels[labelTaskArn] == arn && c.state.Running {
			c.state.Running, c.state.ExitCode = false, code
			close(c.done)
		}
	}
}

func (f *fakeRunner) started(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byName[name] != ""
}

func (f *fakeRunner) spec(name string) runtime.Spec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ctrs[f.byName[name]].spec
}

func (f *fakeRunner) Stop(_ context.Context, id string, timeout time.Duration) error {
	f.mu.Lock()
	c := f.ctrs[id]
	f.stops = append(f.stops, fmt.Sprintf("%s/%s", c.spec.Labels[labelContainer], timeout))
	f.mu.Unlock()
	f.exit(c.spec.Labels[labelContainer], 143) // SIGTERM's exit status
	return nil
}

func (f *fakeRunner) Wait(ctx context.Context, id string) (runtime.State, error) {
	f.mu.Lock()
	c := f.ctrs[id]
	f.mu.Unlock()
	if c == nil {
		return runtime.State{}, runtime.ErrNotFound
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return runtime.State{}, ctx.Err()
	}
	return f.Inspect(ctx, id)
}

func (f *fakeRunner) Logs(ctx context.Context, id string, fn func(runtime.Line)) error {
	f.mu.Lock()
	c := f.ctrs[id]
	f.mu.Unlock()
	fn(runtime.Line{Stream: "stdout", Time: time.Unix(1, 0), Text: "hello from " + c.spec.Labels[labelContainer]})
	select {
	case <-c.done:
	case <-ctx.Done():
	}
	return nil
}

func (f *fakeRunner) Inspect(_ context.Context, id string) (runtime.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.ctrs[id]
	if c == nil {
		return runtime.State{}, runtime.ErrNotFound
	}
	return c.state, nil
}

func (f *fakeRunner) List(context.Context, string, string) ([]runtime.State, error) { return nil, nil }

func (f *fakeRunner) Remove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ctrs, id)
	return nil
}

// harness is a Service over a memory store with a fake runner and a recorder
// on its bus, running until the test ends.
type harness struct {
	t      *testing.T
	svc    *Service
	runner runtime.Runner
	fake   *fakeRunner
	rec    *eventbus.Recorder
	st     store.Store
	ctx    context.Context
	stop   func()
	clock  *atomic.Pointer[time.Time]
	creds  *countingCreds
}

func newHarness(t *testing.T, r runtime.Runner, st store.Store) *harness {
	t.Helper()
	if st == nil {
		st = store.OpenMemory()
	}
	bus := eventbus.New()
	rec := &eventbus.Recorder{}
	bus.Attach(rec)
	n := 0
	var idMu sync.Mutex
	clock := &atomic.Pointer[time.Time]{}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	clock.Store(&t0)
	creds := &countingCreds{}
	svc, err := New(Options{Store: st, Runner: r, Bus: bus, Account: "000000000000", Region: "us-east-1", Endpoint: "127.0.0.1:4566",
		Clock: clockFunc(func() time.Time { return *clock.Load() }),
		NewID: func() string {
			idMu.Lock()
			defer idMu.Unlock()
			n++
			return fmt.Sprintf("%032x", n)
		},
		Credentials: creds, HealthPoll: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	h := &harness{t: t, svc: svc, runner: r, rec: rec, st: st, ctx: context.Background(), clock: clock, creds: creds}
	h.fake, _ = r.(*fakeRunner)
	h.stop = func() { cancel(); <-done }
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			h.stop()
		}
	})
	return h
}

// countingCreds mints credentials valid for an hour from the harness clock's
// start, numbered by how many it has minted.
type countingCreds struct{ n atomic.Int32 }

func (c *countingCreds) CredentialsForRole(_ context.Context, account, role, session string) (Credentials, error) {
	n := c.n.Add(1)
	return Credentials{AccessKeyID: fmt.Sprintf("ASIA%d", n), SecretAccessKey: "secret", SessionToken: role + "@" + account + "/" + session,
		Expiration: time.Date(2025, 1, 2, 4, 4, 5, 0, time.UTC).Add(time.Duration(n-1) * time.Hour)}, nil
}

func (h *harness) register(family string, defs ...ecsapi.ContainerDefinition) string {
	h.t.Helper()
	out, err := h.svc.RegisterTaskDefinition(h.ctx, &ecsapi.RegisterTaskDefinitionInput{Family: &family, ContainerDefinitions: defs, TaskRoleArn: awsapi.String("arn:aws:iam::000000000000:role/task")})
	if err != nil {
		h.t.Fatal(err)
	}
	return *out.TaskDefinition.TaskDefinitionArn
}

func (h *harness) run(td string, o *ecsapi.TaskOverride) ecsapi.Task {
	h.t.Helper()
	out, err := h.svc.RunTask(h.ctx, &ecsapi.RunTaskInput{TaskDefinition: &td, Overrides: o})
	if err != nil {
		h.t.Fatal(err)
	}
	return out.Tasks[0]
}

// waitStatus waits for the task's state-change event with lastStatus and
// returns its detail.
func (h *harness) waitStatus(arn, status string) map[string]any {
	h.t.Helper()
	return h.waitEvent(arn, status, func(d map[string]any) bool { return d["lastStatus"] == status })
}

// waitEvent waits for a state-change event of the task for which ok holds.
func (h *harness) waitEvent(arn, status string, ok func(map[string]any) bool) map[string]any {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for n := 1; ; n++ {
		evs, err := h.rec.Wait(ctx, n)
		if err != nil {
			h.t.Fatalf("no %s event for %s: %v", status, arn, err)
		}
		e := evs[n-1]
		if e.DetailType != "ECS Task State Change" {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			h.t.Fatal(err)
		}
		if d["taskArn"] == arn && ok(d) {
			return d
		}
	}
}

func (h *harness) describe(arn string) ecsapi.Task {
	h.t.Helper()
	out, err := h.svc.DescribeTasks(h.ctx, &ecsapi.DescribeTasksInput{Tasks: []string{arn}})
	if err != nil || len(out.Tasks) != 1 {
		h.t.Fatalf("DescribeTasks = %+v, %v", out, err)
	}
	return out.Tasks[0]
}

func container(name, image string, essential bool) ecsapi.ContainerDefinition {
	return ecsapi.ContainerDefinition{Name: &name, Image: &image, Essential: &essential}
}

// clockFunc is clock.Func, for a function where a variable named clock hides the package.
var clockFunc = clock.Func
