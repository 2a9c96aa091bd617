package docker

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/test/images"
)

// engine returns a Runner when a Docker engine answers. Without one the test
// is skipped, except in CI (CI=true), where a missing engine is a failure.
func engine(t *testing.T) *Runner {
	t.Helper()
	r, ok := Available(context.Background())
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Docker engine answers at DOCKER_HOST or " + DefaultSocket + " (CI requires one)")
		}
		t.Skip("no Docker engine answers at DOCKER_HOST or " + DefaultSocket + "; start dockerd to run this test")
	}
	return r
}

func taskImage(t *testing.T) string {
	t.Helper()
	ref, err := images.Docker("task")
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func start(t *testing.T, r *Runner, spec runtime.Spec) string {
	t.Helper()
	spec.Name = "wharf-test-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + time.Now().Format("150405.000000")
	spec.Labels = map[string]string{"wharf.test": t.Name()}
	id, err := r.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Remove(context.Background(), id) })
	return id
}

func TestContainerExitCodeAndLogs(t *testing.T) {
	r := engine(t)
	id := start(t, r, runtime.Spec{Image: taskImage(t), Command: []string{"exit", "7"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := r.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Running || st.ExitCode != 7 {
		t.Errorf("state = %+v, want exited with 7", st)
	}
	var lines []runtime.Line
	if err := r.Logs(ctx, id, func(l runtime.Line) { lines = append(lines, l) }); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range lines {
		got[l.Stream] = l.Text
	}
	if got["stdout"] != "exiting with 7" || got["stderr"] != "this is stderr" {
		t.Errorf("logs = %+v", lines)
	}
	list, err := r.List(ctx, "wharf.test", t.Name())
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("List = %+v, %v", list, err)
	}
}

func TestStopSendsSIGTERMThenSIGKILL(t *testing.T) {
	r := engine(t)
	img := taskImage(t)
	for _, tc := range []struct {
		cmd  string
		code int
	}{{"sleep", 0}, {"ignore-term", 137}} {
		t.Run(tc.cmd, func(t *testing.T) {
			id := start(t, r, runtime.Spec{Image: img, Command: []string{tc.cmd}})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// Wait until the program has installed its signal handling.
			first := make(chan struct{})
			go r.Logs(ctx, id, func(runtime.Line) {
				select {
				case <-first:
				default:
					close(first)
				}
			})
			<-first
			if err := r.Stop(ctx, id, time.Second); err != nil {
				t.Fatal(err)
			}
			st, err := r.Wait(ctx, id)
			if err != nil || st.ExitCode != tc.code {
				t.Errorf("after stop: %+v, %v; want exit %d", st, err, tc.code)
			}
		})
	}
}

func TestMissingImageThatCannotBePulledIsAPullError(t *testing.T) {
	r := engine(t)
	_, err := r.Start(context.Background(), runtime.Spec{Name: "wharf-test-nopull", Image: "127.0.0.1:1/wharf/absent:none"})
	var pe *runtime.PullError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a PullError", err)
	}
}

func TestUnknownContainerIsNotFound(t *testing.T) {
	r := engine(t)
	if _, err := r.Inspect(context.Background(), "wharf-no-such-container"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Inspect = %v", err)
	}
}

func frame(stream byte, s string) []byte {
	b := make([]byte, 8, 8+len(s))
	b[0] = stream
	binary.BigEndian.PutUint32(b[4:], uint32(len(s)))
	return append(b, s...)
}

func TestDemuxJoinsLinesAcrossFrames(t *testing.T) {
	var in bytes.Buffer
	in.Write(frame(1, "2024-01-02T03:04:05.000000006Z hel"))
	in.Write(frame(1, "lo\n2024-01-02T03:04:05Z x\n"))
	in.Write(frame(2, "2024-01-02T03:04:05Z err"))
	var got []string
	if err := demux(&in, func(l runtime.Line) { got = append(got, l.Stream+":"+l.Text+"@"+l.Time.Format(time.RFC3339)) }); err != nil {
		t.Fatal(err)
	}
	want := "stdout:hello@2024-01-02T03:04:05Z stdout:x@2024-01-02T03:04:05Z stderr:err@2024-01-02T03:04:05Z"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q", got)
	}
}

func FuzzDemux(f *testing.F) {
	f.Add(frame(1, "2024-01-02T03:04:05Z a\nb"))
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 8 && binary.BigEndian.Uint32(b[4:8]) > 1<<20 {
			return // the engine never sends frames this large; avoid huge allocations
		}
		demux(bytes.NewReader(b), func(runtime.Line) {})
	})
}

// TestStatsMeasureARunningContainer: two samples of a container that keeps
// a CPU busy and holds 8 MiB show the CPU time growing between them and the
// memory in use, from the engine's own statistics document.
func TestStatsMeasureARunningContainer(t *testing.T) {
	r := engine(t)
	id := start(t, r, runtime.Spec{Image: taskImage(t), Command: []string{"burn", "8", "50"}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// sample waits for a sample that shows ok: on a loaded machine the
	// program can take seconds to touch its memory and to get CPU time.
	sample := func(what string, ok func(runtime.Stats) bool) runtime.Stats {
		t.Helper()
		for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			st, err := r.Stats(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if ok(st) {
				return st
			}
			if time.Now().After(end) {
				t.Fatalf("no sample %s within 30 s; the last: %+v", what, st)
			}
		}
	}
	// The program touches its 8 MiB before it burns CPU.
	first := sample("holding 8 MiB", func(st runtime.Stats) bool { return st.MemoryUsage >= 8<<20 })
	second := sample("with more CPU time than the first", func(st runtime.Stats) bool {
		return st.Read.After(first.Read) && st.CPUTotal > first.CPUTotal
	})
	if second.MemoryUsage < 8<<20 || second.MemoryLimit == 0 || second.PIDs == 0 || second.OnlineCPUs == 0 || !bytes.Contains(second.Doc, []byte(`"cpu_stats"`)) {
		t.Errorf("sample %+v", second)
	}
	if _, err := r.Stats(ctx, "wharf-no-such-container"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("stats of a missing container: %v", err)
	}
}

// TestLogsReadsOnWhenTheFollowStreamEndsEarly: an engine may end a follow
// stream when the container stops while the reader is still behind its log
// file. Logs then reads the log again without following and delivers the
// lines after those it already had, each once. The engine is played by a
// server on a unix socket, because a real one cannot be made to do this on
// demand.
func TestLogsReadsOnWhenTheFollowStreamEndsEarly(t *testing.T) {
	var all bytes.Buffer
	for i := range 5 {
		all.Write(frame(byte(1+i%2), fmt.Sprintf("2024-01-02T03:04:05Z line %d\n", i)))
	}
	all.Write(frame(1, "2024-01-02T03:04:05Z no newline"))
	short := all.Bytes()[:len(frame(1, "2024-01-02T03:04:05Z line 0\n"))*2+12] // 2 lines and a torn frame
	sock := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasSuffix(req.URL.Path, "/containers/c1/logs") {
			http.NotFound(w, req)
			return
		}
		if req.URL.Query().Get("follow") == "1" {
			w.Write(short)
			return
		}
		w.Write(all.Bytes())
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r, err := New(func(k string) string {
		if k == "DOCKER_HOST" {
			return "unix://" + sock
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := r.Logs(context.Background(), "c1", func(l runtime.Line) { got = append(got, l.Stream+":"+l.Text) }); err != nil {
		t.Fatal(err)
	}
	want := "stdout:line 0 stderr:line 1 stdout:line 2 stderr:line 3 stdout:line 4 stdout:no newline"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// onSocket returns a Runner for an engine at a new unix socket path, and the
// path.
func onSocket(t *testing.T) (*Runner, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	r, err := New(func(k string) string {
		if k == "DOCKER_HOST" {
			return "unix://" + sock
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, sock
}

// TestPingAsksTheEngine: Ping, which speaks HTTP on a connection of its own,
// succeeds when GET /_ping is answered 2xx, and fails with the engine's
// status otherwise, on an answer that is not HTTP, with no engine, and when
// its context ends before an answer. The engine is played by a net/http
// server on a unix socket; TestContainerExitCodeAndLogs pings a real one.
func TestPingAsksTheEngine(t *testing.T) {
	r, sock := onSocket(t)
	if err := r.Ping(context.Background()); err == nil {
		t.Error("Ping succeeded with no engine listening")
	}

	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	status, asked := http.StatusOK, make(chan string, 10)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		asked <- req.Method + " " + req.URL.Path
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte("OK"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	if err := r.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v, want nil from an engine answering 200", err)
	}
	if got := <-asked; got != "GET /_ping" {
		t.Errorf("the engine was asked %q, want GET /_ping", got)
	}
	status = http.StatusInternalServerError
	var apiErr *apiError
	if err := r.Ping(context.Background()); !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Errorf("Ping of an engine answering 500: %v, want its status", err)
	}
	srv.Close()

	// Not HTTP: a socket that greets and hangs up once it has the request.
	// (Hanging up at once lost the race with Ping's write when the greeter
	// ran first: the write failed with a broken pipe before Ping read the
	// greeting.)
	r, sock = onSocket(t)
	ln, err = net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	go func() {
		for first := true; ; first = false {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if first {
				c.Write([]byte("220 smtp ready\r\n"))
				c.Read(make([]byte, 1024)) // Ping writes its request at once
				c.Close()
				continue
			}
			go func() { <-hold; c.Close() }() // answers nothing
		}
	}()
	if err := r.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "not an HTTP answer") {
		t.Errorf("Ping of a socket that is not an engine: %v, want not an HTTP answer", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ping of a socket that never answers: %v, want the context's deadline", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := r.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping cancelled while waiting: %v, want context.Canceled", err)
	}
}
