package ecs

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/runtime/docker"
	"github.com/wharf-dev/wharf/internal/runtime/process"
	"github.com/wharf-dev/wharf/test/images"
)

// realRuntimes are the runtimes tasks really run on, each with the image
// reference of the test program (test/images/task). Docker is skipped when no
// engine answers, except in CI (CI=true), where that fails the test.
func realRuntimes(t *testing.T) map[string]func(t *testing.T) (runtime.Runner, string) {
	return map[string]func(t *testing.T) (runtime.Runner, string){
		"docker": func(t *testing.T) (runtime.Runner, string) {
			r, ok := docker.Available(context.Background())
			if !ok {
				if os.Getenv("CI") == "true" {
					t.Fatal("no Docker engine answers (CI requires one: dockerd --bridge=none --iptables=false)")
				}
				t.Skip("no Docker engine answers at DOCKER_HOST or " + docker.DefaultSocket + "; start dockerd to run this test")
			}
			ref, err := images.Docker("task")
			if err != nil {
				t.Fatal(err)
			}
			return r, ref
		},
		"process": func(t *testing.T) (runtime.Runner, string) {
			bin, err := images.Binary("task", t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			p := process.New()
			t.Cleanup(p.Close)
			return p, bin
		},
	}
}

// logSink is a LogWriter that keeps lines by group and stream.
type logSink struct {
	mu    sync.Mutex
	lines map[string][]string
}

func (l *logSink) PutLogLines(_ context.Context, account, region, group, stream string, lines []LogLine) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lines == nil {
		l.lines = map[string][]string{}
	}
	for _, x := range lines {
		l.lines[group+" "+stream] = append(l.lines[group+" "+stream], x.Message)
	}
	return nil
}

func (l *logSink) get(key string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines[key]
}

func awslogs(c ecsapi.ContainerDefinition) ecsapi.ContainerDefinition {
	c.LogConfiguration = &ecsapi.LogConfiguration{LogDriver: awsapi.String("awslogs"), Options: map[string]string{
		"awslogs-group": "/ecs/test", "awslogs-stream-prefix": "ecs", "awslogs-region": "us-east-1",
	}}
	return c
}

// eventually polls cond until it holds, failing the test after a generous deadline.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached before the deadline")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

func TestRealContainerExitCodeStopsTaskAndShipsLogs(t *testing.T) {
	t.Parallel()
	for name, open := range realRuntimes(t) {
		t.Run(name, func(t *testing.T) {
			r, image := open(t)
			h := newHarness(t, r, nil)
			sink := &logSink{}
			h.svc.SetLogWriter(sink)
			c := awslogs(container("main", image, true))
			c.Command = []string{"exit", "7"}
			task := h.run(h.register("exiter", c), nil)
			d := h.waitStatus(*task.TaskArn, "STOPPED")
			if d["stopCode"] != "EssentialContainerExited" {
				t.Errorf("stopCode = %v", d["stopCode"])
			}
			ctr := d["containers"].([]any)[0].(map[string]any)
			if ctr["exitCode"] != float64(7) || ctr["lastStatus"] != "STOPPED" {
				t.Errorf("container in event = %v", ctr)
			}
			if got := h.describe(*task.TaskArn).Containers[0]; awsapi.ToInt32(got.ExitCode) != 7 || got.RuntimeId == nil {
				t.Errorf("DescribeTasks container = %+v", got)
			}
			got := strings.Join(sink.get("/ecs/test ecs/main/"+taskID(*task.TaskArn)), "|")
			if !strings.Contains(got, "exiting with 7") || !strings.Contains(got, "this is stderr") {
				t.Errorf("awslogs lines = %q (all: %v)", got, sink.lines)
			}
			// The container is removed once the task has stopped.
			if _, err := r.Inspect(context.Background(), awsapi.ToString(h.describe(*task.TaskArn).Containers[0].RuntimeId)); err != runtime.ErrNotFound {
				t.Errorf("container still present: %v", err)
			}
		})
	}
}

func TestRealStopTaskSendsSIGTERMThenSIGKILL(t *testing.T) {
	t.Parallel()
	for name, open := range realRuntimes(t) {
		t.Run(name, func(t *testing.T) {
			r, image := open(t)
			h := newHarness(t, r, nil)
			term := container("term", image, true)
			term.Command = []string{"sleep"}
			term.StopTimeout = awsapi.Int32(20)
			stubborn := container("stubborn", image, false)
			stubborn.Command = []string{"ignore-term"}
			stubborn.StopTimeout = awsapi.Int32(1)
			sink := &logSink{}
			h.svc.SetLogWriter(sink)
			task := h.run(h.register("stopper", awslogs(term), awslogs(stubborn)), nil)
			h.waitStatus(*task.TaskArn, "RUNNING")
			// Stop only once both programs have set up their signal handling.
			eventually(t, func() bool {
				return len(sink.get("/ecs/test ecs/term/"+taskID(*task.TaskArn))) > 0 && len(sink.get("/ecs/test ecs/stubborn/"+taskID(*task.TaskArn))) > 0
			})
			if _, err := h.svc.StopTask(h.ctx, &ecsapi.StopTaskInput{Task: task.TaskArn, Reason: awsapi.String("enough")}); err != nil {
				t.Fatal(err)
			}
			d := h.waitStatus(*task.TaskArn, "STOPPED")
			if d["stopCode"] != "UserInitiated" || d["stoppedReason"] != "enough" {
				t.Errorf("detail = %v", d)
			}
			codes := map[string]int32{}
			for _, c := range h.describe(*task.TaskArn).Containers {
				codes[*c.Name] = awsapi.ToInt32(c.ExitCode)
			}
			if codes["term"] != 0 || codes["stubborn"] != 137 {
				t.Errorf("exit codes = %v, want term 0 (handled SIGTERM), stubborn 137 (SIGKILL)", codes)
			}
			if got := sink.get("/ecs/test ecs/term/" + taskID(*task.TaskArn)); !contains(got, "terminated") {
				t.Errorf("term's output = %q", got)
			}
		})
	}
}

func TestRealTaskReadsItsMetadata(t *testing.T) {
	t.Parallel()
	for name, open := range realRuntimes(t) {
		t.Run(name, func(t *testing.T) {
			r, image := open(t)
			h := newHarness(t, r, nil)
			sink := &logSink{}
			h.svc.SetLogWriter(sink)
			c := awslogs(container("main", image, true))
			c.Command = []string{"metadata"}
			task := h.run(h.register("meta", c), nil)
			d := h.waitStatus(*task.TaskArn, "STOPPED")
			if code := d["containers"].([]any)[0].(map[string]any)["exitCode"]; code != float64(0) {
				t.Fatalf("metadata program exited %v: %q", code, sink.lines)
			}
			got := strings.Join(sink.get("/ecs/test ecs/main/"+taskID(*task.TaskArn)), "\n")
			if !strings.Contains(got, `"TaskARN":"`+*task.TaskArn+`"`) || !strings.Contains(got, `"Family":"meta"`) {
				t.Errorf("metadata document = %s", got)
			}
		})
	}
}

func TestRealContainersAreReadoptedAfterRestart(t *testing.T) {
	t.Parallel()
	for name, open := range realRuntimes(t) {
		t.Run(name, func(t *testing.T) {
			r, image := open(t)
			h := newHarness(t, r, nil)
			c := container("main", image, true)
			c.Command = []string{"sleep"}
			td := h.register("keeper", c)
			kept, gone := h.run(td, nil), h.run(td, nil)
			h.waitStatus(*kept.TaskArn, "RUNNING")
			h.waitStatus(*gone.TaskArn, "RUNNING")
			goneID := awsapi.ToString(h.describe(*gone.TaskArn).Containers[0].RuntimeId)
			h.stop() // wharf stops; its containers go on
			if name == "docker" {
				// One container disappears while wharf is down.
				if err := r.Remove(context.Background(), goneID); err != nil {
					t.Fatal(err)
				}
			}

			if name == "process" {
				// A new wharf has a new process runtime, which cannot re-adopt
				// the old one's processes: their tasks stop.
				fresh := process.New()
				t.Cleanup(fresh.Close)
				h2 := newHarness(t, fresh, h.st)
				d := h2.waitStatus(*kept.TaskArn, "STOPPED")
				if ctr := d["containers"].([]any)[0].(map[string]any); !strings.Contains(fmt.Sprint(ctr["reason"]), "no longer exists") {
					t.Errorf("container = %v", ctr)
				}
				return
			}
			h2 := newHarness(t, r, h.st)
			d := h2.waitStatus(*gone.TaskArn, "STOPPED")
			if d["stopCode"] != "EssentialContainerExited" {
				t.Errorf("vanished task = %v", d)
			}
			if got := h2.describe(*kept.TaskArn); *got.LastStatus != "RUNNING" {
				t.Fatalf("kept task is %s after restart", *got.LastStatus)
			}
			if _, err := h2.svc.StopTask(h2.ctx, &ecsapi.StopTaskInput{Task: kept.TaskArn}); err != nil {
				t.Fatal(err)
			}
			d = h2.waitStatus(*kept.TaskArn, "STOPPED")
			if ctr := d["containers"].([]any)[0].(map[string]any); d["stopCode"] != "UserInitiated" || ctr["exitCode"] != float64(0) {
				t.Errorf("re-adopted task stopped as %v", d)
			}
		})
	}
}

func TestRealHealthCheckGatesHealthyDependency(t *testing.T) {
	t.Parallel()
	for name, open := range realRuntimes(t) {
		t.Run(name, func(t *testing.T) {
			r, image := open(t)
			h := newHarness(t, r, nil)
			exe := "/task" // the image's program
			if name == "process" {
				exe = image
			}
			db := container("db", image, false)
			db.Command = []string{"sleep"}
			db.HealthCheck = &ecsapi.HealthCheck{Command: []string{"CMD", exe, "exit", "0"}, Interval: awsapi.Int32(1), Retries: awsapi.Int32(1)}
			app := container("app", image, true)
			app.Command = []string{"exit", "0"}
			app.DependsOn = []ecsapi.ContainerDependency{{ContainerName: awsapi.String("db"), Condition: awsapi.String("HEALTHY")}}
			task := h.run(h.register("healthy", db, app), nil)
			h.waitEvent(*task.TaskArn, "db HEALTHY", func(d map[string]any) bool {
				for _, c := range d["containers"].([]any) {
					if c := c.(map[string]any); c["name"] == "db" && c["healthStatus"] == "HEALTHY" {
						return true
					}
				}
				return false
			})
			d := h.waitStatus(*task.TaskArn, "STOPPED")
			for _, c := range d["containers"].([]any) {
				if c := c.(map[string]any); c["name"] == "app" && c["exitCode"] != float64(0) {
					t.Errorf("app = %v (did it start once db was HEALTHY?)", c)
				}
			}
		})
	}
}

func TestRealUnpullableImageStopsTaskWithCannotPullContainerError(t *testing.T) {
	t.Parallel()
	for name, open := range realRuntimes(t) {
		t.Run(name, func(t *testing.T) {
			r, _ := open(t)
			h := newHarness(t, r, nil)
			// Nothing listens on 127.0.0.1:1, so the pull fails at once.
			task := h.run(h.register("nopull", container("main", "127.0.0.1:1/wharf/absent:none", true)), nil)
			d := h.waitStatus(*task.TaskArn, "STOPPED")
			if d["stopCode"] != "TaskFailedToStart" || !strings.HasPrefix(fmt.Sprint(d["stoppedReason"]), "CannotPullContainerError: ") {
				t.Errorf("detail = %v", d)
			}
			c := h.describe(*task.TaskArn).Containers[0]
			if !strings.HasPrefix(awsapi.ToString(c.Reason), "CannotPullContainerError") || c.ExitCode != nil || *c.LastStatus != "STOPPED" {
				t.Errorf("container = %+v", c)
			}
		})
	}
}
