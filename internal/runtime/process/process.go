// Package process runs a task's containers as host processes, for machines
// without a container engine.
//
// The container definition's image names the executable: an absolute path, or
// an image the operator allowed (wharf's --process-images): "IMAGE=PATH" runs
// PATH for IMAGE, a bare "IMAGE" runs the program of that name found on PATH.
// Any other image stops its task with a CannotPullContainerError that names
// the missing container engine: a host binary that merely shares an image's
// name ("alpine:3" → /usr/bin/alpine, "python:3" → python) is never run in
// its place. When the definition has an entryPoint, it is run with the same
// rule (an absolute path or an allowed name). command gives the arguments. The process gets exactly the container's
// environment (plus PATH and HOME when the definition does not set them), its
// working directory, and its own process group, so Stop signals every process
// it started. There is no isolation: cpu, memory, user and
// readonlyRootFilesystem are ignored.
//
// Processes belong to the wharf that started them: a later wharf cannot
// re-adopt them (List returns nothing), so ECS marks their tasks STOPPED.
package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
)

// Runner is a runtime.Runner of host processes.
type Runner struct {
	mu      sync.Mutex
	seq     int
	procs   map[string]*proc
	now     func() time.Time
	allowed map[string]string // image (with and without its tag) → executable, or "" to look it up on PATH
}

var _ runtime.Runner = (*Runner)(nil)

// New returns a process Runner that runs images naming an absolute executable
// path and the images allowed lists, each "IMAGE" (its program found on
// PATH) or "IMAGE=PATH". An image listed without a tag or digest allows every
// tag of it.
func New(allowed ...string) *Runner {
	r := &Runner{procs: map[string]*proc{}, now: time.Now, allowed: map[string]string{}}
	for _, a := range allowed {
		img, exe, _ := strings.Cut(strings.TrimSpace(a), "=")
		if img = strings.TrimSpace(img); img != "" {
			r.allowed[img] = strings.TrimSpace(exe)
		}
	}
	return r
}

// ErrNoEngine is why an image the process runtime may not run cannot start:
// it needs a container engine.
var ErrNoEngine = errors.New("no container engine: wharf runs this task's containers as host processes (process runtime), " +
	"which run only an image that is an absolute executable path or one --process-images lists (IMAGE or IMAGE=PATH); " +
	"start Docker or Podman to run images")

type proc struct {
	cmd   *exec.Cmd
	state runtime.State
	done  chan struct{} // closed once the process has exited and its output is read

	mu    sync.Mutex
	lines []runtime.Line
	more  chan struct{} // closed and replaced when lines grow
}

// Name is "process".
func (r *Runner) Name() string { return "process" }

// repository is an image reference without its tag or digest.
func repository(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		image = image[:i]
	}
	return image
}

// resolve finds the executable an image (or an entry point) names: an
// absolute path as it is, an allowed image as the operator mapped it. Any
// other name is ErrNoEngine, never a host program of the same name.
func (r *Runner) resolve(image string) (string, error) {
	if strings.HasPrefix(image, "/") {
		return image, nil
	}
	exe, ok := r.allowed[image]
	if !ok {
		if exe, ok = r.allowed[repository(image)]; !ok {
			return "", ErrNoEngine
		}
	}
	switch {
	case exe == "":
		exe = path.Base(repository(image))
	case strings.HasPrefix(exe, "/"):
		return exe, nil
	}
	return exec.LookPath(exe)
}

// Start runs the container's command as a host process.
func (r *Runner) Start(ctx context.Context, spec runtime.Spec) (string, error) {
	var argv []string
	if spec.Image != "" || len(spec.EntryPoint) == 0 {
		exe, err := r.resolve(spec.Image)
		if err != nil {
			return "", &runtime.PullError{Image: spec.Image, Err: err}
		}
		argv = []string{exe}
	}
	if len(spec.EntryPoint) > 0 {
		exe, err := r.resolve(spec.EntryPoint[0])
		if errors.Is(err, ErrNoEngine) {
			return "", &runtime.PullError{Image: spec.Image, Err: fmt.Errorf("entryPoint %q: %w", spec.EntryPoint[0], err)}
		}
		if err != nil {
			return "", fmt.Errorf("entryPoint: %w", err)
		}
		argv = append([]string{exe}, spec.EntryPoint[1:]...)
	}
	argv = append(argv, spec.Command...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = withDefaults(spec.Env)
	cmd.Dir = spec.WorkingDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start process: %w", err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), more: make(chan struct{})}
	r.mu.Lock()
	r.seq++
	id := "proc-" + strconv.Itoa(cmd.Process.Pid) + "-" + strconv.Itoa(r.seq)
	p.state = runtime.State{ID: id, Name: spec.Name, Labels: spec.Labels, Running: true, StartedAt: r.now()}
	r.procs[id] = p
	r.mu.Unlock()

	if h := spec.Health; h != nil && len(h.Test) > 1 {
		p.state.Health = runtime.HealthStarting
		go p.checkHealth(*h, cmd.Env, cmd.Dir, r.now)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.read("stdout", stdout, r.now) }()
	go func() { defer wg.Done(); p.read("stderr", stderr, r.now) }()
	go func() {
		wg.Wait() // Wait closes the pipes: read them to the end first
		err := cmd.Wait()
		p.mu.Lock()
		p.state.Running = false
		p.state.FinishedAt = r.now()
		p.state.ExitCode = exitCode(cmd, err)
		p.mu.Unlock()
		close(p.done)
	}()
	return id, nil
}

func withDefaults(env []string) []string {
	out := append([]string(nil), env...)
	for _, k := range []string{"PATH", "HOME"} {
		set := false
		for _, kv := range env {
			if strings.HasPrefix(kv, k+"=") {
				set = true
			}
		}
		if !set {
			out = append(out, k+"="+os.Getenv(k))
		}
	}
	return out
}

// exitCode reports a signalled process as 128+signal, as a container's would be.
func exitCode(cmd *exec.Cmd, err error) int {
	if cmd.ProcessState == nil {
		return -1
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if err != nil && cmd.ProcessState.ExitCode() < 0 {
		return -1
	}
	return cmd.ProcessState.ExitCode()
}

// checkHealth runs the health check command on the host every interval until
// the process exits, as Docker runs it inside a container.
func (p *proc) checkHealth(h runtime.HealthCheck, env []string, dir string, now func() time.Time) {
	interval := h.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	retries := max(h.Retries, 1)
	start, failures := now(), 0
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		var argv []string
		switch h.Test[0] {
		case "CMD":
			argv = h.Test[1:]
		case "CMD-SHELL":
			argv = []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
		default:
			return // NONE, or not a command
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		c := exec.CommandContext(ctx, argv[0], argv[1:]...)
		c.Env, c.Dir = env, dir
		err := c.Run()
		cancel()
		p.mu.Lock()
		switch {
		case err == nil:
			failures = 0
			p.state.Health = runtime.HealthHealthy
		case now().Sub(start) < h.StartPeriod:
			// failures in the start period do not count
		default:
			failures++
			if failures >= retries {
				p.state.Health = runtime.HealthUnhealthy
			}
		}
		p.mu.Unlock()
	}
}

func (p *proc) read(stream string, rd io.Reader, now func() time.Time) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, runtime.Line{Stream: stream, Time: now(), Text: sc.Text()})
		close(p.more)
		p.more = make(chan struct{})
		p.mu.Unlock()
	}
	io.Copy(io.Discard, rd) // a line over 1 MiB: drain so the process never blocks
}

func (r *Runner) get(id string) (*proc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.procs[id]
	if !ok {
		return nil, runtime.ErrNotFound
	}
	return p, nil
}

// Stop sends SIGTERM to the process group, then SIGKILL after timeout.
func (r *Runner) Stop(ctx context.Context, id string, timeout time.Duration) error {
	p, err := r.get(id)
	if err != nil {
		return err
	}
	pgid := -p.cmd.Process.Pid
	select {
	case <-p.done:
		return nil
	default:
	}
	syscall.Kill(pgid, syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		syscall.Kill(pgid, syscall.SIGKILL)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait blocks until the process has exited.
func (r *Runner) Wait(ctx context.Context, id string) (runtime.State, error) {
	p, err := r.get(id)
	if err != nil {
		return runtime.State{}, err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return runtime.State{}, ctx.Err()
	}
	return r.Inspect(ctx, id)
}

// Inspect returns the process's state.
func (r *Runner) Inspect(_ context.Context, id string) (runtime.State, error) {
	p, err := r.get(id)
	if err != nil {
		return runtime.State{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state, nil
}

// Logs calls fn for each line the process writes until it exits.
func (r *Runner) Logs(ctx context.Context, id string, fn func(runtime.Line)) error {
	p, err := r.get(id)
	if err != nil {
		return err
	}
	next := 0
	for {
		p.mu.Lock()
		lines, more := p.lines[next:], p.more
		next = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			fn(l)
		}
		select {
		case <-p.done:
			p.mu.Lock()
			rest := p.lines[next:]
			p.mu.Unlock()
			for _, l := range rest {
				fn(l)
			}
			return nil
		default:
		}
		select {
		case <-more:
		case <-p.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// List returns the processes of this wharf labelled key=value.
func (r *Runner) List(_ context.Context, key, value string) ([]runtime.State, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runtime.State
	for _, p := range r.procs {
		p.mu.Lock()
		if p.state.Labels[key] == value {
			out = append(out, p.state)
		}
		p.mu.Unlock()
	}
	return out, nil
}

// Remove forgets an exited process; a running one is killed first.
func (r *Runner) Remove(_ context.Context, id string) error {
	p, err := r.get(id)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	select {
	case <-p.done:
	default:
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	r.mu.Lock()
	delete(r.procs, id)
	r.mu.Unlock()
	return nil
}

// Close kills every process still running: they cannot outlive the wharf that
// watches them.
func (r *Runner) Close() {
	r.mu.Lock()
	ps := make([]*proc, 0, len(r.procs))
	for _, p := range r.procs {
		ps = append(ps, p)
	}
	r.mu.Unlock()
	for _, p := range ps {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}
