package process

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/test/images"
)

func taskBinary(t *testing.T) string {
	t.Helper()
	bin, err := images.Binary("task", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestProcessExitCodeLogsAndEnvironment(t *testing.T) {
	r := New()
	bin := taskBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := r.Start(ctx, runtime.Spec{Image: bin, Command: []string{"exit", "3"}, Labels: map[string]string{"task": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Wait(ctx, id)
	if err != nil || st.ExitCode != 3 || st.Running {
		t.Fatalf("Wait = %+v, %v", st, err)
	}
	var lines []runtime.Line
	if err := r.Logs(ctx, id, func(l runtime.Line) { lines = append(lines, l) }); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 {
		t.Errorf("lines = %+v", lines)
	}
	if l, _ := r.List(ctx, "task", "t1"); len(l) != 1 {
		t.Errorf("List = %+v", l)
	}

	id, err = r.Start(ctx, runtime.Spec{EntryPoint: []string{bin}, Command: []string{"env"}, Env: []string{"FOO=bar"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	r.Logs(ctx, id, func(l runtime.Line) { found = found || l.Text == "FOO=bar" })
	if !found {
		t.Error("environment not passed")
	}
}

func TestProcessStopTermThenKill(t *testing.T) {
	r := New()
	bin := taskBinary(t)
	for _, tc := range []struct {
		cmd  string
		code int
	}{{"sleep", 0}, {"ignore-term", 137}} {
		t.Run(tc.cmd, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			id, err := r.Start(ctx, runtime.Spec{Image: bin, Command: []string{tc.cmd}})
			if err != nil {
				t.Fatal(err)
			}
			started := make(chan struct{})
			go r.Logs(ctx, id, func(runtime.Line) {
				select {
				case <-started:
				default:
					close(started)
				}
			})
			<-started
			if err := r.Stop(ctx, id, 200*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			st, _ := r.Wait(ctx, id)
			if st.ExitCode != tc.code {
				t.Errorf("exit = %d, want %d", st.ExitCode, tc.code)
			}
		})
	}
}

func TestMissingExecutableIsAPullError(t *testing.T) {
	_, err := New().Start(context.Background(), runtime.Spec{Image: "wharf-no-such-program-xyz:latest"})
	var pe *runtime.PullError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	if _, err := New().Inspect(context.Background(), "x"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Inspect = %v", err)
	}
}

// TestOnlyPathsAndListedImagesResolve: an image is an absolute path, or one
// New's list allows (with or without its tag, mapped to a path or to the
// program of its name on PATH); a host program that merely shares an image's
// name is ErrNoEngine.
func TestOnlyPathsAndListedImagesResolve(t *testing.T) {
	r := New("sleep", "worker=/opt/worker/bin", "py:3.12=python3")
	for _, tc := range []struct {
		image, want string // want "" means ErrNoEngine
	}{
		{"/usr/local/bin/task", "/usr/local/bin/task"},
		{"sleep", "sleep"},
		{"sleep:latest", "sleep"},
		{"worker:2", "/opt/worker/bin"},
		{"worker@sha256:0123", "/opt/worker/bin"},
		{"true", ""},
		{"alpine:3", ""},
		{"library/sleep", ""},
		{"py:3.13", ""},
	} {
		got, err := r.resolve(tc.image)
		switch {
		case tc.want == "" && !errors.Is(err, ErrNoEngine):
			t.Errorf("%s: %q, %v; want ErrNoEngine", tc.image, got, err)
		case tc.want != "" && (err != nil && !strings.Contains(err.Error(), "executable file not found") || err == nil && filepath.Base(got) != filepath.Base(tc.want)):
			t.Errorf("%s: %q, %v; want %s", tc.image, got, err, tc.want)
		}
	}
	if _, err := New().resolve("sleep"); !errors.Is(err, ErrNoEngine) {
		t.Errorf("sleep with nothing allowed: %v, want ErrNoEngine", err)
	}
}
